//! Encrypt and decrypt with an AWS KMS key: KMS generates the data key and wraps it.
//!
//! Run: `cargo run --example kms KEY_ARN [FILE]`
//!
//! The KMS client comes from the standard AWS environment (`AWS_REGION`, `AWS_ENDPOINT_URL`,
//! `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE`, instance roles, ...), so the same
//! command runs against AWS or a local KMS-compatible server; README.md, "AWS KMS", shows it
//! against moto on 127.0.0.1.

use esdk::kms::{AwsKmsKeyring, KmsClientSupplier};
use esdk::{Client, DecryptOptions, EncryptOptions, EncryptionContext};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let Some(key_arn) = args.next() else {
        eprintln!("usage: cargo run --example kms KEY_ARN [FILE]");
        std::process::exit(2);
    };
    let plaintext = match args.next() {
        Some(path) => std::fs::read(&path)?,
        None => b"Hello from esdk, wrapped by AWS KMS.".to_vec(),
    };

    // One client per Region, configured from the environment on the first call.
    let keyring = AwsKmsKeyring::builder(key_arn.as_str())
        .client_supplier(KmsClientSupplier::from_env())
        .build()?;
    let context = EncryptionContext::from([("purpose", "kms-example")]);

    let client = Client::default();
    let options = EncryptOptions::new().encryption_context(context.clone());
    let message = client.encrypt_with(&keyring, &plaintext, &options).await?;
    let header = esdk::parse_header(&message)?;
    let wrapped_by: Vec<String> = header
        .unauthenticated()
        .encrypted_data_keys()
        .iter()
        .map(|k| String::from_utf8_lossy(&k.provider_info).into_owned())
        .collect();
    println!(
        "encrypted {} bytes into a {}-byte message; data key wrapped by {wrapped_by:?}",
        plaintext.len(),
        message.len()
    );

    let options = DecryptOptions::new().reproduced_context(context);
    let decrypted = client.decrypt_with(&keyring, &message, &options).await?;
    assert_eq!(decrypted.plaintext, plaintext);
    println!(
        "decrypted {} bytes with {key_arn}",
        decrypted.plaintext.len()
    );
    Ok(())
}
