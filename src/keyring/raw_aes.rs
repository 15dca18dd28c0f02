//! The raw AES keyring: wraps data keys with a local AES-GCM key.
//!
//! Spec: `framework/raw-aes-keyring.md`. Provider info = key name ‖ tag bits (u32, 128) ‖ IV
//! length (u32, 12) ‖ IV; the wrapped key is ciphertext ‖ tag; the AAD is the serialized
//! encryption context.

use std::fmt;

use zeroize::Zeroizing;

use super::{ensure_no_data_key, Keyring};
use crate::crypto::aead::Aead;
use crate::error::{KeyringAttempt, KeyringErrorKind};
use crate::format::codec::Reader;
use crate::format::context;
use crate::format::header::EncryptedDataKey;
use crate::future::MaterialsFuture;
use crate::materials::{DataKey, DecryptionMaterials, EncryptionMaterials};
use crate::suite::{IV_LEN, TAG_LEN};

/// Wraps data keys with a local AES-128/192/256 key, identified by a namespace and a name.
///
/// Both must match what the encrypting side used. `Debug` never shows the key.
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// let keyring = esdk::RawAesKeyring::new("my-namespace", "my-key", &[7u8; 32])?;
/// let client = esdk::Client::default();
/// let message = esdk::blocking::encrypt(&client, &keyring, b"secret", &Default::default())?;
/// assert_eq!(esdk::blocking::decrypt(&client, &keyring, &message)?.plaintext, b"secret");
/// assert!(!format!("{keyring:?}").contains("7, 7"));
/// # Ok(()) }
/// ```
pub struct RawAesKeyring {
    namespace: String,
    name: String,
    key: Zeroizing<Vec<u8>>,
    aead: Aead,
}

impl fmt::Debug for RawAesKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawAesKeyring")
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("key_bits", &(self.key.len() * 8))
            .finish_non_exhaustive()
    }
}

impl RawAesKeyring {
    /// A keyring with a 16, 24 or 32-byte wrapping key.
    ///
    /// ```
    /// use esdk::{Error, RawAesKeyring};
    /// assert!(RawAesKeyring::new("ns", "key", &[1u8; 16]).is_ok());
    /// assert!(matches!(RawAesKeyring::new("ns", "key", &[1u8; 20]), Err(Error::InvalidKey(_))));
    /// assert!(matches!(RawAesKeyring::new("aws-kms-mine", "key", &[1u8; 32]), Err(Error::InvalidKey(_))));
    /// ```
    ///
    /// # Errors
    /// [`crate::Error::InvalidKey`] for another key length, or a namespace that is or starts with
    /// `aws-kms` (reserved for the AWS KMS keyrings).
    pub fn new(
        namespace: impl Into<String>,
        name: impl Into<String>,
        key: &[u8],
    ) -> crate::Result<Self> {
        let namespace = namespace.into();
        super::check_namespace(&namespace)?;
        Ok(Self {
            namespace,
            name: name.into(),
            key: Zeroizing::new(key.to_vec()),
            aead: Aead::new(key)?,
        })
    }

    fn provider_info_len(&self) -> usize {
        self.name.len() + 8 + IV_LEN
    }

    fn wrap(
        &self,
        data_key: &DataKey,
        iv: [u8; IV_LEN],
        aad: &[u8],
    ) -> crate::Result<EncryptedDataKey> {
        let key = data_key.expose_secret();
        // Wiped if the seal fails (a backend may copy the key in before encrypting in place).
        let mut sealed = Zeroizing::new(vec![0u8; key.len() + TAG_LEN]);
        let (body, tag_out) = sealed.split_at_mut(key.len());
        let tag = self.aead.seal_to(&iv, aad, key, body)?;
        tag_out.copy_from_slice(&tag);
        let ciphertext = std::mem::take(&mut *sealed);
        let mut provider_info = Vec::with_capacity(self.provider_info_len());
        provider_info.extend_from_slice(self.name.as_bytes());
        provider_info.extend_from_slice(&((TAG_LEN * 8) as u32).to_be_bytes());
        provider_info.extend_from_slice(&(IV_LEN as u32).to_be_bytes());
        provider_info.extend_from_slice(&iv);
        Ok(EncryptedDataKey {
            provider_id: self.namespace.clone(),
            provider_info,
            ciphertext,
        })
    }

