//! The client: configuration, and one-shot encrypt and decrypt.
//!
//! Spec: `client-apis/client.md`, `client-apis/encrypt.md`, `client-apis/decrypt.md`.

use std::num::NonZeroU32;
use std::sync::Arc;

use crate::format::context::EncryptionContext;
use crate::format::header::Header;
use crate::keyring::Keyring;
use crate::options::{DecryptOptions, EncryptOptions, KeySource};
use crate::policy::{CommitmentPolicy, Limits};
use crate::stream::sink::{Presized, Sink};
use crate::stream::{Decryptor, Encryptor};
use crate::suite::AlgorithmSuite;
use crate::Error;

/// The default frame length: 4096 bytes.
pub const DEFAULT_FRAME_LENGTH: u32 = 4096;

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) commitment_policy: CommitmentPolicy,
    pub(crate) suite: Option<&'static AlgorithmSuite>,
    pub(crate) frame_length: NonZeroU32,
    pub(crate) limits: Limits,
    pub(crate) unsigned_only: bool,
    pub(crate) legacy_net_v4_0_0_retry: bool,
    pub(crate) threads: usize,
    pub(crate) min_parallel_bytes: usize,
    /// Test hook (`hazmat`): the message id encrypt uses instead of a random one.
    #[cfg(feature = "hazmat")]
    pub(crate) fixed_message_id: Option<Vec<u8>>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            commitment_policy: CommitmentPolicy::default(),
            suite: None,
            frame_length: NonZeroU32::MIN.saturating_add(DEFAULT_FRAME_LENGTH - 1),
            limits: Limits::default(),
            unsigned_only: false,
            legacy_net_v4_0_0_retry: true,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            min_parallel_bytes: crate::stream::parallel::DEFAULT_MIN_PARALLEL_BYTES,
            #[cfg(feature = "hazmat")]
            fixed_message_id: None,
        }
    }
}

/// Encrypts and decrypts messages. Cheap to clone (the configuration is shared).
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// use esdk::{DecryptOptions, EncryptionContext};
/// let client = esdk::Client::builder()
///     .commitment_policy(esdk::CommitmentPolicy::RequireEncryptRequireDecrypt)
///     .frame_length(65536)
///     .max_encrypted_data_keys(3)
///     .build()?;
/// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
/// let context = EncryptionContext::from([("purpose", "doc")]);
/// let message = esdk::blocking::encrypt(&client, &keyring, b"hello", &context)?;
/// let options = DecryptOptions::new().reproduced_context(context);
/// let decrypted = esdk::blocking::decrypt_with(&client, &keyring, &message, &options)?;
/// assert_eq!(decrypted.plaintext, b"hello");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub(crate) config: Arc<Config>,
}

/// Builds a [`Client`]; every setting has a secure default. The setters cannot fail;
/// [`build`](Self::build) checks the whole configuration once.
///
/// ```
/// let client = esdk::Client::builder().frame_length(1 << 16).threads(4).build()?;
/// assert!(esdk::Client::builder().frame_length(0).build().is_err());
/// # Ok::<(), esdk::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    config: Config,
    frame_length: u32,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            config: Config::default(),
            frame_length: DEFAULT_FRAME_LENGTH,
        }
    }
}

impl ClientBuilder {
    /// The commitment policy (default: `RequireEncryptRequireDecrypt`).
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use esdk::{CommitmentPolicy, Error};
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let legacy = esdk::Client::builder().commitment_policy(CommitmentPolicy::ForbidEncryptAllowDecrypt).build()?;
    /// let message = esdk::blocking::encrypt(&legacy, &keyring, b"hi", &Default::default())?;
    /// assert_eq!(esdk::parse_header(&message)?.unauthenticated().suite().id, 0x0378);
    /// // The default policy refuses to decrypt a message without key commitment.
    /// let refused = esdk::blocking::decrypt(&esdk::Client::default(), &keyring, &message);
    /// assert!(matches!(refused, Err(Error::PolicyRefused { suite: 0x0378, .. })));
    /// # Ok(()) }
    /// ```
    pub fn commitment_policy(mut self, policy: CommitmentPolicy) -> Self {
        self.config.commitment_policy = policy;
        self
    }

