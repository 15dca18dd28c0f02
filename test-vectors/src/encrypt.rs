//! Encrypt manifests (`awses-encrypt` v1, v2 and v5): encrypt every test with esdk and write
//! the messages with an `awses-decrypt` manifest that any implementation's runner can decrypt.
//!
//! The output folder holds:
//! - `manifest.json`: an awses-decrypt manifest. Version 2 (`master-keys`,
//!   `result.output.plaintext`) for v1/v2 encrypt manifests; version 5 (`decryption-scenario`
//!   with `decryptKeyDescription` and `reproduced-encryption-context`) for v5 ones. Only the
//!   tests that were encrypted are listed.
//! - `keys.json`: the keys manifest the encrypt manifest names, copied.
//! - `ciphertexts/<test id>`: one message per test.
//! - `plaintexts/<name>`: the plaintexts, made by [`plaintext_bytes`].
//!
//! All URIs are `file://` paths relative to the manifest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::error::{Context, Result, VectorError};
use crate::json;
use crate::keys::{self, KeyDescription, Keys, KmsSupplier, RawKey};
use crate::run::{parallel_map, Outcome, Report, TestResult};
use crate::source;

/// File names an encrypt manifest may have in a folder, in order of preference.
pub const ENCRYPT_MANIFEST_NAMES: &[&str] = &["encrypt-manifest.json", "manifest.json"];

/// The client name written into the decrypt manifests this module produces.
pub const CLIENT_NAME: &str = "esdk-rust";

/// How to run an encrypt manifest.
#[derive(Debug, Clone)]
pub struct EncryptOptions {
    /// Run only tests whose ID contains this.
    pub filter: Option<String>,
    /// How many threads encrypt (at least 1).
    pub jobs: usize,
    /// Where AWS KMS keyrings get their clients. `None` (the default): KMS is off, and tests
    /// that encrypt with AWS KMS are skipped.
    pub kms: KmsSupplier,
}

impl Default for EncryptOptions {
    fn default() -> Self {
        Self {
            filter: None,
            jobs: 1,
            kms: None,
        }
    }
}

/// What a test's decrypt entry says.
#[derive(Debug, Clone)]
enum DecryptSpec {
    /// awses-decrypt v2: the test's `master-keys` list, as given.
    MasterKeys(Value),
    /// awses-decrypt v5: the decrypt key description and the reproduced context, as given.
    Scenario {
        decrypt_key_description: Value,
        reproduced: Option<Value>,
    },
}

/// One test of an encrypt manifest.
#[derive(Debug, Clone)]
pub struct EncryptTest {
    /// The test ID.
    pub id: String,
    /// The manifest's description, if any.
    pub description: Option<String>,
    /// The name of the plaintext (a key of the manifest's `plaintexts`).
    pub plaintext: String,
    /// The algorithm suite.
    pub suite: &'static esdk::suite::AlgorithmSuite,
    /// The frame length; 0 means a non-framed message.
    pub frame_size: u64,
    /// The encryption context given to encrypt.
    pub encryption_context: esdk::EncryptionContext,
    /// What encrypts.
    pub encrypt_keys: KeyDescription,
    /// Why the test is not run, when it is a kind this runner does not encrypt.
    pub not_run: Option<String>,
    decrypt: DecryptSpec,
}

/// A parsed encrypt manifest.
#[derive(Debug, Clone)]
pub struct EncryptManifest {
    /// The awses-encrypt version (1, 2 or 5).
    pub version: u64,
    /// The keys manifest as read (copied to the output).
    pub keys_doc: Value,
    /// The parsed keys.
    pub keys: Keys,
    /// Plaintext names and their lengths in bytes.
    pub plaintexts: BTreeMap<String, u64>,
    /// The tests in ID order, or why an entry could not be read.
    pub tests: Vec<(String, Result<EncryptTest>)>,
}

