//! The 11 algorithm suites of the AWS Encryption SDK, as one table of data.
//!
//! Spec: `framework/algorithm-suites.md`.

use std::fmt;

/// The key derivation a suite uses to turn the data key into the content key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kdf {
    /// The data key is the content key (legacy suites 0x0014, 0x0046, 0x0078).
    Identity,
    /// HKDF-SHA256, salt empty, info = suite id ‖ message id.
    HkdfSha256,
    /// HKDF-SHA384, salt empty, info = suite id ‖ message id.
    HkdfSha384,
    /// HKDF-SHA512 with the message id as salt and a key commitment (message format 2).
    CommittingHkdfSha512,
}

/// The signature algorithm of a signed suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// ECDSA over P-256 with SHA-256.
    EcdsaP256Sha256,
    /// ECDSA over P-384 with SHA-384.
    EcdsaP384Sha384,
}

/// The message format version a suite writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum MessageFormatVersion {
    /// Version 1.0 (header byte `01`): 16-byte message id, header IV.
    V1,
    /// Version 2.0 (header byte `02`): 32-byte message id, key commitment.
    V2,
}

/// One algorithm suite: AES-GCM key length, key derivation, commitment and signature.
///
/// Suites are `'static` values; compare them by [`AlgorithmSuite::id`].
///
/// ```
/// let suite = esdk::suite::AlgorithmSuite::from_id(0x0578).unwrap();
/// assert_eq!(suite, &esdk::suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384);
/// assert!(suite.is_committing() && suite.is_signing());
/// ```
#[derive(PartialEq, Eq)]
#[non_exhaustive]
pub struct AlgorithmSuite {
    /// The wire id, e.g. `0x0578`.
    pub id: u16,
    /// The spec's name of the suite.
    pub name: &'static str,
    /// Message format version this suite writes.
    pub message_format: MessageFormatVersion,
    /// AES-GCM key length in bytes (16, 24 or 32); also the data key length.
    pub key_len: usize,
    /// Key derivation.
    pub kdf: Kdf,
    /// Signature algorithm, if the suite is signed.
    pub signature: Option<SignatureAlgorithm>,
}

/// AES-GCM IV length, the same for every suite.
pub const IV_LEN: usize = 12;
/// AES-GCM tag length, the same for every suite.
pub const TAG_LEN: usize = 16;
/// Length of the key commitment stored in a v2 header.
pub const COMMITMENT_LEN: usize = 32;

impl AlgorithmSuite {
    /// Looks a suite up by its wire id.
    ///
    /// # Errors
    /// [`crate::Error::UnknownSuite`] for an id that is not one of the 11 suites.
    ///
    /// ```
    /// assert!(esdk::suite::AlgorithmSuite::from_id(0x0014).is_ok());
    /// assert!(esdk::suite::AlgorithmSuite::from_id(0x0015).is_err());
    /// ```
    pub fn from_id(id: u16) -> crate::Result<&'static AlgorithmSuite> {
        ALL.iter()
            .copied()
            .find(|s| s.id == id)
            .ok_or(crate::Error::UnknownSuite(id))
    }

    /// Whether the suite commits to its data key (message format 2).
    ///
    /// ```
    /// use esdk::suite;
    /// assert!(suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY.is_committing());
    /// assert!(!suite::AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384.is_committing());
    /// ```
    pub fn is_committing(&self) -> bool {
        self.kdf == Kdf::CommittingHkdfSha512
    }

    /// Whether messages of this suite carry an ECDSA footer signature.
    ///
    /// ```
    /// use esdk::suite;
    /// assert!(suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384.is_signing());
    /// assert!(!suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY.is_signing());
    /// ```
    pub fn is_signing(&self) -> bool {
        self.signature.is_some()
    }

    /// Length of the message id for this suite's message format.
    ///
    /// ```
    /// use esdk::suite;
    /// assert_eq!(suite::AES_256_GCM_IV12_TAG16_HKDF_SHA256.message_id_len(), 16);
    /// assert_eq!(suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY.message_id_len(), 32);
    /// ```
    pub fn message_id_len(&self) -> usize {
        match self.message_format {
            MessageFormatVersion::V1 => 16,
            MessageFormatVersion::V2 => 32,
        }
    }
}

