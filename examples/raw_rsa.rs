//! Encrypt with an RSA public key, decrypt with the private key.
//!
//! Use a raw RSA keyring when the party that encrypts must not be able to decrypt: hand it the
//! public key only. Prefer OAEP (here SHA-256) over PKCS #1 v1.5.
//!
//! Run: `cargo run --example raw_rsa` (uses the test key pair in `tests/data/`).

use esdk::{Client, EncryptionContext, RawRsaKeyring, RsaPadding};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let public_pem = include_str!("../tests/data/rsa-2048-public.pem");
    let private_pem = include_str!("../tests/data/rsa-2048-private.pem");
    let encrypt_only = RawRsaKeyring::builder("esdk-example", "rsa-key", RsaPadding::OaepSha256)
        .public_key_pem(public_pem)
        .build()?;
    // A private key alone only decrypts: the keyring never derives the public key from it.
    let decrypt = RawRsaKeyring::builder("esdk-example", "rsa-key", RsaPadding::OaepSha256)
        .private_key_pem(private_pem)
        .build()?;

    let client = Client::default();
    let context = EncryptionContext::from([("department".to_owned(), "finance".to_owned())]);
    let message = esdk::blocking::encrypt(&client, &encrypt_only, b"quarterly numbers", &context)?;
    println!("encrypted with the public key: {} bytes", message.len());

    match esdk::blocking::decrypt(&client, &encrypt_only, &message) {
        Err(e) => println!("the public key alone cannot decrypt: {e}"),
        Ok(_) => return Err("a public key decrypted a message".into()),
    }
    match esdk::blocking::encrypt(&client, &decrypt, b"more numbers", &context) {
        Err(e) => println!("the private key alone cannot encrypt: {e}"),
        Ok(_) => return Err("a private-key-only keyring encrypted a message".into()),
    }
    let decrypted = esdk::blocking::decrypt_with(
        &client,
        &decrypt,
        &message,
        &esdk::DecryptOptions::new().reproduced_context(context.clone()),
    )?;
    println!(
        "decrypted with the private key: {:?}",
        String::from_utf8_lossy(&decrypted.plaintext)
    );
    Ok(())
}
