//! Low-level access for tests and tools. **Not a stable API; these calls bypass the
//! specification's rules for writers.**
//!
//! Enabled by the `hazmat` feature.

use crate::client::{Client, ClientBuilder};
use crate::format::body;
use crate::format::header::ContentType;
use crate::options::{EncryptOptions, KeySource};

/// Encrypts `plaintext` as a **non-framed** message. The specification lets encrypt write only
/// framed messages; this exists so tests can produce the non-framed messages older SDKs wrote
/// and that decrypt must still read.
///
/// # Errors
/// As [`Client::encrypt`], and when the plaintext exceeds the non-framed limit (2^36 - 32 bytes).
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
/// let client = esdk::Client::default();
/// let message = esdk::blocking::block_on(esdk::hazmat::encrypt_non_framed_legacy(&client, &keyring, b"hi", &esdk::EncryptOptions::new()))?;
/// assert_eq!(esdk::blocking::decrypt(&client, &keyring, &message)?.plaintext, b"hi");
/// # Ok(()) }
/// ```
pub async fn encrypt_non_framed_legacy(
    client: &Client,
    source: impl Into<KeySource<'_>>,
    plaintext: &[u8],
    options: &EncryptOptions,
) -> crate::Result<Vec<u8>> {
    if plaintext.len() as u64 > body::MAX_NON_FRAMED_LEN {
        return Err(crate::Error::LimitExceeded(
            "non-framed plaintext longer than 2^36 - 32 bytes",
        ));
    }
    let materials = client
        .encryption_materials(
            source.into(),
            Some(plaintext.len() as u64),
            &options.encryption_context,
        )
        .await?;
    let prepared = client.prepare_encrypt(materials, ContentType::NonFramed)?;
    let mut out = prepared.header.serialized_parts().concat();
    body::seal_non_framed(
        &prepared.aead,
        &prepared.header.message_id,
        plaintext,
        &mut out,
    )?;
    prepared.append_footer(&mut out)?;
    Ok(out)
}

/// Makes every message the built client encrypts use `message_id` instead of a fresh random
/// one. **Only for tests that need reproducible messages**: with a fixed data key too, two
/// messages would reuse AES-GCM nonces under one key, which breaks confidentiality and
/// integrity. Encrypt fails with [`crate::Error::ApiMisuse`] when the length is not the suite's
/// message id length (16 bytes for v1 suites, 32 for committing ones).
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
/// let client = esdk::hazmat::dangerous_fixed_message_id(esdk::Client::builder(), vec![7u8; 32]).build()?;
/// let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
/// assert_eq!(esdk::parse_header(&message)?.unauthenticated().message_id(), &[7u8; 32][..]);
/// # Ok(()) }
/// ```
pub fn dangerous_fixed_message_id(builder: ClientBuilder, message_id: Vec<u8>) -> ClientBuilder {
    builder.fixed_message_id(message_id)
}

/// Parses a serialized encryption context (all of `bytes`) as the header parser does. For
/// fuzzing and tools.
///
/// ```
/// let context = esdk::EncryptionContext::from([("a", "b")]);
/// let bytes = esdk::hazmat::serialize_encryption_context(&context)?;
/// assert_eq!(esdk::hazmat::parse_encryption_context(&bytes)?, context);
/// # Ok::<(), esdk::Error>(())
/// ```
///
/// # Errors
/// When `bytes` is not a well-formed context (truncated, trailing bytes, duplicate keys,
/// non-UTF-8 text).
pub fn parse_encryption_context(
    bytes: &[u8],
) -> Result<crate::EncryptionContext, crate::FormatError> {
    crate::format::context::parse(bytes)
}

/// Serializes an encryption context as encrypt writes it (no bytes for an empty context). For
/// fuzzing and tools.
///
/// ```
/// let bytes = esdk::hazmat::serialize_encryption_context(&esdk::EncryptionContext::from([("a", "b")]))?;
/// // The pair count, then each length-prefixed key and value.
/// assert_eq!(bytes, [0, 1, 0, 1, b'a', 0, 1, b'b']);
/// assert!(esdk::hazmat::serialize_encryption_context(&esdk::EncryptionContext::new())?.is_empty());
/// # Ok::<(), esdk::Error>(())
/// ```
///
/// # Errors
/// [`crate::Error::LimitExceeded`] when the context does not fit the format's u16 lengths.
pub fn serialize_encryption_context(context: &crate::EncryptionContext) -> crate::Result<Vec<u8>> {
    crate::format::context::serialize(context)
}
