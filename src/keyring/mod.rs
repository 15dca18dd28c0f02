//! Keyrings: they generate, encrypt and decrypt data keys.
//!
//! Spec: `framework/keyring-interface.md`.

use crate::format::header::EncryptedDataKey;
pub use crate::future::MaterialsFuture;
use crate::materials::{DecryptionMaterials, EncryptionMaterials};

mod multi;
mod raw_aes;
mod raw_rsa;

pub use multi::MultiKeyring;
pub use raw_aes::RawAesKeyring;
pub use raw_rsa::{RawRsaKeyring, RawRsaKeyringBuilder, RsaPadding};

/// Generates, wraps and unwraps data keys. Object-safe and async, so keyrings that call a key
/// service (AWS KMS) fit the same trait as local ones; local keyrings return ready futures.
///
/// Implementations share keyrings as `Arc<dyn Keyring>`.
///
/// ```
/// use std::sync::Arc;
/// let keyring: Arc<dyn esdk::Keyring> = Arc::new(esdk::RawAesKeyring::new("ns", "key", &[1u8; 32]).unwrap());
/// # let _ = keyring;
/// ```
pub trait Keyring: Send + Sync + std::fmt::Debug {
    /// Adds to the materials: a data key if none is there yet (when this keyring can generate
    /// one), and one encrypted data key of its own.
    ///
    /// # Errors
    /// When the keyring cannot generate or wrap the data key.
    fn on_encrypt<'a>(
        &'a self,
        materials: EncryptionMaterials,
    ) -> MaterialsFuture<'a, crate::Result<EncryptionMaterials>>;

    /// Decrypts one of `encrypted_data_keys` that belongs to this keyring and sets the data key.
    ///
    /// # Errors
    /// [`crate::Error::NoKeyringDecrypted`] listing what was tried when no key could be opened,
    /// or [`crate::Error::ApiMisuse`] if the materials already hold a data key.
    fn on_decrypt<'a>(
        &'a self,
        materials: DecryptionMaterials,
        encrypted_data_keys: &'a [EncryptedDataKey],
    ) -> MaterialsFuture<'a, crate::Result<DecryptionMaterials>>;
}

/// Shared and borrowed keyrings are keyrings: `client.encrypt(&arc_keyring, ...)` works
/// without `.as_ref()`.
macro_rules! forward_keyring {
    ($($ty:ty),*) => {$(
        impl<K: Keyring + ?Sized> Keyring for $ty {
            fn on_encrypt<'a>(
                &'a self,
                materials: EncryptionMaterials,
            ) -> MaterialsFuture<'a, crate::Result<EncryptionMaterials>> {
                (**self).on_encrypt(materials)
            }

            fn on_decrypt<'a>(
                &'a self,
                materials: DecryptionMaterials,
                encrypted_data_keys: &'a [EncryptedDataKey],
            ) -> MaterialsFuture<'a, crate::Result<DecryptionMaterials>> {
                (**self).on_decrypt(materials, encrypted_data_keys)
            }
        }
    )*};
}

forward_keyring!(std::sync::Arc<K>, Box<K>, &K);

/// The key namespace prefix reserved for the AWS KMS keyrings.
pub(crate) const RESERVED_NAMESPACE_PREFIX: &str = "aws-kms";

/// Refuses a raw keyring key namespace that is or starts with `aws-kms`: the key provider ID
/// "MUST NOT be or start with \"aws-kms\"" unless an AWS KMS keyring produced the encrypted data
/// key (spec: `framework/keyring-interface.md`, key provider ID; the raw AES and raw RSA keyring
/// specs, 0.3.0).
pub(crate) fn check_namespace(namespace: &str) -> crate::Result<()> {
    if namespace.starts_with(RESERVED_NAMESPACE_PREFIX) {
        Err(crate::Error::InvalidKey(format!(
            "the key namespace `{namespace}` is reserved: a raw keyring's namespace must not \
             start with `{RESERVED_NAMESPACE_PREFIX}`"
        )))
    } else {
        Ok(())
    }
}

/// Fails if decryption materials already hold a data key (spec: keyring on-decrypt).
pub(crate) fn ensure_no_data_key(materials: &DecryptionMaterials) -> crate::Result<()> {
    if materials.data_key.is_some() {
        Err(crate::Error::ApiMisuse(
            "decryption materials already hold a data key",
        ))
    } else {
        Ok(())
    }
}
