//! [`MemoryStore`]: responses kept in the process, bounded three ways.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use crate::{ResponseId, ResponseStore, StoreError, StoreFuture, Tenant};

/// The bounds of a [`MemoryStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryLimits {
    /// At most this many responses; the least recently used go first.
    pub max_entries: usize,
    /// At most this many bytes of records (and ids); the least recently used go first.
    pub max_bytes: usize,
    /// A response is forgotten this long after it was kept.
    pub ttl: Duration,
}

impl MemoryLimits {
    /// 10,000 responses.
    pub const DEFAULT_MAX_ENTRIES: usize = 10_000;
    /// 64 MiB: room for thousands of conversations within a small container's memory.
    pub const DEFAULT_MAX_BYTES: usize = 64 << 20;
    /// 30 days, as OpenAI keeps stored responses.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
}

impl Default for MemoryLimits {
    fn default() -> Self {
        Self {
            max_entries: Self::DEFAULT_MAX_ENTRIES,
            max_bytes: Self::DEFAULT_MAX_BYTES,
            ttl: Self::DEFAULT_TTL,
        }
    }
}

/// Responses kept in this process: bounded by entry count, bytes and time to live; the least
/// recently used (kept or read) are evicted first. The clock is tokio's, so tests can pause it.
#[derive(Debug)]
pub struct MemoryStore {
    limits: MemoryLimits,
    inner: Mutex<Entries>,
}

type Key = (Tenant, ResponseId);

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<Key, Entry>,
    /// Last use (a tick) -> key: the least recently used first.
    by_use: BTreeMap<u64, Key>,
    /// Expiry (and the tick it was kept at, to be unique) -> key: the first to expire first.
    by_expiry: BTreeMap<(Instant, u64), Key>,
    bytes: usize,
    tick: u64,
}

#[derive(Debug)]
struct Entry {
    record: Bytes,
    used: u64,
    expiry: (Instant, u64),
}

fn size(key: &Key, record: &Bytes) -> usize {
    key.1.as_str().len() + record.len()
}

impl MemoryStore {
    /// An empty store with these bounds.
    pub fn new(limits: MemoryLimits) -> Self {
        Self {
            limits,
            inner: Mutex::new(Entries::default()),
        }
    }

    /// How many responses are kept now (expired ones not yet dropped included).
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether no response is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock leaves consistent maps (no step panics midway).
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn put_now(&self, key: Key, record: Bytes) -> Result<(), StoreError> {
        let size = size(&key, &record);
        if size > self.limits.max_bytes {
            return Err(StoreError::TooLarge {
                size,
                limit: self.limits.max_bytes,
            });
        }
        let now = Instant::now();
        let mut entries = self.lock();
        entries.expire(now);
        entries.remove(&key);
        entries.insert(key, record, now + self.limits.ttl);
        entries.evict(self.limits.max_entries, self.limits.max_bytes);
        Ok(())
    }

    fn get_now(&self, key: &Key) -> Option<Bytes> {
        let mut entries = self.lock();
        entries.expire(Instant::now());
        entries.touch(key)
    }

    fn delete_now(&self, key: &Key) -> bool {
        let mut entries = self.lock();
        entries.expire(Instant::now());
        entries.remove(key).is_some()
    }
}

impl Entries {
    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    fn insert(&mut self, key: Key, record: Bytes, expires: Instant) {
        let tick = self.next_tick();
        self.bytes += size(&key, &record);
        self.by_use.insert(tick, key.clone());
        self.by_expiry.insert((expires, tick), key.clone());
        let expiry = (expires, tick);
        self.map.insert(
            key,
            Entry {
                record,
                used: tick,
                expiry,
            },
        );
    }

    fn remove(&mut self, key: &Key) -> Option<Entry> {
        let entry = self.map.remove(key)?;
        self.by_use.remove(&entry.used);
        self.by_expiry.remove(&entry.expiry);
        self.bytes -= size(key, &entry.record);
        Some(entry)
    }

    /// The record of `key`, now the most recently used.
    fn touch(&mut self, key: &Key) -> Option<Bytes> {
        let tick = self.next_tick();
        let entry = self.map.get_mut(key)?;
        self.by_use.remove(&entry.used);
        entry.used = tick;
        self.by_use.insert(tick, key.clone());
        Some(entry.record.clone())
    }

    /// Drops every entry expired at `now`.
    fn expire(&mut self, now: Instant) {
        while let Some(entry) = self.by_expiry.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let key = entry.remove();
            self.remove(&key);
        }
    }

    /// Drops the least recently used entries until both bounds hold.
    fn evict(&mut self, max_entries: usize, max_bytes: usize) {
        while self.map.len() > max_entries || self.bytes > max_bytes {
            let Some((_, key)) = self.by_use.pop_first() else {
                break;
            };
            self.remove(&key);
        }
    }
}

