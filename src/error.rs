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
/// kept apart. No variant carries key material. Errors that wrap another keep it as their
/// [`source`](std::error::Error::source), so a caller can walk the chain: a multi-keyring's
/// failure lists every keyring it tried, each with its own error.
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// use esdk::Error;
/// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
/// let client = esdk::Client::default();
/// let mut message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
/// let at = message.len() - 120; // inside the final frame
/// message[at] ^= 1;
/// match esdk::blocking::decrypt(&client, &keyring, &message) {
///     Err(Error::FrameAuthentication { sequence, .. }) => assert_eq!(sequence, 1),
///     other => panic!("{other:?}"),
/// }
/// # Ok(()) }
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
    #[non_exhaustive]
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
    #[non_exhaustive]
    TooManyEncryptedDataKeys {
        /// The configured maximum.
        limit: u16,
    },
    /// The header authentication tag does not verify.
    #[error("header authentication tag mismatch")]
    HeaderAuthentication,
    /// A frame (or the non-framed body) does not authenticate.
    #[error("frame {sequence}: authentication tag mismatch")]
    #[non_exhaustive]
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
    #[non_exhaustive]
    ContextMismatch {
        /// The key whose value is missing or different.
        key: String,
    },
    /// The encryption context is not valid for this operation.
    #[error("invalid encryption context: {0}")]
    InvalidContext(&'static str),
    /// No keyring could decrypt any of the message's encrypted data keys. Each attempt (and
    /// its cause) is in `attempts`, which is also this error's source.
    #[error("no keyring could decrypt a data key of this message ({} attempt(s))", attempts.len())]
    #[non_exhaustive]
    NoKeyringDecrypted {
        /// What each keyring tried, and why it failed.
        #[source]
        attempts: Attempts,
    },
    /// A keyring (or the key service behind it) failed. Displays as the [`KeyringError`];
    /// its source is the keyring error's own cause.
    #[error(transparent)]
    Keyring(KeyringError),
    /// A keyring or materials manager returned materials that break its contract (a data key
    /// of the wrong length, another algorithm suite, a missing signing key, ...).
    #[error("invalid materials: {0}")]
    InvalidMaterials(&'static str),
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
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A state this library believes impossible; please report it.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl Error {
    /// Whether trying the same call again may succeed: a key service that was unreachable
    /// or throttled. Errors of the message or of the caller are never retryable.
    ///
    /// ```
    /// use esdk::Error;
    /// use esdk::error::{KeyringError, KeyringErrorKind};
    /// assert!(Error::Keyring(KeyringError::new(KeyringErrorKind::Throttled, "slow down")).is_retryable());
    /// assert!(!Error::HeaderAuthentication.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Keyring(e) => e.is_retryable(),
            Self::NoKeyringDecrypted { attempts } => {
                attempts.iter().any(|a| a.error.is_retryable())
            }
            _ => false,
        }
    }
}

/// What went wrong in a keyring, as a caller may act on it.
///
/// ```
/// use esdk::error::KeyringErrorKind;
/// assert!(KeyringErrorKind::Unreachable.is_retryable());
/// assert!(!KeyringErrorKind::AccessDenied.is_retryable());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyringErrorKind {
    /// None of the message's encrypted data keys belongs to this keyring.
    NoMatchingKey,
    /// An encrypted data key of this keyring did not unwrap (another key, tampered, another
    /// encryption context).
    UnwrapFailed,
    /// The key service refused access to the key.
    AccessDenied,
    /// The key does not exist, is disabled, or is pending deletion.
    KeyUnavailable,
    /// The key service could not be reached, or did not answer in time.
    Unreachable,
    /// The key service throttled the request.
    Throttled,
    /// The key service answered something the protocol does not allow.
    InvalidResponse,
    /// The keyring cannot serve this request as configured (no private key, no generator,
    /// a key outside its discovery filter, ...).
    Configuration,
    /// Anything else.
    Other,
}