    /// The suite encrypt uses (default: 0x0578, or 0x0378 under `ForbidEncryptAllowDecrypt`).
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use esdk::suite;
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let client = esdk::Client::builder().suite(&suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY).build()?;
    /// let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// assert_eq!(esdk::parse_header(&message)?.unauthenticated().suite().id, 0x0478);
    /// // A suite the commitment policy does not let encrypt is refused by `build`.
    /// assert!(esdk::Client::builder().suite(&suite::AES_256_GCM_IV12_TAG16_HKDF_SHA256).build().is_err());
    /// # Ok(()) }
    /// ```
    pub fn suite(mut self, suite: &'static AlgorithmSuite) -> Self {
        self.config.suite = Some(suite);
        self
    }

    /// The frame length encrypt uses (default 4096; [`build`](Self::build) refuses 0). A
    /// streaming decryptor buffers a whole frame, so frames above its
    /// [`max_stream_frame_length`](Self::max_stream_frame_length) (default 16 MiB) must be
    /// decrypted one-shot or with that limit raised.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use esdk::header::ContentType;
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let client = esdk::Client::builder().frame_length(1024).build()?;
    /// let message = esdk::blocking::encrypt(&client, &keyring, &[0u8; 3000], &Default::default())?;
    /// let content_type = esdk::parse_header(&message)?.unauthenticated().content_type();
    /// assert!(matches!(content_type, ContentType::Framed { frame_length } if frame_length.get() == 1024));
    /// assert!(matches!(esdk::Client::builder().frame_length(0).build(), Err(esdk::Error::ApiMisuse(_))));
    /// # Ok(()) }
    /// ```
    pub fn frame_length(mut self, frame_length: u32) -> Self {
        self.frame_length = frame_length;
        self
    }

    /// The most encrypted data keys a message may hold, on encrypt and decrypt (default: no limit).
    /// A message with more is refused as soon as its count is read.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use std::sync::Arc;
    /// let a = Arc::new(esdk::RawAesKeyring::new("ns", "a", &[1u8; 32])?);
    /// let b = Arc::new(esdk::RawAesKeyring::new("ns", "b", &[2u8; 32])?);
    /// let two_keys = esdk::MultiKeyring::new(Some(a), vec![b])?;
    /// let client = esdk::Client::builder().max_encrypted_data_keys(1).build()?;
    /// let refused = esdk::blocking::encrypt(&client, &two_keys, b"hi", &Default::default());
    /// assert!(matches!(refused, Err(esdk::Error::TooManyEncryptedDataKeys { limit: 1, .. })));
    /// # Ok(()) }
    /// ```
    pub fn max_encrypted_data_keys(mut self, limit: u16) -> Self {
        self.config.limits.max_encrypted_data_keys = Some(limit);
        self
    }

    /// The most bytes a header may take on decrypt (default 1 MiB,
    /// [`crate::DEFAULT_MAX_HEADER_LENGTH`]). A header that declares more fails as soon as the
    /// declared length is read, before it is buffered.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use esdk::{Error, FormatError};
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let message = esdk::blocking::encrypt(&esdk::Client::default(), &keyring, b"hi", &Default::default())?;
    /// let client = esdk::Client::builder().max_header_length(10).build()?;
    /// let refused = esdk::blocking::decrypt(&client, &keyring, &message);
    /// assert!(matches!(refused, Err(Error::Malformed(FormatError::Oversized(_)))));
    /// # Ok(()) }
    /// ```
    pub fn max_header_length(mut self, limit: usize) -> Self {
        self.config.limits.max_header_length = limit;
        self
    }

    /// The most bytes the serialized encryption context may take on decrypt (default: the
    /// format's 65535).
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use esdk::{EncryptionContext, Error, FormatError};
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let context = EncryptionContext::from([("tenant", "acme")]);
    /// let message = esdk::blocking::encrypt(&esdk::Client::default(), &keyring, b"hi", &context)?;
    /// let client = esdk::Client::builder().max_encryption_context_length(8).build()?;
    /// let refused = esdk::blocking::decrypt(&client, &keyring, &message);
    /// assert!(matches!(refused, Err(Error::Malformed(FormatError::Oversized(_)))));
    /// # Ok(()) }
    /// ```
    pub fn max_encryption_context_length(mut self, limit: usize) -> Self {
        self.config.limits.max_encryption_context_length = limit;
        self
    }

