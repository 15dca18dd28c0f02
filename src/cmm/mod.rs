//! Cryptographic materials managers (CMMs): they turn requests into materials, around keyrings.
//!
//! Spec: `framework/cmm-interface.md`.

use crate::materials::{
    DecryptionMaterials, DecryptionRequest, EncryptionMaterials, EncryptionRequest,
};

pub(crate) mod default;
mod required_context;

pub use crate::format::context::PUBLIC_KEY_CONTEXT_KEY;
pub use crate::future::MaterialsFuture;
pub use default::DefaultMaterialsManager;
pub use required_context::RequiredEncryptionContextMaterialsManager;

/// Supplies encryption and decryption materials. Object-safe and async, so a caching CMM can
/// wrap any other.
///
/// ```
/// use std::sync::Arc;
/// let keyring = Arc::new(esdk::RawAesKeyring::new("ns", "key", &[1u8; 32]).unwrap());
/// let cmm: Arc<dyn esdk::MaterialsManager> = Arc::new(esdk::DefaultMaterialsManager::new(keyring));
/// # let _ = cmm;
/// ```
pub trait MaterialsManager: Send + Sync + std::fmt::Debug {
    /// Returns materials to encrypt one message.
    ///
    /// # Errors
    /// When the request is refused (policy, context) or a keyring fails.
    fn encryption_materials<'a>(
        &'a self,
        request: EncryptionRequest,
    ) -> MaterialsFuture<'a, crate::Result<EncryptionMaterials>>;

    /// Returns materials to decrypt one message.
    ///
    /// # Errors
    /// When the request is refused (policy, context) or no keyring can decrypt a data key.
    fn decryption_materials<'a>(
        &'a self,
        request: DecryptionRequest,
    ) -> MaterialsFuture<'a, crate::Result<DecryptionMaterials>>;
}

/// Shared and borrowed materials managers are materials managers.
macro_rules! forward_cmm {
    ($($ty:ty),*) => {$(
        impl<M: MaterialsManager + ?Sized> MaterialsManager for $ty {
            fn encryption_materials<'a>(
                &'a self,
                request: EncryptionRequest,
            ) -> MaterialsFuture<'a, crate::Result<EncryptionMaterials>> {
                (**self).encryption_materials(request)
            }

            fn decryption_materials<'a>(
                &'a self,
                request: DecryptionRequest,
            ) -> MaterialsFuture<'a, crate::Result<DecryptionMaterials>> {
                (**self).decryption_materials(request)
            }
        }
    )*};
}

forward_cmm!(std::sync::Arc<M>, Box<M>, &M);
