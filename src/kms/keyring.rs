//! The AWS KMS keyrings: strict (optionally multi-Region aware) and discovery.
//!
//! Spec: `framework/aws-kms/aws-kms-keyring.md`, `aws-kms-mrk-keyring.md`,
//! `aws-kms-discovery-keyring.md`, `aws-kms-mrk-discovery-keyring.md`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use aws_sdk_kms::primitives::Blob;

use super::arn::{mrk_match, DiscoveryFilter, KmsArn, KmsKeyId, ResourceType};
use super::client::ClientSupplier;
use super::error::{from_sdk, invalid_response};
use super::runtime;
use crate::error::{KeyringAttempt, KeyringError, KeyringErrorKind};
use crate::format::context::EncryptionContext;
use crate::format::header::EncryptedDataKey;
use crate::future::MaterialsFuture;
use crate::keyring::{ensure_no_data_key, Keyring};
use crate::materials::{DataKey, DecryptionMaterials, EncryptionMaterials};

/// The provider id of every encrypted data key that AWS KMS wraps.
///
/// ```
/// assert_eq!(esdk::kms::PROVIDER_ID, "aws-kms");
/// ```
pub const PROVIDER_ID: &str = "aws-kms";

pub(crate) fn configuration(message: impl Into<std::borrow::Cow<'static, str>>) -> crate::Error {
    crate::Error::Keyring(KeyringError::new(KeyringErrorKind::Configuration, message))
}

fn default_supplier() -> crate::Result<Arc<dyn ClientSupplier>> {
    #[cfg(feature = "aws-config")]
    {
        Ok(Arc::new(super::client::KmsClientSupplier::from_env()))
    }
    #[cfg(not(feature = "aws-config"))]
    {
        Err(configuration(
            "no KMS client: call .client() or .client_supplier() (or turn on the `aws-config` feature)",
        ))
    }
}

