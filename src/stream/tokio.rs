//! `tokio::io` adapters over the sans-I/O [`Encryptor`] and [`Decryptor`] (feature `tokio`).
//!
//! The same contract as [`super::io`]: errors reach callers as `io::Error`s wrapping
//! [`crate::Error`], and a reader reports end-of-stream only after the whole message verified.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

use super::io::{fail_reader, push_header_chunk, to_io, InputBuffer, Poison, Released};
use super::sink::{Presized, Sink};
use super::{Decryptor, Encryptor, Verification};
use crate::options::{DecryptOptions, EncryptOptions, KeySource};
use crate::{Client, Error};

/// Encrypts everything written to it into `inner`. Call `shutdown()` (from
/// `tokio::io::AsyncWriteExt`) at the end: it writes the final frame and footer.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use tokio::io::AsyncWriteExt;
/// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
/// let client = esdk::Client::default();
/// let options = esdk::EncryptOptions::new();
/// let mut writer = esdk::stream::tokio::AsyncEncryptingWriter::new(&client, &keyring, &esdk::EncryptOptions::from(options.clone()), Vec::new()).await?;
/// writer.write_all(b"async").await?;
/// writer.shutdown().await?;
/// let message = writer.into_inner();
/// assert_eq!(client.decrypt(&keyring, &message).await?.plaintext, b"async");
/// # Ok(()) }
/// ```
///
/// After any error the writer is failed: every later call returns an error.
pub struct AsyncEncryptingWriter<W> {
    encryptor: Option<Encryptor>,
    inner: W,
    out: Presized,
    out_pos: usize,
    poison: Poison,
}

impl<W> fmt::Debug for AsyncEncryptingWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncEncryptingWriter")
            .field("encryptor", &self.encryptor)
            .finish_non_exhaustive()
    }
}

impl<W: AsyncWrite + Unpin> AsyncEncryptingWriter<W> {
    /// Gets materials from `source`; the header is written with the first write or flush.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use tokio::io::AsyncWriteExt;
    /// use esdk::stream::tokio::AsyncEncryptingWriter;
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let client = esdk::Client::default();
    /// let mut writer = AsyncEncryptingWriter::new(&client, &keyring, &esdk::EncryptOptions::new(), Vec::new()).await?;
    /// writer.flush().await?; // the header goes out with the first write or flush
    /// let header_only = writer.into_inner();
    /// assert_eq!(esdk::parse_header(&header_only)?.len(), header_only.len());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Client::encrypt_with`].
    pub async fn new<'a>(
        client: &Client,
        source: impl Into<KeySource<'a>>,
        options: &EncryptOptions,
        inner: W,
    ) -> crate::Result<Self> {
        let mut out = Vec::new();
        let encryptor = Encryptor::new(client, source, options, &mut out).await?;
        Ok(Self::start(encryptor, inner, out))
    }

    fn start(encryptor: Encryptor, inner: W, header: Vec<u8>) -> Self {
        let mut out = Presized::new(0);
        out.extend_from_slice(&header);
        Self {
            encryptor: Some(encryptor),
            inner,
            out,
            out_pos: 0,
            poison: Poison::default(),
        }
    }

    /// The inner writer (after `shutdown`, it holds the whole message).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use tokio::io::AsyncWriteExt;
    /// use esdk::stream::tokio::AsyncEncryptingWriter;
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let client = esdk::Client::default();
    /// let mut writer = AsyncEncryptingWriter::new(&client, &keyring, &esdk::EncryptOptions::new(), Vec::new()).await?;
    /// writer.write_all(b"async").await?;
    /// writer.shutdown().await?;
    /// let message: Vec<u8> = writer.into_inner();
    /// assert_eq!(client.decrypt(&keyring, &message).await?.plaintext, b"async");
    /// # Ok(()) }
    /// ```
    pub fn into_inner(self) -> W {
        self.inner
    }

    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.out_pos < self.out.len() {
            let pending = self.out.bytes().get(self.out_pos..).unwrap_or_default();
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, pending))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.out_pos += n;
        }
        self.out.clear();
        self.out_pos = 0;
        Poll::Ready(Ok(()))
    }
}

