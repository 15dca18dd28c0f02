//! The sans-I/O decryptor: bytes in, in any chunking; authenticated plaintext out.

use zeroize::Zeroizing;

use super::parallel;
use super::sink::Sink;
use crate::client::Client;
use crate::crypto::signature::MessageHasher;
use crate::error::FormatError;
use crate::format::body::{self, RawFrame, FINAL_FRAME_STRING, FRAME_STRING, SINGLE_BLOCK_STRING};
use crate::format::codec::Reader;
use crate::format::footer;
use crate::format::header::{ContentType, Header, HeaderScanner, UnauthenticatedHeader};
use crate::options::{DecryptOptions, KeySource};
use crate::prepare::PreparedDecrypt;
use crate::{EncryptionContext, Error};

/// Where the decryptor is in the message.
#[derive(Debug)]
enum State {
    /// Reading the header.
    Header,
    /// The header is parsed but not authenticated; [`Decryptor::authenticate`] must be called.
    NeedMaterials(Box<UnauthenticatedHeader>),
    /// Reading the body.
    Body(Box<Body>),
    /// Reading the footer of a signed message.
    Footer(Box<Body>),
    /// The whole message was read and verified.
    Done(Box<Body>),
    /// An error occurred (its message kept); nothing more is accepted.
    Failed(String),
}

#[derive(Debug)]
struct Body {
    prepared: PreparedDecrypt,
    expected_sequence: u32,
    hasher: Option<MessageHasher>,
    /// The final frame's (or non-framed body's) plaintext of a signed message, held until the
    /// footer signature verifies.
    held: Zeroizing<Vec<u8>>,
}

/// How far the plaintext a decryptor released so far is verified
/// ([`Decryptor::verification`], [`super::io::DecryptingReader::verification`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verification {
    /// No plaintext released: the header is not authenticated yet, or decryption failed.
    Nothing,
    /// Unsigned message, body being read: every released byte's frame tag verified under the
    /// data key, but the message may still turn out to be truncated.
    FramesAuthenticated,
    /// Signed message, body or footer being read: every released byte's frame tag verified
    /// under the data key, but **not yet the signature**, so anyone who can decrypt the data
    /// key could have written it; the final frame is held back until the signature verifies.
    SignaturePending,
    /// The whole message verified: every tag, and for a signed message the signature.
    Complete,
}

/// Decrypts a message given in pieces of any size, with no I/O of its own.
///
/// Three steps: [`push`](Self::push) bytes until [`header`](Self::header) is available,
/// [`authenticate`](Self::authenticate) it with a keyring or CMM (the only async step), then
/// `push` the rest and call [`finish`](Self::finish) when the input ends.
///
/// # Security
/// Plaintext is appended to the output only after its frame's authentication tag verified.
/// For **signed** suites, the plaintext of regular frames is released once its tag verifies,
/// *before* the footer signature is checked (as the specification allows); the final frame
/// (or a non-framed body) is held back until the signature verifies. Until `finish` returns
/// `Ok`, treat released plaintext of a signed message as authenticated by the data key but not
/// yet by the signer: [`verification`](Self::verification) says
/// [`Verification::SignaturePending`]. Use [`crate::ClientBuilder::unsigned_only`] to refuse
/// signed messages.
///
/// # Limits
/// A stream must buffer a whole frame (or a whole non-framed body) before it can authenticate
/// it, so a decryptor refuses messages whose frame length is above
/// [`crate::ClientBuilder::max_stream_frame_length`], or whose non-framed body is longer than
/// [`crate::ClientBuilder::max_stream_non_framed_length`], as soon as the length is read and
/// before anything is buffered. One-shot decrypt, which holds the whole message anyway, accepts
/// every length the format allows. Decrypt time is linear in the input, whatever its shape.
///
/// # Errors are final
/// After an error every later call fails with [`Error::StreamFailed`], and no byte is released.
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
/// let client = esdk::Client::default();
/// let message = esdk::blocking::encrypt(&client, &keyring, &[7u8; 10_000], &Default::default())?;
///
/// let mut decryptor = esdk::stream::Decryptor::new(&client);
/// let mut plaintext = Vec::new();
/// let mut chunks = message.chunks(100);
/// while !decryptor.is_authenticated() {
///     let chunk = chunks.next().unwrap();
///     let used = decryptor.push(chunk, &mut plaintext)?;
///     if let Some(header) = decryptor.unauthenticated_header() {
///         // Not authenticated yet: fit only to choose a keyring, never to trust.
///         assert_eq!(header.unauthenticated().encrypted_data_keys()[0].provider_id, "ns");
///         esdk::blocking::block_on(decryptor.authenticate(&keyring, &Default::default()))?;
///         decryptor.push(&chunk[used..], &mut plaintext)?;
///     }
/// }
/// for chunk in chunks {
///     decryptor.push(chunk, &mut plaintext)?;
/// }
/// decryptor.finish()?;
/// assert_eq!(plaintext, vec![7u8; 10_000]);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Decryptor {
    client: Client,
    /// One-shot decrypt: the whole message is in memory, so the stream limits do not apply.
    whole_message: bool,
    state: State,
    /// Input not yet consumed: at most one incomplete header, frame or footer.
    buf: Vec<u8>,
    scanner: HeaderScanner,
    /// Frames scanned so far, counted so a test can check the work is linear.
    #[cfg(test)]
    pub(crate) scanned: usize,
}

