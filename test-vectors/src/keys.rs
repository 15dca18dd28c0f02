//! Keys manifests (v1, v2, v3 and the MPL extensions), key descriptions, and building
//! keyrings and materials managers from them.
//!
//! AWS KMS descriptions (`aws-kms`, `aws-kms-mrk-aware`, `aws-kms-mrk-aware-discovery`) become
//! esdk's KMS keyrings when a KMS client supplier is given ([`KmsSupplier`]); without one they
//! are skipped with [`KMS_OFF`] in the reason.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use serde_json::Value;

use crate::error::{Context, Result, VectorError};
use crate::json;

/// Where the AWS KMS keyrings of a run get their clients. `None` turns KMS off: KMS
/// descriptions are then skipped.
pub type KmsSupplier = Option<Arc<dyn esdk::kms::ClientSupplier>>;

/// Why a vector that needs AWS KMS is skipped when KMS is off (the end of its skip reason).
pub const KMS_OFF: &str =
    "needs the real AWS KMS keys of the public vectors (run with --kms and AWS credentials)";

/// One key of a keys manifest.
#[derive(Debug, Clone)]
pub struct KeyEntry {
    /// The name tests use to refer to the key.
    pub name: String,
    /// `symmetric`, `private`, `public`, `aws-kms`, or an MPL type (`static-material`,
    /// `static-branch-key`, `ecc-private`, `aws-kms-rsa`, `aws-kms-ecdh`).
    pub key_type: String,
    /// The identifier written into the encrypted data key (v2+); the name when absent.
    pub key_id: Option<String>,
    /// Whether the key may be used to encrypt.
    pub encrypt: bool,
    /// Whether the key may be used to decrypt.
    pub decrypt: bool,
    /// `aes`, `rsa`, `ecdh`, when given.
    pub algorithm: Option<String>,
    /// Key size in bits, when given.
    pub bits: Option<u64>,
    /// `base64` or `pem`, when given.
    pub encoding: Option<String>,
    /// The key material (v1 line arrays already joined).
    pub material: Option<String>,
    /// The whole entry, for MPL fields this runner does not interpret.
    pub raw: Value,
}

impl KeyEntry {
    /// The name the key has in encrypted data keys: `key-id`, or the name when there is none.
    pub fn key_name(&self) -> &str {
        self.key_id.as_deref().unwrap_or(&self.name)
    }

    /// Whether this is a raw key whose material can unwrap data keys.
    pub fn can_decrypt(&self) -> bool {
        self.decrypt && matches!(self.key_type.as_str(), "symmetric" | "private")
    }
}

/// A parsed keys manifest: key entries by name.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    /// The manifest version (1, 2 or 3; 0 for keys built by this runner).
    pub version: u64,
    keys: BTreeMap<String, KeyEntry>,
}

impl Keys {
    /// Parses a keys manifest (`{"manifest":{"type":"keys","version":N},"keys":{...}}`).
    ///
    /// # Errors
    /// When it is not a keys manifest or an entry is malformed.
    pub fn parse(doc: &Value) -> Result<Self> {
        let manifest = json::object_field(doc, "manifest")?;
        let kind = json::str_field(manifest, "type")?;
        if kind != "keys" {
            return Err(VectorError::new(format!(
                "manifest type is {kind:?}, expected \"keys\""
            )));
        }
        let version = json::u64_field(manifest, "version")?;
        if !(1..=3).contains(&version) {
            return Err(VectorError::new(format!(
                "unsupported keys manifest version {version}"
            )));
        }
        let entries = json::object_field(doc, "keys")?
            .as_object()
            .context("\"keys\" is not an object")?;
        let mut keys = BTreeMap::new();
        for (name, entry) in entries {
            let key = parse_entry(name, entry).with_context(|| format!("key {name:?}"))?;
            keys.insert(name.clone(), key);
        }
        Ok(Self { version, keys })
    }

    /// Adds or replaces a key.
    pub fn insert(&mut self, key: KeyEntry) {
        self.keys.insert(key.name.clone(), key);
    }

