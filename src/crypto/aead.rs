//! AES-GCM with 12-byte IVs and 16-byte tags, keyed once per message.

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::aes::Aes192;
use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm, Nonce, Tag};

use crate::suite::{IV_LEN, TAG_LEN};

type Aes192Gcm = AesGcm<Aes192, aes_gcm::aead::consts::U12>;

/// An AES-GCM key schedule (128, 192 or 256-bit key). Sealing and opening are pure functions of
/// (key, iv, aad, data), so frames can be processed in any order or in parallel.
#[derive(Clone)]
pub(crate) enum Aead {
    Aes128(Box<Aes128Gcm>),
    Aes192(Box<Aes192Gcm>),
    Aes256(Box<Aes256Gcm>),
}

impl std::fmt::Debug for Aead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aead").finish_non_exhaustive()
    }
}

impl Aead {
    pub(crate) fn new(key: &[u8]) -> crate::Result<Self> {
        let bad = |_| crate::Error::InvalidKey("AES-GCM key must be 16, 24 or 32 bytes".into());
        Ok(match key.len() {
            16 => Self::Aes128(Box::new(Aes128Gcm::new_from_slice(key).map_err(bad)?)),
            24 => Self::Aes192(Box::new(Aes192Gcm::new_from_slice(key).map_err(bad)?)),
            32 => Self::Aes256(Box::new(Aes256Gcm::new_from_slice(key).map_err(bad)?)),
            _ => {
                return Err(crate::Error::InvalidKey(
                    "AES-GCM key must be 16, 24 or 32 bytes".into(),
                ))
            }
        })
    }

    /// Encrypts `buf` in place and returns the tag.
    pub(crate) fn seal(
        &self,
        iv: &[u8; IV_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> crate::Result<[u8; TAG_LEN]> {
        let nonce = Nonce::from(*iv);
        let nonce = &nonce;
        let tag = match self {
            Self::Aes128(c) => c.encrypt_in_place_detached(nonce, aad, buf),
            Self::Aes192(c) => c.encrypt_in_place_detached(nonce, aad, buf),
            Self::Aes256(c) => c.encrypt_in_place_detached(nonce, aad, buf),
        }
        .map_err(|_| crate::Error::LimitExceeded("AES-GCM input too long"))?;
        Ok(tag.into())
    }

    /// Verifies `tag` (in constant time) and only then decrypts `buf` in place.
    /// On failure `buf` is left as ciphertext.
    #[must_use = "an unchecked tag means unauthenticated plaintext"]
    pub(crate) fn open(&self, iv: &[u8], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
        let (Ok(iv), Ok(tag)) = (<[u8; IV_LEN]>::try_from(iv), <[u8; TAG_LEN]>::try_from(tag))
        else {
            return false;
        };
        let (nonce, tag) = (&Nonce::from(iv), &Tag::from(tag));
        match self {
            Self::Aes128(c) => c.decrypt_in_place_detached(nonce, aad, buf, tag),
            Self::Aes192(c) => c.decrypt_in_place_detached(nonce, aad, buf, tag),
            Self::Aes256(c) => c.decrypt_in_place_detached(nonce, aad, buf, tag),
        }
        .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        for len in [16, 24, 32] {
            let aead = Aead::new(&vec![7u8; len]).unwrap();
            let mut buf = b"hello".to_vec();
            let tag = aead.seal(&[1; 12], b"aad", &mut buf).unwrap();
            let mut bad = buf.clone();
            assert!(!aead.open(&[1; 12], b"aaD", &mut bad, &tag));
            assert_eq!(bad, buf, "failed open leaves ciphertext");
            assert!(aead.open(&[1; 12], b"aad", &mut buf, &tag));
            assert_eq!(buf, b"hello");
        }
        assert!(Aead::new(&[0; 17]).is_err());
    }
}
