//! The sans-I/O encryptor: plaintext in, in any chunking; message bytes out.

use zeroize::Zeroizing;

use super::parallel;
use super::sink::{extend_wiping, Presized, Sink};
use crate::client::Client;
use crate::crypto::signature::MessageHasher;
use crate::format::body;
use crate::format::header::{ContentType, Header};
use crate::options::{EncryptOptions, KeySource};
use crate::prepare::PreparedEncrypt;
use crate::{EncryptionContext, Error};

/// Encrypts a plaintext given in pieces of any size into a framed message, with no I/O of its
/// own. Memory held: one frame of plaintext. A single push of a run of at least
/// [`crate::ClientBuilder::min_parallel_bytes`] is sealed on several threads
/// ([`crate::ClientBuilder::threads`]); smaller pushes are sealed on the caller's thread.
///
/// [`finish`](Self::finish) must be called: it writes the final frame and, for signed suites,
/// the footer. A message without them is truncated, and decryption rejects it.
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
/// let client = esdk::Client::default();
/// let mut message = Vec::new();
/// let options = esdk::EncryptOptions::new();
/// let mut encryptor = esdk::blocking::block_on(esdk::stream::Encryptor::new(&client, &keyring, &esdk::EncryptOptions::from(options.clone()), &mut message))?;
/// for chunk in [&b"hello "[..], b"world"] {
///     encryptor.push(chunk, &mut message)?;
/// }
/// encryptor.finish(&mut message)?;
/// assert_eq!(esdk::blocking::decrypt(&client, &keyring, &message)?.plaintext, b"hello world");
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Encryptor {
    prepared: PreparedEncrypt,
    frame_len: usize,
    /// Plaintext not sealed yet: at most one frame (see [`parallel`] for why no more).
    pending: Zeroizing<Vec<u8>>,
    /// The next frame's sequence number.
    sequence: u32,
    hasher: Option<MessageHasher>,
    threads: usize,
    /// The shortest run spread over threads.
    min_parallel: usize,
    /// The declared plaintext length bound, if any, and the plaintext taken so far.
    bound: Option<u64>,
    taken: u64,
    /// Set by the first error (its message) or by the final frame: from then on nothing more
    /// is sealed (a frame sealed after an error could reuse a sequence number, and with it an
    /// IV under the same key).
    failed: Option<String>,
}

const TOO_MANY_FRAMES: Error = Error::LimitExceeded("plaintext needs more than 2^32 - 1 frames");

impl Encryptor {
    /// Gets materials from `source` and writes the header to `out`. With
    /// [`EncryptOptions::plaintext_length`], the length is passed to the materials manager and
    /// enforced: a push past it fails.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// let client = esdk::Client::default();
    /// let mut message = Vec::new();
    /// let encryptor = esdk::blocking::block_on(esdk::stream::Encryptor::new(&client, &keyring, &esdk::EncryptOptions::new(), &mut message))?;
    /// // The header is written at once, and nothing else yet.
    /// assert_eq!(esdk::parse_header(&message)?.len(), message.len());
    /// assert_eq!(encryptor.header().suite().id, 0x0578);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Client::encrypt_with`].
    pub async fn new(
        client: &Client,
        source: impl Into<KeySource<'_>>,
        options: &EncryptOptions,
        out: &mut Vec<u8>,
    ) -> crate::Result<Self> {
        Self::from_source(
            client,
            source.into(),
            options.plaintext_length,
            &options.encryption_context,
            out,
        )
        .await
    }

    pub(crate) async fn from_source<S: Sink + ?Sized>(
        client: &Client,
        source: KeySource<'_>,
        max_plaintext_length: Option<u64>,
        encryption_context: &EncryptionContext,
        out: &mut S,
    ) -> crate::Result<Self> {
        let encryptor =
            Self::prepare(client, source, max_plaintext_length, encryption_context).await?;
        encryptor.prepared.write_header(out)?;
        Ok(encryptor)
    }

