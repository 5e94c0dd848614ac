use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use cbi_types::{Session, SessionId, SessionStore};
use chrono::{DateTime, Utc};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};

use crate::error::store_err;

/// Longest a single TCP connect to Redis may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest the whole initial connection (with its retries) may take before `connect` gives up.
const CONNECT_DEADLINE: Duration = Duration::from_secs(8);
/// Longest one command may wait for its answer.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle sessions removed per script call, so one call never blocks Redis for long.
const REMOVE_BATCH: usize = 500;

/// Removes one session and its index entries. Shared by the scripts below.
const DROP_SESSION_LUA: &str = r#"
local function drop_session(prefix, id)
  local key = prefix .. 'session:' .. id
  redis.call('ZREM', prefix .. 'last_accessed', id)
  local raw = redis.call('GET', key)
  if not raw then return 0 end
  local ok, s = pcall(cjson.decode, raw)
  if ok and type(s) == 'table' and type(s.user_id) == 'string' then
    redis.call('SREM', prefix .. 'user:' .. s.user_id, id)
  end
  redis.call('DEL', key)
  return 1
end
"#;

/// ARGV: prefix, id. Returns 1 when the session existed.
static DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{DROP_SESSION_LUA}return drop_session(ARGV[1], ARGV[2])"
    ))
});

/// ARGV: prefix, cutoff (microseconds), batch size. Returns {ids looked at, {ids removed}}.
static REMOVE_IDLE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r#"{DROP_SESSION_LUA}
local ids = redis.call('ZRANGEBYSCORE', ARGV[1] .. 'last_accessed', '-inf', '(' .. ARGV[2],
                       'LIMIT', 0, tonumber(ARGV[3]))
local removed = {{}}
for _, id in ipairs(ids) do
  if drop_session(ARGV[1], id) == 1 then removed[#removed + 1] = id end
end
return {{#ids, removed}}
"#
    ))
});

/// Sessions on a Redis server, so several cbi processes (or machines) share them.
///
/// Every key starts with a prefix, so several deployments can share one server:
///
/// - `<prefix>session:<id>`: the session as JSON, expiring after the idle timeout (the
///   expiry is renewed on every save, so Redis itself drops abandoned sessions);
/// - `<prefix>user:<user_id>`: a set of that user's session ids (ids whose session has
///   expired are pruned when the user's sessions are listed);
/// - `<prefix>last_accessed`: a sorted set of session ids scored by last access
///   (microseconds since the epoch), which [`remove_idle`](SessionStore::remove_idle) reads
///   so expiry follows the sessions' own `last_accessed`, not only Redis's timers.
///
/// A save writes all three in one `MULTI`; a delete or an idle sweep runs as one Lua script,
/// so no other client sees a session half-removed. Connections go through a
/// [`ConnectionManager`], which reconnects after the server restarts.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
    ttl: Duration,
    /// `host:port` for messages; never the URL, which may hold a password.
    target: String,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("target", &self.target)
            .field("prefix", &self.prefix)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to the server at `url` (`redis://[:password@]host[:port][/db]`), keeping
    /// every key under `prefix` and letting sessions expire after `ttl` without a save.
    ///
    /// Gives up within a few seconds when the server cannot be reached, with a message naming
    /// `host:port` but never the password.
    pub async fn connect(
        url: &str,
        prefix: impl Into<String>,
        ttl: Duration,
    ) -> crate::Result<Self> {
        let client = redis::Client::open(url).map_err(|e| {
            crate::Error::Config(format!(
                "`session.redis_url` is not a valid Redis URL ({}); expected \
                 redis://[[user]:password@]host[:port][/db]",
                e.detail().unwrap_or("it did not parse")
            ))
        })?;
        let info = client.get_connection_info();
        let target = info.addr().to_string();
        let password = info.redis_settings().password().map(str::to_string);
        let scrub = |msg: String| match &password {
            Some(p) if !p.is_empty() => msg.replace(p.as_str(), "****"),
            _ => msg,
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        let conn = tokio::time::timeout(
            CONNECT_DEADLINE,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| {
            store_err(format!(
                "cannot reach Redis at {target}: no answer within {} s",
                CONNECT_DEADLINE.as_secs()
            ))
        })?
        .map_err(|e| store_err(scrub(format!("cannot reach Redis at {target}: {e}"))))?;
        Ok(RedisStore {
            conn,
            prefix: prefix.into(),
            ttl,
            target,
        })
    }

    /// The prefix every key of this store starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn session_key(&self, id: &str) -> String {
        format!("{}session:{id}", self.prefix)
    }

    fn user_key(&self, user: &str) -> String {
        format!("{}user:{user}", self.prefix)
    }

    fn index_key(&self) -> String {
        format!("{}last_accessed", self.prefix)
    }

    /// The expiry in milliseconds: at least 1, and at most a century (Redis refuses more).
    fn ttl_ms(&self) -> u64 {
        const CENTURY_MS: u64 = 100 * 365 * 24 * 3600 * 1000;
        u64::try_from(self.ttl.as_millis())
            .unwrap_or(CENTURY_MS)
            .clamp(1, CENTURY_MS)
    }

    fn fail(&self, what: &'static str) -> impl Fn(redis::RedisError) -> cbi_types::Error + '_ {
        move |e| {
            let why = if e.is_timeout() {
                format!("no answer within {} s", RESPONSE_TIMEOUT.as_secs())
            } else {
                e.to_string()
            };
            store_err(format!("Redis at {}: {what}: {why}", self.target))
        }
    }
}

