//! The shared materials cache: an LRU of entries, the in-flight table for single flight, the
//! usage counters and the metrics, behind one mutex that is never held across an await.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use lru::LruCache;

use crate::materials::{DecryptionMaterials, EncryptionMaterials};

/// A source of the current time for cache expiry; inject a [`ManualClock`] in tests.
///
/// ```
/// use esdk::cache::{Clock, SystemClock};
/// let now = SystemClock.now();
/// assert!(SystemClock.now() >= now);
/// ```
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The system's monotonic clock (`Instant::now`).
///
/// ```
/// let cache = esdk::cache::MaterialsCache::builder(16).clock(esdk::cache::SystemClock).build();
/// # let _ = cache;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to: for tests of expiry.
///
/// ```
/// use esdk::cache::{Clock, ManualClock};
/// let clock = ManualClock::new();
/// let t0 = clock.now();
/// clock.advance(std::time::Duration::from_secs(5));
/// assert_eq!(clock.now() - t0, std::time::Duration::from_secs(5));
/// ```
#[derive(Debug)]
pub struct ManualClock {
    base: Instant,
    offset: Mutex<Duration>,
}

impl ManualClock {
    /// A clock at the current instant, standing still.
    ///
    /// ```
    /// let clock = esdk::cache::ManualClock::new();
    /// # let _ = clock;
    /// ```
    pub fn new() -> Self {
        Self {
            base: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        }
    }

    /// Moves the clock forward by `by`.
    ///
    /// ```
    /// let clock = esdk::cache::ManualClock::new();
    /// clock.advance(std::time::Duration::from_millis(1));
    /// ```
    pub fn advance(&self, by: Duration) {
        let mut offset = self.offset.lock().unwrap_or_else(|p| p.into_inner());
        *offset = offset.saturating_add(by);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.base + *self.offset.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Instant {
        (**self).now()
    }
}

/// Counters of a [`MaterialsCache`] since it was made: a plain snapshot.
///
/// ```
/// let cache = esdk::cache::MaterialsCache::new(16);
/// let m = cache.metrics();
/// assert_eq!((m.hits, m.misses, m.entries), (0, 0, 0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheMetrics {
    /// Requests answered from an entry.
    pub hits: u64,
    /// Requests that asked the underlying materials manager (as single-flight leader).
    pub misses: u64,
    /// Requests that did not use the cache: plaintext length unknown or above the byte limit,
    /// or a suite without key derivation.
    pub bypasses: u64,
    /// Requests that waited for another request's call to the underlying manager.
    pub in_flight_waits: u64,
    /// Entries refreshed ahead of their expiry (grace period).
    pub refreshes: u64,
    /// Entries removed to make room (least recently used).
    pub evicted_capacity: u64,
    /// Entries removed because they reached their maximum age.
    pub evicted_age: u64,
    /// Entries removed because they reached their message limit.
    pub evicted_messages: u64,
    /// Entries removed because they reached their byte limit.
    pub evicted_bytes: u64,
    /// Entries in the cache now.
    pub entries: u64,
}

/// Why an entry left the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Eviction {
    Age,
    Messages,
    Bytes,
}

/// A cache entry identifier: the specification's SHA-384 identifier, plus a digest of what
/// else the request's answer depends on in esdk (commitment policy, required context keys,
/// reproduced context) so that two requests share an entry only when the underlying manager
/// would have answered them alike.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) id: [u8; 48],
    pub(crate) variant: [u8; 48],
}

#[derive(Clone)]
pub(crate) enum Materials {
    Encrypt(EncryptionMaterials),
    Decrypt(DecryptionMaterials),
}

pub(crate) struct Entry {
    pub(crate) materials: Materials,
    pub(crate) expires_at: Instant,
    /// When a hit first triggers a refresh (grace period); `None`: never.
    pub(crate) refresh_at: Option<Instant>,
    pub(crate) refreshing: bool,
    pub(crate) messages: u64,
    pub(crate) bytes: u64,
}

pub(crate) struct State {
    pub(crate) entries: LruCache<Key, Entry>,
    pub(crate) flights: HashMap<Key, Arc<Flight>>,
    pub(crate) metrics: CacheMetrics,
    next_sweep: Option<Instant>,
}

impl State {
    pub(crate) fn evict(&mut self, key: &Key, why: Eviction) {
        if self.entries.pop(key).is_some() {
            match why {
                Eviction::Age => self.metrics.evicted_age += 1,
                Eviction::Messages => self.metrics.evicted_messages += 1,
                Eviction::Bytes => self.metrics.evicted_bytes += 1,
            }
        }
    }

    /// Stores an entry, evicting the least recently used one if full, and now and then
    /// removes every expired entry.
    pub(crate) fn insert(&mut self, key: Key, entry: Entry, now: Instant) {
        if let Some((old_key, _)) = self.entries.push(key, entry) {
            if old_key != key {
                self.metrics.evicted_capacity += 1;
            }
        }
        if self.next_sweep.is_none_or(|t| now >= t) {
            let expired: Vec<Key> = self
                .entries
                .iter()
                .filter(|(_, e)| e.expires_at <= now)
                .map(|(k, _)| *k)
                .collect();
            for key in expired {
                self.evict(&key, Eviction::Age);
            }
            self.next_sweep = Some(now + SWEEP_INTERVAL);
        }
    }
}

/// How often (at most) an insert scans for expired entries.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

