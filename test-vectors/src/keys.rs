//! Keys manifests (v1, v2, v3 and the MPL extensions), key descriptions, and building
//! keyrings and materials managers from them.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use serde_json::Value;

use crate::error::{Context, Result, VectorError};
use crate::json;

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

/// How a test decrypts: a master key, a keyring or a materials manager description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyDescription {
    /// A raw AES or RSA keyring.
    Raw(RawKey),
    /// A keyring that calls AWS KMS (any of its kinds). It cannot run offline.
    Kms {
        /// The description type (`aws-kms`, `aws-kms-mrk-aware-discovery`, ...).
        kind: String,
        /// The key's name in the keys manifest, when the description names one.
        key: Option<String>,
        /// The key ARN, when known without the keys manifest (legacy manifests).
        arn: Option<String>,
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
            "aws-kms-mrk-aware-discovery" => Self::Kms {
                kind: kind.to_owned(),
                key: None,
                arn: None,
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

/// Builds the keyring or CMM a description stands for.
///
/// `edks` are the message's encrypted data keys; they only serve to name the AWS KMS keys of
/// discovery keyrings in skip reasons.
///
/// # Errors
/// When the description names a missing key, the key material is invalid, or a CMM is nested
/// inside a keyring.
pub fn build(
    desc: &KeyDescription,
    keys: &Keys,
    edks: &[esdk::materials::EncryptedDataKey],
) -> Result<Built> {
    match desc {
        KeyDescription::Raw(raw) => build_raw(raw, keys),
        KeyDescription::Kms { kind, key, arn } => Ok(Built::Skip(kms_reason(
            kind,
            key.as_deref(),
            arn.as_deref(),
            keys,
            edks,
        )?)),
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
                match build(d, keys, edks)? {
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
                match build(underlying, keys, edks).context("underlying")? {
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

fn kms_reason(
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
        let entry = keys.get(key)?;
        let from_entry = if kind == "aws-kms-ecdh" {
            json::opt_str(&entry.raw, "recipient-material")?.map(str::to_owned)
        } else {
            entry.key_id.clone()
        };
        names.push(from_entry.unwrap_or_else(|| key.to_owned()));
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
        "data key is wrapped by AWS KMS ({what}), no KMS access offline"
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
        match build(&only_kms, &keys, &[]).unwrap() {
            Built::Skip(r) => assert_eq!(
                r,
                "data key is wrapped by AWS KMS (arn:aws:kms:us-west-2:1:key/x), no KMS access offline"
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
            build(&mixed, &keys, &[]).unwrap(),
            Built::Keyring(_)
        ));
    }
}
