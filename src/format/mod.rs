//! The AWS Encryption SDK message format: header, body and footer.
//!
//! Spec: `data-format/message.md`.

pub(crate) mod body;
pub(crate) mod codec;
pub(crate) mod context;
pub(crate) mod footer;
pub(crate) mod header;
