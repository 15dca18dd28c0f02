//! AWS KMS keyrings (feature `kms`, on by default).
//!
//! AWS KMS generates and wraps the data key; the plaintext data key never leaves the process
//! except to KMS over TLS. The keyrings:
//!
//! - [`AwsKmsKeyring`]: one KMS key; generates (`GenerateDataKey`) or wraps (`Encrypt`), and
//!   decrypts only what that key wrapped. Optionally multi-Region aware.
//! - [`AwsKmsDiscoveryKeyring`]: decrypts with whatever key ARN a message names, optionally
//!   limited by a [`DiscoveryFilter`]; bound to a Region, it is multi-Region aware.
//! - [`multi_keyring`], [`mrk_multi_keyring`], [`discovery_multi_keyring`],
//!   [`mrk_discovery_multi_keyring`]: a [`MultiKeyring`] of those, as the official SDKs build
//!   them. Its children wrap concurrently: a message for keys in three Regions costs the
//!   slowest call, not the sum.
//!
//! Clients come from a [`ClientSupplier`]: an `aws_sdk_kms::Client` (the same client for every
//! key), or [`KmsClientSupplier`], one client per Region from a base configuration or, with
//! the `aws-config` feature (on by default), from the standard AWS environment.
//!
//! # Runtimes
//!
//! aws-sdk-kms needs a tokio runtime; esdk's calls do not, so a KMS keyring works from every
//! front end: async on any executor, [`crate::blocking`], the `std::io` and tokio adapters, and
//! `esdk::blocking` even inside a current-thread runtime's task. Every KMS call runs on one
//! process-wide runtime that esdk starts on first use (two threads named `esdk-kms`), and the
//! caller's future waits for it; dropping the future cancels the call. That runtime owns every
//! connection esdk's KMS clients open, so no call ever waits on a connection of a runtime that
//! is not running. (If you pass your own `aws_sdk_kms::Client` that your code also uses on a
//! current-thread runtime, its pooled connections may belong to that runtime: give esdk a client
//! of its own, or use [`KmsClientSupplier`].) Blocking calls still block their thread, so
//! async code should use the async calls.
//!
//! # Errors
//!
//! A failed call is an [`Error::Keyring`](crate::Error::Keyring) (or, on decrypt, one
//! [`KeyringAttempt`](crate::error::KeyringAttempt) per key tried inside
//! [`Error::NoKeyringDecrypted`](crate::Error::NoKeyringDecrypted)) whose
//! [`KeyringErrorKind`] says what happened: `AccessDenied`,
//! `KeyUnavailable` (not found, disabled, pending deletion), `UnwrapFailed`, `Unreachable`
//! (connection failed or timed out; retryable), `Throttled` (retryable), `InvalidResponse` (a
//! response that does not match the request), `Configuration`. Its source is a
//! [`KmsServiceError`] with the operation, KMS's error code and message, and the request id.
//! Neither a data key nor a KMS response body is ever kept in an error or shown by `Debug`.
//!
//! # Hostile messages
//!
//! A keyring makes one KMS call per encrypted data key it may try: a discovery keyring tries
//! every `aws-kms` key the message names (within its filter), one after the other. A message
//! from an untrusted sender can name thousands; bound them with
//! [`ClientBuilder::max_encrypted_data_keys`](crate::ClientBuilder::max_encrypted_data_keys)
//! (the AWS SDKs recommend it too), and prefer strict keyrings or a discovery filter.
//!
//! ```no_run
//! # #[cfg(feature = "aws-config")]
//! # async fn run() -> Result<(), esdk::Error> {
//! let keyring = esdk::kms::multi_keyring(
//!     Some("arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
//!     ["arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"],
//!     esdk::kms::KmsClientSupplier::from_env(),
//! )?;
//! let client = esdk::Client::default();
//! let message = client.encrypt(&keyring, b"secret", &Default::default()).await?;
//! assert_eq!(client.decrypt(&keyring, &message).await?.plaintext, b"secret");
//! # Ok(()) }
//! ```