    /// The key called `name`.
    ///
    /// # Errors
    /// When there is none.
    pub fn get(&self, name: &str) -> Result<&KeyEntry> {
        self.keys
            .get(name)
            .with_context(|| format!("key {name:?} is not in the keys manifest"))
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

fn parse_entry(name: &str, entry: &Value) -> Result<KeyEntry> {
    if !entry.is_object() {
        return Err(VectorError::new("entry is not an object"));
    }
    let material = match entry.get("material") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(lines)) => {
            let sep = json::opt_str(entry, "line-separator")?.unwrap_or("");
            let lines = lines
                .iter()
                .map(|l| l.as_str().context("material line is not a string"))
                .collect::<Result<Vec<_>>>()?;
            Some(lines.join(sep))
        }
        Some(_) => return Err(VectorError::new("material is neither a string nor a list")),
    };
    Ok(KeyEntry {
        name: name.to_owned(),
        key_type: json::str_field(entry, "type")?.to_owned(),
        key_id: json::opt_str(entry, "key-id")?.map(str::to_owned),
        encrypt: json::opt_bool(entry, "encrypt")?.unwrap_or(true),
        decrypt: json::opt_bool(entry, "decrypt")?.unwrap_or(true),
        algorithm: json::opt_str(entry, "algorithm")?.map(str::to_ascii_lowercase),
        bits: json::opt_u64(entry, "bits")?,
        encoding: json::opt_str(entry, "encoding")?.map(str::to_owned),
        material,
        raw: entry.clone(),
    })
}

/// A raw AES or RSA key as a test names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawKey {
    /// The key's name in the keys manifest.
    pub key: String,
    /// The keyring namespace (`provider-id`).
    pub provider_id: String,
    /// `aes` or `rsa`.
    pub algorithm: String,
    /// RSA padding: `pkcs1` or `oaep-mgf1`.
    pub padding: Option<String>,
    /// RSA OAEP hash: `sha1`, `sha256`, `sha384`, `sha512`.
    pub padding_hash: Option<String>,
    /// The key name to use instead of the entry's `key-id` (legacy manifests).
    pub key_name: Option<String>,
}

/// An `aws-kms-discovery-filter`: only KMS keys of this partition and these accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsDiscoveryFilter {
    /// `partition` (`aws`, `aws-cn`, ...).
    pub partition: String,
    /// `account-ids`.
    pub account_ids: Vec<String>,
}

/// How a test decrypts: a master key, a keyring or a materials manager description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyDescription {
    /// A raw AES or RSA keyring.
    Raw(RawKey),
    /// An AWS KMS keyring for one key: `aws-kms` (strict), `aws-kms-mrk-aware` (strict,
    /// multi-Region aware); also `aws-kms-rsa` and `aws-kms-ecdh`, which esdk does not have.
    Kms {
        /// The description type (`aws-kms`, `aws-kms-mrk-aware`, ...).
        kind: String,
        /// The key's name in the keys manifest, when the description names one.
        key: Option<String>,
        /// The key ARN, when known without the keys manifest (legacy manifests).
        arn: Option<String>,
    },
    /// `aws-kms-mrk-aware-discovery`: the multi-Region-aware AWS KMS discovery keyring.
    KmsMrkDiscovery {
        /// `default-mrk-region`: the Region it decrypts in.
        region: String,
        /// `aws-kms-discovery-filter`, if any.
        filter: Option<KmsDiscoveryFilter>,
    },
    /// A multi-keyring. Master-key lists (awses-decrypt v1–v4) have no generator.
    Multi {
        /// The generator, if any.
        generator: Option<Box<KeyDescription>>,
        /// The other keyrings.
        children: Vec<KeyDescription>,
    },
    /// The required-encryption-context CMM over a default CMM (or another CMM).
    RequiredEncryptionContext {
        /// The required context keys.
        keys: Vec<String>,
        /// What the CMM wraps.
        underlying: Box<KeyDescription>,
    },
    /// A keyring this runner does not implement (raw ECDH, hierarchical, ...).
    Unsupported {
        /// The description type.
        kind: String,
    },
}