impl Decryptor {
    /// A decryptor with `client`'s policy and limits.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let mut decryptor = esdk::stream::Decryptor::new(&client);
    /// assert!(!decryptor.needs_authentication() && !decryptor.is_authenticated());
    /// decryptor.push(&message, &mut Vec::new())?;
    /// assert!(decryptor.needs_authentication());
    /// # Ok(()) }
    /// ```
    pub fn new(client: &Client) -> Self {
        Self {
            client: client.clone(),
            whole_message: false,
            state: State::Header,
            buf: Vec::new(),
            scanner: HeaderScanner::default(),
            #[cfg(test)]
            scanned: 0,
        }
    }

    /// A decryptor for one-shot decrypt, which is given the whole message at once: no frame
    /// or body is buffered, so the stream limits do not apply.
    pub(crate) fn for_whole_message(client: &Client) -> Self {
        Self {
            whole_message: true,
            ..Self::new(client)
        }
    }

    /// The authenticated header: `None` until [`authenticate`](Self::authenticate) succeeded.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let mut decryptor = esdk::stream::Decryptor::new(&client);
    /// decryptor.push(&message, &mut Vec::new())?;
    /// assert!(decryptor.header().is_none()); // complete, but not authenticated yet
    /// esdk::blocking::block_on(decryptor.authenticate(&keyring, &Default::default()))?;
    /// assert_eq!(decryptor.header().unwrap().suite().id, 0x0578);
    /// # Ok(()) }
    /// ```
    pub fn header(&self) -> Option<&Header> {
        match &self.state {
            State::Body(b) | State::Footer(b) | State::Done(b) => Some(&b.prepared.header),
            _ => None,
        }
    }

    /// The header once it is complete and until it is authenticated: **nothing in it is
    /// authenticated**. Use it to choose a keyring (which keys could open the message); call
    /// [`authenticate`](Self::authenticate) next.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let mut decryptor = esdk::stream::Decryptor::new(&client);
    /// decryptor.push(&message, &mut Vec::new())?;
    /// let header = decryptor.unauthenticated_header().unwrap();
    /// assert_eq!(header.unauthenticated().encrypted_data_keys()[0].provider_id, "ns");
    /// esdk::blocking::block_on(decryptor.authenticate(&keyring, &Default::default()))?;
    /// assert!(decryptor.unauthenticated_header().is_none());
    /// # Ok(()) }
    /// ```
    pub fn unauthenticated_header(&self) -> Option<&UnauthenticatedHeader> {
        match &self.state {
            State::NeedMaterials(h) => Some(h),
            _ => None,
        }
    }

    /// Whether the header is complete and waits for [`authenticate`](Self::authenticate).
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let mut decryptor = esdk::stream::Decryptor::new(&client);
    /// decryptor.push(&message[..10], &mut Vec::new())?;
    /// assert!(!decryptor.needs_authentication()); // the header is not complete yet
    /// decryptor.push(&message[10..], &mut Vec::new())?;
    /// assert!(decryptor.needs_authentication());
    /// # Ok(()) }
    /// ```
    pub fn needs_authentication(&self) -> bool {
        matches!(self.state, State::NeedMaterials(_))
    }

    /// Whether the header has been authenticated (and the body may be pushed).
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let mut decryptor = esdk::stream::Decryptor::new(&client);
    /// decryptor.push(&message, &mut Vec::new())?;
    /// assert!(!decryptor.is_authenticated());
    /// esdk::blocking::block_on(decryptor.authenticate(&keyring, &Default::default()))?;
    /// assert!(decryptor.is_authenticated());
    /// # Ok(()) }
    /// ```
    pub fn is_authenticated(&self) -> bool {
        matches!(
            self.state,
            State::Body(_) | State::Footer(_) | State::Done(_)
        )
    }

