//! The vendored subset of the public vectors (`test-vectors/vendored`, see its README.md):
//! messages written by the Python, Dafny-based and .NET AWS Encryption SDKs with raw AES, raw
//! RSA and multi-keyrings, one per algorithm suite at least, plus known-answer vectors from the
//! Python, JavaScript, C and Java SDKs. Always runs: it needs neither `../shared` nor an
//! environment variable. Every vector must give its expected result (the plaintext; for the
//! three commitment-mismatch known answers, that failure), and none may be skipped.

#![allow(clippy::panic)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use esdk_test_vectors::known_answer::{run_commitment_vectors, run_decrypt_oracle_vectors};
use esdk_test_vectors::locate::vendored_dir;
use esdk_test_vectors::{run_fixtures, run_manifest, Outcome, Report, RunOptions};

/// How many vectors each part holds (a part whose files went missing must not pass quietly).
const EXPECTED: &[(&str, usize)] = &[
    ("legacy-python-1.3.0", 9),
    ("dafny-4.1.0", 5),
    ("v4-Net-4.0.1", 3),
    ("nonframed-fixtures", 1),
    ("known-answer/commitment-test-vectors.json", 15),
    ("known-answer/decrypt_vectors.json", 18),
];

fn run_part(dir: &Path, part: &str) -> Report {
    let path = dir.join(part);
    let options = RunOptions {
        jobs: 2,
        ..RunOptions::default()
    };
    let result = match part {
        "nonframed-fixtures" => run_fixtures(&path, &options),
        "known-answer/commitment-test-vectors.json" => {
            run_commitment_vectors(&path, 2).map(|(report, counts)| {
                assert_eq!(
                    (counts.positive, counts.negative),
                    (12, 3),
                    "{part}: positive and negative (commitment mismatch) vectors"
                );
                report
            })
        }
        "known-answer/decrypt_vectors.json" => run_decrypt_oracle_vectors(&path, 2),
        _ => run_manifest(&path, &options),
    };
    result.unwrap_or_else(|e| panic!("{part}: {e}"))
}

#[test]
fn vendored_vectors_decrypt() {
    let dir = vendored_dir();
    let mut all = Report {
        name: dir.display().to_string(),
        results: Vec::new(),
    };
    let mut text = String::new();
    for &(part, expected) in EXPECTED {
        let report = run_part(&dir, part);
        let _ = writeln!(text, "{part}: {}", report.summary());
        assert_eq!(
            report.results.len(),
            expected,
            "{part}: {}",
            report.summary()
        );
        all.extend_prefixed(report, &format!("{part} "));
    }
    for r in &all.results {
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
    let _ = writeln!(text, "vendored: {}", all.summary());
    print!("{text}");
    assert_eq!(all.failed(), 0, "vendored: {}", all.summary());
    assert_eq!(all.skipped(), 0, "vendored: {}", all.summary());
    let total: usize = EXPECTED.iter().map(|(_, n)| n).sum();
    assert_eq!(all.passed(), total, "vendored: {}", all.summary());
}

/// Every vendored data file is listed in SOURCES.tsv (where it came from), and every listed
/// file exists.
#[test]
fn every_vendored_file_has_a_source() {
    let dir = vendored_dir();
    let sources = std::fs::read_to_string(dir.join("SOURCES.tsv"))
        .unwrap_or_else(|e| panic!("SOURCES.tsv: {e}"));
    let listed: BTreeSet<String> = sources
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split('\t').next().map(str::to_owned))
        .collect();
    let mut found = BTreeSet::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(&dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            if !["README.md", "SOURCES.tsv", "regenerate.py"].contains(&rel.as_str()) {
                found.insert(rel);
            }
        }
    }
    assert_eq!(found, listed, "files under vendored/ versus SOURCES.tsv");
}
