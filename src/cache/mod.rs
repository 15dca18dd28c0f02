//! Data-key caching: a [`CachingMaterialsManager`] that reuses materials from a shared
//! [`MaterialsCache`], so a KMS keyring is called rarely.
//!
//! A data key is reused for at most a maximum age, a number of messages and a number of bytes;
//! many callers missing the same entry at once make one call to the underlying manager
//! (single flight); an optional refresh window keeps a hot entry's expiry from stalling every
//! caller. [`MaterialsCache::metrics`] counts hits, misses, waits, refreshes and evictions.
//!
//! Spec: `framework/caching-cmm.md`, `framework/cryptographic-materials-cache.md`.
//!
//! ```
//! use std::time::Duration;
//! use esdk::cache::{CachingMaterialsManager, MaterialsCache};
//! # fn main() -> Result<(), esdk::Error> {
//! let cache = MaterialsCache::new(1000);
//! let cmm = CachingMaterialsManager::builder(cache.clone(), Duration::from_secs(60))
//!     .keyring(esdk::RawAesKeyring::new("ns", "key", &[7u8; 32])?)
//!     .max_messages(100)
//!     .build()?;
//! let client = esdk::Client::default();
//! for _ in 0..10 {
//!     esdk::blocking::encrypt_with(&client, esdk::KeySource::MaterialsManager(&cmm), b"hi", &Default::default())?;
//! }
//! assert_eq!((cache.metrics().misses, cache.metrics().hits), (1, 9));
//! # Ok(()) }
//! ```

mod manager;
mod store;

pub use manager::{
    CachingMaterialsManager, CachingMaterialsManagerBuilder, DEFAULT_MAX_BYTES,
    DEFAULT_MAX_MESSAGES,
};
pub use store::{
    CacheMetrics, Clock, ManualClock, MaterialsCache, MaterialsCacheBuilder, SystemClock,
};
