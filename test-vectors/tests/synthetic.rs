//! Checks the runner itself on vectors made here: that it reports failures, honours
//! `result.error`, `decryption-method` and KMS skips, reads zips in place, and survives bad
//! manifests. Needs no shared vectors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::path::{Path, PathBuf};

use esdk_test_vectors::{run_manifest, Outcome, Report, RunOptions};

const AES_KEY_B64: &str = "AAECAwQFBgcICRAREhMUFRYXGBkgISIjJCUmJygpMDE=";
const AES_KEY: [u8; 32] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
    0x16, 0x17, 0x18, 0x19, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x30, 0x31,
];

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "esdk-test-vectors-{tag}-{}-{:?}",
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

fn write(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{}: {e}", parent.display()));
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn encrypt(suite: &'static esdk::suite::AlgorithmSuite, plaintext: &[u8]) -> Vec<u8> {
    let keyring = esdk::RawAesKeyring::new("ns", "aes-256", &AES_KEY)
        .unwrap_or_else(|e| panic!("keyring: {e}"));
    let client = esdk::Client::builder()
        .commitment_policy(if suite.is_committing() {
            esdk::CommitmentPolicy::RequireEncryptAllowDecrypt
        } else {
            esdk::CommitmentPolicy::ForbidEncryptAllowDecrypt
        })
        .suite(suite)
        .frame_length(100)
        .build()
        .unwrap();
    let context = esdk::EncryptionContext::from([("purpose".to_owned(), "test".to_owned())]);
    esdk::blocking::encrypt(&client, &keyring, plaintext, &context)
        .unwrap_or_else(|e| panic!("encrypt: {e}"))
}

/// Files of a v3 manifest with one test of each kind; returns (path, bytes) pairs.
fn vector_files() -> Vec<(&'static str, Vec<u8>)> {
    let plaintext: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
    let signed = encrypt(
        &esdk::suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
        &plaintext,
    );
    let unsigned = encrypt(&esdk::suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY, &plaintext);
    let legacy = encrypt(&esdk::suite::AES_128_GCM_IV12_TAG16_HKDF_SHA256, &plaintext);
    let mut tampered = unsigned.clone();
    if let Some(last) = tampered.last_mut() {
        *last ^= 1;
    }
    let keys = format!(
        r#"{{"manifest": {{"type": "keys", "version": 3}}, "keys": {{
            "aes-256": {{"encrypt": true, "decrypt": true, "type": "symmetric", "algorithm": "aes",
                "bits": 256, "encoding": "base64", "material": "{AES_KEY_B64}", "key-id": "aes-256"}},
            "kms": {{"encrypt": true, "decrypt": true, "type": "aws-kms",
                "key-id": "arn:aws:kms:us-west-2:111122223333:key/test"}}
        }}}}"#
    );
    let raw =
        r#"{"type": "raw", "key": "aes-256", "provider-id": "ns", "encryption-algorithm": "aes"}"#;
    let kms = r#"{"type": "aws-kms", "key": "kms"}"#;
    let ok = r#"{"output": {"plaintext": "file://plaintexts/small"}}"#;
    let err = r#"{"error": {"error-description": "tampered"}}"#;
    let manifest = format!(
        r#"{{"manifest": {{"type": "awses-decrypt", "version": 3}},
            "client": {{"name": "synthetic", "version": "1"}},
            "keys": "file://keys.json",
            "tests": {{
                "pass-signed": {{"ciphertext": "file://ciphertexts/signed", "master-keys": [{raw}], "result": {ok}}},
                "pass-legacy-suite": {{"ciphertext": "file://ciphertexts/legacy", "master-keys": [{raw}], "result": {ok}}},
                "pass-kms-and-raw": {{"ciphertext": "file://ciphertexts/unsigned", "master-keys": [{kms}, {raw}], "result": {ok}}},
                "pass-tampered-expected-error": {{"ciphertext": "file://ciphertexts/tampered", "master-keys": [{raw}], "result": {err}}},
                "pass-unsigned-only-refuses-signed": {{"ciphertext": "file://ciphertexts/signed", "master-keys": [{raw}],
                    "decryption-method": "streaming-unsigned-only", "result": {err}}},
                "pass-unsigned-only-unsigned": {{"ciphertext": "file://ciphertexts/unsigned", "master-keys": [{raw}],
                    "decryption-method": "streaming-unsigned-only", "result": {ok}}},
                "fail-tampered": {{"ciphertext": "file://ciphertexts/tampered", "master-keys": [{raw}], "result": {ok}}},
                "fail-wrong-plaintext": {{"ciphertext": "file://ciphertexts/unsigned", "master-keys": [{raw}],
                    "result": {{"output": {{"plaintext": "file://plaintexts/other"}}}}}},
                "fail-decrypts-but-error-expected": {{"ciphertext": "file://ciphertexts/unsigned", "master-keys": [{raw}], "result": {err}}},
                "fail-unsigned-only-signed": {{"ciphertext": "file://ciphertexts/signed", "master-keys": [{raw}],
                    "decryption-method": "streaming-unsigned-only", "result": {ok}}},
                "fail-missing-ciphertext": {{"ciphertext": "file://ciphertexts/none", "master-keys": [{raw}], "result": {ok}}},
                "fail-bad-entry": {{"master-keys": [{raw}], "result": {ok}}},
                "fail-unknown-key": {{"ciphertext": "file://ciphertexts/unsigned",
                    "master-keys": [{{"type": "raw", "key": "nope", "provider-id": "ns", "encryption-algorithm": "aes"}}], "result": {ok}}},
                "skip-kms-only": {{"ciphertext": "file://ciphertexts/unsigned", "master-keys": [{kms}], "result": {ok}}}
            }}}}"#
    );
    let mut other = plaintext.clone();
    other[500] ^= 0x80;
    vec![
        ("manifest.json", manifest.into_bytes()),
        ("keys.json", keys.into_bytes()),
        ("plaintexts/small", plaintext),
        ("plaintexts/other", other),
        ("ciphertexts/signed", signed),
        ("ciphertexts/unsigned", unsigned),
        ("ciphertexts/legacy", legacy),
        ("ciphertexts/tampered", tampered),
    ]
}

