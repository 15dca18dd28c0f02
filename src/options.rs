//! What every front end takes: where the data key comes from ([`KeySource`]) and the options
//! of one direction ([`EncryptOptions`], [`DecryptOptions`]). The one-shot calls, the sans-I/O
//! [`Encryptor`](crate::stream::Encryptor) and [`Decryptor`](crate::stream::Decryptor), the
//! `std::io` adapters and the tokio adapters all take the same two values.

use crate::cmm::{default as default_cmm, MaterialsManager};
use crate::format::context::EncryptionContext;
use crate::keyring::Keyring;
use crate::materials::{
    DecryptionMaterials, DecryptionRequest, EncryptionMaterials, EncryptionRequest,
};

/// Where a message's data key comes from: a keyring (used through the default materials
/// manager) or a materials manager. Any keyring converts into one with `.into()` or by passing
/// `&keyring` where an `impl Into<KeySource>` is taken; a materials manager is named
/// explicitly.
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// use std::sync::Arc;
/// use esdk::{DefaultMaterialsManager, EncryptOptions, KeySource, RawAesKeyring};
/// let keyring = Arc::new(RawAesKeyring::new("ns", "key", &[1u8; 32])?);
/// let cmm = DefaultMaterialsManager::new(keyring.clone());
/// let client = esdk::Client::default();
/// let options = EncryptOptions::new();
/// let a = esdk::blocking::encrypt_with(&client, &keyring, b"hi", &options)?;
/// let b = esdk::blocking::encrypt_with(&client, KeySource::MaterialsManager(&cmm), b"hi", &options)?;
/// assert_eq!(esdk::blocking::decrypt(&client, &keyring, &b)?.plaintext, b"hi");
/// # let _ = a; Ok(()) }
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum KeySource<'a> {
    /// A keyring, through the default materials manager.
    Keyring(&'a dyn Keyring),
    /// A materials manager.
    MaterialsManager(&'a dyn MaterialsManager),
}

impl<'a, K: Keyring + 'a> From<&'a K> for KeySource<'a> {
    fn from(keyring: &'a K) -> Self {
        Self::Keyring(keyring)
    }
}

impl<'a> From<&'a dyn Keyring> for KeySource<'a> {
    fn from(keyring: &'a dyn Keyring) -> Self {
        Self::Keyring(keyring)
    }
}

impl<'a> From<&'a dyn MaterialsManager> for KeySource<'a> {
    fn from(cmm: &'a dyn MaterialsManager) -> Self {
        Self::MaterialsManager(cmm)
    }
}

impl KeySource<'_> {
    pub(crate) async fn encryption_materials(
        self,
        request: EncryptionRequest,
    ) -> crate::Result<EncryptionMaterials> {
        match self {
            Self::Keyring(k) => default_cmm::encryption_materials(k, request).await,
            Self::MaterialsManager(c) => c.encryption_materials(request).await,
        }
    }

    pub(crate) async fn decryption_materials(
        self,
        request: DecryptionRequest,
    ) -> crate::Result<DecryptionMaterials> {
        match self {
            Self::Keyring(k) => default_cmm::decryption_materials(k, request).await,
            Self::MaterialsManager(c) => c.decryption_materials(request).await,
        }
    }
}

/// The options of one encryption: the encryption context and, for a stream, the plaintext
/// length when it is known ahead.
///
/// ```
/// use esdk::{EncryptOptions, EncryptionContext};
/// let options = EncryptOptions::new()
///     .encryption_context(EncryptionContext::from([("tenant", "acme")]))
///     .plaintext_length(1 << 20);
/// # let _ = options;
/// ```
#[derive(Clone, Debug, Default)]
pub struct EncryptOptions {
    pub(crate) encryption_context: EncryptionContext,
    pub(crate) plaintext_length: Option<u64>,
}

