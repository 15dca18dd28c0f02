//! The caching materials manager: limits, partitions, single flight, refresh, bypasses.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use esdk::cache::{CachingMaterialsManager, ManualClock, MaterialsCache};
use esdk::keyring::MaterialsFuture;
use esdk::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use esdk::{
    Client, DecryptOptions, EncryptOptions, EncryptionContext, Error, KeySource, Keyring,
    RawAesKeyring,
};

/// A raw AES keyring that counts its calls and can be told to wait or fail.
#[derive(Debug)]
struct Counting {
    inner: RawAesKeyring,
    encrypts: AtomicUsize,
    decrypts: AtomicUsize,
    /// Calls with a number below this fail.
    fail_first: usize,
    /// Each call sleeps this long first (on the tokio timer).
    delay: Duration,
    /// Each call first waits until the cache counts this many in-flight waits.
    wait_for_waiters: Option<(MaterialsCache, u64)>,
    /// Calls after the first wait until this is set.
    hold_after_first: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// The first call never ends (only cancellation gets it out).
    stall_first: bool,
    /// Calls from this number on fail.
    fail_from: Option<usize>,
}

impl Counting {
    fn new() -> Self {
        Self {
            inner: RawAesKeyring::new("ns", "key", &[9u8; 32]).unwrap(),
            encrypts: AtomicUsize::new(0),
            decrypts: AtomicUsize::new(0),
            fail_first: 0,
            delay: Duration::ZERO,
            wait_for_waiters: None,
            hold_after_first: None,
            stall_first: false,
            fail_from: None,
        }
    }

    fn encrypts(&self) -> usize {
        self.encrypts.load(Ordering::SeqCst)
    }

    fn decrypts(&self) -> usize {
        self.decrypts.load(Ordering::SeqCst)
    }

    async fn gate(&self, call: usize) -> esdk::Result<()> {
        if self.stall_first && call == 0 {
            std::future::pending::<()>().await;
        }
        // On the tokio timer inside a runtime; a plain thread sleep under esdk::blocking.
        async fn sleep(d: Duration) {
            if tokio::runtime::Handle::try_current().is_ok() {
                tokio::time::sleep(d).await
            } else {
                std::thread::sleep(d)
            }
        }
        if let Some((cache, waiters)) = &self.wait_for_waiters {
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while cache.metrics().in_flight_waits < *waiters {
                assert!(std::time::Instant::now() < deadline, "waiters never came");
                sleep(Duration::from_millis(1)).await;
            }
        }
        if !self.delay.is_zero() {
            sleep(self.delay).await;
        }
        if let Some(release) = self.hold_after_first.as_ref().filter(|_| call > 0) {
            while !release.load(Ordering::SeqCst) {
                sleep(Duration::from_millis(1)).await;
            }
        }
        if call < self.fail_first || self.fail_from.is_some_and(|n| call >= n) {
            return Err(Error::ApiMisuse("the counting keyring was told to fail"));
        }
        Ok(())
    }
}

impl Keyring for Counting {
    fn on_encrypt<'a>(
        &'a self,
        materials: EncryptionMaterials,
    ) -> MaterialsFuture<'a, esdk::Result<EncryptionMaterials>> {
        MaterialsFuture::new(async move {
            let call = self.encrypts.fetch_add(1, Ordering::SeqCst);
            self.gate(call).await?;
            self.inner.on_encrypt(materials).await
        })
    }

    fn on_decrypt<'a>(
        &'a self,
        materials: DecryptionMaterials,
        edks: &'a [EncryptedDataKey],
    ) -> MaterialsFuture<'a, esdk::Result<DecryptionMaterials>> {
        MaterialsFuture::new(async move {
            let call = self.decrypts.fetch_add(1, Ordering::SeqCst);
            self.gate(call).await?;
            self.inner.on_decrypt(materials, edks).await
        })
    }
}

fn context() -> EncryptionContext {
    EncryptionContext::from([("tenant", "acme")])
}

fn options() -> EncryptOptions {
    EncryptOptions::new().encryption_context(context())
}

/// The wrapped data key of a message: equal for messages that share cached materials.
fn edk_of(message: &[u8]) -> Vec<u8> {
    esdk::parse_header(message)
        .unwrap()
        .unauthenticated()
        .encrypted_data_keys()[0]
        .ciphertext
        .clone()
}

