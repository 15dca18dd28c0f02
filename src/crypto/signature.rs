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
    #[cfg(feature = "aws-lc-rs")]
    AwsLc(aws_lc_rs::digest::Context),
}

#[cfg(feature = "aws-lc-rs")]
fn aws_lc_digest(alg: SignatureAlgorithm) -> &'static aws_lc_rs::digest::Algorithm {
    match alg {
        SignatureAlgorithm::EcdsaP256Sha256 => &aws_lc_rs::digest::SHA256,
        SignatureAlgorithm::EcdsaP384Sha384 => &aws_lc_rs::digest::SHA384,
    }
}

impl fmt::Debug for MessageHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageHasher").finish_non_exhaustive()
    }
}

impl MessageHasher {
    pub(crate) fn new(alg: SignatureAlgorithm) -> Self {
        #[cfg(feature = "aws-lc-rs")]
        return Self::AwsLc(aws_lc_rs::digest::Context::new(aws_lc_digest(alg)));
        #[cfg(not(feature = "aws-lc-rs"))]
        return Self::new_rust_crypto(alg);
    }

    pub(crate) fn new_rust_crypto(alg: SignatureAlgorithm) -> Self {
        match alg {
            SignatureAlgorithm::EcdsaP256Sha256 => Self::Sha256(Sha256::new()),
            SignatureAlgorithm::EcdsaP384Sha384 => Self::Sha384(Sha384::new()),
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(bytes),
            Self::Sha384(h) => h.update(bytes),
            #[cfg(feature = "aws-lc-rs")]
            Self::AwsLc(h) => h.update(bytes),
        }
    }
}

/// A private ECDSA signing key, generated per message by the default materials manager.
///
/// Its `Debug` shows the curve only.
///
/// ```
/// let key = esdk::materials::SigningKey::generate(esdk::suite::SignatureAlgorithm::EcdsaP384Sha384).unwrap();
/// assert!(!format!("{key:?}").contains(&key.public_key_base64()));
/// ```
#[derive(Clone)]
pub struct SigningKey(SigningInner);

// The RustCrypto keys are boxed: inline they made every materials, header and encryptor value
// ~150 bytes larger, copied at each move on the per-message path.
#[derive(Clone)]
enum SigningInner {
    P256(Box<p256::ecdsa::SigningKey>),
    P384(Box<p384::ecdsa::SigningKey>),
    #[cfg(feature = "aws-lc-rs")]
    AwsLc(
        std::sync::Arc<aws_lc_rs::signature::EcdsaKeyPair>,
        SignatureAlgorithm,
    ),
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
    /// ```
    /// use esdk::{materials::SigningKey, suite::SignatureAlgorithm};
    /// let key = SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256)?;
    /// let other = SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256)?;
    /// assert_ne!(key.public_key_base64(), other.public_key_base64()); // a fresh key each time
    /// # Ok::<(), esdk::Error>(())
    /// ```
    ///
    /// # Errors
    /// Never in practice; the `Result` leaves room for a fallible backend.
    pub fn generate(alg: SignatureAlgorithm) -> crate::Result<Self> {
        #[cfg(feature = "aws-lc-rs")]
        return Self::generate_aws_lc(alg);
        #[cfg(not(feature = "aws-lc-rs"))]
        return Self::generate_rust_crypto(alg);
    }

    #[cfg(feature = "aws-lc-rs")]
    fn generate_aws_lc(alg: SignatureAlgorithm) -> crate::Result<Self> {
        use aws_lc_rs::signature::{
            EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING,
        };
        let signing = match alg {
            SignatureAlgorithm::EcdsaP256Sha256 => &ECDSA_P256_SHA256_ASN1_SIGNING,
            SignatureAlgorithm::EcdsaP384Sha384 => &ECDSA_P384_SHA384_ASN1_SIGNING,
        };
        let pair = EcdsaKeyPair::generate(signing)
            .map_err(|_| crate::Error::Internal("ECDSA key generation failed"))?;
        Ok(Self(SigningInner::AwsLc(std::sync::Arc::new(pair), alg)))
    }

    pub(crate) fn generate_rust_crypto(alg: SignatureAlgorithm) -> crate::Result<Self> {
        Ok(Self(match alg {
            SignatureAlgorithm::EcdsaP256Sha256 => {
                SigningInner::P256(Box::new(p256::ecdsa::SigningKey::random(&mut OsRng)))
            }
            SignatureAlgorithm::EcdsaP384Sha384 => {
                SigningInner::P384(Box::new(p384::ecdsa::SigningKey::random(&mut OsRng)))
            }
        }))
    }

