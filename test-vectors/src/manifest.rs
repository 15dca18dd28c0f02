//! Decrypt manifests: awses-decrypt v1–v5 and the legacy python-1.3.0 `ciphertext.manifest`.

use serde_json::Value;

use crate::error::{Context, Result, VectorError};
use crate::json;
use crate::keys::{KeyDescription, KeyEntry, Keys, RawKey};
use crate::source::{self, VectorStore};

/// Which kind of manifest was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestFormat {
    /// `awses-decrypt` with its version (1 to 5).
    AwsesDecrypt(u64),
    /// The python-1.3.0 `ciphertext.manifest`.
    Legacy,
}

/// What a test must produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Decryption succeeds with the plaintext stored at this path.
    Plaintext(String),
    /// Decryption fails (the text is informative only).
    Error(String),
}

/// How a test decrypts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecryptionMethod {
    /// No method given: one-shot decryption, and streaming too when asked.
    Any,
    /// `streaming-unsigned-only`: the streaming API that refuses signed suites.
    StreamingUnsignedOnly,
}

/// One test of a decrypt manifest.
#[derive(Debug, Clone)]
pub struct TestCase {
    /// The test ID (for legacy manifests, the ciphertext file name).
    pub id: String,
    /// The manifest's description, if any.
    pub description: Option<String>,
    /// The message's path in the store.
    pub ciphertext: String,
    /// The expected result.
    pub expected: Expected,
    /// The keyring or CMM to decrypt with.
    pub keys: KeyDescription,
    /// The encryption context to pass to decrypt (v4 `encryption-context`, v5
    /// `reproduced-encryption-context`).
    pub reproduced: Option<esdk::EncryptionContext>,
    /// How to decrypt.
    pub method: DecryptionMethod,
}

/// A test as read from the manifest: its ID, and the test or why it could not be read.
#[derive(Debug, Clone)]
pub struct ManifestTest {
    /// The test ID.
    pub id: String,
    /// The parsed test, or the error in its manifest entry.
    pub case: Result<TestCase>,
}

/// A parsed decrypt manifest.
#[derive(Debug, Clone)]
pub struct DecryptManifest {
    /// Its format and version.
    pub format: ManifestFormat,
    /// The client that wrote the vectors (`name version`), if given.
    pub client: Option<String>,
    /// The keys the tests refer to.
    pub keys: Keys,
    /// The tests, in ID order (legacy: manifest order).
    pub tests: Vec<ManifestTest>,
}

impl DecryptManifest {
    /// Reads the manifest at `path` in `store`, and its keys manifest.
    ///
    /// # Errors
    /// When the manifest or its keys cannot be read or are not a supported format. Errors in a
    /// single test entry are kept in that test instead.
    pub fn load(store: &VectorStore, path: &str) -> Result<Self> {
        let doc = json::parse(&store.read(path)?).with_context(|| format!("manifest {path}"))?;
        if doc.get("test_cases").is_some() && doc.get("test_keys").is_some() {
            return load_legacy(store, path, &doc).with_context(|| format!("manifest {path}"));
        }
        load_awses(store, path, &doc).with_context(|| format!("manifest {path}"))
    }
}

fn load_awses(store: &VectorStore, path: &str, doc: &Value) -> Result<DecryptManifest> {
    let header = json::object_field(doc, "manifest")?;
    let kind = json::str_field(header, "type")?;
    if kind != "awses-decrypt" {
        return Err(VectorError::new(format!(
            "manifest type is {kind:?}; only awses-decrypt manifests (and the legacy ciphertext.manifest) can be run"
        )));
    }
    let version = json::u64_field(header, "version")?;
    if !(1..=5).contains(&version) {
        return Err(VectorError::new(format!(
            "unsupported awses-decrypt version {version} (1 to 5 are supported)"
        )));
    }
    let client = doc.get("client").and_then(|c| {
        let name = c.get("name")?.as_str()?;
        let version = c.get("version").and_then(Value::as_str).unwrap_or("");
        Some(format!("{name} {version}").trim().to_owned())
    });
    let base = source::parent(path);
    let keys_path = source::resolve_uri(base, json::str_field(doc, "keys")?)?;
    let keys = Keys::parse(&json::parse(&store.read(&keys_path)?)?)
        .with_context(|| format!("keys manifest {keys_path}"))?;
    let tests = json::object_field(doc, "tests")?
        .as_object()
        .context("\"tests\" is not an object")?
        .iter()
        .map(|(id, t)| ManifestTest {
            id: id.clone(),
            case: if version >= 5 {
                parse_v5(base, id, t)
            } else {
                parse_v1_to_v4(base, id, t)
            },
        })
        .collect();
    Ok(DecryptManifest {
        format: ManifestFormat::AwsesDecrypt(version),
        client,
        keys,
        tests,
    })
}

