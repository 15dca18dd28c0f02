//! Where KMS keyrings get their `aws_sdk_kms::Client`s: one per Region.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_kms::config::timeout::TimeoutConfig;
use aws_sdk_kms::config::Region;

use crate::error::{KeyringError, KeyringErrorKind};
use crate::future::MaterialsFuture;

/// The timeouts esdk sets when a KMS client's configuration does not bound calls (no
/// operation, attempt or read timeout, and timeouts not disabled on purpose): 3.1 s to
/// connect, 10 s per attempt, 30 s per call with its retries. An unreachable or silent
/// endpoint fails within them instead of hanging. [`KmsClientSupplier`] builds its clients
/// with them; KMS keyrings add them per request to any other client.
///
/// ```
/// assert_eq!(esdk::kms::DEFAULT_TIMEOUTS.operation_timeout(), Some(std::time::Duration::from_secs(30)));
/// ```
pub const DEFAULT_TIMEOUTS: DefaultTimeouts = DefaultTimeouts;

/// The type of [`DEFAULT_TIMEOUTS`].
///
/// ```
/// let timeouts: esdk::kms::DefaultTimeouts = esdk::kms::DEFAULT_TIMEOUTS;
/// assert!(timeouts.connect_timeout() < timeouts.operation_attempt_timeout());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct DefaultTimeouts;

impl DefaultTimeouts {
    /// Connect timeout: 3.1 s.
    ///
    /// ```
    /// assert_eq!(esdk::kms::DEFAULT_TIMEOUTS.connect_timeout().as_millis(), 3100);
    /// ```
    pub fn connect_timeout(self) -> Duration {
        Duration::from_millis(3100)
    }
    /// Timeout of one attempt: 10 s.
    ///
    /// ```
    /// assert_eq!(esdk::kms::DEFAULT_TIMEOUTS.operation_attempt_timeout().as_secs(), 10);
    /// ```
    pub fn operation_attempt_timeout(self) -> Duration {
        Duration::from_secs(10)
    }
    /// Timeout of a whole call, retries included: 30 s.
    ///
    /// ```
    /// assert_eq!(esdk::kms::DEFAULT_TIMEOUTS.operation_timeout(), Some(std::time::Duration::from_secs(30)));
    /// ```
    pub fn operation_timeout(self) -> Option<Duration> {
        Some(Duration::from_secs(30))
    }
    /// As an SDK timeout configuration.
    ///
    /// ```
    /// let config = esdk::kms::DEFAULT_TIMEOUTS.to_timeout_config();
    /// assert!(config.has_timeouts());
    /// ```
    pub fn to_timeout_config(self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout())
            .operation_attempt_timeout(self.operation_attempt_timeout())
            .operation_timeout(Duration::from_secs(30))
            .build()
    }
}

/// Gives KMS keyrings a client for a Region.
///
/// `region` is the Region of the key ARN the keyring calls about, or `None` for an alias name
/// or bare key id (the default Region). An `aws_sdk_kms::Client` is a supplier too: it returns
/// itself for every Region, as the specification's single-client keyrings do.
///
/// ```
/// use esdk::kms::{ClientSupplier, KmsClientSupplier};
/// fn supplier(config: aws_sdk_kms::Config) -> std::sync::Arc<dyn ClientSupplier> {
///     std::sync::Arc::new(KmsClientSupplier::from_config(config))
/// }
/// # let _ = supplier;
/// ```
pub trait ClientSupplier: Send + Sync + fmt::Debug {
    /// The client for `region` (`None`: the default Region).
    fn client<'a>(
        &'a self,
        region: Option<&'a str>,
    ) -> MaterialsFuture<'a, Result<aws_sdk_kms::Client, KeyringError>>;
}

impl ClientSupplier for aws_sdk_kms::Client {
    fn client<'a>(
        &'a self,
        _region: Option<&'a str>,
    ) -> MaterialsFuture<'a, Result<aws_sdk_kms::Client, KeyringError>> {
        MaterialsFuture::ready(Ok(self.clone()))
    }
}

impl<S: ClientSupplier + ?Sized> ClientSupplier for Arc<S> {
    fn client<'a>(
        &'a self,
        region: Option<&'a str>,
    ) -> MaterialsFuture<'a, Result<aws_sdk_kms::Client, KeyringError>> {
        (**self).client(region)
    }
}

enum Base {
    Config(aws_sdk_kms::Config),
    #[cfg(feature = "aws-config")]
    Environment(tokio::sync::OnceCell<aws_sdk_kms::Config>),
}