    /// Whether the whole message has been read and verified.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let mut decryptor = esdk::stream::Decryptor::new(&client);
    /// let used = decryptor.push(&message, &mut Vec::new())?;
    /// esdk::blocking::block_on(decryptor.authenticate(&keyring, &Default::default()))?;
    /// assert!(!decryptor.is_done());
    /// decryptor.push(&message[used..], &mut Vec::new())?;
    /// assert!(decryptor.is_done());
    /// # Ok(()) }
    /// ```
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    /// The most bytes the next unit (frame or footer) can take, so that appending that many
    /// to a partial unit surely completes it; `usize::MAX` for a non-framed body.
    fn largest_unit(&self) -> usize {
        match &self.state {
            State::Body(b) => match b.prepared.header.content_type {
                ContentType::Framed { frame_length } => {
                    usize::try_from(frame_length.get()).map_or(usize::MAX, body::final_frame_size)
                }
                ContentType::NonFramed => usize::MAX,
            },
            State::Footer(_) => footer::MAX_LEN,
            _ => usize::MAX,
        }
    }

    /// What the readers' ciphertext buffer grows to the first time a read fills it: one
    /// regular frame (at least 4 KiB, at most [`read_size`](Self::read_size)), so frames need
    /// not be gathered from smaller reads; it then doubles up to the read size while reads
    /// fill it.
    pub(crate) fn first_read_size(&self) -> usize {
        const SMALLEST: usize = 4096;
        self.regular_frame_size()
            .unwrap_or(0)
            .max(SMALLEST)
            .min(self.read_size())
    }

    /// The serialized size of a regular frame of an authenticated framed message.
    fn regular_frame_size(&self) -> Option<usize> {
        match self.header().map(Header::content_type) {
            Some(ContentType::Framed { frame_length }) => Some(body::regular_frame_size(
                usize::try_from(frame_length.get()).unwrap_or(usize::MAX),
            )),
            _ => None,
        }
    }

    /// How many bytes the readers ask their input for at a time: 64 KiB, or two frames when
    /// that is more (a stream's frames are opened on the caller's thread: see [`parallel`]).
    /// Frames of 1 MiB or more are read 1 MiB at a time (and opened one by one), so a reader
    /// holds about three frames at most: the partial frame, its plaintext, and a signed
    /// message's held final frame.
    pub(crate) fn read_size(&self) -> usize {
        const READ_CHUNK: usize = 64 * 1024;
        const LARGE_FRAME_READ: usize = 1 << 20;
        match self.regular_frame_size() {
            Some(size) if size >= LARGE_FRAME_READ => LARGE_FRAME_READ,
            Some(size) => size.saturating_mul(2).max(READ_CHUNK),
            None => READ_CHUNK,
        }
    }

    /// How far the plaintext released so far is verified. Until this is
    /// [`Verification::Complete`], released plaintext may belong to a truncated message, and
    /// for a signed message ([`Verification::SignaturePending`]) it is not yet covered by the
    /// signature.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use esdk::stream::{Decryptor, Verification};
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let client = esdk::Client::builder().frame_length(100).build()?; // signed suite 0x0578
    /// let message = esdk::blocking::encrypt(&client, &keyring, &[7u8; 1050], &Default::default())?;
    ///
    /// let mut decryptor = Decryptor::new(&client);
    /// let mut plaintext = Vec::new();
    /// let used = decryptor.push(&message, &mut plaintext)?;
    /// assert_eq!(decryptor.verification(), Verification::Nothing);
    /// esdk::blocking::block_on(decryptor.authenticate(&keyring, &Default::default()))?;
    /// let rest = &message[used..];
    /// decryptor.push(&rest[..rest.len() - 10], &mut plaintext)?;
    /// assert_eq!(decryptor.verification(), Verification::SignaturePending);
    /// assert_eq!(plaintext.len(), 1000); // the final frame (50 bytes) is held back
    /// decryptor.push(&rest[rest.len() - 10..], &mut plaintext)?;
    /// assert_eq!(decryptor.verification(), Verification::Complete);
    /// assert_eq!(plaintext, vec![7u8; 1050]);
    /// # Ok(()) }
    /// ```
    pub fn verification(&self) -> Verification {
        match &self.state {
            State::Header | State::NeedMaterials(_) | State::Failed(_) => Verification::Nothing,
            State::Body(b) | State::Footer(b) if b.hasher.is_some() => {
                Verification::SignaturePending
            }
            // A footer without a hasher does not occur: the footer state is for signed suites.
            State::Body(_) | State::Footer(_) => Verification::FramesAuthenticated,
            State::Done(_) => Verification::Complete,
        }
    }