impl EncryptManifest {
    /// Reads an awses-encrypt manifest (a file, or a folder holding `encrypt-manifest.json` or
    /// `manifest.json`) and its keys manifest.
    ///
    /// # Errors
    /// When the manifest or its keys cannot be read or are not a supported format. Errors in
    /// one test entry are kept in that test.
    pub fn load(path: &Path) -> Result<Self> {
        let file = locate(path)?;
        let label = file.display().to_string();
        let bytes = std::fs::read(&file).with_context(|| format!("reading {label}"))?;
        let doc = json::parse(&bytes).with_context(|| format!("manifest {label}"))?;
        let base = file
            .parent()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        Self::from_json(&doc, &base).with_context(|| format!("manifest {label}"))
    }

    /// Parses an encrypt manifest whose `file://` URIs are relative to the folder `base`.
    ///
    /// # Errors
    /// As [`EncryptManifest::load`].
    pub fn from_json(doc: &Value, base: &str) -> Result<Self> {
        let header = json::object_field(doc, "manifest")?;
        let kind = json::str_field(header, "type")?;
        if kind != "awses-encrypt" {
            return Err(VectorError::new(format!(
                "manifest type is {kind:?}; encrypt needs an awses-encrypt manifest"
            )));
        }
        let version = json::u64_field(header, "version")?;
        if !matches!(version, 1 | 2 | 5) {
            return Err(VectorError::new(format!(
                "unsupported awses-encrypt version {version} (1, 2 and 5 are supported)"
            )));
        }
        let keys_path = source::resolve_uri(base, json::str_field(doc, "keys")?)?;
        let keys_bytes =
            std::fs::read(&keys_path).with_context(|| format!("reading {keys_path}"))?;
        let keys_doc = json::parse(&keys_bytes).with_context(|| format!("keys {keys_path}"))?;
        let keys = Keys::parse(&keys_doc).with_context(|| format!("keys manifest {keys_path}"))?;
        let plaintexts = json::object_field(doc, "plaintexts")?
            .as_object()
            .context("\"plaintexts\" is not an object")?
            .iter()
            .map(|(name, len)| {
                len.as_u64()
                    .map(|l| (name.clone(), l))
                    .with_context(|| format!("plaintext {name:?}: length is not a number"))
            })
            .collect::<Result<BTreeMap<_, _>>>()?;
        let tests = json::object_field(doc, "tests")?
            .as_object()
            .context("\"tests\" is not an object")?
            .iter()
            .map(|(id, t)| {
                let test = if version >= 5 {
                    parse_v5(id, t)
                } else {
                    parse_v1_v2(id, t)
                };
                let test = test.and_then(|t| {
                    if plaintexts.contains_key(&t.plaintext) {
                        Ok(t)
                    } else {
                        Err(VectorError::new(format!(
                            "plaintext {:?} is not in \"plaintexts\"",
                            t.plaintext
                        )))
                    }
                });
                (id.clone(), test)
            })
            .collect();
        Ok(Self {
            version,
            keys_doc,
            keys,
            plaintexts,
            tests,
        })
    }
}

fn locate(path: &Path) -> Result<PathBuf> {
    if path.is_dir() {
        return ENCRYPT_MANIFEST_NAMES
            .iter()
            .map(|n| path.join(n))
            .find(|p| p.is_file())
            .with_context(|| {
                format!(
                    "no encrypt manifest ({}) in folder {}",
                    ENCRYPT_MANIFEST_NAMES.join(", "),
                    path.display()
                )
            });
    }
    Ok(path.to_path_buf())
}

fn parse_suite(hex: &str) -> Result<&'static esdk::suite::AlgorithmSuite> {
    let id = u16::from_str_radix(hex.trim_start_matches("0x"), 16)
        .with_context(|| format!("algorithm {hex:?} is not a hex suite ID"))?;
    esdk::suite::AlgorithmSuite::from_id(id).with_context(|| format!("algorithm {hex:?}"))
}

