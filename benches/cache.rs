#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The caching materials manager in front of an AWS KMS keyring, against a local
//! KMS-compatible server (moto on 127.0.0.1, started by the bench as the tests start it).
//!
//! ```sh
//! cargo bench --bench cache
//! ```
//!
//! - `cache/kms/{encrypt,decrypt}/{nocache,cache}/t{1,2}`: 1 KiB messages (suite 0x0478)
//!   through the KMS keyring alone (one GenerateDataKey or Decrypt per message) or through a
//!   `CachingMaterialsManager` (max age 300 s, default message limit 2^32: every message after
//!   the first is a hit), on 1 or 2 threads calling `esdk::blocking`. Throughput in elements:
//!   messages per second. Decrypt decrypts the same message again and again.
//! - `cache/expiry/{no-refresh,refresh}`: the one call that crosses an entry's expiry, on a
//!   `ManualClock` (max age 10 s): just past the maximum age without a refresh window, or 9 s
//!   into the entry's life with `refresh_before_expiry(2 s)`. Either way that call asks KMS.
//! - `cache/expiry/8-callers/{max,2nd}/{no-refresh,refresh}`: 8 threads call at once at the
//!   crossing; per crossing, the slowest caller's latency (`max`) and the second slowest's
//!   (`2nd`: the worst seen by a caller other than the one that asked KMS). Without refresh
//!   the 7 others wait for the one KMS call (single flight); with refresh they keep using the
//!   old entry.
//!
//! After each function the bench prints to stderr the cache metrics per message or per
//! crossing, to check that each case did what its name says, and for `8-callers` the slowest,
//! second slowest and mean latency per crossing over the same crossings. `ESDK_KMS_TESTS=skip`
//! skips it. Figures: BENCHMARKS.md, "Caching materials manager".

#[path = "../tests/support/kms_server.rs"]
mod kms_server;

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use esdk::cache::{CacheMetrics, CachingMaterialsManager, ManualClock, MaterialsCache};
use esdk::kms::{AwsKmsKeyring, KmsClientSupplier};
use esdk::{suite, Client, DecryptOptions, EncryptOptions, EncryptionContext, KeySource};

/// Runs `op` `iters` times split over `threads` threads; the time from their start to the
/// last one's end (thread creation excluded).
fn on_threads(threads: u64, iters: u64, op: &(dyn Fn() + Sync)) -> Duration {
    let start = Barrier::new(threads as usize + 1);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let n = iters / threads + u64::from(t < iters % threads);
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    for _ in 0..n {
                        op();
                    }
                })
            })
            .collect();
        start.wait();
        let t0 = Instant::now();
        for w in workers {
            w.join().unwrap();
        }
        t0.elapsed()
    })
}

/// `after - before`, per `n` (messages or crossings), for stderr.
fn per(before: &CacheMetrics, after: &CacheMetrics, n: u64) -> String {
    let n = n.max(1) as f64;
    let d = |a: u64, b: u64| (a - b) as f64 / n;
    format!(
        "hits {:.3}, misses {:.3}, waits {:.3}, refreshes {:.3}, evicted by age {:.3}",
        d(after.hits, before.hits),
        d(after.misses, before.misses),
        d(after.in_flight_waits, before.in_flight_waits),
        d(after.refreshes, before.refreshes),
        d(after.evicted_age, before.evicted_age),
    )
}

struct Setup {
    kms: Arc<AwsKmsKeyring>,
    client: Client,
    plaintext: Vec<u8>,
    options: EncryptOptions,
}

fn throughput(c: &mut Criterion, s: &Setup) {
    let cache = MaterialsCache::new(16);
    let cmm = CachingMaterialsManager::builder(cache.clone(), Duration::from_secs(300))
        .keyring(s.kms.clone())
        .build()
        .unwrap();
    let sources = [
        ("nocache", KeySource::Keyring(&*s.kms)),
        ("cache", KeySource::MaterialsManager(&cmm)),
    ];
    let message = esdk::blocking::encrypt_with(&s.client, &*s.kms, &s.plaintext, &s.options)
        .expect("encrypt through the KMS keyring");
    let decrypt_options = DecryptOptions::new();

    let mut group = c.benchmark_group("cache/kms");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    for (name, source) in sources {
        for threads in [1, 2] {
            let messages = AtomicU64::new(0);
            let before = cache.metrics();
            let encrypt = || {
                let m = esdk::blocking::encrypt_with(
                    &s.client,
                    source,
                    black_box(&s.plaintext),
                    &s.options,
                )
                .unwrap();
                black_box(m);
                messages.fetch_add(1, Ordering::Relaxed);
            };
            group.bench_function(format!("encrypt/{name}/t{threads}"), |b| {
                b.iter_custom(|iters| on_threads(threads, iters, &encrypt))
            });
            if name == "cache" {
                let n = messages.load(Ordering::Relaxed);
                eprintln!(
                    "  encrypt/{name}/t{threads}: {n} messages; per message: {}",
                    per(&before, &cache.metrics(), n)
                );
            }

            let messages = AtomicU64::new(0);
            let before = cache.metrics();
            let decrypt = || {
                let d = esdk::blocking::decrypt_with(
                    &s.client,
                    source,
                    black_box(&message),
                    &decrypt_options,
                )
                .unwrap();
                assert_eq!(d.plaintext.len(), 1024);
                messages.fetch_add(1, Ordering::Relaxed);
            };
            group.bench_function(format!("decrypt/{name}/t{threads}"), |b| {
                b.iter_custom(|iters| on_threads(threads, iters, &decrypt))
            });
            if name == "cache" {
                let n = messages.load(Ordering::Relaxed);
                eprintln!(
                    "  decrypt/{name}/t{threads}: {n} messages; per message: {}",
                    per(&before, &cache.metrics(), n)
                );
            }
        }
    }
    group.finish();
}

