//! The caching materials manager.
//!
//! Spec: `framework/caching-cmm.md` (cache identifiers: Appendix A),
//! `framework/cryptographic-materials-cache.md`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha384};

use super::store::{
    Entry, Eviction, Flight, FlightGuard, Key, Materials, MaterialsCache, Outcome, RefreshGuard,
};
use crate::cmm::{DefaultMaterialsManager, MaterialsManager};
use crate::error::{KeyringError, KeyringErrorKind};
use crate::format::context::{self, EncryptionContext};
use crate::format::header::EncryptedDataKey;
use crate::future::MaterialsFuture;
use crate::keyring::Keyring;
use crate::materials::{
    DecryptionMaterials, DecryptionRequest, EncryptionMaterials, EncryptionRequest,
};
use crate::policy::CommitmentPolicy;
use crate::suite::{AlgorithmSuite, Kdf};

/// The default message limit of an entry: 2^32 (the specification's default).
///
/// ```
/// assert_eq!(esdk::cache::DEFAULT_MAX_MESSAGES, 1 << 32);
/// ```
pub const DEFAULT_MAX_MESSAGES: u64 = 1 << 32;

/// The default byte limit of an entry: 2^63 - 1 (the specification's bound).
///
/// ```
/// assert_eq!(esdk::cache::DEFAULT_MAX_BYTES, i64::MAX as u64);
/// ```
pub const DEFAULT_MAX_BYTES: u64 = i64::MAX as u64;

/// The longest maximum age accepted (100 years): far beyond any use, and small enough that
/// no clock arithmetic overflows.
const MAX_AGE_LIMIT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A materials manager that reuses materials from a [`MaterialsCache`]: a data key serves
/// several messages, within a maximum age, a message count and a byte count, so a KMS keyring
/// is called rarely.
///
/// - Encrypt: a request with a known plaintext length at most the byte limit (one-shot calls
///   know it; streams pass [`EncryptOptions::plaintext_length`](crate::EncryptOptions::plaintext_length))
///   is answered from the cache; others, and suites without key derivation, go to the
///   underlying manager every time.
/// - Decrypt: materials for the same suite, encrypted data keys and context are reused while
///   the entry lives.
/// - Single flight: when many callers miss the same entry at once, one asks the underlying
///   manager and the others wait for its answer; if it fails or is cancelled, a waiter takes
///   over. Errors are never cached.
/// - Usage is counted under the cache's lock: no entry serves more messages or bytes than its
///   limits, whatever the number of threads.
/// - With [`refresh_before_expiry`](CachingMaterialsManagerBuilder::refresh_before_expiry), the
///   first caller within that window before an entry's maximum age fetches fresh materials in
///   its own call while the others keep using the still-valid entry, so a hot entry's expiry
///   does not stall every caller at once.
///
/// ```
/// use std::time::Duration;
/// use esdk::cache::{CachingMaterialsManager, MaterialsCache};
/// # fn main() -> Result<(), esdk::Error> {
/// let keyring = esdk::RawAesKeyring::new("ns", "key", &[7u8; 32])?;
/// let cache = MaterialsCache::new(100);
/// let cmm = CachingMaterialsManager::builder(cache.clone(), Duration::from_secs(300))
///     .keyring(keyring)
///     .max_messages(1000)
///     .build()?;
/// let client = esdk::Client::default();
/// let source = esdk::KeySource::MaterialsManager(&cmm);
/// let options = esdk::EncryptOptions::new();
/// let a = esdk::blocking::encrypt_with(&client, source, b"one", &options)?;
/// let b = esdk::blocking::encrypt_with(&client, source, b"two", &options)?;
/// assert_eq!((cache.metrics().misses, cache.metrics().hits), (1, 1));
/// # let _ = (a, b); Ok(()) }
/// ```
#[derive(Clone)]
pub struct CachingMaterialsManager {
    underlying: Arc<dyn MaterialsManager>,
    cache: MaterialsCache,
    partition: String,
    max_age: Duration,
    max_messages: u64,
    max_bytes: u64,
    refresh_before: Option<Duration>,
}