    /// The full encryption context (stored plus reproduced pairs) once authenticated.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let mut decryptor = esdk::stream::Decryptor::new(&client);
    /// decryptor.push(&message, &mut Vec::new())?;
    /// assert!(decryptor.encryption_context().is_none());
    /// esdk::blocking::block_on(decryptor.authenticate(&keyring, &Default::default()))?;
    /// // Signed suites store their public key in the context.
    /// assert!(decryptor.encryption_context().unwrap().contains_key("aws-crypto-public-key"));
    /// # Ok(()) }
    /// ```
    pub fn encryption_context(&self) -> Option<&EncryptionContext> {
        match &self.state {
            State::Body(b) | State::Footer(b) | State::Done(b) => {
                Some(&b.prepared.encryption_context)
            }
            _ => None,
        }
    }

    /// Feeds message bytes and appends released plaintext to `out`. Returns how many bytes of
    /// `input` were consumed: all of them, except while the header is complete but not yet
    /// authenticated, when consumption stops at the end of the header.
    ///
    /// On error, `out` is left as it was before the call: plaintext of frames that verified
    /// earlier in the same call is wiped and removed.
    ///
    /// # Errors
    /// Any malformed or tampered input; after an error the decryptor accepts nothing more
    /// ([`Error::StreamFailed`]).
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let mut decryptor = esdk::stream::Decryptor::new(&client);
    /// let mut plaintext = Vec::new();
    /// let used = decryptor.push(&message, &mut plaintext)?; // stops after the header
    /// esdk::blocking::block_on(decryptor.authenticate(&keyring, &Default::default()))?;
    /// assert_eq!(decryptor.push(&message[used..], &mut plaintext)?, message.len() - used);
    /// assert_eq!(plaintext, b"hi");
    /// # Ok(()) }
    /// ```
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) -> crate::Result<usize> {
        self.push_to(input, out)
    }

    pub(crate) fn push_to<S: Sink + ?Sized>(
        &mut self,
        input: &[u8],
        out: &mut S,
    ) -> crate::Result<usize> {
        let before = out.len();
        let res = self.push_inner(input, out);
        if let Err(e) = &res {
            out.discard_from(before);
            self.fail(e);
        }
        res
    }

    /// Enters the failed state, keeping the error's message, and drops all buffered input
    /// and held plaintext.
    fn fail(&mut self, e: &Error) {
        if !matches!(self.state, State::Failed(_)) {
            self.state = State::Failed(e.to_string());
        }
        self.buf = Vec::new();
    }

    fn failed_error(message: &str) -> Error {
        Error::StreamFailed(message.to_owned())
    }

    fn push_inner<S: Sink + ?Sized>(&mut self, input: &[u8], out: &mut S) -> crate::Result<usize> {
        match &self.state {
            State::Header => self.push_header(input),
            State::NeedMaterials(_) => Ok(0),
            State::Body(_) | State::Footer(_) => {
                let mut rest = input;
                if !self.buf.is_empty() {
                    // Complete the buffered unit with as few input bytes as surely complete
                    // it, then go on straight from the input: the input is not copied whole.
                    let take = self.largest_unit().min(rest.len());
                    let mut buf = std::mem::take(&mut self.buf);
                    let old = buf.len();
                    buf.extend_from_slice(rest.get(..take).unwrap_or_default());
                    let used = self.process(&buf, out)?;
                    if used < old || take == rest.len() {
                        // The unit is still incomplete (so all the input is in `buf`), or
                        // nothing of the input is left. (Should a unit ever need more than
                        // `take`, the rest of the input is kept too: no byte is lost.)
                        buf.extend_from_slice(rest.get(take..).unwrap_or_default());
                        buf.drain(..used);
                        self.buf = buf;
                        return Ok(input.len());
                    }
                    buf.clear();
                    self.buf = buf;
                    rest = rest.get(used - old..).unwrap_or_default();
                }
                let used = self.process(rest, out)?;
                self.buf
                    .extend_from_slice(rest.get(used..).unwrap_or_default());
                Ok(input.len())
            }
            State::Done(_) if input.is_empty() => Ok(0),
            State::Done(_) => Err(FormatError::TrailingBytes.into()),
            State::Failed(first) => Err(Self::failed_error(first)),
        }
    }

    fn push_header(&mut self, input: &[u8]) -> crate::Result<usize> {
        let limits = *self.client.limits();
        let before = self.buf.len();
        // Scan straight from the input when nothing is buffered, so a whole message given at
        // once is never copied; otherwise resume the scan over the buffered bytes.
        let header_len = if before == 0 {
            self.scanner.scan(input, &limits)?
        } else {
            self.buf.extend_from_slice(input);
            self.scanner.scan(&self.buf, &limits)?
        };
        let Some(header_len) = header_len else {
            if before == 0 {
                self.buf.extend_from_slice(input);
            }
            return Ok(input.len());
        };
        let bytes = if before == 0 {
            input
        } else {
            self.buf.as_slice()
        };
        let mut r = Reader::new(bytes.get(..header_len).unwrap_or_default());
        let header = Header::parse(&mut r, &limits)?;
        r.finish()?;
        if let ContentType::Framed { frame_length } = header.content_type {
            if !self.whole_message && frame_length.get() > limits.max_stream_frame_length {
                return Err(Error::LimitExceeded(
                    "the frame length is above ClientBuilder::max_stream_frame_length \
                     (a stream buffers a whole frame)",
                ));
            }
        }
        self.buf = Vec::new();
        self.state = State::NeedMaterials(Box::new(UnauthenticatedHeader { header, header_len }));
        Ok(header_len.saturating_sub(before))
    }

    /// Gets decryption materials from `source`, verifies the key commitment and the header
    /// authentication tag, and with [`DecryptOptions::reproduced_context`] checks the
    /// encryption context.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] when the header is not complete yet; otherwise as
    /// [`Client::decrypt_with`].
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// use esdk::{DecryptOptions, EncryptionContext};
    /// let mut decryptor = esdk::stream::Decryptor::new(&client);
    /// decryptor.push(&message, &mut Vec::new())?;
    /// let wrong = DecryptOptions::new().reproduced_context(EncryptionContext::from([("a", "b")]));
    /// assert!(esdk::blocking::block_on(decryptor.authenticate(&keyring, &wrong)).is_err());
    /// # Ok(()) }
    /// ```
    pub async fn authenticate(
        &mut self,
        source: impl Into<KeySource<'_>>,
        options: &DecryptOptions,
    ) -> crate::Result<()> {
        self.authenticate_from(source.into(), options.reproduced_context.as_ref())
            .await
    }

    pub(crate) async fn authenticate_from(
        &mut self,
        source: KeySource<'_>,
        reproduced: Option<&EncryptionContext>,
    ) -> crate::Result<()> {
        let header = match std::mem::replace(&mut self.state, State::Header) {
            State::NeedMaterials(header) => header.header,
            State::Failed(first) => {
                let e = Self::failed_error(&first);
                self.state = State::Failed(first);
                return Err(e);
            }
            _ => {
                // Misuse fails the stream too: every call after an error fails.
                let e =
                    Error::ApiMisuse("authenticate needs a complete, not yet authenticated header");
                self.state = State::Failed(e.to_string());
                self.buf = Vec::new();
                return Err(e);
            }
        };
        // Failed until the materials are in: a dropped future or an error leaves it failed.
        self.state = State::Failed("header authentication did not complete".to_owned());
        let prepared = match self
            .client
            .prepare_decrypt(source, header, reproduced)
            .await
        {
            Ok(prepared) => prepared,
            Err(e) => {
                self.state = State::Failed(e.to_string());
                return Err(e);
            }
        };
        let hasher = prepared.header.suite.signature.map(|alg| {
            let mut h = MessageHasher::new(alg);
            prepared
                .header
                .serialized_parts()
                .iter()
                .for_each(|p| h.update(p));
            h
        });
        self.state = State::Body(Box::new(Body {
            prepared,
            expected_sequence: 1,
            hasher,
            held: Zeroizing::new(Vec::new()),
        }));
        Ok(())
    }

    /// Processes as many complete units (frames, footer) of `input` as there are; returns
    /// the bytes consumed.
    ///
    /// Every byte is parsed a bounded number of times, whatever the input's shape: runs of
    /// regular frames are scanned once and then opened (in parallel when long enough), and
    /// nothing may follow the end of the message.
    fn process<S: Sink + ?Sized>(&mut self, input: &[u8], out: &mut S) -> crate::Result<usize> {
        let mut r = Reader::new(input);
        let threads = self.client.threads();
        let min_parallel = self.client.min_parallel_bytes();
        let whole_message = self.whole_message;
        let limits = *self.client.limits();
        loop {
            let start = r.position();
            match &mut self.state {
                State::Body(body) => {
                    if let ContentType::Framed { frame_length } = body.prepared.header.content_type
                    {
                        let rest = input.get(start..).unwrap_or_default();
                        let (frames, used) = scan_regular_frames(rest, frame_length.get());
                        #[cfg(test)]
                        {
                            self.scanned = self.scanned.saturating_add(frames.len() + 1);
                        }
                        if !frames.is_empty() {
                            let raw = rest.get(..used).unwrap_or_default();
                            body.open_run(raw, &frames, out, threads, min_parallel)?;
                            r.take(used, "body")?;
                            continue;
                        }
                    } else if !whole_message {
                        let rest = input.get(start..).unwrap_or_default();
                        // A length the format forbids is reported as such by the parser below.
                        if body::non_framed_declared_len(rest).is_some_and(|len| {
                            len > limits.max_stream_non_framed_length
                                && len <= body::MAX_NON_FRAMED_LEN
                        }) {
                            return Err(Error::LimitExceeded(
                                "the non-framed body is longer than \
                                 ClientBuilder::max_stream_non_framed_length \
                                 (a stream buffers the whole body)",
                            ));
                        }
                    }
                    let frame = match body.prepared.header.content_type {
                        ContentType::NonFramed => body::parse_non_framed(&mut r),
                        ContentType::Framed { frame_length } => {
                            body::parse_frame(&mut r, frame_length.get())
                        }
                    };
                    let frame = match frame {
                        Ok(frame) => frame,
                        Err(FormatError::Truncated(_)) => return Ok(start),
                        Err(e) => return Err(e.into()),
                    };
                    if let Some(h) = body.hasher.as_mut() {
                        h.update(input.get(start..r.position()).unwrap_or_default());
                    }
                    let is_final = frame.is_final;
                    body.open(&frame, out)?;
                    if is_final {
                        let body = match std::mem::replace(&mut self.state, State::Header) {
                            State::Body(body) => body,
                            _ => return Err(Error::Internal("decryptor state")),
                        };
                        self.state = if body.hasher.is_some() {
                            State::Footer(body)
                        } else {
                            State::Done(body)
                        };
                    }
                }
                State::Footer(body) => {
                    let signature = match footer::read(&mut r) {
                        Ok(sig) => sig,
                        Err(FormatError::Truncated(_)) => return Ok(start),
                        Err(e) => return Err(e.into()),
                    };
                    let (Some(hasher), Some(key)) =
                        (body.hasher.take(), body.prepared.verification_key.as_ref())
                    else {
                        return Err(Error::Internal(
                            "signed message without hasher or verification key",
                        ));
                    };
                    key.verify(hasher, signature)?;
                    // Nothing may follow the footer: checked before the held frame is released.
                    if r.left() != 0 {
                        return Err(FormatError::TrailingBytes.into());
                    }
                    out.extend_from_slice(&body.held);
                    zeroize::Zeroize::zeroize(&mut *body.held);
                    let body = match std::mem::replace(&mut self.state, State::Header) {
                        State::Footer(body) => body,
                        _ => return Err(Error::Internal("decryptor state")),
                    };
                    self.state = State::Done(body);
                }
                State::Done(_) => {
                    return if r.left() == 0 {
                        Ok(r.position())
                    } else {
                        Err(FormatError::TrailingBytes.into())
                    };
                }
                _ => return Err(Error::Internal("decryptor state")),
            }
        }
    }

    /// Test hook: the body's next expected sequence number.
    #[cfg(test)]
    pub(crate) fn start_at_sequence(&mut self, sequence: u32) {
        if let State::Body(b) = &mut self.state {
            b.expected_sequence = sequence;
        }
    }

    /// Declares the end of the input. Succeeds only if a whole, verified message was read.
    ///
    /// # Errors
    /// [`FormatError::Truncated`] when the message ended early, or any earlier error.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let mut decryptor = esdk::stream::Decryptor::new(&client);
    /// let used = decryptor.push(&message, &mut Vec::new())?;
    /// esdk::blocking::block_on(decryptor.authenticate(&keyring, &Default::default()))?;
    /// decryptor.push(&message[used..message.len() - 1], &mut Vec::new())?;
    /// assert!(decryptor.finish().is_err()); // one byte short: truncated
    /// # Ok(()) }
    /// ```
    pub fn finish(self) -> crate::Result<()> {
        self.into_parts().map(drop)
    }

    /// Ends the input and returns the authenticated header and full encryption context.
    pub(crate) fn into_parts(self) -> crate::Result<(Header, EncryptionContext)> {
        match self.state {
            State::Done(body) => Ok((body.prepared.header, body.prepared.encryption_context)),
            State::Failed(first) => Err(Self::failed_error(&first)),
            State::Header | State::NeedMaterials(_) => Err(FormatError::Truncated("header").into()),
            State::Body(_) => Err(FormatError::Truncated("body").into()),
            State::Footer(_) => Err(FormatError::Truncated("footer").into()),
        }
    }
}

