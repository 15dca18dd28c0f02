//! Round trip through files: `encrypt` of the project's encrypt manifest
//! (`manifests/esdk-interop-encrypt.json`) into a temporary folder, then `decrypt` of the
//! decrypt manifest it wrote. Needs neither Python nor the shared vectors.

#![allow(clippy::panic)]

use std::path::{Path, PathBuf};

use esdk_test_vectors::encrypt::EncryptManifest;
use esdk_test_vectors::{run_encrypt_manifest, run_manifest, EncryptOptions, Outcome, RunOptions};

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "esdk-interop-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn project_manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/esdk-interop-encrypt.json")
}

fn failures(report: &esdk_test_vectors::Report) -> String {
    report
        .results
        .iter()
        .filter(|r| !matches!(r.outcome, Outcome::Pass))
        .map(|r| format!("{} {:?}\n", r.id, r.outcome))
        .collect()
}

#[test]
fn project_manifest_round_trips_through_files() {
    let path = project_manifest();
    let manifest = EncryptManifest::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let total = manifest.tests.len();
    assert!(total >= 250, "only {total} tests in {}", path.display());

    let tmp = TempDir::new("roundtrip");
    let encrypted = run_encrypt_manifest(
        &path,
        &tmp.0,
        &EncryptOptions {
            filter: None,
            jobs: 2,
            ..EncryptOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("encrypt: {e}"));
    let report = &encrypted.report;
    println!("encrypt: {}", report.summary());
    assert_eq!(
        (report.passed(), report.failed(), report.skipped()),
        (total, 0, 0),
        "encrypt: {}\n{}",
        report.summary(),
        failures(report)
    );
    for sub in ["ciphertexts", "plaintexts"] {
        assert!(tmp.0.join(sub).is_dir(), "no {sub}/");
    }
    assert!(tmp.0.join("keys.json").is_file());

    let decrypted = run_manifest(
        &encrypted.manifest,
        &RunOptions {
            jobs: 2,
            ..RunOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("decrypt: {e}"));
    println!("decrypt: {}", decrypted.summary());
    assert_eq!(
        (decrypted.passed(), decrypted.failed(), decrypted.skipped()),
        (total, 0, 0),
        "decrypt: {}\n{}",
        decrypted.summary(),
        failures(&decrypted)
    );
}

/// The manifest covers what the interop issue asks for: every suite, every frame length with
/// the non-framed case, the plaintext sizes around the frame length, every raw keyring and
/// padding, multi-keyrings, the required-encryption-context CMM, and the contexts.
#[test]
fn project_manifest_coverage() {
    let text = std::fs::read_to_string(project_manifest()).unwrap_or_else(|e| panic!("{e}"));
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let tests = doc["tests"]
        .as_object()
        .unwrap_or_else(|| panic!("no tests"));
    let plaintexts = &doc["plaintexts"];
    let mut combos = std::collections::BTreeSet::new();
    for t in tests.values() {
        let s = &t["encryption-scenario"];
        let suite = s["algorithmSuiteId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let frame = s["frame-size"].as_u64().unwrap_or(u64::MAX);
        let size = plaintexts[s["plaintext"].as_str().unwrap_or_default()]
            .as_u64()
            .unwrap_or(u64::MAX);
        combos.insert((suite, frame, size));
    }
    let suites = [
        "0014", "0046", "0078", "0114", "0146", "0178", "0214", "0346", "0378", "0478", "0578",
    ];
    for suite in suites {
        for frame in [1u64, 17, 4096, 65536] {
            for size in [0, 1, frame - 1, frame, frame + 1] {
                assert!(
                    combos.contains(&(suite.to_owned(), frame, size)),
                    "missing suite {suite} frame {frame} size {size}"
                );
            }
            assert!(
                combos
                    .iter()
                    .any(|(s, f, n)| s == suite && *f == frame && *n > 2 * frame),
                "missing suite {suite} frame {frame} with several frames"
            );
        }
        assert!(
            combos.iter().any(|(s, f, _)| s == suite && *f == 0),
            "missing suite {suite} non-framed"
        );
    }
    for needle in [
        r#""key": "aes-128""#,
        r#""key": "aes-192""#,
        r#""key": "aes-256""#,
        r#""padding-algorithm": "pkcs1""#,
        r#""padding-hash": "sha1""#,
        r#""padding-hash": "sha256""#,
        r#""padding-hash": "sha384""#,
        r#""padding-hash": "sha512""#,
        r#""type": "multi-keyring""#,
        r#""type": "required-encryption-context-cmm""#,
        r#""encryption-context": {}"#,
        "значение",
    ] {
        assert!(text.contains(needle), "the manifest never has {needle}");
    }
}

/// The shared vectors folder (`../../shared/test-vectors` or `$ESDK_TEST_VECTORS`), or `None`
/// when it is missing and not required ([`esdk_test_vectors::locate`]).
fn vectors_dir() -> Option<PathBuf> {
    esdk_test_vectors::locate::shared_vectors_or_skip()
}

/// Encrypts a public encrypt manifest, checks the counts, then decrypts every `step`-th
/// message written (RSA-4096 decryption of all of them takes minutes in a debug build).
fn public_round_trip(rel: &str, passed: usize, skipped: usize, step: usize) {
    let Some(dir) = vectors_dir() else { return };
    let tmp = TempDir::new(&rel.replace('/', "-"));
    let encrypted = run_encrypt_manifest(
        &dir.join(rel),
        &tmp.0,
        &EncryptOptions {
            filter: None,
            jobs: 2,
            ..EncryptOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{rel}: {e}"));
    let report = &encrypted.report;
    println!("{rel} encrypt: {}", report.summary());
    assert_eq!(
        (report.passed(), report.failed(), report.skipped()),
        (passed, 0, skipped),
        "{rel}: {}\n{}",
        report.summary(),
        failures(report)
    );
    for r in &report.results {
        if let Outcome::Skip(reason) = &r.outcome {
            assert!(
                reason.contains("AWS KMS") || reason.contains("not implemented"),
                "{}: {reason}",
                r.id
            );
        }
    }
    // Keep every step-th test of the decrypt manifest written.
    let text = std::fs::read_to_string(&encrypted.manifest).unwrap_or_else(|e| panic!("{e}"));
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let tests = doc["tests"]
        .as_object_mut()
        .unwrap_or_else(|| panic!("no tests"));
    let keep: Vec<String> = tests.keys().step_by(step).cloned().collect();
    tests.retain(|id, _| keep.contains(id));
    let subset = tmp.0.join("manifest-subset.json");
    std::fs::write(&subset, doc.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let decrypted = run_manifest(
        &subset,
        &RunOptions {
            jobs: 2,
            streaming: false,
            ..RunOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{rel} decrypt: {e}"));
    println!(
        "{rel} decrypt of {} messages: {}",
        keep.len(),
        decrypted.summary()
    );
    assert_eq!(
        (decrypted.passed(), decrypted.failed()),
        (keep.len(), 0),
        "{rel}: {}\n{}",
        decrypted.summary(),
        failures(&decrypted)
    );
}

/// awses-encrypt v2 (the canonical 3300 scenarios): every raw AES/RSA one is encrypted,
/// and the awses-decrypt v2 manifest written decrypts.
#[test]
fn canonical_v2_encrypt_manifest_round_trips() {
    public_round_trip(
        "manifests/framework/0003-awses-message-encryption.v2.json",
        2860,
        440,
        20,
    );
}

/// awses-encrypt v5 (dafny-4.1.0): raw AES/RSA, multi-keyrings and the required-context CMM
/// are encrypted; KMS, raw ECDH and hierarchy are skipped; the v5 decrypt manifest decrypts.
#[test]
fn dafny_v5_encrypt_manifest_round_trips() {
    public_round_trip(
        "awses-decrypt/dafny-4.1.0/encrypt-manifest.json",
        187,
        300,
        1,
    );
}
