//! Encrypt and decrypt with a raw AES keyring: the simplest way to use esdk, no cloud account.
//!
//! Use a raw AES keyring when you manage the wrapping key yourself (a secrets store, an HSM
//! export, a test). Here the example makes a random 256-bit key; in real use, load it.
//!
//! Run: `cargo run --example raw_aes [FILE]` (without FILE it encrypts a built-in string).

use esdk::{Client, EncryptionContext, RawAesKeyring};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let plaintext = match std::env::args().nth(1) {
        Some(path) => std::fs::read(&path)?,
        None => b"Hello from esdk: envelope encryption in the AWS Encryption SDK message format."
            .to_vec(),
    };

    // A fresh 256-bit wrapping key. Namespace and name identify it in the message.
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key)?;
    let keyring = RawAesKeyring::new("esdk-example", "my-aes-key", &key)?;

    // Context: non-secret, authenticated, stored in the message.
    let context = EncryptionContext::from([("purpose".to_owned(), "example".to_owned())]);

    let client = Client::default(); // suite 0x0578, key commitment required, 4096-byte frames
    let message = esdk::blocking::encrypt(&client, &keyring, &plaintext, &context)?;
    println!(
        "encrypted {} plaintext bytes into a {}-byte message",
        plaintext.len(),
        message.len()
    );

    let header = esdk::parse_header(&message)?;
    let h = header.unauthenticated();
    println!(
        "header: suite {:?}, {} encrypted data key(s) from {:?}, context {:?}",
        h.suite(),
        h.encrypted_data_keys().len(),
        h.encrypted_data_keys()
            .iter()
            .map(|k| k.provider_id.as_str())
            .collect::<Vec<_>>(),
        h.encryption_context().keys().collect::<Vec<_>>()
    );

    let decrypted = esdk::blocking::decrypt_with(
        &client,
        &keyring,
        &message,
        &esdk::DecryptOptions::new().reproduced_context(context.clone()),
    )?;
    assert_eq!(decrypted.plaintext, plaintext);
    println!(
        "decrypted {} bytes: round trip OK",
        decrypted.plaintext.len()
    );
    Ok(())
}