impl KeyringErrorKind {
    /// Whether an error of this kind is usually worth retrying.
    ///
    /// ```
    /// use esdk::error::KeyringErrorKind;
    /// assert!(KeyringErrorKind::Throttled.is_retryable());
    /// assert!(!KeyringErrorKind::UnwrapFailed.is_retryable());
    /// ```
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Unreachable | Self::Throttled)
    }
}

impl fmt::Display for KeyringErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoMatchingKey => "no encrypted data key for this keyring",
            Self::UnwrapFailed => "could not unwrap the data key",
            Self::AccessDenied => "access denied",
            Self::KeyUnavailable => "key unavailable",
            Self::Unreachable => "key service unreachable",
            Self::Throttled => "throttled",
            Self::InvalidResponse => "invalid response from the key service",
            Self::Configuration => "keyring configuration",
            Self::Other => "keyring error",
        })
    }
}

/// An error from a keyring: its [`kind`](Self::kind), a message, whether it is retryable, and
/// the underlying cause as an opaque [`source`](std::error::Error::source) (a key service
/// client's error, for example), so esdk's API names no dependency's error types.
///
/// ```
/// use esdk::error::{KeyringError, KeyringErrorKind};
/// let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out");
/// let e = KeyringError::new(KeyringErrorKind::Unreachable, "KMS Decrypt").with_source(io);
/// assert_eq!(e.kind(), KeyringErrorKind::Unreachable);
/// assert!(e.is_retryable());
/// assert_eq!(e.to_string(), "key service unreachable: KMS Decrypt");
/// assert_eq!(std::error::Error::source(&e).unwrap().to_string(), "connect timed out");
/// ```
#[derive(Debug)]
pub struct KeyringError {
    kind: KeyringErrorKind,
    message: std::borrow::Cow<'static, str>,
    retryable: bool,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl KeyringError {
    /// An error of `kind`; retryable as the kind usually is.
    ///
    /// ```
    /// use esdk::error::{KeyringError, KeyringErrorKind};
    /// let e = KeyringError::new(KeyringErrorKind::Throttled, "KMS GenerateDataKey");
    /// assert_eq!(e.to_string(), "throttled: KMS GenerateDataKey");
    /// assert!(e.is_retryable()); // as throttling usually is
    /// ```
    pub fn new(kind: KeyringErrorKind, message: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Self {
            kind,
            message: message.into(),
            retryable: kind.is_retryable(),
            source: None,
        }
    }

    /// Keeps `source` as the cause.
    ///
    /// ```
    /// use esdk::error::{KeyringError, KeyringErrorKind};
    /// let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
    /// let e = KeyringError::new(KeyringErrorKind::Unreachable, "KMS Decrypt").with_source(io);
    /// let source = std::error::Error::source(&e).map(ToString::to_string);
    /// assert_eq!(source.as_deref(), Some("connection refused"));
    /// ```
    #[must_use]
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Overrides whether the error is retryable.
    ///
    /// ```
    /// use esdk::error::{KeyringError, KeyringErrorKind};
    /// let e = KeyringError::new(KeyringErrorKind::Unreachable, "no such endpoint").with_retryable(false);
    /// assert!(!e.is_retryable());
    /// assert!(!esdk::Error::Keyring(e).is_retryable());
    /// ```
    #[must_use]
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// What went wrong.
    ///
    /// ```
    /// use esdk::error::{KeyringError, KeyringErrorKind};
    /// let e = KeyringError::new(KeyringErrorKind::AccessDenied, "no kms:Decrypt permission");
    /// assert_eq!(e.kind(), KeyringErrorKind::AccessDenied);
    /// ```
    pub fn kind(&self) -> KeyringErrorKind {
        self.kind
    }

    /// The message (without the kind).
    ///
    /// ```
    /// use esdk::error::{KeyringError, KeyringErrorKind};
    /// let e = KeyringError::new(KeyringErrorKind::AccessDenied, "no kms:Decrypt permission");
    /// assert_eq!(e.message(), "no kms:Decrypt permission");
    /// assert_eq!(e.to_string(), "access denied: no kms:Decrypt permission");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether trying again may succeed.
    ///
    /// ```
    /// use esdk::error::{KeyringError, KeyringErrorKind};
    /// assert!(KeyringError::new(KeyringErrorKind::Unreachable, "timed out").is_retryable());
    /// assert!(!KeyringError::new(KeyringErrorKind::Other, "busy").is_retryable());
    /// assert!(KeyringError::new(KeyringErrorKind::Other, "busy").with_retryable(true).is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

impl fmt::Display for KeyringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for KeyringError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// One keyring's attempt to decrypt a message's data key, in
/// [`Error::NoKeyringDecrypted`].
#[derive(Debug)]
#[non_exhaustive]
pub struct KeyringAttempt {
    /// The key provider id (a raw keyring's namespace, `aws-kms`, ...).
    pub provider_id: String,
    /// The key name (a raw keyring's name, a KMS key ARN, ...).
    pub key_name: String,
    /// Why it failed.
    pub error: Error,
}

impl KeyringAttempt {
    /// An attempt by the key `provider_id`/`key_name` that failed with `error`.
    ///
    /// ```
    /// use esdk::Error;
    /// use esdk::error::{KeyringAttempt, KeyringError, KeyringErrorKind};
    /// let a = KeyringAttempt::new("ns", "key", Error::Keyring(KeyringError::new(KeyringErrorKind::UnwrapFailed, "tag mismatch")));
    /// assert_eq!(a.to_string(), "ns/key: could not unwrap the data key: tag mismatch");
    /// ```
    pub fn new(provider_id: impl Into<String>, key_name: impl Into<String>, error: Error) -> Self {
        Self {
            provider_id: provider_id.into(),
            key_name: key_name.into(),
            error,
        }
    }

    /// A keyring error of `kind` from the key `provider_id`/`key_name`.
    pub(crate) fn keyring(
        provider_id: &str,
        key_name: &str,
        kind: KeyringErrorKind,
        message: &'static str,
    ) -> Self {
        Self::new(
            provider_id,
            key_name,
            Error::Keyring(KeyringError::new(kind, message)),
        )
    }
}

impl fmt::Display for KeyringAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}: {}", self.provider_id, self.key_name, self.error)
    }
}

