//! ECDSA footer signatures (P-256/SHA-256, P-384/SHA-384) over a streamed message hash.
//!
//! Spec: `data-format/message-footer.md`, `framework/algorithm-suites.md#signature-algorithm`.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ecdsa::signature::{DigestSigner, DigestVerifier};
use rand_core::OsRng;
use sha2::{Digest, Sha256, Sha384};

use crate::suite::SignatureAlgorithm;

/// The running hash of everything a signature covers (header and body).
#[derive(Clone)]
pub(crate) enum MessageHasher {
    Sha256(Sha256),
    Sha384(Sha384),
}

impl fmt::Debug for MessageHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageHasher").finish_non_exhaustive()
    }
}

impl MessageHasher {
    pub(crate) fn new(alg: SignatureAlgorithm) -> Self {
        match alg {
            SignatureAlgorithm::EcdsaP256Sha256 => Self::Sha256(Sha256::new()),
            SignatureAlgorithm::EcdsaP384Sha384 => Self::Sha384(Sha384::new()),
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(bytes),
            Self::Sha384(h) => h.update(bytes),
        }
    }
}

/// A private ECDSA signing key, generated per message by the default materials manager.
///
/// Its `Debug` shows the curve only.
///
/// ```
/// let key = esdk::SigningKey::generate(esdk::suite::SignatureAlgorithm::EcdsaP384Sha384).unwrap();
/// assert!(!format!("{key:?}").contains(&key.public_key_base64()));
/// ```
#[derive(Clone)]
pub struct SigningKey(SigningInner);

#[derive(Clone)]
enum SigningInner {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh key for `alg` from the operating system's CSPRNG.
    ///
    /// # Errors
    /// Never in practice; the `Result` leaves room for a fallible backend.
    pub fn generate(alg: SignatureAlgorithm) -> crate::Result<Self> {
        Ok(Self(match alg {
            SignatureAlgorithm::EcdsaP256Sha256 => {
                SigningInner::P256(p256::ecdsa::SigningKey::random(&mut OsRng))
            }
            SignatureAlgorithm::EcdsaP384Sha384 => {
                SigningInner::P384(p384::ecdsa::SigningKey::random(&mut OsRng))
            }
        }))
    }

    /// The signature algorithm this key belongs to.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        match self.0 {
            SigningInner::P256(_) => SignatureAlgorithm::EcdsaP256Sha256,
            SigningInner::P384(_) => SignatureAlgorithm::EcdsaP384Sha384,
        }
    }

    /// The public key as stored in the encryption context: base64 of the compressed SEC1 point.
    pub fn public_key_base64(&self) -> String {
        let point = match &self.0 {
            SigningInner::P256(k) => k.verifying_key().to_encoded_point(true).as_bytes().to_vec(),
            SigningInner::P384(k) => k.verifying_key().to_encoded_point(true).as_bytes().to_vec(),
        };
        BASE64.encode(point)
    }

    /// Signs the hash and returns the DER signature.
    pub(crate) fn sign(&self, hasher: MessageHasher) -> crate::Result<Vec<u8>> {
        let err = |_| crate::Error::Internal("ECDSA signing failed");
        match (&self.0, hasher) {
            (SigningInner::P256(k), MessageHasher::Sha256(h)) => {
                let sig: p256::ecdsa::Signature = k.try_sign_digest(h).map_err(err)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            (SigningInner::P384(k), MessageHasher::Sha384(h)) => {
                let sig: p384::ecdsa::Signature = k.try_sign_digest(h).map_err(err)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            _ => Err(crate::Error::Internal("signing key and hash do not match")),
        }
    }
}

/// A public ECDSA verification key, read from a message's encryption context.
///
/// ```
/// use esdk::{suite::SignatureAlgorithm, SigningKey, VerificationKey};
/// let key = SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256).unwrap();
/// let public = VerificationKey::from_base64(SignatureAlgorithm::EcdsaP256Sha256, &key.public_key_base64());
/// assert!(public.is_ok());
/// ```
#[derive(Clone)]
pub struct VerificationKey(VerifyingInner);

#[derive(Clone)]
enum VerifyingInner {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alg = match self.0 {
            VerifyingInner::P256(_) => SignatureAlgorithm::EcdsaP256Sha256,
            VerifyingInner::P384(_) => SignatureAlgorithm::EcdsaP384Sha384,
        };
        f.debug_struct("VerificationKey")
            .field("algorithm", &alg)
            .finish_non_exhaustive()
    }
}

impl VerificationKey {
    /// Parses the base64 SEC1 point (compressed or not) stored under `aws-crypto-public-key`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidContext`] when the value is not base64 or not a point on the curve.
    pub fn from_base64(alg: SignatureAlgorithm, value: &str) -> crate::Result<Self> {
        let bad = crate::Error::InvalidContext(
            "aws-crypto-public-key is not a valid public key for the suite",
        );
        let bytes = BASE64.decode(value).map_err(|_| bad)?;
        let bad = || {
            crate::Error::InvalidContext(
                "aws-crypto-public-key is not a valid public key for the suite",
            )
        };
        Ok(Self(match alg {
            SignatureAlgorithm::EcdsaP256Sha256 => VerifyingInner::P256(
                p256::ecdsa::VerifyingKey::from_sec1_bytes(&bytes).map_err(|_| bad())?,
            ),
            SignatureAlgorithm::EcdsaP384Sha384 => VerifyingInner::P384(
                p384::ecdsa::VerifyingKey::from_sec1_bytes(&bytes).map_err(|_| bad())?,
            ),
        }))
    }

    /// Verifies a DER signature over the hash. Any valid DER length is accepted.
    pub(crate) fn verify(&self, hasher: MessageHasher, der: &[u8]) -> crate::Result<()> {
        let ok = match (&self.0, hasher) {
            (VerifyingInner::P256(k), MessageHasher::Sha256(h)) => {
                p256::ecdsa::Signature::from_der(der)
                    .map(|sig| k.verify_digest(h, &sig).is_ok())
                    .unwrap_or(false)
            }
            (VerifyingInner::P384(k), MessageHasher::Sha384(h)) => {
                p384::ecdsa::Signature::from_der(der)
                    .map(|sig| k.verify_digest(h, &sig).is_ok())
                    .unwrap_or(false)
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(crate::Error::BadSignature)
        }
    }
}