impl fmt::Debug for CachingMaterialsManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingMaterialsManager")
            .field("underlying", &self.underlying)
            .field("partition", &self.partition)
            .field("max_age", &self.max_age)
            .field("max_messages", &self.max_messages)
            .field("max_bytes", &self.max_bytes)
            .field("refresh_before", &self.refresh_before)
            .finish_non_exhaustive()
    }
}

/// Builds a [`CachingMaterialsManager`].
///
/// ```
/// # fn f(keyring: esdk::RawAesKeyring) -> esdk::Result<esdk::cache::CachingMaterialsManager> {
/// esdk::cache::CachingMaterialsManager::builder(esdk::cache::MaterialsCache::new(10), std::time::Duration::from_secs(60))
///     .keyring(keyring)
///     .partition_id("orders")
///     .max_bytes(1 << 30)
///     .refresh_before_expiry(std::time::Duration::from_secs(5))
///     .build()
/// # }
/// ```
#[must_use]
pub struct CachingMaterialsManagerBuilder {
    cache: MaterialsCache,
    max_age: Duration,
    underlying: Option<Arc<dyn MaterialsManager>>,
    partition: Option<String>,
    max_messages: u64,
    max_bytes: u64,
    refresh_before: Option<Duration>,
}

impl fmt::Debug for CachingMaterialsManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingMaterialsManagerBuilder")
            .field("max_age", &self.max_age)
            .field("partition", &self.partition)
            .finish_non_exhaustive()
    }
}

impl CachingMaterialsManagerBuilder {
    /// Asks a [`DefaultMaterialsManager`] around `keyring` on a miss.
    ///
    /// ```
    /// # fn f(k: esdk::RawAesKeyring, c: esdk::cache::MaterialsCache) {
    /// let b = esdk::cache::CachingMaterialsManager::builder(c, std::time::Duration::from_secs(60)).keyring(k);
    /// # let _ = b; }
    /// ```
    pub fn keyring(mut self, keyring: impl Keyring + 'static) -> Self {
        self.underlying = Some(Arc::new(DefaultMaterialsManager::new(Arc::new(keyring))));
        self
    }

    /// Asks `manager` on a miss.
    ///
    /// ```
    /// # fn f(m: esdk::DefaultMaterialsManager, c: esdk::cache::MaterialsCache) {
    /// let b = esdk::cache::CachingMaterialsManager::builder(c, std::time::Duration::from_secs(60)).materials_manager(m);
    /// # let _ = b; }
    /// ```
    pub fn materials_manager(mut self, manager: impl MaterialsManager + 'static) -> Self {
        self.underlying = Some(Arc::new(manager));
        self
    }

    /// The partition: managers sharing a cache share entries only with the same partition id.
    /// Default: a random id, unique to this manager (and its clones).
    ///
    /// ```
    /// # fn f(c: esdk::cache::MaterialsCache) {
    /// let b = esdk::cache::CachingMaterialsManager::builder(c, std::time::Duration::from_secs(60)).partition_id("tenant-a");
    /// # let _ = b; }
    /// ```
    pub fn partition_id(mut self, partition: impl Into<String>) -> Self {
        self.partition = Some(partition.into());
        self
    }

    /// At most this many messages per data key (default [`DEFAULT_MAX_MESSAGES`]; 1 to 2^32).
    ///
    /// ```
    /// # fn f(c: esdk::cache::MaterialsCache) {
    /// let b = esdk::cache::CachingMaterialsManager::builder(c, std::time::Duration::from_secs(60)).max_messages(100);
    /// # let _ = b; }
    /// ```
    pub fn max_messages(mut self, limit: u64) -> Self {
        self.max_messages = limit;
        self
    }

    /// At most this many plaintext bytes per data key (default [`DEFAULT_MAX_BYTES`]).
    ///
    /// ```
    /// # fn f(c: esdk::cache::MaterialsCache) {
    /// let b = esdk::cache::CachingMaterialsManager::builder(c, std::time::Duration::from_secs(60)).max_bytes(1 << 20);
    /// # let _ = b; }
    /// ```
    pub fn max_bytes(mut self, limit: u64) -> Self {
        self.max_bytes = limit;
        self
    }