fn parse_context(t: &Value, name: &str) -> Result<esdk::EncryptionContext> {
    match t.get(name) {
        None | Some(Value::Null) => Ok(esdk::EncryptionContext::new()),
        Some(ec) => json::context(ec).context(name.to_owned()),
    }
}

/// awses-encrypt v1/v2: `master-keys` is a list; the first key generates the data key and
/// every key encrypts it.
fn parse_v1_v2(id: &str, t: &Value) -> Result<EncryptTest> {
    let list = json::object_field(t, "master-keys")?;
    let parsed = match KeyDescription::parse_master_keys(list)? {
        KeyDescription::Multi { children, .. } => children,
        other => vec![other],
    };
    let mut iter = parsed.into_iter();
    let first = iter.next().context("master-keys is empty")?;
    let rest: Vec<KeyDescription> = iter.collect();
    let encrypt_keys = if rest.is_empty() {
        first
    } else {
        KeyDescription::Multi {
            generator: Some(Box::new(first)),
            children: rest,
        }
    };
    Ok(EncryptTest {
        id: id.to_owned(),
        description: json::opt_str(t, "description")?.map(str::to_owned),
        plaintext: json::str_field(t, "plaintext")?.to_owned(),
        suite: parse_suite(json::str_field(t, "algorithm")?)?,
        frame_size: json::u64_field(t, "frame-size")?,
        encryption_context: parse_context(t, "encryption-context")?,
        encrypt_keys,
        not_run: None,
        decrypt: DecryptSpec::MasterKeys(list.clone()),
    })
}

/// awses-encrypt v5: an `encryption-scenario` with key descriptions.
fn parse_v5(id: &str, t: &Value) -> Result<EncryptTest> {
    let s = json::object_field(t, "encryption-scenario")?;
    let kind = json::str_field(s, "type")?;
    let not_run = (kind != "positive-esdk")
        .then(|| format!("encryption-scenario type {kind:?}: only positive-esdk is run"));
    let encrypt_desc = json::object_field(s, "encryptKeyDescription")?;
    let decrypt_desc = s
        .get("decryptKeyDescription")
        .filter(|v| !v.is_null())
        .unwrap_or(encrypt_desc);
    // Check now that the decrypt description is well formed.
    KeyDescription::parse(decrypt_desc).context("decryptKeyDescription")?;
    let reproduced = s
        .get("reproduced-encryption-context")
        .filter(|v| !v.is_null())
        .cloned();
    if let Some(r) = &reproduced {
        json::context(r).context("reproduced-encryption-context")?;
    }
    Ok(EncryptTest {
        id: id.to_owned(),
        description: json::opt_str(s, "description")?.map(str::to_owned),
        plaintext: json::str_field(s, "plaintext")?.to_owned(),
        suite: parse_suite(json::str_field(s, "algorithmSuiteId")?)?,
        frame_size: json::u64_field(s, "frame-size")?,
        encryption_context: parse_context(s, "encryption-context")?,
        encrypt_keys: KeyDescription::parse(encrypt_desc).context("encryptKeyDescription")?,
        not_run,
        decrypt: DecryptSpec::Scenario {
            decrypt_key_description: decrypt_desc.clone(),
            reproduced,
        },
    })
}

/// What encrypts a test.
#[derive(Debug, Clone)]
pub enum ForEncrypt {
    /// A keyring (used through the default CMM).
    Keyring(Arc<dyn esdk::Keyring>),
    /// A materials manager.
    Cmm(Arc<dyn esdk::MaterialsManager>),
    /// The test cannot run here, and why (AWS KMS while KMS is off, a keyring esdk does not
    /// have).
    Skip(String),
}

