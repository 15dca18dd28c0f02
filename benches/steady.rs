#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The steady state of a loop that encrypts or decrypts one message after another: time per
//! message and page faults per message (the process's minor faults from `/proc/self/stat`, so
//! every thread's), after a warm-up.
//!
//! ```sh
//! cargo bench --bench steady                       # 1 KiB messages, both suites, both APIs
//! cargo bench --bench steady -- 0478 decrypt into  # only the rows whose name holds every word
//! ESDK_STEADY_N=200000 cargo bench --bench steady -- 0478 1KiB  # for perf record / perf stat
//! ```
//!
//! Rows: `{encrypt,decrypt}/{suite}/{size}/{fresh,into}`: `fresh` is `blocking::encrypt` /
//! `blocking::decrypt` (a new output per call), `into` is `encrypt_into` / `decrypt_into` with
//! one output buffer reused across calls. Raw AES keyring, context `{"purpose": "benchmark"}`,
//! 4096-byte frames, default threads: the workload of `../shared/bench`.

use std::hint::black_box;
use std::time::Instant;

use esdk::suite::AlgorithmSuite;
use esdk::{suite, Client, CommitmentPolicy, EncryptionContext, RawAesKeyring};

fn minor_faults() -> u64 {
    // Field 10 of /proc/self/stat (after the parenthesised command name, which may hold spaces).
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            rest.split_whitespace().nth(7)?.parse().ok()
        })
        .unwrap_or(0)
}

fn client(suite: &'static AlgorithmSuite) -> Client {
    let policy = if suite.is_committing() {
        CommitmentPolicy::RequireEncryptRequireDecrypt
    } else {
        CommitmentPolicy::ForbidEncryptAllowDecrypt
    };
    Client::builder()
        .commitment_policy(policy)
        .suite(suite)
        .frame_length(4096)
        .build()
        .unwrap()
}

fn main() {
    let words: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n_override: Option<u64> = std::env::var("ESDK_STEADY_N")
        .ok()
        .and_then(|v| v.parse().ok());
    let keyring = RawAesKeyring::new("esdk-bench", "aes-256-key", &[0x5a; 32]).unwrap();
    let options = esdk::EncryptOptions::from(EncryptionContext::from([(
        "purpose".to_owned(),
        "benchmark".to_owned(),
    )]));
    let decrypt_options = esdk::DecryptOptions::new();
    println!(
        "{:<28} {:>10} {:>14} {:>12}",
        "row", "messages", "time/message", "faults/msg"
    );
    for s in [
        &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
        &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
    ] {
        let client = client(s);
        for (size, size_name) in [(1024usize, "1KiB"), (64 << 20, "64MiB")] {
            let row_selected = |name: &str| {
                if words.is_empty() {
                    size == 1024
                } else {
                    words.iter().all(|w| name.contains(w.as_str()))
                }
            };
            // No set-up for a suite and size no row wants (it would show in a profile).
            if !["encrypt", "decrypt"].iter().any(|op| {
                ["fresh", "into"]
                    .iter()
                    .any(|api| row_selected(&format!("{op}/{:04x}/{size_name}/{api}", s.id)))
            }) {
                continue;
            }
            let plaintext = vec![0x42u8; size];
            let message =
                esdk::blocking::encrypt_with(&client, &keyring, &plaintext, &options).unwrap();
            for op in ["encrypt", "decrypt"] {
                for api in ["fresh", "into"] {
                    let name = format!("{op}/{:04x}/{size_name}/{api}", s.id);
                    if !row_selected(&name) {
                        continue;
                    }
                    let per_call = match (size, s.is_signing()) {
                        (1024, false) => 20_000,
                        (1024, true) => 1_000,
                        _ => 10,
                    };
                    let n = n_override.unwrap_or(per_call);
                    let mut out = Vec::new();
                    let one = |out: &mut Vec<u8>| -> usize {
                        match (op, api) {
                            ("encrypt", "fresh") => esdk::blocking::encrypt_with(
                                &client,
                                &keyring,
                                black_box(&plaintext),
                                &options,
                            )
                            .unwrap()
                            .len(),
                            ("encrypt", _) => {
                                esdk::blocking::encrypt_into(
                                    &client,
                                    &keyring,
                                    black_box(&plaintext),
                                    &options,
                                    out,
                                )
                                .unwrap();
                                out.len()
                            }
                            (_, "fresh") => {
                                esdk::blocking::decrypt(&client, &keyring, black_box(&message))
                                    .unwrap()
                                    .plaintext
                                    .len()
                            }
                            _ => {
                                esdk::blocking::decrypt_into(
                                    &client,
                                    &keyring,
                                    black_box(&message),
                                    &decrypt_options,
                                    out,
                                )
                                .unwrap();
                                out.len()
                            }
                        }
                    };
                    // Warm-up: buffers grown, threads and allocator caches settled.
                    for _ in 0..(n / 10).max(3) {
                        black_box(one(&mut out));
                    }
                    let faults = minor_faults();
                    let start = Instant::now();
                    for _ in 0..n {
                        black_box(one(&mut out));
                    }
                    let elapsed = start.elapsed();
                    let faults = minor_faults().saturating_sub(faults);
                    let per = elapsed / u32::try_from(n).unwrap_or(u32::MAX);
                    println!(
                        "{name:<28} {n:>10} {:>14} {:>12.4}",
                        format!("{per:.2?}"),
                        faults as f64 / n as f64
                    );
                }
            }
        }
    }
}
