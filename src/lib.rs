//! esdk: envelope encryption compatible with the AWS Encryption SDK message format.

/// The crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
