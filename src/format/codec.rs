//! A borrowed cursor for parsing and checked writers for serializing.
//!
//! Every accessor of [`Reader`] returns a `Result`; none can panic, and none allocates.

use crate::error::FormatError;

/// A cursor over borrowed bytes.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not yet read.
    pub(crate) fn left(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Bytes read so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// The bytes read so far.
    pub(crate) fn consumed(&self) -> &'a [u8] {
        self.buf.get(..self.pos).unwrap_or_default()
    }

    /// The next byte, without reading it.
    pub(crate) fn peek_u8(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], FormatError> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        let (head, _) = rest
            .split_at_checked(n)
            .ok_or(FormatError::Truncated(field))?;
        self.pos += n;
        Ok(head)
    }

    pub(crate) fn take_array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], FormatError> {
        let bytes = self.take(N, field)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, FormatError> {
        Ok(self.take_array::<1>(field)?[0])
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, FormatError> {
        Ok(u16::from_be_bytes(self.take_array(field)?))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, FormatError> {
        Ok(u32::from_be_bytes(self.take_array(field)?))
    }

    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, FormatError> {
        Ok(u64::from_be_bytes(self.take_array(field)?))
    }

    /// A u16 length followed by that many bytes.
    pub(crate) fn u16_prefixed(&mut self, field: &'static str) -> Result<&'a [u8], FormatError> {
        let len = self.u16(field)?;
        self.take(usize::from(len), field)
    }

    /// Everything not yet read.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        self.pos = self.buf.len();
        rest
    }

    /// Succeeds only if every byte was read.
    pub(crate) fn finish(&self) -> Result<(), FormatError> {
        if self.left() == 0 {
            Ok(())
        } else {
            Err(FormatError::TrailingBytes)
        }
    }
}

/// Appends `bytes` preceded by their length as a big-endian u16.
pub(crate) fn put_u16_prefixed<S: crate::stream::sink::Sink + ?Sized>(
    out: &mut S,
    bytes: &[u8],
    field: &'static str,
) -> Result<(), crate::Error> {
    let len = u16::try_from(bytes.len()).map_err(|_| crate::Error::LimitExceeded(field))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_never_reads_past_the_end() {
        let mut r = Reader::new(&[0, 3, 1, 2]);
        assert_eq!(r.u16_prefixed("x"), Err(FormatError::Truncated("x")));
        let mut r = Reader::new(&[0, 2, 1, 2, 9]);
        assert_eq!(r.u16_prefixed("x"), Ok(&[1u8, 2][..]));
        assert_eq!(r.finish(), Err(FormatError::TrailingBytes));
        assert_eq!(r.u8("y"), Ok(9));
        assert_eq!(r.u8("y"), Err(FormatError::Truncated("y")));
        assert_eq!(r.u64("z"), Err(FormatError::Truncated("z")));
        assert!(r.finish().is_ok());
    }
}