    /// Streaming decrypt: the longest frame length a message may declare (default 16 MiB,
    /// [`crate::DEFAULT_MAX_STREAM_FRAME_LENGTH`]). A stream must buffer a whole frame before it
    /// can authenticate it, so this bounds a stream's memory (a reader holds about three
    /// frames at most: the partial frame, its plaintext, and a signed message's held final
    /// frame); a message above it is refused
    /// when its header is read, before anything is buffered or a keyring is called. One-shot
    /// decrypt ([`Client::decrypt`]) holds the whole message anyway and ignores it.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use esdk::stream::io::DecryptingReader;
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// // Written in the default 4096-byte frames.
    /// let message = esdk::blocking::encrypt(&esdk::Client::default(), &keyring, b"hi", &Default::default())?;
    /// let client = esdk::Client::builder().max_stream_frame_length(1024).build()?;
    /// let stream = DecryptingReader::new(&client, &keyring, &esdk::DecryptOptions::new(), message.as_slice());
    /// assert!(matches!(stream, Err(esdk::Error::LimitExceeded(_))));
    /// // One-shot decrypt ignores the limit.
    /// assert_eq!(esdk::blocking::decrypt(&client, &keyring, &message)?.plaintext, b"hi");
    /// # Ok(()) }
    /// ```
    pub fn max_stream_frame_length(mut self, limit: u32) -> Self {
        self.config.limits.max_stream_frame_length = limit;
        self
    }

    /// Streaming decrypt: the longest non-framed body a message may declare (default 16 MiB,
    /// [`crate::DEFAULT_MAX_STREAM_NON_FRAMED_LENGTH`]). A stream buffers a whole non-framed
    /// body before it can authenticate it; a longer one is refused as soon as its length field
    /// is read. One-shot decrypt ignores it.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use std::io::Read;
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let client = esdk::Client::builder().max_stream_non_framed_length(1024).build()?;
    /// // Encrypt writes framed messages, which this limit does not bound.
    /// let message = esdk::blocking::encrypt(&client, &keyring, &[7u8; 4000], &Default::default())?;
    /// let mut reader = esdk::stream::io::DecryptingReader::new(&client, &keyring, &esdk::DecryptOptions::new(), message.as_slice())?;
    /// assert_eq!(reader.read_to_end(&mut Vec::new())?, 4000);
    /// assert!(esdk::Client::builder().max_stream_non_framed_length(0).build().is_err());
    /// # Ok(()) }
    /// ```
    pub fn max_stream_non_framed_length(mut self, limit: u64) -> Self {
        self.config.limits.max_stream_non_framed_length = limit;
        self
    }

    /// Refuse signed messages at their header, before any body byte is read (default: off).
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use esdk::{suite, Error};
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let client = esdk::Client::builder().unsigned_only(true).build()?;
    /// let signed = esdk::blocking::encrypt(&esdk::Client::default(), &keyring, b"hi", &Default::default())?;
    /// let refused = esdk::blocking::decrypt(&client, &keyring, &signed);
    /// assert!(matches!(refused, Err(Error::SignedSuiteRefused(0x0578))));
    /// let unsigned_client = esdk::Client::builder().suite(&suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY).build()?;
    /// let unsigned = esdk::blocking::encrypt(&unsigned_client, &keyring, b"hi", &Default::default())?;
    /// assert_eq!(esdk::blocking::decrypt(&client, &keyring, &unsigned)?.plaintext, b"hi");
    /// # Ok(()) }
    /// ```
    pub fn unsigned_only(mut self, on: bool) -> Self {
        self.config.unsigned_only = on;
        self
    }