/// Builds the keyring or CMM that encrypts for `desc`. AWS KMS keyrings get their clients from
/// `kms`; without it (KMS off) they are skipped.
///
/// # Errors
/// When a key is missing, has another type, may not encrypt, or its material or KMS key
/// identifier is invalid; for a discovery keyring, which cannot encrypt.
pub fn build_for_encrypt(
    desc: &KeyDescription,
    keys: &Keys,
    kms: &KmsSupplier,
) -> Result<ForEncrypt> {
    match desc {
        KeyDescription::Raw(raw) => build_raw_for_encrypt(raw, keys),
        KeyDescription::Kms { kind, .. } if !keys::is_strict_kms(kind) => Ok(ForEncrypt::Skip(
            format!("keyring type {kind} not implemented by esdk"),
        )),
        KeyDescription::Kms { kind, key, arn } => {
            let Some(supplier) = kms else {
                let name = arn
                    .clone()
                    .or_else(|| {
                        key.as_deref()
                            .and_then(|k| keys.get(k).ok())
                            .map(|e| e.key_name().to_owned())
                    })
                    .or_else(|| key.clone())
                    .unwrap_or_default();
                return Ok(ForEncrypt::Skip(format!(
                    "encrypts with AWS KMS ({kind}: {name}): {}",
                    keys::KMS_OFF
                )));
            };
            let (key_id, entry) = keys::kms_key_id(kind, key.as_deref(), arn.as_deref(), keys)?;
            if let Some(entry) = entry.filter(|e| !e.encrypt) {
                return Err(VectorError::new(format!(
                    "key {:?}: the keys manifest says it may not encrypt",
                    entry.name
                )));
            }
            let keyring = keys::strict_kms_keyring(kind, &key_id, supplier)?;
            Ok(ForEncrypt::Keyring(Arc::new(keyring)))
        }
        KeyDescription::KmsMrkDiscovery { region, .. } => match kms {
            None => Ok(ForEncrypt::Skip(format!(
                "encrypts with AWS KMS (aws-kms-mrk-aware-discovery: {region}): {}",
                keys::KMS_OFF
            ))),
            Some(_) => Err(VectorError::new(
                "aws-kms-mrk-aware-discovery: a discovery keyring cannot encrypt",
            )),
        },
        KeyDescription::Unsupported { kind } => Ok(ForEncrypt::Skip(format!(
            "keyring type {kind} not implemented by esdk"
        ))),
        KeyDescription::Multi {
            generator,
            children,
        } => {
            // Every keyring of a multi-keyring encrypts: one that cannot run skips the test.
            let keyring = |d: &KeyDescription| -> Result<std::result::Result<Arc<dyn esdk::Keyring>, String>> {
                match build_for_encrypt(d, keys, kms)? {
                    ForEncrypt::Keyring(k) => Ok(Ok(k)),
                    ForEncrypt::Skip(reason) => Ok(Err(reason)),
                    ForEncrypt::Cmm(_) => Err(VectorError::new(
                        "a materials manager cannot be part of a multi-keyring",
                    )),
                }
            };
            let generator = match generator {
                Some(g) => match keyring(g).context("generator")? {
                    Ok(k) => Some(k),
                    Err(reason) => return Ok(ForEncrypt::Skip(reason)),
                },
                None => None,
            };
            let mut kids = Vec::with_capacity(children.len());
            for (i, c) in children.iter().enumerate() {
                match keyring(c).with_context(|| format!("child keyring {i}"))? {
                    Ok(k) => kids.push(k),
                    Err(reason) => return Ok(ForEncrypt::Skip(reason)),
                }
            }
            let multi = esdk::MultiKeyring::new(generator, kids).context("multi-keyring")?;
            Ok(ForEncrypt::Keyring(Arc::new(multi)))
        }
        KeyDescription::RequiredEncryptionContext {
            keys: required,
            underlying,
        } => {
            let underlying: Arc<dyn esdk::MaterialsManager> =
                match build_for_encrypt(underlying, keys, kms).context("underlying")? {
                    ForEncrypt::Keyring(k) => Arc::new(esdk::DefaultMaterialsManager::new(k)),
                    ForEncrypt::Cmm(c) => c,
                    skip @ ForEncrypt::Skip(_) => return Ok(skip),
                };
            Ok(ForEncrypt::Cmm(Arc::new(
                esdk::cmm::RequiredEncryptionContextMaterialsManager::new(
                    underlying,
                    required.clone(),
                ),
            )))
        }
    }
}