impl<W: AsyncWrite + Unpin> AsyncEncryptingWriter<W> {
    fn write_inner(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_drain(cx))?;
        let encryptor = self
            .encryptor
            .as_mut()
            .ok_or_else(|| to_io(Error::ApiMisuse("write after shutdown")))?;
        encryptor.push_to(buf, &mut self.out).map_err(to_io)?;
        Poll::Ready(Ok(buf.len()))
    }

    fn flush_inner(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn shutdown_inner(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        if let Some(encryptor) = self.encryptor.as_mut() {
            let finished = encryptor.finish_to(&mut self.out).map_err(to_io);
            self.encryptor = None;
            finished?;
            ready!(self.poll_drain(cx))?;
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    /// Records the error of a ready result: the writer is failed from then on.
    fn record<T>(&mut self, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match poll {
            Poll::Ready(res) => Poll::Ready(self.poison.record(res)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for AsyncEncryptingWriter<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        this.poison.check()?;
        let poll = this.write_inner(cx, buf);
        this.record(poll)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        this.poison.check()?;
        let poll = this.flush_inner(cx);
        this.record(poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        this.poison.check()?;
        let poll = this.shutdown_inner(cx);
        this.record(poll)
    }
}

/// Decrypts the message read from `inner`. A read returns 0 bytes only after the whole
/// message, including a signed message's footer, verified.
///
/// # Security
/// As [`super::io::DecryptingReader`]: for signed suites, plaintext of regular frames arrives
/// before the signature is checked; act on it only after end-of-stream. Errors are final:
/// after the first one every later read fails and unread plaintext is wiped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use tokio::io::AsyncReadExt;
/// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
/// let client = esdk::Client::default();
/// let message = client.encrypt(&keyring, b"async", &Default::default()).await?;
/// let options = esdk::DecryptOptions::new();
/// let mut reader = esdk::stream::tokio::AsyncDecryptingReader::new(&client, &keyring, &options, message.as_slice()).await?;
/// let mut plaintext = Vec::new();
/// reader.read_to_end(&mut plaintext).await?;
/// assert_eq!(plaintext, b"async");
/// # Ok(()) }
/// ```
pub struct AsyncDecryptingReader<R> {
    decryptor: Option<Decryptor>,
    /// Set when the decryptor finished: the whole message verified.
    complete: bool,
    poison: Poison,
    inner: R,
    input: InputBuffer,
    out: Released,
}

impl<R> fmt::Debug for AsyncDecryptingReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncDecryptingReader")
            .field("decryptor", &self.decryptor)
            .field("buffered_plaintext_len", &self.out.pending())
            .finish_non_exhaustive()
    }
}

impl<R: AsyncRead + Unpin> AsyncDecryptingReader<R> {
    /// Reads the header of the message in `inner` and authenticates it with `source`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use tokio::io::AsyncReadExt;
    /// use esdk::{stream::tokio::AsyncDecryptingReader, DecryptOptions};
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = client.encrypt(&keyring, b"hi", &Default::default()).await?;
    /// let mut reader = AsyncDecryptingReader::new(&client, &keyring, &DecryptOptions::new(), message.as_slice()).await?;
    /// let mut plaintext = String::new();
    /// reader.read_to_string(&mut plaintext).await?;
    /// assert_eq!(plaintext, "hi");
    /// let other = esdk::RawAesKeyring::new("ns", "other", &[2u8; 32])?;
    /// assert!(AsyncDecryptingReader::new(&client, &other, &DecryptOptions::new(), message.as_slice()).await.is_err());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Client::decrypt_with`], and I/O errors of `inner`.
    pub async fn new<'a>(
        client: &Client,
        source: impl Into<KeySource<'a>>,
        options: &DecryptOptions,
        mut inner: R,
    ) -> crate::Result<Self> {
        let source = source.into();
        let mut decryptor = Decryptor::new(client);
        let mut out = Released::default();
        let mut chunk = vec![0u8; 4096];
        let rest = loop {
            let n = match inner.read(&mut chunk).await {
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
        decryptor.authenticate(source, options).await?;
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
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use esdk::{stream::tokio::AsyncDecryptingReader, DecryptOptions};
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = client.encrypt(&keyring, b"hi", &Default::default()).await?;
    /// let reader = AsyncDecryptingReader::new(&client, &keyring, &DecryptOptions::new(), message.as_slice()).await?;
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
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use tokio::io::AsyncReadExt;
    /// use esdk::{stream::{tokio::AsyncDecryptingReader, Verification}, DecryptOptions};
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = client.encrypt(&keyring, &[0u8; 10_000], &Default::default()).await?;
    /// let mut reader = AsyncDecryptingReader::new(&client, &keyring, &DecryptOptions::new(), message.as_slice()).await?;
    /// // Signed (0x0578) and longer than the first read: the signature is still ahead.
    /// assert_eq!(reader.verification(), Verification::SignaturePending);
    /// reader.read_to_end(&mut Vec::new()).await?;
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
}

impl<R: AsyncRead + Unpin> AsyncRead for AsyncDecryptingReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        this.poison.check()?;
        let poll = this.read_inner(cx, buf);
        if let Poll::Ready(Err(e)) = &poll {
            fail_reader(e, &mut this.poison, &mut this.out, &mut this.decryptor);
        }
        poll
    }
}

impl<R: AsyncRead + Unpin> AsyncDecryptingReader<R> {
    fn read_inner(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self;
        loop {
            if this.out.pending() > 0 {
                let n = this.out.read_into(buf.initialize_unfilled());
                buf.advance(n);
                return Poll::Ready(Ok(()));
            }
            let Some(decryptor) = this.decryptor.as_mut() else {
                return Poll::Ready(Ok(()));
            };
            let mut read = ReadBuf::new(this.input.space());
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read))?;
            let filled = read.filled().len();
            if filled == 0 {
                let decryptor = this
                    .decryptor
                    .take()
                    .ok_or_else(|| to_io(Error::Internal("reader state")))?;
                decryptor.finish().map_err(to_io)?;
                this.complete = true;
                return Poll::Ready(Ok(()));
            }
            decryptor
                .push_to(this.input.read(filled)?, this.out.refill())
                .map_err(to_io)?;
            this.input.note_read(filled);
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::RawAesKeyring;

    #[tokio::test]
    async fn through_a_small_pipe_with_backpressure() {
        let keyring = RawAesKeyring::new("ns", "k", &[3u8; 32]).unwrap();
        let client = Client::builder().frame_length(100).build().unwrap();
        let plaintext: Vec<u8> = (0..50_000u32).map(|i| (i % 241) as u8).collect();
        // Encrypt into a 64-byte pipe, read by another task.
        let (a, mut b) = tokio::io::duplex(64);
        let mut writer =
            AsyncEncryptingWriter::new(&client, &keyring, &crate::EncryptOptions::new(), a)
                .await
                .unwrap();
        let reader_task = tokio::spawn(async move {
            let mut message = Vec::new();
            b.read_to_end(&mut message).await.unwrap();
            message
        });
        for chunk in plaintext.chunks(777) {
            writer.write_all(chunk).await.unwrap();
        }
        writer.shutdown().await.unwrap();
        drop(writer);
        let message = reader_task.await.unwrap();
        // Decrypt through another small pipe.
        let (mut c, d) = tokio::io::duplex(64);
        let feeder = tokio::spawn(async move {
            c.write_all(&message).await.unwrap();
            c.shutdown().await.unwrap();
            message
        });
        let mut reader =
            AsyncDecryptingReader::new(&client, &keyring, &crate::DecryptOptions::new(), d)
                .await
                .unwrap();
        let mut out = Vec::new();
        reader.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, plaintext);
        let message = feeder.await.unwrap();
        // Truncated: an error, never a clean end.
        let mut reader = AsyncDecryptingReader::new(
            &client,
            &keyring,
            &crate::DecryptOptions::new(),
            &message[..message.len() - 1],
        )
        .await
        .unwrap();
        let err = reader.read_to_end(&mut Vec::new()).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    /// Fails its second write, accepts everything else.
    struct FailSecond(usize);

    impl AsyncWrite for FailSecond {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.0 += 1;
            Poll::Ready(if self.0 == 2 {
                Err(io::Error::other("disk full"))
            } else {
                Ok(buf.len())
            })
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn errors_are_sticky() {
        let keyring = RawAesKeyring::new("ns", "k", &[3u8; 32]).unwrap();
        let client = Client::builder().frame_length(100).build().unwrap();
        let message = client
            .encrypt(&keyring, &[5u8; 20_000], &crate::EncryptionContext::new())
            .await
            .unwrap();
        // A truncated message, then a tampered one: every read after the error fails.
        let mut tampered = message.clone();
        let at = tampered.len() - 200;
        tampered[at] ^= 1;
        for (input, kind) in [
            (&message[..message.len() - 1], io::ErrorKind::UnexpectedEof),
            (&tampered[..], io::ErrorKind::InvalidData),
        ] {
            let mut reader =
                AsyncDecryptingReader::new(&client, &keyring, &crate::DecryptOptions::new(), input)
                    .await
                    .unwrap();
            let mut got = Vec::new();
            let err = reader.read_to_end(&mut got).await.unwrap_err();
            assert_eq!(err.kind(), kind);
            for _ in 0..3 {
                let mut buf = [0u8; 64];
                let again = reader.read(&mut buf).await.unwrap_err();
                assert_eq!(again.kind(), kind);
                assert!(again.to_string().contains("already failed"), "{again}");
            }
            assert_eq!(reader.verification(), Verification::Nothing);
        }
        // A writer whose inner writer failed once stays failed.
        let client = Client::builder()
            .frame_length(10)
            .threads(1)
            .build()
            .unwrap();
        let mut writer = AsyncEncryptingWriter::new(
            &client,
            &keyring,
            &crate::EncryptOptions::new(),
            FailSecond(0),
        )
        .await
        .unwrap();
        writer.write_all(&[1u8; 5]).await.unwrap(); // the header goes out
        writer.write_all(&[1u8; 100]).await.unwrap(); // frames are sealed, not written yet
        assert!(writer.flush().await.is_err()); // the second inner write fails
        for _ in 0..3 {
            let e = writer.write_all(&[1u8; 10]).await.unwrap_err();
            assert!(e.to_string().contains("disk full"), "{e}");
        }
        assert!(writer.shutdown().await.is_err());
    }
}
