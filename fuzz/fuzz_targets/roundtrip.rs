//! Encrypt then decrypt gives the plaintext (and context) back, for any plaintext, small
//! context, frame length 1..=300 and suite.
#![no_main]

use arbitrary::Arbitrary;
use esdk::cmm::PUBLIC_KEY_CONTEXT_KEY;
use esdk::{Client, CommitmentPolicy, EncryptionContext};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    suite: u8,
    frame_length: u16,
    context: Vec<(String, String)>,
    plaintext: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let suite = esdk::suite::ALL[usize::from(input.suite) % esdk::suite::ALL.len()];
    let frame_length = u32::from(input.frame_length) % 300 + 1;
    let policy = if suite.is_committing() {
        CommitmentPolicy::RequireEncryptRequireDecrypt
    } else {
        CommitmentPolicy::ForbidEncryptAllowDecrypt
    };
    let client = Client::builder()
        .commitment_policy(policy)
        .suite(suite)
        .frame_length(frame_length)
        .threads(1)
        .build()
        .unwrap();
    let pairs: Vec<(String, String)> = input
        .context
        .into_iter()
        .take(4)
        .filter(|(k, v)| k.len() + v.len() <= 1024)
        .collect();
    let keyring = esdk_fuzz::keyring();
    // Encrypt refuses keys with the reserved prefix; the round trip uses the others.
    let reserved = pairs.iter().any(|(k, _)| k.starts_with("aws-crypto-"));
    let all: EncryptionContext = pairs.iter().cloned().collect();
    if reserved {
        assert!(matches!(
            esdk::blocking::encrypt(&client, &keyring, &input.plaintext, &all),
            Err(esdk::Error::InvalidContext(_))
        ));
    }
    let context: EncryptionContext = pairs
        .into_iter()
        .filter(|(k, _)| !k.starts_with("aws-crypto-"))
        .collect();
    let message =
        esdk::blocking::encrypt(&client, &keyring, &input.plaintext, &context).expect("encrypt");
    let decrypted = esdk::blocking::decrypt_with(
        &client,
        &keyring,
        &message,
        &esdk::DecryptOptions::new().reproduced_context(context.clone()),
    )
    .expect("decrypt");
    assert_eq!(decrypted.plaintext, input.plaintext);
    assert_eq!(decrypted.header.suite().id, suite.id);
    let mut stored = decrypted.encryption_context.clone();
    assert_eq!(
        stored.remove(PUBLIC_KEY_CONTEXT_KEY).is_some(),
        suite.is_signing()
    );
    assert_eq!(stored, context);
    // Streaming in 7-byte pieces gives the same plaintext.
    let client = esdk_fuzz::decrypt_client();
    assert_eq!(
        esdk_fuzz::decrypt_streaming(&client, &keyring, &message, &[7]).as_deref(),
        Some(&input.plaintext[..])
    );
});
