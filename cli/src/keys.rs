//! `-w` wrapping key specifications to keyrings.

use std::sync::Arc;

use base64::Engine as _;
use esdk::kms::{
    AwsKmsDiscoveryKeyring, AwsKmsKeyring, ClientSupplier, DiscoveryFilter, KmsClientSupplier,
};
use esdk::{Keyring, MultiKeyring, RawAesKeyring, RawRsaKeyring, RsaPadding};
use zeroize::Zeroizing;

use crate::Failure;

/// One `-w` group: its `name=value` pairs in order.
#[derive(Debug, Default)]
struct Spec {
    pairs: Vec<(String, String)>,
}

impl Spec {
    fn parse(words: &[String]) -> Result<Self, Failure> {
        let mut pairs = Vec::new();
        for word in words {
            let (k, v) = word.split_once('=').ok_or_else(|| {
                Failure::usage(format!("wrapping key argument {word:?} is not NAME=VALUE"))
            })?;
            let k = k.trim().to_ascii_lowercase().replace('_', "-");
            if v.is_empty() {
                return Err(Failure::usage(format!(
                    "wrapping key argument {k}= has no value"
                )));
            }
            pairs.push((k, v.to_owned()));
        }
        Ok(Self { pairs })
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn one(&self, name: &str) -> Result<Option<&str>, Failure> {
        match self.all(name).as_slice() {
            [] => Ok(None),
            [v] => Ok(Some(v)),
            _ => Err(Failure::usage(format!(
                "{name}= given more than once in one -w"
            ))),
        }
    }

    fn check_names(&self, allowed: &[&str]) -> Result<(), Failure> {
        for (k, _) in &self.pairs {
            if !allowed.contains(&k.as_str()) {
                return Err(Failure::usage(format!(
                    "unknown wrapping key argument {k}= (allowed here: {})",
                    allowed.join("=, ") + "="
                )));
            }
        }
        Ok(())
    }
}

/// A supplier that serves every key from one Region's client (`region=`).
#[derive(Debug)]
struct PinnedRegion {
    supplier: Arc<KmsClientSupplier>,
    region: String,
}

impl ClientSupplier for PinnedRegion {
    fn client<'a>(
        &'a self,
        _region: Option<&'a str>,
    ) -> esdk::keyring::MaterialsFuture<'a, Result<aws_sdk_kms::Client, esdk::error::KeyringError>>
    {
        self.supplier.client(Some(&self.region))
    }
}

fn kms_supplier(
    spec: &Spec,
    shared: &Arc<KmsClientSupplier>,
) -> Result<Arc<dyn ClientSupplier>, Failure> {
    if spec.one("profile")?.is_some() {
        return Err(Failure::usage(
            "profile= is not supported; set AWS_PROFILE instead".to_owned(),
        ));
    }
    Ok(match spec.one("region")? {
        Some(region) => Arc::new(PinnedRegion {
            supplier: shared.clone(),
            region: region.to_owned(),
        }),
        None => shared.clone(),
    })
}

fn raw_aes(spec: &Spec) -> Result<Arc<dyn Keyring>, Failure> {
    spec.check_names(&[
        "provider",
        "namespace",
        "key",
        "key-file",
        "key-env",
        "key-encoding",
    ])?;
    let namespace = spec
        .one("namespace")?
        .ok_or_else(|| Failure::usage("provider=raw-aes needs namespace=".to_owned()))?;
    let name = spec
        .one("key")?
        .ok_or_else(|| Failure::usage("provider=raw-aes needs key= (the key's name)".to_owned()))?;
    // Every copy of the key held here is wiped when dropped.
    let bytes: Zeroizing<Vec<u8>> = match (spec.one("key-file")?, spec.one("key-env")?) {
        (Some(path), None) => {
            let raw = Zeroizing::new(
                std::fs::read(path)
                    .map_err(|e| Failure::input(format!("cannot read key file {path}: {e}")))?,
            );
            let as_base64 = |raw: &[u8]| {
                std::str::from_utf8(raw)
                    .ok()
                    .and_then(|t| {
                        base64::engine::general_purpose::STANDARD
                            .decode(t.trim())
                            .ok()
                            .map(Zeroizing::new)
                    })
                    .ok_or_else(|| Failure::usage(format!("key file {path} is not base64")))
            };
            // `key-encoding=` settles it; by default a file of exactly 16, 24 or 32 bytes is the
            // raw key and anything else is read as base64 (so a base64 key file of 24 or 32
            // characters needs key-encoding=base64, or a final newline).
            match spec.one("key-encoding")? {
                Some("raw") => raw,
                Some("base64") => as_base64(&raw)?,
                Some(other) => {
                    return Err(Failure::usage(format!(
                        "key-encoding={other}: use raw or base64"
                    )))
                }
                None if matches!(raw.len(), 16 | 24 | 32) => raw,
                None => as_base64(&raw).map_err(|_| {
                    Failure::usage(format!(
                        "key file {path} holds neither a 16/24/32-byte key nor its base64"
                    ))
                })?,
            }
        }
        (None, Some(var)) => {
            let value = Zeroizing::new(std::env::var(var).map_err(|_| {
                Failure::usage(format!("environment variable {var} (key-env=) is not set"))
            })?);
            Zeroizing::new(
                base64::engine::general_purpose::STANDARD
                    .decode(value.trim())
                    .map_err(|_| Failure::usage(format!("{var} does not hold a base64 key")))?,
            )
        }
        _ => return Err(Failure::usage(
            "provider=raw-aes needs exactly one of key-file=PATH or key-env=VAR (keys are never \
                 taken from the command line)"
                .to_owned(),
        )),
    };
    let keyring = RawAesKeyring::new(namespace, name, &bytes).map_err(Failure::from_esdk)?;
    Ok(Arc::new(keyring))
}

