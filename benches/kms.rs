#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! 1 KiB messages through an AWS KMS keyring against a local KMS-compatible server (moto on
//! 127.0.0.1, started by the bench as the tests start it), beside a raw AES keyring.
//!
//! ```sh
//! cargo bench --bench kms
//! ```
//! Groups: `kms/{encrypt,decrypt}/{aws-kms,raw-aes}/0478/1KiB`, async on a multi-thread tokio
//! runtime. Each KMS message is one GenerateDataKey (encrypt) or Decrypt (decrypt) round trip
//! over HTTP to moto (a Python server), so the KMS figures measure mostly the server; they show
//! what one KMS call per message costs next to local wrapping, which is what a data-key cache
//! (the caching materials manager) removes.

#[path = "../tests/support/kms_server.rs"]
mod kms_server;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use esdk::kms::{AwsKmsKeyring, KmsClientSupplier};
use esdk::{suite, Client, EncryptionContext, Keyring, RawAesKeyring};

fn bench(c: &mut Criterion) {
    if let Some(reason) = kms_server::skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let server = kms_server::KmsServer::shared();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let key = rt.block_on(kms_server::create_key(&server.client()));
    let kms = AwsKmsKeyring::builder(&key)
        .client_supplier(KmsClientSupplier::from_config(server.config()))
        .build()
        .unwrap();
    let aes = RawAesKeyring::new("esdk-bench", "aes-256-key", &[0x5a; 32]).unwrap();
    let client = Client::builder()
        .suite(suite::AlgorithmSuite::from_id(0x0478).unwrap())
        .build()
        .unwrap();
    let context = EncryptionContext::from([("purpose", "benchmark")]);
    let plaintext = vec![0x42u8; 1024];

    let mut group = c.benchmark_group("kms");
    group.throughput(Throughput::Bytes(plaintext.len() as u64));
    group.measurement_time(Duration::from_secs(5));
    let keyrings: [(&str, &dyn Keyring); 2] = [("aws-kms", &kms), ("raw-aes", &aes)];
    for (name, keyring) in keyrings {
        group.bench_function(format!("encrypt/{name}/0478/1KiB"), |b| {
            b.iter(|| {
                rt.block_on(client.encrypt(keyring, black_box(&plaintext), &context))
                    .unwrap()
            })
        });
        let message = rt
            .block_on(client.encrypt(keyring, &plaintext, &context))
            .unwrap();
        group.bench_function(format!("decrypt/{name}/0478/1KiB"), |b| {
            b.iter(|| {
                rt.block_on(client.decrypt(keyring, black_box(&message)))
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
