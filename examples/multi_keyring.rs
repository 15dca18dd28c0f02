//! One message, several keys: any one of them can decrypt it.
//!
//! Use a multi-keyring to let several parties (or a primary key and an escrow key) open the same
//! message: the generator makes the data key, and every keyring wraps it.
//!
//! Run: `cargo run --example multi_keyring`

use std::sync::Arc;

use esdk::{Client, Keyring, MultiKeyring, RawAesKeyring, RawRsaKeyring, RsaPadding};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key)?;
    let primary: Arc<dyn Keyring> = Arc::new(RawAesKeyring::new("esdk-example", "primary", &key)?);
    // The escrow keyring wraps with the public key and, here, can unwrap with the private key.
    let escrow: Arc<dyn Keyring> = Arc::new(
        RawRsaKeyring::builder("esdk-example", "escrow", RsaPadding::OaepSha256)
            .public_key_pem(include_str!("../tests/data/rsa-2048-public.pem"))
            .private_key_pem(include_str!("../tests/data/rsa-2048-private.pem"))
            .build()?,
    );
    let multi = MultiKeyring::new(Some(primary.clone()), vec![escrow.clone()])?;

    let client = Client::default();
    let message = esdk::blocking::encrypt(&client, &multi, b"shared secret", &Default::default())?;
    let header = esdk::parse_header(&message)?;
    for edk in header.unauthenticated().encrypted_data_keys() {
        println!(
            "wrapped for {} / {}",
            edk.provider_id,
            String::from_utf8_lossy(&edk.provider_info[..edk.provider_info.len().min(7)])
        );
    }
    for (name, keyring) in [("primary", &primary), ("escrow", &escrow)] {
        let decrypted = esdk::blocking::decrypt(&client, keyring.as_ref(), &message)?;
        println!(
            "{name} alone decrypts: {:?}",
            String::from_utf8_lossy(&decrypted.plaintext)
        );
    }
    Ok(())
}
