//! Your own keyring and materials manager.
//!
//! A keyring wraps and unwraps data keys; a materials manager decides the rules around them.
//! Both traits are async and object-safe: return `MaterialsFuture::ready(...)` for local work
//! (no allocation) or `MaterialsFuture::new(async move { ... })` for work that waits.
//!
//! Here: a keyring that loads its wrapping key from a secret store only when first used and
//! counts its calls (delegating the wrapping to a raw AES keyring), and a materials manager
//! that refuses to encrypt without a `tenant` in the encryption context.
//!
//! Run: `cargo run --example custom_keyring`

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use esdk::error::{KeyringError, KeyringErrorKind};
use esdk::keyring::MaterialsFuture;
use esdk::materials::{
    DecryptionMaterials, DecryptionRequest, EncryptedDataKey, EncryptionMaterials,
    EncryptionRequest,
};
use esdk::{
    Client, DefaultMaterialsManager, EncryptOptions, EncryptionContext, Error, KeySource, Keyring,
    MaterialsManager, RawAesKeyring,
};

/// A stand-in for a secret store: key name to key bytes.
#[derive(Debug)]
struct SecretStore(HashMap<String, [u8; 32]>);

/// Loads its key from the store on first use, then wraps with a raw AES keyring.
#[derive(Debug)]
struct StoreKeyring {
    store: Arc<SecretStore>,
    name: String,
    loaded: OnceLock<RawAesKeyring>,
    calls: AtomicUsize,
}

impl StoreKeyring {
    fn keyring(&self) -> Result<&RawAesKeyring, Error> {
        if let Some(k) = self.loaded.get() {
            return Ok(k);
        }
        let key = self.store.0.get(&self.name).ok_or_else(|| {
            // Keyring errors keep a kind (for retries and reporting) and their cause.
            Error::Keyring(KeyringError::new(
                KeyringErrorKind::KeyUnavailable,
                format!("no key {:?} in the secret store", self.name),
            ))
        })?;
        let keyring = RawAesKeyring::new("example-store", self.name.clone(), key)?;
        Ok(self.loaded.get_or_init(|| keyring))
    }
}

impl Keyring for StoreKeyring {
    fn on_encrypt<'a>(
        &'a self,
        materials: EncryptionMaterials,
    ) -> MaterialsFuture<'a, esdk::Result<EncryptionMaterials>> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        match self.keyring() {
            // Delegate: the inner keyring's future is ready at once.
            Ok(inner) => inner.on_encrypt(materials),
            Err(e) => MaterialsFuture::ready(Err(e)),
        }
    }

    fn on_decrypt<'a>(
        &'a self,
        materials: DecryptionMaterials,
        encrypted_data_keys: &'a [EncryptedDataKey],
    ) -> MaterialsFuture<'a, esdk::Result<DecryptionMaterials>> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        match self.keyring() {
            Ok(inner) => inner.on_decrypt(materials, encrypted_data_keys),
            Err(e) => MaterialsFuture::ready(Err(e)),
        }
    }
}

/// Refuses to encrypt without a `tenant` context key, then defers to the default manager.
#[derive(Debug)]
struct TenantRequired(DefaultMaterialsManager);

impl MaterialsManager for TenantRequired {
    fn encryption_materials<'a>(
        &'a self,
        request: EncryptionRequest,
    ) -> MaterialsFuture<'a, esdk::Result<EncryptionMaterials>> {
        MaterialsFuture::new(async move {
            if !request.encryption_context.contains_key("tenant") {
                return Err(Error::InvalidContext("a tenant is required"));
            }
            self.0.encryption_materials(request).await
        })
    }

    fn decryption_materials<'a>(
        &'a self,
        request: DecryptionRequest,
    ) -> MaterialsFuture<'a, esdk::Result<DecryptionMaterials>> {
        self.0.decryption_materials(request)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key)?;
    let store = Arc::new(SecretStore(HashMap::from([("orders".to_owned(), key)])));
    let keyring = Arc::new(StoreKeyring {
        store: store.clone(),
        name: "orders".to_owned(),
        loaded: OnceLock::new(),
        calls: AtomicUsize::new(0),
    });
    let client = Client::default();

    // The keyring alone, through the default materials manager.
    let message = esdk::blocking::encrypt(&client, &keyring, b"order 7", &Default::default())?;
    assert_eq!(
        esdk::blocking::decrypt(&client, &keyring, &message)?.plaintext,
        b"order 7"
    );

    // The custom materials manager around it.
    let cmm = TenantRequired(DefaultMaterialsManager::new(keyring.clone()));
    let source = KeySource::MaterialsManager(&cmm);
    let refused = esdk::blocking::encrypt_with(&client, source, b"x", &EncryptOptions::new());
    println!(
        "without a tenant: {}",
        refused.err().map(|e| e.to_string()).unwrap_or_default()
    );
    let options =
        EncryptOptions::new().encryption_context(EncryptionContext::from([("tenant", "acme")]));
    let message = esdk::blocking::encrypt_with(&client, source, b"order 8", &options)?;
    assert_eq!(
        esdk::blocking::decrypt_with(&client, source, &message, &Default::default())?.plaintext,
        b"order 8"
    );

    // A key the store does not hold: the error says what kind of failure it was.
    let missing = StoreKeyring {
        store,
        name: "nowhere".to_owned(),
        loaded: OnceLock::new(),
        calls: AtomicUsize::new(0),
    };
    if let Err(err) = esdk::blocking::decrypt(&client, &missing, &message) {
        println!("a missing key: {err}");
    }
    println!("keyring calls: {}", keyring.calls.load(Ordering::Relaxed));
    Ok(())
}