impl fmt::Debug for AlgorithmSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:04x})", self.name, self.id)
    }
}

macro_rules! suites {
    ($($(#[$doc:meta])* $name:ident = $id:literal, $fmt:ident, $key:literal, $kdf:ident, $sig:expr;)*) => {
        $(
            $(#[$doc])*
            pub static $name: AlgorithmSuite = AlgorithmSuite {
                id: $id,
                name: stringify!($name),
                message_format: MessageFormatVersion::$fmt,
                key_len: $key,
                kdf: Kdf::$kdf,
                signature: $sig,
            };
        )*
        /// All 11 suites, in id order.
        pub static ALL: &[&AlgorithmSuite] = &[$(&$name),*];
    };
}

suites! {
    /// 0x0014: AES-128-GCM, no key derivation (legacy).
    AES_128_GCM_IV12_TAG16_NO_KDF = 0x0014, V1, 16, Identity, None;
    /// 0x0046: AES-192-GCM, no key derivation (legacy).
    AES_192_GCM_IV12_TAG16_NO_KDF = 0x0046, V1, 24, Identity, None;
    /// 0x0078: AES-256-GCM, no key derivation (legacy).
    AES_256_GCM_IV12_TAG16_NO_KDF = 0x0078, V1, 32, Identity, None;
    /// 0x0114: AES-128-GCM, HKDF-SHA256.
    AES_128_GCM_IV12_TAG16_HKDF_SHA256 = 0x0114, V1, 16, HkdfSha256, None;
    /// 0x0146: AES-192-GCM, HKDF-SHA256.
    AES_192_GCM_IV12_TAG16_HKDF_SHA256 = 0x0146, V1, 24, HkdfSha256, None;
    /// 0x0178: AES-256-GCM, HKDF-SHA256.
    AES_256_GCM_IV12_TAG16_HKDF_SHA256 = 0x0178, V1, 32, HkdfSha256, None;
    /// 0x0214: AES-128-GCM, HKDF-SHA256, ECDSA P-256.
    AES_128_GCM_IV12_TAG16_HKDF_SHA256_ECDSA_P256 = 0x0214, V1, 16, HkdfSha256, Some(SignatureAlgorithm::EcdsaP256Sha256);
    /// 0x0346: AES-192-GCM, HKDF-SHA384, ECDSA P-384.
    AES_192_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384 = 0x0346, V1, 24, HkdfSha384, Some(SignatureAlgorithm::EcdsaP384Sha384);
    /// 0x0378: AES-256-GCM, HKDF-SHA384, ECDSA P-384 (default under `ForbidEncryptAllowDecrypt`).
    AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384 = 0x0378, V1, 32, HkdfSha384, Some(SignatureAlgorithm::EcdsaP384Sha384);
    /// 0x0478: AES-256-GCM, HKDF-SHA512 with key commitment.
    AES_256_GCM_HKDF_SHA512_COMMIT_KEY = 0x0478, V2, 32, CommittingHkdfSha512, None;
    /// 0x0578: AES-256-GCM, HKDF-SHA512 with key commitment, ECDSA P-384 (the default).
    AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384 = 0x0578, V2, 32, CommittingHkdfSha512, Some(SignatureAlgorithm::EcdsaP384Sha384);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        assert_eq!(ALL.len(), 11);
        for s in ALL {
            assert_eq!(AlgorithmSuite::from_id(s.id).map(|x| x.id).ok(), Some(s.id));
            assert_eq!(
                s.is_committing(),
                s.message_format == MessageFormatVersion::V2
            );
            let expected = match s.id & 0xff {
                0x14 => 16,
                0x46 => 24,
                0x78 => 32,
                _ => 0,
            };
            assert_eq!(s.key_len, expected, "{s:?}");
        }
    }
}