    /// Refresh an entry ahead of its maximum age: the first caller within `window` before it
    /// fetches fresh materials (in its own call) while the others keep using the entry.
    /// `window` must be shorter than the maximum age. Default: no refresh.
    ///
    /// ```
    /// # fn f(c: esdk::cache::MaterialsCache) {
    /// let b = esdk::cache::CachingMaterialsManager::builder(c, std::time::Duration::from_secs(60))
    ///     .refresh_before_expiry(std::time::Duration::from_secs(5));
    /// # let _ = b; }
    /// ```
    pub fn refresh_before_expiry(mut self, window: Duration) -> Self {
        self.refresh_before = Some(window);
        self
    }

    /// The manager; fails without an underlying manager or keyring, with a maximum age of zero
    /// or above 100 years, a message limit outside 1..=2^32, a byte limit outside
    /// 1..=2^63 - 1, a refresh window not shorter than the maximum age, or a partition id with
    /// a NUL.
    ///
    /// ```
    /// let cache = esdk::cache::MaterialsCache::new(1);
    /// assert!(esdk::cache::CachingMaterialsManager::builder(cache, std::time::Duration::ZERO).build().is_err());
    /// ```
    pub fn build(self) -> crate::Result<CachingMaterialsManager> {
        let underlying = self.underlying.ok_or(crate::Error::ApiMisuse(
            "a caching materials manager needs a keyring or a materials manager",
        ))?;
        if self.max_age.is_zero() {
            return Err(crate::Error::ApiMisuse(
                "a caching materials manager's maximum age must be greater than zero",
            ));
        }
        if self.max_messages == 0 || self.max_messages > DEFAULT_MAX_MESSAGES {
            return Err(crate::Error::ApiMisuse(
                "a caching materials manager's message limit must be 1 to 2^32",
            ));
        }
        if self.max_bytes == 0 || self.max_bytes > DEFAULT_MAX_BYTES {
            return Err(crate::Error::ApiMisuse(
                "a caching materials manager's byte limit must be 1 to 2^63 - 1",
            ));
        }
        if self.max_age > MAX_AGE_LIMIT {
            return Err(crate::Error::ApiMisuse(
                "a caching materials manager's maximum age must be at most 100 years",
            ));
        }
        if self.partition.as_deref().is_some_and(|p| p.contains('\0')) {
            return Err(crate::Error::ApiMisuse(
                "a partition id must not contain NUL (it separates the cache identifier's fields)",
            ));
        }
        if self
            .refresh_before
            .is_some_and(|w| w.is_zero() || w >= self.max_age)
        {
            return Err(crate::Error::ApiMisuse(
                "the refresh window must be greater than zero and shorter than the maximum age",
            ));
        }
        let partition = match self.partition {
            Some(p) => p,
            None => {
                let mut id = [0u8; 16];
                crate::crypto::random_bytes(&mut id)?;
                id.iter().map(|b| format!("{b:02x}")).collect()
            }
        };
        Ok(CachingMaterialsManager {
            underlying,
            cache: self.cache,
            partition,
            max_age: self.max_age,
            max_messages: self.max_messages,
            max_bytes: self.max_bytes,
            refresh_before: self.refresh_before,
        })
    }
}

impl CachingMaterialsManager {
    /// A builder: entries in `cache`, each used for at most `max_age`.
    ///
    /// ```
    /// let b = esdk::cache::CachingMaterialsManager::builder(esdk::cache::MaterialsCache::new(10), std::time::Duration::from_secs(60));
    /// # let _ = b;
    /// ```
    pub fn builder(cache: MaterialsCache, max_age: Duration) -> CachingMaterialsManagerBuilder {
        CachingMaterialsManagerBuilder {
            cache,
            max_age,
            underlying: None,
            partition: None,
            max_messages: DEFAULT_MAX_MESSAGES,
            max_bytes: DEFAULT_MAX_BYTES,
            refresh_before: None,
        }
    }

    /// The partition id.
    ///
    /// ```
    /// # fn f(m: &esdk::cache::CachingMaterialsManager) -> &str {
    /// m.partition_id()
    /// # }
    /// ```
    pub fn partition_id(&self) -> &str {
        &self.partition
    }