    /// Also accept messages written by ESDK-.NET 4.0.0 with its two known bugs (HKDF info
    /// without the message id for v1 HKDF suites; an extra `00 00` in the header authentication
    /// data when no context is authenticate-only), by retrying header authentication the way
    /// those bugs computed it. On by default, as in the official AWS Encryption SDKs
    /// (`NetV4_0_0_RetryPolicy::ALLOW_RETRY`).
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let strict = esdk::Client::builder().legacy_net_v4_0_0_retry(false).build()?;
    /// // Messages that follow the specification decrypt either way.
    /// let message = esdk::blocking::encrypt(&esdk::Client::default(), &keyring, b"hi", &Default::default())?;
    /// assert_eq!(esdk::blocking::decrypt(&strict, &keyring, &message)?.plaintext, b"hi");
    /// # Ok(()) }
    /// ```
    ///
    /// # Security
    /// The retry accepts only messages whose header still authenticates under the data key, so
    /// it adds no forgery; turn it off to accept strictly what the specification describes.
    pub fn legacy_net_v4_0_0_retry(mut self, on: bool) -> Self {
        self.config.legacy_net_v4_0_0_retry = on;
        self
    }

    /// The most threads encrypt and decrypt may spread the frames of one large message over
    /// (default: the machine's available parallelism; 1 keeps all work on the caller's thread).
    /// Runs of frames shorter than [`min_parallel_bytes`](Self::min_parallel_bytes) (8 MiB by
    /// default) stay on the caller's thread. The output is identical whatever the setting.
    /// [`build`](Self::build) refuses 0.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let plaintext = vec![7u8; 2 << 20]; // 2 MiB: spread over threads from 1 MiB on
    /// let parallel = esdk::Client::builder().threads(4).min_parallel_bytes(1 << 20).build()?;
    /// let message = esdk::blocking::encrypt(&parallel, &keyring, &plaintext, &Default::default())?;
    /// let single = esdk::Client::builder().threads(1).build()?;
    /// assert_eq!(esdk::blocking::decrypt(&single, &keyring, &message)?.plaintext, plaintext);
    /// assert!(matches!(esdk::Client::builder().threads(0).build(), Err(esdk::Error::ApiMisuse(_))));
    /// # Ok(()) }
    /// ```
    pub fn threads(mut self, threads: usize) -> Self {
        self.config.threads = threads;
        self
    }

    /// The shortest run of frames (in plaintext bytes) that encrypt and decrypt spread over
    /// [`threads`](Self::threads); shorter runs stay on the caller's thread. Default 8 MiB:
    /// measured on a 2-core VM (`ESDK_STEADY_MIN_PARALLEL=1048576 cargo bench --bench steady --
    /// 0478 into MiB`), two threads were slower than one for 1 and 4 MiB messages (AES-GCM
    /// 1 MiB: 140 µs against 101 µs; 4 MiB: 505 µs against 430 µs) and faster from 8 MiB on
    /// (566 µs against 801 µs). A machine with more cores or larger caches may gain from a
    /// lower value; 0 is treated as 1. Decrypt opens at most 65,536 frames and about 64 MiB of
    /// ciphertext per run, so a value above that keeps decrypt on one thread (and `usize::MAX`
    /// keeps everything on one thread). The streaming readers and writers hand over small
    /// pieces, so with the default they stay on the caller's thread.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// let client = esdk::Client::builder().threads(8).min_parallel_bytes(2 << 20).build()?;
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let message = esdk::blocking::encrypt(&client, &keyring, &vec![0u8; 3 << 20], &Default::default())?;
    /// assert_eq!(esdk::blocking::decrypt(&client, &keyring, &message)?.plaintext.len(), 3 << 20);
    /// # Ok(()) }
    /// ```
    pub fn min_parallel_bytes(mut self, bytes: usize) -> Self {
        self.config.min_parallel_bytes = bytes.max(1);
        self
    }

    #[cfg(feature = "hazmat")]
    pub(crate) fn fixed_message_id(mut self, id: Vec<u8>) -> Self {
        self.config.fixed_message_id = Some(id);
        self
    }

