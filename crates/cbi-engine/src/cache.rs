//! The engine's two answer caches (`cbi-cache`) and what their keys are made of.
//!
//! - **SQL**: a question's generated SQL (and its confidence, reasons and explanation), keyed
//!   by the normalised question, the conversation it is read against (every turn's question
//!   and SQL, and a pending clarification), the database, schema fingerprint, semantic file,
//!   generator, the asker's permissions and the engine's options. The cached SQL is validated
//!   again for every answer: the validator checks what runs, cached or not.
//! - **Rows**: a validated statement's result, keyed by the database, schema fingerprint,
//!   the statement and the limits it ran under; kept for `cache.result_ttl_secs`.

use std::sync::Arc;
use std::time::Duration;

use cbi_cache::{KeyBuilder, SharedTier, TieredCache, normalize_question};
use cbi_nl2sql::SqlCandidate;
use cbi_types::config::CacheConfig;
use cbi_types::{Access, AugmentedSchema, Intent, QueryLimits, QueryResult, Session};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::EngineOptions;
use crate::{Error, Result};

/// Bumped when what a key covers or a cached value holds changes, so a shared tier written by
/// another version is never read.
const VERSION: &str = "1";

#[derive(Debug)]
pub(crate) struct Caches {
    pub(crate) sql: TieredCache<CachedSql>,
    pub(crate) rows: TieredCache<QueryResult>,
}

impl Caches {
    pub(crate) fn new(config: &CacheConfig, shared: Option<Arc<dyn SharedTier>>) -> Option<Self> {
        if !config.enable_query_cache {
            return None;
        }
        let sql_ttl = Duration::from_secs_f64((config.query_cache_ttl_hours * 3600.0).max(1.0));
        let rows_ttl = Duration::from_secs(config.result_ttl_secs.max(1));
        let size = config.query_cache_size.max(1);
        let mut sql = TieredCache::new(size, sql_ttl);
        let mut rows = TieredCache::new(size, rows_ttl);
        if let Some(tier) = shared {
            sql = sql.with_shared(tier.clone());
            rows = rows.with_shared(tier);
        }
        Some(Caches { sql, rows })
    }

    pub(crate) fn invalidate_all(&self) {
        self.sql.invalidate_all();
        self.rows.invalidate_all();
    }
}

/// What the SQL cache keeps of a generation: what the answer and its turn need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CachedSql {
    sql: String,
    confidence: f32,
    reasons: Vec<String>,
    explanation: String,
    intent: Intent,
    tables: Vec<String>,
    plan: Option<serde_json::Value>,
    verified: bool,
    generator: String,
}

impl CachedSql {
    pub(crate) fn of(g: &SqlCandidate, sql: &str) -> Self {
        CachedSql {
            sql: sql.to_string(),
            confidence: g.confidence,
            reasons: g.reasons.clone(),
            explanation: g.explanation.clone(),
            intent: g.intent,
            tables: g.tables.clone(),
            plan: g.plan.clone(),
            verified: g.verified,
            generator: g.generator.clone(),
        }
    }

    /// The generation again, with no model tokens spent.
    pub(crate) fn into_candidate(self) -> SqlCandidate {
        SqlCandidate {
            sql: Some(self.sql),
            confidence: self.confidence,
            reasons: self.reasons,
            explanation: self.explanation,
            intent: self.intent,
            tables: self.tables,
            plan: self.plan,
            verified: self.verified,
            clarification: None,
            usage: Default::default(),
            cost_usd: 0.0,
            generator: self.generator,
        }
    }
}

/// The key of a question's SQL. Everything the resolver and generator read is in it.
pub(crate) fn sql_key(
    session: &Session,
    schema: &AugmentedSchema,
    semantic_digest: &str,
    access: &Access,
    generator: &str,
    question: &str,
    opts: &EngineOptions,
) -> cbi_cache::CacheKey {
    let mut k = KeyBuilder::new("sql");
    k.text("version", VERSION)
        .text("database", &session.database)
        .text("schema", &schema.fingerprint)
        .text("semantic", semantic_digest)
        .text("access", &access.fingerprint())
        .text("generator", generator)
        .text("question", &normalize_question(question))
        .text(
            "reference_date",
            &opts
                .reference_date
                .map(|d| d.to_string())
                .unwrap_or_default(),
        )
        .text("clarify", if opts.clarify { "1" } else { "0" })
        .text("follow_ups", if opts.follow_ups { "1" } else { "0" });
    let ctx = &session.context;
    for t in &ctx.turns {
        k.text("turn.question", &t.user_query)
            .text("turn.sql", t.sql.as_deref().unwrap_or(""))
            .text("turn.intent", &format!("{:?}", t.intent));
    }
    if let Some(c) = &ctx.pending_clarification {
        k.part(
            "pending",
            &serde_json::to_vec(c).unwrap_or_else(|_| b"?".to_vec()),
        );
    }
    k.text("focus", ctx.current_focus.as_deref().unwrap_or(""));
    k.finish()
}

/// The key of a validated statement's rows.
pub(crate) fn rows_key(
    database: &str,
    schema: &AugmentedSchema,
    sql: &str,
    limits: &QueryLimits,
) -> cbi_cache::CacheKey {
    KeyBuilder::new("rows")
        .text("version", VERSION)
        .text("database", database)
        .text("schema", &schema.fingerprint)
        .text("sql", sql)
        .text(
            "limits",
            &format!(
                "{}/{}/{}",
                limits.max_rows,
                limits.max_bytes,
                limits.timeout.as_millis()
            ),
        )
        .finish()
}

/// A digest of the semantic model a schema view carries (descriptions, terms, verified
/// queries): a changed semantic file changes every SQL key.
pub(crate) fn semantic_digest(schema: &AugmentedSchema) -> String {
    let bytes = serde_json::to_vec(&schema.semantic).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// The shared tier the configuration names, connected.
pub(crate) async fn shared_cache_tier(config: &CacheConfig) -> Result<Option<Arc<dyn SharedTier>>> {
    let Some(url) = &config.redis_url else {
        return Ok(None);
    };
    if !config.enable_query_cache {
        return Ok(None);
    }
    connect(url.expose(), &config.redis_prefix).await.map(Some)
}

#[cfg(feature = "redis")]
async fn connect(url: &str, prefix: &str) -> Result<Arc<dyn SharedTier>> {
    let tier = cbi_cache::RedisTier::connect(url, prefix)
        .await
        .map_err(|e| Error::Config(e.to_string()))?;
    Ok(Arc::new(tier))
}

#[cfg(not(feature = "redis"))]
async fn connect(_: &str, _: &str) -> Result<Arc<dyn SharedTier>> {
    Err(Error::Config(
        "cache.redis_url is set, but this build of cbi has no Redis support; rebuild with \
         the `redis` feature or remove cache.redis_url"
            .into(),
    ))
}