fn raw_rsa(spec: &Spec) -> Result<Arc<dyn Keyring>, Failure> {
    spec.check_names(&[
        "provider",
        "namespace",
        "key",
        "public-key",
        "private-key",
        "padding",
    ])?;
    let namespace = spec
        .one("namespace")?
        .ok_or_else(|| Failure::usage("provider=raw-rsa needs namespace=".to_owned()))?;
    let name = spec
        .one("key")?
        .ok_or_else(|| Failure::usage("provider=raw-rsa needs key= (the key's name)".to_owned()))?;
    let padding = match spec.one("padding")?.unwrap_or("oaep-sha256") {
        "pkcs1" | "pkcs1-v1.5" => RsaPadding::Pkcs1,
        "oaep-sha1" => RsaPadding::OaepSha1,
        "oaep-sha256" => RsaPadding::OaepSha256,
        "oaep-sha384" => RsaPadding::OaepSha384,
        "oaep-sha512" => RsaPadding::OaepSha512,
        other => {
            return Err(Failure::usage(format!(
                "padding={other}: use oaep-sha256, oaep-sha1, oaep-sha384, oaep-sha512 or pkcs1"
            )))
        }
    };
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .map(Zeroizing::new)
            .map_err(|e| Failure::input(format!("cannot read PEM file {path}: {e}")))
    };
    let mut builder = RawRsaKeyring::builder(namespace, name, padding);
    if let Some(path) = spec.one("public-key")? {
        builder = builder.public_key_pem(&read(path)?);
    }
    if let Some(path) = spec.one("private-key")? {
        builder = builder.private_key_pem(&read(path)?);
    }
    Ok(Arc::new(builder.build().map_err(Failure::from_esdk)?))
}

/// The keyring for all `-w` groups: on encrypt the first key generates, the rest wrap too; on
/// decrypt any of them may decrypt.
pub fn keyring(groups: &[Vec<String>], encrypt: bool) -> Result<Arc<dyn Keyring>, Failure> {
    if groups.is_empty() {
        return Err(Failure::usage(
            "no wrapping key: give -w key=KMS-KEY-ARN (or provider=raw-aes ..., provider=raw-rsa ...)"
                .to_owned(),
        ));
    }
    let shared = Arc::new(KmsClientSupplier::from_env());
    let mut keyrings: Vec<Arc<dyn Keyring>> = Vec::new();
    for words in groups {
        let spec = Spec::parse(words)?;
        match spec.one("provider")?.unwrap_or("aws-kms") {
            "aws-kms" | "aws-encryption-sdk-cli::aws-kms" => {
                spec.check_names(&[
                    "provider",
                    "key",
                    "region",
                    "profile",
                    "discovery",
                    "discovery-account",
                    "discovery-partition",
                ])?;
                let supplier = kms_supplier(&spec, &shared)?;
                let discovery = match spec.one("discovery")? {
                    None | Some("false") => false,
                    Some("true") => true,
                    Some(other) => {
                        return Err(Failure::usage(format!(
                            "discovery={other}: use true or false"
                        )))
                    }
                };
                let keys = spec.all("key");
                if discovery {
                    if encrypt {
                        return Err(Failure::usage(
                            "discovery=true cannot encrypt: name a key with key=".to_owned(),
                        ));
                    }
                    if !keys.is_empty() {
                        return Err(Failure::usage(
                            "discovery=true and key= do not go together in one -w".to_owned(),
                        ));
                    }
                    let accounts = spec.all("discovery-account");
                    let partition = spec.one("discovery-partition")?;
                    let mut builder = AwsKmsDiscoveryKeyring::builder().client_supplier(supplier);
                    match (partition, accounts.is_empty()) {
                        (None, true) => {}
                        (Some(p), false) => {
                            let filter = DiscoveryFilter::new(p, accounts)
                                .map_err(|e| Failure::usage(e.to_string()))?;
                            builder = builder.filter(filter);
                        }
                        _ => {
                            return Err(Failure::usage(
                                "a discovery filter needs both discovery-partition= and \
                                 discovery-account="
                                    .to_owned(),
                            ))
                        }
                    }
                    keyrings.push(Arc::new(builder.build().map_err(Failure::from_esdk)?));
                } else {
                    if keys.is_empty() {
                        return Err(Failure::usage(
                            "-w needs key=KMS-KEY-ID (or discovery=true to decrypt with any key)"
                                .to_owned(),
                        ));
                    }
                    if spec.one("discovery-partition")?.is_some()
                        || !spec.all("discovery-account").is_empty()
                    {
                        return Err(Failure::usage(
                            "discovery-account= and discovery-partition= need discovery=true"
                                .to_owned(),
                        ));
                    }
                    for key in keys {
                        let keyring = AwsKmsKeyring::builder(key)
                            .client_supplier(supplier.clone())
                            .build()
                            .map_err(|e| {
                                Failure::usage(format!("key={key}: {}", crate::chain(&e)))
                            })?;
                        keyrings.push(Arc::new(keyring));
                    }
                }
            }
            "raw-aes" => keyrings.push(raw_aes(&spec)?),
            "raw-rsa" => keyrings.push(raw_rsa(&spec)?),
            other => {
                return Err(Failure::usage(format!(
                    "provider={other}: use aws-kms (default), raw-aes or raw-rsa"
                )))
            }
        }
    }
    if keyrings.len() == 1 {
        return Ok(keyrings.remove(0));
    }
    let multi = if encrypt {
        let generator = keyrings.remove(0);
        MultiKeyring::new(Some(generator), keyrings)
    } else {
        MultiKeyring::new(None, keyrings)
    }
    .map_err(Failure::from_esdk)?;
    Ok(Arc::new(multi))
}