fn parse_v1_to_v4(base: &str, id: &str, t: &Value) -> Result<TestCase> {
    let ciphertext = source::resolve_uri(base, json::str_field(t, "ciphertext")?)?;
    let expected = match (t.get("result"), json::opt_str(t, "plaintext")?) {
        (Some(result), _) => parse_result(base, result).context("result")?,
        (None, Some(uri)) => Expected::Plaintext(source::resolve_uri(base, uri)?),
        (None, None) => return Err(VectorError::new("neither \"result\" nor \"plaintext\"")),
    };
    let mut keys = KeyDescription::parse_master_keys(json::object_field(t, "master-keys")?)?;
    let method = match json::opt_str(t, "decryption-method")? {
        None => DecryptionMethod::Any,
        Some("streaming-unsigned-only") => DecryptionMethod::StreamingUnsignedOnly,
        Some(other) => {
            return Err(VectorError::new(format!(
                "unknown decryption-method {other:?}"
            )))
        }
    };
    let reproduced = match t.get("encryption-context") {
        None | Some(Value::Null) => None,
        Some(ec) => Some(json::context(ec).context("encryption-context")?),
    };
    match json::opt_str(t, "cmm")? {
        None | Some("Default") => {}
        Some("RequiredEncryptionContext") => {
            let required = reproduced
                .as_ref()
                .context("cmm RequiredEncryptionContext without an encryption-context")?;
            keys = KeyDescription::RequiredEncryptionContext {
                keys: required.keys().cloned().collect(),
                underlying: Box::new(keys),
            };
        }
        Some(other) => return Err(VectorError::new(format!("unknown cmm {other:?}"))),
    }
    Ok(TestCase {
        id: id.to_owned(),
        description: json::opt_str(t, "description")?.map(str::to_owned),
        ciphertext,
        expected,
        keys,
        reproduced,
        method,
    })
}

fn parse_result(base: &str, result: &Value) -> Result<Expected> {
    if let Some(output) = result.get("output") {
        let uri = json::str_field(output, "plaintext").context("output")?;
        return Ok(Expected::Plaintext(source::resolve_uri(base, uri)?));
    }
    if let Some(error) = result.get("error") {
        let text = json::opt_str(error, "error-description")?.unwrap_or("(no description)");
        return Ok(Expected::Error(text.to_owned()));
    }
    Err(VectorError::new("neither \"output\" nor \"error\""))
}

fn parse_v5(base: &str, id: &str, t: &Value) -> Result<TestCase> {
    let s = json::object_field(t, "decryption-scenario")?;
    let kind = json::str_field(s, "type")?;
    let ciphertext = source::resolve_uri(base, json::str_field(s, "ciphertext")?)?;
    let expected = match kind {
        "positive-esdk" => match json::object_field(s, "result")? {
            Value::String(uri) => Expected::Plaintext(source::resolve_uri(base, uri)?),
            other => parse_result(base, other).context("result")?,
        },
        "negative-esdk" => Expected::Error(
            json::opt_str(s, "errorDescription")?
                .or(json::opt_str(s, "error-description")?)
                .unwrap_or("(no description)")
                .to_owned(),
        ),
        other => {
            return Err(VectorError::new(format!(
                "unknown decryption-scenario type {other:?}"
            )))
        }
    };
    let keys = KeyDescription::parse(json::object_field(s, "decryptKeyDescription")?)
        .context("decryptKeyDescription")?;
    let reproduced = match s.get("reproduced-encryption-context") {
        None | Some(Value::Null) => None,
        Some(ec) => Some(json::context(ec).context("reproduced-encryption-context")?),
    };
    let method = match json::opt_str(s, "decryption-method")? {
        None => DecryptionMethod::Any,
        Some("streaming-unsigned-only") => DecryptionMethod::StreamingUnsignedOnly,
        Some(other) => {
            return Err(VectorError::new(format!(
                "unknown decryption-method {other:?}"
            )))
        }
    };
    Ok(TestCase {
        id: id.to_owned(),
        description: json::opt_str(s, "description")?.map(str::to_owned),
        ciphertext,
        expected,
        keys,
        reproduced,
        method,
    })
}

/// Namespace of the legacy manifest's persistent raw keys.
pub const LEGACY_NAMESPACE: &str = "static-aws-xcompat";

