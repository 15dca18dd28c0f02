//! Data-key caching: a caching materials manager reuses one data key for many messages, so the
//! keyring behind it is asked rarely.
//!
//! When to use it: when every message asking AWS KMS for a data key costs too much. Each
//! GenerateDataKey or Decrypt is a network round trip (milliseconds), a billed request, and
//! counts against the account's KMS request quota (throttling beyond it). A service that
//! encrypts or decrypts many small messages under the same context can cut that to one call
//! per cache entry.
//!
//! The trade-off: a cached data key protects up to N messages (here 100) for up to its maximum
//! age (here 60 s), instead of one. Anyone who obtains that one data key (from memory, for
//! example) reads all N messages, and disabling the KMS key or revoking access to it does not
//! stop cached entries: they serve until they expire. Keep the limits as low as the cost
//! allows; the default message limit is 2^32, far more than most services need. Without a cost
//! to save, do not cache.
//!
//! Here the keyring is a raw AES keyring wrapped in a counter, so the example runs without a
//! cloud account. With AWS KMS, swap in `esdk::kms::AwsKmsKeyring` (see `examples/kms.rs`):
//!
//! ```ignore
//! let keyring = esdk::kms::AwsKmsKeyring::builder(key_arn)
//!     .client_supplier(esdk::kms::KmsClientSupplier::from_env())
//!     .build()?;
//! let cmm = CachingMaterialsManager::builder(cache.clone(), Duration::from_secs(60))
//!     .keyring(keyring)
//!     .max_messages(100)
//!     .build()?;
//! ```
//!
//! Run: `cargo run --example caching`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use esdk::cache::{CacheMetrics, CachingMaterialsManager, MaterialsCache};
use esdk::keyring::MaterialsFuture;
use esdk::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use esdk::{
    Client, DecryptOptions, EncryptOptions, EncryptionContext, KeySource, Keyring, RawAesKeyring,
};

const MESSAGES: usize = 1000;
const THREADS: usize = 4;

/// A keyring that counts how often it is asked, then lets the inner keyring do the work.
#[derive(Debug)]
struct CountingKeyring<K> {
    inner: K,
    encrypts: AtomicU64,
    decrypts: AtomicU64,
}

impl<K: Keyring> Keyring for CountingKeyring<K> {
    fn on_encrypt<'a>(
        &'a self,
        materials: EncryptionMaterials,
    ) -> MaterialsFuture<'a, esdk::Result<EncryptionMaterials>> {
        self.encrypts.fetch_add(1, Ordering::Relaxed);
        self.inner.on_encrypt(materials)
    }

    fn on_decrypt<'a>(
        &'a self,
        materials: DecryptionMaterials,
        encrypted_data_keys: &'a [EncryptedDataKey],
    ) -> MaterialsFuture<'a, esdk::Result<DecryptionMaterials>> {
        self.decrypts.fetch_add(1, Ordering::Relaxed);
        self.inner.on_decrypt(materials, encrypted_data_keys)
    }
}

/// What the cache did between two snapshots of its metrics.
fn print_metrics(what: &str, before: &CacheMetrics, after: &CacheMetrics) {
    let evicted = |m: &CacheMetrics| {
        m.evicted_messages + m.evicted_age + m.evicted_bytes + m.evicted_capacity
    };
    println!(
        "{what}: {} hits, {} misses, {} waits (for another caller's miss), {} evictions \
         ({} at the message limit), {} entries now",
        after.hits - before.hits,
        after.misses - before.misses,
        after.in_flight_waits - before.in_flight_waits,
        evicted(after) - evicted(before),
        after.evicted_messages - before.evicted_messages,
        after.entries
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key)?;
    let keyring = Arc::new(CountingKeyring {
        inner: RawAesKeyring::new("esdk-example", "cached-key", &key)?,
        encrypts: AtomicU64::new(0),
        decrypts: AtomicU64::new(0),
    });

    // One cache can serve many managers (each in its own partition unless given the same
    // `partition_id`); it holds at most 100 entries, least recently used out first.
    let cache = MaterialsCache::new(100);
    // A data key serves at most 100 messages and at most 60 seconds, whichever comes first.
    let cmm = CachingMaterialsManager::builder(cache.clone(), Duration::from_secs(60))
        .keyring(keyring.clone())
        .max_messages(100)
        .build()?;
    let source = KeySource::MaterialsManager(&cmm);
    let client = Client::default();

    // Only requests with the same context (and suite, and commitment policy) share an entry.
    let context = EncryptionContext::from([("purpose", "caching-example")]);
    let options = EncryptOptions::new().encryption_context(context.clone());

    // 1,000 small messages from 4 threads sharing the manager (it is `Send + Sync`).
    let per_thread = MESSAGES / THREADS;
    let messages = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (client, options) = (&client, &options);
                s.spawn(move || {
                    (0..per_thread)
                        .map(|i| {
                            let plaintext = format!("order {} from thread {t}", t * per_thread + i);
                            let message = esdk::blocking::encrypt_with(
                                client,
                                source,
                                plaintext.as_bytes(),
                                options,
                            )?;
                            Ok((plaintext, message))
                        })
                        .collect::<esdk::Result<Vec<_>>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect::<esdk::Result<Vec<_>>>()
    })?
    .concat();
    // Misses: one per data key (each serves 100 messages). Waits: callers that came while
    // another was asking the keyring for the next data key; they wait for its answer instead
    // of asking too (single flight).
    let encrypted = cache.metrics();
    print_metrics("encrypt", &CacheMetrics::default(), &encrypted);
    println!(
        "  keyring asked to encrypt {} times for {} messages",
        keyring.encrypts.load(Ordering::Relaxed),
        messages.len()
    );

    // Decrypt them all: messages that share a data key share its encrypted data key too, so
    // the keyring unwraps each data key once.
    let decrypt_options = DecryptOptions::new().reproduced_context(context);
    for (plaintext, message) in &messages {
        let decrypted = esdk::blocking::decrypt_with(&client, source, message, &decrypt_options)?;
        assert_eq!(decrypted.plaintext, plaintext.as_bytes());
    }
    print_metrics("decrypt", &encrypted, &cache.metrics());
    println!(
        "  keyring asked to decrypt {} times for {} messages",
        keyring.decrypts.load(Ordering::Relaxed),
        messages.len()
    );
    Ok(())
}