impl KeyDescription {
    /// Parses a master key (awses-decrypt v1–v4) or a v5 key description.
    ///
    /// # Errors
    /// When a required field is missing or has the wrong type.
    pub fn parse(v: &Value) -> Result<Self> {
        let kind = json::str_field(v, "type")?;
        Ok(match kind {
            "raw" => Self::Raw(RawKey {
                key: json::str_field(v, "key")?.to_owned(),
                provider_id: json::str_field(v, "provider-id")?.to_owned(),
                algorithm: json::str_field(v, "encryption-algorithm")?.to_ascii_lowercase(),
                padding: json::opt_str(v, "padding-algorithm")?.map(str::to_ascii_lowercase),
                padding_hash: json::opt_str(v, "padding-hash")?.map(str::to_ascii_lowercase),
                key_name: None,
            }),
            "aws-kms" | "aws-kms-mrk-aware" | "aws-kms-rsa" => Self::Kms {
                kind: kind.to_owned(),
                key: Some(json::str_field(v, "key")?.to_owned()),
                arn: None,
            },
            "aws-kms-ecdh" => Self::Kms {
                kind: kind.to_owned(),
                key: json::opt_str(v, "recipient")?.map(str::to_owned),
                arn: None,
            },
            "aws-kms-mrk-aware-discovery" => Self::KmsMrkDiscovery {
                region: json::str_field(v, "default-mrk-region")?.to_owned(),
                filter: match v.get("aws-kms-discovery-filter") {
                    None | Some(Value::Null) => None,
                    Some(f) => Some(KmsDiscoveryFilter {
                        partition: json::str_field(f, "partition")
                            .context("aws-kms-discovery-filter")?
                            .to_owned(),
                        account_ids: json::str_list(f, "account-ids")
                            .context("aws-kms-discovery-filter")?,
                    }),
                },
            },
            "multi-keyring" => {
                let generator = match v.get("generator") {
                    None | Some(Value::Null) => None,
                    Some(g) => Some(Box::new(Self::parse(g).context("generator")?)),
                };
                let children = match v.get("childKeyrings") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(list)) => list
                        .iter()
                        .enumerate()
                        .map(|(i, c)| Self::parse(c).with_context(|| format!("childKeyrings[{i}]")))
                        .collect::<Result<_>>()?,
                    Some(_) => return Err(VectorError::new("childKeyrings is not a list")),
                };
                Self::Multi {
                    generator,
                    children,
                }
            }
            "required-encryption-context-cmm" => Self::RequiredEncryptionContext {
                keys: json::str_list(v, "requiredEncryptionContextKeys")?,
                underlying: Box::new(
                    Self::parse(json::object_field(v, "underlying")?).context("underlying")?,
                ),
            },
            other => Self::Unsupported {
                kind: other.to_owned(),
            },
        })
    }

    /// A multi-keyring over a list of master keys (awses-decrypt v1–v4).
    ///
    /// # Errors
    /// When an element is malformed.
    pub fn parse_master_keys(list: &Value) -> Result<Self> {
        let list = list.as_array().context("master-keys is not a list")?;
        let children = list
            .iter()
            .enumerate()
            .map(|(i, m)| Self::parse(m).with_context(|| format!("master-keys[{i}]")))
            .collect::<Result<_>>()?;
        Ok(Self::Multi {
            generator: None,
            children,
        })
    }
}

/// What a description turned into.
#[derive(Debug, Clone)]
pub enum Built {
    /// A keyring (used through the default CMM).
    Keyring(Arc<dyn esdk::Keyring>),
    /// A materials manager.
    Cmm(Arc<dyn esdk::MaterialsManager>),
    /// The test cannot run here; the reason says why (AWS KMS, unimplemented keyring).
    Skip(String),
    /// Nothing in the description can decrypt (public or encrypt-only keys).
    CannotDecrypt(String),
}

impl Built {
    /// As a materials manager: keyrings are wrapped in the default CMM.
    pub fn into_cmm(self) -> Option<Arc<dyn esdk::MaterialsManager>> {
        match self {
            Self::Keyring(k) => Some(Arc::new(esdk::DefaultMaterialsManager::new(k))),
            Self::Cmm(c) => Some(c),
            Self::Skip(_) | Self::CannotDecrypt(_) => None,
        }
    }
}

