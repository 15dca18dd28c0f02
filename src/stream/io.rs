//! `std::io` adapters over the sans-I/O [`Encryptor`] and [`Decryptor`].
//!
//! Errors from esdk reach `std::io` callers as `io::Error`s of kind `InvalidData` (or
//! `UnexpectedEof` for a truncated message) whose inner error is the [`crate::Error`]; get it
//! back with `err.into_inner()` and `downcast`.

use std::fmt;
use std::io::{self, Read, Write};

use super::sink::{Presized, Sink};
use super::{Decryptor, Encryptor, Verification};
use crate::blocking::block_on;
use crate::error::FormatError;
use crate::options::{DecryptOptions, EncryptOptions, KeySource};
use crate::{Client, Error};

/// The first error of a stream adapter, kept so that every later call fails too.
#[derive(Debug, Default)]
pub(crate) struct Poison(Option<(io::ErrorKind, String)>);

impl Poison {
    /// `Err` once an error was recorded: the same kind, wrapping [`Error::StreamFailed`].
    pub(crate) fn check(&self) -> io::Result<()> {
        match &self.0 {
            Some((kind, message)) => {
                Err(io::Error::new(*kind, Error::StreamFailed(message.clone())))
            }
            None => Ok(()),
        }
    }

    /// As [`check`](Self::check), as an esdk error.
    pub(crate) fn check_crate(&self) -> crate::Result<()> {
        match &self.0 {
            Some((_, message)) => Err(Error::StreamFailed(message.clone())),
            None => Ok(()),
        }
    }

    /// Records `e` unless an error is recorded already.
    pub(crate) fn set(&mut self, e: &io::Error) {
        if self.0.is_none() {
            self.0 = Some((e.kind(), e.to_string()));
        }
    }

    /// Records the error of `res`, if any, and passes `res` on.
    pub(crate) fn record<T>(&mut self, res: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &res {
            self.set(e);
        }
        res
    }
}

/// After a reader's failed read: unless the error is an inner reader's transient one
/// (`Interrupted`, `WouldBlock`: nothing was consumed, the read may be retried), the reader fails
/// for good: the error is recorded, unread plaintext wiped, the decryptor dropped.
pub(crate) fn fail_reader(
    e: &io::Error,
    poison: &mut Poison,
    out: &mut Released,
    decryptor: &mut Option<Decryptor>,
) {
    if !matches!(
        e.kind(),
        io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
    ) {
        poison.set(e);
        out.discard();
        *decryptor = None;
    }
}

pub(crate) fn to_io(e: Error) -> io::Error {
    match e {
        Error::Io(e) => e,
        Error::Malformed(FormatError::Truncated(_)) => {
            io::Error::new(io::ErrorKind::UnexpectedEof, e)
        }
        e => io::Error::new(io::ErrorKind::InvalidData, e),
    }
}

/// Encrypts everything written to it into `inner`. Call [`finish`](Self::finish) at the end:
/// without it the message is truncated and will not decrypt.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::io::Write;
/// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
/// let client = esdk::Client::default();
/// let options = esdk::EncryptOptions::new();
/// let mut writer = esdk::stream::io::EncryptingWriter::new(&client, &keyring, &esdk::EncryptOptions::from(options.clone()), Vec::new())?;
/// writer.write_all(b"streamed")?;
/// let message = writer.finish()?;
/// assert_eq!(esdk::blocking::decrypt(&client, &keyring, &message)?.plaintext, b"streamed");
/// # Ok(()) }
/// ```
///
/// After any error (of the encryptor or of `inner`) the writer is failed: every later call
/// returns an error, as the message written so far cannot be completed.
pub struct EncryptingWriter<W: Write> {
    encryptor: Encryptor,
    inner: W,
    out: Presized,
    poison: Poison,
}