/// One KMS client per Region, built from a base configuration (endpoint, credentials,
/// retries, timeouts) with only the Region changed, and kept for reuse (at most
/// [`MAX_CACHED_REGIONS`]).
///
/// Timeouts: a configuration that does not bound calls (no operation, attempt or read
/// timeout) gets [`DEFAULT_TIMEOUTS`] (keeping its connect timeout); one that bounds them, or
/// disables timeouts on purpose with `TimeoutConfig::disabled()`, is used as given. KMS
/// keyrings apply the same rule to every client they are given, per request.
///
/// ```no_run
/// # #[cfg(feature = "aws-config")] {
/// // From the standard AWS environment (AWS_REGION, AWS_ENDPOINT_URL, profiles, ...):
/// let supplier = esdk::kms::KmsClientSupplier::from_env();
/// let keyring = esdk::kms::AwsKmsKeyring::builder(
///     "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
/// )
/// .client_supplier(supplier)
/// .build()?;
/// # }
/// # Ok::<(), esdk::Error>(())
/// ```
pub struct KmsClientSupplier {
    base: Base,
    clients: Mutex<lru::LruCache<Option<String>, aws_sdk_kms::Client>>,
}

/// How many Regions' clients a [`KmsClientSupplier`] keeps (the least recently used goes
/// first). A discovery keyring asks for whatever Region a message names, so the number kept
/// must not grow with hostile input; every AWS Region fits.
pub const MAX_CACHED_REGIONS: usize = 64;

fn client_cache() -> Mutex<lru::LruCache<Option<String>, aws_sdk_kms::Client>> {
    Mutex::new(lru::LruCache::new(
        NonZeroUsize::new(MAX_CACHED_REGIONS).unwrap_or(NonZeroUsize::MIN),
    ))
}

impl fmt::Debug for KmsClientSupplier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let regions: Vec<Option<String>> = self
            .clients
            .lock()
            .map(|c| c.iter().map(|(k, _)| k.clone()).collect())
            .unwrap_or_default();
        f.debug_struct("KmsClientSupplier")
            .field(
                "base",
                &match &self.base {
                    Base::Config(_) => "config",
                    #[cfg(feature = "aws-config")]
                    Base::Environment(_) => "environment",
                },
            )
            .field("regions", &regions)
            .finish()
    }
}

impl KmsClientSupplier {
    /// Clients built from `config`, with the Region changed per key.
    ///
    /// ```
    /// use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
    /// let config = aws_sdk_kms::Config::builder()
    ///     .behavior_version(BehaviorVersion::latest())
    ///     .region(Region::new("us-west-2"))
    ///     .credentials_provider(Credentials::for_tests())
    ///     .endpoint_url("http://127.0.0.1:5000")
    ///     .build();
    /// let supplier = esdk::kms::KmsClientSupplier::from_config(config);
    /// # let _ = supplier;
    /// ```
    pub fn from_config(config: aws_sdk_kms::Config) -> Self {
        Self {
            base: Base::Config(with_default_timeouts(config)),
            clients: client_cache(),
        }
    }

    /// Clients configured from the standard AWS environment (environment variables such as
    /// `AWS_REGION`, `AWS_ENDPOINT_URL` and `AWS_PROFILE`, shared config files, web identity,
    /// container and instance metadata), loaded on the first KMS call.
    ///
    /// SSO profiles and `credential_process` need the `sso` and `credentials-process`
    /// features of the `aws-config` crate, which esdk leaves off: add
    /// `aws-config = { version = "1", features = ["sso", "credentials-process"] }` to your
    /// `Cargo.toml` to turn them on.
    ///
    /// ```
    /// let supplier = esdk::kms::KmsClientSupplier::from_env(); // loads nothing yet
    /// # let _ = supplier;
    /// ```
    #[cfg(feature = "aws-config")]
    #[cfg_attr(docsrs, doc(cfg(feature = "aws-config")))]
    pub fn from_env() -> Self {
        Self {
            base: Base::Environment(tokio::sync::OnceCell::new()),
            clients: client_cache(),
        }
    }

    async fn base_config(&self) -> aws_sdk_kms::Config {
        match &self.base {
            Base::Config(config) => config.clone(),
            #[cfg(feature = "aws-config")]
            Base::Environment(cell) => cell
                .get_or_init(|| async {
                    let loaded = aws_config::defaults(aws_config::BehaviorVersion::latest())
                        .load()
                        .await;
                    with_default_timeouts(aws_sdk_kms::Config::new(&loaded))
                })
                .await
                .clone(),
        }
    }
}