fn load_legacy(store: &VectorStore, path: &str, doc: &Value) -> Result<DecryptManifest> {
    let mut keys = Keys::default();
    let test_keys = json::object_field(doc, "test_keys")?
        .as_object()
        .context("test_keys is not an object")?;
    for (alg, sizes) in test_keys {
        let sizes = sizes
            .as_object()
            .with_context(|| format!("test_keys.{alg} is not an object"))?;
        for (bits, entry) in sizes {
            let ctx = || format!("test_keys.{alg}.{bits}");
            let lines = json::str_list(entry, "key").with_context(ctx)?;
            let sep = json::opt_str(entry, "line_separator")
                .with_context(ctx)?
                .unwrap_or("");
            let (key_type, algorithm) = match alg.to_ascii_uppercase().as_str() {
                "AES" => ("symmetric", "aes"),
                "RSA" => ("private", "rsa"),
                other => {
                    return Err(VectorError::new(format!("unknown key algorithm {other:?}")))
                        .with_context(ctx)
                }
            };
            keys.insert(KeyEntry {
                name: format!("{}.{bits}", alg.to_ascii_uppercase()),
                key_type: key_type.to_owned(),
                key_id: None,
                encrypt: true,
                decrypt: true,
                algorithm: Some(algorithm.to_owned()),
                bits: bits.parse().ok(),
                encoding: json::opt_str(entry, "encoding")?.map(str::to_owned),
                material: Some(lines.join(sep)),
                raw: entry.clone(),
            });
        }
    }
    let client = doc.get("client").and_then(|c| {
        let name = c.get("name")?.as_str()?;
        let version = c.get("version").and_then(Value::as_str).unwrap_or("");
        Some(format!("{name} {version}").trim().to_owned())
    });
    // File names are relative to the folder above `manifests/`.
    let dir = source::parent(path);
    let base = if dir.rsplit('/').next() == Some("manifests") {
        source::join(dir, "..")
    } else {
        dir.to_owned()
    };
    let cases = json::object_field(doc, "test_cases")?
        .as_array()
        .context("test_cases is not a list")?;
    let tests = cases
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let id = t
                .get("ciphertext")
                .and_then(|c| c.get("filename"))
                .and_then(Value::as_str)
                .map_or_else(|| format!("test_cases[{i}]"), str::to_owned);
            ManifestTest {
                case: parse_legacy_case(store, &base, dir, &id, t),
                id,
            }
        })
        .collect();
    Ok(DecryptManifest {
        format: ManifestFormat::Legacy,
        client,
        keys,
        tests,
    })
}

fn legacy_path(store: &VectorStore, base: &str, dir: &str, name: &str) -> String {
    let primary = source::join(base, name);
    if store.exists(&primary) {
        return primary;
    }
    let other = source::join(dir, name);
    if store.exists(&other) {
        other
    } else {
        primary
    }
}

fn parse_legacy_case(
    store: &VectorStore,
    base: &str,
    dir: &str,
    id: &str,
    t: &Value,
) -> Result<TestCase> {
    let ciphertext = json::str_field(json::object_field(t, "ciphertext")?, "filename")?;
    let plaintext = json::str_field(json::object_field(t, "plaintext")?, "filename")?;
    let suite_id = json::str_field(t, "algorithm")?;
    let suite = u16::from_str_radix(suite_id, 16)
        .ok()
        .and_then(|id| esdk::suite::AlgorithmSuite::from_id(id).ok())
        .with_context(|| format!("unknown algorithm {suite_id:?}"))?;
    let mut children = Vec::new();
    let list = json::object_field(t, "master_keys")?
        .as_array()
        .context("master_keys is not a list")?;
    for (i, m) in list.iter().enumerate() {
        let ctx = || format!("master_keys[{i}]");
        if json::opt_bool(m, "decryptable").with_context(ctx)? == Some(false) {
            // A throwaway key (ephemeral-aws-xcompat or an encrypt-only KMS key).
            continue;
        }
        let provider = json::str_field(m, "provider_id").with_context(ctx)?;
        if provider == "aws-kms" {
            children.push(KeyDescription::Kms {
                kind: "aws-kms".to_owned(),
                key: None,
                arn: json::opt_str(m, "key_id")?.map(str::to_owned),
            });
            continue;
        }
        let alg = json::str_field(m, "encryption_algorithm")
            .with_context(ctx)?
            .to_ascii_uppercase();
        let bits = match json::opt_u64(m, "key_bits").with_context(ctx)? {
            Some(bits) => bits,
            None if alg == "AES" => (suite.key_len * 8) as u64,
            None => {
                return Err(VectorError::new("RSA master key without key_bits")).with_context(ctx)
            }
        };
        let padding = json::opt_str(m, "padding_algorithm")?;
        let hash = json::opt_str(m, "padding_hash")?;
        let key_name = match json::opt_str(m, "key_id")? {
            Some(id) => id.to_owned(),
            None => format!(
                "{alg}.{bits}.{}.{}",
                padding.unwrap_or(""),
                hash.unwrap_or("")
            ),
        };
        children.push(KeyDescription::Raw(RawKey {
            key: format!("{alg}.{bits}"),
            provider_id: provider.to_owned(),
            algorithm: alg.to_ascii_lowercase(),
            padding: padding.map(str::to_ascii_lowercase),
            padding_hash: hash.map(str::to_ascii_lowercase),
            key_name: Some(key_name),
        }));
    }
    Ok(TestCase {
        id: id.to_owned(),
        description: None,
        ciphertext: legacy_path(store, base, dir, ciphertext),
        expected: Expected::Plaintext(legacy_path(store, base, dir, plaintext)),
        keys: KeyDescription::Multi {
            generator: None,
            children,
        },
        reproduced: None,
        method: DecryptionMethod::Any,
    })
}
