//! AES-GCM with 12-byte IVs and 16-byte tags, keyed once per message.
//!
//! Two implementations: aws-lc-rs (feature `aws-lc-rs`, the default) and RustCrypto `aes-gcm`
//! (pure Rust). Both verify the tag in constant time before returning success.

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::aes::Aes192;
use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm, Nonce, Tag};

use crate::suite::{IV_LEN, TAG_LEN};

type Aes192Gcm = AesGcm<Aes192, aes_gcm::aead::consts::U12>;

/// An AES-GCM key schedule (128, 192 or 256-bit key). Sealing and opening are pure functions of
/// (key, iv, aad, data), so frames can be processed in any order or in parallel.
pub(crate) enum Aead {
    #[cfg(feature = "aws-lc-rs")]
    AwsLc(aws_lc_rs::aead::LessSafeKey),
    Aes128(Box<Aes128Gcm>),
    Aes192(Box<Aes192Gcm>),
    Aes256(Box<Aes256Gcm>),
}

impl std::fmt::Debug for Aead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aead").finish_non_exhaustive()
    }
}

fn bad_key() -> crate::Error {
    crate::Error::InvalidKey("AES-GCM key must be 16, 24 or 32 bytes".into())
}

impl Aead {
    /// A key schedule on the selected backend.
    pub(crate) fn new(key: &[u8]) -> crate::Result<Self> {
        #[cfg(feature = "aws-lc-rs")]
        return Self::new_aws_lc(key);
        #[cfg(not(feature = "aws-lc-rs"))]
        return Self::new_rust_crypto(key);
    }

    /// A key schedule on the RustCrypto backend.
    pub(crate) fn new_rust_crypto(key: &[u8]) -> crate::Result<Self> {
        Ok(match key.len() {
            16 => Self::Aes128(Box::new(
                Aes128Gcm::new_from_slice(key).map_err(|_| bad_key())?,
            )),
            24 => Self::Aes192(Box::new(
                Aes192Gcm::new_from_slice(key).map_err(|_| bad_key())?,
            )),
            32 => Self::Aes256(Box::new(
                Aes256Gcm::new_from_slice(key).map_err(|_| bad_key())?,
            )),
            _ => return Err(bad_key()),
        })
    }

    /// A key schedule on the aws-lc-rs backend.
    #[cfg(feature = "aws-lc-rs")]
    pub(crate) fn new_aws_lc(key: &[u8]) -> crate::Result<Self> {
        use aws_lc_rs::aead::{LessSafeKey, UnboundKey, AES_128_GCM, AES_192_GCM, AES_256_GCM};
        let alg = match key.len() {
            16 => &AES_128_GCM,
            24 => &AES_192_GCM,
            32 => &AES_256_GCM,
            _ => return Err(bad_key()),
        };
        let key = UnboundKey::new(alg, key).map_err(|_| bad_key())?;
        Ok(Self::AwsLc(LessSafeKey::new(key)))
    }

