//! The shared tier in Redis: one string key per entry under a prefix, expiring with the
//! entry's time to live.

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::{CacheKey, Error, Result, SharedTier};

/// How long one Redis command may take before the cache answers without it.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);

/// A Redis server shared by several cbi processes.
#[derive(Clone)]
pub struct RedisTier {
    conn: ConnectionManager,
    prefix: String,
    target: String,
}

impl std::fmt::Debug for RedisTier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTier")
            .field("target", &self.target)
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl RedisTier {
    /// Connects to `url`; entries are stored under `{prefix}cache:`.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self> {
        let client = redis::Client::open(url).map_err(|e| {
            Error::Config(format!(
                "`cache.redis_url` is not a valid Redis URL ({})",
                e.detail().unwrap_or("it did not parse")
            ))
        })?;
        let target = client.get_connection_info().addr().to_string();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(1);
        let conn = tokio::time::timeout(
            Duration::from_secs(5),
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| Error::Shared(format!("cannot reach Redis at {target}")))?
        .map_err(|e| Error::Shared(format!("cannot reach Redis at {target}: {e}")))?;
        Ok(RedisTier {
            conn,
            prefix: format!("{prefix}cache:"),
            target,
        })
    }

    fn name(&self, key: &CacheKey) -> String {
        format!("{}{}", self.prefix, key.hex())
    }
}

#[async_trait::async_trait]
impl SharedTier for RedisTier {
    async fn get(&self, key: &CacheKey) -> Result<Option<Vec<u8>>> {
        let mut conn = self.conn.clone();
        conn.get::<_, Option<Vec<u8>>>(self.name(key))
            .await
            .map_err(|e| Error::Shared(format!("{}: {e}", self.target)))
    }

    async fn put(&self, key: &CacheKey, value: &[u8], ttl: Duration) -> Result<()> {
        let mut conn = self.conn.clone();
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        conn.pset_ex::<_, _, ()>(self.name(key), value, millis)
            .await
            .map_err(|e| Error::Shared(format!("{}: {e}", self.target)))
    }
}