/// The most regular frames one run holds, and the most bytes: a run's frame list costs memory
/// in proportion to its frames, so a message of tiny frames is opened in bounded runs.
const MAX_RUN_FRAMES: usize = 1 << 16;
const MAX_RUN_BYTES: usize = 64 << 20;

/// Scans the complete regular frames at the front of `input` (at most [`MAX_RUN_FRAMES`] and
/// about [`MAX_RUN_BYTES`]), stopping before the final frame, an incomplete frame or anything
/// malformed (which the caller then parses on its own, to report it). Returns the frames and the
/// bytes they take. Parses each frame once.
fn scan_regular_frames(input: &[u8], frame_length: u32) -> (Vec<RawFrame<'_>>, usize) {
    let frame_size = usize::try_from(frame_length).map_or(usize::MAX, body::regular_frame_size);
    let most = (MAX_RUN_BYTES / frame_size.max(1))
        .clamp(1, MAX_RUN_FRAMES)
        .min(input.len() / frame_size.max(1));
    let mut frames = Vec::with_capacity(most);
    let mut r = Reader::new(input);
    while frames.len() < most {
        let mut attempt = r.clone();
        match body::parse_frame(&mut attempt, frame_length) {
            Ok(frame) if !frame.is_final => {
                frames.push(frame);
                r = attempt;
            }
            _ => break,
        }
    }
    (frames, r.position())
}

