//! The runner with AWS KMS keys, against a real KMS-compatible server: moto on 127.0.0.1,
//! started by `tests/support/kms_server.rs` of the esdk crate (a venv it makes on first use;
//! `ESDK_KMS_TESTS=skip` skips these tests).
//!
//! Each test creates three KMS keys on the server and writes, into a temporary folder, a keys
//! manifest naming them (`type: aws-kms`, with a raw AES key beside them) and an awses-encrypt v5
//! manifest: one KMS key; a generator and two more KMS keys; `aws-kms-mrk-aware` with a
//! single-Region key; a raw AES generator with a KMS key; for suites 0x0578 (committing,
//! signed), 0x0478 (committing) and 0x0178 (legacy, non-framed: the runner encrypts it under
//! `ForbidEncryptAllowDecrypt`). Each scenario names several decrypt key descriptions: `aws-kms`,
//! `aws-kms-mrk-aware`, `aws-kms-mrk-aware-discovery` with and without a discovery filter, raw
//! AES. The runner's encrypt mode writes the messages and an awses-decrypt v5 manifest; its
//! decrypt mode must pass every vector and skip none.
//!
//! Stock moto cannot decrypt what a multi-Region key wrapped, so those MRK-aware descriptions
//! run with single-Region keys; `multi_region_keys_decrypt_with_their_replicas` runs a
//! multi-Region key and its replica on the harness's second server, moto with its MRK blob fix
//! (`KmsServer::shared_mrk_fixed`). moto's account is 123456789012.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../tests/support/kms_server.rs"]
mod kms_server;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use esdk_test_vectors::keys::{KmsSupplier, KMS_OFF};
use esdk_test_vectors::{
    run_encrypt_manifest, run_manifest, EncryptOptions, Outcome, Report, RunOptions,
};
use kms_server::{KmsCallLog, KmsServer};
use serde_json::{json, Value};

/// moto's account id.
const ACCOUNT: &str = "123456789012";
/// A key ARN of moto's account that does not exist on the server.
const NOT_HELD: &str =
    "arn:aws:kms:us-west-2:123456789012:key/00000000-0000-4000-8000-000000000000";
const AES_KEY_B64: &str = "AAECAwQFBgcICRAREhMUFRYXGBkgISIjJCUmJygpMDE=";
/// (suite, frame size): committing signed, committing unsigned, legacy non-framed.
const SUITES: &[(&str, u64)] = &[("0578", 512), ("0478", 512), ("0178", 0)];
/// How many decrypt vectors each suite has (see [`scenarios`]).
const PER_SUITE: usize = 14;