impl EncryptOptions {
    /// No encryption context, length unknown.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let message = esdk::blocking::encrypt_with(&esdk::Client::default(), &keyring, b"hi", &esdk::EncryptOptions::new())?;
    /// // No pairs of the caller's: only the public key the default (signed) suite adds.
    /// let header = esdk::parse_header(&message)?;
    /// assert_eq!(header.unauthenticated().encryption_context().keys().collect::<Vec<_>>(), ["aws-crypto-public-key"]);
    /// # Ok(()) }
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The encryption context: non-secret pairs bound to the message (keys beginning with
    /// `aws-crypto-` are reserved, and encrypt refuses them).
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use esdk::EncryptOptions;
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let client = esdk::Client::default();
    /// let options = EncryptOptions::new().encryption_context([("tenant", "acme")]);
    /// let message = esdk::blocking::encrypt_with(&client, &keyring, b"hi", &options)?;
    /// assert_eq!(esdk::parse_header(&message)?.unauthenticated().encryption_context()["tenant"], "acme");
    /// let reserved = EncryptOptions::new().encryption_context([("aws-crypto-mine", "x")]);
    /// assert!(esdk::blocking::encrypt_with(&client, &keyring, b"hi", &reserved).is_err());
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn encryption_context(mut self, context: impl Into<EncryptionContext>) -> Self {
        self.encryption_context = context.into();
        self
    }

    /// For streams: the plaintext's length, or a bound on it. It is passed to the materials
    /// manager (a caching one uses it to count bytes per data key) and enforced: encrypting
    /// more fails at once. One-shot encrypt knows the length and ignores this.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let client = esdk::Client::default();
    /// let options = esdk::EncryptOptions::new().plaintext_length(4);
    /// let mut message = Vec::new();
    /// let mut encryptor = esdk::blocking::block_on(esdk::stream::Encryptor::new(&client, &keyring, &options, &mut message))?;
    /// encryptor.push(b"four", &mut message)?;
    /// assert!(matches!(encryptor.push(b"!", &mut message), Err(esdk::Error::LimitExceeded(_))));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn plaintext_length(mut self, length: u64) -> Self {
        self.plaintext_length = Some(length);
        self
    }
}

impl From<EncryptionContext> for EncryptOptions {
    fn from(context: EncryptionContext) -> Self {
        Self::new().encryption_context(context)
    }
}

/// The options of one decryption: the encryption context the caller reproduces, if any.
///
/// ```
/// use esdk::{DecryptOptions, EncryptionContext};
/// let options = DecryptOptions::new().reproduced_context(EncryptionContext::from([("tenant", "acme")]));
/// # let _ = options;
/// ```
#[derive(Clone, Debug, Default)]
pub struct DecryptOptions {
    pub(crate) reproduced_context: Option<EncryptionContext>,
}

impl DecryptOptions {
    /// Nothing required of the message's encryption context.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let client = esdk::Client::default();
    /// let context = esdk::EncryptionContext::from([("tenant", "acme")]);
    /// let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &context)?;
    /// // Nothing is required of the context: the message decrypts whatever it holds.
    /// let decrypted = esdk::blocking::decrypt_with(&client, &keyring, &message, &esdk::DecryptOptions::new())?;
    /// assert_eq!(decrypted.plaintext, b"hi");
    /// # Ok(()) }
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The encryption context the caller expects (the specification's "reproduced
    /// encryption context"): every pair must be in the message, either stored in its header
    /// or authenticated without being stored (a required-encryption-context key, which must be
    /// given here to decrypt at all). A stored value that differs fails with
    /// [`crate::Error::ContextMismatch`].
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use esdk::{DecryptOptions, Error};
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let client = esdk::Client::default();
    /// let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &[("tenant", "acme")].into())?;
    /// let right = DecryptOptions::new().reproduced_context([("tenant", "acme")]);
    /// assert_eq!(esdk::blocking::decrypt_with(&client, &keyring, &message, &right)?.plaintext, b"hi");
    /// let wrong = DecryptOptions::new().reproduced_context([("tenant", "evil")]);
    /// let refused = esdk::blocking::decrypt_with(&client, &keyring, &message, &wrong);
    /// assert!(matches!(refused, Err(Error::ContextMismatch { key, .. }) if key == "tenant"));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn reproduced_context(mut self, context: impl Into<EncryptionContext>) -> Self {
        self.reproduced_context = Some(context.into());
        self
    }
}