impl Body {
    /// Opens a run of regular `frames` (serialized as `raw`): on several threads when the run
    /// is long enough, otherwise one by one. Fails on the first frame out of order.
    fn open_run<S: Sink + ?Sized>(
        &mut self,
        raw: &[u8],
        frames: &[RawFrame<'_>],
        out: &mut S,
        threads: usize,
        min_parallel: usize,
    ) -> crate::Result<()> {
        let ContentType::Framed { frame_length } = self.prepared.header.content_type else {
            return Err(Error::Internal("a run of frames in a non-framed body"));
        };
        let frame_len = usize::try_from(frame_length.get()).unwrap_or(usize::MAX);
        if !parallel::worth_it(frames.len(), frame_len, threads, min_parallel) {
            if let Some(h) = self.hasher.as_mut() {
                h.update(raw);
            }
            for frame in frames {
                self.open(frame, out)?;
            }
            return Ok(());
        }
        for (i, frame) in frames.iter().enumerate() {
            let expected = u32::try_from(i)
                .ok()
                .and_then(|i| self.expected_sequence.checked_add(i));
            if Some(frame.sequence) != expected {
                return Err(FormatError::Invalid("frame.sequence_number (out of order)").into());
            }
        }
        let count = u32::try_from(frames.len())
            .ok()
            .and_then(|n| self.expected_sequence.checked_add(n))
            .ok_or(FormatError::Invalid("frame.sequence_number (overflow)"))?;
        let before = out.len();
        let dst = out.grow(frames.len() * frame_len);
        let aead = &self.prepared.aead;
        let message_id = self.prepared.header.message_id.as_slice();
        // The signature hash of the run overlaps the AES work on another thread.
        let opened = match self.hasher.as_mut() {
            Some(hasher) => parallel::beside(
                || hasher.update(raw),
                || {
                    parallel::open_regular_frames(
                        aead,
                        message_id,
                        frames,
                        frame_len,
                        dst,
                        threads.saturating_sub(1).max(1),
                    )
                },
            ),
            None => {
                parallel::open_regular_frames(aead, message_id, frames, frame_len, dst, threads)
            }
        };
        if let Err(e) = opened {
            out.discard_from(before);
            return Err(e);
        }
        self.expected_sequence = count;
        Ok(())
    }

    fn open<S: Sink + ?Sized>(&mut self, frame: &RawFrame<'_>, out: &mut S) -> crate::Result<()> {
        let header = &self.prepared.header;
        let content = match header.content_type {
            ContentType::NonFramed => SINGLE_BLOCK_STRING,
            ContentType::Framed { .. } if frame.is_final => FINAL_FRAME_STRING,
            ContentType::Framed { .. } => FRAME_STRING,
        };
        if frame.sequence != self.expected_sequence {
            return Err(FormatError::Invalid("frame.sequence_number (out of order)").into());
        }
        if !frame.is_final {
            self.expected_sequence = self
                .expected_sequence
                .checked_add(1)
                .ok_or(FormatError::Invalid("frame.sequence_number (overflow)"))?;
        }
        if frame.is_final && self.hasher.is_some() {
            // Held until the signature verifies.
            frame.open(
                &self.prepared.aead,
                &header.message_id,
                content,
                &mut *self.held,
            )
        } else {
            frame.open(&self.prepared.aead, &header.message_id, content, out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocking::block_on;
    use crate::{suite, RawAesKeyring};

    /// A message of `frames` one-byte frames (suite 0x0478 or 0x0578), decrypted on two threads.
    fn tiny_frames(signed: bool, frames: usize) -> (Client, RawAesKeyring, Vec<u8>) {
        let keyring = RawAesKeyring::new("ns", "k", &[3u8; 32]).unwrap();
        let suite = if signed {
            &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384
        } else {
            &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY
        };
        let client = Client::builder()
            .suite(suite)
            .frame_length(1)
            .threads(2)
            .min_parallel_bytes(1 << 20)
            .build()
            .unwrap();
        let message =
            block_on(client.encrypt(&keyring, &vec![7u8; frames], &Default::default())).unwrap();
        (client, keyring, message)
    }

    /// Defect 1: with several threads, every frame used to rescan all the frames after it, so
    /// tiny frames followed by trailing bytes cost time quadratic in the input (20,000 frames
    /// and 34 MiB of zeros: 8 s). Each frame must now be scanned a bounded number of times,
    /// and the trailing bytes refused when they are seen.
    #[test]
    fn tiny_frames_and_trailing_bytes_cost_linear_work() {
        const FRAMES: usize = 20_000;
        for signed in [false, true] {
            let (client, keyring, message) = tiny_frames(signed, FRAMES);
            let mut hostile = message.clone();
            hostile.resize(message.len() + (4 << 20), 0);

            // One-shot: the whole input at once.
            let mut d = Decryptor::for_whole_message(&client);
            let used = d.push(&hostile, &mut Vec::new()).unwrap();
            block_on(d.authenticate(&keyring, &DecryptOptions::new())).unwrap();
            let mut out = Vec::new();
            let err = d.push(&hostile[used..], &mut out).unwrap_err();
            assert!(
                matches!(err, Error::Malformed(FormatError::TrailingBytes)),
                "{err:?}"
            );
            assert!(out.is_empty(), "plaintext released by a failed push");
            // Quadratic scanning counted ~FRAMES^2 / 2 = 2e8 frames here.
            assert!(d.scanned <= 2 * FRAMES + 16, "scanned {} frames", d.scanned);

            // Streaming in 64 KiB pieces: the first piece holding a trailing byte fails.
            let mut d = Decryptor::new(&client);
            let used = d.push(&hostile, &mut Vec::new()).unwrap();
            block_on(d.authenticate(&keyring, &DecryptOptions::new())).unwrap();
            let mut out = Vec::new();
            let mut at = used;
            let failed_at = loop {
                let end = (at + 65536).min(hostile.len());
                if d.push(&hostile[at..end], &mut out).is_err() {
                    break end;
                }
                at = end;
            };
            assert!(
                failed_at <= message.len() + 65536,
                "failed only at {failed_at}"
            );
            assert!(
                d.scanned <= 2 * FRAMES + 16 * (hostile.len() / 65536),
                "{}",
                d.scanned
            );
        }
    }

    /// Defect 2: a failed push wipes what it released, and every later call fails.
    #[test]
    fn errors_are_sticky_and_release_nothing() {
        let (client, keyring, message) = tiny_frames(false, 3000);
        let mut tampered = message.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1; // the final frame's tag
        let mut d = Decryptor::new(&client);
        let used = d.push(&tampered, &mut Vec::new()).unwrap();
        assert!(
            d.header().is_none(),
            "a header handed out before authentication"
        );
        assert!(d.unauthenticated_header().is_some());
        block_on(d.authenticate(&keyring, &DecryptOptions::new())).unwrap();
        assert!(d.header().is_some() && d.unauthenticated_header().is_none());
        let mut out = b"before".to_vec();
        let err = d.push(&tampered[used..], &mut out).unwrap_err();
        assert!(matches!(err, Error::FrameAuthentication { .. }), "{err:?}");
        assert_eq!(
            out, b"before",
            "frames that verified in the failed push were kept"
        );
        for _ in 0..3 {
            assert!(matches!(
                d.push(&message[used..], &mut out),
                Err(Error::StreamFailed(_))
            ));
            assert_eq!(out, b"before");
        }
        assert_eq!(d.verification(), Verification::Nothing);
        assert!(matches!(d.finish(), Err(Error::StreamFailed(m)) if m.contains("frame")));
    }

    /// A message whose frames start at `first`, to test the last sequence numbers cheaply.
    #[test]
    fn final_frame_numbered_2_pow_32_minus_1_decrypts() {
        let keyring = RawAesKeyring::new("ns", "k", &[3u8; 32]).unwrap();
        let client = Client::builder()
            .frame_length(4)
            .threads(1)
            .build()
            .unwrap();
        let mut message = Vec::new();
        let mut e = block_on(super::super::Encryptor::new(
            &client,
            &keyring,
            &crate::EncryptOptions::new(),
            &mut message,
        ))
        .unwrap();
        e.start_at_sequence(0xFFFF_FFFD);
        e.push(b"aaaabbbbcc", &mut message).unwrap();
        e.finish(&mut message).unwrap();
        let mut d = Decryptor::new(&client);
        let used = d.push(&message, &mut Vec::new()).unwrap();
        block_on(d.authenticate(&keyring, &DecryptOptions::new())).unwrap();
        d.start_at_sequence(0xFFFF_FFFD);
        let mut out = Vec::new();
        d.push(&message[used..], &mut out).unwrap();
        d.finish().unwrap();
        assert_eq!(out, b"aaaabbbbcc");
    }
}
