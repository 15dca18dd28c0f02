//! The cryptographic primitives esdk uses, behind one small internal seam.
//!
//! Today one backend: the RustCrypto crates (pure Rust). Every primitive the message format needs
//! (AES-GCM, HKDF, SHA-2, ECDSA) is reached only through this module, so a second backend can be
//! selected by a cargo feature without touching the format code.

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
