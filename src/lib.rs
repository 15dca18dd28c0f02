#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    warn(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod blocking;
pub mod cache;
mod client;
pub mod cmm;
mod crypto;
pub mod error;
mod format;
mod future;
pub mod header;
mod header_auth;
pub mod keyring;
#[cfg(feature = "kms")]
#[cfg_attr(docsrs, doc(cfg(feature = "kms")))]
pub mod kms;
mod legacy_net_retry;
pub mod materials;
mod options;
mod policy;
mod prepare;
pub mod stream;
pub mod suite;

#[cfg(feature = "hazmat")]
#[cfg_attr(docsrs, doc(cfg(feature = "hazmat")))]
pub mod hazmat;

// The common path; everything else lives in the module named after it.
pub use client::{Client, ClientBuilder, Decrypted, MessageInfo, DEFAULT_FRAME_LENGTH};
pub use cmm::{DefaultMaterialsManager, MaterialsManager};
pub use error::{Error, FormatError, Result};
pub use format::context::EncryptionContext;
pub use header::{parse_header, Header, UnauthenticatedHeader};
pub use keyring::{Keyring, MultiKeyring, RawAesKeyring, RawRsaKeyring, RsaPadding};
pub use options::{DecryptOptions, EncryptOptions, KeySource};
pub use policy::{
    CommitmentPolicy, DEFAULT_MAX_HEADER_LENGTH, DEFAULT_MAX_STREAM_FRAME_LENGTH,
    DEFAULT_MAX_STREAM_NON_FRAMED_LENGTH,
};

/// The crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