/// The attempts of [`Error::NoKeyringDecrypted`]: a list that derefs to a slice, displayed one
/// attempt after another.
#[derive(Debug, Default)]
pub struct Attempts(Vec<KeyringAttempt>);

impl Attempts {
    /// The list.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let other = esdk::RawAesKeyring::new("ns", "other", &[2u8; 32])?;
    /// match esdk::blocking::decrypt(&client, &other, &message) {
    ///     Err(esdk::Error::NoKeyringDecrypted { attempts, .. }) => {
    ///         let attempts = attempts.into_vec();
    ///         assert_eq!((attempts.len(), attempts[0].key_name.as_str()), (1, "other"));
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn into_vec(self) -> Vec<KeyringAttempt> {
        self.0
    }
}

impl From<Vec<KeyringAttempt>> for Attempts {
    fn from(v: Vec<KeyringAttempt>) -> Self {
        Self(v)
    }
}

impl std::ops::Deref for Attempts {
    type Target = [KeyringAttempt];
    fn deref(&self) -> &[KeyringAttempt] {
        &self.0
    }
}

impl fmt::Display for Attempts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Attempts {}

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
        let e = Error::NoKeyringDecrypted {
            attempts: vec![KeyringAttempt::keyring(
                "ns",
                "k",
                KeyringErrorKind::UnwrapFailed,
                "tag mismatch",
            )]
            .into(),
        };
        assert_eq!(
            e.to_string(),
            "no keyring could decrypt a data key of this message (1 attempt(s))"
        );
        // The chain: the attempts, then nothing (each attempt keeps its own error).
        let source = std::error::Error::source(&e).unwrap();
        assert_eq!(
            source.to_string(),
            "ns/k: could not unwrap the data key: tag mismatch"
        );
        assert!(!e.is_retryable());
    }
}
