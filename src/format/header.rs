//! The message header: body (v1 and v2), encrypted data keys, and header authentication.
//!
//! Spec: `data-format/message-header.md`.

use std::num::NonZeroU32;

use super::codec::{put_u16_prefixed, Reader};
use super::context::{self, EncryptionContext};
use crate::error::FormatError;
use crate::policy::Limits;
use crate::suite::{AlgorithmSuite, MessageFormatVersion, COMMITMENT_LEN, IV_LEN, TAG_LEN};

const V1_TYPE_CUSTOMER_AED: u8 = 0x80;
const CONTENT_TYPE_NON_FRAMED: u8 = 0x01;
const CONTENT_TYPE_FRAMED: u8 = 0x02;
/// v1 fields after the encrypted data keys: content type, reserved, IV length, frame length,
/// header IV, header tag.
const V1_TAIL_LEN: usize = 1 + 4 + 1 + 4 + IV_LEN + TAG_LEN;
/// v2 fields after the encrypted data keys: content type, frame length, commitment, header tag.
const V2_TAIL_LEN: usize = 1 + 4 + COMMITMENT_LEN + TAG_LEN;

/// One encrypted copy of the data key, as written by a keyring.
///
/// ```
/// let edk = esdk::materials::EncryptedDataKey {
///     provider_id: "my-namespace".into(),
///     provider_info: b"my-key".to_vec(),
///     ciphertext: vec![1, 2, 3],
/// };
/// assert_eq!(edk.provider_id, "my-namespace");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedDataKey {
    /// Who can decrypt it (a raw keyring's namespace, or `aws-kms`).
    pub provider_id: String,
    /// Provider-specific data: a raw key's name (and IV), or a KMS key ARN.
    pub provider_info: Vec<u8>,
    /// The wrapped data key.
    pub ciphertext: Vec<u8>,
}

/// How the message body is laid out.
///
/// ```
/// use esdk::header::ContentType;
/// let framed = ContentType::Framed { frame_length: std::num::NonZeroU32::new(4096).unwrap() };
/// assert_ne!(framed, ContentType::NonFramed);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContentType {
    /// One block of ciphertext (decrypt only; encrypt writes framed bodies).
    NonFramed,
    /// Frames of `frame_length` plaintext bytes, the last one shorter or equal.
    Framed {
        /// Plaintext bytes in each regular frame.
        frame_length: NonZeroU32,
    },
}

/// A parsed message header.
///
/// A `Header` returned by decrypt has been authenticated with the data key. One inside an
/// [`UnauthenticatedHeader`] has not: anyone could have written it.
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// # let keyring = esdk::RawAesKeyring::new("ns", "k", &[7u8; 32])?;
/// # let client = esdk::Client::default();
/// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
/// let decrypted = esdk::blocking::decrypt(&client, &keyring, &message)?;
/// assert_eq!(decrypted.header.suite().id, 0x0578);
/// assert_eq!(decrypted.header.encrypted_data_keys()[0].provider_id, "ns");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Header {
    pub(crate) suite: &'static AlgorithmSuite,
    pub(crate) message_id: Vec<u8>,
    pub(crate) encryption_context: EncryptionContext,
    pub(crate) encrypted_data_keys: Vec<EncryptedDataKey>,
    pub(crate) content_type: ContentType,
    /// v1 only: the IV used for header authentication (zeros for v2).
    pub(crate) header_iv: [u8; IV_LEN],
    /// v2 only: the key commitment.
    pub(crate) commitment: Option<[u8; COMMITMENT_LEN]>,
    /// The header body exactly as read (or written): what header authentication covers.
    pub(crate) body_bytes: Vec<u8>,
    pub(crate) auth_tag: [u8; TAG_LEN],
}

/// The most `Header::new` reserves before writing (a larger header still grows as it is written).
const MAX_HEADER_CAPACITY: usize = 1 << 20;