/// Builds the keyring or CMM a description stands for, for decrypting.
///
/// AWS KMS descriptions get their clients from `kms`; without it (KMS off) they are skipped.
/// `edks` are the message's encrypted data keys; they only serve to name the AWS KMS keys of
/// discovery keyrings in skip reasons.
///
/// # Errors
/// When the description names a missing key or a key of another type, the key material or
/// KMS key identifier is invalid, or a CMM is nested inside a keyring.
pub fn build(
    desc: &KeyDescription,
    keys: &Keys,
    edks: &[esdk::materials::EncryptedDataKey],
    kms: &KmsSupplier,
) -> Result<Built> {
    match desc {
        KeyDescription::Raw(raw) => build_raw(raw, keys),
        KeyDescription::Kms { kind, .. } if !is_strict_kms(kind) => Ok(Built::Skip(format!(
            "keyring type {kind} not implemented by esdk"
        ))),
        KeyDescription::Kms { kind, key, arn } => {
            let Some(supplier) = kms else {
                return Ok(Built::Skip(kms_reason(
                    kind,
                    key.as_deref(),
                    arn.as_deref(),
                    keys,
                    edks,
                )?));
            };
            let (key_id, entry) = kms_key_id(kind, key.as_deref(), arn.as_deref(), keys)?;
            if let Some(entry) = entry.filter(|e| !e.decrypt) {
                return Ok(Built::CannotDecrypt(format!(
                    "key {:?} cannot decrypt (type {}, decrypt false)",
                    entry.name, entry.key_type
                )));
            }
            let keyring = strict_kms_keyring(kind, &key_id, supplier)?;
            Ok(Built::Keyring(Arc::new(keyring)))
        }
        KeyDescription::KmsMrkDiscovery { region, filter } => match kms {
            None => Ok(Built::Skip(kms_reason(
                "aws-kms-mrk-aware-discovery",
                None,
                None,
                keys,
                edks,
            )?)),
            Some(supplier) => Ok(Built::Keyring(Arc::new(mrk_discovery_keyring(
                region,
                filter.as_ref(),
                supplier,
            )?))),
        },
        KeyDescription::Unsupported { kind } => {
            Ok(Built::Skip(format!("keyring type {kind} not implemented")))
        }
        KeyDescription::Multi {
            generator,
            children,
        } => {
            let mut skips = Vec::new();
            let mut unusable = Vec::new();
            let mut keyring = |d: &KeyDescription| -> Result<Option<Arc<dyn esdk::Keyring>>> {
                match build(d, keys, edks, kms)? {
                    Built::Keyring(k) => Ok(Some(k)),
                    Built::Cmm(_) => Err(VectorError::new(
                        "a materials manager cannot be part of a multi-keyring",
                    )),
                    Built::Skip(reason) => {
                        skips.push(reason);
                        Ok(None)
                    }
                    Built::CannotDecrypt(reason) => {
                        unusable.push(reason);
                        Ok(None)
                    }
                }
            };
            let generator = match generator {
                Some(g) => keyring(g).context("generator")?,
                None => None,
            };
            let mut kids = Vec::new();
            for (i, c) in children.iter().enumerate() {
                if let Some(k) = keyring(c).with_context(|| format!("child keyring {i}"))? {
                    kids.push(k);
                }
            }
            if generator.is_none() && kids.is_empty() {
                return Ok(match skips.into_iter().next() {
                    Some(reason) => Built::Skip(reason),
                    None if unusable.is_empty() => {
                        Built::CannotDecrypt("no keys are listed".to_owned())
                    }
                    None => Built::CannotDecrypt(unusable.join("; ")),
                });
            }
            let multi = esdk::MultiKeyring::new(generator, kids).context("multi-keyring")?;
            Ok(Built::Keyring(Arc::new(multi)))
        }
        KeyDescription::RequiredEncryptionContext {
            keys: required,
            underlying,
        } => {
            let underlying: Arc<dyn esdk::MaterialsManager> =
                match build(underlying, keys, edks, kms).context("underlying")? {
                    Built::Keyring(k) => Arc::new(esdk::DefaultMaterialsManager::new(k)),
                    Built::Cmm(c) => c,
                    other => return Ok(other),
                };
            Ok(Built::Cmm(Arc::new(
                esdk::cmm::RequiredEncryptionContextMaterialsManager::new(
                    underlying,
                    required.clone(),
                ),
            )))
        }
    }
}

fn build_raw(raw: &RawKey, keys: &Keys) -> Result<Built> {
    let entry = keys.get(&raw.key)?;
    let ctx = || format!("raw key {:?}", raw.key);
    if entry.key_type == "aws-kms" || entry.key_type.starts_with("aws-kms-") {
        return Err(VectorError::new(format!(
            "is described as raw but the keys manifest says type {:?}",
            entry.key_type
        )))
        .with_context(ctx);
    }
    if let Some(alg) = &entry.algorithm {
        if *alg != raw.algorithm {
            return Err(VectorError::new(format!(
                "the test says {} but the keys manifest says {alg}",
                raw.algorithm
            )))
            .with_context(ctx);
        }
    }
    if !entry.can_decrypt() {
        return Ok(Built::CannotDecrypt(format!(
            "key {:?} cannot decrypt (type {}, decrypt {})",
            raw.key, entry.key_type, entry.decrypt
        )));
    }
    let name = raw.key_name.as_deref().unwrap_or(entry.key_name());
    let material = entry
        .material
        .as_deref()
        .context("no key material")
        .with_context(ctx)?;
    match raw.algorithm.as_str() {
        "aes" => {
            let bytes = decode_base64(material)
                .context("material")
                .with_context(ctx)?;
            let keyring = esdk::RawAesKeyring::new(raw.provider_id.as_str(), name, &bytes)
                .with_context(ctx)?;
            Ok(Built::Keyring(Arc::new(keyring)))
        }
        "rsa" => {
            let padding = rsa_padding(raw.padding.as_deref(), raw.padding_hash.as_deref())
                .with_context(ctx)?;
            // Decrypting needs the private key only.
            let keyring = raw_rsa_keyring(raw.provider_id.as_str(), name, entry, padding, false)
                .with_context(ctx)?;
            Ok(Built::Keyring(Arc::new(keyring)))
        }
        other => Err(VectorError::new(format!(
            "unknown encryption-algorithm {other:?}"
        )))
        .with_context(ctx),
    }
}

