//! The shared materials cache: an LRU of entries, the in-flight table for single flight, the
//! usage counters and the metrics, behind one mutex that is never held across an await.

use std::collections::{BTreeMap, HashMap};
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
        let next = offset.saturating_add(by);
        // Never past what an `Instant` can hold (adding would panic in `now`).
        if self.base.checked_add(next).is_some() {
            *offset = next;
        }
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        let offset = *self.offset.lock().unwrap_or_else(|p| p.into_inner());
        self.base.checked_add(offset).unwrap_or(self.base)
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
    /// Requests that asked the underlying materials manager for materials to store (as
    /// single-flight leader, or when a small limit left nothing to share).
    pub misses: u64,
    /// Requests that did not use the cache: plaintext length unknown or above the byte limit,
    /// or a suite without key derivation.
    pub bypasses: u64,
    /// Requests that waited for another request's call to the underlying manager.
    pub in_flight_waits: u64,
    /// Entries refreshed ahead of their expiry (grace period).
    pub refreshes: u64,
    /// Refreshes that failed or were cancelled (the entry stays until its maximum age).
    pub failed_refreshes: u64,
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
    /// When the entry was stored: each manager checks its own maximum age against it.
    pub(crate) created: Instant,
    /// The storing manager's expiry, for removing expired entries.
    pub(crate) expires_at: Instant,
    /// When a hit first triggers a refresh (grace period); `None`: never.
    pub(crate) refresh_at: Option<Instant>,
    pub(crate) refreshing: bool,
    pub(crate) messages: u64,
    pub(crate) bytes: u64,
    /// Unique per stored entry (to tell a replaced entry from the one a caller saw).
    pub(crate) serial: u64,
}

pub(crate) struct State {
    pub(crate) entries: LruCache<Key, Entry>,
    /// Expiry index: (expires_at, serial) to key, so expired entries are removed on every
    /// access in O(log n) each, not found by a scan.
    expiries: BTreeMap<(Instant, u64), Key>,
    pub(crate) flights: HashMap<Key, Arc<Flight>>,
    pub(crate) metrics: CacheMetrics,
    /// Capacity 0: the cache stores nothing.
    store_nothing: bool,
    next_serial: u64,
}

impl State {
    pub(crate) fn evict(&mut self, key: &Key, why: Eviction) {
        if let Some(entry) = self.entries.pop(key) {
            self.expiries.remove(&(entry.expires_at, entry.serial));
            match why {
                Eviction::Age => self.metrics.evicted_age += 1,
                Eviction::Messages => self.metrics.evicted_messages += 1,
                Eviction::Bytes => self.metrics.evicted_bytes += 1,
            }
        }
    }

    /// Removes every entry past its storing manager's maximum age (and wipes its key).
    pub(crate) fn remove_expired(&mut self, now: Instant) {
        while let Some((&(at, serial), key)) = self.expiries.first_key_value() {
            if at > now {
                break;
            }
            let key = *key;
            self.expiries.remove(&(at, serial));
            if self.entries.peek(&key).is_some_and(|e| e.serial == serial) {
                self.entries.pop(&key);
                self.metrics.evicted_age += 1;
            }
        }
    }

    pub(crate) fn serial(&mut self) -> u64 {
        self.next_serial += 1;
        self.next_serial
    }

    /// Stores an entry, evicting the least recently used one if full.
    pub(crate) fn insert(&mut self, key: Key, entry: Entry, now: Instant) {
        self.remove_expired(now);
        if self.store_nothing {
            return;
        }
        self.expiries.insert((entry.expires_at, entry.serial), key);
        if let Some((old_key, old)) = self.entries.push(key, entry) {
            self.expiries.remove(&(old.expires_at, old.serial));
            if old_key != key {
                self.metrics.evicted_capacity += 1;
            }
        }
    }
}

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

/// How a flight ended.
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    /// The leader stored (or returned) materials.
    Stored,
    /// The leader's future was dropped before it finished.
    Cancelled,
    /// The leader's call failed: what to tell waiters (never cached).
    Failed {
        message: String,
        kind: crate::error::KeyringErrorKind,
        retryable: bool,
    },
}

/// One call to the underlying manager that other requests for the same entry wait for.
pub(crate) struct Flight {
    /// 0 for a first call; 1 for the call that takes over from a failed one (its failure is
    /// handed to its waiters instead of another takeover).
    pub(crate) generation: u32,
    /// Whether a request leads this flight. A takeover flight starts unclaimed: the first
    /// request to find it (a waiter of the failed flight, or a newcomer) leads it.
    claimed: std::sync::atomic::AtomicBool,
    done: Mutex<(Option<Outcome>, Vec<Waker>)>,
}