impl Header {
    /// The message format version (1 or 2).
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let header = esdk::blocking::decrypt(&client, &keyring, &message)?.header;
    /// assert_eq!(header.version(), esdk::header::MessageFormatVersion::V2);
    /// # Ok(()) }
    /// ```
    pub fn version(&self) -> MessageFormatVersion {
        self.suite.message_format
    }
    /// The algorithm suite.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let header = esdk::blocking::decrypt(&client, &keyring, &message)?.header;
    /// assert_eq!(header.suite().id, 0x0578);
    /// assert!(header.suite().is_committing());
    /// # Ok(()) }
    /// ```
    pub fn suite(&self) -> &'static AlgorithmSuite {
        self.suite
    }
    /// The message id (16 bytes for v1, 32 for v2).
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let header = esdk::blocking::decrypt(&client, &keyring, &message)?.header;
    /// assert_eq!(header.message_id().len(), 32);
    /// let again = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// assert_ne!(esdk::parse_header(&again)?.unauthenticated().message_id(), header.message_id());
    /// # Ok(()) }
    /// ```
    pub fn message_id(&self) -> &[u8] {
        &self.message_id
    }
    /// The encryption context stored in the message (required-context keys excluded).
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// let context = esdk::EncryptionContext::from([("tenant", "acme")]);
    /// let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &context)?;
    /// let header = esdk::blocking::decrypt(&client, &keyring, &message)?.header;
    /// assert_eq!(header.encryption_context()["tenant"], "acme");
    /// // Signed suites add the public key.
    /// assert!(header.encryption_context().contains_key(esdk::cmm::PUBLIC_KEY_CONTEXT_KEY));
    /// # Ok(()) }
    /// ```
    pub fn encryption_context(&self) -> &EncryptionContext {
        &self.encryption_context
    }
    /// The encrypted data keys: who can open this message.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let header = esdk::blocking::decrypt(&client, &keyring, &message)?.header;
    /// let keys = header.encrypted_data_keys();
    /// assert_eq!((keys.len(), keys[0].provider_id.as_str()), (1, "ns"));
    /// # Ok(()) }
    /// ```
    pub fn encrypted_data_keys(&self) -> &[EncryptedDataKey] {
        &self.encrypted_data_keys
    }
    /// Framed or non-framed, and the frame length.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let header = esdk::blocking::decrypt(&client, &keyring, &message)?.header;
    /// let framed = esdk::header::ContentType::Framed { frame_length: std::num::NonZeroU32::new(4096).unwrap() };
    /// assert_eq!(header.content_type(), framed);
    /// # Ok(()) }
    /// ```
    pub fn content_type(&self) -> ContentType {
        self.content_type
    }

    /// The key commitment stored in a message format 2 header (32 bytes); `None` for format 1.
    /// Not a secret: it is derived one-way from the data key and the message id.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let message = esdk::blocking::encrypt(&esdk::Client::default(), &keyring, b"hi", &Default::default())?;
    /// let header = esdk::parse_header(&message)?;
    /// assert_eq!(header.unauthenticated().commitment_key().map(<[u8]>::len), Some(32));
    /// # Ok(()) }
    /// ```
    pub fn commitment_key(&self) -> Option<&[u8]> {
        self.commitment.as_ref().map(|c| c.as_slice())
    }

    /// The header authentication IV: stored in a format 1 header; all zeros for format 2.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let message = esdk::blocking::encrypt(&esdk::Client::default(), &keyring, b"hi", &Default::default())?;
    /// let header = esdk::parse_header(&message)?;
    /// assert_eq!(header.unauthenticated().header_iv(), &[0u8; 12]);
    /// # Ok(()) }
    /// ```
    pub fn header_iv(&self) -> &[u8] {
        &self.header_iv
    }

    /// The header authentication tag (16 bytes).
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let message = esdk::blocking::encrypt(&esdk::Client::default(), &keyring, b"hi", &Default::default())?;
    /// let header = esdk::parse_header(&message)?;
    /// assert_eq!(header.unauthenticated().auth_tag().len(), 16);
    /// # Ok(()) }
    /// ```
    pub fn auth_tag(&self) -> &[u8] {
        &self.auth_tag
    }

    /// The serialized header, as written and as the signature covers it, in order: the body,
    /// the IV (v1 only, empty for v2) and the tag.
    pub(crate) fn serialized_parts(&self) -> [&[u8]; 3] {
        let iv: &[u8] = if self.suite.message_format == MessageFormatVersion::V1 {
            &self.header_iv
        } else {
            &[]
        };
        [&self.body_bytes, iv, &self.auth_tag]
    }

    /// Parses a header from the front of `r`, leaving `r` at the first body byte.
    pub(crate) fn parse(r: &mut Reader<'_>, limits: &Limits) -> crate::Result<Self> {
        let start = r.position();
        let version = r.u8("header.version")?;
        let format = match version {
            0x01 => MessageFormatVersion::V1,
            0x02 => MessageFormatVersion::V2,
            _ if looks_base64(r.consumed().get(start..).unwrap_or_default(), r.peek_u8())
                == Some(true) =>
            {
                return Err(FormatError::Base64Encoded.into())
            }
            _ => return Err(FormatError::Invalid("header.version").into()),
        };
        if format == MessageFormatVersion::V1 && r.u8("header.type")? != V1_TYPE_CUSTOMER_AED {
            return Err(FormatError::Invalid("header.type").into());
        }
        let suite = AlgorithmSuite::from_id(r.u16("header.suite_id")?)?;
        if suite.message_format != format {
            return Err(FormatError::Invalid(
                "header.suite_id (not for this message format version)",
            )
            .into());
        }
        let message_id = r
            .take(suite.message_id_len(), "header.message_id")?
            .to_vec();
        let aad_len = usize::from(r.u16("header.aad_length")?);
        if aad_len > limits.max_encryption_context_length {
            return Err(FormatError::Oversized("header.aad (encryption context)").into());
        }
        let aad = bounded_take(r, start, aad_len, limits, "header.aad")?;
        let encryption_context = context::parse(aad).map_err(|e| match e {
            FormatError::Truncated(field) => FormatError::Invalid(field),
            other => other,
        })?;

        let edk_count = r.u16("header.edk_count")?;
        if edk_count == 0 {
            return Err(FormatError::Invalid("header.edk_count (zero)").into());
        }
        if let Some(limit) = limits.max_encrypted_data_keys {
            if edk_count > limit {
                return Err(crate::Error::TooManyEncryptedDataKeys { limit });
            }
        }
        // Each EDK takes at least 6 bytes, so the input bounds what we allocate.
        let mut encrypted_data_keys = Vec::with_capacity(usize::from(edk_count).min(r.left() / 6));
        for _ in 0..edk_count {
            let provider_id = bounded_prefixed(r, start, limits, "edk.provider_id")?;
            let provider_id = std::str::from_utf8(provider_id)
                .map_err(|_| FormatError::Invalid("edk.provider_id (not UTF-8)"))?
                .to_owned();
            let provider_info = bounded_prefixed(r, start, limits, "edk.provider_info")?.to_vec();
            let ciphertext = bounded_prefixed(r, start, limits, "edk.ciphertext")?.to_vec();
            encrypted_data_keys.push(EncryptedDataKey {
                provider_id,
                provider_info,
                ciphertext,
            });
        }

        // The fixed fields after the encrypted data keys count against the size limit too.
        let tail = match format {
            MessageFormatVersion::V1 => V1_TAIL_LEN,
            MessageFormatVersion::V2 => V2_TAIL_LEN,
        };
        if r.position().saturating_sub(start).saturating_add(tail) > limits.max_header_length {
            return Err(FormatError::Oversized("header").into());
        }
        let content_type = r.u8("header.content_type")?;
        if format == MessageFormatVersion::V1 {
            if r.u32("header.reserved")? != 0 {
                return Err(FormatError::Invalid("header.reserved").into());
            }
            if usize::from(r.u8("header.iv_length")?) != IV_LEN {
                return Err(FormatError::Invalid("header.iv_length").into());
            }
        }
        let frame_length = r.u32("header.frame_length")?;
        let content_type = match (content_type, NonZeroU32::new(frame_length)) {
            (CONTENT_TYPE_NON_FRAMED, None) => ContentType::NonFramed,
            (CONTENT_TYPE_FRAMED, Some(frame_length)) => ContentType::Framed { frame_length },
            (CONTENT_TYPE_NON_FRAMED, Some(_)) => {
                return Err(FormatError::Invalid(
                    "header.frame_length (non-zero for non-framed content)",
                )
                .into())
            }
            (CONTENT_TYPE_FRAMED, None) => {
                return Err(
                    FormatError::Invalid("header.frame_length (zero for framed content)").into(),
                )
            }
            _ => return Err(FormatError::Invalid("header.content_type").into()),
        };
        let commitment = match format {
            MessageFormatVersion::V1 => None,
            MessageFormatVersion::V2 => Some(r.take_array::<COMMITMENT_LEN>("header.commitment")?),
        };
        let end = r.position();
        let body_bytes = r.consumed().get(start..end).unwrap_or_default().to_vec();

        let header_iv = match format {
            MessageFormatVersion::V1 => r.take_array::<IV_LEN>("header.iv")?,
            MessageFormatVersion::V2 => [0u8; IV_LEN],
        };
        let auth_tag = r.take_array::<TAG_LEN>("header.authentication_tag")?;
        Ok(Self {
            suite,
            message_id,
            encryption_context,
            encrypted_data_keys,
            content_type,
            header_iv,
            commitment,
            body_bytes,
            auth_tag,
        })
    }

    /// Serializes a header body. `auth_tag` is filled in afterwards by the caller.
    ///
    /// The body is allocated once, at its size (at most [`MAX_HEADER_CAPACITY`] up front).
    pub(crate) fn new(
        suite: &'static AlgorithmSuite,
        message_id: Vec<u8>,
        stored_context: EncryptionContext,
        encrypted_data_keys: Vec<EncryptedDataKey>,
        content_type: ContentType,
        commitment: Option<[u8; COMMITMENT_LEN]>,
    ) -> crate::Result<Self> {
        // One allocation: the fixed fields (at most 80 bytes) plus the variable ones.
        let capacity = encrypted_data_keys.iter().fold(
            96usize.saturating_add(context::serialized_len(&stored_context)),
            // Each field counted up to its u16 limit: a longer one fails below, unallocated.
            |n, edk| {
                let field = |len: usize| len.min(usize::from(u16::MAX));
                n.saturating_add(6)
                    .saturating_add(field(edk.provider_id.len()))
                    .saturating_add(field(edk.provider_info.len()))
                    .saturating_add(field(edk.ciphertext.len()))
            },
        );
        let mut out = Vec::with_capacity(capacity.min(MAX_HEADER_CAPACITY));
        match suite.message_format {
            MessageFormatVersion::V1 => out.extend_from_slice(&[0x01, V1_TYPE_CUSTOMER_AED]),
            MessageFormatVersion::V2 => out.push(0x02),
        }
        out.extend_from_slice(&suite.id.to_be_bytes());
        if message_id.len() != suite.message_id_len() {
            return Err(crate::Error::Internal(
                "message id length does not match the suite",
            ));
        }
        out.extend_from_slice(&message_id);
        // The context, serialized in place behind its length (patched in once known).
        let at = out.len();
        out.extend_from_slice(&[0, 0]);
        context::serialize_into(&stored_context, &mut out)?;
        let context_len = u16::try_from(out.len() - at - 2)
            .map_err(|_| crate::Error::LimitExceeded("serialized encryption context"))?;
        out.get_mut(at..at + 2)
            .ok_or_else(|| crate::Error::Internal("header buffer"))?
            .copy_from_slice(&context_len.to_be_bytes());
        let count = u16::try_from(encrypted_data_keys.len())
            .map_err(|_| crate::Error::LimitExceeded("more than 65535 encrypted data keys"))?;
        if count == 0 {
            return Err(crate::Error::Internal("no encrypted data keys"));
        }
        out.extend_from_slice(&count.to_be_bytes());
        for edk in &encrypted_data_keys {
            put_u16_prefixed(
                &mut out,
                edk.provider_id.as_bytes(),
                "EDK provider id longer than 65535 bytes",
            )?;
            put_u16_prefixed(
                &mut out,
                &edk.provider_info,
                "EDK provider info longer than 65535 bytes",
            )?;
            put_u16_prefixed(
                &mut out,
                &edk.ciphertext,
                "EDK ciphertext longer than 65535 bytes",
            )?;
        }
        let (type_byte, frame_length) = match content_type {
            ContentType::NonFramed => (CONTENT_TYPE_NON_FRAMED, 0),
            ContentType::Framed { frame_length } => (CONTENT_TYPE_FRAMED, frame_length.get()),
        };
        out.push(type_byte);
        if suite.message_format == MessageFormatVersion::V1 {
            out.extend_from_slice(&[0, 0, 0, 0]);
            out.push(IV_LEN as u8);
        }
        out.extend_from_slice(&frame_length.to_be_bytes());
        match (suite.message_format, commitment) {
            (MessageFormatVersion::V2, Some(c)) => out.extend_from_slice(&c),
            (MessageFormatVersion::V1, None) => {}
            _ => {
                return Err(crate::Error::Internal(
                    "commitment does not match the message format",
                ))
            }
        }
        Ok(Self {
            suite,
            message_id,
            encryption_context: stored_context,
            encrypted_data_keys,
            content_type,
            header_iv: [0u8; IV_LEN],
            commitment,
            body_bytes: out,
            auth_tag: [0u8; TAG_LEN],
        })
    }
}