fn parse_id(id: &str, target: &str) -> cbi_types::Result<SessionId> {
    id.parse().map_err(|_| {
        store_err(format!(
            "Redis at {target} holds a malformed session id `{id}`"
        ))
    })
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn load(&self, id: SessionId) -> cbi_types::Result<Option<Session>> {
        let mut conn = self.conn.clone();
        let json: Option<String> = conn
            .get(self.session_key(&id.to_string()))
            .await
            .map_err(self.fail("reading a session"))?;
        json.map(|json| {
            serde_json::from_str(&json).map_err(|e| {
                store_err(format!(
                    "session `{id}` in Redis at {} cannot be read ({e}); it may have been \
                     written by a newer version of cbi",
                    self.target
                ))
            })
        })
        .transpose()
    }

    async fn save(&self, session: &Session) -> cbi_types::Result<()> {
        let json = serde_json::to_string(session)
            .map_err(|e| store_err(format!("cannot encode session `{}`: {e}", session.id)))?;
        let id = session.id.to_string();
        let ttl = self.ttl_ms();
        let user_key = self.user_key(&session.user_id);
        let mut conn = self.conn.clone();
        redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(self.session_key(&id))
            .arg(json)
            .arg("PX")
            .arg(ttl)
            .ignore()
            .sadd(&user_key, &id)
            .ignore()
            .pexpire(&user_key, i64::try_from(ttl).unwrap_or(i64::MAX))
            .ignore()
            .zadd(
                self.index_key(),
                &id,
                session.last_accessed.timestamp_micros(),
            )
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(self.fail("saving a session"))
    }

    async fn delete(&self, id: SessionId) -> cbi_types::Result<bool> {
        let mut conn = self.conn.clone();
        let n: i64 = DELETE
            .prepare_invoke()
            .arg(&self.prefix)
            .arg(id.to_string())
            .invoke_async(&mut conn)
            .await
            .map_err(self.fail("deleting a session"))?;
        Ok(n == 1)
    }

    async fn list_user(&self, user_id: &str) -> cbi_types::Result<Vec<SessionId>> {
        let mut conn = self.conn.clone();
        let user_key = self.user_key(user_id);
        let members: Vec<String> = conn
            .smembers(&user_key)
            .await
            .map_err(self.fail("listing a user's sessions"))?;
        if members.is_empty() {
            return Ok(Vec::new());
        }
        let mut check = redis::pipe();
        for id in &members {
            check.exists(self.session_key(id));
        }
        let alive: Vec<bool> = check
            .query_async(&mut conn)
            .await
            .map_err(self.fail("listing a user's sessions"))?;
        let (live, gone): (Vec<_>, Vec<_>) = members
            .into_iter()
            .zip(alive)
            .partition(|(_, alive)| *alive);
        if !gone.is_empty() {
            let gone: Vec<String> = gone.into_iter().map(|(id, _)| id).collect();
            let mut prune = redis::pipe();
            prune.srem(&user_key, &gone).ignore();
            prune.zrem(self.index_key(), &gone).ignore();
            prune
                .query_async::<()>(&mut conn)
                .await
                .map_err(self.fail("pruning expired sessions"))?;
        }
        live.iter()
            .map(|(id, _)| parse_id(id, &self.target))
            .collect()
    }

    async fn remove_idle(&self, cutoff: DateTime<Utc>) -> cbi_types::Result<Vec<SessionId>> {
        let mut conn = self.conn.clone();
        let cutoff = cutoff.timestamp_micros();
        let mut removed = Vec::new();
        loop {
            let (seen, ids): (usize, Vec<String>) = REMOVE_IDLE
                .prepare_invoke()
                .arg(&self.prefix)
                .arg(cutoff)
                .arg(REMOVE_BATCH)
                .invoke_async(&mut conn)
                .await
                .map_err(self.fail("removing idle sessions"))?;
            for id in &ids {
                removed.push(parse_id(id, &self.target)?);
            }
            if seen < REMOVE_BATCH {
                return Ok(removed);
            }
        }
    }
}
