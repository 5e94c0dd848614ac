//! Shared fixtures: sample sessions and a Redis key prefix that cleans up after itself.

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

    /// The Redis server tests use.
    pub fn redis_url() -> String {
        std::env::var("CBI_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into())
    }

    /// A fresh key prefix; every key under it is deleted when this is dropped, even when the
    /// test failed.
    pub struct RedisPrefix {
        pub prefix: String,
    }

    impl RedisPrefix {
        pub fn new() -> Self {
            RedisPrefix {
                prefix: format!("cbi-test-{}:", cbi_types::SessionId::new()),
            }
        }

        /// A store under this prefix; panics with the store's message when Redis is not
        /// reachable, so a missing server fails the test loudly.
        pub async fn store(&self, ttl: Duration) -> RedisStore {
            RedisStore::connect(&redis_url(), self.prefix.clone(), ttl)
                .await
                .unwrap_or_else(|e| panic!("these tests need Redis at {}: {e}", redis_url()))
        }

        /// Every key under the prefix, sorted.
        pub fn keys(&self) -> Vec<String> {
            let mut conn = sync_conn();
            let mut keys: Vec<String> =
                redis::Commands::scan_match::<_, String>(&mut conn, format!("{}*", self.prefix))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
            keys.sort();
            keys
        }

        /// A plain connection, for looking at what the store wrote.
        pub fn conn(&self) -> redis::Connection {
            sync_conn()
        }
    }

    fn sync_conn() -> redis::Connection {
        redis::Client::open(redis_url())
            .unwrap()
            .get_connection_with_timeout(Duration::from_secs(3))
            .unwrap_or_else(|e| panic!("these tests need Redis at {}: {e}", redis_url()))
    }

    impl Drop for RedisPrefix {
        fn drop(&mut self) {
            let Ok(mut conn) = redis::Client::open(redis_url())
                .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(3)))
            else {
                return;
            };
            let keys: Vec<String> = match redis::Commands::scan_match::<_, String>(
                &mut conn,
                format!("{}*", self.prefix),
            ) {
                Ok(iter) => iter.filter_map(Result::ok).collect(),
                Err(_) => return,
            };
            if !keys.is_empty() {
                let _: redis::RedisResult<()> = redis::Commands::del(&mut conn, keys);
            }
        }
    }
}
