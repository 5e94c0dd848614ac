//! cbi's answer caches.
//!
//! An answer is reused only when everything it depends on is the same, so a cache key is a
//! SHA-256 digest over named parts ([`KeyBuilder`]): the engine puts in the normalised
//! question, the conversation the question is read against, the schema fingerprint, the
//! semantic file, the generator and the asker's permissions (for generated SQL), or the
//! database and the validated SQL (for rows). A changed schema or semantic file changes
//! every key, so stale entries are never found again; [`TieredCache::invalidate_all`] also
//! frees them.
//!
//! [`TieredCache`] keeps values in process (moka, bounded, with a time to live) and, when
//! given a [`SharedTier`] such as [`RedisTier`] (feature `redis`), in a store several
//! processes share. A shared tier that fails is a miss, never an error: a cache can make an
//! answer faster, not fail it. Hits and misses are counted per tier ([`CacheStats`]).
//!
//! Invariant: a value comes back only for the exact key it was stored under; nothing is
//! matched by similarity here.

mod error;
#[cfg(feature = "redis")]
mod redis_tier;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

pub use error::{Error, ErrorKind, Result};
#[cfg(feature = "redis")]
pub use redis_tier::RedisTier;

/// A cache key: the SHA-256 of everything the cached value depends on.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey([u8; 32]);

impl CacheKey {
    /// The key as 64 hex digits (how a shared tier names it).
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheKey({})", &self.hex()[..12])
    }
}

/// Builds a [`CacheKey`] from named parts. Each part is length-prefixed, so `("ab", "c")`
/// and `("a", "bc")` give different keys.
#[derive(Debug, Clone)]
pub struct KeyBuilder(Sha256);

impl KeyBuilder {
    /// A key of one kind (`"sql"`, `"rows"`): keys of different kinds never collide.
    pub fn new(kind: &str) -> Self {
        let mut b = KeyBuilder(Sha256::new());
        b.part("kind", kind.as_bytes());
        b
    }

    pub fn part(&mut self, name: &str, value: &[u8]) -> &mut Self {
        for bytes in [name.as_bytes(), value] {
            self.0.update((bytes.len() as u64).to_le_bytes());
            self.0.update(bytes);
        }
        self
    }

    pub fn text(&mut self, name: &str, value: &str) -> &mut Self {
        self.part(name, value.as_bytes())
    }

    pub fn finish(&self) -> CacheKey {
        CacheKey(self.0.clone().finalize().into())
    }
}

/// A question as its cache key reads it: lower case, words separated by one space, without
/// the closing punctuation — "Revenue by  region?" and "revenue by region" are the same
/// question. Values, dates and negations are kept word for word.
pub fn normalize_question(q: &str) -> String {
    let words: Vec<String> = q.split_whitespace().map(str::to_lowercase).collect();
    let mut s = words.join(" ");
    while s.ends_with(['?', '.', '!']) {
        s.pop();
    }
    s.trim_end().to_string()
}

/// Which tier a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// This process's memory.
    Local,
    /// The shared store (Redis).
    Shared,
}

impl Tier {
    pub fn name(self) -> &'static str {
        match self {
            Tier::Local => "local",
            Tier::Shared => "shared",
        }
    }
}

/// A store several processes share. Values are bytes; the tier keeps them for `ttl`.
#[async_trait::async_trait]
pub trait SharedTier: Send + Sync + fmt::Debug {
    async fn get(&self, key: &CacheKey) -> Result<Option<Vec<u8>>>;
    async fn put(&self, key: &CacheKey, value: &[u8], ttl: Duration) -> Result<()>;
}

/// How often a cache answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct CacheStats {
    pub local_hits: u64,
    pub shared_hits: u64,
    pub misses: u64,
    pub inserts: u64,
    /// Failures of the shared tier (each counted as a miss too).
    pub shared_errors: u64,
    /// Entries in this process now.
    pub entries: u64,
}

#[derive(Debug, Default)]
struct Counters {
    local_hits: AtomicU64,
    shared_hits: AtomicU64,
    misses: AtomicU64,
    inserts: AtomicU64,
    shared_errors: AtomicU64,
}

