#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! What hostile message shapes cost per input byte, next to a normal message of the same size.
//! Decrypt must stay linear in its input whatever the shape.
//!
//! ```sh
//! cargo bench --bench hostile
//! ```
//! Groups (throughput = input bytes):
//! - `hostile/tiny-frames-trailing/{one-shot,stream}`: 20,000 one-byte frames (suite 0x0478)
//!   followed by 34 MiB of zeros, on two threads; decrypt fails at the first trailing byte.
//!   `hostile/normal/{one-shot,stream}`: a valid 34 MiB message with 4096-byte frames.
//! - `hostile/many-edks/{one-shot,stream}`: a header with 10,000 encrypted data keys, none
//!   for the decrypting keyring.
//! - `hostile/header-bytewise`: the same header fed to the sans-I/O decryptor one byte at a time.

use std::hint::black_box;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use esdk::blocking::block_on;
use esdk::stream::io::DecryptingReader;
use esdk::stream::Decryptor;
use esdk::{suite, Client, EncryptionContext, Keyring, MultiKeyring, RawAesKeyring};

const MIB: usize = 1 << 20;

fn keyring(name: &str) -> RawAesKeyring {
    RawAesKeyring::new("esdk-bench", name, &[0x5a; 32]).unwrap_or_else(|e| panic!("keyring: {e}"))
}

fn client(frame: u32) -> Client {
    Client::builder()
        .suite(&suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY)
        .frame_length(frame)
        .threads(2)
        .build()
        .unwrap()
}

fn encrypt(client: &Client, keyring: &dyn Keyring, plaintext: &[u8]) -> Vec<u8> {
    block_on(client.encrypt(keyring, plaintext, &EncryptionContext::new()))
        .unwrap_or_else(|e| panic!("encrypt: {e}"))
}

/// Decrypts one-shot and returns whether it failed (hostile inputs must).
fn one_shot(client: &Client, keyring: &dyn Keyring, message: &[u8]) -> bool {
    block_on(client.decrypt(keyring, message)).is_err()
}

/// Decrypts through `DecryptingReader` and returns whether it failed.
fn stream(client: &Client, keyring: &dyn Keyring, message: &[u8]) -> bool {
    let mut sink = vec![0u8; 64 * 1024];
    let Ok(mut r) = DecryptingReader::new(client, keyring, &esdk::DecryptOptions::new(), message)
    else {
        return true;
    };
    loop {
        match r.read(&mut sink) {
            Ok(0) => return false,
            Ok(_) => {}
            Err(_) => return true,
        }
    }
}

fn hostile(c: &mut Criterion) {
    let key = keyring("key");
    let mut g = c.benchmark_group("hostile");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_millis(500));

    // Tiny frames and trailing bytes, against a normal message of the same size.
    let mut tiny = encrypt(&client(1), &key, &vec![7u8; 20_000]);
    tiny.resize(tiny.len() + 34 * MIB, 0);
    let normal = encrypt(&client(4096), &key, &vec![7u8; tiny.len() - 4096]);
    for (name, message, client, fails) in [
        ("tiny-frames-trailing", &tiny, client(1), true),
        ("normal", &normal, client(4096), false),
    ] {
        g.throughput(Throughput::Bytes(message.len() as u64));
        g.bench_function(BenchmarkId::new(name, "one-shot"), |b| {
            b.iter(|| assert_eq!(one_shot(&client, &key, black_box(message)), fails))
        });
        g.bench_function(BenchmarkId::new(name, "stream"), |b| {
            b.iter(|| assert_eq!(stream(&client, &key, black_box(message)), fails))
        });
    }

    // Many encrypted data keys, none for the decrypting keyring.
    let children: Vec<Arc<dyn Keyring>> = (0..9_999)
        .map(|i| Arc::new(keyring(&format!("k{i}"))) as Arc<dyn Keyring>)
        .collect();
    let multi = MultiKeyring::new(Some(Arc::new(keyring("generator"))), children)
        .unwrap_or_else(|e| panic!("{e}"));
    let many = encrypt(&client(4096), &multi, b"small");
    let other = keyring("not-there");
    let c4096 = client(4096);
    g.throughput(Throughput::Bytes(many.len() as u64));
    g.bench_function(BenchmarkId::new("many-edks", "one-shot"), |b| {
        b.iter(|| assert!(one_shot(&c4096, &other, black_box(&many))))
    });
    g.bench_function(BenchmarkId::new("many-edks", "stream"), |b| {
        b.iter(|| assert!(stream(&c4096, &other, black_box(&many))))
    });
    let header_len = esdk::parse_header(&many)
        .unwrap_or_else(|e| panic!("{e}"))
        .len();
    g.throughput(Throughput::Bytes(header_len as u64));
    g.bench_function("header-bytewise", |b| {
        b.iter(|| {
            let mut d = Decryptor::new(&c4096);
            let mut out = Vec::new();
            for byte in many[..header_len].chunks(1) {
                d.push(byte, &mut out).unwrap_or_else(|e| panic!("{e}"));
            }
            assert!(d.needs_authentication());
        })
    });
    g.finish();
}

criterion_group!(benches, hostile);
criterion_main!(benches);
