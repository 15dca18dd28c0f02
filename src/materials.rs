//! Encryption and decryption materials, and the requests for them: what a custom
//! [`Keyring`](crate::Keyring) or [`MaterialsManager`](crate::MaterialsManager) works with.
//!
//! Spec: `framework/structures.md`, `framework/cmm-interface.md`.

use std::fmt;

use zeroize::Zeroizing;

pub use crate::crypto::signature::{SigningKey, VerificationKey};
use crate::format::context::EncryptionContext;
pub use crate::format::header::EncryptedDataKey;
use crate::policy::CommitmentPolicy;
use crate::suite::AlgorithmSuite;

/// A plaintext data key. Zeroized on drop; `Debug` shows only its length.
///
/// ```
/// let key = esdk::materials::DataKey::new(vec![0x42; 32]);
/// assert_eq!(key.expose_secret().len(), 32);
/// assert!(!format!("{key:?}").contains("66"));
/// ```
#[derive(Clone)]
pub struct DataKey(Zeroizing<Vec<u8>>);

impl DataKey {
    /// Wraps key bytes (taken by value so no copy is left behind).
    ///
    /// ```
    /// let key = esdk::materials::DataKey::new(vec![7u8; 32]);
    /// assert_eq!(key.expose_secret(), &[7u8; 32][..]);
    /// assert_eq!(format!("{key:?}"), "DataKey { len: 32, .. }");
    /// ```
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The key bytes. The name marks every place a secret leaves its wrapper.
    ///
    /// ```
    /// let key = esdk::materials::DataKey::new(b"0123456789abcdef".to_vec());
    /// assert_eq!(key.expose_secret(), b"0123456789abcdef");
    /// ```
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// Generates a random key of `len` bytes.
    pub(crate) fn random(len: usize) -> crate::Result<Self> {
        let mut bytes = Zeroizing::new(vec![0u8; len]);
        crate::crypto::random_bytes(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// Generates a random key of `len` bytes (at most 32, as every suite's) and an AES-GCM IV
    /// for wrapping it, from one draw.
    pub(crate) fn random_with_iv(len: usize) -> crate::Result<(Self, [u8; crate::suite::IV_LEN])> {
        use crate::suite::IV_LEN;
        let mut drawn = Zeroizing::new([0u8; 32 + IV_LEN]);
        let drawn = drawn
            .get_mut(..len + IV_LEN)
            .ok_or(crate::Error::Internal("data key longer than 32 bytes"))?;
        crate::crypto::random_bytes(drawn)?;
        let (key, iv_bytes) = drawn.split_at(len);
        let mut iv = [0u8; IV_LEN];
        iv.copy_from_slice(iv_bytes);
        // The stack copy is wiped when `drawn` drops.
        Ok((Self(Zeroizing::new(key.to_vec())), iv))
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field("len", &self.0.len())
            .finish_non_exhaustive()
    }
}

/// What encrypt needs: suite, context, data key, its encrypted copies, and a signing key.
///
/// Built by a materials manager; keyrings add the data key and encrypted data keys.
///
/// ```
/// let m = esdk::materials::EncryptionMaterials::new(&esdk::suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY, Default::default());
/// assert!(m.data_key.is_none() && m.encrypted_data_keys.is_empty());
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct EncryptionMaterials {
    /// The algorithm suite.
    pub suite: &'static AlgorithmSuite,
    /// The full encryption context, including keys that will not be stored in the message.
    pub encryption_context: EncryptionContext,
    /// Context keys authenticated but not stored in the message.
    pub required_encryption_context_keys: Vec<String>,
    /// The plaintext data key, once a keyring generated it.
    pub data_key: Option<DataKey>,
    /// The encrypted copies of the data key.
    pub encrypted_data_keys: Vec<EncryptedDataKey>,
    /// The signing key for signed suites.
    pub signing_key: Option<SigningKey>,
}

impl EncryptionMaterials {
    /// Materials with no data key yet.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use esdk::{materials::EncryptionMaterials, suite, Keyring};
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let materials = EncryptionMaterials::new(&suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY, Default::default());
    /// assert!(materials.data_key.is_none());
    /// // The keyring generates the data key and wraps it.
    /// let materials = esdk::blocking::block_on(keyring.on_encrypt(materials))?;
    /// assert_eq!(materials.data_key.map(|k| k.expose_secret().len()), Some(32));
    /// assert_eq!(materials.encrypted_data_keys.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn new(suite: &'static AlgorithmSuite, encryption_context: EncryptionContext) -> Self {
        Self {
            suite,
            encryption_context,
            required_encryption_context_keys: Vec::new(),
            data_key: None,
            encrypted_data_keys: Vec::new(),
            signing_key: None,
        }
    }
}

/// What decrypt needs: suite, context, the data key once a keyring decrypted it, and the
/// verification key for signed suites.
///
/// ```
/// let m = esdk::materials::DecryptionMaterials::new(&esdk::suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY, Default::default());
/// assert!(m.data_key.is_none());
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DecryptionMaterials {
    /// The algorithm suite.
    pub suite: &'static AlgorithmSuite,
    /// The message's context plus any reproduced keys not stored in the message.
    pub encryption_context: EncryptionContext,
    /// Context keys authenticated but not stored in the message.
    pub required_encryption_context_keys: Vec<String>,
    /// The plaintext data key, once a keyring decrypted it.
    pub data_key: Option<DataKey>,
    /// The verification key for signed suites.
    pub verification_key: Option<VerificationKey>,
}

impl DecryptionMaterials {
    /// Materials with no data key yet.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use esdk::{materials::{DecryptionMaterials, EncryptionMaterials}, suite, Keyring};
    /// use esdk::blocking::block_on;
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let suite = &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY;
    /// let sealed = block_on(keyring.on_encrypt(EncryptionMaterials::new(suite, Default::default())))?;
    /// let opened = block_on(keyring.on_decrypt(DecryptionMaterials::new(suite, Default::default()), &sealed.encrypted_data_keys))?;
    /// let secret = |k: Option<esdk::materials::DataKey>| k.map(|k| k.expose_secret().to_vec());
    /// assert_eq!(secret(opened.data_key), secret(sealed.data_key));
    /// # Ok(()) }
    /// ```
    pub fn new(suite: &'static AlgorithmSuite, encryption_context: EncryptionContext) -> Self {
        Self {
            suite,
            encryption_context,
            required_encryption_context_keys: Vec::new(),
            data_key: None,
            verification_key: None,
        }
    }
}

/// A request to a materials manager for encryption materials.
///
/// ```
/// let r = esdk::materials::EncryptionRequest::new(Default::default(), esdk::CommitmentPolicy::default());
/// assert!(r.suite.is_none());
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct EncryptionRequest {
    /// The caller's encryption context.
    pub encryption_context: EncryptionContext,
    /// The suite the caller chose, if any.
    pub suite: Option<&'static AlgorithmSuite>,
    /// The client's commitment policy.
    pub commitment_policy: CommitmentPolicy,
    /// An upper bound on the plaintext length, when known.
    pub max_plaintext_length: Option<u64>,
    /// Context keys to authenticate but not store.
    pub required_encryption_context_keys: Vec<String>,
}

impl EncryptionRequest {
    /// A request with no suite, length bound or required keys.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use std::sync::Arc;
    /// use esdk::{materials::EncryptionRequest, CommitmentPolicy, MaterialsManager};
    /// let keyring = Arc::new(esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?);
    /// let cmm = esdk::DefaultMaterialsManager::new(keyring);
    /// let request = EncryptionRequest::new(Default::default(), CommitmentPolicy::default());
    /// let materials = esdk::blocking::block_on(cmm.encryption_materials(request))?;
    /// assert_eq!(materials.suite.id, 0x0578); // the policy's default suite
    /// assert!(materials.signing_key.is_some());
    /// # Ok(()) }
    /// ```
    pub fn new(encryption_context: EncryptionContext, commitment_policy: CommitmentPolicy) -> Self {
        Self {
            encryption_context,
            suite: None,
            commitment_policy,
            max_plaintext_length: None,
            required_encryption_context_keys: Vec::new(),
        }
    }
}

/// A request to a materials manager for decryption materials.
///
/// ```
/// let r = esdk::materials::DecryptionRequest::new(
///     &esdk::suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
///     esdk::CommitmentPolicy::default(),
///     vec![],
///     Default::default(),
/// );
/// assert!(r.reproduced_encryption_context.is_none());
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DecryptionRequest {
    /// The message's suite.
    pub suite: &'static AlgorithmSuite,
    /// The client's commitment policy.
    pub commitment_policy: CommitmentPolicy,
    /// The message's encrypted data keys.
    pub encrypted_data_keys: Vec<EncryptedDataKey>,
    /// The context stored in the message.
    pub encryption_context: EncryptionContext,
    /// The context the caller expects (and any keys not stored in the message).
    pub reproduced_encryption_context: Option<EncryptionContext>,
}

impl DecryptionRequest {
    /// A request without a reproduced context.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use std::sync::Arc;
    /// use esdk::{materials::{DecryptionRequest, EncryptionRequest}, blocking::block_on, CommitmentPolicy, MaterialsManager};
    /// let keyring = Arc::new(esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?);
    /// let cmm = esdk::DefaultMaterialsManager::new(keyring);
    /// let policy = CommitmentPolicy::default();
    /// let sealed = block_on(cmm.encryption_materials(EncryptionRequest::new(Default::default(), policy)))?;
    /// let request = DecryptionRequest::new(sealed.suite, policy, sealed.encrypted_data_keys, sealed.encryption_context);
    /// let opened = block_on(cmm.decryption_materials(request))?;
    /// assert!(opened.data_key.is_some() && opened.verification_key.is_some());
    /// # Ok(()) }
    /// ```
    pub fn new(
        suite: &'static AlgorithmSuite,
        commitment_policy: CommitmentPolicy,
        encrypted_data_keys: Vec<EncryptedDataKey>,
        encryption_context: EncryptionContext,
    ) -> Self {
        Self {
            suite,
            commitment_policy,
            encrypted_data_keys,
            encryption_context,
            reproduced_encryption_context: None,
        }
    }
}
