//! Key derivation: from the data key to the content key, and the key commitment.
//!
//! Spec: `framework/algorithm-suites.md` (key derivation, commit key), `framework/transitive-requirements.md`.

use hkdf::Hkdf;
use sha2::{Sha256, Sha384, Sha512};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::suite::{AlgorithmSuite, Kdf, COMMITMENT_LEN};

const DERIVE_KEY_LABEL: &[u8] = b"DERIVEKEY";
const COMMIT_KEY_LABEL: &[u8] = b"COMMITKEY";

/// Which way to derive v1 HKDF keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum V1Info {
    /// As the spec says: info = suite id ‖ message id.
    Spec,
    /// As ESDK-.NET 4.0.0 did by mistake: info = suite id.
    LegacyNetV400,
}

fn hkdf_expand(
    kdf: Kdf,
    salt: Option<&[u8]>,
    ikm: &[u8],
    info: &[&[u8]],
    len: usize,
) -> crate::Result<Zeroizing<Vec<u8>>> {
    #[cfg(feature = "aws-lc-rs")]
    return hkdf_expand_aws_lc(kdf, salt, ikm, info, len);
    #[cfg(not(feature = "aws-lc-rs"))]
    return hkdf_expand_rust_crypto(kdf, salt, ikm, info, len);
}

pub(crate) fn hkdf_expand_rust_crypto(
    kdf: Kdf,
    salt: Option<&[u8]>,
    ikm: &[u8],
    info: &[&[u8]],
    len: usize,
) -> crate::Result<Zeroizing<Vec<u8>>> {
    let mut okm = Zeroizing::new(vec![0u8; len]);
    let info: Vec<u8> = info.concat();
    let res = match kdf {
        Kdf::HkdfSha256 => Hkdf::<Sha256>::new(salt, ikm).expand(&info, &mut okm),
        Kdf::HkdfSha384 => Hkdf::<Sha384>::new(salt, ikm).expand(&info, &mut okm),
        Kdf::CommittingHkdfSha512 => Hkdf::<Sha512>::new(salt, ikm).expand(&info, &mut okm),
        Kdf::Identity => {
            return Err(crate::Error::Internal(
                "HKDF requested for the identity KDF",
            ))
        }
    };
    res.map_err(|_| crate::Error::Internal("HKDF output length"))?;
    Ok(okm)
}

#[cfg(feature = "aws-lc-rs")]
pub(crate) fn hkdf_expand_aws_lc(
    kdf: Kdf,
    salt: Option<&[u8]>,
    ikm: &[u8],
    info: &[&[u8]],
    len: usize,
) -> crate::Result<Zeroizing<Vec<u8>>> {
    use aws_lc_rs::hkdf;
    struct Len(usize);
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let alg = match kdf {
        Kdf::HkdfSha256 => hkdf::HKDF_SHA256,
        Kdf::HkdfSha384 => hkdf::HKDF_SHA384,
        Kdf::CommittingHkdfSha512 => hkdf::HKDF_SHA512,
        Kdf::Identity => {
            return Err(crate::Error::Internal(
                "HKDF requested for the identity KDF",
            ))
        }
    };
    // An absent salt is HashLen zero bytes (RFC 5869 section 2.2); as an HMAC key that equals the empty key.
    let prk = hkdf::Salt::new(alg, salt.unwrap_or_default()).extract(ikm);
    let mut okm = Zeroizing::new(vec![0u8; len]);
    prk.expand(info, Len(len))
        .and_then(|o| o.fill(&mut okm))
        .map_err(|_| crate::Error::Internal("HKDF output length"))?;
    Ok(okm)
}

/// Derives the content (frame) key from the data key.
pub(crate) fn derive_content_key(
    suite: &AlgorithmSuite,
    data_key: &[u8],
    message_id: &[u8],
    v1_info: V1Info,
) -> crate::Result<Zeroizing<Vec<u8>>> {
    if data_key.len() != suite.key_len {
        return Err(crate::Error::InvalidKey(format!(
            "data key is {} bytes, suite 0x{:04x} needs {}",
            data_key.len(),
            suite.id,
            suite.key_len
        )));
    }
    let id = suite.id.to_be_bytes();
    match suite.kdf {
        Kdf::Identity => Ok(Zeroizing::new(data_key.to_vec())),
        Kdf::HkdfSha256 | Kdf::HkdfSha384 => {
            let info: &[&[u8]] = match v1_info {
                V1Info::Spec => &[&id, message_id],
                V1Info::LegacyNetV400 => &[&id],
            };
            hkdf_expand(suite.kdf, None, data_key, info, suite.key_len)
        }
        Kdf::CommittingHkdfSha512 => hkdf_expand(
            suite.kdf,
            Some(message_id),
            data_key,
            &[&id, DERIVE_KEY_LABEL],
            suite.key_len,
        ),
    }
}

/// Derives the key commitment of a committing suite.
pub(crate) fn commitment(
    suite: &AlgorithmSuite,
    data_key: &[u8],
    message_id: &[u8],
) -> crate::Result<[u8; COMMITMENT_LEN]> {
    let okm = hkdf_expand(
        suite.kdf,
        Some(message_id),
        data_key,
        &[COMMIT_KEY_LABEL],
        COMMITMENT_LEN,
    )?;
    let mut out = [0u8; COMMITMENT_LEN];
    out.copy_from_slice(&okm);
    Ok(out)
}

/// Checks a stored commitment against the data key, in constant time.
pub(crate) fn verify_commitment(
    suite: &AlgorithmSuite,
    data_key: &[u8],
    message_id: &[u8],
    stored: &[u8],
) -> crate::Result<()> {
    let expected = commitment(suite, data_key, message_id)?;
    if bool::from(expected.ct_eq(stored)) {
        Ok(())
    } else {
        Err(crate::Error::CommitmentMismatch)
    }
}

#[cfg(all(test, feature = "aws-lc-rs"))]
mod tests {
    use super::*;

    #[test]
    fn backends_agree() {
        for kdf in [Kdf::HkdfSha256, Kdf::HkdfSha384, Kdf::CommittingHkdfSha512] {
            for salt in [None, Some(&[3u8; 32][..])] {
                let a = hkdf_expand_rust_crypto(kdf, salt, &[1; 32], &[b"ab", b"cd"], 32).unwrap();
                let b = hkdf_expand_aws_lc(kdf, salt, &[1; 32], &[b"ab", b"cd"], 32).unwrap();
                assert_eq!(*a, *b);
            }
        }
    }
}