    /// As [`from_source`](Self::from_source) without writing the header (which
    /// [`seal_all`](Self::seal_all) writes).
    pub(crate) async fn prepare(
        client: &Client,
        source: KeySource<'_>,
        max_plaintext_length: Option<u64>,
        encryption_context: &EncryptionContext,
    ) -> crate::Result<Self> {
        let materials = client
            .encryption_materials(source, max_plaintext_length, encryption_context)
            .await?;
        let frame_length = client.frame_length();
        let prepared = client.prepare_encrypt(materials, ContentType::Framed { frame_length })?;
        let frame_len = usize::try_from(frame_length.get())
            .map_err(|_| Error::LimitExceeded("frame length"))?;
        let mut hasher = prepared
            .signing_key
            .as_ref()
            .map(|k| MessageHasher::new(k.algorithm()));
        if let Some(h) = hasher.as_mut() {
            prepared
                .header
                .serialized_parts()
                .iter()
                .for_each(|p| h.update(p));
        }
        Ok(Self {
            prepared,
            frame_len,
            pending: Zeroizing::new(Vec::new()),
            sequence: 1,
            hasher,
            threads: client.threads(),
            min_parallel: client.min_parallel_bytes(),
            bound: max_plaintext_length,
            taken: 0,
            failed: None,
        })
    }

    /// Test hook: the next frame's sequence number, to reach the last ones without 2^32 frames.
    #[cfg(test)]
    pub(crate) fn start_at_sequence(&mut self, sequence: u32) {
        self.sequence = sequence;
    }

    /// The header written to the output.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// let mut message = Vec::new();
    /// let encryptor = esdk::blocking::block_on(esdk::stream::Encryptor::new(&client, &keyring, &Default::default(), &mut message))?;
    /// assert_eq!(encryptor.header().suite().id, 0x0578);
    /// assert_eq!(esdk::parse_header(&message)?.unauthenticated().message_id(), encryptor.header().message_id());
    /// # Ok(()) }
    /// ```
    pub fn header(&self) -> &Header {
        &self.prepared.header
    }

    fn seal<S: Sink + ?Sized>(
        &mut self,
        plaintext: &[u8],
        is_final: bool,
        out: &mut S,
    ) -> crate::Result<()> {
        // Regular frames are numbered up to 2^32 - 2: 0xFFFFFFFF marks the final frame, whose
        // own sequence number may be 2^32 - 1. Checked before sealing, never after.
        if !is_final && self.sequence == body::FINAL_FRAME_MARKER {
            return Err(TOO_MANY_FRAMES);
        }
        let written = body::seal_frame(
            &self.prepared.aead,
            &self.prepared.header.message_id,
            self.sequence,
            is_final,
            plaintext,
            out,
        )?;
        if let Some(h) = self.hasher.as_mut() {
            h.update(written);
        }
        if !is_final {
            self.sequence = self.sequence.checked_add(1).ok_or(TOO_MANY_FRAMES)?;
        }
        Ok(())
    }

    /// Encrypts a whole plaintext (one-shot encrypt) into `out`, made room for once at the
    /// message's size, the header first.
    pub(crate) fn seal_all(mut self, plaintext: &[u8], out: &mut Presized) -> crate::Result<()> {
        let regular = self.regular_len(plaintext.len()) / self.frame_len;
        // More frames than the format allows fail before the output is allocated.
        self.sequence_after(regular)?;
        let final_len = plaintext.len() - regular * self.frame_len;
        // The longest DER ECDSA signature (P-384) is 104 bytes.
        let footer = if self.hasher.is_some() { 2 + 104 } else { 0 };
        let size = regular
            .saturating_mul(body::regular_frame_size(self.frame_len))
            .saturating_add(body::final_frame_size(final_len))
            .saturating_add(self.prepared.header_len() + footer);
        out.make_room(size);
        self.prepared.write_header(out)?;
        self.seal_end(plaintext, out)
    }

