//! Entry points for fuzzing and property tests. **Hidden, not a stable API.**
//!
//! They expose crate-private codecs so the fuzz targets in `fuzz/` can check them directly.

use crate::error::FormatError;
use crate::format::context::{self, EncryptionContext};

/// Parses a serialized encryption context (all of `bytes`), as the header parser does.
///
/// # Errors
/// When `bytes` is not a well-formed context (truncated, trailing bytes, duplicate keys,
/// non-UTF-8 text).
pub fn parse_context(bytes: &[u8]) -> Result<EncryptionContext, FormatError> {
    context::parse(bytes)
}

/// Serializes an encryption context as encrypt writes it (empty bytes for an empty context).
///
/// # Errors
/// [`crate::Error::LimitExceeded`] when the context does not fit the format's u16 lengths.
pub fn serialize_context(context: &EncryptionContext) -> crate::Result<Vec<u8>> {
    context::serialize(context)
}
