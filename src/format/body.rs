//! The message body: frames, the non-framed block, their AAD; and the footer.
//!
//! Spec: `data-format/message-body.md`, `data-format/message-body-aad.md`, `data-format/message-footer.md`.

use super::codec::Reader;
use crate::crypto::aead::Aead;
use crate::error::FormatError;
use crate::stream::sink::Sink;
use crate::suite::{IV_LEN, TAG_LEN};

/// Body AAD content string of a regular frame.
pub(crate) const FRAME_STRING: &[u8] = b"AWSKMSEncryptionClient Frame";
/// Body AAD content string of the final frame.
pub(crate) const FINAL_FRAME_STRING: &[u8] = b"AWSKMSEncryptionClient Final Frame";
/// Body AAD content string of a non-framed body.
pub(crate) const SINGLE_BLOCK_STRING: &[u8] = b"AWSKMSEncryptionClient Single Block";
/// The sequence number field value that marks the final frame.
pub(crate) const FINAL_FRAME_MARKER: u32 = 0xFFFF_FFFF;
/// The largest non-framed content the format allows (2^36 - 32 bytes, the AES-GCM limit).
pub(crate) const MAX_NON_FRAMED_LEN: u64 = (1 << 36) - 32;

/// The body AAD: message id ‖ content string ‖ sequence number ‖ content length, on the stack.
pub(crate) struct BodyAad {
    buf: [u8; 32 + 35 + 12],
    len: usize,
}

