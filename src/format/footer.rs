//! The message footer of signed suites: the signature over the header and body, with its
//! length.
//!
//! Spec: `data-format/message-footer.md`.

use super::codec::{put_u16_prefixed, Reader};
use crate::error::FormatError;
use crate::stream::sink::Sink;

/// Appends the footer holding `signature`.
pub(crate) fn write<S: Sink + ?Sized>(out: &mut S, signature: &[u8]) -> crate::Result<()> {
    put_u16_prefixed(out, signature, "footer signature longer than 65535 bytes")
}

/// Reads the footer at `r` and returns its signature (any length: DER signatures vary).
pub(crate) fn read<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], FormatError> {
    r.u16_prefixed("footer.signature")
}

/// The longest footer: its length field and the longest signature a suite may write (a
/// P-384 DER signature is at most 104 bytes; the field allows 65535).
pub(crate) const MAX_LEN: usize = 2 + u16::MAX as usize;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let mut out: Vec<u8> = Vec::new();
        write(&mut out, b"sig").unwrap();
        assert_eq!(out, [0, 3, b's', b'i', b'g']);
        assert_eq!(read(&mut Reader::new(&out)).unwrap(), b"sig");
        assert!(matches!(
            read(&mut Reader::new(&out[..4])),
            Err(FormatError::Truncated("footer.signature"))
        ));
    }
}
