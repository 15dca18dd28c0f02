//! Commitment policy and resource limits.
//!
//! Spec: `framework/commitment-policy.md`, `client-apis/client.md`.

use crate::suite::{self, AlgorithmSuite};

/// Which algorithm suites encrypt may use and decrypt may accept, by key commitment.
///
/// ```
/// use esdk::CommitmentPolicy;
/// assert_eq!(CommitmentPolicy::default(), CommitmentPolicy::RequireEncryptRequireDecrypt);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CommitmentPolicy {
    /// Encrypt with non-committing suites only; decrypt anything. For fleets still on ESDK 1.x.
    ForbidEncryptAllowDecrypt,
    /// Encrypt with committing suites only; decrypt anything. For migrating fleets.
    RequireEncryptAllowDecrypt,
    /// Encrypt and decrypt committing suites only (the default).
    #[default]
    RequireEncryptRequireDecrypt,
}

impl CommitmentPolicy {
    /// Whether encrypt may use `suite` under this policy.
    ///
    /// ```
    /// use esdk::{suite, CommitmentPolicy};
    /// assert!(!CommitmentPolicy::default().allows_encrypt(&suite::AES_256_GCM_IV12_TAG16_HKDF_SHA256));
    /// ```
    pub fn allows_encrypt(self, suite: &AlgorithmSuite) -> bool {
        match self {
            Self::ForbidEncryptAllowDecrypt => !suite.is_committing(),
            Self::RequireEncryptAllowDecrypt | Self::RequireEncryptRequireDecrypt => {
                suite.is_committing()
            }
        }
    }

    /// Whether decrypt may accept `suite` under this policy.
    ///
    /// ```
    /// use esdk::{suite, CommitmentPolicy};
    /// assert!(CommitmentPolicy::RequireEncryptAllowDecrypt.allows_decrypt(&suite::AES_128_GCM_IV12_TAG16_NO_KDF));
    /// ```
    pub fn allows_decrypt(self, suite: &AlgorithmSuite) -> bool {
        match self {
            Self::ForbidEncryptAllowDecrypt | Self::RequireEncryptAllowDecrypt => true,
            Self::RequireEncryptRequireDecrypt => suite.is_committing(),
        }
    }

    /// The suite encrypt uses when none is chosen: 0x0578, or 0x0378 under `ForbidEncryptAllowDecrypt`.
    ///
    /// ```
    /// assert_eq!(esdk::CommitmentPolicy::default().default_suite().id, 0x0578);
    /// ```
    pub fn default_suite(self) -> &'static AlgorithmSuite {
        match self {
            Self::ForbidEncryptAllowDecrypt => {
                &suite::AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384
            }
            _ => &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
        }
    }

    pub(crate) fn check_encrypt(self, suite: &AlgorithmSuite) -> crate::Result<()> {
        if self.allows_encrypt(suite) {
            Ok(())
        } else {
            Err(crate::Error::PolicyRefused {
                policy: self,
                suite: suite.id,
                operation: "encrypt",
            })
        }
    }

    pub(crate) fn check_decrypt(self, suite: &AlgorithmSuite) -> crate::Result<()> {
        if self.allows_decrypt(suite) {
            Ok(())
        } else {
            Err(crate::Error::PolicyRefused {
                policy: self,
                suite: suite.id,
                operation: "decrypt",
            })
        }
    }
}

/// Resource limits applied while reading a header, so a hostile message cannot make the
/// decryptor buffer or allocate what it merely declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Most encrypted data keys a message may hold (`None`: the format's 65535).
    pub(crate) max_encrypted_data_keys: Option<u16>,
    /// Most bytes a header may take (default 1 MiB).
    pub(crate) max_header_length: usize,
    /// Most bytes the serialized encryption context may take (default: the format's 65535).
    pub(crate) max_encryption_context_length: usize,
    /// Streaming decrypt: the longest frame length accepted (a stream buffers a whole frame).
    pub(crate) max_stream_frame_length: u32,
    /// Streaming decrypt: the longest non-framed body accepted (buffered whole).
    pub(crate) max_stream_non_framed_length: u64,
}

/// The default header size limit: 1 MiB, room for thousands of encrypted data keys.
pub const DEFAULT_MAX_HEADER_LENGTH: usize = 1 << 20;

/// The default longest frame length a streaming decryptor accepts: 16 MiB (4096 times the
/// default frame length). A stream buffers a whole frame before it can authenticate it.
pub const DEFAULT_MAX_STREAM_FRAME_LENGTH: u32 = 16 << 20;

/// The default longest non-framed body a streaming decryptor accepts: 16 MiB. A stream buffers
/// a whole non-framed body before it can authenticate it.
pub const DEFAULT_MAX_STREAM_NON_FRAMED_LENGTH: u64 = 16 << 20;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_encrypted_data_keys: None,
            max_header_length: DEFAULT_MAX_HEADER_LENGTH,
            max_encryption_context_length: usize::from(u16::MAX),
            max_stream_frame_length: DEFAULT_MAX_STREAM_FRAME_LENGTH,
            max_stream_non_framed_length: DEFAULT_MAX_STREAM_NON_FRAMED_LENGTH,
        }
    }
}