impl<W: Write> EncryptingWriter<W> {
    /// Gets materials from `source` (blocking) and writes the header to `inner`. With
    /// [`EncryptOptions::plaintext_length`] the length goes to the materials manager and is
    /// enforced.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io::Write;
    /// use esdk::{DefaultMaterialsManager, EncryptOptions, KeySource};
    /// let keyring = std::sync::Arc::new(esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?);
    /// let cmm = DefaultMaterialsManager::new(keyring.clone());
    /// let client = esdk::Client::default();
    /// let options = EncryptOptions::new().plaintext_length(8);
    /// let source = KeySource::MaterialsManager(&cmm);
    /// let mut writer = esdk::stream::io::EncryptingWriter::new(&client, source, &esdk::EncryptOptions::from(options.clone()), Vec::new())?;
    /// writer.write_all(b"streamed")?;
    /// let message = writer.finish()?;
    /// assert_eq!(esdk::blocking::decrypt(&client, &keyring, &message)?.plaintext, b"streamed");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Client::encrypt_with`], and I/O errors of `inner`.
    pub fn new<'a>(
        client: &Client,
        source: impl Into<KeySource<'a>>,
        options: &EncryptOptions,
        inner: W,
    ) -> crate::Result<Self> {
        let mut out = Vec::new();
        let encryptor = block_on(Encryptor::new(client, source, options, &mut out))?;
        Self::start(encryptor, inner, out)
    }

    fn start(encryptor: Encryptor, inner: W, header: Vec<u8>) -> crate::Result<Self> {
        let mut out = Presized::new(0);
        out.extend_from_slice(&header);
        let mut writer = Self {
            encryptor,
            inner,
            out,
            poison: Poison::default(),
        };
        writer.drain()?;
        Ok(writer)
    }

    fn drain(&mut self) -> io::Result<()> {
        self.inner.write_all(self.out.bytes())?;
        self.out.clear();
        Ok(())
    }

    /// Writes the final frame and footer, flushes, and returns the inner writer.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io::Write;
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let client = esdk::Client::default();
    /// let mut writer = esdk::stream::io::EncryptingWriter::new(&client, &keyring, &esdk::EncryptOptions::new(), Vec::new())?;
    /// writer.write_all(b"streamed")?;
    /// let message: Vec<u8> = writer.finish()?; // the inner writer, holding the whole message
    /// assert_eq!(esdk::blocking::decrypt(&client, &keyring, &message)?.plaintext, b"streamed");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// I/O errors of `inner`, or signing failures.
    #[must_use = "the message is complete only when finish returns Ok"]
    pub fn finish(mut self) -> crate::Result<W> {
        self.poison.check_crate()?;
        self.encryptor.finish_to(&mut self.out)?;
        self.inner.write_all(self.out.bytes())?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for EncryptingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.poison.check()?;
        let res = self
            .encryptor
            .push_to(buf, &mut self.out)
            .map_err(to_io)
            .and_then(|()| self.drain());
        self.poison.record(res).map(|()| buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.poison.check()?;
        let res = self.inner.flush();
        self.poison.record(res)
    }
}

/// Decrypts the message read from `inner`. `read` returns `Ok(0)` only after the whole
/// message, including a signed message's footer signature, has verified; a truncated or
/// tampered message is an error.
///
/// Errors are final: after the first error (other than an `Interrupted` or `WouldBlock` error
/// of `inner`, which may be retried) every later `read` fails with the same kind, wrapping
/// [`Error::StreamFailed`], and plaintext not yet read when the error occurred is wiped, never
/// returned. Streams are bounded by [`crate::ClientBuilder::max_stream_frame_length`].
///
/// # Security
/// For signed suites, plaintext of regular frames is returned once its tag verifies, before
/// the signature at the end of the message is checked; the final frame is returned only after
/// it. Act on the data only once `read` returned `Ok(0)`, or refuse signed messages with
/// [`crate::ClientBuilder::unsigned_only`].
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::io::Read;
/// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
/// let client = esdk::Client::default();
/// let message = esdk::blocking::encrypt(&client, &keyring, b"streamed", &Default::default())?;
/// let options = esdk::DecryptOptions::new();
/// let mut reader = esdk::stream::io::DecryptingReader::new(&client, &keyring, &options, message.as_slice())?;
/// let mut plaintext = Vec::new();
/// reader.read_to_end(&mut plaintext)?;
/// assert_eq!(plaintext, b"streamed");
/// # Ok(()) }
/// ```
pub struct DecryptingReader<R: Read> {
    decryptor: Option<Decryptor>,
    /// Set when the decryptor finished: the whole message verified.
    complete: bool,
    poison: Poison,
    inner: R,
    input: InputBuffer,
    out: Released,
}