fn check_report(report: &Report) {
    let mut text = String::new();
    for r in &report.results {
        text.push_str(&format!("{} {:?}\n", r.id, r.outcome));
    }
    print!("{text}");
    for r in &report.results {
        let ok = match &r.outcome {
            Outcome::Pass => r.id.starts_with("pass-"),
            Outcome::Fail(_) => r.id.starts_with("fail-"),
            Outcome::Skip(reason) => {
                r.id.starts_with("skip-")
                    && reason
                        == "data key is wrapped by AWS KMS (arn:aws:kms:us-west-2:111122223333:key/test): \
                            needs the real AWS KMS keys of the public vectors (run with --kms and AWS credentials)"
            }
        };
        assert!(ok, "{}: unexpected {:?}", r.id, r.outcome);
    }
    assert_eq!(report.summary(), "6 passed, 7 failed, 1 skipped");
    let bad = report
        .results
        .iter()
        .find(|r| r.id == "fail-bad-entry")
        .map(|r| r.outcome.clone());
    assert!(
        matches!(&bad, Some(Outcome::Fail(reason)) if reason.contains("ciphertext")),
        "{bad:?}"
    );
}

#[test]
fn folder_manifest_outcomes() {
    let tmp = TempDir::new("dir");
    for (name, bytes) in vector_files() {
        write(&tmp.0.join(name), &bytes);
    }
    for path in [tmp.0.clone(), tmp.0.join("manifest.json")] {
        let report = run_manifest(&path, &RunOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        check_report(&report);
    }
    let filtered = run_manifest(
        &tmp.0,
        &RunOptions {
            filter: Some("kms".to_owned()),
            streaming: false,
            jobs: 2,
            ..RunOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(filtered.summary(), "1 passed, 0 failed, 1 skipped");
}

#[test]
fn zip_is_read_in_place() {
    let tmp = TempDir::new("zip");
    let path = tmp.0.join("vectors.zip");
    let file = std::fs::File::create(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in vector_files() {
        // One folder level inside the archive, as some published zips have.
        zip.start_file(format!("set/{name}"), options)
            .unwrap_or_else(|e| panic!("{e}"));
        zip.write_all(&bytes).unwrap_or_else(|e| panic!("{e}"));
    }
    zip.finish().unwrap_or_else(|e| panic!("{e}"));
    let report = run_manifest(&path, &RunOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    check_report(&report);
}

#[test]
fn bad_manifests_are_errors_not_panics() {
    let tmp = TempDir::new("bad");
    let cases: &[(&str, &str)] = &[
        ("not-json", "{"),
        (
            "wrong-type",
            r#"{"manifest": {"type": "awses-encrypt", "version": 2}}"#,
        ),
        (
            "bad-version",
            r#"{"manifest": {"type": "awses-decrypt", "version": 9}}"#,
        ),
        (
            "no-keys",
            r#"{"manifest": {"type": "awses-decrypt", "version": 2}, "keys": "file://missing.json", "tests": {}}"#,
        ),
        (
            "bad-uri",
            r#"{"manifest": {"type": "awses-decrypt", "version": 2}, "keys": "https://example.com/keys.json", "tests": {}}"#,
        ),
        ("legacy-broken", r#"{"test_cases": 5, "test_keys": {}}"#),
    ];
    for (name, text) in cases {
        let path = tmp.0.join(format!("{name}.json"));
        write(&path, text.as_bytes());
        let result = run_manifest(&path, &RunOptions::default());
        assert!(result.is_err(), "{name}: {result:?}");
        println!(
            "{name}: {}",
            result.err().map(|e| e.to_string()).unwrap_or_default()
        );
    }
    assert!(run_manifest(&tmp.0.join("missing"), &RunOptions::default()).is_err());
    // A folder without a manifest.
    assert!(run_manifest(&tmp.0, &RunOptions::default()).is_err());
}