impl ResponseStore for MemoryStore {
    fn put<'a>(
        &'a self,
        tenant: &'a Tenant,
        id: &'a ResponseId,
        record: Bytes,
    ) -> StoreFuture<'a, ()> {
        let result = self.put_now((*tenant, id.clone()), record);
        Box::pin(std::future::ready(result))
    }

    fn get<'a>(&'a self, tenant: &'a Tenant, id: &'a ResponseId) -> StoreFuture<'a, Option<Bytes>> {
        let found = self.get_now(&(*tenant, id.clone()));
        Box::pin(std::future::ready(Ok(found)))
    }

    fn delete<'a>(&'a self, tenant: &'a Tenant, id: &'a ResponseId) -> StoreFuture<'a, bool> {
        let deleted = self.delete_now(&(*tenant, id.clone()));
        Box::pin(std::future::ready(Ok(deleted)))
    }

    fn check(&self) -> StoreFuture<'_, ()> {
        Box::pin(std::future::ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: usize) -> ResponseId {
        ResponseId::parse(&format!("resp_{n}")).unwrap()
    }

    fn store(max_entries: usize, max_bytes: usize) -> MemoryStore {
        MemoryStore::new(MemoryLimits {
            max_entries,
            max_bytes,
            ttl: Duration::from_secs(60),
        })
    }

    const RECORD: Bytes = Bytes::from_static(b"0123456789");

    async fn kept(store: &MemoryStore, tenant: &Tenant, n: usize) -> bool {
        store.get(tenant, &id(n)).await.unwrap().is_some()
    }

    #[tokio::test]
    async fn the_least_recently_used_goes_first() {
        let store = store(3, usize::MAX);
        let t = Tenant::from_gateway_key("k");
        for n in 1..=3 {
            store.put(&t, &id(n), RECORD).await.unwrap();
        }
        // Reading 1 makes 2 the least recently used.
        assert!(kept(&store, &t, 1).await);
        store.put(&t, &id(4), RECORD).await.unwrap();
        assert_eq!(store.len(), 3);
        assert!(!kept(&store, &t, 2).await, "2 was the least recently used");
        for n in [1, 3, 4] {
            assert!(kept(&store, &t, n).await, "{n}");
        }
    }

    #[tokio::test]
    async fn the_byte_bound_holds() {
        // Each entry: "resp_N" (6) + 10 bytes = 16.
        let store = store(100, 40);
        let t = Tenant::from_gateway_key("k");
        for n in 1..=3 {
            store.put(&t, &id(n), RECORD).await.unwrap();
        }
        assert_eq!(store.len(), 2, "48 bytes do not fit in 40");
        assert!(!kept(&store, &t, 1).await);
        assert!(kept(&store, &t, 2).await && kept(&store, &t, 3).await);
        let huge = Bytes::from(vec![b'x'; 41]);
        let err = store.put(&t, &id(9), huge).await.unwrap_err();
        assert!(
            matches!(err, StoreError::TooLarge { limit: 40, .. }),
            "{err}"
        );
        assert_eq!(store.len(), 2, "a refused record evicts nothing");
    }

    #[tokio::test]
    async fn replacing_a_record_counts_its_bytes_once() {
        let store = store(10, 32);
        let t = Tenant::from_gateway_key("k");
        for _ in 0..5 {
            store.put(&t, &id(1), RECORD).await.unwrap();
        }
        store.put(&t, &id(2), RECORD).await.unwrap();
        assert_eq!(store.len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn records_expire_after_the_ttl() {
        let store = store(10, usize::MAX);
        let t = Tenant::from_gateway_key("k");
        store.put(&t, &id(1), RECORD).await.unwrap();
        tokio::time::advance(Duration::from_secs(30)).await;
        store.put(&t, &id(2), RECORD).await.unwrap();
        // Reading does not extend the time to live.
        assert!(kept(&store, &t, 1).await);
        tokio::time::advance(Duration::from_secs(31)).await;
        assert!(!kept(&store, &t, 1).await, "expired");
        assert!(kept(&store, &t, 2).await, "29 s left");
        assert_eq!(store.len(), 1, "the expired one is dropped");
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(!kept(&store, &t, 2).await);
        assert!(store.is_empty());
    }

    #[tokio::test]
    async fn only_the_tenant_that_kept_it_sees_or_deletes_it() {
        let store = store(10, usize::MAX);
        let alice = Tenant::from_aws_keys("AKIA1", "alice-secret");
        let mallory = Tenant::from_aws_keys("AKIA1", "guess");
        store.put(&alice, &id(1), RECORD).await.unwrap();
        assert_eq!(store.get(&mallory, &id(1)).await.unwrap(), None);
        assert!(!store.delete(&mallory, &id(1)).await.unwrap());
        assert!(kept(&store, &alice, 1).await);
        assert!(store.delete(&alice, &id(1)).await.unwrap());
        assert!(!kept(&store, &alice, 1).await);
        assert!(!store.delete(&alice, &id(1)).await.unwrap());
    }
}