    /// The cache.
    ///
    /// ```
    /// # fn f(m: &esdk::cache::CachingMaterialsManager) -> u64 {
    /// m.cache().metrics().hits
    /// # }
    /// ```
    pub fn cache(&self) -> &MaterialsCache {
        &self.cache
    }

    fn bypass(&self) {
        self.cache.shared.lock().metrics.bypasses += 1;
    }

    /// The entry for `key`, or its single-flight leader's answer from `fetch`. `cost` is the
    /// plaintext length for encryption entries (`None`: a decryption entry, which only ages).
    async fn get<F, Fut>(
        &self,
        key: Key,
        cost: Option<u64>,
        mut fetch: F,
    ) -> crate::Result<Materials>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = crate::Result<Materials>>,
    {
        enum Next {
            Hit(Materials),
            Wait(Arc<Flight>),
            Lead(FlightGuard),
            Refresh(u64),
            Alone,
            Fail(Outcome),
        }
        let shared = &self.cache.shared;
        let mut may_refresh = true;
        // After a flight that stored materials, a waiter that still finds nothing usable (a
        // small limit used them up) fetches on its own rather than queueing behind another.
        let mut after_stored = false;
        // A failure this request waited for: if, looking again, nobody is calling and nothing
        // is stored, it is this request's answer too (no chain of calls during an outage).
        let mut earlier_failure: Option<Outcome> = None;
        loop {
            let now = shared.clock.now();
            let next = {
                let mut state = shared.lock();
                state.remove_expired(now);
                let mut evict = None;
                let mut next = None;
                if let Some(entry) = state.entries.get_mut(&key) {
                    let used = cost.is_some();
                    let cost = cost.unwrap_or(0);
                    if now.saturating_duration_since(entry.created) >= self.max_age {
                        evict = Some(Eviction::Age);
                    } else if used && entry.messages >= self.max_messages {
                        evict = Some(Eviction::Messages);
                    } else if used && entry.bytes.saturating_add(cost) > self.max_bytes {
                        evict = Some(Eviction::Bytes);
                    } else if may_refresh
                        && !entry.refreshing
                        && entry.refresh_at.is_some_and(|t| now >= t)
                    {
                        entry.refreshing = true;
                        next = Some(Next::Refresh(entry.serial));
                    } else {
                        if used {
                            entry.messages += 1;
                            entry.bytes = entry.bytes.saturating_add(cost);
                        }
                        next = Some(Next::Hit(entry.materials.clone()));
                    }
                }
                if let Some(why) = evict {
                    state.evict(&key, why);
                }
                match next {
                    Some(Next::Hit(m)) => {
                        state.metrics.hits += 1;
                        Next::Hit(m)
                    }
                    Some(n) => n,
                    None if after_stored => {
                        state.metrics.misses += 1;
                        Next::Alone
                    }
                    None => match state.flights.get(&key).cloned() {
                        Some(flight) if flight.claim() => {
                            state.metrics.misses += 1;
                            Next::Lead(FlightGuard {
                                shared: shared.clone(),
                                key,
                                flight,
                                outcome: Outcome::Cancelled,
                            })
                        }
                        Some(flight) => {
                            state.metrics.in_flight_waits += 1;
                            Next::Wait(flight)
                        }
                        None if earlier_failure.is_some() => {
                            Next::Fail(earlier_failure.take().unwrap_or(Outcome::Cancelled))
                        }
                        None => {
                            let flight = Arc::new(Flight::led());
                            state.flights.insert(key, flight.clone());
                            state.metrics.misses += 1;
                            Next::Lead(FlightGuard {
                                shared: shared.clone(),
                                key,
                                flight,
                                outcome: Outcome::Cancelled,
                            })
                        }
                    },
                }
            };
            match next {
                Next::Hit(materials) => return Ok(materials),
                Next::Wait(flight) => {
                    let waited_generation = flight.generation;
                    match flight.wait().await {
                        Outcome::Stored => after_stored = true,
                        Outcome::Cancelled => {}
                        // The first failure: one request takes over (the takeover flight the
                        // failed leader left); a failure of that takeover goes to its waiters,
                        // so an outage costs two calls in a row, not one per waiter.
                        failure @ Outcome::Failed { .. } if waited_generation == 0 => {
                            earlier_failure = Some(failure)
                        }
                        failure @ Outcome::Failed { .. } => return Err(waited_failure(failure)),
                    }
                }
                Next::Fail(failure) => return Err(waited_failure(failure)),
                Next::Lead(mut guard) => match fetch().await {
                    Ok(materials) => {
                        self.store(key, &materials, cost);
                        guard.outcome = Outcome::Stored;
                        return Ok(materials);
                    }
                    Err(e) => {
                        guard.outcome = failed(&e);
                        return Err(e);
                    }
                },
                Next::Alone => {
                    let materials = fetch().await?;
                    self.store(key, &materials, cost);
                    return Ok(materials);
                }
                Next::Refresh(serial) => {
                    let mut refresh = RefreshGuard {
                        shared,
                        key,
                        serial,
                        done: false,
                    };
                    match fetch().await {
                        Ok(materials) => {
                            refresh.done = true;
                            drop(refresh);
                            shared.lock().metrics.refreshes += 1;
                            self.store(key, &materials, cost);
                            return Ok(materials);
                        }
                        // The entry stays until its maximum age (the guard clears the mark and
                        // sets a backoff); this caller uses it.
                        Err(_) => may_refresh = false,
                    }
                }
            }
        }
    }

