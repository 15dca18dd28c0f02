//! Materials managers: what encrypt and decrypt get their keys through.
//!
//! A keyring passed to `encrypt` is used through the default materials manager. Pass a
//! materials manager yourself to change the rules: here the required-encryption-context
//! manager makes the `tenant` key required: it is authenticated but not stored in the message,
//! so decrypt must be given it again.
//!
//! Run: `cargo run --example materials_manager`

use std::sync::Arc;

use esdk::cmm::RequiredEncryptionContextMaterialsManager;
use esdk::{
    Client, DecryptOptions, DefaultMaterialsManager, EncryptOptions, EncryptionContext, KeySource,
    RawAesKeyring,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key)?;
    let keyring = Arc::new(RawAesKeyring::new("esdk-example", "cmm-key", &key)?);
    let default = Arc::new(DefaultMaterialsManager::new(keyring.clone()));
    let cmm = RequiredEncryptionContextMaterialsManager::new(default, vec!["tenant".to_owned()]);
    let client = Client::default();

    let context = EncryptionContext::from([("tenant", "acme"), ("purpose", "invoice")]);
    let options = EncryptOptions::new().encryption_context(context.clone());
    let message = esdk::blocking::encrypt_with(
        &client,
        KeySource::MaterialsManager(&cmm),
        b"invoice 42",
        &options,
    )?;

    // The header stores `purpose`, not `tenant`.
    let header = esdk::parse_header(&message)?;
    let stored = header.unauthenticated().encryption_context();
    println!(
        "stored context keys: {:?}",
        stored.keys().collect::<Vec<_>>()
    );
    assert!(!stored.contains_key("tenant"));

    // Without the required pair, decrypt fails; with it, decrypt succeeds.
    let source = KeySource::MaterialsManager(&cmm);
    let refused = esdk::blocking::decrypt_with(&client, source, &message, &DecryptOptions::new());
    println!(
        "without the tenant: {}",
        refused.err().map(|e| e.to_string()).unwrap_or_default()
    );
    let options =
        DecryptOptions::new().reproduced_context(EncryptionContext::from([("tenant", "acme")]));
    let decrypted = esdk::blocking::decrypt_with(&client, source, &message, &options)?;
    assert_eq!(decrypted.plaintext, b"invoice 42");
    println!(
        "with the tenant: decrypted, full context {:?}",
        decrypted.encryption_context
    );
    Ok(())
}
