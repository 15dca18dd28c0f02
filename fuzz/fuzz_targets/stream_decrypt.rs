//! The sans-I/O `Decryptor` fed the message in fuzzer-chosen pieces must reach the same outcome
//! as one-shot decrypt: the same plaintext, or an error for both.
#![no_main]

use std::sync::OnceLock;

use esdk::{Client, RawAesKeyring};
use esdk_fuzz::{decrypt_client, decrypt_one_shot, decrypt_streaming, keyring, split_chunking};
use libfuzzer_sys::fuzz_target;

static FIXTURE: OnceLock<(Client, RawAesKeyring)> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let (client, keyring) = FIXTURE.get_or_init(|| (decrypt_client(), keyring()));
    let (chunks, message) = split_chunking(data);
    let one_shot = decrypt_one_shot(client, keyring, message);
    let streamed = decrypt_streaming(client, keyring, message, &chunks);
    assert_eq!(
        one_shot.is_some(),
        streamed.is_some(),
        "one-shot and streaming disagree (chunks {chunks:?})"
    );
    assert_eq!(
        one_shot, streamed,
        "different plaintext (chunks {chunks:?})"
    );
});