    /// Stores fresh materials with this caller's use counted, unless their suite has no key
    /// derivation.
    fn store(&self, key: Key, materials: &Materials, cost: Option<u64>) {
        let suite = match materials {
            Materials::Encrypt(m) => m.suite,
            Materials::Decrypt(m) => m.suite,
        };
        if suite.kdf == Kdf::Identity {
            return;
        }
        let shared = &self.cache.shared;
        let now = shared.clock.now();
        // A clock so far ahead that the expiry does not fit in an `Instant`: nothing stored.
        let Some(expires_at) = now.checked_add(self.max_age) else {
            return;
        };
        let mut state = shared.lock();
        let serial = state.serial();
        let entry = Entry {
            materials: materials.clone(),
            created: now,
            expires_at,
            refresh_at: self
                .refresh_before
                .and_then(|w| now.checked_add(self.max_age.saturating_sub(w))),
            refreshing: false,
            messages: u64::from(cost.is_some()),
            bytes: cost.unwrap_or(0),
            serial,
        };
        state.insert(key, entry, now);
    }
}

/// The error of a request whose leader failed.
fn waited_failure(outcome: Outcome) -> crate::Error {
    match outcome {
        Outcome::Failed {
            message,
            kind,
            retryable,
        } => crate::Error::Keyring(
            KeyringError::new(
                kind,
                format!("the request this one waited for failed: {message}"),
            )
            .with_retryable(retryable),
        ),
        _ => crate::Error::Internal("a waited-for request ended without failing"),
    }
}

/// What waiters learn of a leader's error (errors are never cached).
fn failed(error: &crate::Error) -> Outcome {
    let (kind, retryable) = match error {
        crate::Error::Keyring(e) => (e.kind(), e.is_retryable()),
        other => (KeyringErrorKind::Other, other.is_retryable()),
    };
    Outcome::Failed {
        message: error.to_string(),
        kind,
        retryable,
    }
}