/// The readers' ciphertext buffer: it starts as the 4 KiB the header was read with, grows to
/// one regular frame the first time a read fills it, then doubles, up to the decryptor's read
/// size, each time a read fills it. A small message never costs a large buffer (nor does a
/// header that declares large frames), and a large one is soon read in whole frames and more.
pub(crate) struct InputBuffer {
    buf: Vec<u8>,
    frame: usize,
    max: usize,
}

impl InputBuffer {
    /// Reuses `buf` (the header's read buffer); grows to `frame` bytes, then up to `max`.
    pub(crate) fn new(mut buf: Vec<u8>, frame: usize, max: usize) -> Self {
        // Never above the read size, never empty (an empty read means end of input).
        buf.truncate(max.max(1));
        if buf.is_empty() {
            buf.push(0);
        }
        Self { buf, frame, max }
    }

    /// Where the next read goes.
    pub(crate) fn space(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    /// The first `n` bytes read; an error if the inner reader claimed more than it was given.
    pub(crate) fn read(&self, n: usize) -> io::Result<&[u8]> {
        self.buf.get(..n).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "the inner reader reported more bytes than the buffer holds",
            )
        })
    }

    /// Records that a read returned `n` bytes: a full buffer grows for the next read.
    pub(crate) fn note_read(&mut self, n: usize) {
        let len = self.buf.len();
        if n == len && len < self.max {
            let next = if len < self.frame {
                self.frame
            } else {
                len.saturating_mul(2)
            };
            self.buf.resize(next.clamp(1, self.max), 0);
        }
    }
}

/// Plaintext the decryptor released and the caller has not read yet. Zeroized when dropped.
/// The buffer is reused: its bytes stay initialized between refills, so releasing plaintext
/// into it writes each byte once.
pub(crate) struct Released {
    buf: Presized,
    pos: usize,
}

impl Default for Released {
    fn default() -> Self {
        Self {
            buf: Presized::new(0),
            pos: 0,
        }
    }
}

impl Drop for Released {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}

impl Released {
    /// Wipes and forgets everything not read yet (after an error).
    pub(crate) fn discard(&mut self) {
        self.buf.zeroize();
        self.pos = 0;
    }

    /// Bytes waiting to be read.
    pub(crate) fn pending(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Copies as much as fits into `dst`; returns how much.
    pub(crate) fn read_into(&mut self, dst: &mut [u8]) -> usize {
        let available = self.buf.bytes().get(self.pos..).unwrap_or_default();
        let n = available.len().min(dst.len());
        if let (Some(d), Some(a)) = (dst.get_mut(..n), available.get(..n)) {
            d.copy_from_slice(a);
        }
        self.pos += n;
        n
    }

    /// The emptied buffer to release more plaintext into (call only when nothing is pending).
    pub(crate) fn refill(&mut self) -> &mut Presized {
        self.buf.clear();
        self.pos = 0;
        &mut self.buf
    }
}

/// Feeds one chunk read while looking for the end of the header. Returns the bytes after the
/// header once it is complete.
pub(crate) fn push_header_chunk(
    decryptor: &mut Decryptor,
    chunk: &[u8],
    out: &mut Presized,
) -> crate::Result<Option<Vec<u8>>> {
    if chunk.is_empty() {
        return Err(FormatError::Truncated("header").into());
    }
    let used = decryptor.push_to(chunk, out)?;
    Ok(decryptor
        .needs_authentication()
        .then(|| chunk.get(used..).unwrap_or_default().to_vec()))
}

impl<W: Write> fmt::Debug for EncryptingWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptingWriter")
            .field("encryptor", &self.encryptor)
            .finish_non_exhaustive()
    }
}