impl BodyAad {
    pub(crate) fn new(message_id: &[u8], content: &[u8], sequence: u32, len: u64) -> Self {
        let mut buf = [0u8; 32 + 35 + 12];
        let mut at = 0;
        for part in [
            message_id,
            content,
            &sequence.to_be_bytes(),
            &len.to_be_bytes(),
        ] {
            // Message ids are at most 32 bytes and content strings at most 35: it always fits.
            if let Some(dst) = buf.get_mut(at..at + part.len()) {
                dst.copy_from_slice(part);
            }
            at += part.len();
        }
        Self {
            buf,
            len: at.min(32 + 35 + 12),
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

/// The IV of frame `sequence`: the sequence number, big-endian, left-padded with zeros.
pub(crate) fn frame_iv(sequence: u32) -> [u8; IV_LEN] {
    let mut iv = [0u8; IV_LEN];
    iv[IV_LEN - 4..].copy_from_slice(&sequence.to_be_bytes());
    iv
}

/// Serialized size of a regular frame of `frame_len` bytes.
pub(crate) const fn regular_frame_size(frame_len: usize) -> usize {
    4 + IV_LEN + frame_len + TAG_LEN
}

/// Serialized size of a final frame holding `len` bytes.
pub(crate) const fn final_frame_size(len: usize) -> usize {
    4 + 4 + IV_LEN + 4 + len + TAG_LEN
}

/// What precedes a frame's ciphertext (final-frame marker, sequence number, IV, and for the
/// final frame its length), its IV, and its AAD: shared by both ways of sealing a frame.
struct FramePrelude {
    bytes: [u8; 4 + 4 + IV_LEN + 4],
    len: usize,
    iv: [u8; IV_LEN],
    aad: BodyAad,
}

impl FramePrelude {
    fn new(
        message_id: &[u8],
        sequence: u32,
        is_final: bool,
        plaintext_len: usize,
    ) -> crate::Result<Self> {
        let iv = frame_iv(sequence);
        let content = if is_final {
            FINAL_FRAME_STRING
        } else {
            FRAME_STRING
        };
        let aad = BodyAad::new(message_id, content, sequence, plaintext_len as u64);
        let len = u32::try_from(plaintext_len)
            .map_err(|_| crate::Error::Internal("frame longer than u32"))?;
        let mut bytes = [0u8; 4 + 4 + IV_LEN + 4];
        let mut w = SliceWriter {
            out: &mut bytes,
            at: 0,
        };
        if is_final {
            w.put(&FINAL_FRAME_MARKER.to_be_bytes())?;
        }
        w.put(&sequence.to_be_bytes())?;
        w.put(&iv)?;
        if is_final {
            w.put(&len.to_be_bytes())?;
        }
        let len = w.at;
        Ok(Self {
            bytes,
            len,
            iv,
            aad,
        })
    }

    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

/// Encrypts one frame into `out`, which must be exactly its serialized size. A pure function
/// of its inputs, so frames can be sealed in any order or in parallel.
pub(crate) fn seal_frame_into(
    aead: &Aead,
    message_id: &[u8],
    sequence: u32,
    is_final: bool,
    plaintext: &[u8],
    out: &mut [u8],
) -> crate::Result<()> {
    let prelude = FramePrelude::new(message_id, sequence, is_final, plaintext.len())?;
    let mut w = SliceWriter { out, at: 0 };
    w.put(prelude.as_bytes())?;
    let start = w.at;
    let end = start + plaintext.len();
    let buf = w
        .out
        .get_mut(start..end)
        .ok_or(crate::Error::Internal("frame buffer size"))?;
    let tag = aead.seal_to(&prelude.iv, prelude.aad.as_bytes(), plaintext, buf)?;
    w.at = end;
    w.put(&tag)?;
    if w.at != w.out.len() {
        return Err(crate::Error::Internal("frame buffer size"));
    }
    Ok(())
}

struct SliceWriter<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl SliceWriter<'_> {
    fn put(&mut self, bytes: &[u8]) -> crate::Result<()> {
        let dst = self
            .out
            .get_mut(self.at..self.at + bytes.len())
            .ok_or(crate::Error::Internal("frame buffer size"))?;
        dst.copy_from_slice(bytes);
        self.at += bytes.len();
        Ok(())
    }
}

/// Serialized size of a frame holding `len` bytes.
pub(crate) const fn frame_size(len: usize, is_final: bool) -> usize {
    if is_final {
        final_frame_size(len)
    } else {
        regular_frame_size(len)
    }
}

/// Encrypts one frame and appends its serialization to `out`; returns the bytes written.
/// The plaintext is read once and the ciphertext written straight into `out`.
pub(crate) fn seal_frame<'o, S: Sink + ?Sized>(
    aead: &Aead,
    message_id: &[u8],
    sequence: u32,
    is_final: bool,
    plaintext: &[u8],
    out: &'o mut S,
) -> crate::Result<&'o [u8]> {
    // On error the caller abandons the whole message, so what was written is left as is.
    let dst = out.grow(frame_size(plaintext.len(), is_final));
    seal_frame_into(aead, message_id, sequence, is_final, plaintext, dst)?;
    Ok(dst)
}

/// Appends `plaintext`, encrypts it in place, and appends the tag.
#[cfg(feature = "hazmat")]
fn append_sealed(
    aead: &Aead,
    iv: &[u8; IV_LEN],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> crate::Result<()> {
    let start = out.len();
    out.extend_from_slice(plaintext);
    let tag = aead.seal(iv, aad, out.get_mut(start..).unwrap_or_default())?;
    out.extend_from_slice(&tag);
    Ok(())
}

/// One serialized frame (or the non-framed block), borrowed from the input.
#[derive(Debug)]
pub(crate) struct RawFrame<'a> {
    pub(crate) sequence: u32,
    pub(crate) is_final: bool,
    pub(crate) iv: &'a [u8],
    pub(crate) ciphertext: &'a [u8],
    pub(crate) tag: &'a [u8],
}

/// Frames are opened with the IV they store. The specification's decrypt computes it from the
/// sequence number, but messages written by other SDKs in the public known-answer vectors store
/// other IVs and decrypt everywhere; the tag covers the IV either way.
impl RawFrame<'_> {
    /// Verifies and decrypts this frame into `out` (exactly the ciphertext's length). On
    /// failure `out` holds no plaintext: it is zeroed.
    pub(crate) fn open_into(
        &self,
        aead: &Aead,
        message_id: &[u8],
        content: &[u8],
        out: &mut [u8],
    ) -> crate::Result<()> {
        let aad = BodyAad::new(
            message_id,
            content,
            self.sequence,
            self.ciphertext.len() as u64,
        );
        if out.len() != self.ciphertext.len() {
            return Err(crate::Error::Internal("frame buffer size"));
        }
        if aead.open_to(self.iv, aad.as_bytes(), self.ciphertext, self.tag, out) {
            Ok(())
        } else {
            out.fill(0);
            Err(crate::Error::FrameAuthentication {
                sequence: self.sequence,
            })
        }
    }

    /// Verifies and decrypts this frame, appending the plaintext to `out` only if the tag verifies.
    pub(crate) fn open<S: Sink + ?Sized>(
        &self,
        aead: &Aead,
        message_id: &[u8],
        content: &[u8],
        out: &mut S,
    ) -> crate::Result<()> {
        let start = out.len();
        let res = self.open_into(aead, message_id, content, out.grow(self.ciphertext.len()));
        if res.is_err() {
            out.truncate(start);
        }
        res
    }
}