/// A raw RSA keyring for a keys-manifest RSA entry (`type` `private` or `public`, PEM material).
///
/// The library never derives a public key from a private one, but a manifest may name a private
/// key to encrypt with: with `for_encrypt`, this runner derives the public half of a private
/// entry itself and gives the keyring both.
///
/// # Errors
/// For a key type other than `private` or `public`, or material the keyring refuses.
pub fn raw_rsa_keyring(
    namespace: &str,
    name: &str,
    entry: &KeyEntry,
    padding: esdk::RsaPadding,
    for_encrypt: bool,
) -> Result<esdk::RawRsaKeyring> {
    let material = entry.material.as_deref().context("no key material")?;
    let builder = esdk::RawRsaKeyring::builder(namespace, name, padding);
    let builder = match entry.key_type.as_str() {
        "public" => builder.public_key_pem(material),
        "private" if for_encrypt => builder
            .private_key_pem(material)
            .public_key_pem(&public_pem_of(material)?),
        "private" => builder.private_key_pem(material),
        other => {
            return Err(VectorError::new(format!(
                "an RSA key must have type private or public, not {other:?}"
            )))
        }
    };
    builder.build().context("raw RSA keyring")
}

/// The SPKI PEM of the public half of a PKCS #8 or PKCS #1 private key PEM.
fn public_pem_of(private_pem: &str) -> Result<String> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
    let private_pem = private_pem.trim();
    let private = rsa::RsaPrivateKey::from_pkcs8_pem(private_pem)
        .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(private_pem))
        .context("RSA private key PEM")?;
    rsa::RsaPublicKey::from(&private)
        .to_public_key_pem(LineEnding::LF)
        .context("RSA public key PEM")
}

/// The RSA padding named by a manifest (`pkcs1`, or `oaep-mgf1` with a hash).
///
/// Accepts the legacy spellings too (`PKCS1`, `OAEP-MGF1`, `SHA-256`).
///
/// # Errors
/// For an unknown padding or hash.
pub fn rsa_padding(padding: Option<&str>, hash: Option<&str>) -> Result<esdk::RsaPadding> {
    let padding = padding
        .context("RSA key without padding-algorithm")?
        .to_ascii_lowercase();
    match padding.as_str() {
        // pkcs1 entries sometimes carry a padding-hash too; it means nothing there.
        "pkcs1" => Ok(esdk::RsaPadding::Pkcs1),
        "oaep-mgf1" => {
            let hash = hash
                .context("oaep-mgf1 without padding-hash")?
                .to_ascii_lowercase()
                .replace('-', "");
            match hash.as_str() {
                "sha1" => Ok(esdk::RsaPadding::OaepSha1),
                "sha256" => Ok(esdk::RsaPadding::OaepSha256),
                "sha384" => Ok(esdk::RsaPadding::OaepSha384),
                "sha512" => Ok(esdk::RsaPadding::OaepSha512),
                other => Err(VectorError::new(format!("unknown padding-hash {other:?}"))),
            }
        }
        other => Err(VectorError::new(format!(
            "unknown padding-algorithm {other:?}"
        ))),
    }
}

/// Whether `kind` is a strict AWS KMS description esdk builds (`aws-kms`, `aws-kms-mrk-aware`).
pub fn is_strict_kms(kind: &str) -> bool {
    matches!(kind, "aws-kms" | "aws-kms-mrk-aware")
}

/// The key identifier of a strict AWS KMS description: the ARN it gives (legacy manifests), or
/// the `key-id` of the keys-manifest entry it names, with that entry.
///
/// # Errors
/// When the description names no key, a missing key, or a key whose type is not `aws-kms`.
pub fn kms_key_id<'k>(
    kind: &str,
    key: Option<&str>,
    arn: Option<&str>,
    keys: &'k Keys,
) -> Result<(String, Option<&'k KeyEntry>)> {
    if let Some(arn) = arn {
        return Ok((arn.to_owned(), None));
    }
    let name = key.with_context(|| format!("{kind} without a key"))?;
    let entry = keys.get(name)?;
    if entry.key_type != "aws-kms" {
        return Err(VectorError::new(format!(
            "key {name:?} is described as {kind} but the keys manifest says type {:?}",
            entry.key_type
        )));
    }
    Ok((entry.key_name().to_owned(), Some(entry)))
}