impl<R: Read> fmt::Debug for DecryptingReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptingReader")
            .field("decryptor", &self.decryptor)
            .field("buffered_plaintext_len", &self.out.pending())
            .finish_non_exhaustive()
    }
}

impl<R: Read> DecryptingReader<R> {
    /// Reads the header of the message in `inner` and authenticates it with `source`
    /// (blocking).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io::Read;
    /// use esdk::{stream::io::DecryptingReader, DecryptOptions};
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let mut reader = DecryptingReader::new(&client, &keyring, &DecryptOptions::new(), message.as_slice())?;
    /// let mut plaintext = String::new();
    /// reader.read_to_string(&mut plaintext)?;
    /// assert_eq!(plaintext, "hi");
    /// // The header is authenticated here: a keyring that cannot open the message fails at once.
    /// let other = esdk::RawAesKeyring::new("ns", "other", &[2u8; 32])?;
    /// assert!(DecryptingReader::new(&client, &other, &DecryptOptions::new(), message.as_slice()).is_err());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Client::decrypt_with`], and I/O errors of `inner`.
    pub fn new<'a>(
        client: &Client,
        source: impl Into<KeySource<'a>>,
        options: &DecryptOptions,
        inner: R,
    ) -> crate::Result<Self> {
        let source = source.into();
        Self::open(client, inner, |d| block_on(d.authenticate(source, options)))
    }

    fn open(
        client: &Client,
        mut inner: R,
        authenticate: impl FnOnce(&mut Decryptor) -> crate::Result<()>,
    ) -> crate::Result<Self> {
        let mut decryptor = Decryptor::new(client);
        let mut out = Released::default();
        let mut chunk = vec![0u8; 4096];
        let rest = loop {
            let n = match inner.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            if let Some(rest) = push_header_chunk(
                &mut decryptor,
                chunk.get(..n).unwrap_or_default(),
                out.refill(),
            )? {
                break rest;
            }
        };
        authenticate(&mut decryptor)?;
        decryptor.push_to(&rest, out.refill())?;
        let input = InputBuffer::new(chunk, decryptor.first_read_size(), decryptor.read_size());
        Ok(Self {
            decryptor: Some(decryptor),
            complete: false,
            poison: Poison::default(),
            inner,
            input,
            out,
        })
    }

    /// The authenticated header.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use esdk::{stream::io::DecryptingReader, DecryptOptions};
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let reader = DecryptingReader::new(&client, &keyring, &DecryptOptions::new(), message.as_slice())?;
    /// assert_eq!(reader.header().map(|h| h.suite().id), Some(0x0578));
    /// # Ok(()) }
    /// ```
    pub fn header(&self) -> Option<&crate::Header> {
        self.decryptor.as_ref().and_then(Decryptor::header)
    }

    /// How far the plaintext read so far is verified: [`Verification::Complete`] once `read`
    /// reported the end of the message; [`Verification::SignaturePending`] while a signed
    /// message's body is read: act on the plaintext only once it is `Complete`.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io::Read;
    /// use esdk::{stream::{io::DecryptingReader, Verification}, DecryptOptions};
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, &[0u8; 10_000], &Default::default())?;
    /// let mut reader = DecryptingReader::new(&client, &keyring, &DecryptOptions::new(), message.as_slice())?;
    /// // Signed (0x0578) and longer than the first read: the signature is still ahead.
    /// assert_eq!(reader.verification(), Verification::SignaturePending);
    /// reader.read_to_end(&mut Vec::new())?;
    /// assert_eq!(reader.verification(), Verification::Complete);
    /// # Ok(()) }
    /// ```
    pub fn verification(&self) -> Verification {
        match &self.decryptor {
            Some(d) => d.verification(),
            None if self.complete => Verification::Complete,
            None => Verification::Nothing,
        }
    }

    /// Returns the inner reader.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::io::Read;
    /// use esdk::{stream::io::DecryptingReader, DecryptOptions};
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let mut reader = DecryptingReader::new(&client, &keyring, &DecryptOptions::new(), std::io::Cursor::new(message))?;
    /// reader.read_to_end(&mut Vec::new())?;
    /// let cursor = reader.into_inner();
    /// assert_eq!(cursor.position(), cursor.get_ref().len() as u64); // the whole message was read
    /// # Ok(()) }
    /// ```
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> DecryptingReader<R> {
    fn read_inner(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out.pending() > 0 {
                return Ok(self.out.read_into(buf));
            }
            let Some(decryptor) = self.decryptor.as_mut() else {
                return Ok(0);
            };
            let n = self.inner.read(self.input.space())?;
            if n == 0 {
                let decryptor = self
                    .decryptor
                    .take()
                    .ok_or_else(|| to_io(Error::Internal("reader state")))?;
                decryptor.finish().map_err(to_io)?;
                self.complete = true;
                return Ok(0);
            }
            decryptor
                .push_to(self.input.read(n)?, self.out.refill())
                .map_err(to_io)?;
            self.input.note_read(n);
        }
    }
}

