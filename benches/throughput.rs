#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Throughput and latency of esdk, with raw AES-256-GCM and SHA-384 over the same bytes as the
//! physical reference, in the same run.
//!
//! ```sh
//! cargo bench --bench throughput -- compare      # the peers' workload (shared/bench), see README
//! cargo bench --bench throughput -- 'matrix/'    # sizes x suites x frame lengths x threads x modes
//! cargo bench --bench throughput -- raw          # raw AES-256-GCM and SHA-384
//! cargo bench --bench throughput -- 'reuse/|compare/'  # reused buffers next to fresh ones
//! ```
//! Groups:
//! - `compare/{encrypt,decrypt}/{0478,0578}/{1KiB,1MiB,64MiB}`: one-shot, raw AES keyring,
//!   context `{"purpose": "benchmark"}`, 4096-byte frames, default threads: the workload of
//!   `../shared/bench` (criterion2tsv.py reads these ids).
//! - `reuse/{encrypt,decrypt}/{0478,0578}/{1KiB,1MiB,64MiB}`: the same with `encrypt_into` and
//!   `decrypt_into` and buffers reused across calls (a service's steady state).
//! - `matrix/{encrypt,decrypt}/{suite}/{oneshot,stream}-f{frame}-t{threads}/{size}`.
//! - `raw/aes-256-gcm/{encrypt,decrypt}-f{frame}/{size}` (aws-lc-rs, one core) and
//!   `raw/sha-384/{size}`.

use std::hint::black_box;
use std::io::{Read, Write};
use std::time::Duration;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use esdk::stream::io::{DecryptingReader, EncryptingWriter};
use esdk::suite::AlgorithmSuite;
use esdk::{suite, Client, CommitmentPolicy, EncryptionContext, RawAesKeyring};

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;

fn size_name(n: usize) -> String {
    if n >= MIB {
        format!("{}MiB", n / MIB)
    } else {
        format!("{}KiB", n / KIB)
    }
}

fn keyring() -> RawAesKeyring {
    RawAesKeyring::new("esdk-bench", "aes-256-key", &[0x5a; 32])
        .unwrap_or_else(|e| panic!("keyring: {e}"))
}

fn context() -> EncryptionContext {
    EncryptionContext::from([("purpose".to_owned(), "benchmark".to_owned())])
}

fn client(suite: &'static AlgorithmSuite, frame: u32, threads: Option<usize>) -> Client {
    let policy = if suite.is_committing() {
        CommitmentPolicy::RequireEncryptRequireDecrypt
    } else {
        CommitmentPolicy::ForbidEncryptAllowDecrypt
    };
    let mut b = Client::builder().commitment_policy(policy).suite(suite);
    b = b.frame_length(frame);
    if let Some(t) = threads {
        b = b.threads(t);
    }
    b.build().unwrap()
}

fn tune(c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, size: usize) {
    if size >= 64 * MIB {
        c.sample_size(10)
            .measurement_time(Duration::from_secs(8))
            .warm_up_time(Duration::from_secs(1));
    } else {
        c.sample_size(20)
            .measurement_time(Duration::from_secs(3))
            .warm_up_time(Duration::from_millis(500));
    }
}

fn compare(c: &mut Criterion) {
    let keyring = keyring();
    let ctx = context();
    for op in ["encrypt", "decrypt"] {
        let mut g = c.benchmark_group(format!("compare/{op}"));
        for s in [
            &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
            &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
        ] {
            let client = client(s, 4096, None);
            for size in [KIB, MIB, 64 * MIB] {
                tune(&mut g, size);
                g.throughput(Throughput::Bytes(size as u64));
                let plaintext = vec![0x42u8; size];
                let id = BenchmarkId::new(format!("{:04x}", s.id), size_name(size));
                if op == "encrypt" {
                    g.bench_with_input(id, &plaintext, |b, p| {
                        b.iter(|| {
                            esdk::blocking::encrypt(&client, &keyring, black_box(p), &ctx)
                                .unwrap_or_default()
                        })
                    });
                } else {
                    let message = esdk::blocking::encrypt(&client, &keyring, &plaintext, &ctx)
                        .unwrap_or_default();
                    g.bench_with_input(id, &message, |b, m| {
                        b.iter(|| {
                            esdk::blocking::decrypt(&client, &keyring, black_box(m))
                                .map(|d| d.plaintext.len())
                                .unwrap_or(0)
                        })
                    });
                }
            }
        }
        g.finish();
    }
}