/// A cache on a manual clock, max age 10 s, with or without a 2 s refresh window.
struct Expiring {
    clock: Arc<ManualClock>,
    cache: MaterialsCache,
    cmm: CachingMaterialsManager,
    /// How far to move the clock after a store so that the next call crosses: past the maximum
    /// age, or into the refresh window.
    step: Duration,
}

impl Expiring {
    fn new(kms: &Arc<AwsKmsKeyring>, refresh: bool) -> Self {
        let clock = Arc::new(ManualClock::new());
        let cache = MaterialsCache::builder(16).clock(clock.clone()).build();
        let mut builder = CachingMaterialsManager::builder(cache.clone(), Duration::from_secs(10))
            .keyring(kms.clone());
        let step = if refresh {
            builder = builder.refresh_before_expiry(Duration::from_secs(2));
            Duration::from_secs(9)
        } else {
            Duration::from_secs(10) + Duration::from_millis(1)
        };
        Self {
            clock,
            cache,
            cmm: builder.build().unwrap(),
            step,
        }
    }

    fn encrypt(&self, s: &Setup) {
        let m = esdk::blocking::encrypt_with(
            &s.client,
            KeySource::MaterialsManager(&self.cmm),
            black_box(&s.plaintext),
            &s.options,
        )
        .unwrap();
        black_box(m);
    }

    /// Warms the entry (a hit, or a miss the first time), then moves the clock so that the
    /// next call crosses. Every crossing stores a fresh entry at the clock's time, so each
    /// step starts from an entry of age zero.
    fn arm(&self, s: &Setup) {
        self.encrypt(s);
        self.clock.advance(self.step);
    }
}

fn expiry(c: &mut Criterion, s: &Setup) {
    let mut group = c.benchmark_group("cache/expiry");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for (name, refresh) in [("no-refresh", false), ("refresh", true)] {
        let e = Expiring::new(&s.kms, refresh);
        let mut crossings = 0u64;
        let before = e.cache.metrics();
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    e.arm(s);
                    let t0 = Instant::now();
                    e.encrypt(s);
                    total += t0.elapsed();
                }
                crossings += iters;
                total
            })
        });
        eprintln!(
            "  expiry/{name}: {crossings} crossings; per crossing (warming hit included): {}",
            per(&before, &e.cache.metrics(), crossings)
        );
    }

    const CALLERS: usize = 8;
    for (stat, rank) in [("max", 0), ("2nd", 1)] {
        for (name, refresh) in [("no-refresh", false), ("refresh", true)] {
            let e = Expiring::new(&s.kms, refresh);
            let mut crossings = 0u64;
            // Over every crossing of this function: the slowest, the second slowest, all 8.
            let mut sums = [Duration::ZERO; 3];
            let before = e.cache.metrics();
            group.bench_function(format!("8-callers/{stat}/{name}"), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        e.arm(s);
                        let start = Barrier::new(CALLERS);
                        let mut latencies: Vec<Duration> = std::thread::scope(|scope| {
                            let callers: Vec<_> = (0..CALLERS)
                                .map(|_| {
                                    let (e, start) = (&e, &start);
                                    scope.spawn(move || {
                                        start.wait();
                                        let t0 = Instant::now();
                                        e.encrypt(s);
                                        t0.elapsed()
                                    })
                                })
                                .collect();
                            callers.into_iter().map(|c| c.join().unwrap()).collect()
                        });
                        latencies.sort_unstable_by(|a, b| b.cmp(a));
                        total += latencies[rank];
                        sums[0] += latencies[0];
                        sums[1] += latencies[1];
                        sums[2] += latencies.iter().sum::<Duration>();
                    }
                    crossings += iters;
                    total
                })
            });
            let n = crossings.max(1) as u32;
            eprintln!(
                "  expiry/8-callers/{stat}/{name}: {crossings} crossings; mean per crossing: \
                 slowest {:?}, second slowest {:?}, mean caller {:?}; cache per crossing \
                 (warming hit included): {}",
                sums[0] / n,
                sums[1] / n,
                sums[2] / (n * CALLERS as u32),
                per(&before, &e.cache.metrics(), crossings)
            );
        }
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    if let Some(reason) = kms_server::skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let server = kms_server::KmsServer::shared();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let key = rt.block_on(kms_server::create_key(&server.client()));
    let kms = AwsKmsKeyring::builder(&key)
        .client_supplier(KmsClientSupplier::from_config(server.config()))
        .build()
        .unwrap();
    let context = EncryptionContext::from([("purpose", "benchmark")]);
    let setup = Setup {
        kms: Arc::new(kms),
        client: Client::builder()
            .suite(suite::AlgorithmSuite::from_id(0x0478).unwrap())
            .build()
            .unwrap(),
        plaintext: vec![0x42u8; 1024],
        options: EncryptOptions::new().encryption_context(context),
    };
    throughput(c, &setup);
    expiry(c, &setup);
}

criterion_group!(benches, bench);
criterion_main!(benches);