fn manager(
    keyring: &Arc<Counting>,
    cache: &MaterialsCache,
    max_age: Duration,
) -> esdk::cache::CachingMaterialsManagerBuilder {
    CachingMaterialsManager::builder(cache.clone(), max_age).keyring(keyring.clone())
}

fn encrypt(client: &Client, cmm: &CachingMaterialsManager, plaintext: &[u8]) -> Vec<u8> {
    esdk::blocking::encrypt_with(
        client,
        KeySource::MaterialsManager(cmm),
        plaintext,
        &options(),
    )
    .unwrap()
}

#[test]
fn the_message_limit_evicts_exactly_at_its_bound() {
    let keyring = Arc::new(Counting::new());
    let cache = MaterialsCache::new(10);
    let cmm = manager(&keyring, &cache, Duration::from_secs(60))
        .max_messages(3)
        .build()
        .unwrap();
    let client = Client::default();
    let messages: Vec<Vec<u8>> = (0..10).map(|_| encrypt(&client, &cmm, b"x")).collect();
    // Entries serve messages 1-3, 4-6, 7-9, 10.
    assert_eq!(keyring.encrypts(), 4);
    let keys: Vec<Vec<u8>> = messages.iter().map(|m| edk_of(m)).collect();
    for chunk in keys.chunks(3) {
        assert!(chunk.iter().all(|k| *k == chunk[0]));
    }
    assert_ne!(keys[2], keys[3]);
    let m = cache.metrics();
    assert_eq!((m.misses, m.hits, m.evicted_messages), (4, 6, 3));
}

#[test]
fn the_byte_limit_evicts_exactly_at_its_bound_and_larger_messages_bypass() {
    let keyring = Arc::new(Counting::new());
    let cache = MaterialsCache::new(10);
    let cmm = manager(&keyring, &cache, Duration::from_secs(60))
        .max_bytes(100)
        .build()
        .unwrap();
    let client = Client::default();
    let a = encrypt(&client, &cmm, &[0; 40]);
    let b = encrypt(&client, &cmm, &[0; 60]); // 100 bytes: exactly the limit
    let c = encrypt(&client, &cmm, &[0; 1]); // 101: a new entry
    assert_eq!(edk_of(&a), edk_of(&b));
    assert_ne!(edk_of(&b), edk_of(&c));
    assert_eq!(keyring.encrypts(), 2);
    assert_eq!(cache.metrics().evicted_bytes, 1);
    // Above the byte limit: not cached at all.
    let before = cache.metrics();
    let d = encrypt(&client, &cmm, &[0; 101]);
    let e = encrypt(&client, &cmm, &[0; 101]);
    assert_ne!(edk_of(&d), edk_of(&e));
    assert_eq!(keyring.encrypts(), 4);
    assert_eq!(cache.metrics().bypasses, before.bypasses + 2);
}

#[test]
fn the_age_limit_evicts_exactly_at_its_bound() {
    let keyring = Arc::new(Counting::new());
    let clock = Arc::new(ManualClock::new());
    let cache = MaterialsCache::builder(10).clock(clock.clone()).build();
    let cmm = manager(&keyring, &cache, Duration::from_secs(10))
        .build()
        .unwrap();
    let client = Client::default();
    let first = encrypt(&client, &cmm, b"x");
    clock.advance(Duration::from_secs(10) - Duration::from_nanos(1));
    let last_use = encrypt(&client, &cmm, b"x");
    assert_eq!(edk_of(&first), edk_of(&last_use));
    assert_eq!(keyring.encrypts(), 1);
    clock.advance(Duration::from_nanos(1));
    let after = encrypt(&client, &cmm, b"x");
    assert_ne!(edk_of(&first), edk_of(&after));
    assert_eq!(keyring.encrypts(), 2);
    assert_eq!(cache.metrics().evicted_age, 1);

    // Expired entries are removed, not skipped: an unrelated insert sweeps them out.
    let other = manager(&keyring, &cache, Duration::from_secs(10))
        .build()
        .unwrap();
    clock.advance(Duration::from_secs(11));
    encrypt(&client, &other, b"y");
    let m = cache.metrics();
    assert_eq!((m.entries, m.evicted_age), (1, 2));
}

