//! Header authentication: the AAD the header tag covers (the header body, then the
//! encryption context pairs that are authenticated but not stored).
//!
//! Spec: `data-format/message-header.md#header-authentication`, `client-apis/decrypt.md`.

use crate::format::context::{self, EncryptionContext};
use crate::format::header::Header;

/// Serializes the context pairs that are authenticated but not stored.
pub(crate) fn authenticate_only(
    context: &EncryptionContext,
    required: &[String],
) -> crate::Result<Vec<u8>> {
    let only: EncryptionContext = context
        .iter()
        .filter(|(k, _)| required.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    context::serialize(&only)
}

/// The header authentication AAD: the header body, then the authenticated-only pairs.
pub(crate) fn header_auth_aad(header: &Header, auth_only: &[u8]) -> Vec<u8> {
    [header.body_bytes.as_slice(), auth_only].concat()
}
