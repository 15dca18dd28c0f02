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

/// The data key must be the suite's key derivation input length.
fn check_data_key_len(suite: &AlgorithmSuite, data_key: &[u8]) -> crate::Result<()> {
    if data_key.len() == suite.key_len {
        return Ok(());
    }
    Err(crate::Error::InvalidKey(format!(
        "data key is {} bytes, suite 0x{:04x} needs {}",
        data_key.len(),
        suite.id,
        suite.key_len
    )))
}

/// Derives the content (frame) key from the data key.
pub(crate) fn derive_content_key(
    suite: &AlgorithmSuite,
    data_key: &[u8],
    message_id: &[u8],
    v1_info: V1Info,
) -> crate::Result<Zeroizing<Vec<u8>>> {
    check_data_key_len(suite, data_key)?;
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

/// A content (frame) key.
pub(crate) type ContentKey = Zeroizing<Vec<u8>>;

/// The content key of a message and, for a committing suite, its key commitment.
///
/// For a committing suite both come from one HKDF-SHA512 extract (salt = message id, key = data key)
/// and two single-block expands (`suite id ‖ "DERIVEKEY"`, `"COMMITKEY"`): the specification derives
/// both from the same pseudorandom key, so the extract and the HMAC key schedule of the PRK run once.
pub(crate) fn message_keys(
    suite: &AlgorithmSuite,
    data_key: &[u8],
    message_id: &[u8],
) -> crate::Result<(ContentKey, Option<[u8; COMMITMENT_LEN]>)> {
    if suite.kdf != Kdf::CommittingHkdfSha512 {
        return Ok((
            derive_content_key(suite, data_key, message_id, V1Info::Spec)?,
            None,
        ));
    }
    check_data_key_len(suite, data_key)?;
    // The salt is the message id, 256 bits for these suites.
    if message_id.len() != suite.message_id_len() {
        return Err(crate::Error::Internal(
            "message id length does not match the suite",
        ));
    }
    let id = suite.id.to_be_bytes();
    let mut content_key = Zeroizing::new(vec![0u8; suite.key_len]);
    let mut commitment = [0u8; COMMITMENT_LEN];
    hkdf_sha512_expand_two(
        message_id,
        data_key,
        (&[&id, DERIVE_KEY_LABEL], &mut content_key),
        (&[COMMIT_KEY_LABEL], &mut commitment),
    )?;
    Ok((content_key, Some(commitment)))
}

/// One HKDF-SHA512 extract, then two expands of at most one block (64 bytes) each.
fn hkdf_sha512_expand_two(
    salt: &[u8],
    ikm: &[u8],
    a: (&[&[u8]], &mut [u8]),
    b: (&[&[u8]], &mut [u8]),
) -> crate::Result<()> {
    // aws-lc-rs wipes the PRK and the HMAC states it used; the RustCrypto `hkdf` 0.12 does not
    // (measured ~0.2 µs faster per message, not worth leaving the PRK in freed memory).
    #[cfg(feature = "aws-lc-rs")]
    return hkdf_sha512_expand_two_aws_lc(salt, ikm, a, b);
    #[cfg(not(feature = "aws-lc-rs"))]
    return hkdf_sha512_expand_two_rust_crypto(salt, ikm, a, b);
}

pub(crate) fn hkdf_sha512_expand_two_rust_crypto(
    salt: &[u8],
    ikm: &[u8],
    a: (&[&[u8]], &mut [u8]),
    b: (&[&[u8]], &mut [u8]),
) -> crate::Result<()> {
    // `Hkdf::new` keys the HMAC with the PRK once; each expand starts from that keyed state.
    let hk = Hkdf::<Sha512>::new(Some(salt), ikm);
    for (info, out) in [a, b] {
        if out.len() > 64 {
            return Err(crate::Error::Internal("HKDF output longer than one block"));
        }
        hk.expand_multi_info(info, out)
            .map_err(|_| crate::Error::Internal("HKDF output length"))?;
    }
    Ok(())
}

#[cfg(feature = "aws-lc-rs")]
pub(crate) fn hkdf_sha512_expand_two_aws_lc(
    salt: &[u8],
    ikm: &[u8],
    a: (&[&[u8]], &mut [u8]),
    b: (&[&[u8]], &mut [u8]),
) -> crate::Result<()> {
    use aws_lc_rs::hmac;
    const HASH_LEN: usize = 64;
    // aws-lc-rs's `hkdf::Prk` re-runs the extract on every expand; HMAC gives the two steps apart.
    // RFC 5869: PRK = HMAC(salt, IKM); T(1) = HMAC(PRK, info ‖ 0x01), the whole output when L ≤ HashLen.
    let mut prk = Zeroizing::new([0u8; HASH_LEN]);
    hmac::sign_to_buffer(&hmac::Key::new(hmac::HMAC_SHA512, salt), ikm, &mut prk[..])
        .map_err(|_| crate::Error::Internal("HKDF extract"))?;
    let prk_key = hmac::Key::new(hmac::HMAC_SHA512, &prk[..]);
    for (info, out) in [a, b] {
        // info ‖ 0x01 on the stack: the labels here are at most 11 bytes.
        let too_long = || crate::Error::Internal("HKDF info too long");
        let mut msg = [0u8; 32];
        let mut n = 0;
        for part in info.iter().chain([&[1u8][..]].iter()) {
            let end = n + part.len();
            msg.get_mut(n..end)
                .ok_or_else(too_long)?
                .copy_from_slice(part);
            n = end;
        }
        let mut t = Zeroizing::new([0u8; HASH_LEN]);
        hmac::sign_to_buffer(&prk_key, msg.get(..n).ok_or_else(too_long)?, &mut t[..])
            .map_err(|_| crate::Error::Internal("HKDF expand"))?;
        let t = t
            .get(..out.len())
            .ok_or(crate::Error::Internal("HKDF output longer than one block"))?;
        out.copy_from_slice(t);
    }
    Ok(())
}

/// Checks a stored commitment against the one derived from the data key, in constant time.
pub(crate) fn check_commitment(
    expected: Option<&[u8; COMMITMENT_LEN]>,
    stored: Option<&[u8]>,
) -> crate::Result<()> {
    match (expected, stored) {
        (None, None) => Ok(()),
        (Some(expected), Some(stored)) if bool::from(expected.ct_eq(stored)) => Ok(()),
        _ => Err(crate::Error::CommitmentMismatch),
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

    /// One extract and two expands give what two full HKDF runs gave, in both backends.
    #[test]
    fn expand_two_matches_two_full_runs() {
        for (salt, ikm) in [([7u8; 32], [9u8; 32]), ([0u8; 32], [0xffu8; 32])] {
            let id = 0x0478u16.to_be_bytes();
            let key = hkdf_expand_rust_crypto(
                Kdf::CommittingHkdfSha512,
                Some(&salt),
                &ikm,
                &[&id, DERIVE_KEY_LABEL],
                32,
            )
            .unwrap();
            let commit = hkdf_expand_aws_lc(
                Kdf::CommittingHkdfSha512,
                Some(&salt),
                &ikm,
                &[COMMIT_KEY_LABEL],
                32,
            )
            .unwrap();
            type Two =
                fn(&[u8], &[u8], (&[&[u8]], &mut [u8]), (&[&[u8]], &mut [u8])) -> crate::Result<()>;
            let backends: [Two; 2] = [
                hkdf_sha512_expand_two_aws_lc,
                hkdf_sha512_expand_two_rust_crypto,
            ];
            for two in backends {
                let (mut k, mut c) = ([0u8; 32], [0u8; 32]);
                two(
                    &salt,
                    &ikm,
                    (&[&id, DERIVE_KEY_LABEL], &mut k),
                    (&[COMMIT_KEY_LABEL], &mut c),
                )
                .unwrap();
                assert_eq!(k[..], key[..]);
                assert_eq!(c[..], commit[..]);
                assert_ne!(k, c);
            }
        }
    }

    #[test]
    fn commitment_check_needs_both_sides_equal() {
        let c = [5u8; 32];
        assert!(check_commitment(Some(&c), Some(&c[..])).is_ok());
        assert!(check_commitment(None, None).is_ok());
        let mut d = c;
        d[31] ^= 1;
        assert!(check_commitment(Some(&c), Some(&d[..])).is_err());
        assert!(check_commitment(Some(&c), Some(&c[..31])).is_err());
        assert!(check_commitment(Some(&c), None).is_err());
        assert!(check_commitment(None, Some(&c[..])).is_err());
    }
}

/// Known answers for both backends (whichever is built), from the public commitment test
/// vectors (`test-vectors/vendored/known-answer/commitment-test-vectors.json`, vector 1).
#[cfg(test)]
mod known_answers {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn message_keys_match_the_commitment_vector() {
        let data_key = hex("fa9ebec213d5c3d90ead82d914c4412769fa5658ba4ffed39230e8b92fb6e6cd");
        let message_id = hex("4dfbd1314d9d55925b817232c5e36d6e3e5e230f018930e2c2c1f243f67dc179");
        let suite = &crate::suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY;
        let (key, commitment) = message_keys(suite, &data_key, &message_id).unwrap();
        assert_eq!(
            *key,
            hex("57aef7d35c8c26d9348f139cdd025e05a73ab8ac4edd7ca55ad90a4d899453e3")
        );
        assert_eq!(
            commitment.map(|c| c.to_vec()),
            Some(hex(
                "17cf08f733db51049f3a5ccb5effae218dbe9bf13a8f63ccb1b81e1d51ff2f4c"
            ))
        );
        // A salt that is not the suite's message id length is refused, not derived from.
        assert!(message_keys(suite, &data_key, &message_id[..31]).is_err());
        assert!(message_keys(suite, &data_key[..31], &message_id).is_err());
    }
}