/// The steady state of a service that reuses its buffers: `encrypt_into` and `decrypt_into`
/// write into buffers kept across calls, so no page is faulted in after the first call.
/// Compare with `compare/` (a fresh output buffer per call).
fn reuse(c: &mut Criterion) {
    let keyring = keyring();
    let options = esdk::EncryptOptions::from(context());
    let decrypt_options = esdk::DecryptOptions::new();
    for op in ["encrypt", "decrypt"] {
        let mut g = c.benchmark_group(format!("reuse/{op}"));
        for s in [
            &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
            &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
        ] {
            let client = client(s, 4096, None);
            for size in [KIB, MIB, 64 * MIB] {
                tune(&mut g, size);
                g.throughput(Throughput::Bytes(size as u64));
                let plaintext = vec![0x42u8; size];
                let id = BenchmarkId::new(format!("{:04x}", s.id), size_name(size));
                let mut out = Vec::new();
                if op == "encrypt" {
                    g.bench_with_input(id, &plaintext, |b, p| {
                        b.iter(|| {
                            esdk::blocking::encrypt_into(
                                &client,
                                &keyring,
                                black_box(p),
                                &options,
                                &mut out,
                            )
                            .map(|()| out.len())
                            .unwrap_or(0)
                        })
                    });
                } else {
                    let message =
                        esdk::blocking::encrypt_with(&client, &keyring, &plaintext, &options)
                            .unwrap_or_default();
                    g.bench_with_input(id, &message, |b, m| {
                        b.iter(|| {
                            esdk::blocking::decrypt_into(
                                &client,
                                &keyring,
                                black_box(m),
                                &decrypt_options,
                                &mut out,
                            )
                            .map(|_| out.len())
                            .unwrap_or(0)
                        })
                    });
                }
            }
        }
        g.finish();
    }
}

fn matrix(c: &mut Criterion) {
    let keyring = keyring();
    let ctx = context();
    let suites = [
        &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
        &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
        &suite::AES_256_GCM_IV12_TAG16_HKDF_SHA256,
    ];
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    for op in ["encrypt", "decrypt"] {
        for s in suites {
            let mut g = c.benchmark_group(format!("matrix/{op}/{:04x}", s.id));
            for frame in [4096u32, 65536] {
                for t in [1, threads] {
                    let client = client(s, frame, Some(t));
                    for size in [KIB, 64 * KIB, MIB, 64 * MIB] {
                        tune(&mut g, size);
                        g.throughput(Throughput::Bytes(size as u64));
                        let plaintext = vec![0x42u8; size];
                        let message = esdk::blocking::encrypt(&client, &keyring, &plaintext, &ctx)
                            .unwrap_or_default();
                        for mode in ["oneshot", "stream"] {
                            let id =
                                BenchmarkId::new(format!("{mode}-f{frame}-t{t}"), size_name(size));
                            match (op, mode) {
                                ("encrypt", "oneshot") => g.bench_function(id, |b| {
                                    b.iter(|| {
                                        esdk::blocking::encrypt(
                                            &client,
                                            &keyring,
                                            black_box(&plaintext),
                                            &ctx,
                                        )
                                        .unwrap_or_default()
                                    })
                                }),
                                ("encrypt", _) => g.bench_function(id, |b| {
                                    b.iter(|| {
                                        let mut w = EncryptingWriter::new(
                                            &client,
                                            &keyring,
                                            &esdk::EncryptOptions::from(ctx.clone()),
                                            std::io::sink(),
                                        )
                                        .unwrap_or_else(|e| panic!("{e}"));
                                        for chunk in plaintext.chunks(64 * KIB) {
                                            w.write_all(chunk).unwrap_or_else(|e| panic!("{e}"));
                                        }
                                        w.finish().unwrap_or_else(|e| panic!("{e}"))
                                    })
                                }),
                                ("decrypt", "oneshot") => g.bench_function(id, |b| {
                                    b.iter(|| {
                                        esdk::blocking::decrypt(
                                            &client,
                                            &keyring,
                                            black_box(&message),
                                        )
                                        .map(|d| d.plaintext.len())
                                        .unwrap_or(0)
                                    })
                                }),
                                _ => g.bench_function(id, |b| {
                                    let mut buf = vec![0u8; 64 * KIB];
                                    b.iter(|| {
                                        let mut r = DecryptingReader::new(
                                            &client,
                                            &keyring,
                                            &esdk::DecryptOptions::new(),
                                            message.as_slice(),
                                        )
                                        .unwrap_or_else(|e| panic!("{e}"));
                                        let mut total = 0;
                                        loop {
                                            match r.read(&mut buf) {
                                                Ok(0) => break total,
                                                Ok(n) => total += n,
                                                Err(e) => panic!("{e}"),
                                            }
                                        }
                                    })
                                }),
                            };
                        }
                    }
                }
            }
            g.finish();
        }
    }
}

