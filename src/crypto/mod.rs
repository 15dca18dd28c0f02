//! The cryptographic primitives esdk uses, behind one small internal seam.
//!
//! Two backends: aws-lc-rs (feature `aws-lc-rs`, the default) and the RustCrypto crates (pure
//! Rust, with `--no-default-features`). Every primitive the message format needs
//! (AES-GCM, HKDF, SHA-2, ECDSA) is reached only through this module, so a second backend can be
//! selected by a cargo feature without touching the format code.
//!
//! Both backends are compiled when `aws-lc-rs` is on, so tests can check that they agree; the
//! RustCrypto half is then used by tests only.

#![cfg_attr(feature = "aws-lc-rs", allow(dead_code))]

pub(crate) mod aead;
pub(crate) mod kdf;
pub(crate) mod signature;

use rand_core::{OsRng, RngCore};

/// Fills `buf` with bytes from the operating system's CSPRNG.
pub(crate) fn random_bytes(buf: &mut [u8]) -> crate::Result<()> {
    OsRng.try_fill_bytes(buf).map_err(|_| {
        crate::Error::Internal("the operating system's random number generator failed")
    })
}
