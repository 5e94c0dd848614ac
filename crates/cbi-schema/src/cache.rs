//! `SchemaCache`: one augmented schema per database, rebuilt only when the catalog changes.
//!
//! Augmenting reads data (value frequencies, ranges), so it is the slow part; introspecting the
//! catalog is cheap. The cache therefore keys entries by database and remembers the catalog
//! fingerprint: on a check it re-reads the catalog, and only when the fingerprint (or the
//! semantic file) differs does it augment again. Between checks (`recheck_interval`) it answers
//! from memory without touching the database. With a directory, entries also persist across
//! processes, so a command-line run does not re-profile an unchanged database.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use cbi_types::{AugmentedSchema, Connection, SemanticModel};
use sha2::{Digest, Sha256};

use crate::augment::{SchemaAugmenter, fingerprint};
use crate::introspect::SchemaIntrospector;
use crate::{Error, Result};

/// How the cache behaves.
#[derive(Debug, Clone)]
pub struct CacheOptions {
    /// Where augmented schemas are persisted; `None` keeps them in memory only.
    pub dir: Option<PathBuf>,
    /// How long an entry is trusted before the catalog is read again to check for changes.
    pub recheck_interval: Duration,
    /// How old a persisted entry may be before its data profile is rebuilt even if the catalog
    /// is unchanged (value samples go stale as data changes).
    pub max_age: Duration,
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions {
            dir: None,
            recheck_interval: Duration::from_secs(60),
            max_age: Duration::from_secs(24 * 3600),
        }
    }
}

/// The layout of a persisted entry; a file of another layout (or one whose value keys were
/// normalised differently) is never read back.
const FORMAT: &str = "v2";

#[derive(Debug)]
struct Entry {
    schema: Arc<AugmentedSchema>,
    semantic_hash: String,
    checked: Instant,
}

/// Augmented schemas by database key.
#[derive(Debug)]
pub struct SchemaCache {
    augmenter: SchemaAugmenter,
    opts: CacheOptions,
    entries: Mutex<HashMap<String, Entry>>,
    /// Serialises building per key, so concurrent first questions augment once.
    building: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Where an answer came from, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// From memory without reading the catalog.
    Fresh,
    /// From memory after the catalog was re-read and found unchanged.
    Revalidated,
    /// From the cache directory.
    Disk,
    /// Built now (first use, or the schema or semantic file changed).
    Built,
}

impl SchemaCache {
    pub fn new(augmenter: SchemaAugmenter, opts: CacheOptions) -> Self {
        SchemaCache {
            augmenter,
            opts,
            entries: Mutex::new(HashMap::new()),
            building: Mutex::new(HashMap::new()),
        }
    }

    /// The augmented schema of the database behind `conn`. `key` identifies the database
    /// (a connection string without its password); `semantic` is the user's semantic model.
    pub async fn get(
        &self,
        key: &str,
        conn: &Arc<dyn Connection>,
        semantic: &SemanticModel,
    ) -> Result<Arc<AugmentedSchema>> {
        self.get_traced(key, conn, semantic).await.map(|(s, _)| s)
    }

    /// Like [`SchemaCache::get`], also saying where the answer came from.
    pub async fn get_traced(
        &self,
        key: &str,
        conn: &Arc<dyn Connection>,
        semantic: &SemanticModel,
    ) -> Result<(Arc<AugmentedSchema>, CacheOutcome)> {
        let semantic_hash = semantic_hash(semantic);
        if let Some(s) = self.fresh(key, &semantic_hash) {
            return Ok((s, CacheOutcome::Fresh));
        }
        let key_lock = {
            let mut building = lock(&self.building);
            building.entry(key.to_string()).or_default().clone()
        };
        let _guard = key_lock.lock().await;
        if let Some(s) = self.fresh(key, &semantic_hash) {
            return Ok((s, CacheOutcome::Fresh));
        }
        let schema = SchemaIntrospector::new(conn.clone()).introspect().await?;
        let fp = fingerprint(&schema);
        {
            let mut entries = lock(&self.entries);
            if let Some(e) = entries.get_mut(key) {
                if e.schema.fingerprint == fp && e.semantic_hash == semantic_hash {
                    e.checked = Instant::now();
                    return Ok((e.schema.clone(), CacheOutcome::Revalidated));
                }
            }
        }
        let file = self.opts.dir.as_ref().map(|d| {
            d.join(format!(
                "{}-{fp}-{semantic_hash}-{FORMAT}.json",
                short_hash(key)
            ))
        });
        if let Some(path) = &file {
            if let Some(s) = read_fresh(path, self.opts.max_age) {
                let s = Arc::new(s);
                self.remember(key, s.clone(), semantic_hash);
                return Ok((s, CacheOutcome::Disk));
            }
        }
        let aug = Arc::new(
            self.augmenter
                .augment(conn.as_ref(), schema, semantic.clone())
                .await?,
        );
        if let Some(path) = &file {
            if let Err(e) = write_atomic(path, &aug) {
                tracing::warn!(error = %e, "schema cache not persisted");
            }
        }
        self.remember(key, aug.clone(), semantic_hash);
        Ok((aug, CacheOutcome::Built))
    }

    /// Forgets a database, so the next `get` re-reads it.
    pub fn invalidate(&self, key: &str) {
        lock(&self.entries).remove(key);
    }

    fn fresh(&self, key: &str, semantic_hash: &str) -> Option<Arc<AugmentedSchema>> {
        let entries = lock(&self.entries);
        let e = entries.get(key)?;
        (e.semantic_hash == semantic_hash && e.checked.elapsed() < self.opts.recheck_interval)
            .then(|| e.schema.clone())
    }

    fn remember(&self, key: &str, schema: Arc<AugmentedSchema>, semantic_hash: String) {
        lock(&self.entries).insert(
            key.to_string(),
            Entry {
                schema,
                semantic_hash,
                checked: Instant::now(),
            },
        );
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data behind; keep using it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn short_hash(s: &str) -> String {
    hex::encode(&Sha256::digest(s.as_bytes())[..8])
}

fn semantic_hash(m: &SemanticModel) -> String {
    if m.is_empty() {
        return "none".to_string();
    }
    let json = serde_json::to_string(m).unwrap_or_default();
    short_hash(&json)
}

fn read_fresh(path: &Path, max_age: Duration) -> Option<AugmentedSchema> {
    let meta = std::fs::metadata(path).ok()?;
    let age = SystemTime::now()
        .duration_since(meta.modified().ok()?)
        .unwrap_or_default();
    if age > max_age {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable schema cache file");
            None
        }
    }
}

fn write_atomic(path: &Path, schema: &AugmentedSchema) -> Result<()> {
    let err = |message: String| Error::Cache {
        path: path.to_path_buf(),
        message,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    }
    let json = serde_json::to_vec(schema).map_err(|e| err(e.to_string()))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, json).map_err(|e| err(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| err(e.to_string()))
}