fn raw(c: &mut Criterion) {
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, &[7u8; 32]).unwrap_or_else(|e| panic!("{e}")),
    );
    let mut g = c.benchmark_group("raw/aes-256-gcm");
    for frame in [4096usize, 65536] {
        for size in [KIB, 64 * KIB, MIB, 64 * MIB] {
            tune(&mut g, size);
            g.throughput(Throughput::Bytes(size as u64));
            let mut buf = vec![0x42u8; size];
            let mut tags = Vec::new();
            g.bench_function(
                BenchmarkId::new(format!("encrypt-f{frame}"), size_name(size)),
                |b| {
                    b.iter(|| {
                        tags.clear();
                        for (i, chunk) in buf.chunks_mut(frame).enumerate() {
                            let mut iv = [0u8; 12];
                            iv[8..].copy_from_slice(&(i as u32).to_be_bytes());
                            let nonce = Nonce::assume_unique_for_key(iv);
                            tags.push(
                                key.seal_in_place_separate_tag(nonce, Aad::from(&[0u8; 79]), chunk)
                                    .map(|t| t.as_ref()[0])
                                    .unwrap_or(0),
                            );
                        }
                    })
                },
            );
            // Decrypt: verify and decrypt each chunk (the same work as opening a frame).
            let plain = vec![0x42u8; size];
            let mut sealed = plain.clone();
            let tags: Vec<_> = sealed
                .chunks_mut(frame)
                .enumerate()
                .map(|(i, chunk)| {
                    let mut iv = [0u8; 12];
                    iv[8..].copy_from_slice(&(i as u32).to_be_bytes());
                    key.seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(iv),
                        Aad::from(&[0u8; 79]),
                        chunk,
                    )
                    .unwrap_or_else(|e| panic!("{e}"))
                })
                .collect();
            // The fresh ciphertext copy is made outside the clock (criterion's batched setup).
            g.bench_function(
                BenchmarkId::new(format!("decrypt-f{frame}"), size_name(size)),
                |b| {
                    b.iter_batched_ref(
                        || sealed.clone(),
                        |work| {
                            for (i, (chunk, tag)) in work.chunks_mut(frame).zip(&tags).enumerate() {
                                let mut iv = [0u8; 12];
                                iv[8..].copy_from_slice(&(i as u32).to_be_bytes());
                                let nonce = Nonce::assume_unique_for_key(iv);
                                key.open_in_place_separate_tag(
                                    nonce,
                                    Aad::from(&[0u8; 79]),
                                    tag.as_ref(),
                                    chunk,
                                )
                                .unwrap_or_else(|e| panic!("{e}"));
                            }
                        },
                        criterion::BatchSize::LargeInput,
                    )
                },
            );
        }
    }
    g.finish();
    let mut g = c.benchmark_group("raw/sha-384");
    for size in [MIB, 64 * MIB] {
        tune(&mut g, size);
        g.throughput(Throughput::Bytes(size as u64));
        let data = vec![0x42u8; size];
        g.bench_function(BenchmarkId::from_parameter(size_name(size)), |b| {
            b.iter(|| aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA384, black_box(&data)))
        });
    }
    g.finish();
}

criterion_group!(benches, compare, reuse, matrix, raw);
criterion_main!(benches);