impl MaterialsManager for CachingMaterialsManager {
    fn encryption_materials<'a>(
        &'a self,
        request: EncryptionRequest,
    ) -> MaterialsFuture<'a, crate::Result<EncryptionMaterials>> {
        MaterialsFuture::new(async move {
            let cost = match request.max_plaintext_length {
                Some(len) if len <= self.max_bytes => len,
                _ => {
                    self.bypass();
                    return self.underlying.encryption_materials(request).await;
                }
            };
            if request.suite.is_some_and(|s| s.kdf == Kdf::Identity) {
                self.bypass();
                return self.underlying.encryption_materials(request).await;
            }
            let key = encryption_key(&self.partition, &request)?;
            let underlying = &self.underlying;
            let materials = self
                .get(key, Some(cost), || {
                    let request = request.clone();
                    async move {
                        underlying
                            .encryption_materials(request)
                            .await
                            .map(Materials::Encrypt)
                    }
                })
                .await?;
            match materials {
                Materials::Encrypt(m) => Ok(m),
                Materials::Decrypt(_) => Err(crate::Error::Internal(
                    "a decryption entry under an encryption identifier",
                )),
            }
        })
    }

    fn decryption_materials<'a>(
        &'a self,
        request: DecryptionRequest,
    ) -> MaterialsFuture<'a, crate::Result<DecryptionMaterials>> {
        MaterialsFuture::new(async move {
            if request.suite.kdf == Kdf::Identity {
                self.bypass();
                return self.underlying.decryption_materials(request).await;
            }
            let key = decryption_key(&self.partition, &request)?;
            let underlying = &self.underlying;
            let materials = self
                .get(key, None, || {
                    let request = request.clone();
                    async move {
                        underlying
                            .decryption_materials(request)
                            .await
                            .map(Materials::Decrypt)
                    }
                })
                .await?;
            match materials {
                Materials::Decrypt(m) => Ok(m),
                Materials::Encrypt(_) => Err(crate::Error::Internal(
                    "an encryption entry under a decryption identifier",
                )),
            }
        })
    }
}

const NULL: [u8; 1] = [0];

/// The specification's identifier for encryption materials (caching-cmm.md, Appendix A).
pub(crate) fn encryption_entry_id(
    partition: &str,
    suite: Option<&AlgorithmSuite>,
    encryption_context: &EncryptionContext,
) -> crate::Result<[u8; 48]> {
    let mut h = Sha384::new();
    h.update([0x01]);
    h.update(NULL);
    h.update([0x01]);
    h.update(NULL);
    h.update(partition.as_bytes());
    h.update(NULL);
    match suite {
        None => h.update([0x00]),
        Some(suite) => {
            h.update([0x01]);
            h.update(NULL);
            h.update(suite.id.to_be_bytes());
        }
    }
    h.update(NULL);
    h.update(context::serialize(encryption_context)?);
    Ok(h.finalize().into())
}

/// The specification's identifier for decryption materials (caching-cmm.md, Appendix A).
pub(crate) fn decryption_entry_id(
    partition: &str,
    suite: &AlgorithmSuite,
    encrypted_data_keys: &[EncryptedDataKey],
    encryption_context: &EncryptionContext,
) -> crate::Result<[u8; 48]> {
    let mut edks = encrypted_data_keys
        .iter()
        .map(serialize_edk)
        .collect::<crate::Result<Vec<_>>>()?;
    edks.sort();
    let mut h = Sha384::new();
    h.update([0x01]);
    h.update(NULL);
    h.update([0x02]);
    h.update(NULL);
    h.update(partition.as_bytes());
    h.update(NULL);
    h.update(suite.id.to_be_bytes());
    h.update(NULL);
    for edk in &edks {
        h.update(edk);
    }
    h.update(NULL);
    h.update(context::serialize(encryption_context)?);
    Ok(h.finalize().into())
}

