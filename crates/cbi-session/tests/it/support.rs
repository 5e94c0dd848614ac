//! Shared fixtures: sample sessions, and a store under a Redis key prefix that cleans up after
//! itself (cbi-testkit's `RedisPrefix`).

use cbi_types::{Clarification, ClarificationOption, ConversationTurn, Intent, Session};
use chrono::{Duration, Utc};

/// A session with several turns and every optional part of its context filled, so a
/// round trip through a store would notice a field lost or altered.
pub fn rich_session(user: &str) -> Session {
    let mut s = Session::new(user, "shop");
    let t0 = Utc::now() - Duration::minutes(5);
    for n in 1..=4u32 {
        s.context.push_turn(
            ConversationTurn {
                turn_id: n,
                timestamp: t0 + Duration::seconds(i64::from(n) * 7),
                user_query: format!("question {n}: what about “ünïcode” and 'quotes'?"),
                sql: (n % 2 == 1).then(|| {
                    format!("SELECT region, SUM(amount) FROM sales WHERE y = {n} GROUP BY 1")
                }),
                results_summary: Some(format!("{n} rows")),
                entities_mentioned: vec!["sales".into(), format!("region{n}")],
                intent: if n == 4 {
                    Intent::Compare
                } else {
                    Intent::Query
                },
                plan: (n == 3)
                    .then(|| serde_json::json!({"measures": ["sum(amount)"], "limit": 5})),
            },
            20,
        );
    }
    s.turn_count = 4;
    s.context.mentioned_tables.insert("sales".into());
    s.context.mentioned_tables.insert("regions".into());
    s.context
        .mentioned_columns
        .insert("amount".into(), "sales".into());
    s.context.current_focus = Some("sales".into());
    s.context.pending_clarification = Some(Clarification {
        question: "Which revenue do you mean?".into(),
        options: vec![ClarificationOption {
            label: "orders.total".into(),
            payload: serde_json::json!({"column": "orders.total"}),
        }],
        original_query: "revenue by month".into(),
    });
    s
}

/// A turn as the engine would record it (the manager numbers it).
pub fn turn(query: &str) -> ConversationTurn {
    ConversationTurn {
        turn_id: 0,
        timestamp: Utc::now(),
        user_query: query.to_string(),
        sql: Some("SELECT 1".into()),
        results_summary: None,
        entities_mentioned: vec![],
        intent: Intent::Query,
        plan: None,
    }
}

#[cfg(feature = "redis")]
pub use redis_support::*;

#[cfg(feature = "redis")]
mod redis_support {
    use std::time::Duration;

    use cbi_session::RedisStore;
    use cbi_testkit::RedisPrefix;
    pub use cbi_testkit::redis_url;

    /// A fresh key prefix, deleted with every key under it when dropped.
    pub fn redis_prefix() -> RedisPrefix {
        RedisPrefix::new("cbi_session")
    }

    /// A store under `prefix`; panics with the store's message when Redis is not reachable, so
    /// a missing server fails the test loudly.
    pub async fn store_under(prefix: &RedisPrefix, ttl: Duration) -> RedisStore {
        RedisStore::connect(&prefix.url, prefix.prefix.clone(), ttl)
            .await
            .unwrap_or_else(|e| panic!("these tests need Redis at {}: {e}", prefix.url))
    }
}
