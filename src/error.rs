//! Errors returned by every fallible esdk operation.

use std::fmt;

/// A malformed message: what was wrong and in which field.
///
/// Small and `Copy`, so parsers can return it without allocating.
///
/// ```
/// use esdk::FormatError;
/// let e = FormatError::Truncated("header.message_id");
/// assert_eq!(e.to_string(), "input ends inside header.message_id");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatError {
    /// The input ended inside the named field.
    Truncated(&'static str),
    /// The named field holds a value the format does not allow.
    Invalid(&'static str),
    /// The named field declares a size above a configured limit.
    Oversized(&'static str),
    /// Bytes follow the end of the message.
    TrailingBytes,
    /// The input starts the way a base64-encoded message does: it was not decoded.
    Base64Encoded,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated(field) => write!(f, "input ends inside {field}"),
            Self::Invalid(field) => write!(f, "invalid {field}"),
            Self::Oversized(field) => write!(f, "{field} exceeds the configured limit"),
            Self::TrailingBytes => f.write_str("trailing bytes after the end of the message"),
            Self::Base64Encoded => f.write_str("input looks base64-encoded; decode it first"),
        }
    }
}

impl std::error::Error for FormatError {}

/// Every error esdk returns.
///
/// Errors caused by the message (`Malformed`, `*Authentication`, `CommitmentMismatch`, ...),
/// by the caller (`ApiMisuse`, `PolicyRefused`, ...) and by the environment (`Io`, `Keyring`) are
/// kept apart. No variant carries key material.
///
/// ```
/// use esdk::Error;
/// let e = Error::FrameAuthentication { sequence: 7 };
/// assert_eq!(e.to_string(), "frame 7: authentication tag mismatch");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The message is not well formed.
    #[error("malformed message: {0}")]
    Malformed(#[from] FormatError),
    /// The message names an algorithm suite this library does not know.
    #[error("unknown algorithm suite 0x{0:04x}")]
    UnknownSuite(u16),
    /// The commitment policy does not allow this algorithm suite for this operation.
    #[error(
        "commitment policy {policy:?} does not allow algorithm suite 0x{suite:04x} on {operation}"
    )]
    PolicyRefused {
        /// The configured policy.
        policy: crate::CommitmentPolicy,
        /// The suite id that was refused.
        suite: u16,
        /// `"encrypt"` or `"decrypt"`.
        operation: &'static str,
    },
    /// A signed message was given to a decryptor configured for unsigned suites only.
    #[error("algorithm suite 0x{0:04x} is signed, but only unsigned suites are allowed")]
    SignedSuiteRefused(u16),
    /// The message holds more encrypted data keys than the configured limit.
    #[error("the message has more than {limit} encrypted data keys")]
    TooManyEncryptedDataKeys {
        /// The configured maximum.
        limit: u16,
    },
    /// The header authentication tag does not verify.
    #[error("header authentication tag mismatch")]
    HeaderAuthentication,
    /// A frame (or the non-framed body) does not authenticate.
    #[error("frame {sequence}: authentication tag mismatch")]
    FrameAuthentication {
        /// The frame's sequence number (1 for a non-framed body).
        sequence: u32,
    },
    /// The key commitment in the header does not match the data key.
    #[error("key commitment mismatch: the data key does not commit to this message")]
    CommitmentMismatch,
    /// The footer signature does not verify.
    #[error("message signature does not verify")]
    BadSignature,
    /// The message's encryption context does not hold what the caller expected.
    #[error("encryption context mismatch on key {key:?}")]
    ContextMismatch {
        /// The key whose value is missing or different.
        key: String,
    },
    /// The encryption context is not valid for this operation.
    #[error("invalid encryption context: {0}")]
    InvalidContext(&'static str),
    /// No keyring could decrypt any of the message's encrypted data keys.
    #[error("no keyring could decrypt the data key ({} attempt(s): {})", attempts.len(), attempts.join("; "))]
    NoKeyringDecrypted {
        /// One line per attempt: provider id, key, and why it failed (never key bytes).
        attempts: Vec<String>,
    },
    /// A keyring failed for a reason of its own (configuration, network, key service).
    #[error("keyring: {0}")]
    Keyring(String),
    /// A key given to a keyring could not be used.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The caller used the API in a way it does not support.
    #[error("API misuse: {0}")]
    ApiMisuse(&'static str),
    /// An input or output size exceeds what the message format or a configured limit allows.
    #[error("limit exceeded: {0}")]
    LimitExceeded(&'static str),
    /// A stream (encryptor, decryptor, reader or writer) failed earlier, with the message
    /// given; it accepts nothing more and releases nothing more.
    #[error("the stream already failed: {0}")]
    StreamFailed(String),
    /// An I/O error from the underlying reader or writer.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A state this library believes impossible; please report it.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_field() {
        assert_eq!(
            Error::from(FormatError::Truncated("edk.provider_info")).to_string(),
            "malformed message: input ends inside edk.provider_info"
        );
        assert_eq!(
            Error::UnknownSuite(0x1234).to_string(),
            "unknown algorithm suite 0x1234"
        );
        assert_eq!(
            Error::NoKeyringDecrypted {
                attempts: vec!["a: b".into()]
            }
            .to_string(),
            "no keyring could decrypt the data key (1 attempt(s): a: b)"
        );
    }
}