#[test]
fn partitions_isolate_and_a_shared_partition_shares() {
    let keyring = Arc::new(Counting::new());
    let cache = MaterialsCache::new(10);
    let age = Duration::from_secs(60);
    let a = manager(&keyring, &cache, age).build().unwrap();
    let b = manager(&keyring, &cache, age).build().unwrap();
    assert_ne!(a.partition_id(), b.partition_id());
    let client = Client::default();
    let (ma, mb) = (encrypt(&client, &a, b"x"), encrypt(&client, &b, b"x"));
    assert_ne!(edk_of(&ma), edk_of(&mb));
    assert_eq!(keyring.encrypts(), 2);

    let named = |p: &str| {
        manager(&keyring, &cache, age)
            .partition_id(p)
            .build()
            .unwrap()
    };
    let (p1, p2, q) = (named("p"), named("p"), named("q"));
    let (m1, m2, m3) = (
        encrypt(&client, &p1, b"x"),
        encrypt(&client, &p2, b"x"),
        encrypt(&client, &q, b"x"),
    );
    assert_eq!(edk_of(&m1), edk_of(&m2));
    assert_ne!(edk_of(&m1), edk_of(&m3));
    assert_eq!(keyring.encrypts(), 4);
}

#[test]
fn another_context_or_suite_is_another_entry() {
    let keyring = Arc::new(Counting::new());
    let cache = MaterialsCache::new(10);
    let cmm = manager(&keyring, &cache, Duration::from_secs(60))
        .build()
        .unwrap();
    let client = Client::default();
    let other_context =
        EncryptOptions::new().encryption_context(EncryptionContext::from([("tenant", "other")]));
    let a = encrypt(&client, &cmm, b"x");
    let b = esdk::blocking::encrypt_with(
        &client,
        KeySource::MaterialsManager(&cmm),
        b"x",
        &other_context,
    )
    .unwrap();
    let unsigned = Client::builder()
        .suite(esdk::suite::AlgorithmSuite::from_id(0x0478).unwrap())
        .build()
        .unwrap();
    let c = encrypt(&unsigned, &cmm, b"x");
    assert_eq!(keyring.encrypts(), 3);
    assert_ne!(edk_of(&a), edk_of(&b));
    assert_ne!(edk_of(&a), edk_of(&c));
    // Each decrypts, with the right context.
    for (m, ctx) in [
        (&a, context()),
        (&b, EncryptionContext::from([("tenant", "other")])),
        (&c, context()),
    ] {
        let out = esdk::blocking::decrypt_with(
            &client,
            KeySource::MaterialsManager(&cmm),
            m,
            &DecryptOptions::new().reproduced_context(ctx),
        )
        .unwrap();
        assert_eq!(out.plaintext, b"x");
    }
}

#[test]
fn unknown_lengths_and_suites_without_key_derivation_bypass_the_cache() {
    let keyring = Arc::new(Counting::new());
    let cache = MaterialsCache::new(10);
    let cmm = manager(&keyring, &cache, Duration::from_secs(60))
        .build()
        .unwrap();
    // A stream without a declared length: every message asks the keyring.
    let client = Client::default();
    for _ in 0..3 {
        let mut writer = esdk::stream::io::EncryptingWriter::new(
            &client,
            KeySource::MaterialsManager(&cmm),
            &options(),
            Vec::new(),
        )
        .unwrap();
        std::io::Write::write_all(&mut writer, b"streamed").unwrap();
        writer.finish().unwrap();
    }
    assert_eq!(keyring.encrypts(), 3);
    // With a declared length the stream is cached.
    for _ in 0..3 {
        let mut writer = esdk::stream::io::EncryptingWriter::new(
            &client,
            KeySource::MaterialsManager(&cmm),
            &options().plaintext_length(8),
            Vec::new(),
        )
        .unwrap();
        std::io::Write::write_all(&mut writer, b"streamed").unwrap();
        writer.finish().unwrap();
    }
    assert_eq!(keyring.encrypts(), 4);
    // Suite 0x0078 (no key derivation) is never cached, on encrypt or decrypt.
    let legacy = Client::builder()
        .commitment_policy(esdk::CommitmentPolicy::ForbidEncryptAllowDecrypt)
        .suite(esdk::suite::AlgorithmSuite::from_id(0x0078).unwrap())
        .build()
        .unwrap();
    let m1 = encrypt(&legacy, &cmm, b"x");
    let m2 = encrypt(&legacy, &cmm, b"x");
    assert_ne!(edk_of(&m1), edk_of(&m2));
    assert_eq!(keyring.encrypts(), 6);
    for _ in 0..2 {
        esdk::blocking::decrypt_with(
            &legacy,
            KeySource::MaterialsManager(&cmm),
            &m1,
            &DecryptOptions::new(),
        )
        .unwrap();
    }
    assert_eq!(keyring.decrypts(), 2);
    assert_eq!(cache.metrics().bypasses, 3 + 2 + 2);
}