impl Flight {
    /// A flight led by the request that makes it.
    pub(crate) fn led() -> Self {
        Self {
            generation: 0,
            claimed: std::sync::atomic::AtomicBool::new(true),
            done: Mutex::new((None, Vec::new())),
        }
    }

    fn takeover() -> Self {
        Self {
            generation: 1,
            claimed: std::sync::atomic::AtomicBool::new(false),
            done: Mutex::new((None, Vec::new())),
        }
    }

    /// Claims the lead of an unclaimed (takeover) flight; true for exactly one caller.
    pub(crate) fn claim(&self) -> bool {
        !self.claimed.swap(true, std::sync::atomic::Ordering::SeqCst)
    }

    /// Resolves with the outcome when the leader's call ended.
    pub(crate) fn wait(self: Arc<Self>) -> impl Future<Output = Outcome> + Send {
        std::future::poll_fn(move |cx| {
            let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(outcome) = &done.0 {
                Poll::Ready(outcome.clone())
            } else {
                if !done.1.iter().any(|w| w.will_wake(cx.waker())) {
                    done.1.push(cx.waker().clone());
                }
                Poll::Pending
            }
        })
    }

    fn finish(&self, outcome: Outcome) {
        let wakers = {
            let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
            if done.0.is_none() {
                done.0 = Some(outcome);
            }
            std::mem::take(&mut done.1)
        };
        for waker in wakers {
            waker.wake();
        }
    }
}

/// Held by the leader of a flight: when dropped, the flight leaves the table and its waiters
/// wake up with its outcome (`Cancelled` unless the leader set another).
pub(crate) struct FlightGuard {
    pub(crate) shared: Arc<Shared>,
    pub(crate) key: Key,
    pub(crate) flight: Arc<Flight>,
    pub(crate) outcome: Outcome,
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
                if matches!(self.outcome, Outcome::Failed { .. }) && self.flight.generation == 0 {
                    // One takeover, in the same critical section: every waiter finds it.
                    state.flights.insert(self.key, Arc::new(Flight::takeover()));
                } else {
                    state.flights.remove(&self.key);
                }
            }
        }
        self.flight.finish(self.outcome.clone());
    }
}

/// Marks an entry as being refreshed; if the refresh does not complete (error, or the
/// caller's future dropped), the mark is cleared and the next refresh may come after a
/// short backoff.
pub(crate) struct RefreshGuard<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) key: Key,
    pub(crate) serial: u64,
    pub(crate) done: bool,
}

/// How long after a failed refresh another may start.
const REFRESH_BACKOFF: Duration = Duration::from_secs(1);

impl Drop for RefreshGuard<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let now = self.shared.clock.now();
        let mut state = self.shared.lock();
        state.metrics.failed_refreshes += 1;
        if let Some(entry) = state.entries.peek_mut(&self.key) {
            if entry.serial == self.serial {
                entry.refreshing = false;
                entry.refresh_at = now.checked_add(REFRESH_BACKOFF);
            }
        }
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
    /// `None`: capacity 0, nothing is stored.
    capacity: Option<NonZeroUsize>,
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
                    entries: LruCache::new(self.capacity.unwrap_or(NonZeroUsize::MIN)),
                    expiries: BTreeMap::new(),
                    flights: HashMap::new(),
                    metrics: CacheMetrics::default(),
                    store_nothing: self.capacity.is_none(),
                    next_serial: 0,
                }),
                clock: self.clock,
            }),
        }
    }
}

impl MaterialsCache {
    /// A cache of at most `capacity` entries, on the system clock (capacity 0 stores nothing,
    /// as the specification allows).
    ///
    /// ```
    /// let cache = esdk::cache::MaterialsCache::new(1000);
    /// # let _ = cache;
    /// ```
    pub fn new(capacity: usize) -> Self {
        Self::builder(capacity).build()
    }

    /// A builder for a cache of at most `capacity` entries (0: stores nothing).
    ///
    /// ```
    /// let cache = esdk::cache::MaterialsCache::builder(1000).build();
    /// # let _ = cache;
    /// ```
    pub fn builder(capacity: usize) -> MaterialsCacheBuilder {
        MaterialsCacheBuilder {
            capacity: NonZeroUsize::new(capacity),
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
        let now = self.shared.clock.now();
        let mut state = self.shared.lock();
        state.remove_expired(now);
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
        let mut state = self.shared.lock();
        state.entries.clear();
        state.expiries.clear();
    }

    /// Removes every entry past its maximum age now (every cache access also does this).
    ///
    /// ```
    /// let cache = esdk::cache::MaterialsCache::new(4);
    /// cache.remove_expired();
    /// ```
    pub fn remove_expired(&self) {
        let now = self.shared.clock.now();
        self.shared.lock().remove_expired(now);
    }
}
