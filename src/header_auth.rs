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
/// Borrows the header body when no pair is authenticated only (the usual case).
pub(crate) fn header_auth_aad<'a>(
    header: &'a Header,
    auth_only: &[u8],
) -> std::borrow::Cow<'a, [u8]> {
    if auth_only.is_empty() {
        std::borrow::Cow::Borrowed(header.body_bytes.as_slice())
    } else {
        std::borrow::Cow::Owned([header.body_bytes.as_slice(), auth_only].concat())
    }
}
