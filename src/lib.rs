#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
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
mod client;
pub mod cmm;
mod crypto;
mod error;
mod format;
mod future;
#[doc(hidden)]
pub mod internal;
pub mod keyring;
mod materials;
mod options;
mod policy;
pub mod stream;
pub mod suite;

#[cfg(feature = "hazmat")]
pub mod hazmat;

pub use client::{
    parse_header, Client, ClientBuilder, Decrypted, MessageInfo, DEFAULT_FRAME_LENGTH,
};
pub use cmm::default::DefaultMaterialsManager;
pub use cmm::required_context::RequiredEncryptionContextMaterialsManager;
pub use cmm::MaterialsManager;
pub use crypto::signature::{SigningKey, VerificationKey};
pub use error::{
    Attempts, Error, FormatError, KeyringAttempt, KeyringError, KeyringErrorKind, Result,
};
pub use format::context::{EncryptionContext, PUBLIC_KEY_CONTEXT_KEY};
pub use format::header::{ContentType, EncryptedDataKey, Header, UnauthenticatedHeader};
pub use future::MaterialsFuture;
pub use keyring::multi::MultiKeyring;
pub use keyring::raw_aes::RawAesKeyring;
pub use keyring::raw_rsa::{RawRsaKeyring, RawRsaKeyringBuilder, RsaPadding};
pub use keyring::Keyring;
pub use materials::{
    DataKey, DecryptionMaterials, DecryptionRequest, EncryptionMaterials, EncryptionRequest,
};
pub use options::{DecryptOptions, EncryptOptions, KeySource};
pub use policy::{
    CommitmentPolicy, DEFAULT_MAX_HEADER_LENGTH, DEFAULT_MAX_STREAM_FRAME_LENGTH,
    DEFAULT_MAX_STREAM_NON_FRAMED_LENGTH,
};
pub use suite::AlgorithmSuite;

/// The crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
