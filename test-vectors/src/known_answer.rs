//! Known-answer tests that give the plaintext data key instead of a wrapping key:
//! `commitment-test-vectors.json` and the decrypt-oracle `decrypt_vectors.json`.

use std::path::Path;

use serde_json::Value;

use crate::error::{Context, Result, VectorError};
use crate::json;
use crate::keys::decode_base64;
use crate::run::{compare, parallel_map, Outcome, Report, TestResult};

/// A test-only keyring that ignores the encrypted data keys and hands out a known data key.
///
/// It cannot encrypt. `Debug` shows only the key length.
#[derive(Debug, Clone)]
pub struct StaticDataKeyKeyring {
    key: esdk::materials::DataKey,
}

impl StaticDataKeyKeyring {
    /// A keyring that always decrypts to `key`.
    pub fn new(key: Vec<u8>) -> Self {
        Self {
            key: esdk::materials::DataKey::new(key),
        }
    }
}

impl esdk::Keyring for StaticDataKeyKeyring {
    fn on_encrypt<'a>(
        &'a self,
        _materials: esdk::materials::EncryptionMaterials,
    ) -> esdk::keyring::MaterialsFuture<'a, esdk::Result<esdk::materials::EncryptionMaterials>>
    {
        esdk::keyring::MaterialsFuture::ready(Err(esdk::Error::Keyring(
            esdk::error::KeyringError::new(
                esdk::error::KeyringErrorKind::Configuration,
                "StaticDataKeyKeyring is for decrypting known-answer vectors only",
            ),
        )))
    }

    fn on_decrypt<'a>(
        &'a self,
        mut materials: esdk::materials::DecryptionMaterials,
        _encrypted_data_keys: &'a [esdk::materials::EncryptedDataKey],
    ) -> esdk::keyring::MaterialsFuture<'a, esdk::Result<esdk::materials::DecryptionMaterials>>
    {
        esdk::keyring::MaterialsFuture::new(async move {
            if materials.data_key.is_some() {
                return Err(esdk::Error::ApiMisuse(
                    "decryption materials already hold a data key",
                ));
            }
            materials.data_key = Some(self.key.clone());
            Ok(materials)
        })
    }
}

/// The client known-answer vectors decrypt with: `RequireEncryptAllowDecrypt`.
#[allow(clippy::unwrap_used)] // only the policy is set: building cannot fail
pub fn client() -> esdk::Client {
    esdk::Client::builder()
        .commitment_policy(esdk::CommitmentPolicy::RequireEncryptAllowDecrypt)
        .build()
        .unwrap()
}

/// Counts of a known-answer run, by kind of test.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownAnswerCounts {
    /// Entries that must decrypt (status true) and were run.
    pub positive: usize,
    /// Entries that must fail with a commitment mismatch (status false) and were run.
    pub negative: usize,
}

/// Runs `commitment-test-vectors.json`: each entry's `decrypted-dek` is injected through
/// [`StaticDataKeyKeyring`]; status `true` entries must decrypt to the concatenated
/// `plaintext-frames`, status `false` ones must fail with [`esdk::Error::CommitmentMismatch`].
///
/// # Errors
/// When the file cannot be read or is not a list of tests.
pub fn run_commitment_vectors(path: &Path, jobs: usize) -> Result<(Report, KnownAnswerCounts)> {
    let label = path.display().to_string();
    let doc = json::parse(&std::fs::read(path).with_context(|| format!("reading {label}"))?)
        .context(&label)?;
    let tests = json::object_field(&doc, "tests")?
        .as_array()
        .context("\"tests\" is not a list")
        .with_context(|| label.clone())?;
    let client = client();
    let results: Vec<(TestResult, Option<bool>)> = parallel_map(
        &tests.iter().enumerate().collect::<Vec<_>>(),
        jobs,
        |(i, t)| {
            let id = commitment_id(*i, t);
            let (outcome, kind) = match commitment_case(&client, t) {
                Ok((outcome, positive)) => (outcome, Some(positive)),
                Err(e) => (Outcome::Fail(format!("bad entry: {e}")), None),
            };
            (TestResult { id, outcome }, kind)
        },
    );
    let mut counts = KnownAnswerCounts::default();
    for (r, kind) in &results {
        if matches!(r.outcome, Outcome::Skip(_)) {
            continue;
        }
        match kind {
            Some(true) => counts.positive += 1,
            Some(false) => counts.negative += 1,
            None => {}
        }
    }
    Ok((
        Report {
            name: label,
            results: results.into_iter().map(|(r, _)| r).collect(),
        },
        counts,
    ))
}

fn commitment_id(i: usize, t: &Value) -> String {
    let comment = t.get("comment").and_then(Value::as_str).unwrap_or("");
    format!("#{} {comment}", i + 1).trim().to_owned()
}