fn kms_context(context: &EncryptionContext) -> Option<HashMap<String, String>> {
    if context.is_empty() {
        None
    } else {
        Some(
            context
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }
}

fn grant_tokens(tokens: &[String]) -> Option<Vec<String>> {
    (!tokens.is_empty()).then(|| tokens.to_vec())
}

/// The provider info of an `aws-kms` encrypted data key, as a key ARN; anything else fails the
/// whole decrypt call, as the specification says.
fn stored_key_arn(edk: &EncryptedDataKey) -> Result<(String, KmsArn), crate::Error> {
    let refuse = |why: String| {
        crate::Error::Keyring(KeyringError::new(
            KeyringErrorKind::Other,
            format!("an aws-kms encrypted data key does not name a KMS key ARN: {why}"),
        ))
    };
    let info = std::str::from_utf8(&edk.provider_info)
        .map_err(|_| refuse("its provider info is not UTF-8".into()))?;
    let arn = KmsArn::parse(info).map_err(|e| refuse(e.to_string()))?;
    if arn.resource_type() != ResourceType::Key {
        return Err(refuse(format!("{info:?} is an alias ARN")));
    }
    Ok((info.to_owned(), arn))
}

/// Every `aws-kms` encrypted data key with its key ARN, all checked before any KMS call: one
/// malformed provider info fails the whole call (the specification filters the whole list
/// first, and that filter "MUST fail" on a provider info that is not a key ARN).
fn aws_kms_edks(
    edks: &[EncryptedDataKey],
) -> Result<Vec<(&EncryptedDataKey, String, KmsArn)>, crate::Error> {
    edks.iter()
        .filter(|edk| edk.provider_id == PROVIDER_ID)
        .map(|edk| stored_key_arn(edk).map(|(stored, arn)| (edk, stored, arn)))
        .collect()
}

/// A checked `KeyId` from a KMS response: a key ARN.
fn response_key_arn(key_id: Option<String>) -> Result<String, KeyringError> {
    let key_id = key_id.ok_or_else(|| invalid_response("the KMS response has no KeyId"))?;
    match KmsArn::parse(&key_id) {
        Ok(arn) if arn.resource_type() == ResourceType::Key => Ok(key_id),
        _ => Err(invalid_response(format!(
            "the KMS response's KeyId {key_id:?} is not a key ARN"
        ))),
    }
}

fn response_plaintext(plaintext: Option<Blob>, expected: usize) -> Result<DataKey, KeyringError> {
    let key = DataKey::new(
        plaintext
            .ok_or_else(|| invalid_response("the KMS response has no Plaintext"))?
            .into_inner(),
    );
    if key.expose_secret().len() != expected {
        return Err(invalid_response(format!(
            "KMS returned a {}-byte data key; the algorithm suite needs {expected}",
            key.expose_secret().len()
        )));
    }
    Ok(key)
}

/// Per-request configuration: [`DEFAULT_TIMEOUTS`](super::DEFAULT_TIMEOUTS) for a client whose
/// configuration does not bound calls (a client the caller built without timeouts must not
/// hang a keyring), nothing otherwise.
fn request_config(client: &aws_sdk_kms::Client) -> aws_sdk_kms::config::Builder {
    let mut builder = aws_sdk_kms::config::Builder::default();
    if let Some(timeouts) = super::client::default_timeouts_for(client.config()) {
        builder = builder.timeout_config(timeouts);
    }
    builder
}

/// One Decrypt call, its response checked against the request.
async fn kms_decrypt(
    supplier: Arc<dyn ClientSupplier>,
    region: Option<String>,
    key_id: String,
    ciphertext: Vec<u8>,
    context: Option<HashMap<String, String>>,
    grants: Option<Vec<String>>,
    key_len: usize,
) -> Result<DataKey, KeyringError> {
    runtime::drive(async move {
        let client = supplier.client(region.as_deref()).await?;
        let out = client
            .decrypt()
            .key_id(&key_id)
            .ciphertext_blob(Blob::new(ciphertext))
            .set_encryption_context(context)
            .set_grant_tokens(grants)
            .customize()
            .config_override(request_config(&client))
            .send()
            .await
            .map_err(|e| from_sdk("Decrypt", e))?;
        if out.key_id.as_deref() != Some(key_id.as_str()) {
            return Err(invalid_response(format!(
                "KMS Decrypt answered for key {:?}, not the {key_id:?} asked for",
                out.key_id.as_deref().unwrap_or("")
            )));
        }
        response_plaintext(out.plaintext, key_len)
    })
    .await
}

/// An AWS KMS keyring for one KMS key: it generates data keys with `GenerateDataKey` (as a
/// generator) or wraps them with `Encrypt`, and decrypts only encrypted data keys that this
/// key wrapped.
///
/// The key may be named by key ARN, alias ARN, alias name (`alias/...`) or key id, but only a
/// key ARN can decrypt: a message stores the key ARN, and a strict keyring only sends KMS
/// keys it was configured with. With [`multi_region_aware`](AwsKmsKeyringBuilder::multi_region_aware),
/// a multi-Region key ARN also decrypts what any of its replicas wrapped (the call goes to the
/// configured Region).
///
/// For a generator plus other keys, use [`crate::kms::multi_keyring`].
///
/// ```no_run
/// # async fn run(kms: aws_sdk_kms::Client) -> Result<(), esdk::Error> {
/// let keyring = esdk::kms::AwsKmsKeyring::new(
///     "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
///     kms,
/// )?;
/// let client = esdk::Client::default();
/// let message = client.encrypt(&keyring, b"secret", &Default::default()).await?;
/// assert_eq!(client.decrypt(&keyring, &message).await?.plaintext, b"secret");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AwsKmsKeyring {
    key_id: String,
    region: Option<String>,
    supplier: Arc<dyn ClientSupplier>,
    grant_tokens: Vec<String>,
    mrk_aware: bool,
}

impl fmt::Debug for AwsKmsKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsKmsKeyring")
            .field("key_id", &self.key_id)
            .field("multi_region_aware", &self.mrk_aware)
            .field("grant_tokens", &self.grant_tokens.len())
            .finish_non_exhaustive()
    }
}