    /// Unwraps `edk` if it is ours; `None` if it belongs to another key.
    fn unwrap_key(
        &self,
        edk: &EncryptedDataKey,
        aad: &[u8],
        key_len: usize,
    ) -> Option<Result<DataKey, &'static str>> {
        if edk.provider_id != self.namespace || edk.provider_info.len() != self.provider_info_len()
        {
            return None;
        }
        let mut r = Reader::new(&edk.provider_info);
        if r.take(self.name.len(), "name").ok()? != self.name.as_bytes() {
            return None;
        }
        if r.u32("tag").ok()? != (TAG_LEN * 8) as u32 || r.u32("iv").ok()? != IV_LEN as u32 {
            return Some(Err("unsupported tag or IV length in provider info"));
        }
        let iv = r.rest();
        let Some(split) = edk.ciphertext.len().checked_sub(TAG_LEN) else {
            return Some(Err("wrapped key shorter than a tag"));
        };
        let (wrapped, tag) = edk.ciphertext.split_at(split);
        let mut key = Zeroizing::new(wrapped.to_vec());
        if !self.aead.open(iv, aad, &mut key, tag) {
            return Some(Err("AES-GCM unwrap failed"));
        }
        if key.len() != key_len {
            return Some(Err("unwrapped key has the wrong length for the suite"));
        }
        Some(Ok(DataKey::new(std::mem::take(&mut *key))))
    }
}

impl Keyring for RawAesKeyring {
    fn on_encrypt<'a>(
        &'a self,
        mut materials: EncryptionMaterials,
    ) -> MaterialsFuture<'a, crate::Result<EncryptionMaterials>> {
        // Local work: the future is ready at once, nothing is boxed.
        MaterialsFuture::ready((move || {
            let aad = context::serialize(&materials.encryption_context)?;
            let mut iv = [0u8; IV_LEN];
            let data_key = match materials.data_key.take() {
                Some(key) => {
                    crate::crypto::random_bytes(&mut iv)?;
                    key
                }
                None => {
                    // The new data key and the wrapping IV from one draw (one system call).
                    let (key, drawn_iv) = DataKey::random_with_iv(materials.suite.key_len)?;
                    iv = drawn_iv;
                    key
                }
            };
            let edk = self.wrap(&data_key, iv, &aad)?;
            materials.data_key = Some(data_key);
            materials.encrypted_data_keys.push(edk);
            Ok(materials)
        })())
    }

    fn on_decrypt<'a>(
        &'a self,
        mut materials: DecryptionMaterials,
        encrypted_data_keys: &'a [EncryptedDataKey],
    ) -> MaterialsFuture<'a, crate::Result<DecryptionMaterials>> {
        // Local work: the future is ready at once, nothing is boxed.
        MaterialsFuture::ready((move || {
            ensure_no_data_key(&materials)?;
            let aad = context::serialize(&materials.encryption_context)?;
            let mut attempts = Vec::new();
            for edk in encrypted_data_keys {
                match self.unwrap_key(edk, &aad, materials.suite.key_len) {
                    None => {}
                    Some(Ok(key)) => {
                        materials.data_key = Some(key);
                        return Ok(materials);
                    }
                    Some(Err(why)) => attempts.push(KeyringAttempt::keyring(
                        &self.namespace,
                        &self.name,
                        KeyringErrorKind::UnwrapFailed,
                        why,
                    )),
                }
            }
            if attempts.is_empty() {
                attempts.push(KeyringAttempt::keyring(
                    &self.namespace,
                    &self.name,
                    KeyringErrorKind::NoMatchingKey,
                    "raw AES keyring",
                ));
            }
            Err(crate::Error::NoKeyringDecrypted {
                attempts: attempts.into(),
            })
        })())
    }
}
