//! The required-encryption-context materials manager.
//!
//! Spec: `framework/required-encryption-context-cmm.md`.

use std::sync::Arc;

use super::MaterialsManager;
use crate::future::MaterialsFuture;
use crate::materials::{
    DecryptionMaterials, DecryptionRequest, EncryptionMaterials, EncryptionRequest,
};

/// Requires some encryption context keys on encrypt, authenticates them without storing them in
/// the message, and requires the caller to supply them again on decrypt.
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// use std::sync::Arc;
/// let keyring = Arc::new(esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?);
/// let cmm = esdk::cmm::RequiredEncryptionContextMaterialsManager::new(
///     Arc::new(esdk::DefaultMaterialsManager::new(keyring)),
///     vec!["tenant".to_owned()],
/// );
/// let client = esdk::Client::default();
/// let context = esdk::EncryptionContext::from([("tenant".to_owned(), "acme".to_owned())]);
/// let message = esdk::blocking::encrypt_with(&client, esdk::KeySource::MaterialsManager(&cmm), b"hi", &esdk::EncryptOptions::from(context.clone()))?;
/// assert!(!esdk::parse_header(&message)?.unauthenticated().encryption_context().contains_key("tenant"));
/// assert!(esdk::blocking::decrypt_with(&client, esdk::KeySource::MaterialsManager(&cmm), &message, &esdk::DecryptOptions::new()).is_err());
/// assert_eq!(esdk::blocking::decrypt_with(&client, esdk::KeySource::MaterialsManager(&cmm), &message, &esdk::DecryptOptions::new().reproduced_context(context.clone()))?.plaintext, b"hi");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RequiredEncryptionContextMaterialsManager {
    underlying: Arc<dyn MaterialsManager>,
    required_keys: Vec<String>,
}

impl RequiredEncryptionContextMaterialsManager {
    /// Wraps `underlying`, requiring `required_keys`.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use std::sync::Arc;
    /// use esdk::{cmm::RequiredEncryptionContextMaterialsManager, DefaultMaterialsManager, Error, KeySource};
    /// let keyring = Arc::new(esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?);
    /// let underlying = Arc::new(DefaultMaterialsManager::new(keyring));
    /// let cmm = RequiredEncryptionContextMaterialsManager::new(underlying, vec!["tenant".to_owned()]);
    /// // Encrypting without the required key is refused.
    /// let refused = esdk::blocking::encrypt_with(&esdk::Client::default(), KeySource::MaterialsManager(&cmm), b"hi", &esdk::EncryptOptions::new());
    /// assert!(matches!(refused, Err(Error::ContextMismatch { key, .. }) if key == "tenant"));
    /// # Ok(()) }
    /// ```
    pub fn new(underlying: Arc<dyn MaterialsManager>, required_keys: Vec<String>) -> Self {
        Self {
            underlying,
            required_keys,
        }
    }
}

impl MaterialsManager for RequiredEncryptionContextMaterialsManager {
    fn encryption_materials<'a>(
        &'a self,
        mut request: EncryptionRequest,
    ) -> MaterialsFuture<'a, crate::Result<EncryptionMaterials>> {
        MaterialsFuture::new(async move {
            for key in &self.required_keys {
                if !request.encryption_context.contains_key(key) {
                    return Err(crate::Error::ContextMismatch { key: key.clone() });
                }
                if !request.required_encryption_context_keys.contains(key) {
                    request.required_encryption_context_keys.push(key.clone());
                }
            }
            let materials = self.underlying.encryption_materials(request).await?;
            if let Some(key) = self
                .required_keys
                .iter()
                .find(|k| !materials.required_encryption_context_keys.contains(k))
            {
                return Err(crate::Error::ContextMismatch { key: key.clone() });
            }
            Ok(materials)
        })
    }

    fn decryption_materials<'a>(
        &'a self,
        request: DecryptionRequest,
    ) -> MaterialsFuture<'a, crate::Result<DecryptionMaterials>> {
        MaterialsFuture::new(async move {
            let reproduced = request.reproduced_encryption_context.as_ref();
            if let Some(key) = self
                .required_keys
                .iter()
                .find(|k| !reproduced.is_some_and(|c| c.contains_key(*k)))
            {
                return Err(crate::Error::ContextMismatch { key: key.clone() });
            }
            let materials = self.underlying.decryption_materials(request).await?;
            if let Some(key) = self
                .required_keys
                .iter()
                .find(|k| !materials.encryption_context.contains_key(*k))
            {
                return Err(crate::Error::ContextMismatch { key: key.clone() });
            }
            Ok(materials)
        })
    }
}