    /// The signature algorithm this key belongs to.
    ///
    /// ```
    /// use esdk::{materials::SigningKey, suite::SignatureAlgorithm};
    /// let key = SigningKey::generate(SignatureAlgorithm::EcdsaP384Sha384)?;
    /// assert_eq!(key.algorithm(), SignatureAlgorithm::EcdsaP384Sha384);
    /// # Ok::<(), esdk::Error>(())
    /// ```
    pub fn algorithm(&self) -> SignatureAlgorithm {
        match self.0 {
            SigningInner::P256(_) => SignatureAlgorithm::EcdsaP256Sha256,
            SigningInner::P384(_) => SignatureAlgorithm::EcdsaP384Sha384,
            #[cfg(feature = "aws-lc-rs")]
            SigningInner::AwsLc(_, alg) => alg,
        }
    }

    /// The public key as stored in the encryption context: base64 of the compressed SEC1 point.
    ///
    /// ```
    /// use esdk::{materials::{SigningKey, VerificationKey}, suite::SignatureAlgorithm};
    /// let key = SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256)?;
    /// let public = key.public_key_base64();
    /// assert_eq!(public.len(), 44); // base64 of a 33-byte compressed P-256 point
    /// assert!(VerificationKey::from_base64(SignatureAlgorithm::EcdsaP256Sha256, &public).is_ok());
    /// # Ok::<(), esdk::Error>(())
    /// ```
    pub fn public_key_base64(&self) -> String {
        let point = match &self.0 {
            SigningInner::P256(k) => k.verifying_key().to_encoded_point(true).as_bytes().to_vec(),
            SigningInner::P384(k) => k.verifying_key().to_encoded_point(true).as_bytes().to_vec(),
            #[cfg(feature = "aws-lc-rs")]
            SigningInner::AwsLc(k, _) => {
                use aws_lc_rs::encoding::{AsBigEndian, EcPublicKeyCompressedBin};
                use aws_lc_rs::signature::KeyPair;
                let point: Result<EcPublicKeyCompressedBin<'static>, _> =
                    k.public_key().as_be_bytes();
                point.map(|p| p.as_ref().to_vec()).unwrap_or_default()
            }
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
            #[cfg(feature = "aws-lc-rs")]
            (SigningInner::AwsLc(k, _), MessageHasher::AwsLc(h)) => {
                let sig = k
                    .sign_digest(&h.finish())
                    .map_err(|_| crate::Error::Internal("ECDSA signing failed"))?;
                Ok(sig.as_ref().to_vec())
            }
            _ => Err(crate::Error::Internal("signing key and hash do not match")),
        }
    }
}

fn bad_public_key() -> crate::Error {
    crate::Error::InvalidContext("aws-crypto-public-key is not a valid public key for the suite")
}

/// A public ECDSA verification key, read from a message's encryption context.
///
/// ```
/// use esdk::{suite::SignatureAlgorithm};
/// use esdk::materials::{SigningKey, VerificationKey};
/// let key = SigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256).unwrap();
/// let public = VerificationKey::from_base64(SignatureAlgorithm::EcdsaP256Sha256, &key.public_key_base64());
/// assert!(public.is_ok());
/// ```
#[derive(Clone)]
pub struct VerificationKey(VerifyingInner);

#[derive(Clone)]
enum VerifyingInner {
    P256(Box<p256::ecdsa::VerifyingKey>),
    P384(Box<p384::ecdsa::VerifyingKey>),
    #[cfg(feature = "aws-lc-rs")]
    AwsLc(
        std::sync::Arc<aws_lc_rs::signature::ParsedPublicKey>,
        SignatureAlgorithm,
    ),
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alg = match self.0 {
            VerifyingInner::P256(_) => SignatureAlgorithm::EcdsaP256Sha256,
            VerifyingInner::P384(_) => SignatureAlgorithm::EcdsaP384Sha384,
            #[cfg(feature = "aws-lc-rs")]
            VerifyingInner::AwsLc(_, alg) => alg,
        };
        f.debug_struct("VerificationKey")
            .field("algorithm", &alg)
            .finish_non_exhaustive()
    }
}

impl VerificationKey {
    /// Parses the base64 SEC1 point (compressed or not) stored under `aws-crypto-public-key`.
    ///
    /// ```
    /// use esdk::{materials::{SigningKey, VerificationKey}, suite::SignatureAlgorithm, Error};
    /// let public = SigningKey::generate(SignatureAlgorithm::EcdsaP384Sha384)?.public_key_base64();
    /// assert!(VerificationKey::from_base64(SignatureAlgorithm::EcdsaP384Sha384, &public).is_ok());
    /// // A P-384 point is not a P-256 key, and text that is not base64 is no key at all.
    /// assert!(matches!(VerificationKey::from_base64(SignatureAlgorithm::EcdsaP256Sha256, &public), Err(Error::InvalidContext(_))));
    /// assert!(matches!(VerificationKey::from_base64(SignatureAlgorithm::EcdsaP384Sha384, "not base64!"), Err(Error::InvalidContext(_))));
    /// # Ok::<(), esdk::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`crate::Error::InvalidContext`] when the value is not base64 or not a point on the curve.
    pub fn from_base64(alg: SignatureAlgorithm, value: &str) -> crate::Result<Self> {
        #[cfg(feature = "aws-lc-rs")]
        return Self::from_base64_aws_lc(alg, value);
        #[cfg(not(feature = "aws-lc-rs"))]
        return Self::from_base64_rust_crypto(alg, value);
    }