/// Takes `len` bytes unless the header would then exceed its size limit.
fn bounded_take<'a>(
    r: &mut Reader<'a>,
    start: usize,
    len: usize,
    limits: &Limits,
    field: &'static str,
) -> crate::Result<&'a [u8]> {
    let header_len = r.position().saturating_sub(start).saturating_add(len);
    if header_len > limits.max_header_length {
        return Err(FormatError::Oversized("header").into());
    }
    Ok(r.take(len, field)?)
}

/// Reads a u16 length and that many bytes, within the header size limit.
fn bounded_prefixed<'a>(
    r: &mut Reader<'a>,
    start: usize,
    limits: &Limits,
    field: &'static str,
) -> crate::Result<&'a [u8]> {
    let len = usize::from(r.u16(field)?);
    bounded_take(r, start, len, limits, field)
}

/// Whether a message starting with `first` (one byte) and then `second` is the base64 encoding
/// of a message (decrypt.md: "AY" for version 1 type 0x80, "Ag" for version 2); `None` when
/// `first` is `A` and the second byte has not arrived yet.
fn looks_base64(first: &[u8], second: Option<u8>) -> Option<bool> {
    if first != b"A" {
        return Some(false);
    }
    second.map(|b| b == b'Y' || b == b'g')
}

/// Finds where a header ends in bytes that arrive in pieces, resuming where the last call
/// stopped, so that a header fed one byte at a time costs linear time. It walks only the length
/// fields and applies the limits as soon as a length is declared; [`Header::parse`] then reads
/// the complete header once.
#[derive(Debug, Default, Clone)]
pub(crate) struct HeaderScanner {
    /// Bytes accounted for so far.
    pos: usize,
    /// Total length of the prefix before the AAD, once the version is known.
    prefix: usize,
    tail: usize,
    stage: ScanStage,
}