/// Runs one commitment entry; also says whether it is a positive one.
fn commitment_case(client: &esdk::Client, t: &Value) -> Result<(Outcome, bool)> {
    let status = json::opt_bool(t, "status")?.context("missing field \"status\"")?;
    let message = decode_base64(json::str_field(t, "ciphertext")?).context("ciphertext")?;
    let key = decode_base64(json::str_field(t, "decrypted-dek")?).context("decrypted-dek")?;
    let keyring = StaticDataKeyKeyring::new(key);
    let result = esdk::blocking::decrypt(client, &keyring, &message);
    if !status {
        let outcome = match result {
            Err(esdk::Error::CommitmentMismatch) => Outcome::Pass,
            Err(e) => Outcome::Fail(format!("failed with {e:?}, expected a commitment mismatch")),
            Ok(_) => Outcome::Fail("decrypted, expected a commitment mismatch".to_owned()),
        };
        return Ok((outcome, false));
    }
    let frames = json::str_list(t, "plaintext-frames")?;
    let want: Vec<u8> = frames.concat().into_bytes();
    let outcome = match result {
        Err(e) => Outcome::Fail(format!("decryption failed: {e}")),
        Ok(d) => match compare(&d.plaintext, &want) {
            None => Outcome::Pass,
            Some(diff) => Outcome::Fail(diff),
        },
    };
    Ok((outcome, true))
}

/// Runs the decrypt-oracle `decrypt_vectors.json`: key type `null` is an all-zero data key,
/// `test_counting` is bytes 1, 2, …, n; `aws-kms` entries are skipped. Each must decrypt to
/// its `plaintext`.
///
/// # Errors
/// When the file cannot be read or is not a list.
pub fn run_decrypt_oracle_vectors(path: &Path, jobs: usize) -> Result<Report> {
    let label = path.display().to_string();
    let doc = json::parse(&std::fs::read(path).with_context(|| format!("reading {label}"))?)
        .context(&label)?;
    let list = doc
        .as_array()
        .context("not a list of vectors")
        .with_context(|| label.clone())?;
    let client = client();
    let results = parallel_map(
        &list.iter().enumerate().collect::<Vec<_>>(),
        jobs,
        |(i, v)| {
            let key_type = v.get("key-type").and_then(Value::as_str).unwrap_or("?");
            let suite = v
                .get("algorithm-suite")
                .and_then(Value::as_str)
                .unwrap_or("?");
            let id = format!("#{} {key_type} {suite}", i + 1);
            let outcome = oracle_case(&client, v)
                .unwrap_or_else(|e| Outcome::Fail(format!("bad entry: {e}")));
            TestResult { id, outcome }
        },
    );
    Ok(Report {
        name: label,
        results,
    })
}

fn oracle_case(client: &esdk::Client, v: &Value) -> Result<Outcome> {
    let key_type = json::str_field(v, "key-type")?;
    let message = decode_base64(json::str_field(v, "ciphertext")?).context("ciphertext")?;
    let want = decode_base64(json::str_field(v, "plaintext")?).context("plaintext")?;
    let suite_hex = json::str_field(v, "algorithm-suite")?;
    let suite = u16::from_str_radix(suite_hex, 16)
        .ok()
        .and_then(|id| esdk::suite::AlgorithmSuite::from_id(id).ok())
        .with_context(|| format!("unknown algorithm-suite {suite_hex:?}"))?;
    let key = match key_type {
        "null" => vec![0u8; suite.key_len],
        // Bytes 1..=n; suite keys are at most 32 bytes, so this never wraps.
        "test_counting" => (1..=suite.key_len).map(|i| i as u8).collect(),
        "aws-kms" => {
            let arns: Vec<String> = esdk::parse_header(&message)
                .map(|h| {
                    h.unauthenticated()
                        .encrypted_data_keys()
                        .iter()
                        .filter(|e| e.provider_id == "aws-kms")
                        .filter_map(|e| String::from_utf8(e.provider_info.clone()).ok())
                        .collect()
                })
                .unwrap_or_default();
            return Ok(Outcome::Skip(format!(
                "data key is wrapped by AWS KMS ({}), no KMS access offline",
                if arns.is_empty() {
                    "unknown key".to_owned()
                } else {
                    arns.join(", ")
                }
            )));
        }
        other => return Err(VectorError::new(format!("unknown key-type {other:?}"))),
    };
    let keyring = StaticDataKeyKeyring::new(key);
    Ok(match esdk::blocking::decrypt(client, &keyring, &message) {
        Err(e) => Outcome::Fail(format!("decryption failed: {e}")),
        Ok(d) if d.header.suite().id != suite.id => Outcome::Fail(format!(
            "the header says suite {:04x}, the vector says {suite_hex}",
            d.header.suite().id
        )),
        Ok(d) => match compare(&d.plaintext, &want) {
            None => Outcome::Pass,
            Some(diff) => Outcome::Fail(diff),
        },
    })
}