pub mod arn;
mod client;
mod error;
mod keyring;
mod runtime;

use std::sync::Arc;

pub use arn::{ArnError, DiscoveryFilter, DuplicateMrkError, KmsArn, KmsKeyId};
pub use client::{
    ClientSupplier, DefaultTimeouts, KmsClientSupplier, DEFAULT_TIMEOUTS, MAX_CACHED_REGIONS,
};
pub use error::KmsServiceError;
pub use keyring::{
    AwsKmsDiscoveryKeyring, AwsKmsDiscoveryKeyringBuilder, AwsKmsKeyring, AwsKmsKeyringBuilder,
    PROVIDER_ID,
};

use crate::error::{KeyringError, KeyringErrorKind};
use crate::keyring::{Keyring, MultiKeyring};

fn strict_multi(
    generator: Option<&str>,
    key_ids: Vec<String>,
    supplier: Arc<dyn ClientSupplier>,
    mrk_aware: bool,
) -> crate::Result<MultiKeyring> {
    if mrk_aware {
        arn::assert_mrks_unique(
            generator
                .into_iter()
                .chain(key_ids.iter().map(String::as_str)),
        )
        .map_err(|e| {
            crate::Error::Keyring(
                KeyringError::new(
                    KeyringErrorKind::Configuration,
                    "a multi-Region key is configured more than once",
                )
                .with_source(e),
            )
        })?;
    }
    let build = |id: &str| -> crate::Result<Arc<dyn Keyring>> {
        Ok(Arc::new(
            AwsKmsKeyring::builder(id)
                .client_supplier(supplier.clone())
                .multi_region_aware(mrk_aware)
                .build()?,
        ))
    };
    let generator = generator.map(build).transpose()?;
    let children = key_ids
        .iter()
        .map(|id| build(id))
        .collect::<crate::Result<Vec<_>>>()?;
    MultiKeyring::new(generator, children)
}

/// A multi-keyring of strict [`AwsKmsKeyring`]s: `generator` generates the data key, each of
/// `key_ids` wraps it too (concurrently), and any of them decrypts
/// (`aws-kms-multi-keyrings.md`). Each key gets the client for its ARN's Region from
/// `supplier`.
///
/// ```no_run
/// # fn f(config: aws_sdk_kms::Config) -> esdk::Result<esdk::MultiKeyring> {
/// esdk::kms::multi_keyring(
///     Some("arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
///     ["arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"],
///     esdk::kms::KmsClientSupplier::from_config(config),
/// )
/// # }
/// ```
pub fn multi_keyring(
    generator: Option<&str>,
    key_ids: impl IntoIterator<Item = impl Into<String>>,
    supplier: impl ClientSupplier + 'static,
) -> crate::Result<MultiKeyring> {
    let key_ids = key_ids.into_iter().map(Into::into).collect();
    strict_multi(generator, key_ids, Arc::new(supplier), false)
}

/// As [`multi_keyring`], with multi-Region-aware keyrings (`aws-kms-mrk-multi-keyrings.md`);
/// fails, naming them, if one multi-Region key is configured twice (in any Regions).
///
/// ```
/// # fn f(kms: aws_sdk_kms::Client) {
/// let err = esdk::kms::mrk_multi_keyring(
///     Some("arn:aws:kms:us-west-2:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"),
///     ["arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"],
///     kms,
/// )
/// .unwrap_err();
/// assert!(format!("{:?}", err).contains("eu-west-1"));
/// # }
/// ```
pub fn mrk_multi_keyring(
    generator: Option<&str>,
    key_ids: impl IntoIterator<Item = impl Into<String>>,
    supplier: impl ClientSupplier + 'static,
) -> crate::Result<MultiKeyring> {
    let key_ids = key_ids.into_iter().map(Into::into).collect();
    strict_multi(generator, key_ids, Arc::new(supplier), true)
}