macro_rules! server_or_skip {
    () => {{
        if let Some(reason) = kms_server::skip_reason() {
            eprintln!("skipped: {reason}");
            return;
        }
        KmsServer::shared()
    }};
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "esdk-test-vectors-kms-{tag}-{}",
            std::process::id()
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

fn write_json(path: &Path, value: &Value) {
    let text = serde_json::to_vec_pretty(value).unwrap();
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn kms(key: &str) -> Value {
    json!({"type": "aws-kms", "key": key})
}

fn mrk_aware(key: &str) -> Value {
    json!({"type": "aws-kms-mrk-aware", "key": key})
}

fn discovery(region: &str, accounts: Option<&[&str]>) -> Value {
    let mut d = json!({"type": "aws-kms-mrk-aware-discovery", "default-mrk-region": region});
    if let Some(accounts) = accounts {
        d["aws-kms-discovery-filter"] = json!({"partition": "aws", "account-ids": accounts});
    }
    d
}

fn raw_aes() -> Value {
    json!({"type": "raw", "key": "aes-256", "provider-id": "kms-vectors-raw",
        "encryption-algorithm": "aes"})
}

fn multi(generator: Option<Value>, children: Vec<Value>) -> Value {
    let mut m = json!({"type": "multi-keyring", "childKeyrings": children});
    if let Some(g) = generator {
        m["generator"] = g;
    }
    m
}

/// An encrypt scenario: its name, the encrypt key description, and the decrypt key
/// descriptions (by name) that each make a vector.
type Scenario = (&'static str, Value, Vec<(&'static str, Value)>);

/// The encrypt scenarios.
fn scenarios(region: &str) -> Vec<Scenario> {
    let filtered = || discovery(region, Some(&[ACCOUNT]));
    vec![
        (
            "one-key",
            kms("kms-a"),
            vec![
                ("aws-kms", kms("kms-a")),
                ("aws-kms-mrk-aware", mrk_aware("kms-a")),
                ("discovery", discovery(region, None)),
                ("discovery-filtered", filtered()),
            ],
        ),
        (
            "generator-and-two",
            multi(Some(kms("kms-a")), vec![kms("kms-b"), kms("kms-c")]),
            vec![
                ("aws-kms-generator", kms("kms-a")),
                ("aws-kms-child", kms("kms-c")),
                ("discovery-filtered", filtered()),
                // A key that did not wrap the data key, then one that did.
                (
                    "multi-not-held-then-mrk-aware",
                    multi(None, vec![kms("kms-not-held"), mrk_aware("kms-b")]),
                ),
            ],
        ),
        (
            "mrk-aware-single-region",
            mrk_aware("kms-b"),
            vec![
                ("aws-kms-mrk-aware", mrk_aware("kms-b")),
                ("aws-kms", kms("kms-b")),
                ("discovery", discovery(region, None)),
            ],
        ),
        (
            "raw-generator-and-kms",
            multi(Some(raw_aes()), vec![kms("kms-c")]),
            vec![
                ("aws-kms", kms("kms-c")),
                ("raw", raw_aes()),
                ("discovery-filtered", filtered()),
            ],
        ),
    ]
}

/// Vectors made on the server: the keys, the encrypt run's report and its output folder.
struct Generated {
    tmp: TempDir,
    keys: Vec<String>,
    encrypted: Report,
    /// The encrypt output: `manifest.json` (awses-decrypt v5), `keys.json`, `ciphertexts/`,
    /// `plaintexts/`.
    out: PathBuf,
}

/// A KMS client supplier for `server` whose clients log every request.
fn supplier(server: &KmsServer, log: &KmsCallLog) -> KmsSupplier {
    Some(Arc::new(esdk::kms::KmsClientSupplier::from_config(
        log.attach(&server.config()),
    )))
}

/// Creates three keys and writes the keys and encrypt manifests into a new temporary folder.
fn write_manifests(server: &KmsServer, tag: &str) -> (TempDir, Vec<String>) {
    let setup = tokio::runtime::Runtime::new().unwrap();
    let admin = server.client();
    let keys: Vec<String> = setup.block_on(async {
        vec![
            kms_server::create_key(&admin).await,
            kms_server::create_key(&admin).await,
            kms_server::create_key(&admin).await,
        ]
    });
    drop(admin);
    drop(setup);
    let tmp = TempDir::new(tag);
    let entry = |arn: &str, decrypt: bool| json!({"type": "aws-kms", "key-id": arn, "encrypt": true, "decrypt": decrypt});
    write_json(
        &tmp.0.join("keys.json"),
        &json!({
            "manifest": {"type": "keys", "version": 3},
            "keys": {
                "kms-a": entry(&keys[0], true),
                "kms-b": entry(&keys[1], true),
                "kms-c": entry(&keys[2], true),
                // kms-a again, but the manifest says it may not decrypt.
                "kms-a-encrypt-only": entry(&keys[0], false),
                "kms-not-held": entry(NOT_HELD, true),
                "aes-256": {"type": "symmetric", "algorithm": "aes", "bits": 256,
                    "encoding": "base64", "material": AES_KEY_B64, "key-id": "aes-256",
                    "encrypt": true, "decrypt": true}
            }
        }),
    );
    let context = json!({"purpose": "kms-vectors", "tenant": "acme"});
    let mut tests = serde_json::Map::new();
    for (suite, frame) in SUITES {
        for (scenario, encrypt, decrypts) in scenarios(server.region()) {
            for (decrypt_name, decrypt) in decrypts {
                tests.insert(
                    format!("{suite}-{scenario}-{decrypt_name}"),
                    json!({"encryption-scenario": {
                        "type": "positive-esdk",
                        "plaintext": "small",
                        "description": format!("{scenario} -> {decrypt_name}, suite {suite}"),
                        "algorithmSuiteId": suite,
                        "frame-size": frame,
                        "encryptKeyDescription": encrypt,
                        "decryptKeyDescription": decrypt,
                        "encryption-context": context,
                        "reproduced-encryption-context": context,
                    }}),
                );
            }
        }
    }
    assert_eq!(tests.len(), SUITES.len() * PER_SUITE);
    write_json(
        &tmp.0.join("encrypt-manifest.json"),
        &json!({
            "manifest": {"type": "awses-encrypt", "version": 5},
            "keys": "file://keys.json",
            "plaintexts": {"small": 3000},
            "tests": tests,
        }),
    );
    (tmp, keys)
}

/// Writes the manifests and runs the runner's encrypt mode over them with KMS on.
fn generate(server: &KmsServer, tag: &str, log: &KmsCallLog) -> Generated {
    let (tmp, keys) = write_manifests(server, tag);
    let out = tmp.0.join("vectors");
    let encrypted = run_encrypt_manifest(
        &tmp.0.join("encrypt-manifest.json"),
        &out,
        &EncryptOptions {
            jobs: 2,
            kms: supplier(server, log),
            ..EncryptOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("encrypt: {e}"))
    .report;
    Generated {
        tmp,
        keys,
        encrypted,
        out,
    }
}

/// The report's FAIL and SKIP lines and summary, printed in one piece.
fn show(title: &str, report: &Report) -> String {
    let mut text = format!("== {title}\n");
    for r in &report.results {
        match &r.outcome {
            Outcome::Pass => {}
            Outcome::Fail(reason) => {
                let _ = writeln!(text, "FAIL {}: {reason}", r.id);
            }
            Outcome::Skip(reason) => {
                let _ = writeln!(text, "SKIP {}: {reason}", r.id);
            }
        }
    }
    let _ = writeln!(text, "{title}: {}", report.summary());
    print!("{text}");
    text
}

fn count_requests(log: &KmsCallLog, operation: &str) -> usize {
    log.requests()
        .iter()
        .filter(|r| r.split(' ').next() == Some(operation))
        .count()
}

/// Encrypt (generate) with KMS, then decrypt every vector with KMS: all pass, none skipped, and
/// the KMS calls are the ones the scenarios imply.
#[test]
fn kms_vectors_encrypt_then_decrypt() {
    let server = server_or_skip!();
    let log = KmsCallLog::new();
    let generated = generate(server, "round-trip", &log);
    let total = SUITES.len() * PER_SUITE;
    let text = show("encrypt", &generated.encrypted);
    assert_eq!(
        (
            generated.encrypted.passed(),
            generated.encrypted.failed(),
            generated.encrypted.skipped()
        ),
        (total, 0, 0),
        "{text}"
    );
    // Per suite: a KMS generator in 11 tests (GenerateDataKey); 2 more keys in 4 tests and a
    // KMS child of a raw generator in 3 (Encrypt).
    let suites = SUITES.len();
    assert_eq!(count_requests(&log, "GenerateDataKey"), 11 * suites);
    assert_eq!(count_requests(&log, "Encrypt"), 11 * suites);
    assert_eq!(count_requests(&log, "Decrypt"), 0);

    // The messages name the KMS keys the scenarios used.
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(generated.out.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["manifest"]["version"], 5);
    let ciphertext = generated
        .out
        .join("ciphertexts/0478-generator-and-two-aws-kms-child");
    let message = std::fs::read(&ciphertext).unwrap();
    let header = esdk::parse_header(&message).unwrap();
    let infos: Vec<String> = header
        .unauthenticated()
        .encrypted_data_keys()
        .iter()
        .map(|e| String::from_utf8_lossy(&e.provider_info).into_owned())
        .collect();
    assert_eq!(infos, generated.keys, "provider infos of {ciphertext:?}");

    log.clear();
    let decrypted = run_manifest(
        &generated.out,
        &RunOptions {
            jobs: 2,
            kms: supplier(server, &log),
            ..RunOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("decrypt: {e}"));
    let text = show("decrypt with KMS", &decrypted);
    assert_eq!(decrypted.results.len(), total, "{text}");
    assert_eq!(
        decrypted.summary(),
        format!("{total} passed, 0 failed, 0 skipped"),
        "{text}"
    );
    // One-shot and streaming decryption of every vector but the raw-only ones, each with one
    // Decrypt call; never one for the key that wrapped nothing.
    assert_eq!(
        count_requests(&log, "Decrypt"),
        2 * (PER_SUITE - 1) * suites
    );
    assert!(
        !log.requests().iter().any(|r| r.contains(NOT_HELD)),
        "{:?}",
        log.requests()
    );
    assert_eq!(count_requests(&log, "GenerateDataKey"), 0);
}

/// Without a KMS supplier the same vectors are skipped, saying why, in both modes; only the
/// raw-AES decryptions run.
#[test]
fn kms_vectors_are_skipped_when_kms_is_off() {
    let server = server_or_skip!();
    let log = KmsCallLog::new();
    let generated = generate(server, "off", &log);
    let total = SUITES.len() * PER_SUITE;

    let decrypted = run_manifest(
        &generated.out,
        &RunOptions {
            jobs: 2,
            ..RunOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("decrypt: {e}"));
    let text = show("decrypt, KMS off", &decrypted);
    let raw = SUITES.len();
    assert_eq!(
        (decrypted.passed(), decrypted.failed(), decrypted.skipped()),
        (raw, 0, total - raw),
        "{text}"
    );
    for r in &decrypted.results {
        match &r.outcome {
            Outcome::Pass => assert!(r.id.ends_with("-raw"), "{}", r.id),
            Outcome::Skip(reason) => assert!(
                reason.starts_with("data key is wrapped by AWS KMS (") && reason.ends_with(KMS_OFF),
                "{}: {reason}",
                r.id
            ),
            Outcome::Fail(reason) => panic!("{}: {reason}", r.id),
        }
    }
    // A skipped discovery vector names the KMS keys of the message.
    let discovery = decrypted
        .results
        .iter()
        .find(|r| r.id == "0578-one-key-discovery")
        .unwrap();
    assert_eq!(
        discovery.outcome,
        Outcome::Skip(format!(
            "data key is wrapped by AWS KMS (aws-kms-mrk-aware-discovery: {}): {KMS_OFF}",
            generated.keys[0]
        ))
    );

    let again = generated.tmp.0.join("vectors-kms-off");
    let encrypted = run_encrypt_manifest(
        &generated.tmp.0.join("encrypt-manifest.json"),
        &again,
        &EncryptOptions {
            jobs: 2,
            ..EncryptOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("encrypt: {e}"))
    .report;
    let text = show("encrypt, KMS off", &encrypted);
    assert_eq!(encrypted.skipped(), total, "{text}");
    for r in &encrypted.results {
        assert!(
            matches!(&r.outcome, Outcome::Skip(reason)
                if reason.starts_with("encrypts with AWS KMS (") && reason.ends_with(KMS_OFF)),
            "{}: {:?}",
            r.id,
            r.outcome
        );
    }
}

/// A copy of the message `name` whose KMS-wrapped data key has its last byte flipped, so that
/// AWS KMS (here, moto) refuses to decrypt it; returns its URI.
fn tamper_kms_edk(out: &Path, name: &str) -> String {
    let mut message = std::fs::read(out.join("ciphertexts").join(name)).unwrap();
    let header = esdk::parse_header(&message).unwrap();
    let edks = header.unauthenticated().encrypted_data_keys();
    assert_eq!(edks.len(), 1);
    let blob = edks[0].ciphertext.clone();
    let at = message
        .windows(blob.len())
        .position(|w| w == blob.as_slice())
        .unwrap();
    message[at + blob.len() - 1] ^= 0x01;
    let tampered = format!("{name}-edk-tampered");
    std::fs::write(out.join("ciphertexts").join(&tampered), &message).unwrap();
    format!("file://ciphertexts/{tampered}")
}

/// Vectors whose only key cannot decrypt the message: expected-failure (`negative-esdk`)
/// vectors pass, and the same vectors expecting the plaintext fail.
#[test]
fn a_key_not_held_fails_to_decrypt() {
    let server = server_or_skip!();
    let log = KmsCallLog::new();
    let generated = generate(server, "negative", &log);
    assert_eq!(generated.encrypted.failed(), 0);
    // Wrapped by kms-a only.
    let name = "0478-one-key-aws-kms";
    let ciphertext = format!("file://ciphertexts/{name}");
    let tampered = tamper_kms_edk(&generated.out, name);
    let plaintext = "file://plaintexts/small";
    let context = json!({"purpose": "kms-vectors", "tenant": "acme"});
    let cases = [
        // Another key of the server, which did not wrap the data key.
        ("key-not-in-message", &ciphertext, kms("kms-b")),
        // A key the server does not have.
        ("key-not-held", &ciphertext, kms("kms-not-held")),
        // The right key, but the keys manifest says it may not decrypt.
        ("encrypt-only", &ciphertext, kms("kms-a-encrypt-only")),
        // Discovery limited to another account.
        (
            "discovery-other-account",
            &ciphertext,
            discovery(server.region(), Some(&["111122223333"])),
        ),
        // MRK-aware discovery in another Region skips single-Region keys of this one.
        (
            "discovery-other-region",
            &ciphertext,
            discovery("eu-west-1", None),
        ),
        // The right key, but KMS refuses the wrapped data key.
        ("kms-refuses", &tampered, kms("kms-a")),
    ];
    let mut tests = serde_json::Map::new();
    for (name, ciphertext, description) in &cases {
        let mut scenario = json!({
            "ciphertext": ciphertext,
            "algorithmSuiteId": "0478",
            "frame-size": 512,
            "description": name,
            "decryptKeyDescription": description,
            "reproduced-encryption-context": context,
        });
        scenario["type"] = json!("negative-esdk");
        scenario["errorDescription"] = json!("no key of the description can decrypt");
        tests.insert(
            format!("expect-error-{name}"),
            json!({"decryption-scenario": scenario.clone()}),
        );
        scenario["type"] = json!("positive-esdk");
        scenario["result"] = json!(plaintext);
        tests.insert(
            format!("expect-plaintext-{name}"),
            json!({"decryption-scenario": scenario}),
        );
    }
    let path = generated.out.join("negative.json");
    write_json(
        &path,
        &json!({
            "manifest": {"type": "awses-decrypt", "version": 5},
            "client": {"name": "esdk-test-vectors kms.rs", "version": "1"},
            "keys": "file://keys.json",
            "tests": tests,
        }),
    );
    log.clear();
    let report = run_manifest(
        &path,
        &RunOptions {
            jobs: 2,
            kms: supplier(server, &log),
            ..RunOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let text = show("negative", &report);
    let n = cases.len();
    assert_eq!(
        report.summary(),
        format!("{n} passed, {n} failed, 0 skipped"),
        "{text}"
    );
    for r in &report.results {
        match &r.outcome {
            Outcome::Pass => assert!(r.id.starts_with("expect-error-"), "{text}"),
            Outcome::Fail(reason) => {
                assert!(r.id.starts_with("expect-plaintext-"), "{text}");
                assert!(
                    reason.contains("decryption failed") || reason.contains("no listed key"),
                    "{}: {reason}",
                    r.id
                );
            }
            Outcome::Skip(reason) => panic!("{}: {reason}", r.id),
        }
    }
    // Only the tampered message reaches KMS (one-shot and streaming, in both of its vectors):
    // every other description rules the message's key out before asking.
    let requests = log.requests();
    assert_eq!(
        requests,
        vec![format!("Decrypt {}", generated.keys[0]); 4],
        "{text}"
    );
    let refused = report
        .results
        .iter()
        .find(|r| r.id == "expect-plaintext-kms-refuses")
        .unwrap();
    assert!(
        matches!(&refused.outcome, Outcome::Fail(reason) if reason.contains(&generated.keys[0])),
        "{refused:?}"
    );
}

/// The environment of a child process for the local server: the standard AWS variables, and
/// nothing from this machine's AWS configuration.
fn aws_env(cmd: &mut Command, server: &KmsServer, tmp: &Path) {
    for var in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL_KMS",
        "AWS_DEFAULT_REGION",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "ESDK_VECTORS_KMS",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ENDPOINT_URL", server.endpoint_url())
        .env("AWS_REGION", server.region())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", tmp.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            tmp.join("no-aws-credentials"),
        );
}

/// Runs the binary; returns its stdout after checking the exit status.
fn run_binary(server: &KmsServer, tmp: &Path, args: &[&str], kms_env: bool, ok: bool) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_esdk-test-vectors"));
    cmd.args(args);
    aws_env(&mut cmd, server, tmp);
    if kms_env {
        cmd.env("ESDK_VECTORS_KMS", "1");
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("{args:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("$ esdk-test-vectors {}\n{stdout}{stderr}", args.join(" "));
    assert_eq!(
        out.status.success(),
        ok,
        "{args:?}: {}\n{stdout}\n{stderr}",
        out.status
    );
    stdout
}

fn summary(stdout: &str) -> &str {
    stdout.lines().last().unwrap_or("")
}

/// The binary, with `--kms` (or `ESDK_VECTORS_KMS=1`) and only the standard AWS environment
/// pointing at the local server, runs the same manifests: what it takes to run them against AWS
/// KMS is other credentials and no AWS_ENDPOINT_URL.
#[test]
fn the_binary_runs_kms_vectors_from_the_aws_environment() {
    let server = server_or_skip!();
    let log = KmsCallLog::new();
    let generated = generate(server, "binary", &log);
    let total = SUITES.len() * PER_SUITE;
    assert_eq!(generated.encrypted.passed(), total);
    let tmp = &generated.tmp.0;
    let out = generated.out.to_str().unwrap();

    let stdout = run_binary(
        server,
        tmp,
        &["decrypt", "--manifest", out, "--kms", "--jobs", "2"],
        false,
        true,
    );
    assert_eq!(
        summary(&stdout),
        format!("{total} passed, 0 failed, 0 skipped")
    );

    // ESDK_VECTORS_KMS=1 does what --kms does.
    let stdout = run_binary(
        server,
        tmp,
        &["decrypt", "--manifest", out, "--no-streaming"],
        true,
        true,
    );
    assert_eq!(
        summary(&stdout),
        format!("{total} passed, 0 failed, 0 skipped")
    );

    // Without either, KMS is off: skipped, saying why.
    let stdout = run_binary(server, tmp, &["decrypt", "--manifest", out], false, true);
    let raw = SUITES.len();
    assert_eq!(
        summary(&stdout),
        format!("{raw} passed, 0 failed, {} skipped", total - raw)
    );
    let skips: Vec<&str> = stdout.lines().filter(|l| l.starts_with("SKIP ")).collect();
    assert_eq!(skips.len(), total - raw);
    assert!(skips.iter().all(|l| l.ends_with(KMS_OFF)), "{stdout}");

    // The encrypt mode too: the binary generates vectors, the library decrypts them.
    let again = tmp.join("vectors-from-binary");
    let manifest = tmp.join("encrypt-manifest.json");
    let stdout = run_binary(
        server,
        tmp,
        &[
            "encrypt",
            "--manifest",
            manifest.to_str().unwrap(),
            "--output",
            again.to_str().unwrap(),
            "--kms",
        ],
        false,
        true,
    );
    assert_eq!(
        summary(&stdout),
        format!("{total} passed, 0 failed, 0 skipped")
    );
    let decrypted = run_manifest(
        &again,
        &RunOptions {
            jobs: 2,
            streaming: false,
            kms: supplier(server, &log),
            ..RunOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let text = show("binary-made vectors", &decrypted);
    assert_eq!(
        decrypted.summary(),
        format!("{total} passed, 0 failed, 0 skipped"),
        "{text}"
    );

    // A failing vector makes the binary exit with status 1.
    let negative = generated.out.join("one-failure.json");
    write_json(
        &negative,
        &json!({
            "manifest": {"type": "awses-decrypt", "version": 5},
            "keys": "file://keys.json",
            "tests": {"expect-plaintext-key-not-in-message": {"decryption-scenario": {
                "type": "positive-esdk",
                "ciphertext": "file://ciphertexts/0478-one-key-aws-kms",
                "result": "file://plaintexts/small",
                "decryptKeyDescription": kms("kms-b"),
                "reproduced-encryption-context": {"purpose": "kms-vectors", "tenant": "acme"},
            }}}
        }),
    );
    let stdout = run_binary(
        server,
        tmp,
        &["decrypt", "--manifest", negative.to_str().unwrap(), "--kms"],
        false,
        false,
    );
    assert_eq!(summary(&stdout), "0 passed, 1 failed, 0 skipped");
}

/// Multi-Region keys, on moto with the harness's MRK blob fix (stock moto cannot decrypt what a
/// multi-Region key wrapped): a key in the server's Region and its replica in another Region.
/// Encrypted under one, each vector decrypts with `aws-kms-mrk-aware` naming the other, and
/// with `aws-kms-mrk-aware-discovery` in either Region (which sends the call to its own
/// Region); a strict `aws-kms` naming the other Region's replica must fail.
#[test]
fn multi_region_keys_decrypt_with_their_replicas() {
    if let Some(reason) = kms_server::skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let server = KmsServer::shared_mrk_fixed();
    let home = server.region().to_owned();
    let other = "us-east-1";
    let setup = tokio::runtime::Runtime::new().unwrap();
    let (mrk_home, mrk_other) = setup.block_on(async {
        let admin = server.client();
        let mrk = kms_server::create_mrk(&admin).await;
        let replica = kms_server::replicate_key(&admin, &mrk, other).await;
        (mrk, replica)
    });
    drop(setup);
    assert!(mrk_home.contains(":key/mrk-"), "{mrk_home}");
    assert!(mrk_other.contains(&format!(":{other}:")), "{mrk_other}");

    let tmp = TempDir::new("mrk");
    let entry =
        |arn: &str| json!({"type": "aws-kms", "key-id": arn, "encrypt": true, "decrypt": true});
    write_json(
        &tmp.0.join("keys.json"),
        &json!({
            "manifest": {"type": "keys", "version": 3},
            "keys": {"mrk-home": entry(&mrk_home), "mrk-other": entry(&mrk_other)}
        }),
    );
    let context = json!({"purpose": "kms-vectors"});
    let mut tests = serde_json::Map::new();
    for suite in ["0578", "0478"] {
        for (from, to) in [("mrk-home", "mrk-other"), ("mrk-other", "mrk-home")] {
            let decrypts = [
                ("mrk-aware-same", mrk_aware(from)),
                ("mrk-aware-replica", mrk_aware(to)),
                ("discovery-home", discovery(&home, Some(&[ACCOUNT]))),
                ("discovery-other", discovery(other, None)),
            ];
            for (name, decrypt) in decrypts {
                tests.insert(
                    format!("{suite}-{from}-{name}"),
                    json!({"encryption-scenario": {
                        "type": "positive-esdk",
                        "plaintext": "small",
                        "algorithmSuiteId": suite,
                        "frame-size": 512,
                        "encryptKeyDescription": mrk_aware(from),
                        "decryptKeyDescription": decrypt,
                        "encryption-context": context,
                    }}),
                );
            }
        }
    }
    write_json(
        &tmp.0.join("encrypt-manifest.json"),
        &json!({
            "manifest": {"type": "awses-encrypt", "version": 5},
            "keys": "file://keys.json",
            "plaintexts": {"small": 1000},
            "tests": tests,
        }),
    );
    let log = KmsCallLog::new();
    let out = tmp.0.join("vectors");
    let encrypted = run_encrypt_manifest(
        &tmp.0.join("encrypt-manifest.json"),
        &out,
        &EncryptOptions {
            jobs: 2,
            kms: supplier(server, &log),
            ..EncryptOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("encrypt: {e}"))
    .report;
    let text = show("MRK encrypt", &encrypted);
    assert_eq!(
        encrypted.summary(),
        "16 passed, 0 failed, 0 skipped",
        "{text}"
    );

    // Strict aws-kms naming the replica does not match: an expected failure.
    let manifest_path = out.join("manifest.json");
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    let strict = json!({"decryption-scenario": {
        "type": "negative-esdk",
        "ciphertext": "file://ciphertexts/0478-mrk-home-mrk-aware-same",
        "errorDescription": "a strict keyring does not match a replica",
        "decryptKeyDescription": kms("mrk-other"),
    }});
    manifest["tests"]["expect-error-strict-replica"] = strict;
    write_json(&manifest_path, &manifest);

    log.clear();
    let decrypted = run_manifest(
        &out,
        &RunOptions {
            jobs: 2,
            streaming: false,
            kms: supplier(server, &log),
            ..RunOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("decrypt: {e}"));
    let text = show("MRK decrypt", &decrypted);
    assert_eq!(
        decrypted.summary(),
        "17 passed, 0 failed, 0 skipped",
        "{text}"
    );
    // Each vector but the strict one makes one Decrypt call, naming the replica of the Region
    // it is sent to: the key the mrk-aware description names, or the discovery Region's.
    // Per suite and direction, two of the four go to each Region.
    let requests = log.requests();
    let home_calls = requests
        .iter()
        .filter(|r| **r == format!("Decrypt {mrk_home}"))
        .count();
    let other_calls = requests
        .iter()
        .filter(|r| **r == format!("Decrypt {mrk_other}"))
        .count();
    assert_eq!(
        (home_calls, other_calls, requests.len()),
        (8, 8, 16),
        "{requests:?}"
    );
}