/// The timeouts a configuration should get so that a call cannot hang: `None` when it bounds
/// calls already (an operation, attempt or read timeout) or disables timeouts on purpose
/// (`TimeoutConfig::disabled()`); otherwise [`DEFAULT_TIMEOUTS`], keeping its connect timeout.
pub(crate) fn default_timeouts_for(config: &aws_sdk_kms::Config) -> Option<TimeoutConfig> {
    let connect = match config.timeout_config() {
        None => None,
        Some(t) if !t.has_timeouts() => return None,
        Some(t)
            if t.operation_timeout().is_some()
                || t.operation_attempt_timeout().is_some()
                || t.read_timeout().is_some() =>
        {
            return None
        }
        Some(t) => t.connect_timeout(),
    };
    Some(
        TimeoutConfig::builder()
            .connect_timeout(connect.unwrap_or(DEFAULT_TIMEOUTS.connect_timeout()))
            .operation_attempt_timeout(DEFAULT_TIMEOUTS.operation_attempt_timeout())
            .operation_timeout(Duration::from_secs(30))
            .build(),
    )
}

fn with_default_timeouts(config: aws_sdk_kms::Config) -> aws_sdk_kms::Config {
    match default_timeouts_for(&config) {
        Some(timeouts) => config.to_builder().timeout_config(timeouts).build(),
        None => config,
    }
}

impl ClientSupplier for KmsClientSupplier {
    fn client<'a>(
        &'a self,
        region: Option<&'a str>,
    ) -> MaterialsFuture<'a, Result<aws_sdk_kms::Client, KeyringError>> {
        let key = region.map(str::to_owned);
        if let Some(client) = self
            .clients
            .lock()
            .ok()
            .and_then(|mut c| c.get(&key).cloned())
        {
            return MaterialsFuture::ready(Ok(client));
        }
        MaterialsFuture::new(async move {
            let base = self.base_config().await;
            let config = match region {
                Some(region) => base
                    .to_builder()
                    .region(Region::new(region.to_owned()))
                    .build(),
                None => base,
            };
            if config.region().is_none() {
                return Err(KeyringError::new(
                    KeyringErrorKind::Configuration,
                    "no AWS Region: name a key ARN, or set AWS_REGION or the configuration's region",
                ));
            }
            let client = aws_sdk_kms::Client::from_conf(config);
            if let Ok(mut clients) = self.clients.lock() {
                Ok(clients.get_or_insert(key, || client).clone())
            } else {
                Ok(client)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> aws_sdk_kms::config::Builder {
        aws_sdk_kms::Config::builder()
            .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
            .region(Region::new("us-west-2"))
    }

    fn base(supplier: &KmsClientSupplier) -> aws_sdk_kms::Config {
        match &supplier.base {
            Base::Config(c) => c.clone(),
            #[cfg(feature = "aws-config")]
            Base::Environment(_) => unreachable!(),
        }
    }

    #[test]
    fn default_timeouts_only_when_none_are_configured() {
        let defaulted = base(&KmsClientSupplier::from_config(config().build()));
        let t = defaulted.timeout_config().unwrap();
        assert_eq!(t.operation_timeout(), Some(Duration::from_secs(30)));
        assert_eq!(t.operation_attempt_timeout(), Some(Duration::from_secs(10)));
        assert_eq!(t.connect_timeout(), Some(Duration::from_millis(3100)));

        let disabled = config().timeout_config(TimeoutConfig::disabled()).build();
        let kept = base(&KmsClientSupplier::from_config(disabled));
        assert!(!kept.timeout_config().unwrap().has_timeouts());

        let own = config()
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(Duration::from_secs(5))
                    .build(),
            )
            .build();
        let kept = base(&KmsClientSupplier::from_config(own));
        assert_eq!(
            kept.timeout_config().unwrap().operation_timeout(),
            Some(Duration::from_secs(5))
        );
    }

    #[test]
    fn at_most_max_cached_regions_clients_are_kept() {
        let supplier = KmsClientSupplier::from_config(config().build());
        for i in 0..(MAX_CACHED_REGIONS + 50) {
            let region = format!("xx-test-{i}");
            crate::blocking::block_on(supplier.client(Some(&region))).unwrap();
        }
        assert_eq!(supplier.clients.lock().unwrap().len(), MAX_CACHED_REGIONS);
        // The same Region twice is one client.
        let a = crate::blocking::block_on(supplier.client(Some("us-east-1"))).unwrap();
        let b = crate::blocking::block_on(supplier.client(Some("us-east-1"))).unwrap();
        assert_eq!(a.config().region(), b.config().region());
    }
}
