//! One-shot decrypt of arbitrary bytes with a fixed raw AES keyring: must never panic.
#![no_main]

use std::sync::OnceLock;

use esdk::{Client, RawAesKeyring};
use esdk_fuzz::{decrypt_client, decrypt_one_shot, keyring};
use libfuzzer_sys::fuzz_target;

static FIXTURE: OnceLock<(Client, RawAesKeyring)> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let (client, keyring) = FIXTURE.get_or_init(|| (decrypt_client(), keyring()));
    let _ = decrypt_one_shot(client, keyring, data);
});