/// A strict AWS KMS keyring for `key_id`, multi-Region aware for `aws-kms-mrk-aware`, with
/// clients from `supplier`.
///
/// # Errors
/// When `key_id` is not an AWS KMS key identifier.
pub fn strict_kms_keyring(
    kind: &str,
    key_id: &str,
    supplier: &Arc<dyn esdk::kms::ClientSupplier>,
) -> Result<esdk::kms::AwsKmsKeyring> {
    esdk::kms::AwsKmsKeyring::builder(key_id)
        .client_supplier(Arc::clone(supplier))
        .multi_region_aware(kind == "aws-kms-mrk-aware")
        .build()
        .with_context(|| format!("{kind} keyring for {key_id:?}"))
}

/// The multi-Region-aware AWS KMS discovery keyring of `aws-kms-mrk-aware-discovery`: bound to
/// `region`, limited by `filter` if given, with clients from `supplier`.
///
/// # Errors
/// When the Region is empty or the filter has no partition or no accounts.
pub fn mrk_discovery_keyring(
    region: &str,
    filter: Option<&KmsDiscoveryFilter>,
    supplier: &Arc<dyn esdk::kms::ClientSupplier>,
) -> Result<esdk::kms::AwsKmsDiscoveryKeyring> {
    let mut builder = esdk::kms::AwsKmsDiscoveryKeyring::builder()
        .client_supplier(Arc::clone(supplier))
        .region(region);
    if let Some(f) = filter {
        let filter = esdk::kms::DiscoveryFilter::new(f.partition.as_str(), f.account_ids.iter())
            .context("aws-kms-discovery-filter")?;
        builder = builder.filter(filter);
    }
    builder
        .build()
        .with_context(|| format!("aws-kms-mrk-aware-discovery keyring in {region:?}"))
}

/// Why a KMS description is skipped when KMS is off: the KMS keys it would call, and
/// [`KMS_OFF`].
///
/// # Errors
/// When the description names a key that is not in the keys manifest.
pub fn kms_reason(
    kind: &str,
    key: Option<&str>,
    arn: Option<&str>,
    keys: &Keys,
    edks: &[esdk::materials::EncryptedDataKey],
) -> Result<String> {
    let mut names: Vec<String> = Vec::new();
    if let Some(arn) = arn {
        names.push(arn.to_owned());
    } else if let Some(key) = key {
        names.push(keys.get(key)?.key_name().to_owned());
    } else {
        names.extend(
            edks.iter()
                .filter(|e| e.provider_id.starts_with("aws-kms"))
                .filter_map(|e| String::from_utf8(e.provider_info.clone()).ok())
                .filter(|info| info.starts_with("arn:")),
        );
        if names.is_empty() {
            names.push("discovery".to_owned());
        }
    }
    let what = if kind == "aws-kms" {
        names.join(", ")
    } else {
        format!("{kind}: {}", names.join(", "))
    };
    Ok(format!(
        "data key is wrapped by AWS KMS ({what}): {KMS_OFF}"
    ))
}