/// Builds an [`AwsKmsKeyring`]. Its `Debug` shows no grant token.
///
/// ```
/// let kms = aws_sdk_kms::Client::from_conf(
///     aws_sdk_kms::Config::builder()
///         .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
///         .build(),
/// );
/// let keyring = esdk::kms::AwsKmsKeyring::builder("arn:aws:kms:us-west-2:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab")
///     .client(kms)
///     .grant_tokens(["a-grant-token"])
///     .multi_region_aware(true)
///     .build()?;
/// # Ok::<(), esdk::Error>(())
/// ```
#[must_use]
pub struct AwsKmsKeyringBuilder {
    key_id: String,
    supplier: Option<Arc<dyn ClientSupplier>>,
    grant_tokens: Vec<String>,
    mrk_aware: bool,
}

impl fmt::Debug for AwsKmsKeyringBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsKmsKeyringBuilder")
            .field("key_id", &self.key_id)
            .field("multi_region_aware", &self.mrk_aware)
            .field("grant_tokens", &self.grant_tokens.len())
            .finish_non_exhaustive()
    }
}

impl AwsKmsKeyringBuilder {
    /// The KMS client for every call (the specification's configured client).
    ///
    /// ```
    /// # fn f(kms: aws_sdk_kms::Client) -> esdk::kms::AwsKmsKeyringBuilder {
    /// esdk::kms::AwsKmsKeyring::builder("alias/my-key").client(kms)
    /// # }
    /// ```
    pub fn client(mut self, client: aws_sdk_kms::Client) -> Self {
        self.supplier = Some(Arc::new(client));
        self
    }

    /// Where to get a client: asked for the key ARN's Region (or the default Region for an
    /// alias name or key id). Without `client` or `client_supplier`, and with the
    /// `aws-config` feature, [`KmsClientSupplier::from_env`](super::KmsClientSupplier::from_env).
    ///
    /// ```
    /// # fn f(config: aws_sdk_kms::Config) -> esdk::kms::AwsKmsKeyringBuilder {
    /// esdk::kms::AwsKmsKeyring::builder("alias/my-key")
    ///     .client_supplier(esdk::kms::KmsClientSupplier::from_config(config))
    /// # }
    /// ```
    pub fn client_supplier(mut self, supplier: impl ClientSupplier + 'static) -> Self {
        self.supplier = Some(Arc::new(supplier));
        self
    }

    /// Grant tokens sent with every call.
    ///
    /// ```
    /// let builder = esdk::kms::AwsKmsKeyring::builder("alias/my-key").grant_tokens(["token"]);
    /// # let _ = builder;
    /// ```
    pub fn grant_tokens(mut self, tokens: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.grant_tokens = tokens.into_iter().map(Into::into).collect();
        self
    }

    /// Whether a multi-Region key ARN matches its replicas in other Regions on decrypt
    /// (`aws-kms-mrk-keyring.md`). Off by default: the stored ARN must equal the configured one.
    ///
    /// ```
    /// let builder = esdk::kms::AwsKmsKeyring::builder("alias/my-key").multi_region_aware(true);
    /// # let _ = builder;
    /// ```
    pub fn multi_region_aware(mut self, on: bool) -> Self {
        self.mrk_aware = on;
        self
    }

    /// The keyring; fails if the key identifier is not a valid AWS KMS identifier, or there is
    /// no client.
    ///
    /// ```
    /// assert!(esdk::kms::AwsKmsKeyring::builder("arn:aws:s3:::bucket").build().is_err());
    /// ```
    pub fn build(self) -> crate::Result<AwsKmsKeyring> {
        let parsed = KmsKeyId::parse(&self.key_id).map_err(|e| {
            crate::Error::Keyring(
                KeyringError::new(
                    KeyringErrorKind::Configuration,
                    "not a valid AWS KMS key identifier",
                )
                .with_source(e),
            )
        })?;
        let supplier = match self.supplier {
            Some(s) => s,
            None => default_supplier()?,
        };
        Ok(AwsKmsKeyring {
            region: parsed.region().map(str::to_owned),
            key_id: self.key_id,
            supplier,
            grant_tokens: self.grant_tokens,
            mrk_aware: self.mrk_aware,
        })
    }
}