impl<R: Read> Read for DecryptingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.poison.check()?;
        let res = self.read_inner(buf);
        if let Err(e) = &res {
            fail_reader(e, &mut self.poison, &mut self.out, &mut self.decryptor);
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_input_buffer_grows_only_when_reads_fill_it_and_stops_at_the_read_size() {
        let mut input = InputBuffer::new(vec![0u8; 4096], 4096, 20_000);
        input.note_read(1000); // a short read: no growth
        assert_eq!(input.space().len(), 4096);
        input.note_read(4096);
        assert_eq!(input.space().len(), 8192);
        input.note_read(8192);
        input.note_read(16_384);
        assert_eq!(input.space().len(), 20_000);
        input.note_read(20_000);
        assert_eq!(input.space().len(), 20_000);
        input.space()[..3].copy_from_slice(b"abc");
        assert_eq!(input.read(3).unwrap(), b"abc");
        // Never past the buffer.
        assert!(input.read(30_000).is_err());
        // A first buffer larger than the read size is cut to it.
        let mut small = InputBuffer::new(vec![0u8; 4096], 4096, 100);
        assert_eq!(small.space().len(), 100);
        // Large frames: the first full read grows the buffer to one frame, then it doubles.
        let mut large = InputBuffer::new(vec![0u8; 4096], 100_000, 300_000);
        large.note_read(10); // short read: no growth
        assert_eq!(large.space().len(), 4096);
        large.note_read(4096);
        assert_eq!(large.space().len(), 100_000);
        large.note_read(100_000);
        assert_eq!(large.space().len(), 200_000);
    }

    #[test]
    fn a_small_message_is_read_without_a_large_buffer() {
        let keyring = crate::RawAesKeyring::new("ns", "k", &[1u8; 32]).unwrap();
        let client = Client::default();
        let message =
            crate::blocking::encrypt(&client, &keyring, &[7u8; 1024], &Default::default()).unwrap();
        let mut reader = DecryptingReader::new(
            &client,
            &keyring,
            &DecryptOptions::new(),
            message.as_slice(),
        )
        .unwrap();
        let mut plaintext = Vec::new();
        reader.read_to_end(&mut plaintext).unwrap();
        assert_eq!(plaintext, [7u8; 1024]);
        // The header's 4 KiB, never grown: the message fit in the first read.
        assert_eq!(reader.input.space().len(), 4096);
    }
}