#[derive(Debug, Default, Clone, Copy)]
enum ScanStage {
    #[default]
    Version,
    AadLength,
    EdkCount,
    /// `left` keys to go; `field` (0..3) of the current one.
    Edk {
        left: u16,
        field: u8,
    },
    Tail,
}

impl HeaderScanner {
    fn need(&self, buf: &[u8], n: usize, limits: &Limits) -> crate::Result<bool> {
        if self.pos.saturating_add(n) > limits.max_header_length {
            return Err(FormatError::Oversized("header").into());
        }
        Ok(buf.len() >= self.pos.saturating_add(n))
    }

    fn u16_at(buf: &[u8], at: usize) -> u16 {
        match buf.get(at..at + 2) {
            Some(&[a, b]) => u16::from_be_bytes([a, b]),
            _ => 0,
        }
    }

    /// Returns the header's length once `buf` (which only grows between calls) holds it all.
    pub(crate) fn scan(&mut self, buf: &[u8], limits: &Limits) -> crate::Result<Option<usize>> {
        loop {
            match self.stage {
                ScanStage::Version => {
                    let Some(&version) = buf.first() else {
                        return Ok(None);
                    };
                    (self.prefix, self.tail) = match version {
                        0x01 => (1 + 1 + 2 + 16, V1_TAIL_LEN),
                        0x02 => (1 + 2 + 32, V2_TAIL_LEN),
                        _ => {
                            return match looks_base64(&[version], buf.get(1).copied()) {
                                // One more byte decides.
                                None => Ok(None),
                                Some(true) => Err(FormatError::Base64Encoded.into()),
                                Some(false) => Err(FormatError::Invalid("header.version").into()),
                            };
                        }
                    };
                    if !self.need(buf, self.prefix + 2, limits)? {
                        return Ok(None);
                    }
                    self.pos = self.prefix;
                    self.stage = ScanStage::AadLength;
                }
                ScanStage::AadLength => {
                    let len = usize::from(Self::u16_at(buf, self.pos));
                    if len > limits.max_encryption_context_length {
                        return Err(
                            FormatError::Oversized("header.aad (encryption context)").into()
                        );
                    }
                    if !self.need(buf, 2 + len + 2, limits)? {
                        return Ok(None);
                    }
                    self.pos += 2 + len;
                    self.stage = ScanStage::EdkCount;
                }
                ScanStage::EdkCount => {
                    let count = Self::u16_at(buf, self.pos);
                    if count == 0 {
                        return Err(FormatError::Invalid("header.edk_count (zero)").into());
                    }
                    if let Some(limit) = limits.max_encrypted_data_keys {
                        if count > limit {
                            return Err(crate::Error::TooManyEncryptedDataKeys { limit });
                        }
                    }
                    self.pos += 2;
                    self.stage = ScanStage::Edk {
                        left: count,
                        field: 0,
                    };
                }
                ScanStage::Edk { left, field } => {
                    if !self.need(buf, 2, limits)? {
                        return Ok(None);
                    }
                    let len = usize::from(Self::u16_at(buf, self.pos));
                    if !self.need(buf, 2 + len, limits)? {
                        return Ok(None);
                    }
                    self.pos += 2 + len;
                    self.stage = match (field, left) {
                        (2, 1) => ScanStage::Tail,
                        (2, _) => ScanStage::Edk {
                            left: left - 1,
                            field: 0,
                        },
                        _ => ScanStage::Edk {
                            left,
                            field: field + 1,
                        },
                    };
                }
                ScanStage::Tail => {
                    return Ok(if self.need(buf, self.tail, limits)? {
                        Some(self.pos + self.tail)
                    } else {
                        None
                    });
                }
            }
        }
    }
}

