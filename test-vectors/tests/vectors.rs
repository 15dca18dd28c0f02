//! Runs every public test-vector set in `shared/test-vectors` and checks the pass counts the
//! README of that folder gives.
//!
//! The folder is `CARGO_MANIFEST_DIR/../../shared/test-vectors`, or `$ESDK_TEST_VECTORS`.
//! When it is missing the tests print that they skipped, unless `ESDK_REQUIRE_VECTORS=1`: then
//! they fail (see [`esdk_test_vectors::locate`]). `vendored.rs` runs a subset that is always here.
//! Run with `-- --nocapture` to see every skip reason and the per-set summaries.

#![allow(clippy::panic)]

use std::fmt::Write as _;
use std::path::PathBuf;

use esdk_test_vectors::{run_fixtures, run_manifest, Outcome, Report, RunOptions};

/// The vectors folder, or `None` (after printing why) when the tests should skip.
fn vectors_dir() -> Option<PathBuf> {
    esdk_test_vectors::locate::shared_vectors_or_skip()
}

fn options(strict_net_4_0_0: bool) -> RunOptions {
    RunOptions {
        strict_net_4_0_0,
        jobs: 2,
        ..RunOptions::default()
    }
}

/// Prints a report (all FAIL and SKIP lines, then the summary) in one piece, so the output of
/// tests running in parallel does not interleave.
fn print_report(title: &str, report: &Report) {
    let mut text = format!("== {title} ({})\n", report.name);
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
}

fn check(title: &str, report: &Report, min_passed: usize) {
    print_report(title, report);
    assert_eq!(report.failed(), 0, "{title}: {}", report.summary());
    assert!(
        report.passed() >= min_passed,
        "{title}: expected at least {min_passed} passed, got {}",
        report.summary()
    );
}

fn run_set(title: &str, rel: &str, strict: bool, min_passed: usize) -> Option<Report> {
    let dir = vectors_dir()?;
    let report = match run_manifest(&dir.join(rel), &options(strict)) {
        Ok(r) => r,
        Err(e) => panic!("{title}: {e}"),
    };
    check(title, &report, min_passed);
    Some(report)
}

#[test]
fn legacy_python_1_3_0() {
    run_set(
        "legacy python-1.3.0",
        "awses-legacy/python-1.3.0",
        false,
        900,
    );
}

#[test]
fn python_1_3_5_is_all_kms() {
    if let Some(report) = run_set("python-1.3.5", "awses-decrypt/python-1.3.5.zip", false, 0) {
        assert_eq!(report.results.len(), 360, "{}", report.summary());
        for r in &report.results {
            assert!(
                matches!(&r.outcome, Outcome::Skip(reason)
                    if reason.contains("AWS KMS") && reason.ends_with(esdk_test_vectors::keys::KMS_OFF)),
                "{}: {:?}",
                r.id,
                r.outcome
            );
        }
    }
}

#[test]
fn dafny_4_1_0() {
    run_set("dafny-4.1.0", "awses-decrypt/dafny-4.1.0", false, 187);
}

#[test]
fn valid_net_4_0_0() {
    run_set(
        "valid-Net-4.0.0",
        "awses-decrypt/valid-Net-4.0.0.zip",
        false,
        5,
    );
}

#[test]
fn valid_net_4_0_0_strict() {
    // Messages that follow the spec decrypt without the .NET 4.0.0 retry too.
    run_set(
        "valid-Net-4.0.0 strict",
        "awses-decrypt/valid-Net-4.0.0.zip",
        true,
        5,
    );
}

#[test]
fn v4_net_4_0_1() {
    run_set("v4-Net-4.0.1", "awses-decrypt/v4-Net-4.0.1.zip", false, 99);
}

#[test]
fn invalid_net_4_0_0_with_legacy_retry() {
    run_set(
        "invalid-Net-4.0.0",
        "awses-decrypt/invalid-Net-4.0.0.zip",
        false,
        28,
    );
}

#[test]
fn invalid_net_4_0_0_strict_fails_header_authentication() {
    run_set(
        "invalid-Net-4.0.0 strict",
        "awses-decrypt/invalid-Net-4.0.0.zip",
        true,
        28,
    );
}

#[test]
fn nonframed_fixtures() {
    let Some(dir) = vectors_dir() else { return };
    let report = match run_fixtures(&dir.join("nonframed-fixtures"), &options(false)) {
        Ok(r) => r,
        Err(e) => panic!("non-framed fixtures: {e}"),
    };
    check("non-framed fixtures", &report, 2);
}

#[test]
fn every_keys_manifest_parses() {
    let Some(dir) = vectors_dir() else { return };
    for rel in [
        "manifests/framework/0002-keys.v3.json",
        "manifests/aws-encryption-sdk/python-2.3.0_keys.json",
        "awses-decrypt/dafny-4.1.0/keys.json",
    ] {
        let path = dir.join(rel);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let keys = esdk_test_vectors::json::parse(&bytes)
            .and_then(|doc| esdk_test_vectors::keys::Keys::parse(&doc))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        println!("{rel}: {} keys (version {})", keys.len(), keys.version);
        assert!(keys.get("aes-256").is_ok_and(|k| k.can_decrypt()), "{rel}");
        assert!(
            keys.get("rsa-4096-public").is_ok_and(|k| !k.can_decrypt()),
            "{rel}"
        );
    }
}