fn discovery_multi(
    regions: Vec<String>,
    filter: Option<DiscoveryFilter>,
    supplier: Arc<dyn ClientSupplier>,
    bind_region: bool,
) -> crate::Result<MultiKeyring> {
    if regions.is_empty() || regions.iter().any(String::is_empty) {
        return Err(keyring::configuration(
            "a discovery multi-keyring needs at least one Region, and no empty one",
        ));
    }
    let children = regions
        .into_iter()
        .map(|region| -> crate::Result<Arc<dyn Keyring>> {
            let mut builder = AwsKmsDiscoveryKeyring::builder().client_supplier(RegionPinned {
                supplier: supplier.clone(),
                region: region.clone(),
            });
            if let Some(filter) = &filter {
                builder = builder.filter(filter.clone());
            }
            if bind_region {
                builder = builder.region(region);
            }
            Ok(Arc::new(builder.build()?))
        })
        .collect::<crate::Result<Vec<_>>>()?;
    MultiKeyring::new(None, children)
}

/// A supplier that always answers with the client of one Region (a discovery keyring per
/// Region, as the specification's discovery multi-keyring builds them).
struct RegionPinned {
    supplier: Arc<dyn ClientSupplier>,
    region: String,
}

impl std::fmt::Debug for RegionPinned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegionPinned")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl ClientSupplier for RegionPinned {
    fn client<'a>(
        &'a self,
        _region: Option<&'a str>,
    ) -> crate::future::MaterialsFuture<'a, Result<aws_sdk_kms::Client, KeyringError>> {
        self.supplier.client(Some(&self.region))
    }
}

/// A multi-keyring of [`AwsKmsDiscoveryKeyring`]s, one per Region, each with that Region's
/// client and the same filter (`aws-kms-multi-keyrings.md`). It cannot encrypt.
///
/// ```no_run
/// # fn f(config: aws_sdk_kms::Config) -> esdk::Result<esdk::MultiKeyring> {
/// esdk::kms::discovery_multi_keyring(
///     ["us-west-2", "eu-west-1"],
///     Some(esdk::kms::DiscoveryFilter::new("aws", ["111122223333"]).unwrap()),
///     esdk::kms::KmsClientSupplier::from_config(config),
/// )
/// # }
/// ```
pub fn discovery_multi_keyring(
    regions: impl IntoIterator<Item = impl Into<String>>,
    filter: Option<DiscoveryFilter>,
    supplier: impl ClientSupplier + 'static,
) -> crate::Result<MultiKeyring> {
    let regions = regions.into_iter().map(Into::into).collect();
    discovery_multi(regions, filter, Arc::new(supplier), false)
}

/// As [`discovery_multi_keyring`], with each keyring bound to its Region: multi-Region keys are
/// decrypted in that Region (`aws-kms-mrk-multi-keyrings.md`).
///
/// ```no_run
/// # fn f(config: aws_sdk_kms::Config) -> esdk::Result<esdk::MultiKeyring> {
/// esdk::kms::mrk_discovery_multi_keyring(
///     ["us-west-2"],
///     None,
///     esdk::kms::KmsClientSupplier::from_config(config),
/// )
/// # }
/// ```
pub fn mrk_discovery_multi_keyring(
    regions: impl IntoIterator<Item = impl Into<String>>,
    filter: Option<DiscoveryFilter>,
    supplier: impl ClientSupplier + 'static,
) -> crate::Result<MultiKeyring> {
    let regions = regions.into_iter().map(Into::into).collect();
    discovery_multi(regions, filter, Arc::new(supplier), true)
}

/// A malformed key identifier or discovery filter is a keyring configuration error.
impl From<ArnError> for crate::Error {
    fn from(e: ArnError) -> Self {
        crate::Error::Keyring(
            KeyringError::new(
                KeyringErrorKind::Configuration,
                "invalid AWS KMS key identifier or discovery filter",
            )
            .with_source(e),
        )
    }
}
