//! The default materials manager.
//!
//! Spec: `framework/default-cmm.md`.

use std::sync::Arc;

use super::MaterialsManager;
use crate::crypto::signature::{SigningKey, VerificationKey};
use crate::format::context::PUBLIC_KEY_CONTEXT_KEY;
use crate::future::MaterialsFuture;
use crate::keyring::Keyring;
use crate::materials::{
    DecryptionMaterials, DecryptionRequest, EncryptionMaterials, EncryptionRequest,
};

/// Calls one keyring, generates the signing key of signed suites and stores its public half in
/// the encryption context, and on decrypt reads it back as the verification key.
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// use std::sync::Arc;
/// let keyring = Arc::new(esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?);
/// let cmm = esdk::DefaultMaterialsManager::new(keyring);
/// let client = esdk::Client::default();
/// let message = esdk::blocking::encrypt_with(&client, esdk::KeySource::MaterialsManager(&cmm), b"hi", &esdk::EncryptOptions::new())?;
/// assert_eq!(esdk::blocking::decrypt_with(&client, esdk::KeySource::MaterialsManager(&cmm), &message, &esdk::DecryptOptions::new())?.plaintext, b"hi");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct DefaultMaterialsManager {
    keyring: Arc<dyn Keyring>,
}

impl DefaultMaterialsManager {
    /// A default CMM around `keyring`.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use std::sync::Arc;
    /// use esdk::{EncryptOptions, KeySource};
    /// let keyring = Arc::new(esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?);
    /// let cmm = esdk::DefaultMaterialsManager::new(keyring.clone());
    /// let client = esdk::Client::default();
    /// let message = esdk::blocking::encrypt_with(&client, KeySource::MaterialsManager(&cmm), b"hi", &EncryptOptions::new())?;
    /// // The same as passing the keyring itself.
    /// assert_eq!(esdk::blocking::decrypt(&client, &keyring, &message)?.plaintext, b"hi");
    /// # Ok(()) }
    /// ```
    pub fn new(keyring: Arc<dyn Keyring>) -> Self {
        Self { keyring }
    }
}

impl MaterialsManager for DefaultMaterialsManager {
    fn encryption_materials<'a>(
        &'a self,
        request: EncryptionRequest,
    ) -> MaterialsFuture<'a, crate::Result<EncryptionMaterials>> {
        MaterialsFuture::new(encryption_materials(self.keyring.as_ref(), request))
    }

    fn decryption_materials<'a>(
        &'a self,
        request: DecryptionRequest,
    ) -> MaterialsFuture<'a, crate::Result<DecryptionMaterials>> {
        MaterialsFuture::new(decryption_materials(self.keyring.as_ref(), request))
    }
}

/// The default CMM's encrypt path, over a borrowed keyring.
pub(crate) async fn encryption_materials(
    keyring: &dyn Keyring,
    request: EncryptionRequest,
) -> crate::Result<EncryptionMaterials> {
    let suite = request
        .suite
        .unwrap_or_else(|| request.commitment_policy.default_suite());
    request.commitment_policy.check_encrypt(suite)?;
    let mut context = request.encryption_context;
    if context.contains_key(PUBLIC_KEY_CONTEXT_KEY) {
        return Err(crate::Error::InvalidContext(
            "the key aws-crypto-public-key is reserved",
        ));
    }
    let signing_key = match suite.signature {
        Some(alg) => {
            let key = SigningKey::generate(alg)?;
            context.insert(PUBLIC_KEY_CONTEXT_KEY.to_owned(), key.public_key_base64());
            Some(key)
        }
        None => None,
    };
    let mut materials = EncryptionMaterials::new(suite, context);
    materials.required_encryption_context_keys = request.required_encryption_context_keys;
    materials.signing_key = signing_key;
    let materials = keyring.on_encrypt(materials).await?;
    match &materials.data_key {
        Some(key) if key.expose_secret().len() == suite.key_len => {}
        Some(_) => {
            return Err(crate::Error::InvalidMaterials(
                "the keyring produced a data key of the wrong length",
            ))
        }
        None => {
            return Err(crate::Error::InvalidMaterials(
                "the keyring produced no data key",
            ))
        }
    }
    if materials.encrypted_data_keys.is_empty() {
        return Err(crate::Error::InvalidMaterials(
            "the keyring produced no encrypted data key",
        ));
    }
    Ok(materials)
}

/// The default CMM's decrypt path, over a borrowed keyring.
pub(crate) async fn decryption_materials(
    keyring: &dyn Keyring,
    request: DecryptionRequest,
) -> crate::Result<DecryptionMaterials> {
    let suite = request.suite;
    request.commitment_policy.check_decrypt(suite)?;
    let mut context = request.encryption_context;
    let verification_key = match (suite.signature, context.get(PUBLIC_KEY_CONTEXT_KEY)) {
        (Some(alg), Some(value)) => Some(VerificationKey::from_base64(alg, value)?),
        (Some(_), None) => {
            return Err(crate::Error::InvalidContext(
                "signed suite without aws-crypto-public-key",
            ))
        }
        (None, Some(_)) => {
            return Err(crate::Error::InvalidContext(
                "unsigned suite with aws-crypto-public-key",
            ))
        }
        (None, None) => None,
    };
    let mut required = Vec::new();
    if let Some(reproduced) = request.reproduced_encryption_context {
        for (key, value) in reproduced {
            match context.get(&key) {
                Some(stored) if *stored == value => {}
                Some(_) => return Err(crate::Error::ContextMismatch { key }),
                None => {
                    // Authenticated through the header, not stored in it.
                    required.push(key.clone());
                    context.insert(key, value);
                }
            }
        }
    }
    let mut materials = DecryptionMaterials::new(suite, context);
    materials.required_encryption_context_keys = required;
    materials.verification_key = verification_key;
    let materials = keyring
        .on_decrypt(materials, &request.encrypted_data_keys)
        .await?;
    match &materials.data_key {
        Some(key) if key.expose_secret().len() == suite.key_len => Ok(materials),
        Some(_) => Err(crate::Error::InvalidMaterials(
            "the keyring returned a data key of the wrong length",
        )),
        None => Err(crate::Error::InvalidMaterials(
            "the keyring returned no data key and no error",
        )),
    }
}