    /// Encrypts `input` and appends whole frames to `out`. The last (full or partial) frame is
    /// held back until more input arrives or [`finish`](Self::finish) seals the end of the
    /// message.
    ///
    /// # Errors
    /// [`Error::LimitExceeded`] past 2^32 - 1 frames, or as soon as the plaintext exceeds the
    /// length declared with [`EncryptOptions::plaintext_length`]. After any error the
    /// encryptor is failed: every later call returns an error and nothing more is sealed.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// use esdk::EncryptOptions;
    /// let mut message = Vec::new();
    /// let options = EncryptOptions::new().plaintext_length(4);
    /// let mut encryptor = esdk::blocking::block_on(esdk::stream::Encryptor::new(&client, &keyring, &options, &mut message))?;
    /// encryptor.push(b"four", &mut message)?;
    /// assert!(encryptor.push(b"!", &mut message).is_err()); // past the declared length
    /// assert!(encryptor.push(b"", &mut message).is_err()); // and failed for good
    /// # Ok(()) }
    /// ```
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) -> crate::Result<()> {
        self.push_to(input, out)
    }

    pub(crate) fn push_to<S: Sink + ?Sized>(
        &mut self,
        input: &[u8],
        out: &mut S,
    ) -> crate::Result<()> {
        self.check()?;
        let before = out.len();
        let res = self
            .take(input.len())
            .and_then(|()| self.push_inner(input, out));
        if let Err(e) = &res {
            // Frames sealed earlier in this call are taken back: a failed call writes nothing.
            out.truncate(before);
            self.fail(e.to_string());
        }
        res
    }

    fn check(&self) -> crate::Result<()> {
        match &self.failed {
            Some(first) => Err(Error::StreamFailed(first.clone())),
            None => Ok(()),
        }
    }

    /// Counts `n` more plaintext bytes against the declared bound.
    fn take(&mut self, n: usize) -> crate::Result<()> {
        let taken = self.taken.saturating_add(n as u64);
        if self.bound.is_some_and(|bound| taken > bound) {
            return Err(Error::LimitExceeded(
                "the plaintext is longer than the declared max_plaintext_length",
            ));
        }
        self.taken = taken;
        Ok(())
    }

    /// Enters the failed state and wipes the gathered plaintext.
    fn fail(&mut self, why: String) {
        if self.failed.is_none() {
            self.failed = Some(why);
        }
        zeroize::Zeroize::zeroize(&mut *self.pending);
    }

    fn push_inner<S: Sink + ?Sized>(&mut self, mut input: &[u8], out: &mut S) -> crate::Result<()> {
        if input.is_empty() {
            return Ok(());
        }
        // Small pieces are gathered, up to one frame.
        if self.pending.len() + input.len() <= self.frame_len {
            if self.pending.capacity() == 0 {
                // Room for this piece (at most a frame, by the test above), so a small message
                // gets no frame-sized buffer; it grows, wiping what it leaves, as pieces come.
                self.pending.reserve(input.len());
            }
            extend_wiping(&mut self.pending, input);
            return Ok(());
        }
        // Top the gathered input up to whole frames and seal them: more input follows them,
        // so none of them is the final frame.
        if !self.pending.is_empty() {
            let partial = self.pending.len() % self.frame_len;
            if partial != 0 {
                let take = (self.frame_len - partial).min(input.len());
                let (head, rest) = input.split_at(take);
                extend_wiping(&mut self.pending, head);
                input = rest;
                if input.is_empty() {
                    return Ok(());
                }
            }
            let pending = std::mem::take(&mut self.pending);
            let sealed = self.seal_regular(&pending, out);
            self.pending = pending;
            self.pending.clear();
            sealed?;
        }
        // Seal whole frames straight from the input while more input follows them; keep the
        // last (full or partial) frame, which may turn out to be the final one.
        let run = input.len().saturating_sub(1) / self.frame_len;
        let (frames, rest) = input.split_at(run * self.frame_len);
        self.seal_regular(frames, out)?;
        extend_wiping(&mut self.pending, rest);
        Ok(())
    }

    /// The sequence number after a run of `run` regular frames from the next one: the run takes
    /// the numbers up to it, which must fit.
    fn sequence_after(&self, run: usize) -> crate::Result<u32> {
        u32::try_from(run)
            .ok()
            .and_then(|n| self.sequence.checked_add(n))
            .ok_or(TOO_MANY_FRAMES)
    }

    /// Seals `plaintext`, a whole number of frames, as regular frames; a long run is spread
    /// over threads.
    fn seal_regular<S: Sink + ?Sized>(
        &mut self,
        plaintext: &[u8],
        out: &mut S,
    ) -> crate::Result<()> {
        let run = plaintext.len() / self.frame_len;
        // Checked before any frame of the run is sealed.
        let next = self.sequence_after(run)?;
        if !parallel::worth_it(run, self.frame_len, self.threads, self.min_parallel) {
            for frame in plaintext.chunks(self.frame_len) {
                self.seal(frame, false, out)?;
            }
            return Ok(());
        }
        let dst = out.grow(run * body::regular_frame_size(self.frame_len));
        parallel::seal_and_hash(
            &self.prepared.aead,
            &self.prepared.header.message_id,
            self.sequence,
            plaintext,
            self.frame_len,
            dst,
            self.threads,
            self.hasher.as_mut(),
        )?;
        self.sequence = next;
        Ok(())
    }

    /// Writes the final frame (possibly empty) and, for signed suites, the footer.
    ///
    /// # Errors
    /// When signing fails, or when an earlier call failed.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// let mut message = Vec::new();
    /// let mut encryptor = esdk::blocking::block_on(esdk::stream::Encryptor::new(&client, &keyring, &Default::default(), &mut message))?;
    /// encryptor.push(b"hello", &mut message)?;
    /// assert!(esdk::blocking::decrypt(&client, &keyring, &message).is_err()); // no final frame yet
    /// encryptor.finish(&mut message)?;
    /// assert_eq!(esdk::blocking::decrypt(&client, &keyring, &message)?.plaintext, b"hello");
    /// # Ok(()) }
    /// ```
    pub fn finish(mut self, out: &mut Vec<u8>) -> crate::Result<()> {
        self.finish_to(out)
    }

    /// How much of the last `len` plaintext bytes go into regular frames; the rest is the
    /// final frame. Every full frame is regular and the final frame holds the remainder, empty
    /// when `len` is a multiple of the frame length, as the Python SDK writes it: the Python
    /// SDK before 4.x (and so aws-encryption-cli 4.3.0) refuses a final frame as long as the
    /// frame length. Only where an empty final frame would need a sequence number past the
    /// last one does the last full frame become the final frame (as Java, C and .NET write it).
    fn regular_len(&self, len: usize) -> usize {
        let full = len / self.frame_len;
        let room = u64::from(body::FINAL_FRAME_MARKER) - u64::from(self.sequence);
        if len > 0 && len % self.frame_len == 0 && full as u64 > room {
            (full - 1) * self.frame_len
        } else {
            full * self.frame_len
        }
    }

    pub(crate) fn finish_to<S: Sink + ?Sized>(&mut self, out: &mut S) -> crate::Result<()> {
        self.check()?;
        // Whatever happens, nothing more can be sealed after the final frame.
        self.failed = Some("the message was already finished".to_owned());
        let pending = std::mem::take(&mut self.pending);
        let before = out.len();
        let res = self.seal_end(&pending, out);
        drop(pending);
        if let Err(e) = &res {
            out.truncate(before);
            self.failed = Some(e.to_string());
        }
        res
    }

    /// Seals `plaintext`, the end of the message, whose last (full or partial) frame is the
    /// final frame; then writes the footer.
    fn seal_end<S: Sink + ?Sized>(&mut self, plaintext: &[u8], out: &mut S) -> crate::Result<()> {
        let regular = self.regular_len(plaintext.len());
        let (frames, last) = plaintext.split_at(regular);
        self.seal_regular(frames, out)?;
        self.seal(last, true, out)?;
        if let (Some(hasher), Some(key)) = (self.hasher.take(), self.prepared.signing_key.as_ref())
        {
            crate::format::footer::write(out, &key.sign(hasher)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocking::block_on;
    use crate::RawAesKeyring;

    /// A context that serializes to exactly 65535 bytes is stored and read back; one byte more
    /// fails before anything is written.
    #[test]
    fn context_of_the_largest_size() {
        let keyring = RawAesKeyring::new("ns", "k", &[3u8; 32]).unwrap();
        // Unsigned: a signed suite adds its public key to the context.
        let client = Client::builder()
            .suite(&crate::suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY)
            .build()
            .unwrap();
        let limit = EncryptionContext::from([("a", "x".repeat(65_528).as_str())]);
        let message = crate::blocking::encrypt(&client, &keyring, b"p", &limit).unwrap();
        let back = crate::blocking::decrypt(&client, &keyring, &message).unwrap();
        assert_eq!(
            back.encryption_context.get("a").map(String::len),
            Some(65_528)
        );
        let over = EncryptionContext::from([("a", "x".repeat(65_529).as_str())]);
        assert!(crate::blocking::encrypt(&client, &keyring, b"p", &over).is_err());
    }

    /// The header is written with room made for it once (its length counted right): a stream's
    /// output holds exactly the header, and a one-shot unsigned message's buffer is exactly
    /// the message (its size was computed up front, nothing regrew it).
    #[test]
    fn header_and_message_sized_once() {
        let keyring = RawAesKeyring::new("ns", "k", &[3u8; 32]).unwrap();
        let context = EncryptionContext::from([("purpose", "test")]);
        for suite in crate::suite::ALL.iter().filter(|s| !s.is_signing()) {
            let policy = if suite.is_committing() {
                crate::CommitmentPolicy::RequireEncryptRequireDecrypt
            } else {
                crate::CommitmentPolicy::ForbidEncryptAllowDecrypt
            };
            let client = Client::builder()
                .suite(suite)
                .commitment_policy(policy)
                .frame_length(100)
                .build()
                .unwrap();
            let options = EncryptOptions::from(context.clone());
            let mut out = Vec::new();
            let encryptor =
                block_on(Encryptor::new(&client, &keyring, &options, &mut out)).unwrap();
            assert_eq!(out.capacity(), out.len(), "0x{:04x}", suite.id);
            assert_eq!(out, encryptor.prepared.header.serialized_parts().concat());
            assert_eq!(crate::parse_header(&out).unwrap().len(), out.len());
            for len in [0, 1, 100, 1000] {
                let message =
                    crate::blocking::encrypt(&client, &keyring, &vec![7; len], &context).unwrap();
                assert_eq!(
                    message.capacity(),
                    message.len(),
                    "0x{:04x} {len}",
                    suite.id
                );
                let back = crate::blocking::decrypt(&client, &keyring, &message).unwrap();
                assert_eq!(back.plaintext, vec![7; len]);
            }
        }
    }

    fn encryptor(threads: usize, frame_length: u32) -> (Encryptor, Vec<u8>) {
        let keyring = RawAesKeyring::new("ns", "k", &[3u8; 32]).unwrap();
        let client = Client::builder()
            .frame_length(frame_length)
            .threads(threads)
            .min_parallel_bytes(1 << 20)
            .build()
            .unwrap();
        let mut out = Vec::new();
        let e = block_on(Encryptor::new(
            &client,
            &keyring,
            &crate::EncryptOptions::new(),
            &mut out,
        ))
        .unwrap();
        (e, out)
    }

    /// Streaming batches are one frame: small pushes gather at most one frame whatever the
    /// thread count, and a frame longer than the old 8 MiB batch cap is still gathered whole.
    #[test]
    fn streaming_batches_are_one_frame() {
        for threads in [1, 4] {
            let (mut e, mut out) = encryptor(threads, 4096);
            for _ in 0..100 {
                e.push(&[1u8; 1000], &mut out).unwrap();
                assert!(e.pending.len() <= 4096);
            }
            // 100,000 bytes: 24 frames sealed one by one, the rest pending.
            assert_eq!(e.pending.len(), 100_000 - 24 * 4096);
        }
        let (mut e, mut out) = encryptor(4, 16 << 20);
        for _ in 0..15 {
            e.push(&vec![2u8; 1 << 20], &mut out).unwrap();
        }
        assert_eq!(e.pending.len(), 15 << 20);
    }

    /// Defect 3: the encryptor sealed regular frame 0xFFFFFFFE, found out only then that the
    /// next number is the final-frame marker, and stayed usable: the next push sealed another
    /// frame under the same sequence number, so the same IV and key (GCM nonce reuse).
    #[test]
    fn refuses_to_seal_past_the_last_sequence_number_and_stays_refused() {
        {
            let (mut e, mut out) = encryptor(1, 4);
            e.start_at_sequence(0xFFFF_FFFD);
            // Frames 0xFFFFFFFD and 0xFFFFFFFE are sealed; the third is held (it may be final).
            e.push(&[1u8; 12], &mut out).unwrap();
            let sealed = out.len();
            // A fourth frame means a regular frame numbered 0xFFFFFFFF: refused before sealing.
            let err = e.push(&[2u8; 4], &mut out).unwrap_err();
            assert!(matches!(err, Error::LimitExceeded(_)), "{err:?}");
            assert_eq!(out.len(), sealed, "a frame was sealed after the limit");
            for _ in 0..3 {
                let again = e.push(&[3u8; 100], &mut out).unwrap_err();
                assert!(matches!(again, Error::StreamFailed(_)), "{again:?}");
            }
            assert!(matches!(e.finish_to(&mut out), Err(Error::StreamFailed(_))));
            assert_eq!(out.len(), sealed, "bytes written after the error");
        }
        // Gathered frames sealed before a later run fails are taken back (two threads).
        {
            let (mut e, mut out) = encryptor(2, 4);
            e.start_at_sequence(0xFFFF_FFF0);
            e.push(&[0u8; 4], &mut out).unwrap();
            let before = out.len();
            assert!(e.push(&vec![0u8; 4 << 20], &mut out).is_err());
            assert_eq!(
                out.len(),
                before,
                "a failed push left sealed frames in the output"
            );
        }
        // Gathered input (two threads) and runs sealed at once check the whole run first.
        for (threads, len) in [(2, 16), (1, 4 << 20), (2, 4 << 20)] {
            let (mut e, mut out) = encryptor(threads, 4);
            e.start_at_sequence(0xFFFF_FFFD);
            let before = out.len();
            let first = e
                .push(&vec![0u8; len], &mut out)
                .and_then(|()| e.finish_to(&mut out));
            assert!(matches!(first, Err(Error::LimitExceeded(_))), "{first:?}");
            assert_eq!(out.len(), before, "threads {threads}, {len} bytes");
            assert!(matches!(
                e.push(&[0u8; 4], &mut out),
                Err(Error::StreamFailed(_))
            ));
        }
    }

    /// Defect 5: a declared plaintext length bound fails the push that exceeds it.
    #[test]
    fn plaintext_longer_than_the_declared_bound_fails_at_once() {
        let keyring = std::sync::Arc::new(RawAesKeyring::new("ns", "k", &[3u8; 32]).unwrap());
        let cmm = crate::DefaultMaterialsManager::new(keyring);
        let client = Client::builder().frame_length(4).build().unwrap();
        let mut out = Vec::new();
        let options = EncryptOptions::new().plaintext_length(10);
        let source = KeySource::MaterialsManager(&cmm);
        let mut e = block_on(Encryptor::new(&client, source, &options, &mut out)).unwrap();
        e.push(&[1u8; 6], &mut out).unwrap();
        e.push(&[1u8; 4], &mut out).unwrap();
        let before = out.len();
        let err = e.push(&[1u8; 1], &mut out).unwrap_err();
        assert!(
            matches!(err, Error::LimitExceeded(m) if m.contains("max_plaintext_length")),
            "{err:?}"
        );
        assert_eq!(out.len(), before);
        assert!(matches!(e.finish(&mut out), Err(Error::StreamFailed(_))));
        // Exactly the bound is fine.
        let mut out = Vec::new();
        let options = EncryptOptions::new().plaintext_length(10);
        let source = KeySource::MaterialsManager(&cmm);
        let mut e = block_on(Encryptor::new(&client, source, &options, &mut out)).unwrap();
        e.push(&[1u8; 10], &mut out).unwrap();
        e.finish(&mut out).unwrap();
    }
}