#[test]
fn decryption_materials_are_cached_and_reproduced_context_still_checked() {
    let keyring = Arc::new(Counting::new());
    let cache = MaterialsCache::new(10);
    let cmm = manager(&keyring, &cache, Duration::from_secs(60))
        .build()
        .unwrap();
    let client = Client::default();
    let messages: Vec<Vec<u8>> = (0..5).map(|i| encrypt(&client, &cmm, &[i; 10])).collect();
    let source = KeySource::MaterialsManager(&cmm);
    for (i, m) in messages.iter().enumerate() {
        let out = esdk::blocking::decrypt_with(&client, source, m, &DecryptOptions::new()).unwrap();
        assert_eq!(out.plaintext, [i as u8; 10]);
    }
    // One data key for all five: one unwrap, four hits.
    assert_eq!(keyring.decrypts(), 1);
    // A wrong reproduced context is another cache entry (a miss), so the default manager's
    // check runs and fails...
    let wrong =
        DecryptOptions::new().reproduced_context(EncryptionContext::from([("tenant", "evil")]));
    let err = esdk::blocking::decrypt_with(&client, source, &messages[0], &wrong).unwrap_err();
    assert!(matches!(err, Error::ContextMismatch { .. }), "{err:?}");
    // ...and a right one succeeds.
    let right = DecryptOptions::new().reproduced_context(context());
    esdk::blocking::decrypt_with(&client, source, &messages[0], &right).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_cold_encrypts_make_one_call() {
    let cache = MaterialsCache::new(10);
    let keyring = Arc::new(Counting {
        wait_for_waiters: Some((cache.clone(), 31)),
        ..Counting::new()
    });
    let cmm = Arc::new(
        manager(&keyring, &cache, Duration::from_secs(60))
            .build()
            .unwrap(),
    );
    let client = Client::default();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (cmm, client) = (cmm.clone(), client.clone());
            tokio::spawn(async move {
                client
                    .encrypt_with(KeySource::MaterialsManager(&*cmm), b"x", &options())
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut keys = Vec::new();
    for t in tasks {
        keys.push(edk_of(&t.await.unwrap()));
    }
    assert_eq!(keyring.encrypts(), 1);
    assert!(keys.iter().all(|k| *k == keys[0]));
    let m = cache.metrics();
    assert_eq!((m.misses, m.in_flight_waits, m.hits), (1, 31, 31));
}

#[test]
fn concurrent_cold_blocking_encrypts_make_one_call() {
    let cache = MaterialsCache::new(10);
    let keyring = Arc::new(Counting {
        wait_for_waiters: Some((cache.clone(), 7)),
        ..Counting::new()
    });
    let cmm = manager(&keyring, &cache, Duration::from_secs(60))
        .build()
        .unwrap();
    let client = Client::default();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| encrypt(&client, &cmm, b"x"));
        }
    });
    assert_eq!(keyring.encrypts(), 1);
    assert_eq!(cache.metrics().in_flight_waits, 7);
}

