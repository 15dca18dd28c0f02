//! Runs the public AWS Encryption SDK test vectors against `esdk`.
//!
//! The library part of the `esdk-test-vectors` binary, so integration tests can call the
//! runner directly:
//!
//! - [`manifest`]: awses-decrypt manifests v1–v5 and the legacy python-1.3.0
//!   `ciphertext.manifest`;
//! - [`keys`]: keys manifests v1–v3 (with the MPL extensions) and key descriptions, turned
//!   into esdk keyrings and materials managers;
//! - [`run`]: decrypting every test and reporting `PASS`/`FAIL`/`SKIP`;
//! - [`encrypt`]: awses-encrypt manifests (v1, v2, v5): encrypting every test with esdk and
//!   writing the messages with an awses-decrypt manifest other implementations can run;
//! - [`known_answer`]: the known-answer JSON files that give the plaintext data key;
//! - [`source`]: reading vectors from a folder or, in place, from a `.zip`;
//! - [`locate`]: where the tests find the public vectors and the vendored subset, and when a
//!   missing vectors folder fails a test (`ESDK_REQUIRE_VECTORS=1`) instead of skipping it.
//!
//! AWS KMS is opt-in: with [`RunOptions::kms`] / [`EncryptOptions::kms`] set (the binary's
//! `--kms`, or `ESDK_VECTORS_KMS=1`, sets them to
//! [`esdk::kms::KmsClientSupplier::from_env`]), `aws-kms`, `aws-kms-mrk-aware` and
//! `aws-kms-mrk-aware-discovery` keys become esdk's KMS keyrings, with clients from that
//! supplier; so the same manifests run against AWS KMS or a local KMS-compatible server.
//! Without it those vectors are skipped, and the reason says so ([`keys::KMS_OFF`]).
//!
//! ```no_run
//! let options = esdk_test_vectors::RunOptions::default();
//! let report = esdk_test_vectors::run_manifest(
//!     std::path::Path::new("shared/test-vectors/awses-decrypt/dafny-4.1.0"),
//!     &options,
//! )?;
//! println!("{}", report.summary());
//!
//! // With AWS KMS, clients from the standard AWS environment:
//! let options = esdk_test_vectors::RunOptions {
//!     kms: Some(std::sync::Arc::new(esdk::kms::KmsClientSupplier::from_env())),
//!     ..esdk_test_vectors::RunOptions::default()
//! };
//! let report = esdk_test_vectors::run_manifest(
//!     std::path::Path::new("shared/test-vectors/awses-decrypt/python-1.3.5.zip"),
//!     &options,
//! )?;
//! # Ok::<(), esdk_test_vectors::VectorError>(())
//! ```

pub mod encrypt;
pub mod error;
pub mod json;
pub mod keys;
pub mod known_answer;
pub mod locate;
pub mod manifest;
pub mod run;
pub mod source;

pub use encrypt::{run_encrypt_manifest, EncryptOptions, EncryptReport};
pub use error::{Result, VectorError};
pub use run::{run_fixtures, run_manifest, Outcome, Report, RunOptions, TestResult};