/// Reads the next frame of a framed body.
pub(crate) fn parse_frame<'a>(
    r: &mut Reader<'a>,
    frame_length: u32,
) -> Result<RawFrame<'a>, FormatError> {
    let first = r.u32("frame.sequence_number")?;
    let is_final = first == FINAL_FRAME_MARKER;
    let sequence = if is_final {
        r.u32("final_frame.sequence_number")?
    } else {
        first
    };
    let iv = r.take(IV_LEN, "frame.iv")?;
    let len = if is_final {
        let len = r.u32("final_frame.content_length")?;
        if len > frame_length {
            return Err(FormatError::Invalid(
                "final_frame.content_length (longer than the frame length)",
            ));
        }
        len
    } else {
        frame_length
    };
    let len = usize::try_from(len).map_err(|_| FormatError::Truncated("frame.content"))?;
    let ciphertext = r.take(len, "frame.content")?;
    let tag = r.take(TAG_LEN, "frame.authentication_tag")?;
    Ok(RawFrame {
        sequence,
        is_final,
        iv,
        ciphertext,
        tag,
    })
}

/// The content length a non-framed body at the front of `bytes` declares, once its IV and
/// length field are there.
pub(crate) fn non_framed_declared_len(bytes: &[u8]) -> Option<u64> {
    let mut r = Reader::new(bytes);
    r.take(IV_LEN, "body.iv").ok()?;
    r.u64("body.content_length").ok()
}

/// Reads a non-framed body.
pub(crate) fn parse_non_framed<'a>(r: &mut Reader<'a>) -> Result<RawFrame<'a>, FormatError> {
    let iv = r.take(IV_LEN, "body.iv")?;
    let len = r.u64("body.content_length")?;
    if len > MAX_NON_FRAMED_LEN {
        return Err(FormatError::Invalid(
            "body.content_length (above 2^36 - 32)",
        ));
    }
    let len = usize::try_from(len).map_err(|_| FormatError::Truncated("body.content"))?;
    let ciphertext = r.take(len, "body.content")?;
    let tag = r.take(TAG_LEN, "body.authentication_tag")?;
    Ok(RawFrame {
        sequence: 1,
        is_final: true,
        iv,
        ciphertext,
        tag,
    })
}

/// Encrypts a whole plaintext as a non-framed body (used only to build test messages: the
/// specification lets encrypt write framed bodies only).
#[cfg(feature = "hazmat")]
pub(crate) fn seal_non_framed(
    aead: &Aead,
    message_id: &[u8],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> crate::Result<()> {
    let iv = frame_iv(1);
    let aad = BodyAad::new(message_id, SINGLE_BLOCK_STRING, 1, plaintext.len() as u64);
    out.extend_from_slice(&iv);
    out.extend_from_slice(&(plaintext.len() as u64).to_be_bytes());
    append_sealed(aead, &iv, aad.as_bytes(), plaintext, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_round_trip() {
        let aead = Aead::new(&[3u8; 32]).unwrap();
        let mut msg: Vec<u8> = Vec::new();
        seal_frame(&aead, &[9; 32], 1, false, b"abcd", &mut msg).unwrap();
        seal_frame(&aead, &[9; 32], 2, true, b"ef", &mut msg).unwrap();
        let mut r = Reader::new(&msg);
        let f1 = parse_frame(&mut r, 4).unwrap();
        let f2 = parse_frame(&mut r, 4).unwrap();
        r.finish().unwrap();
        assert!(!f1.is_final && f2.is_final && f2.sequence == 2);
        let mut out: Vec<u8> = Vec::new();
        f1.open(&aead, &[9; 32], FRAME_STRING, &mut out).unwrap();
        assert!(f2.open(&aead, &[9; 32], FRAME_STRING, &mut out).is_err());
        f2.open(&aead, &[9; 32], FINAL_FRAME_STRING, &mut out)
            .unwrap();
        assert_eq!(out, b"abcdef");
    }

    #[test]
    fn final_frame_longer_than_frame_length_is_rejected() {
        let aead = Aead::new(&[3u8; 32]).unwrap();
        let mut msg: Vec<u8> = Vec::new();
        seal_frame(&aead, &[9; 32], 1, true, b"abcde", &mut msg).unwrap();
        assert!(parse_frame(&mut Reader::new(&msg), 4).is_err());
    }
}