fn build_raw_for_encrypt(raw: &RawKey, keys: &Keys) -> Result<ForEncrypt> {
    let entry = keys.get(&raw.key)?;
    let ctx = || format!("raw key {:?}", raw.key);
    if entry.key_type == "aws-kms" || entry.key_type.starts_with("aws-kms-") {
        return Err(VectorError::new(format!(
            "is described as raw but the keys manifest says type {:?}",
            entry.key_type
        )))
        .with_context(ctx);
    }
    if !entry.encrypt {
        return Err(VectorError::new(
            "the keys manifest says it may not encrypt",
        ))
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
    let name = raw.key_name.as_deref().unwrap_or(entry.key_name());
    let material = entry
        .material
        .as_deref()
        .context("no key material")
        .with_context(ctx)?;
    match raw.algorithm.as_str() {
        "aes" => {
            let bytes = keys::decode_base64(material)
                .context("material")
                .with_context(ctx)?;
            let keyring = esdk::RawAesKeyring::new(raw.provider_id.as_str(), name, &bytes)
                .with_context(ctx)?;
            Ok(ForEncrypt::Keyring(Arc::new(keyring)))
        }
        "rsa" => {
            let padding = keys::rsa_padding(raw.padding.as_deref(), raw.padding_hash.as_deref())
                .with_context(ctx)?;
            let keyring =
                keys::raw_rsa_keyring(raw.provider_id.as_str(), name, entry, padding, true)
                    .with_context(ctx)?;
            Ok(ForEncrypt::Keyring(Arc::new(keyring)))
        }
        other => Err(VectorError::new(format!(
            "unknown encryption-algorithm {other:?}"
        )))
        .with_context(ctx),
    }
}

/// The deterministic plaintext called `name` of `len` bytes: a SplitMix64 stream seeded with
/// the FNV-1a hash of the name, little-endian.
pub fn plaintext_bytes(name: &str, len: usize) -> Vec<u8> {
    let mut state = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A name usable as a file name: ASCII letters, digits, `.`, `_` and `-` are kept, anything
/// else becomes `_`.
pub fn file_name(id: &str) -> String {
    let name: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match name.as_str() {
        "" | "." | ".." => format!("_{name}"),
        _ => name,
    }
}

/// The client that encrypts `suite` with `frame_size`: `ForbidEncryptAllowDecrypt` for
/// non-committing suites, `RequireEncryptRequireDecrypt` for committing ones, one thread
/// (tests already run in parallel).
///
/// # Errors
/// For a frame length over `u32::MAX`.
pub fn encrypt_client(
    suite: &'static esdk::suite::AlgorithmSuite,
    frame_size: u64,
) -> Result<esdk::Client> {
    let policy = if suite.is_committing() {
        esdk::CommitmentPolicy::RequireEncryptRequireDecrypt
    } else {
        esdk::CommitmentPolicy::ForbidEncryptAllowDecrypt
    };
    let mut builder = esdk::Client::builder()
        .commitment_policy(policy)
        .suite(suite)
        .threads(1);
    if frame_size > 0 {
        let frame = u32::try_from(frame_size)
            .ok()
            .with_context(|| format!("frame-size {frame_size} exceeds 2^32 - 1"))?;
        builder = builder.frame_length(frame);
    }
    builder.build().context("client settings")
}

/// Encrypts one test. `Err` carries the skip or failure outcome.
fn encrypt_test(
    test: &EncryptTest,
    keys: &Keys,
    plaintext: &[u8],
    kms: &KmsSupplier,
) -> std::result::Result<Vec<u8>, Outcome> {
    if let Some(reason) = &test.not_run {
        return Err(Outcome::Skip(reason.clone()));
    }
    let built = build_for_encrypt(&test.encrypt_keys, keys, kms)
        .map_err(|e| Outcome::Fail(format!("key description: {e}")))?;
    let client =
        encrypt_client(test.suite, test.frame_size).map_err(|e| Outcome::Fail(e.to_string()))?;
    let options = esdk::EncryptOptions::from(test.encryption_context.clone());
    let result = match (&built, test.frame_size) {
        (ForEncrypt::Skip(reason), _) => return Err(Outcome::Skip(reason.clone())),
        (ForEncrypt::Keyring(k), 0) => esdk::blocking::block_on(
            esdk::hazmat::encrypt_non_framed_legacy(&client, k.as_ref(), plaintext, &options),
        ),
        (ForEncrypt::Cmm(c), 0) => {
            esdk::blocking::block_on(esdk::hazmat::encrypt_non_framed_legacy(
                &client,
                esdk::KeySource::MaterialsManager(c.as_ref()),
                plaintext,
                &options,
            ))
        }
        (ForEncrypt::Keyring(k), _) => {
            esdk::blocking::encrypt_with(&client, k.as_ref(), plaintext, &options)
        }
        (ForEncrypt::Cmm(c), _) => esdk::blocking::encrypt_with(
            &client,
            esdk::KeySource::MaterialsManager(c.as_ref()),
            plaintext,
            &options,
        ),
    };
    result.map_err(|e| Outcome::Fail(format!("encrypt failed: {}", crate::run::describe(&e))))
}

/// Where an encrypt run wrote its output.
#[derive(Debug, Clone)]
pub struct EncryptReport {
    /// One result per test: passed means encrypted and written.
    pub report: Report,
    /// The decrypt manifest written.
    pub manifest: PathBuf,
}

/// Encrypts every test of the encrypt manifest at `path` and writes the messages, plaintexts,
/// keys and decrypt manifest into the folder `out`. The folder must be missing, empty, or the
/// output of an earlier run (its `manifest.json` names [`CLIENT_NAME`]): then its
/// `ciphertexts/` and `plaintexts/` are replaced.
///
/// # Errors
/// When the manifest cannot be read, `out` holds something else, or the output cannot be
/// written. A test that cannot be encrypted is a failure in the report, one that cannot run
/// here a skip.
pub fn run_encrypt_manifest(
    path: &Path,
    out: &Path,
    options: &EncryptOptions,
) -> Result<EncryptReport> {
    let manifest = EncryptManifest::load(path)?;
    check_output_folder(out)?;
    write_outputs(&manifest, &path.display().to_string(), out, options)
}

/// Refuses to write into a folder that holds anything but an earlier run's output, so a
/// mistyped `--output` cannot replace the `ciphertexts/` of a vector set.
fn check_output_folder(out: &Path) -> Result<()> {
    let label = out.display();
    if !out.exists() {
        return std::fs::create_dir_all(out).with_context(|| format!("creating {label}"));
    }
    let mut entries = std::fs::read_dir(out).with_context(|| format!("listing {label}"))?;
    if entries.next().is_none() {
        return Ok(());
    }
    let ours = std::fs::read(out.join("manifest.json"))
        .ok()
        .and_then(|b| json::parse(&b).ok())
        .and_then(|doc| {
            doc.get("client")
                .and_then(|c| c.get("name"))
                .and_then(Value::as_str)
                .map(|n| n == CLIENT_NAME)
        })
        .unwrap_or(false);
    if ours {
        Ok(())
    } else {
        Err(VectorError::new(format!(
            "refusing to write into {label}: it is not empty and not the output of an earlier encrypt run"
        )))
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn write_outputs(
    manifest: &EncryptManifest,
    label: &str,
    out: &Path,
    options: &EncryptOptions,
) -> Result<EncryptReport> {
    let ct_dir = out.join("ciphertexts");
    let pt_dir = out.join("plaintexts");
    for dir in [&ct_dir, &pt_dir] {
        if dir.exists() {
            std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
        }
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }

    // Plaintexts: every one the manifest names, each written once.
    let mut plaintext_files = BTreeMap::new();
    let mut plaintexts = BTreeMap::new();
    for (name, len) in &manifest.plaintexts {
        let len = usize::try_from(*len)
            .ok()
            .filter(|l| *l <= 1 << 32)
            .with_context(|| format!("plaintext {name:?}: {len} bytes is too long"))?;
        let bytes = plaintext_bytes(name, len);
        let file = unique_name(&plaintext_files, name);
        write_file(&pt_dir.join(&file), &bytes)?;
        plaintext_files.insert(name.clone(), file);
        plaintexts.insert(name.clone(), bytes);
    }

    let selected: Vec<&(String, Result<EncryptTest>)> = manifest
        .tests
        .iter()
        .filter(|(id, _)| options.filter.as_ref().is_none_or(|f| id.contains(f)))
        .collect();
    let encrypted = parallel_map(&selected, options.jobs, |(id, test)| {
        let outcome = match test {
            Err(e) => Err(Outcome::Fail(format!("bad manifest entry: {e}"))),
            Ok(t) => match plaintexts.get(&t.plaintext) {
                None => Err(Outcome::Fail(format!("no plaintext {:?}", t.plaintext))),
                Some(pt) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    encrypt_test(t, &manifest.keys, pt, &options.kms)
                }))
                .unwrap_or_else(|_| Err(Outcome::Fail("panicked (a bug)".to_owned()))),
            },
        };
        (id.clone(), outcome)
    });

    let mut results = Vec::with_capacity(encrypted.len());
    let mut entries = Map::new();
    let mut ciphertext_files: BTreeMap<String, String> = BTreeMap::new();
    for ((id, outcome), (_, test)) in encrypted.into_iter().zip(&selected) {
        let (message, test) = match (outcome, test) {
            (Ok(m), Ok(t)) => (m, t),
            (Err(o), _) => {
                results.push(TestResult { id, outcome: o });
                continue;
            }
            (Ok(_), Err(e)) => {
                results.push(TestResult {
                    id,
                    outcome: Outcome::Fail(e.to_string()),
                });
                continue;
            }
        };
        let file = unique_name(&ciphertext_files, &id);
        if let Err(e) = write_file(&ct_dir.join(&file), &message) {
            results.push(TestResult {
                id,
                outcome: Outcome::Fail(e.to_string()),
            });
            continue;
        }
        let ciphertext_uri = format!("file://ciphertexts/{file}");
        let plaintext_uri = format!(
            "file://plaintexts/{}",
            plaintext_files
                .get(&test.plaintext)
                .map_or("", String::as_str)
        );
        entries.insert(
            id.clone(),
            decrypt_entry(test, &ciphertext_uri, &plaintext_uri),
        );
        ciphertext_files.insert(id.clone(), file);
        results.push(TestResult {
            id,
            outcome: Outcome::Pass,
        });
    }

    let decrypt_version = if manifest.version >= 5 { 5 } else { 2 };
    let doc = json!({
        "manifest": {"type": "awses-decrypt", "version": decrypt_version},
        "client": {"name": CLIENT_NAME, "version": esdk::VERSION},
        "keys": "file://keys.json",
        "tests": Value::Object(entries),
    });
    let pretty = |v: &Value| serde_json::to_vec_pretty(v).context("serializing JSON");
    write_file(&out.join("keys.json"), &pretty(&manifest.keys_doc)?)?;
    let manifest_path = out.join("manifest.json");
    write_file(&manifest_path, &pretty(&doc)?)?;
    Ok(EncryptReport {
        report: Report {
            name: label.to_owned(),
            results,
        },
        manifest: manifest_path,
    })
}

/// A file name for `name` that no other entry of `taken` uses.
fn unique_name(taken: &BTreeMap<String, String>, name: &str) -> String {
    let base = file_name(name);
    let used = |candidate: &str| taken.values().any(|v| v == candidate);
    if !used(&base) {
        return base;
    }
    (2..)
        .map(|i| format!("{base}-{i}"))
        .find(|c| !used(c))
        .unwrap_or(base)
}

fn decrypt_entry(test: &EncryptTest, ciphertext: &str, plaintext: &str) -> Value {
    match &test.decrypt {
        DecryptSpec::MasterKeys(list) => {
            let mut entry = json!({
                "ciphertext": ciphertext,
                "master-keys": list,
                "result": {"output": {"plaintext": plaintext}},
            });
            if let (Some(d), Some(obj)) = (&test.description, entry.as_object_mut()) {
                obj.insert("description".to_owned(), Value::String(d.clone()));
            }
            entry
        }
        DecryptSpec::Scenario {
            decrypt_key_description,
            reproduced,
        } => {
            let mut scenario = json!({
                "type": "positive-esdk",
                "ciphertext": ciphertext,
                "result": plaintext,
                "algorithmSuiteId": format!("{:04X}", test.suite.id),
                "frame-size": test.frame_size,
                "description": test.description.clone().unwrap_or_else(|| format!(
                    "suite {:04X}, frame {}", test.suite.id, test.frame_size)),
                "decryptKeyDescription": decrypt_key_description,
            });
            if let (Some(r), Some(obj)) = (reproduced, scenario.as_object_mut()) {
                obj.insert("reproduced-encryption-context".to_owned(), r.clone());
            }
            json!({ "decryption-scenario": scenario })
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn plaintexts_are_deterministic() {
        let a = plaintext_bytes("small", 100);
        assert_eq!(a.len(), 100);
        assert_eq!(a, plaintext_bytes("small", 100));
        assert_eq!(&plaintext_bytes("small", 10)[..], &a[..10]);
        assert_ne!(a, plaintext_bytes("tiny", 100));
        assert!(plaintext_bytes("x", 0).is_empty());
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_name("abc-1.2_x"), "abc-1.2_x");
        assert_eq!(file_name("a/b c"), "a_b_c");
        assert_eq!(file_name(".."), "_..");
        let mut taken = BTreeMap::new();
        taken.insert("x".to_owned(), "a_b".to_owned());
        assert_eq!(unique_name(&taken, "a/b"), "a_b-2");
    }

    #[test]
    fn master_key_lists_generate_with_the_first_key() {
        let t = serde_json::json!({
            "plaintext": "small", "algorithm": "0478", "frame-size": 0, "encryption-context": {},
            "master-keys": [
                {"type": "raw", "key": "a", "provider-id": "p", "encryption-algorithm": "aes"},
                {"type": "raw", "key": "b", "provider-id": "p", "encryption-algorithm": "aes"}
            ]
        });
        let test = parse_v1_v2("id", &t).unwrap();
        match test.encrypt_keys {
            KeyDescription::Multi {
                generator: Some(g),
                children,
            } => {
                assert!(matches!(*g, KeyDescription::Raw(RawKey { ref key, .. }) if key == "a"));
                assert_eq!(children.len(), 1);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(test.suite.id, 0x0478);
    }

    #[test]
    fn rejects_other_manifest_types() {
        let doc = serde_json::json!({"manifest": {"type": "awses-decrypt", "version": 2}});
        assert!(EncryptManifest::from_json(&doc, "").is_err());
        let doc = serde_json::json!({"manifest": {"type": "awses-encrypt", "version": 3}});
        assert!(EncryptManifest::from_json(&doc, "").is_err());
    }
}