    /// The client, once the whole configuration is checked.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use esdk::{suite, CommitmentPolicy, Error};
    /// let client = esdk::Client::builder().frame_length(8192).build()?;
    /// assert_eq!(client.commitment_policy(), CommitmentPolicy::RequireEncryptRequireDecrypt);
    /// assert!(matches!(esdk::Client::builder().threads(0).build(), Err(Error::ApiMisuse(_))));
    /// let forbidden = esdk::Client::builder().suite(&suite::AES_128_GCM_IV12_TAG16_NO_KDF).build();
    /// assert!(matches!(forbidden, Err(Error::PolicyRefused { suite: 0x0014, .. })));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] for a frame length, thread count or stream limit of 0;
    /// [`Error::PolicyRefused`] when the chosen suite is one the commitment policy does not let
    /// encrypt (such a client could never encrypt).
    pub fn build(self) -> crate::Result<Client> {
        let mut config = self.config;
        config.frame_length = NonZeroU32::new(self.frame_length)
            .ok_or(Error::ApiMisuse("the frame length must be at least 1"))?;
        if config.threads == 0 {
            return Err(Error::ApiMisuse("the thread count must be at least 1"));
        }
        if config.limits.max_stream_frame_length == 0
            || config.limits.max_stream_non_framed_length == 0
        {
            return Err(Error::ApiMisuse(
                "a stream limit of 0 refuses every message",
            ));
        }
        if let Some(suite) = config.suite {
            config.commitment_policy.check_encrypt(suite)?;
        }
        Ok(Client {
            config: Arc::new(config),
        })
    }
}

/// A decrypted message: its plaintext and its authenticated header.
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// # let keyring = esdk::RawAesKeyring::new("ns", "k", &[7u8; 32])?;
/// # let client = esdk::Client::default();
/// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
/// let esdk::Decrypted { plaintext, header, .. } = esdk::blocking::decrypt(&client, &keyring, &message)?;
/// assert_eq!((plaintext.as_slice(), header.suite().id), (&b"hi"[..], 0x0578));
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct Decrypted {
    /// The plaintext.
    pub plaintext: Vec<u8>,
    /// The authenticated header.
    pub header: Header,
    /// The full encryption context: the stored one plus reproduced keys that were not stored.
    pub encryption_context: EncryptionContext,
}

impl std::fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decrypted")
            .field("plaintext_len", &self.plaintext.len())
            .field("header", &self.header)
            .field("encryption_context", &self.encryption_context)
            .finish()
    }
}

/// What decrypt learned besides the plaintext: the authenticated header and the full
/// encryption context. Returned by the calls that write the plaintext into a caller's buffer
/// ([`Client::decrypt_into`]).
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// # let keyring = esdk::RawAesKeyring::new("ns", "k", &[7u8; 32])?;
/// # let client = esdk::Client::default();
/// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
/// let mut plaintext = Vec::new();
/// let info = esdk::blocking::decrypt_into(&client, &keyring, &message, &Default::default(), &mut plaintext)?;
/// assert_eq!((plaintext.as_slice(), info.header.suite().id), (&b"hi"[..], 0x0578));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct MessageInfo {
    /// The authenticated header.
    pub header: Header,
    /// The full encryption context: the stored one plus reproduced keys that were not stored.
    pub encryption_context: EncryptionContext,
}