/// Decodes standard base64, ignoring whitespace.
///
/// # Errors
/// For invalid base64.
pub fn decode_base64(text: &str) -> Result<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .context("invalid base64")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn parses_v1_keys_with_line_arrays() {
        let doc = serde_json::json!({
            "manifest": {"type": "keys", "version": 1},
            "keys": {
                "aes-128": {"encrypt": true, "decrypt": true, "algorithm": "aes", "type": "symmetric",
                    "bits": 128, "encoding": "base64", "line-separator": "", "material": ["AAECAwQF", "BgcICRAREhMUFQ=="]},
                "kms": {"encrypt": true, "decrypt": false, "type": "aws-kms", "key-id": "arn:aws:kms:x"}
            }
        });
        let keys = Keys::parse(&doc).unwrap();
        let aes = keys.get("aes-128").unwrap();
        assert_eq!(aes.material.as_deref(), Some("AAECAwQFBgcICRAREhMUFQ=="));
        assert_eq!(aes.key_name(), "aes-128");
        assert!(aes.can_decrypt());
        assert!(!keys.get("kms").unwrap().can_decrypt());
        assert!(keys.get("missing").is_err());
    }

    #[test]
    fn rejects_bad_keys_manifests() {
        assert!(Keys::parse(&serde_json::json!({})).is_err());
        assert!(Keys::parse(
            &serde_json::json!({"manifest": {"type": "keys", "version": 9}, "keys": {}})
        )
        .is_err());
        assert!(Keys::parse(
            &serde_json::json!({"manifest": {"type": "keys", "version": 3}, "keys": {"k": 5}})
        )
        .is_err());
    }

    #[test]
    fn paddings() {
        assert_eq!(
            rsa_padding(Some("pkcs1"), Some("sha1")).unwrap(),
            esdk::RsaPadding::Pkcs1
        );
        assert_eq!(
            rsa_padding(Some("OAEP-MGF1"), Some("SHA-256")).unwrap(),
            esdk::RsaPadding::OaepSha256
        );
        assert!(rsa_padding(Some("oaep-mgf1"), None).is_err());
        assert!(rsa_padding(Some("oaep-mgf1"), Some("md5")).is_err());
    }

    #[test]
    fn kms_only_lists_are_skipped_and_raw_wins() {
        let mut keys = Keys::default();
        keys.insert(KeyEntry {
            name: "aes".into(),
            key_type: "symmetric".into(),
            key_id: None,
            encrypt: true,
            decrypt: true,
            algorithm: Some("aes".into()),
            bits: Some(128),
            encoding: Some("base64".into()),
            material: Some("AAECAwQFBgcICRAREhMUFQ==".into()),
            raw: Value::Null,
        });
        let kms = KeyDescription::Kms {
            kind: "aws-kms".into(),
            key: None,
            arn: Some("arn:aws:kms:us-west-2:1:key/x".into()),
        };
        let only_kms = KeyDescription::Multi {
            generator: None,
            children: vec![kms.clone()],
        };
        match build(&only_kms, &keys, &[], &None).unwrap() {
            Built::Skip(r) => assert_eq!(
                r,
                "data key is wrapped by AWS KMS (arn:aws:kms:us-west-2:1:key/x): needs the real AWS \
                 KMS keys of the public vectors (run with --kms and AWS credentials)"
            ),
            other => panic!("{other:?}"),
        }
        let mixed = KeyDescription::Multi {
            generator: None,
            children: vec![
                kms,
                KeyDescription::Raw(RawKey {
                    key: "aes".into(),
                    provider_id: "ns".into(),
                    algorithm: "aes".into(),
                    padding: None,
                    padding_hash: None,
                    key_name: None,
                }),
            ],
        };
        assert!(matches!(
            build(&mixed, &keys, &[], &None).unwrap(),
            Built::Keyring(_)
        ));
    }

    fn kms_keys() -> Keys {
        let doc = serde_json::json!({
            "manifest": {"type": "keys", "version": 3},
            "keys": {
                "kms": {"type": "aws-kms", "encrypt": true, "decrypt": true,
                    "key-id": "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
                "kms-encrypt-only": {"type": "aws-kms", "encrypt": true, "decrypt": false,
                    "key-id": "arn:aws:kms:us-west-2:111122223333:key/590fd781-ddde-4036-abec-3e1ab5a5d2ad"},
                "aes": {"type": "symmetric", "algorithm": "aes", "bits": 128, "encoding": "base64",
                    "material": "AAECAwQFBgcICRAREhMUFQ==", "key-id": "aes"}
            }
        });
        Keys::parse(&doc).unwrap()
    }

    #[test]
    fn parses_mrk_discovery_descriptions() {
        let with_filter = KeyDescription::parse(&serde_json::json!({
            "type": "aws-kms-mrk-aware-discovery",
            "default-mrk-region": "us-west-2",
            "aws-kms-discovery-filter": {"partition": "aws", "account-ids": ["658956600833"]}
        }))
        .unwrap();
        assert_eq!(
            with_filter,
            KeyDescription::KmsMrkDiscovery {
                region: "us-west-2".into(),
                filter: Some(KmsDiscoveryFilter {
                    partition: "aws".into(),
                    account_ids: vec!["658956600833".into()],
                }),
            }
        );
        let without = KeyDescription::parse(&serde_json::json!({
            "type": "aws-kms-mrk-aware-discovery", "default-mrk-region": "eu-west-1"
        }))
        .unwrap();
        assert!(matches!(
            without,
            KeyDescription::KmsMrkDiscovery { filter: None, .. }
        ));
        assert!(
            KeyDescription::parse(&serde_json::json!({"type": "aws-kms-mrk-aware-discovery"}))
                .is_err()
        );
        assert!(KeyDescription::parse(&serde_json::json!({
            "type": "aws-kms-mrk-aware-discovery", "default-mrk-region": "us-west-2",
            "aws-kms-discovery-filter": {"partition": "aws"}
        }))
        .is_err());
    }

    #[test]
    fn kms_descriptions_build_kms_keyrings_when_kms_is_on() {
        let keys = kms_keys();
        // Builds no client and calls nothing until a keyring is used.
        let on: KmsSupplier = Some(Arc::new(esdk::kms::KmsClientSupplier::from_env()));
        let desc = |kind: &str, key: &str| KeyDescription::Kms {
            kind: kind.into(),
            key: Some(key.into()),
            arn: None,
        };
        for kind in ["aws-kms", "aws-kms-mrk-aware"] {
            let built = build(&desc(kind, "kms"), &keys, &[], &on).unwrap();
            assert!(
                matches!(&built, Built::Keyring(k) if format!("{k:?}").contains("AwsKmsKeyring")),
                "{kind}: {built:?}"
            );
        }
        assert!(matches!(
            build(&desc("aws-kms", "kms-encrypt-only"), &keys, &[], &on).unwrap(),
            Built::CannotDecrypt(_)
        ));
        // A raw key described as KMS, or a missing key, is a manifest error.
        assert!(build(&desc("aws-kms", "aes"), &keys, &[], &on).is_err());
        assert!(build(&desc("aws-kms", "missing"), &keys, &[], &on).is_err());
        // Legacy manifests give the ARN itself; a malformed one is an error.
        let legacy = |arn: &str| KeyDescription::Kms {
            kind: "aws-kms".into(),
            key: None,
            arn: Some(arn.into()),
        };
        assert!(matches!(
            build(&legacy("arn:aws:kms:us-east-1:1:key/x"), &keys, &[], &on).unwrap(),
            Built::Keyring(_)
        ));
        assert!(build(&legacy("arn:aws:s3:::bucket"), &keys, &[], &on).is_err());
        // Kinds esdk does not have stay skipped, KMS or not.
        for kms in [&on, &None] {
            match build(&desc("aws-kms-rsa", "kms"), &keys, &[], kms).unwrap() {
                Built::Skip(r) => assert_eq!(r, "keyring type aws-kms-rsa not implemented by esdk"),
                other => panic!("{other:?}"),
            }
        }
        let discovery = |filter: Option<KmsDiscoveryFilter>| KeyDescription::KmsMrkDiscovery {
            region: "us-west-2".into(),
            filter,
        };
        let filter = |accounts: &[&str]| KmsDiscoveryFilter {
            partition: "aws".into(),
            account_ids: accounts.iter().map(|a| (*a).to_owned()).collect(),
        };
        for d in [discovery(None), discovery(Some(filter(&["111122223333"])))] {
            let built = build(&d, &keys, &[], &on).unwrap();
            assert!(
                matches!(&built, Built::Keyring(k) if format!("{k:?}").contains("AwsKmsDiscoveryKeyring")),
                "{built:?}"
            );
        }
        assert!(build(&discovery(Some(filter(&[]))), &keys, &[], &on).is_err());
        // A multi-keyring of KMS and raw keys, the encrypt-only key left out.
        let multi = KeyDescription::Multi {
            generator: None,
            children: vec![
                desc("aws-kms", "kms-encrypt-only"),
                desc("aws-kms", "kms"),
                discovery(None),
            ],
        };
        assert!(matches!(
            build(&multi, &keys, &[], &on).unwrap(),
            Built::Keyring(_)
        ));
    }

    #[test]
    fn kms_off_skips_with_the_keys_named() {
        let keys = kms_keys();
        let edk = esdk::materials::EncryptedDataKey {
            provider_id: "aws-kms".into(),
            provider_info:
                b"arn:aws:kms:us-west-2:658956600833:key/mrk-80bd8ecdcd4342aebd84b7dc9da498a7"
                    .to_vec(),
            ciphertext: vec![1, 2, 3],
        };
        let discovery = KeyDescription::KmsMrkDiscovery {
            region: "us-west-2".into(),
            filter: None,
        };
        match build(&discovery, &keys, std::slice::from_ref(&edk), &None).unwrap() {
            Built::Skip(r) => assert_eq!(
                r,
                format!(
                    "data key is wrapped by AWS KMS (aws-kms-mrk-aware-discovery: \
                     arn:aws:kms:us-west-2:658956600833:key/mrk-80bd8ecdcd4342aebd84b7dc9da498a7): {KMS_OFF}"
                )
            ),
            other => panic!("{other:?}"),
        }
        let strict = KeyDescription::Kms {
            kind: "aws-kms-mrk-aware".into(),
            key: Some("kms".into()),
            arn: None,
        };
        match build(&strict, &keys, &[], &None).unwrap() {
            Built::Skip(r) => assert!(
                r.starts_with(
                    "data key is wrapped by AWS KMS (aws-kms-mrk-aware: \
                     arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab)"
                ) && r.ends_with(KMS_OFF),
                "{r}"
            ),
            other => panic!("{other:?}"),
        }
    }
}