    #[cfg(feature = "aws-lc-rs")]
    fn from_base64_aws_lc(alg: SignatureAlgorithm, value: &str) -> crate::Result<Self> {
        use aws_lc_rs::signature::{
            UnparsedPublicKey, ECDSA_P256_SHA256_ASN1, ECDSA_P384_SHA384_ASN1,
        };
        let bytes = BASE64.decode(value).map_err(|_| bad_public_key())?;
        let verification = match alg {
            SignatureAlgorithm::EcdsaP256Sha256 => &ECDSA_P256_SHA256_ASN1,
            SignatureAlgorithm::EcdsaP384Sha384 => &ECDSA_P384_SHA384_ASN1,
        };
        let parsed = UnparsedPublicKey::new(verification, bytes)
            .parse()
            .map_err(|_| bad_public_key())?;
        Ok(Self(VerifyingInner::AwsLc(
            std::sync::Arc::new(parsed),
            alg,
        )))
    }

    pub(crate) fn from_base64_rust_crypto(
        alg: SignatureAlgorithm,
        value: &str,
    ) -> crate::Result<Self> {
        let bad = bad_public_key;
        let bytes = BASE64.decode(value).map_err(|_| bad())?;
        Ok(Self(match alg {
            SignatureAlgorithm::EcdsaP256Sha256 => VerifyingInner::P256(Box::new(
                p256::ecdsa::VerifyingKey::from_sec1_bytes(&bytes).map_err(|_| bad())?,
            )),
            SignatureAlgorithm::EcdsaP384Sha384 => VerifyingInner::P384(Box::new(
                p384::ecdsa::VerifyingKey::from_sec1_bytes(&bytes).map_err(|_| bad())?,
            )),
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
            #[cfg(feature = "aws-lc-rs")]
            (VerifyingInner::AwsLc(k, _), MessageHasher::AwsLc(h)) => {
                k.verify_digest_sig(&h.finish(), der).is_ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(feature = "aws-lc-rs"), allow(unused_mut))] // one backend only
    fn keys(alg: SignatureAlgorithm) -> Vec<SigningKey> {
        let mut v = vec![SigningKey::generate_rust_crypto(alg).unwrap()];
        #[cfg(feature = "aws-lc-rs")]
        v.push(SigningKey::generate_aws_lc(alg).unwrap());
        v
    }

    #[cfg_attr(not(feature = "aws-lc-rs"), allow(unused_mut))] // one backend only
    fn verifiers(alg: SignatureAlgorithm, public: &str) -> Vec<(VerificationKey, MessageHasher)> {
        let mut v = vec![(
            VerificationKey::from_base64_rust_crypto(alg, public).unwrap(),
            MessageHasher::new_rust_crypto(alg),
        )];
        #[cfg(feature = "aws-lc-rs")]
        v.push((
            VerificationKey::from_base64_aws_lc(alg, public).unwrap(),
            MessageHasher::AwsLc(aws_lc_rs::digest::Context::new(aws_lc_digest(alg))),
        ));
        v
    }

    #[test]
    fn every_backend_verifies_every_backends_signature() {
        for alg in [
            SignatureAlgorithm::EcdsaP256Sha256,
            SignatureAlgorithm::EcdsaP384Sha384,
        ] {
            for key in keys(alg) {
                let public = key.public_key_base64();
                let hasher = match &key.0 {
                    #[cfg(feature = "aws-lc-rs")]
                    SigningInner::AwsLc(..) => {
                        MessageHasher::AwsLc(aws_lc_rs::digest::Context::new(aws_lc_digest(alg)))
                    }
                    _ => MessageHasher::new_rust_crypto(alg),
                };
                let mut h = hasher;
                h.update(b"message");
                let sig = key.sign(h).unwrap();
                for (i, (verifier, mut h)) in verifiers(alg, &public).into_iter().enumerate() {
                    let mut wrong = h.clone();
                    h.update(b"message");
                    eprintln!("{alg:?} key {:?} verifier {i} public {public}", key);
                    verifier.verify(h, &sig).unwrap();
                    wrong.update(b"messagE");
                    assert!(verifier.verify(wrong, &sig).is_err());
                }
            }
        }
    }
}