    /// Encrypts `buf` in place and returns the tag.
    pub(crate) fn seal(
        &self,
        iv: &[u8; IV_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> crate::Result<[u8; TAG_LEN]> {
        let too_long = |_| crate::Error::LimitExceeded("AES-GCM input too long");
        let nonce = &Nonce::from(*iv);
        let tag = match self {
            #[cfg(feature = "aws-lc-rs")]
            Self::AwsLc(k) => {
                let nonce = aws_lc_rs::aead::Nonce::assume_unique_for_key(*iv);
                let tag = k
                    .seal_in_place_separate_tag(nonce, aws_lc_rs::aead::Aad::from(aad), buf)
                    .map_err(|_| crate::Error::LimitExceeded("AES-GCM input too long"))?;
                let mut out = [0u8; TAG_LEN];
                out.copy_from_slice(tag.as_ref());
                return Ok(out);
            }
            Self::Aes128(c) => c
                .encrypt_in_place_detached(nonce, aad, buf)
                .map_err(too_long)?,
            Self::Aes192(c) => c
                .encrypt_in_place_detached(nonce, aad, buf)
                .map_err(too_long)?,
            Self::Aes256(c) => c
                .encrypt_in_place_detached(nonce, aad, buf)
                .map_err(too_long)?,
        };
        Ok(tag.into())
    }

    /// Encrypts `input` into `out` (exactly as long) and returns the tag. aws-lc-rs reads
    /// the plaintext and writes the ciphertext in one pass; RustCrypto copies, then encrypts
    /// in place.
    pub(crate) fn seal_to(
        &self,
        iv: &[u8; IV_LEN],
        aad: &[u8],
        input: &[u8],
        out: &mut [u8],
    ) -> crate::Result<[u8; TAG_LEN]> {
        if input.len() != out.len() {
            return Err(crate::Error::Internal("AES-GCM output length"));
        }
        #[cfg(feature = "aws-lc-rs")]
        if let Self::AwsLc(k) = self {
            let nonce = aws_lc_rs::aead::Nonce::assume_unique_for_key(*iv);
            let mut tag = [0u8; TAG_LEN];
            k.seal_out_of_place_scatter(
                nonce,
                aws_lc_rs::aead::Aad::from(aad),
                input,
                out,
                &[],
                &mut tag,
            )
            .map_err(|_| crate::Error::LimitExceeded("AES-GCM input too long"))?;
            return Ok(tag);
        }
        out.copy_from_slice(input);
        self.seal(iv, aad, out)
    }

    /// Verifies `tag` (in constant time) and decrypts `ciphertext` into `out` (exactly as
    /// long). On failure the contents of `out` are unspecified and the caller must discard them.
    #[must_use = "an unchecked tag means unauthenticated plaintext"]
    pub(crate) fn open_to(
        &self,
        iv: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
        tag: &[u8],
        out: &mut [u8],
    ) -> bool {
        if ciphertext.len() != out.len() {
            return false;
        }
        #[cfg(feature = "aws-lc-rs")]
        if let Self::AwsLc(k) = self {
            let Ok(iv) = <[u8; IV_LEN]>::try_from(iv) else {
                return false;
            };
            let nonce = aws_lc_rs::aead::Nonce::assume_unique_for_key(iv);
            return k
                .open_separate_gather(nonce, aws_lc_rs::aead::Aad::from(aad), ciphertext, tag, out)
                .is_ok();
        }
        out.copy_from_slice(ciphertext);
        self.open(iv, aad, out, tag)
    }

    /// Verifies `tag` (in constant time) and decrypts `buf` in place. On failure the contents
    /// of `buf` are unspecified and the caller must discard them.
    #[must_use = "an unchecked tag means unauthenticated plaintext"]
    pub(crate) fn open(&self, iv: &[u8], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
        let (Ok(iv), Ok(tag)) = (<[u8; IV_LEN]>::try_from(iv), <[u8; TAG_LEN]>::try_from(tag))
        else {
            return false;
        };
        let (nonce, gcm_tag) = (&Nonce::from(iv), &Tag::from(tag));
        match self {
            #[cfg(feature = "aws-lc-rs")]
            Self::AwsLc(k) => {
                let nonce = aws_lc_rs::aead::Nonce::assume_unique_for_key(iv);
                k.open_in_place_separate_tag(nonce, aws_lc_rs::aead::Aad::from(aad), &tag, buf)
                    .is_ok()
            }
            Self::Aes128(c) => c
                .decrypt_in_place_detached(nonce, aad, buf, gcm_tag)
                .is_ok(),
            Self::Aes192(c) => c
                .decrypt_in_place_detached(nonce, aad, buf, gcm_tag)
                .is_ok(),
            Self::Aes256(c) => c
                .decrypt_in_place_detached(nonce, aad, buf, gcm_tag)
                .is_ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(feature = "aws-lc-rs"), allow(unused_mut))] // one backend only
    fn backends(key: &[u8]) -> Vec<Aead> {
        let mut v = vec![Aead::new_rust_crypto(key).unwrap()];
        #[cfg(feature = "aws-lc-rs")]
        v.push(Aead::new_aws_lc(key).unwrap());
        v
    }

    #[test]
    fn seal_open_tamper_and_backends_agree() {
        for len in [16, 24, 32] {
            let key = vec![7u8; len];
            let all = backends(&key);
            let mut sealed = Vec::new();
            for aead in &all {
                let mut buf = b"hello".to_vec();
                let tag = aead.seal(&[1; 12], b"aad", &mut buf).unwrap();
                sealed.push((buf.clone(), tag));
                let mut bad = buf.clone();
                assert!(!aead.open(&[1; 12], b"aaD", &mut bad, &tag));
                assert!(!aead.open(&[1; 12], b"aad", &mut buf.clone(), &[0; 16]));
            }
            // Every backend opens what every other sealed, and they seal identically.
            for (ct, tag) in &sealed {
                assert_eq!((ct, tag), (&sealed[0].0, &sealed[0].1));
                for aead in &all {
                    let mut buf = ct.clone();
                    assert!(aead.open(&[1; 12], b"aad", &mut buf, tag));
                    assert_eq!(buf, b"hello");
                }
            }
        }
        assert!(Aead::new(&[0; 17]).is_err());
    }

    #[test]
    fn out_of_place_matches_in_place_on_every_backend() {
        let plain: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        for aead in backends(&[3u8; 32]) {
            let mut in_place = plain.clone();
            let tag = aead.seal(&[2; 12], b"aad", &mut in_place).unwrap();
            let mut out = vec![0u8; plain.len()];
            assert_eq!(
                aead.seal_to(&[2; 12], b"aad", &plain, &mut out).unwrap(),
                tag
            );
            assert_eq!(out, in_place);
            assert!(aead
                .seal_to(&[2; 12], b"aad", &plain, &mut [0u8; 3])
                .is_err());
            let mut opened = vec![0u8; plain.len()];
            assert!(aead.open_to(&[2; 12], b"aad", &out, &tag, &mut opened));
            assert_eq!(opened, plain);
            assert!(!aead.open_to(&[2; 12], b"aaD", &out, &tag, &mut opened));
            assert!(!aead.open_to(&[2; 12], b"aad", &out, &[0; 16], &mut opened));
            assert!(!aead.open_to(&[2; 12], b"aad", &out, &tag, &mut [0u8; 3]));
        }
    }
}