impl AwsKmsKeyring {
    /// A keyring for `key_id` that makes every call with `client`.
    ///
    /// ```
    /// # fn f(kms: aws_sdk_kms::Client) -> esdk::Result<esdk::kms::AwsKmsKeyring> {
    /// esdk::kms::AwsKmsKeyring::new("arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", kms)
    /// # }
    /// ```
    pub fn new(key_id: impl Into<String>, client: aws_sdk_kms::Client) -> crate::Result<Self> {
        Self::builder(key_id).client(client).build()
    }

    /// A builder for a keyring for `key_id`.
    ///
    /// ```
    /// let builder = esdk::kms::AwsKmsKeyring::builder("alias/my-key");
    /// # let _ = builder;
    /// ```
    pub fn builder(key_id: impl Into<String>) -> AwsKmsKeyringBuilder {
        AwsKmsKeyringBuilder {
            key_id: key_id.into(),
            supplier: None,
            grant_tokens: Vec::new(),
            mrk_aware: false,
        }
    }

    /// The key identifier, as configured.
    ///
    /// ```
    /// # fn f(k: &esdk::kms::AwsKmsKeyring) -> &str {
    /// k.key_id()
    /// # }
    /// ```
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    fn matches(&self, stored: &str) -> bool {
        if self.mrk_aware {
            mrk_match(&self.key_id, stored)
        } else {
            self.key_id == stored
        }
    }
}

impl Keyring for AwsKmsKeyring {
    fn on_encrypt<'a>(
        &'a self,
        mut materials: EncryptionMaterials,
    ) -> MaterialsFuture<'a, crate::Result<EncryptionMaterials>> {
        MaterialsFuture::new(async move {
            let supplier = self.supplier.clone();
            let region = self.region.clone();
            let key_id = self.key_id.clone();
            let context = kms_context(&materials.encryption_context);
            let grants = grant_tokens(&self.grant_tokens);
            let key_len = materials.suite.key_len;
            match &materials.data_key {
                None => {
                    let number_of_bytes = i32::try_from(key_len)
                        .map_err(|_| crate::Error::Internal("key length out of range"))?;
                    let (key, edk) = runtime::drive(async move {
                        let client = supplier.client(region.as_deref()).await?;
                        let out = client
                            .generate_data_key()
                            .key_id(&key_id)
                            .number_of_bytes(number_of_bytes)
                            .set_encryption_context(context)
                            .set_grant_tokens(grants)
                            .customize()
                            .config_override(request_config(&client))
                            .send()
                            .await
                            .map_err(|e| from_sdk("GenerateDataKey", e))?;
                        let key = response_plaintext(out.plaintext, key_len)?;
                        let arn = response_key_arn(out.key_id)?;
                        let blob = out.ciphertext_blob.ok_or_else(|| {
                            invalid_response("the KMS response has no CiphertextBlob")
                        })?;
                        Ok((
                            key,
                            EncryptedDataKey {
                                provider_id: PROVIDER_ID.to_owned(),
                                provider_info: arn.into_bytes(),
                                ciphertext: blob.into_inner(),
                            },
                        ))
                    })
                    .await
                    .map_err(crate::Error::Keyring)?;
                    materials.data_key = Some(key);
                    materials.encrypted_data_keys.push(edk);
                }
                Some(key) => {
                    // The SDK takes its own copy of the key for the request; it is not wiped.
                    let plaintext = Blob::new(key.expose_secret().to_vec());
                    let edk = runtime::drive(async move {
                        let client = supplier.client(region.as_deref()).await?;
                        let out = client
                            .encrypt()
                            .key_id(&key_id)
                            .plaintext(plaintext)
                            .set_encryption_context(context)
                            .set_grant_tokens(grants)
                            .customize()
                            .config_override(request_config(&client))
                            .send()
                            .await
                            .map_err(|e| from_sdk("Encrypt", e))?;
                        let arn = response_key_arn(out.key_id)?;
                        let blob = out.ciphertext_blob.ok_or_else(|| {
                            invalid_response("the KMS response has no CiphertextBlob")
                        })?;
                        Ok(EncryptedDataKey {
                            provider_id: PROVIDER_ID.to_owned(),
                            provider_info: arn.into_bytes(),
                            ciphertext: blob.into_inner(),
                        })
                    })
                    .await
                    .map_err(crate::Error::Keyring)?;
                    materials.encrypted_data_keys.push(edk);
                }
            }
            Ok(materials)
        })
    }

    fn on_decrypt<'a>(
        &'a self,
        mut materials: DecryptionMaterials,
        encrypted_data_keys: &'a [EncryptedDataKey],
    ) -> MaterialsFuture<'a, crate::Result<DecryptionMaterials>> {
        MaterialsFuture::new(async move {
            ensure_no_data_key(&materials)?;
            let mut attempts = Vec::new();
            for (edk, stored, _) in aws_kms_edks(encrypted_data_keys)? {
                if !self.matches(&stored) {
                    continue;
                }
                match kms_decrypt(
                    self.supplier.clone(),
                    self.region.clone(),
                    self.key_id.clone(),
                    edk.ciphertext.clone(),
                    kms_context(&materials.encryption_context),
                    grant_tokens(&self.grant_tokens),
                    materials.suite.key_len,
                )
                .await
                {
                    Ok(key) => {
                        materials.data_key = Some(key);
                        return Ok(materials);
                    }
                    Err(e) => attempts.push(KeyringAttempt::new(
                        PROVIDER_ID,
                        stored,
                        crate::Error::Keyring(e),
                    )),
                }
            }
            if attempts.is_empty() {
                attempts.push(KeyringAttempt::keyring(
                    PROVIDER_ID,
                    &self.key_id,
                    KeyringErrorKind::NoMatchingKey,
                    "no encrypted data key was wrapped by this AWS KMS key",
                ));
            }
            Err(crate::Error::NoKeyringDecrypted {
                attempts: attempts.into(),
            })
        })
    }
}