/// A header read without any key: nothing in it has been authenticated.
///
/// Use it to show what a message holds and which keys could open it; never to make a security
/// decision. Returned by [`crate::parse_header`].
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// # let keyring = esdk::RawAesKeyring::new("ns", "k", &[7u8; 32])?;
/// # let message = esdk::blocking::encrypt(&esdk::Client::default(), &keyring, b"hi", &Default::default())?;
/// let header = esdk::parse_header(&message)?;
/// assert_eq!(header.unauthenticated().encrypted_data_keys().len(), 1);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct UnauthenticatedHeader {
    pub(crate) header: Header,
    pub(crate) header_len: usize,
}

impl UnauthenticatedHeader {
    /// The parsed fields. They are *not* authenticated.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let header = esdk::parse_header(&message)?;
    /// assert_eq!(header.unauthenticated().suite().id, 0x0578);
    /// assert_eq!(header.unauthenticated().encrypted_data_keys()[0].provider_id, "ns");
    /// # Ok(()) }
    /// ```
    pub fn unauthenticated(&self) -> &Header {
        &self.header
    }
    /// How many bytes of the message the header takes.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// let header = esdk::parse_header(&message)?;
    /// assert!(header.len() < message.len());
    /// assert!(esdk::parse_header(&message[..header.len()]).is_ok());
    /// assert!(esdk::parse_header(&message[..header.len() - 1]).is_err());
    /// # Ok(()) }
    /// ```
    pub fn len(&self) -> usize {
        self.header_len
    }
    /// Always false: a header has at least one byte.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
    /// # let client = esdk::Client::default();
    /// # let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// assert!(!esdk::parse_header(&message)?.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.header_len == 0
    }
}