fn serialize_edk(edk: &EncryptedDataKey) -> crate::Result<Vec<u8>> {
    let mut out = Vec::new();
    for field in [
        edk.provider_id.as_bytes(),
        edk.provider_info.as_slice(),
        edk.ciphertext.as_slice(),
    ] {
        let len = u16::try_from(field.len()).map_err(|_| {
            crate::Error::LimitExceeded("encrypted data key field longer than 65535 bytes")
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(field);
    }
    Ok(out)
}

fn policy_byte(policy: CommitmentPolicy) -> u8 {
    match policy {
        CommitmentPolicy::ForbidEncryptAllowDecrypt => 1,
        CommitmentPolicy::RequireEncryptAllowDecrypt => 2,
        CommitmentPolicy::RequireEncryptRequireDecrypt => 3,
    }
}

/// What else an answer depends on: hashed so that only alike requests share an entry.
fn variant(
    policy: CommitmentPolicy,
    required_keys: &[String],
    reproduced: Option<&EncryptionContext>,
) -> crate::Result<[u8; 48]> {
    let mut h = Sha384::new();
    h.update([policy_byte(policy)]);
    let mut keys: Vec<&String> = required_keys.iter().collect();
    keys.sort();
    keys.dedup();
    h.update((keys.len() as u64).to_be_bytes());
    for key in keys {
        h.update((key.len() as u64).to_be_bytes());
        h.update(key.as_bytes());
    }
    match reproduced {
        None => h.update([0]),
        Some(context) => {
            h.update([1]);
            h.update(context::serialize(context)?);
        }
    }
    Ok(h.finalize().into())
}

fn encryption_key(partition: &str, request: &EncryptionRequest) -> crate::Result<Key> {
    Ok(Key {
        id: encryption_entry_id(partition, request.suite, &request.encryption_context)?,
        variant: variant(
            request.commitment_policy,
            &request.required_encryption_context_keys,
            None,
        )?,
    })
}

fn decryption_key(partition: &str, request: &DecryptionRequest) -> crate::Result<Key> {
    Ok(Key {
        id: decryption_entry_id(
            partition,
            request.suite,
            &request.encrypted_data_keys,
            &request.encryption_context,
        )?,
        variant: variant(
            request.commitment_policy,
            &[],
            request.reproduced_encryption_context.as_ref(),
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The identifiers are SHA-384 over the bytes the specification lists, built here by hand.
    #[test]
    fn entry_ids_follow_appendix_a() {
        let context = EncryptionContext::from([("this", "that"), ("a", "b")]);
        let serialized = context::serialize(&context).unwrap();
        let suite = AlgorithmSuite::from_id(0x0578).unwrap();

        let mut bytes = vec![1, 0, 1, 0];
        bytes.extend_from_slice(b"partition");
        bytes.extend_from_slice(&[0, 0, 0]);
        bytes.extend_from_slice(&serialized);
        assert_eq!(
            hex(&encryption_entry_id("partition", None, &context).unwrap()),
            hex(&Sha384::digest(&bytes))
        );

        let mut bytes = vec![1, 0, 1, 0];
        bytes.extend_from_slice(b"partition");
        bytes.extend_from_slice(&[0, 1, 0, 0x05, 0x78, 0]);
        bytes.extend_from_slice(&serialized);
        assert_eq!(
            hex(&encryption_entry_id("partition", Some(suite), &context).unwrap()),
            hex(&Sha384::digest(&bytes))
        );

        let edk = |id: &str, info: &[u8], ct: &[u8]| EncryptedDataKey {
            provider_id: id.into(),
            provider_info: info.to_vec(),
            ciphertext: ct.to_vec(),
        };
        let a = edk("aws-kms", b"arn-a", &[9, 9]);
        let b = edk("aws-kms", b"arn-b", &[1]);
        let mut bytes = vec![1, 0, 2, 0];
        bytes.extend_from_slice(b"partition");
        bytes.extend_from_slice(&[0, 0x05, 0x78, 0]);
        // Sorted serialized EDKs: "...arn-a..." before "...arn-b...".
        bytes.extend_from_slice(&[0, 7]);
        bytes.extend_from_slice(b"aws-kms");
        bytes.extend_from_slice(&[0, 5]);
        bytes.extend_from_slice(b"arn-a");
        bytes.extend_from_slice(&[0, 2, 9, 9]);
        bytes.extend_from_slice(&[0, 7]);
        bytes.extend_from_slice(b"aws-kms");
        bytes.extend_from_slice(&[0, 5]);
        bytes.extend_from_slice(b"arn-b");
        bytes.extend_from_slice(&[0, 1, 1]);
        bytes.push(0);
        bytes.extend_from_slice(&serialized);
        let expected = hex(&Sha384::digest(&bytes));
        // EDK order in the message does not matter.
        for edks in [[a.clone(), b.clone()], [b, a]] {
            assert_eq!(
                hex(&decryption_entry_id("partition", suite, &edks, &context).unwrap()),
                expected
            );
        }
    }

    #[test]
    fn empty_context_serializes_to_nothing_in_the_identifier() {
        let mut bytes = vec![1, 0, 1, 0];
        bytes.extend_from_slice(b"p");
        bytes.extend_from_slice(&[0, 0, 0]);
        assert_eq!(
            encryption_entry_id("p", None, &EncryptionContext::new()).unwrap(),
            <[u8; 48]>::from(Sha384::digest(&bytes))
        );
    }
}