/// An AWS KMS discovery keyring: decrypts with whichever KMS key an encrypted data key names,
/// optionally only keys of a [`DiscoveryFilter`]'s partition and accounts. It cannot encrypt.
///
/// Bound to a Region with [`region`](AwsKmsDiscoveryKeyringBuilder::region), it is the
/// multi-Region-aware discovery keyring (`aws-kms-mrk-discovery-keyring.md`): a multi-Region
/// key ARN is rewritten to that Region and decrypted there; single-Region keys of other Regions
/// are skipped.
///
/// ```no_run
/// # async fn run(kms: aws_sdk_kms::Client, message: &[u8]) -> Result<(), esdk::Error> {
/// let keyring = esdk::kms::AwsKmsDiscoveryKeyring::builder()
///     .client(kms)
///     .filter(esdk::kms::DiscoveryFilter::new("aws", ["111122223333"])?)
///     .build()?;
/// let plaintext = esdk::Client::default().decrypt(&keyring, message).await?.plaintext;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AwsKmsDiscoveryKeyring {
    supplier: Arc<dyn ClientSupplier>,
    filter: Option<DiscoveryFilter>,
    region: Option<String>,
    grant_tokens: Vec<String>,
}

impl fmt::Debug for AwsKmsDiscoveryKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsKmsDiscoveryKeyring")
            .field("filter", &self.filter)
            .field("region", &self.region)
            .field("grant_tokens", &self.grant_tokens.len())
            .finish_non_exhaustive()
    }
}

/// Builds an [`AwsKmsDiscoveryKeyring`]. Its `Debug` shows no grant token.
///
/// ```
/// # fn f(kms: aws_sdk_kms::Client) -> esdk::Result<esdk::kms::AwsKmsDiscoveryKeyring> {
/// esdk::kms::AwsKmsDiscoveryKeyring::builder()
///     .client(kms)
///     .region("eu-west-1")
///     .build()
/// # }
/// ```
#[derive(Default)]
#[must_use]
pub struct AwsKmsDiscoveryKeyringBuilder {
    supplier: Option<Arc<dyn ClientSupplier>>,
    /// The Region of a client given with `client`, to check against `region`.
    client_region: Option<String>,
    filter: Option<DiscoveryFilter>,
    region: Option<String>,
    grant_tokens: Vec<String>,
}