/// An exact cache with an in-process tier and an optional shared one.
pub struct TieredCache<V> {
    local: moka::sync::Cache<CacheKey, V>,
    shared: Option<Arc<dyn SharedTier>>,
    ttl: Duration,
    counters: Counters,
}

impl<V> fmt::Debug for TieredCache<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TieredCache")
            .field("entries", &self.local.entry_count())
            .field("ttl", &self.ttl)
            .field("shared", &self.shared)
            .finish()
    }
}

impl<V> TieredCache<V>
where
    V: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
{
    /// At most `capacity` values in process, each kept for `ttl` (in both tiers).
    pub fn new(capacity: u64, ttl: Duration) -> Self {
        TieredCache {
            local: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            shared: None,
            ttl,
            counters: Counters::default(),
        }
    }

    /// Also keeps values in `tier`, and looks there on a local miss.
    pub fn with_shared(mut self, tier: Arc<dyn SharedTier>) -> Self {
        self.shared = Some(tier);
        self
    }

    /// The value stored under `key`, and where it was found.
    pub async fn get(&self, key: &CacheKey) -> Option<(V, Tier)> {
        if let Some(v) = self.local.get(key) {
            self.counters.local_hits.fetch_add(1, Ordering::Relaxed);
            return Some((v, Tier::Local));
        }
        if let Some(shared) = &self.shared {
            match shared.get(key).await {
                Ok(Some(bytes)) => match serde_json::from_slice::<V>(&bytes) {
                    Ok(v) => {
                        self.counters.shared_hits.fetch_add(1, Ordering::Relaxed);
                        self.local.insert(*key, v.clone());
                        return Some((v, Tier::Shared));
                    }
                    Err(e) => {
                        // Written by another version of cbi: treated as absent.
                        tracing::debug!("a shared cache entry did not read back: {e}");
                    }
                },
                Ok(None) => {}
                Err(e) => {
                    self.counters.shared_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!("the shared cache failed; answering without it: {e}");
                }
            }
        }
        self.counters.misses.fetch_add(1, Ordering::Relaxed);
        None
    }

    /// Stores `value` under `key` in every tier.
    pub async fn insert(&self, key: CacheKey, value: V) {
        self.counters.inserts.fetch_add(1, Ordering::Relaxed);
        if let Some(shared) = &self.shared {
            match serde_json::to_vec(&value) {
                Ok(bytes) => {
                    if let Err(e) = shared.put(&key, &bytes, self.ttl).await {
                        self.counters.shared_errors.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!("the shared cache failed to store an entry: {e}");
                    }
                }
                Err(e) => tracing::debug!("a cache entry did not serialize: {e}"),
            }
        }
        self.local.insert(key, value);
    }

    /// Forgets everything this process holds (the shared tier's entries expire; their keys
    /// name the schema and semantic file they were made for, so they are not found again
    /// after either changes).
    pub fn invalidate_all(&self) {
        self.local.invalidate_all();
    }

    pub fn stats(&self) -> CacheStats {
        let c = &self.counters;
        CacheStats {
            local_hits: c.local_hits.load(Ordering::Relaxed),
            shared_hits: c.shared_hits.load(Ordering::Relaxed),
            misses: c.misses.load(Ordering::Relaxed),
            inserts: c.inserts.load(Ordering::Relaxed),
            shared_errors: c.shared_errors.load(Ordering::Relaxed),
            entries: self.local.entry_count(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn key(parts: &[(&str, &str)]) -> CacheKey {
        let mut b = KeyBuilder::new("test");
        for (n, v) in parts {
            b.text(n, v);
        }
        b.finish()
    }

    #[test]
    fn every_part_and_its_boundaries_change_the_key() {
        let base = key(&[("question", "revenue by region"), ("schema", "abc")]);
        assert_eq!(
            base,
            key(&[("question", "revenue by region"), ("schema", "abc")])
        );
        for other in [
            key(&[("question", "revenue by regio"), ("schema", "nabc")]),
            key(&[("question", "revenue by region"), ("schema", "abd")]),
            key(&[("question", "revenue by region")]),
            key(&[("schema", "abc"), ("question", "revenue by region")]),
        ] {
            assert_ne!(base, other);
        }
        assert_ne!(
            KeyBuilder::new("sql").finish(),
            KeyBuilder::new("rows").finish()
        );
    }

    #[test]
    fn questions_normalise_only_case_spaces_and_closing_punctuation() {
        fn check(a: &str, b: &str, same: bool) {
            assert_eq!(
                normalize_question(a) == normalize_question(b),
                same,
                "{a:?} vs {b:?}"
            );
        }
        check("Revenue by  region?", "revenue by region", true);
        check("  how many orders !", "How many orders", true);
        check("revenue in 2023", "revenue in 2024", false);
        check("orders not shipped", "orders shipped", false);
        check("revenue by region", "revenue by store", false);
        check("top 5 customers", "top 10 customers", false);
    }

    #[tokio::test]
    async fn values_come_back_by_exact_key_and_are_counted() {
        let c: TieredCache<String> = TieredCache::new(100, Duration::from_secs(60));
        let k = key(&[("q", "a")]);
        assert_eq!(c.get(&k).await, None);
        c.insert(k, "x".into()).await;
        assert_eq!(c.get(&k).await, Some(("x".to_string(), Tier::Local)));
        assert_eq!(c.get(&key(&[("q", "b")])).await, None);
        let s = c.stats();
        assert_eq!((s.local_hits, s.misses, s.inserts), (1, 2, 1));
        c.invalidate_all();
        assert_eq!(c.get(&k).await, None);
    }

    #[tokio::test]
    async fn entries_expire_after_their_time_to_live() {
        let c: TieredCache<u32> = TieredCache::new(10, Duration::from_millis(50));
        let k = key(&[("q", "a")]);
        c.insert(k, 1).await;
        assert!(c.get(&k).await.is_some());
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(c.get(&k).await, None);
    }

    /// A shared tier in memory that can be told to fail.
    #[derive(Debug, Default)]
    struct Shared {
        map: Mutex<std::collections::HashMap<CacheKey, Vec<u8>>>,
        broken: std::sync::atomic::AtomicBool,
    }

    #[async_trait::async_trait]
    impl SharedTier for Shared {
        async fn get(&self, key: &CacheKey) -> Result<Option<Vec<u8>>> {
            if self.broken.load(Ordering::Relaxed) {
                return Err(Error::Shared("down".into()));
            }
            Ok(self.map.lock().unwrap().get(key).cloned())
        }
        async fn put(&self, key: &CacheKey, value: &[u8], _: Duration) -> Result<()> {
            if self.broken.load(Ordering::Relaxed) {
                return Err(Error::Shared("down".into()));
            }
            self.map.lock().unwrap().insert(*key, value.to_vec());
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_second_process_finds_what_the_first_stored_and_a_broken_tier_is_a_miss() {
        let shared = Arc::new(Shared::default());
        let one: TieredCache<Vec<u32>> =
            TieredCache::new(10, Duration::from_secs(60)).with_shared(shared.clone());
        let two: TieredCache<Vec<u32>> =
            TieredCache::new(10, Duration::from_secs(60)).with_shared(shared.clone());
        let k = key(&[("q", "a")]);
        one.insert(k, vec![1, 2]).await;
        assert_eq!(two.get(&k).await, Some((vec![1, 2], Tier::Shared)));
        assert_eq!(two.get(&k).await, Some((vec![1, 2], Tier::Local)));

        shared.broken.store(true, Ordering::Relaxed);
        let three: TieredCache<Vec<u32>> =
            TieredCache::new(10, Duration::from_secs(60)).with_shared(shared.clone());
        assert_eq!(three.get(&k).await, None);
        three.insert(k, vec![3]).await;
        let s = three.stats();
        assert_eq!((s.misses, s.shared_errors), (1, 2));
        // Still served from this process.
        assert_eq!(three.get(&k).await, Some((vec![3], Tier::Local)));
    }
}