pub(crate) struct Shared {
    state: Mutex<State>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves counters, never half-written materials: go on.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One call to the underlying manager that other requests for the same entry wait for.
#[derive(Default)]
pub(crate) struct Flight {
    done: Mutex<(bool, Vec<Waker>)>,
}

impl Flight {
    /// Resolves when the leader's call ended (with materials, an error, or cancellation).
    pub(crate) fn wait(self: Arc<Self>) -> impl Future<Output = ()> + Send {
        std::future::poll_fn(move |cx| {
            let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
            if done.0 {
                Poll::Ready(())
            } else {
                if !done.1.iter().any(|w| w.will_wake(cx.waker())) {
                    done.1.push(cx.waker().clone());
                }
                Poll::Pending
            }
        })
    }

    fn finish(&self) {
        let wakers = {
            let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
            done.0 = true;
            std::mem::take(&mut done.1)
        };
        for waker in wakers {
            waker.wake();
        }
    }
}

/// Held by the leader of a flight: when dropped (success, error, or the leader's future
/// dropped), the flight leaves the table and its waiters wake up to look again; one of them
/// leads the next call if there is no entry.
pub(crate) struct FlightGuard {
    pub(crate) shared: Arc<Shared>,
    pub(crate) key: Key,
    pub(crate) flight: Arc<Flight>,
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            if state
                .flights
                .get(&self.key)
                .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
            {
                state.flights.remove(&self.key);
            }
        }
        self.flight.finish();
    }
}

/// A cache of encryption and decryption materials, shared by reference between caching
/// materials managers and threads: cheap to clone (an `Arc`), `Send + Sync`.
///
/// An LRU of a fixed capacity; each entry's data key is wiped when the entry leaves the cache
/// (evicted, expired, exhausted or replaced). Managers that share a cache see each other's
/// entries only if they share a partition id.
///
/// ```
/// let cache = esdk::cache::MaterialsCache::new(1000);
/// let shared = cache.clone(); // the same cache
/// assert_eq!(shared.metrics().entries, 0);
/// ```
#[derive(Clone)]
pub struct MaterialsCache {
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for MaterialsCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaterialsCache")
            .field("metrics", &self.metrics())
            .finish_non_exhaustive()
    }
}

/// Builds a [`MaterialsCache`].
///
/// ```
/// use std::sync::Arc;
/// let clock = Arc::new(esdk::cache::ManualClock::new());
/// let cache = esdk::cache::MaterialsCache::builder(100).clock(clock.clone()).build();
/// # let _ = cache;
/// ```
#[derive(Debug)]
#[must_use]
pub struct MaterialsCacheBuilder {
    capacity: NonZeroUsize,
    clock: Arc<dyn Clock>,
}

impl MaterialsCacheBuilder {
    /// The clock that ages entries (default [`SystemClock`]).
    ///
    /// ```
    /// let b = esdk::cache::MaterialsCache::builder(1).clock(esdk::cache::SystemClock);
    /// # let _ = b;
    /// ```
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The cache.
    ///
    /// ```
    /// let cache = esdk::cache::MaterialsCache::builder(8).build();
    /// # let _ = cache;
    /// ```
    pub fn build(self) -> MaterialsCache {
        MaterialsCache {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    entries: LruCache::new(self.capacity),
                    flights: HashMap::new(),
                    metrics: CacheMetrics::default(),
                    next_sweep: None,
                }),
                clock: self.clock,
            }),
        }
    }
}

impl MaterialsCache {
    /// A cache of at most `capacity` entries (at least 1), on the system clock.
    ///
    /// ```
    /// let cache = esdk::cache::MaterialsCache::new(1000);
    /// # let _ = cache;
    /// ```
    pub fn new(capacity: usize) -> Self {
        Self::builder(capacity).build()
    }

    /// A builder for a cache of at most `capacity` entries (at least 1).
    ///
    /// ```
    /// let cache = esdk::cache::MaterialsCache::builder(1000).build();
    /// # let _ = cache;
    /// ```
    pub fn builder(capacity: usize) -> MaterialsCacheBuilder {
        MaterialsCacheBuilder {
            capacity: NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            clock: Arc::new(SystemClock),
        }
    }

    /// The counters so far, and the number of entries now.
    ///
    /// ```
    /// let cache = esdk::cache::MaterialsCache::new(4);
    /// assert_eq!(cache.metrics().hits, 0);
    /// ```
    pub fn metrics(&self) -> CacheMetrics {
        let state = self.shared.lock();
        let mut metrics = state.metrics;
        metrics.entries = state.entries.len() as u64;
        metrics
    }

    /// Removes every entry (their data keys are wiped).
    ///
    /// ```
    /// let cache = esdk::cache::MaterialsCache::new(4);
    /// cache.clear();
    /// assert_eq!(cache.metrics().entries, 0);
    /// ```
    pub fn clear(&self) {
        self.shared.lock().entries.clear();
    }

    /// Removes every entry past its maximum age now (inserts also do this, at most once a
    /// second).
    ///
    /// ```
    /// let cache = esdk::cache::MaterialsCache::new(4);
    /// cache.remove_expired();
    /// ```
    pub fn remove_expired(&self) {
        let now = self.shared.clock.now();
        let mut state = self.shared.lock();
        let expired: Vec<Key> = state
            .entries
            .iter()
            .filter(|(_, e)| e.expires_at <= now)
            .map(|(k, _)| *k)
            .collect();
        for key in expired {
            state.evict(&key, Eviction::Age);
        }
    }
}