impl fmt::Debug for AwsKmsDiscoveryKeyringBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsKmsDiscoveryKeyringBuilder")
            .field("filter", &self.filter)
            .field("region", &self.region)
            .field("grant_tokens", &self.grant_tokens.len())
            .finish_non_exhaustive()
    }
}

impl AwsKmsDiscoveryKeyringBuilder {
    /// The KMS client for every call.
    ///
    /// ```
    /// # fn f(kms: aws_sdk_kms::Client) -> esdk::kms::AwsKmsDiscoveryKeyringBuilder {
    /// esdk::kms::AwsKmsDiscoveryKeyring::builder().client(kms)
    /// # }
    /// ```
    pub fn client(mut self, client: aws_sdk_kms::Client) -> Self {
        self.client_region = client.config().region().map(|r| r.as_ref().to_owned());
        self.supplier = Some(Arc::new(client));
        self
    }

    /// Where to get clients: asked for the stored key ARN's Region (or the bound Region).
    ///
    /// ```
    /// # fn f(config: aws_sdk_kms::Config) -> esdk::kms::AwsKmsDiscoveryKeyringBuilder {
    /// esdk::kms::AwsKmsDiscoveryKeyring::builder()
    ///     .client_supplier(esdk::kms::KmsClientSupplier::from_config(config))
    /// # }
    /// ```
    pub fn client_supplier(mut self, supplier: impl ClientSupplier + 'static) -> Self {
        self.client_region = None;
        self.supplier = Some(Arc::new(supplier));
        self
    }

    /// Only keys of this partition and these accounts.
    ///
    /// ```
    /// let builder = esdk::kms::AwsKmsDiscoveryKeyring::builder()
    ///     .filter(esdk::kms::DiscoveryFilter::new("aws", ["111122223333"])?);
    /// # let _ = builder;
    /// # Ok::<(), esdk::kms::ArnError>(())
    /// ```
    pub fn filter(mut self, filter: DiscoveryFilter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Binds the keyring to a Region: the multi-Region-aware discovery keyring.
    ///
    /// ```
    /// let builder = esdk::kms::AwsKmsDiscoveryKeyring::builder().region("us-east-1");
    /// # let _ = builder;
    /// ```
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Grant tokens sent with every call.
    ///
    /// ```
    /// let builder = esdk::kms::AwsKmsDiscoveryKeyring::builder().grant_tokens(["token"]);
    /// # let _ = builder;
    /// ```
    pub fn grant_tokens(mut self, tokens: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.grant_tokens = tokens.into_iter().map(Into::into).collect();
        self
    }

    /// The keyring; fails without a client (and without the `aws-config` feature) or with an
    /// empty Region.
    ///
    /// ```
    /// # fn f(kms: aws_sdk_kms::Client) {
    /// assert!(esdk::kms::AwsKmsDiscoveryKeyring::builder().client(kms).region("").build().is_err());
    /// # }
    /// ```
    pub fn build(self) -> crate::Result<AwsKmsDiscoveryKeyring> {
        if self.region.as_deref() == Some("") {
            return Err(configuration(
                "a discovery keyring's Region must not be empty",
            ));
        }
        let supplier = match self.supplier {
            Some(s) => s,
            None => default_supplier()?,
        };
        Ok(AwsKmsDiscoveryKeyring {
            supplier,
            filter: self.filter,
            region: self.region,
            grant_tokens: self.grant_tokens,
        })
    }
}

impl AwsKmsDiscoveryKeyring {
    /// A builder.
    ///
    /// ```
    /// let builder = esdk::kms::AwsKmsDiscoveryKeyring::builder();
    /// # let _ = builder;
    /// ```
    pub fn builder() -> AwsKmsDiscoveryKeyringBuilder {
        AwsKmsDiscoveryKeyringBuilder::default()
    }

    /// A discovery keyring that makes every call with `client`, without a filter.
    ///
    /// ```
    /// # fn f(kms: aws_sdk_kms::Client) -> esdk::Result<esdk::kms::AwsKmsDiscoveryKeyring> {
    /// esdk::kms::AwsKmsDiscoveryKeyring::new(kms)
    /// # }
    /// ```
    pub fn new(client: aws_sdk_kms::Client) -> crate::Result<Self> {
        Self::builder().client(client).build()
    }