#[test]
fn threads_sharing_an_entry_never_exceed_its_limits() {
    let keyring = Arc::new(Counting::new());
    let cache = MaterialsCache::new(10);
    let cmm = manager(&keyring, &cache, Duration::from_secs(60))
        .max_messages(10)
        .max_bytes(10 * 64)
        .build()
        .unwrap();
    let client = Client::default();
    let messages: Vec<(Vec<u8>, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let (client, cmm) = (&client, &cmm);
                s.spawn(move || {
                    (0..100)
                        .map(|i| {
                            let len = (t * 7 + i) % 64 + 1;
                            (encrypt(client, cmm, &vec![0; len]), len)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut per_key: HashMap<Vec<u8>, (u64, u64)> = HashMap::new();
    for (m, len) in &messages {
        let e = per_key.entry(edk_of(m)).or_default();
        e.0 += 1;
        e.1 += *len as u64;
    }
    for (messages, bytes) in per_key.values() {
        assert!(
            *messages <= 10 && *bytes <= 640,
            "{messages} messages, {bytes} bytes"
        );
    }
    // Every data key came from one keyring call.
    assert_eq!(per_key.len(), keyring.encrypts());
    assert_eq!(messages.len(), 800);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_leader_that_fails_hands_over_and_errors_are_not_cached() {
    let cache = MaterialsCache::new(10);
    let keyring = Arc::new(Counting {
        fail_first: 1,
        wait_for_waiters: Some((cache.clone(), 7)),
        ..Counting::new()
    });
    let cmm = Arc::new(
        manager(&keyring, &cache, Duration::from_secs(60))
            .build()
            .unwrap(),
    );
    let client = Client::default();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (cmm, client) = (cmm.clone(), client.clone());
            tokio::spawn(async move {
                client
                    .encrypt_with(KeySource::MaterialsManager(&*cmm), b"x", &options())
                    .await
            })
        })
        .collect();
    let mut failed = 0;
    for t in tasks {
        if t.await.unwrap().is_err() {
            failed += 1;
        }
    }
    // The first leader failed alone; a waiter led the second call, which all others used.
    assert_eq!(failed, 1);
    assert_eq!(keyring.encrypts(), 2);
    assert_eq!(cache.metrics().misses, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_leader_hands_over() {
    let cache = MaterialsCache::new(10);
    // Call 0 (the first leader) never ends on its own: only cancellation gets it out.
    let keyring = Arc::new(Counting {
        stall_first: true,
        ..Counting::new()
    });
    let cmm = Arc::new(
        manager(&keyring, &cache, Duration::from_secs(60))
            .build()
            .unwrap(),
    );
    let client = Client::default();
    let spawn = |cmm: Arc<CachingMaterialsManager>, client: Client| {
        tokio::spawn(async move {
            client
                .encrypt_with(KeySource::MaterialsManager(&*cmm), b"x", &options())
                .await
        })
    };
    let leader = spawn(cmm.clone(), client.clone());
    while cache.metrics().misses == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let waiter = spawn(cmm.clone(), client.clone());
    while cache.metrics().in_flight_waits == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // The leader's future is dropped mid-call; the waiter takes over.
    leader.abort();
    assert!(leader.await.unwrap_err().is_cancelled());
    waiter.await.unwrap().unwrap();
    assert_eq!(keyring.encrypts(), 2);
    let m = cache.metrics();
    assert_eq!((m.misses, m.in_flight_waits), (2, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn within_the_refresh_window_one_caller_refreshes_and_the_others_keep_the_entry() {
    let clock = Arc::new(ManualClock::new());
    let cache = MaterialsCache::builder(10).clock(clock.clone()).build();
    let release = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let keyring = Arc::new(Counting {
        hold_after_first: Some(release.clone()),
        ..Counting::new()
    });
    let cmm = Arc::new(
        manager(&keyring, &cache, Duration::from_secs(10))
            .refresh_before_expiry(Duration::from_secs(2))
            .build()
            .unwrap(),
    );
    let client = Client::default();
    let encrypt = |cmm: Arc<CachingMaterialsManager>, client: Client| async move {
        client
            .encrypt_with(KeySource::MaterialsManager(&*cmm), b"x", &options())
            .await
            .unwrap()
    };
    let first = encrypt(cmm.clone(), client.clone()).await;
    clock.advance(Duration::from_secs(9)); // inside the window, before the maximum age
    let refresher = tokio::spawn(encrypt(cmm.clone(), client.clone()));
    while keyring.encrypts() < 2 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // The refresh is held inside its keyring call; others are served from the entry meanwhile
    // (if they waited for the refresh, this would time out).
    let mut others = Vec::new();
    for _ in 0..5 {
        let m = tokio::time::timeout(
            Duration::from_secs(20),
            encrypt(cmm.clone(), client.clone()),
        )
        .await
        .expect("a caller waited for the refresh");
        others.push(m);
    }
    assert!(others.iter().all(|m| edk_of(m) == edk_of(&first)));
    assert!(!refresher.is_finished());
    release.store(true, Ordering::SeqCst);
    let refreshed = refresher.await.unwrap();
    assert_ne!(edk_of(&refreshed), edk_of(&first));
    assert_eq!(keyring.encrypts(), 2);
    assert_eq!(cache.metrics().refreshes, 1);
    // After the refresh, callers get the new entry.
    let next = encrypt(cmm.clone(), client.clone()).await;
    assert_eq!(edk_of(&next), edk_of(&refreshed));
}

#[test]
fn each_manager_applies_its_own_maximum_age_to_a_shared_entry() {
    let keyring = Arc::new(Counting::new());
    let clock = Arc::new(ManualClock::new());
    let cache = MaterialsCache::builder(10).clock(clock.clone()).build();
    let long = manager(&keyring, &cache, Duration::from_secs(3600))
        .partition_id("p")
        .build()
        .unwrap();
    let short = manager(&keyring, &cache, Duration::from_secs(10))
        .partition_id("p")
        .build()
        .unwrap();
    let client = Client::default();
    let first = encrypt(&client, &long, b"x");
    clock.advance(Duration::from_secs(600));
    // Too old for the short manager: it fetches (and stores) fresh materials.
    let fresh = encrypt(&client, &short, b"x");
    assert_ne!(edk_of(&first), edk_of(&fresh));
    assert_eq!(keyring.encrypts(), 2);
}

#[test]
fn expired_entries_are_removed_even_when_only_hits_follow() {
    let keyring = Arc::new(Counting::new());
    let clock = Arc::new(ManualClock::new());
    let cache = MaterialsCache::builder(10).clock(clock.clone()).build();
    let a = manager(&keyring, &cache, Duration::from_secs(60))
        .build()
        .unwrap();
    let b = manager(&keyring, &cache, Duration::from_secs(3600))
        .build()
        .unwrap();
    let client = Client::default();
    encrypt(&client, &a, b"x");
    encrypt(&client, &b, b"x");
    clock.advance(Duration::from_secs(75));
    for _ in 0..3 {
        encrypt(&client, &b, b"x"); // hits only
    }
    let m = cache.metrics();
    assert_eq!((m.entries, m.evicted_age, m.hits), (1, 1, 3));
}

#[test]
fn capacity_evicts_the_least_recently_used_and_zero_stores_nothing() {
    let keyring = Arc::new(Counting::new());
    let cache = MaterialsCache::new(2);
    let age = Duration::from_secs(60);
    let (a, b, c) = (
        manager(&keyring, &cache, age).build().unwrap(),
        manager(&keyring, &cache, age).build().unwrap(),
        manager(&keyring, &cache, age).build().unwrap(),
    );
    let client = Client::default();
    encrypt(&client, &a, b"x");
    encrypt(&client, &b, b"x");
    encrypt(&client, &a, b"x"); // a is now the most recently used
    encrypt(&client, &c, b"x"); // evicts b
    assert_eq!(cache.metrics().evicted_capacity, 1);
    encrypt(&client, &a, b"x"); // still there
    assert_eq!(keyring.encrypts(), 3);
    encrypt(&client, &b, b"x"); // gone: a new call
    assert_eq!(keyring.encrypts(), 4);

    let none = MaterialsCache::new(0);
    let cmm = manager(&keyring, &none, age).build().unwrap();
    encrypt(&client, &cmm, b"x");
    encrypt(&client, &cmm, b"x");
    assert_eq!(keyring.encrypts(), 6);
    assert_eq!(none.metrics().entries, 0);
}

#[test]
fn decryption_entries_ignore_the_message_and_byte_limits() {
    let keyring = Arc::new(Counting::new());
    let cache = MaterialsCache::new(10);
    let cmm = manager(&keyring, &cache, Duration::from_secs(60))
        .max_messages(1)
        .max_bytes(1)
        .build()
        .unwrap();
    let client = Client::default();
    let message = encrypt(&client, &cmm, b"x");
    for _ in 0..10 {
        esdk::blocking::decrypt_with(
            &client,
            KeySource::MaterialsManager(&cmm),
            &message,
            &DecryptOptions::new(),
        )
        .unwrap();
    }
    assert_eq!(keyring.decrypts(), 1);
}

#[test]
fn limits_that_could_overflow_are_refused() {
    let cache = MaterialsCache::new(1);
    let keyring = Arc::new(Counting::new());
    let build = |b: esdk::cache::CachingMaterialsManagerBuilder| b.build().map(drop);
    assert!(build(manager(&keyring, &cache, Duration::from_secs(1)).max_bytes(u64::MAX)).is_err());
    assert!(build(manager(&keyring, &cache, Duration::MAX)).is_err());
    assert!(
        build(manager(&keyring, &cache, Duration::from_secs(1)).max_messages((1 << 32) + 1))
            .is_err()
    );
    assert!(build(manager(&keyring, &cache, Duration::from_secs(1)).partition_id("a\0b")).is_err());
    assert!(
        build(manager(&keyring, &cache, Duration::from_secs(1)).max_bytes(i64::MAX as u64)).is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_outage_costs_two_calls_not_one_per_waiter() {
    let cache = MaterialsCache::new(10);
    let keyring = Arc::new(Counting {
        fail_from: Some(0),
        wait_for_waiters: Some((cache.clone(), 7)),
        ..Counting::new()
    });
    let cmm = Arc::new(
        manager(&keyring, &cache, Duration::from_secs(60))
            .build()
            .unwrap(),
    );
    let client = Client::default();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (cmm, client) = (cmm.clone(), client.clone());
            tokio::spawn(async move {
                client
                    .encrypt_with(KeySource::MaterialsManager(&*cmm), b"x", &options())
                    .await
            })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().is_err());
    }
    // The first leader, then one takeover whose failure its waiters share.
    assert!(keyring.encrypts() <= 2, "{} calls", keyring.encrypts());
}

#[test]
fn a_failed_refresh_is_retried_after_a_backoff() {
    let clock = Arc::new(ManualClock::new());
    let cache = MaterialsCache::builder(10).clock(clock.clone()).build();
    let keyring = Arc::new(Counting {
        fail_first: 0,
        fail_from: Some(1),
        ..Counting::new()
    });
    let cmm = manager(&keyring, &cache, Duration::from_secs(100))
        .refresh_before_expiry(Duration::from_secs(50))
        .build()
        .unwrap();
    let client = Client::default();
    let first = encrypt(&client, &cmm, b"x");
    clock.advance(Duration::from_secs(60)); // in the window
                                            // The refresh fails; the caller is served from the entry.
    assert_eq!(edk_of(&encrypt(&client, &cmm, b"x")), edk_of(&first));
    assert_eq!(keyring.encrypts(), 2);
    assert_eq!(cache.metrics().failed_refreshes, 1);
    // Within the backoff no other refresh; after it, one more try.
    assert_eq!(edk_of(&encrypt(&client, &cmm, b"x")), edk_of(&first));
    assert_eq!(keyring.encrypts(), 2);
    clock.advance(Duration::from_secs(2));
    encrypt(&client, &cmm, b"x");
    assert_eq!(keyring.encrypts(), 3);
}

#[test]
fn a_clock_at_the_end_of_time_does_not_panic() {
    let keyring = Arc::new(Counting::new());
    let clock = Arc::new(ManualClock::new());
    let cache = MaterialsCache::builder(10).clock(clock.clone()).build();
    let cmm = manager(&keyring, &cache, Duration::from_secs(100 * 365 * 24 * 3600))
        .refresh_before_expiry(Duration::from_secs(1))
        .build()
        .unwrap();
    let client = Client::default();
    for by in [
        Duration::MAX,
        Duration::from_secs(u64::MAX / 4),
        Duration::from_secs(1),
    ] {
        clock.advance(by);
        encrypt(&client, &cmm, b"x");
        encrypt(&client, &cmm, b"x");
    }
    cache.remove_expired();
    assert!(keyring.encrypts() >= 1);
}