impl Client {
    /// A builder with the default settings.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let client = esdk::Client::builder().build()?; // every setting at its default
    /// let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// assert_eq!(esdk::parse_header(&message)?.unauthenticated().suite().id, 0x0578);
    /// # Ok(()) }
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.config.limits
    }

    pub(crate) fn threads(&self) -> usize {
        self.config.threads
    }

    pub(crate) fn min_parallel_bytes(&self) -> usize {
        self.config.min_parallel_bytes
    }

    pub(crate) fn frame_length(&self) -> NonZeroU32 {
        self.config.frame_length
    }

    /// The configured commitment policy.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use esdk::CommitmentPolicy;
    /// let client = esdk::Client::builder().commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt).build()?;
    /// assert_eq!(client.commitment_policy(), CommitmentPolicy::RequireEncryptAllowDecrypt);
    /// assert_eq!(esdk::Client::default().commitment_policy(), CommitmentPolicy::RequireEncryptRequireDecrypt);
    /// # Ok(()) }
    /// ```
    pub fn commitment_policy(&self) -> CommitmentPolicy {
        self.config.commitment_policy
    }

    /// Encrypts `plaintext` for `keyring` under `encryption_context`.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let client = esdk::Client::default();
    /// # esdk::blocking::block_on(async {
    /// let message = client.encrypt(&keyring, b"hi", &esdk::EncryptionContext::from([("a", "b")])).await?;
    /// assert_eq!(client.decrypt(&keyring, &message).await?.plaintext, b"hi");
    /// # Ok(()) })
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the keyring fails, a context key begins with the reserved `aws-crypto-`, or the
    /// policy refuses the suite.
    pub async fn encrypt(
        &self,
        keyring: &dyn Keyring,
        plaintext: &[u8],
        encryption_context: &EncryptionContext,
    ) -> crate::Result<Vec<u8>> {
        self.encrypt_vec(KeySource::Keyring(keyring), plaintext, encryption_context)
            .await
    }

    /// Encrypts with any key source and options.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use std::sync::Arc;
    /// use esdk::{DefaultMaterialsManager, EncryptOptions, EncryptionContext, KeySource};
    /// let keyring = Arc::new(esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?);
    /// let cmm = DefaultMaterialsManager::new(keyring.clone());
    /// let client = esdk::Client::default();
    /// let options = EncryptOptions::new().encryption_context(EncryptionContext::from([("a", "b")]));
    /// # esdk::blocking::block_on(async {
    /// let message = client.encrypt_with(KeySource::MaterialsManager(&cmm), b"hi", &options).await?;
    /// assert_eq!(client.decrypt(&keyring, &message).await?.plaintext, b"hi");
    /// # Ok(()) })
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`Client::encrypt`], and whatever the materials manager refuses.
    pub async fn encrypt_with(
        &self,
        source: impl Into<KeySource<'_>>,
        plaintext: &[u8],
        options: &EncryptOptions,
    ) -> crate::Result<Vec<u8>> {
        self.encrypt_vec(source.into(), plaintext, &options.encryption_context)
            .await
    }

    /// As [`encrypt_with`](Self::encrypt_with), writing the message into `out` (cleared
    /// first): a buffer reused across calls costs no allocation and no page faults once it is
    /// large enough.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let client = esdk::Client::default();
    /// let (mut message, mut plaintext) = (Vec::new(), Vec::new());
    /// for text in [&b"first"[..], b"second"] {
    /// # esdk::blocking::block_on(async {
    ///     client.encrypt_into(&keyring, text, &Default::default(), &mut message).await?;
    ///     client.decrypt_into(&keyring, &message, &Default::default(), &mut plaintext).await?;
    /// #   Ok::<(), esdk::Error>(()) })?;
    ///     assert_eq!(plaintext, text);
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Client::encrypt_with`]; `out` is left empty then.
    pub async fn encrypt_into(
        &self,
        source: impl Into<KeySource<'_>>,
        plaintext: &[u8],
        options: &EncryptOptions,
        out: &mut Vec<u8>,
    ) -> crate::Result<()> {
        let mut sink = Presized::reuse(std::mem::take(out), 0);
        let res = self
            .encrypt_to(
                source.into(),
                plaintext,
                &options.encryption_context,
                &mut sink,
            )
            .await;
        if res.is_err() {
            sink.clear();
        }
        *out = sink.into_reusable_vec();
        res
    }

    /// Decrypts `message` with `keyring`.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # esdk::blocking::block_on(async {
    /// # let message = client.encrypt(&keyring, b"hi", &Default::default()).await?;
    /// let decrypted = client.decrypt(&keyring, &message).await?;
    /// assert_eq!(decrypted.plaintext, b"hi");
    /// # Ok(()) })
    /// # }
    /// ```
    ///
    /// # Errors
    /// For every malformed, tampered or unauthorised message; no plaintext is returned then.
    pub async fn decrypt(&self, keyring: &dyn Keyring, message: &[u8]) -> crate::Result<Decrypted> {
        self.decrypt_with(keyring, message, &DecryptOptions::default())
            .await
    }

    /// Decrypts with any key source and options: with a reproduced encryption context, the
    /// message's context must hold it (keys that were authenticated but not stored must be
    /// given here too).
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use esdk::{DecryptOptions, EncryptionContext};
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let client = esdk::Client::default();
    /// let context = EncryptionContext::from([("tenant", "acme")]);
    /// # esdk::blocking::block_on(async {
    /// let message = client.encrypt(&keyring, b"hi", &context).await?;
    /// let options = DecryptOptions::new().reproduced_context(context);
    /// assert_eq!(client.decrypt_with(&keyring, &message, &options).await?.plaintext, b"hi");
    /// let other = DecryptOptions::new().reproduced_context(EncryptionContext::from([("tenant", "evil")]));
    /// assert!(client.decrypt_with(&keyring, &message, &other).await.is_err());
    /// # Ok(()) })
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`Error::ContextMismatch`] when a stored value differs, [`Error::HeaderAuthentication`]
    /// when a reproduced pair is neither stored nor authenticated; and as [`Client::decrypt`].
    pub async fn decrypt_with(
        &self,
        source: impl Into<KeySource<'_>>,
        message: &[u8],
        options: &DecryptOptions,
    ) -> crate::Result<Decrypted> {
        // The plaintext is shorter than the message: one allocation, touched only as written.
        let mut plaintext = Presized::new(message.len());
        let info = self
            .decrypt_to(source.into(), message, options, &mut plaintext)
            .await?;
        Ok(Decrypted {
            plaintext: plaintext.into_vec(),
            header: info.header,
            encryption_context: info.encryption_context,
        })
    }

    /// As [`decrypt_with`](Self::decrypt_with), writing the plaintext into `out` (cleared
    /// first) and returning the header and context: a buffer reused across calls costs no
    /// allocation and no page faults once it is large enough. See
    /// [`encrypt_into`](Self::encrypt_into) for both buffers reused in a loop.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let client = esdk::Client::default();
    /// # esdk::blocking::block_on(async {
    /// let message = client.encrypt(&keyring, b"hi", &Default::default()).await?;
    /// let mut plaintext = Vec::new();
    /// let info = client.decrypt_into(&keyring, &message, &Default::default(), &mut plaintext).await?;
    /// assert_eq!((plaintext.as_slice(), info.header.suite().id), (&b"hi"[..], 0x0578));
    /// let truncated = &message[..message.len() - 1];
    /// assert!(client.decrypt_into(&keyring, truncated, &Default::default(), &mut plaintext).await.is_err());
    /// assert!(plaintext.is_empty());
    /// # Ok(()) })
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`Client::decrypt_with`]; `out` is wiped and left empty then.
    pub async fn decrypt_into(
        &self,
        source: impl Into<KeySource<'_>>,
        message: &[u8],
        options: &DecryptOptions,
        out: &mut Vec<u8>,
    ) -> crate::Result<MessageInfo> {
        // The plaintext is shorter than the message.
        let mut sink = Presized::reuse(std::mem::take(out), message.len());
        let res = self
            .decrypt_to(source.into(), message, options, &mut sink)
            .await;
        *out = sink.into_reusable_vec();
        res
    }

    /// One-shot encrypt into a fresh buffer, allocated once at the message's size.
    async fn encrypt_vec(
        &self,
        source: KeySource<'_>,
        plaintext: &[u8],
        encryption_context: &EncryptionContext,
    ) -> crate::Result<Vec<u8>> {
        let mut out = Presized::new(0);
        self.encrypt_to(source, plaintext, encryption_context, &mut out)
            .await?;
        Ok(out.into_vec())
    }

    async fn encrypt_to(
        &self,
        source: KeySource<'_>,
        plaintext: &[u8],
        encryption_context: &EncryptionContext,
        out: &mut Presized,
    ) -> crate::Result<()> {
        let encryptor = Encryptor::prepare(
            self,
            source,
            Some(plaintext.len() as u64),
            encryption_context,
        )
        .await?;
        encryptor.seal_all(plaintext, out)
    }

    /// One-shot decrypt into `out`; on failure whatever was written to `out` is wiped and
    /// dropped.
    async fn decrypt_to<S: Sink + ?Sized>(
        &self,
        source: KeySource<'_>,
        message: &[u8],
        options: &DecryptOptions,
        out: &mut S,
    ) -> crate::Result<MessageInfo> {
        let mut decryptor = Decryptor::for_whole_message(self);
        let used = decryptor.push(message, &mut Vec::new())?;
        if !decryptor.needs_authentication() {
            return Err(crate::FormatError::Truncated("header").into());
        }
        decryptor.authenticate(source, options).await?;
        let start = out.len();
        let done = decryptor
            .push_to(message.get(used..).unwrap_or_default(), out)
            .and_then(|_| decryptor.into_parts());
        match done {
            Ok((header, encryption_context)) => Ok(MessageInfo {
                header,
                encryption_context,
            }),
            Err(e) => {
                // Frames that verified before the failure are never returned: wipe them.
                out.discard_from(start);
                Err(e)
            }
        }
    }
}