    /// The Region this keyring is bound to, if it is multi-Region aware.
    ///
    /// ```
    /// # fn f(k: &esdk::kms::AwsKmsDiscoveryKeyring) -> Option<&str> {
    /// k.region()
    /// # }
    /// ```
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The KeyId to send for a stored key ARN, and the Region whose client sends it; `None`
    /// when this keyring must not try it.
    pub(crate) fn plan(&self, stored: &KmsArn) -> Option<(String, Option<String>)> {
        if let Some(filter) = &self.filter {
            if !filter.matches(stored) {
                return None;
            }
        }
        match &self.region {
            None => Some((stored.to_string(), Some(stored.region().to_owned()))),
            Some(region) if stored.is_multi_region_key() => {
                Some((stored.with_region(region).to_string(), Some(region.clone())))
            }
            Some(region) if stored.region() == region => {
                Some((stored.to_string(), Some(region.clone())))
            }
            Some(_) => None,
        }
    }
}

impl Keyring for AwsKmsDiscoveryKeyring {
    fn on_encrypt<'a>(
        &'a self,
        _materials: EncryptionMaterials,
    ) -> MaterialsFuture<'a, crate::Result<EncryptionMaterials>> {
        MaterialsFuture::ready(Err(configuration(
            "an AWS KMS discovery keyring cannot encrypt",
        )))
    }

    fn on_decrypt<'a>(
        &'a self,
        mut materials: DecryptionMaterials,
        encrypted_data_keys: &'a [EncryptedDataKey],
    ) -> MaterialsFuture<'a, crate::Result<DecryptionMaterials>> {
        MaterialsFuture::new(async move {
            ensure_no_data_key(&materials)?;
            let mut attempts = Vec::new();
            let mut filtered_out = 0usize;
            for (edk, stored, arn) in aws_kms_edks(encrypted_data_keys)? {
                let Some((key_id, region)) = self.plan(&arn) else {
                    filtered_out += 1;
                    continue;
                };
                match kms_decrypt(
                    self.supplier.clone(),
                    region,
                    key_id,
                    edk.ciphertext.clone(),
                    kms_context(&materials.encryption_context),
                    grant_tokens(&self.grant_tokens),
                    materials.suite.key_len,
                )
                .await
                {
                    Ok(key) => {
                        materials.data_key = Some(key);
                        return Ok(materials);
                    }
                    Err(e) => attempts.push(KeyringAttempt::new(
                        PROVIDER_ID,
                        stored,
                        crate::Error::Keyring(e),
                    )),
                }
            }
            if attempts.is_empty() {
                let (kind, why) = if filtered_out > 0 {
                    (
                        KeyringErrorKind::Configuration,
                        "the discovery filter or Region excludes every AWS KMS key in the message",
                    )
                } else {
                    (
                        KeyringErrorKind::NoMatchingKey,
                        "the message has no AWS KMS encrypted data key",
                    )
                };
                attempts.push(KeyringAttempt::keyring(PROVIDER_ID, "discovery", kind, why));
            }
            Err(crate::Error::NoKeyringDecrypted {
                attempts: attempts.into(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discovery(region: Option<&str>, filter: Option<DiscoveryFilter>) -> AwsKmsDiscoveryKeyring {
        let config = aws_sdk_kms::Config::builder()
            .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
            .build();
        let mut builder =
            AwsKmsDiscoveryKeyring::builder().client(aws_sdk_kms::Client::from_conf(config));
        if let Some(r) = region {
            builder = builder.region(r);
        }
        if let Some(f) = filter {
            builder = builder.filter(f);
        }
        builder.build().unwrap()
    }

    fn arn(s: &str) -> KmsArn {
        KmsArn::parse(s).unwrap()
    }

    const MRK_EAST: &str =
        "arn:aws:kms:us-east-1:111122223333:key/mrk-80bd8ecdcd4342aebd84b7dc9da498a7";
    const MRK_WEST: &str =
        "arn:aws:kms:us-west-2:111122223333:key/mrk-80bd8ecdcd4342aebd84b7dc9da498a7";
    const SRK_EAST: &str =
        "arn:aws:kms:us-east-1:111122223333:key/b3537ef1-d8dc-4780-9f5a-55776cbb2f7f";

    #[test]
    #[allow(clippy::type_complexity)]
    fn discovery_plans_the_calls_the_specification_describes() {
        // (keyring Region, filter, stored ARN, expected (KeyId, client Region))
        let filter = || Some(DiscoveryFilter::new("aws", ["111122223333"]).unwrap());
        let other_account = || Some(DiscoveryFilter::new("aws", ["444455556666"]).unwrap());
        let other_partition = || Some(DiscoveryFilter::new("aws-cn", ["111122223333"]).unwrap());
        let cases: Vec<(
            Option<&str>,
            Option<DiscoveryFilter>,
            &str,
            Option<(&str, &str)>,
        )> = vec![
            // Plain discovery: the stored ARN, sent to its own Region.
            (None, None, SRK_EAST, Some((SRK_EAST, "us-east-1"))),
            (None, None, MRK_EAST, Some((MRK_EAST, "us-east-1"))),
            (None, filter(), SRK_EAST, Some((SRK_EAST, "us-east-1"))),
            (None, other_account(), SRK_EAST, None),
            (None, other_partition(), SRK_EAST, None),
            // MRK-aware discovery in us-west-2: MRKs are rewritten to it...
            (
                Some("us-west-2"),
                None,
                MRK_EAST,
                Some((MRK_WEST, "us-west-2")),
            ),
            (
                Some("us-west-2"),
                None,
                MRK_WEST,
                Some((MRK_WEST, "us-west-2")),
            ),
            (
                Some("us-west-2"),
                filter(),
                MRK_EAST,
                Some((MRK_WEST, "us-west-2")),
            ),
            (Some("us-west-2"), other_account(), MRK_EAST, None),
            // ...single-Region keys of other Regions are skipped, of its own Region kept.
            (Some("us-west-2"), None, SRK_EAST, None),
            (
                Some("us-east-1"),
                None,
                SRK_EAST,
                Some((SRK_EAST, "us-east-1")),
            ),
        ];
        for (region, filter, stored, expected) in cases {
            let keyring = discovery(region, filter.clone());
            let got = keyring.plan(&arn(stored));
            let got = got
                .as_ref()
                .map(|(k, r)| (k.as_str(), r.as_deref().unwrap()));
            assert_eq!(got, expected, "{region:?} {filter:?} {stored}");
        }
    }

    #[test]
    fn strict_matching_is_exact_unless_multi_region_aware() {
        let client = aws_sdk_kms::Client::from_conf(
            aws_sdk_kms::Config::builder()
                .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
                .build(),
        );
        let strict = AwsKmsKeyring::new(MRK_WEST, client.clone()).unwrap();
        let aware = AwsKmsKeyring::builder(MRK_WEST)
            .client(client.clone())
            .multi_region_aware(true)
            .build()
            .unwrap();
        assert!(strict.matches(MRK_WEST) && !strict.matches(MRK_EAST));
        assert!(aware.matches(MRK_WEST) && aware.matches(MRK_EAST));
        assert!(!aware.matches(SRK_EAST));
        let srk = AwsKmsKeyring::builder(SRK_EAST)
            .client(client)
            .multi_region_aware(true)
            .build()
            .unwrap();
        assert!(srk.matches(SRK_EAST));
        assert!(!srk.matches(&SRK_EAST.replace("us-east-1", "us-west-2")));
    }

    #[test]
    fn malformed_aws_kms_provider_info_fails_the_call() {
        for info in [
            &b"not an arn"[..],
            b"arn:aws:kms:us-east-1:1:alias/x",
            &[0xff, 0xfe],
        ] {
            let edk = EncryptedDataKey {
                provider_id: PROVIDER_ID.into(),
                provider_info: info.to_vec(),
                ciphertext: vec![1],
            };
            assert!(stored_key_arn(&edk).is_err(), "{info:?}");
        }
    }
}
