//! Known-answer vectors that give the plaintext data key (`shared/test-vectors/known-answer`):
//! the message-format-v2 commitment vectors and the Python decrypt-oracle vectors.
//!
//! Each data key is injected through a test keyring
//! ([`esdk_test_vectors::known_answer::StaticDataKeyKeyring`]) that ignores the encrypted data
//! keys. Folder lookup and skipping work as in `vectors.rs`.

#![allow(clippy::panic)]

use std::path::PathBuf;

use esdk_test_vectors::known_answer::{
    run_commitment_vectors, run_decrypt_oracle_vectors, StaticDataKeyKeyring,
};
use esdk_test_vectors::{Outcome, Report};

fn known_answer_dir() -> Option<PathBuf> {
    esdk_test_vectors::locate::shared_vectors_or_skip()
        .map(|dir| dir.join("known-answer/python-esdk"))
}

fn print_report(title: &str, report: &Report) {
    let mut text = format!("== {title} ({})\n", report.name);
    for r in &report.results {
        match &r.outcome {
            Outcome::Pass => {}
            Outcome::Fail(reason) => text.push_str(&format!("FAIL {}: {reason}\n", r.id)),
            Outcome::Skip(reason) => text.push_str(&format!("SKIP {}: {reason}\n", r.id)),
        }
    }
    text.push_str(&format!("{title}: {}\n", report.summary()));
    print!("{text}");
}

#[test]
fn commitment_known_answers() {
    let Some(dir) = known_answer_dir() else {
        return;
    };
    let (report, counts) =
        match run_commitment_vectors(&dir.join("commitment-test-vectors.json"), 2) {
            Ok(r) => r,
            Err(e) => panic!("commitment vectors: {e}"),
        };
    print_report("commitment KAT", &report);
    println!(
        "commitment KAT: {} positive, {} negative (commitment mismatch) ran",
        counts.positive, counts.negative
    );
    assert_eq!(report.failed(), 0, "{}", report.summary());
    assert_eq!(counts.positive, 41);
    assert_eq!(counts.negative, 5);
    assert_eq!(report.passed(), 46);
}

#[test]
fn decrypt_oracle_known_answers() {
    let Some(dir) = known_answer_dir() else {
        return;
    };
    let report = match run_decrypt_oracle_vectors(&dir.join("decrypt_vectors.json"), 2) {
        Ok(r) => r,
        Err(e) => panic!("decrypt-oracle vectors: {e}"),
    };
    print_report("decrypt-oracle", &report);
    assert_eq!(report.failed(), 0, "{}", report.summary());
    assert_eq!(report.passed(), 18, "{}", report.summary());
    assert_eq!(report.skipped(), 9, "{}", report.summary());
}

#[test]
fn static_keyring_cannot_encrypt() {
    let keyring = StaticDataKeyKeyring::new(vec![0u8; 32]);
    let result = esdk::blocking::encrypt(
        &esdk::Client::default(),
        &keyring,
        b"x",
        &Default::default(),
    );
    assert!(matches!(result, Err(esdk::Error::Keyring(_))), "{result:?}");
}
