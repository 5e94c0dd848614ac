use std::hash::Hash;
use std::sync::{Arc, Weak};
use std::time::Duration;

use cbi_types::{ConversationContext, ConversationTurn, Session, SessionId, SessionStore};
use chrono::{DateTime, Utc};
use dashmap::DashMap;
use tokio::sync::{Mutex, OwnedMutexGuard};
use tokio::task::JoinHandle;

use crate::{Error, Result};

/// The limits a [`SessionManager`] enforces.
///
/// Build it from the configuration file's section with `SessionConfig::from(&config.session)`;
/// the defaults are the configuration file's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Live sessions one user may hold at once; creating one more is refused. Idle-expired
    /// sessions do not count, even before [`SessionManager::expire_idle`] has removed them.
    pub max_sessions_per_user: usize,
    /// How long a session may go untouched before it counts as expired.
    pub idle_timeout: Duration,
    /// Turns kept in a session's context; older ones are dropped (the count goes on).
    pub max_turns: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            max_sessions_per_user: 10,
            idle_timeout: Duration::from_secs(30 * 60),
            max_turns: 20,
        }
    }
}

impl From<&cbi_types::config::SessionConfig> for SessionConfig {
    fn from(c: &cbi_types::config::SessionConfig) -> Self {
        SessionConfig {
            max_sessions_per_user: c.max_sessions_per_user,
            idle_timeout: Duration::from_secs(c.idle_timeout_minutes.saturating_mul(60)),
            max_turns: c.max_turns,
        }
    }
}

impl From<cbi_types::config::SessionConfig> for SessionConfig {
    fn from(c: cbi_types::config::SessionConfig) -> Self {
        SessionConfig::from(&c)
    }
}

/// Creates, reads, updates and expires conversation sessions in a [`SessionStore`].
///
/// The store only stores; this is where policy lives: the per-user session limit, idle expiry,
/// and trimming the context to `max_turns`. A session idle longer than the timeout is treated
/// as gone by every method, whether or not [`expire_idle`](Self::expire_idle) has removed it
/// yet.
///
/// # Concurrency
///
/// Within one process, changes to one session are serialised by a per-session lock, so two
/// concurrent [`record_turn`](Self::record_turn) calls both land, and session creation for one
/// user is serialised so the limit holds. Across processes sharing a SQLite file or a Redis
/// server there is no such lock: each change is a load-modify-save, and when two processes
/// change the same session at the same moment the last writer wins (one of the turns is
/// lost). A conversation normally lives in one process at a time, so this is accepted rather
/// than paid for with distributed locking; the per-user limit across processes is likewise
/// best effort.
#[derive(Debug)]
pub struct SessionManager {
    store: Arc<dyn SessionStore>,
    config: SessionConfig,
    session_locks: KeyedLocks<SessionId>,
    user_locks: KeyedLocks<String>,
}

impl SessionManager {
    /// A manager over a store. Spawns nothing, so it can be built outside a Tokio runtime;
    /// call [`spawn_expiry_task`](Self::spawn_expiry_task) to expire idle sessions in the
    /// background.
    pub fn new(store: Arc<dyn SessionStore>, config: SessionConfig) -> Self {
        SessionManager {
            store,
            config,
            session_locks: KeyedLocks::default(),
            user_locks: KeyedLocks::default(),
        }
    }

    /// Opens the store the configuration names (see [`crate::open_store`]) and manages it
    /// with the configuration's limits.
    pub async fn open(config: &cbi_types::config::SessionConfig) -> Result<Self> {
        let store = crate::open_store(config).await?;
        Ok(SessionManager::new(store, SessionConfig::from(config)))
    }

    /// The limits in force.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The store underneath, for callers that need raw access (an admin listing, a test).
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.store
    }

    /// Starts a new, empty conversation for `user_id` about `database`.
    ///
    /// Refused with [`Error::TooManySessions`] when the user already holds
    /// `max_sessions_per_user` live sessions; sessions idle past the timeout do not count.
    pub async fn create(&self, user_id: &str, database: &str) -> Result<SessionId> {
        self.create_with(user_id, database, false).await
    }

    /// Like [`create`](Self::create), but a user at the limit has their least recently used
    /// sessions ended to make room instead of being refused: for front ends where a question
    /// asked without a session starts one (the HTTP API). Checked and done under the user's
    /// lock, so concurrent requests of one user never overshoot the limit or fail for it.
    pub async fn create_replacing_oldest(
        &self,
        user_id: &str,
        database: &str,
    ) -> Result<SessionId> {
        self.create_with(user_id, database, true).await
    }

    async fn create_with(&self, user_id: &str, database: &str, replace: bool) -> Result<SessionId> {
        let _held = self.user_locks.lock(user_id.to_string()).await;
        let limit = self.config.max_sessions_per_user;
        let ids = self.store.list_user(user_id).await?;
        // Fewer sessions than the limit, idle ones included: nothing to read.
        let mut live = Vec::new();
        if ids.len() >= limit {
            let cutoff = self.cutoff();
            for id in ids {
                if let Some(at) = self.store.last_accessed(id).await? {
                    if at >= cutoff {
                        live.push((at, id));
                    }
                }
            }
        }
        if live.len() >= limit {
            if !replace {
                return Err(Error::TooManySessions {
                    user: user_id.to_string(),
                    limit,
                });
            }
            live.sort();
            let excess = live.len() + 1 - limit.max(1);
            for (_, id) in live.into_iter().take(excess) {
                tracing::debug!(session = %id, user = user_id, "ended to make room for a new session");
                self.delete(id).await?;
            }
        }
        let session = Session::new(user_id, database);
        self.store.save(&session).await?;
        Ok(session.id)
    }

    /// The session, as stored. Does not count as activity; call [`touch`](Self::touch) or
    /// record a turn for that.
    ///
    /// [`Error::NotFound`] when it does not exist or has been idle past the timeout.
    pub async fn get(&self, id: SessionId) -> Result<Session> {
        self.load_live(id).await
    }

    /// Marks the session as used now, postponing its expiry.
    pub async fn touch(&self, id: SessionId) -> Result<()> {
        self.modify(id, |s| {
            s.last_accessed = Utc::now();
        })
        .await
        .map(drop)
    }

    /// Replaces the session's context after a turn: keeps only the newest `max_turns` turns
    /// (dropping the oldest), counts one more turn and marks the session as used now. Returns
    /// the session as saved.
    ///
    /// The caller built `ctx` from an earlier read, so a concurrent change made in between is
    /// overwritten; prefer [`update_context_with`](Self::update_context_with) or
    /// [`record_turn`](Self::record_turn) when several tasks may update one session.
    pub async fn update_context(&self, id: SessionId, ctx: ConversationContext) -> Result<Session> {
        self.update_context_with(id, move |c| *c = ctx).await
    }

    /// Like [`update_context`](Self::update_context), but edits the current context in place
    /// under the session's lock, so concurrent edits in this process are all kept.
    pub async fn update_context_with<F>(&self, id: SessionId, edit: F) -> Result<Session>
    where
        F: FnOnce(&mut ConversationContext) + Send,
    {
        let max_turns = self.config.max_turns;
        self.modify(id, move |s| {
            edit(&mut s.context);
            trim(&mut s.context, max_turns);
            s.turn_count = s.turn_count.saturating_add(1);
            s.last_accessed = Utc::now();
        })
        .await
    }

    /// Appends one turn to the session, dropping the oldest beyond `max_turns`, and saves it.
    ///
    /// The turn's `turn_id` is set to the session's new turn count (1 for the first turn), so
    /// ids stay unique and increasing even when several tasks record turns at once. Returns
    /// the session as saved.
    pub async fn record_turn(&self, id: SessionId, mut turn: ConversationTurn) -> Result<Session> {
        let max_turns = self.config.max_turns;
        self.modify(id, move |s| {
            s.turn_count = s.turn_count.saturating_add(1);
            turn.turn_id = s.turn_count;
            s.context.push_turn(turn, max_turns);
            s.last_accessed = Utc::now();
        })
        .await
    }

    /// Ends a session. True when it existed (expired sessions still count as existing until
    /// they are removed).
    pub async fn delete(&self, id: SessionId) -> Result<bool> {
        let _held = self.session_locks.lock(id).await;
        Ok(self.store.delete(id).await?)
    }

    /// The user's live sessions, most recently used first.
    pub async fn list_user(&self, user_id: &str) -> Result<Vec<Session>> {
        let cutoff = self.cutoff();
        let mut out = Vec::new();
        for id in self.store.list_user(user_id).await? {
            if let Some(s) = self.store.load(id).await? {
                if s.last_accessed >= cutoff {
                    out.push(s);
                }
            }
        }
        out.sort_by_key(|s| std::cmp::Reverse(s.last_accessed));
        Ok(out)
    }

    /// Removes every session idle longer than the timeout and returns how many went.
    ///
    /// A session being changed at that very moment may be saved again right after its
    /// removal; it was in use, so it comes back as a live session.
    pub async fn expire_idle(&self) -> Result<usize> {
        let removed = self.store.remove_idle(self.cutoff()).await?;
        for id in &removed {
            tracing::debug!(session = %id, "expired idle session");
        }
        Ok(removed.len())
    }

    /// Runs [`expire_idle`](Self::expire_idle) every `every` in a Tokio task, until the
    /// returned handle is dropped or the manager itself is.
    ///
    /// The task holds only a weak reference, so it never keeps the manager alive. Failures
    /// are logged (`tracing::warn!`) and retried at the next tick.
    ///
    /// # Panics
    ///
    /// When called outside a Tokio runtime, as `tokio::spawn` does.
    pub fn spawn_expiry_task(self: &Arc<Self>, every: Duration) -> ExpiryTask {
        let weak: Weak<Self> = Arc::downgrade(self);
        let every = every.max(Duration::from_millis(1));
        let handle = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let Some(manager) = weak.upgrade() else { break };
                match manager.expire_idle().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(expired = n, "removed idle sessions"),
                    Err(e) => tracing::warn!(error = %e, "could not expire idle sessions"),
                }
            }
        });
        ExpiryTask { handle }
    }

    /// Sessions last used before this instant count as expired.
    fn cutoff(&self) -> DateTime<Utc> {
        let timeout =
            chrono::Duration::from_std(self.config.idle_timeout).unwrap_or(chrono::Duration::MAX);
        Utc::now()
            .checked_sub_signed(timeout)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    async fn load_live(&self, id: SessionId) -> Result<Session> {
        match self.store.load(id).await? {
            Some(s) if s.last_accessed >= self.cutoff() => Ok(s),
            _ => Err(Error::NotFound(id)),
        }
    }

    /// Load, change, save under the session's lock.
    async fn modify<F>(&self, id: SessionId, change: F) -> Result<Session>
    where
        F: FnOnce(&mut Session) + Send,
    {
        let _held = self.session_locks.lock(id).await;
        let mut session = self.load_live(id).await?;
        change(&mut session);
        self.store.save(&session).await?;
        Ok(session)
    }
}

/// Drops the oldest turns beyond `max_turns`.
fn trim(ctx: &mut ConversationContext, max_turns: usize) {
    while ctx.turns.len() > max_turns {
        ctx.turns.pop_front();
    }
}

/// The background task of [`SessionManager::spawn_expiry_task`]; dropping it stops the task.
#[derive(Debug)]
#[must_use = "the expiry task stops as soon as this handle is dropped"]
pub struct ExpiryTask {
    handle: JoinHandle<()>,
}

impl ExpiryTask {
    /// Whether the task has stopped (its manager was dropped).
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}

impl Drop for ExpiryTask {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// One async mutex per key, created on demand and dropped once nobody holds or waits for it,
/// so the map does not grow with every session ever seen.
#[derive(Debug)]
struct KeyedLocks<K: Eq + Hash> {
    locks: DashMap<K, Arc<Mutex<()>>>,
}

impl<K: Eq + Hash> Default for KeyedLocks<K> {
    fn default() -> Self {
        KeyedLocks {
            locks: DashMap::new(),
        }
    }
}

impl<K: Eq + Hash + Clone> KeyedLocks<K> {
    /// Waits for and takes the lock for `key`. It is released, and forgotten when nobody else
    /// holds or awaits it, when the returned guard is dropped, including when the caller's
    /// future is cancelled.
    async fn lock(&self, key: K) -> Held<'_, K> {
        let mutex = Arc::clone(self.locks.entry(key.clone()).or_default().value());
        let guard = mutex.lock_owned().await;
        Held {
            locks: self,
            key,
            guard: Some(guard),
        }
    }

    /// Forgets the lock for `key` when only the map still refers to it. This check and the
    /// clone in [`lock`](Self::lock) both run under the map's shard lock, so a task that holds
    /// or awaits the mutex always finds it still in the map.
    fn release(&self, key: &K) {
        self.locks.remove_if(key, |_, m| Arc::strong_count(m) == 1);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.locks.len()
    }
}

/// A held per-key lock; see [`KeyedLocks::lock`].
struct Held<'a, K: Eq + Hash + Clone> {
    locks: &'a KeyedLocks<K>,
    key: K,
    guard: Option<OwnedMutexGuard<()>>,
}

impl<K: Eq + Hash + Clone> Drop for Held<'_, K> {
    fn drop(&mut self) {
        // Unlock (dropping the guard's reference) before checking who else refers to it.
        drop(self.guard.take());
        self.locks.release(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;
    use cbi_types::Intent;

    fn manager(config: SessionConfig) -> (Arc<MemoryStore>, SessionManager) {
        let store = Arc::new(MemoryStore::new());
        let m = SessionManager::new(store.clone(), config);
        (store, m)
    }

    fn turn(q: &str) -> ConversationTurn {
        ConversationTurn {
            turn_id: 0,
            timestamp: Utc::now(),
            user_query: q.to_string(),
            sql: Some("SELECT 1".into()),
            results_summary: None,
            entities_mentioned: vec![],
            intent: Intent::Query,
            plan: None,
        }
    }

    /// Makes a session look idle for `ago` without waiting.
    async fn age(store: &MemoryStore, id: SessionId, ago: Duration) {
        let mut s = store.load(id).await.unwrap().unwrap();
        s.last_accessed = Utc::now() - chrono::Duration::from_std(ago).unwrap();
        store.save(&s).await.unwrap();
    }

    #[test]
    fn builds_without_a_runtime_and_from_the_config_file() {
        let c = SessionConfig::from(&cbi_types::config::SessionConfig::default());
        assert_eq!(c, SessionConfig::default());
        assert_eq!(c.idle_timeout, Duration::from_secs(1800));
        let file = cbi_types::config::SessionConfig {
            max_sessions_per_user: 3,
            idle_timeout_minutes: 2,
            max_turns: 4,
            ..Default::default()
        };
        let c = SessionConfig::from(file);
        assert_eq!(
            (c.max_sessions_per_user, c.idle_timeout, c.max_turns),
            (3, Duration::from_secs(120), 4)
        );
        let (_, m) = manager(c);
        assert_eq!(m.config().max_turns, 4);
    }

    #[tokio::test]
    async fn create_and_get() {
        let (_, m) = manager(SessionConfig::default());
        let id = m.create("ann", "shop").await.unwrap();
        let s = m.get(id).await.unwrap();
        assert_eq!((s.user_id.as_str(), s.database.as_str()), ("ann", "shop"));
        assert_eq!(s.turn_count, 0);
        assert!(s.context.turns.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replacing_the_oldest_makes_room_even_under_concurrency() {
        let (store, m) = manager(SessionConfig {
            max_sessions_per_user: 3,
            ..Default::default()
        });
        let m = Arc::new(m);
        let first = m.create("ann", "db").await.unwrap();
        let second = m.create("ann", "db").await.unwrap();
        let third = m.create("ann", "db").await.unwrap();
        age(&store, second, Duration::from_secs(60)).await;
        // At the limit: the least recently used one (second) goes, the others stay.
        let fourth = m.create_replacing_oldest("ann", "db").await.unwrap();
        let ids: Vec<SessionId> = m
            .list_user("ann")
            .await
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(ids.len(), 3);
        assert!(!ids.contains(&second));
        assert!(ids.contains(&first) && ids.contains(&third) && ids.contains(&fourth));
        // Many at once never fail and never overshoot the limit.
        let tasks: Vec<_> = (0..24)
            .map(|_| {
                let m = m.clone();
                tokio::spawn(async move { m.create_replacing_oldest("ann", "db").await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(m.list_user("ann").await.unwrap().len(), 3);
        assert!(
            m.create("ann", "db").await.is_err(),
            "create itself still refuses"
        );
    }

    #[tokio::test]
    async fn user_limit_counts_only_live_sessions() {
        let (store, m) = manager(SessionConfig {
            max_sessions_per_user: 2,
            ..Default::default()
        });
        let a = m.create("ann", "db").await.unwrap();
        m.create("ann", "db").await.unwrap();
        let err = m.create("ann", "db").await.unwrap_err();
        assert_eq!(
            err,
            Error::TooManySessions {
                user: "ann".into(),
                limit: 2
            }
        );
        // Another user is not affected.
        m.create("bob", "db").await.unwrap();
        // An idle-expired session frees its slot even before expire_idle runs.
        age(&store, a, Duration::from_secs(31 * 60)).await;
        m.create("ann", "db").await.unwrap();
        assert!(m.create("ann", "db").await.is_err());
        // So does deleting one.
        let live = m.list_user("ann").await.unwrap();
        assert_eq!(live.len(), 2);
        assert!(m.delete(live[0].id).await.unwrap());
        m.create("ann", "db").await.unwrap();
    }

    #[tokio::test]
    async fn concurrent_creates_respect_the_limit() {
        let (_, m) = manager(SessionConfig {
            max_sessions_per_user: 3,
            ..Default::default()
        });
        let m = Arc::new(m);
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let m = m.clone();
                tokio::spawn(async move { m.create("ann", "db").await })
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            if t.await.unwrap().is_ok() {
                ok += 1;
            }
        }
        assert_eq!(ok, 3);
        assert_eq!(m.user_locks.len(), 0, "user locks are released");
    }

    #[tokio::test]
    async fn missing_and_expired_sessions_are_not_found() {
        let (store, m) = manager(SessionConfig::default());
        let ghost = SessionId::new();
        assert_eq!(m.get(ghost).await.unwrap_err(), Error::NotFound(ghost));
        assert_eq!(m.touch(ghost).await.unwrap_err(), Error::NotFound(ghost));
        assert!(matches!(
            m.record_turn(ghost, turn("q")).await,
            Err(Error::NotFound(_))
        ));
        assert!(!m.delete(ghost).await.unwrap());

        let id = m.create("ann", "db").await.unwrap();
        age(&store, id, Duration::from_secs(31 * 60)).await;
        assert_eq!(m.get(id).await.unwrap_err(), Error::NotFound(id));
        assert_eq!(m.touch(id).await.unwrap_err(), Error::NotFound(id));
        assert!(m.list_user("ann").await.unwrap().is_empty());
        // Still stored until expired, and then gone for good.
        assert!(store.load(id).await.unwrap().is_some());
        assert_eq!(m.expire_idle().await.unwrap(), 1);
        assert!(store.is_empty());
    }

    #[tokio::test]
    async fn touch_postpones_expiry() {
        let (store, m) = manager(SessionConfig::default());
        let id = m.create("ann", "db").await.unwrap();
        age(&store, id, Duration::from_secs(29 * 60)).await;
        m.touch(id).await.unwrap();
        let s = m.get(id).await.unwrap();
        assert!(Utc::now() - s.last_accessed < chrono::Duration::seconds(5));
        assert_eq!(s.turn_count, 0, "touching is not a turn");
    }

    #[tokio::test]
    async fn expiry_with_a_short_timeout() {
        let (store, m) = manager(SessionConfig {
            idle_timeout: Duration::from_millis(400),
            ..Default::default()
        });
        let old = m.create("ann", "db").await.unwrap();
        tokio::time::sleep(Duration::from_millis(600)).await;
        let fresh = m.create("ann", "db").await.unwrap();
        assert_eq!(m.expire_idle().await.unwrap(), 1);
        assert!(store.load(old).await.unwrap().is_none());
        assert!(m.get(fresh).await.is_ok());
        assert_eq!(m.expire_idle().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn update_context_trims_oldest_and_counts_turns() {
        let (_, m) = manager(SessionConfig {
            max_turns: 3,
            ..Default::default()
        });
        let id = m.create("ann", "db").await.unwrap();
        let mut ctx = ConversationContext::default();
        for n in 1..=5 {
            let mut t = turn(&format!("q{n}"));
            t.turn_id = n;
            ctx.turns.push_back(t);
        }
        ctx.current_focus = Some("orders".into());
        let s = m.update_context(id, ctx).await.unwrap();
        let ids: Vec<u32> = s.context.turns.iter().map(|t| t.turn_id).collect();
        assert_eq!(ids, [3, 4, 5]);
        assert_eq!(s.turn_count, 1);
        assert_eq!(s.context.current_focus.as_deref(), Some("orders"));
        assert_eq!(m.get(id).await.unwrap(), s, "the update was saved");

        let s = m
            .update_context_with(id, |c| {
                c.mentioned_tables.insert("orders".into());
            })
            .await
            .unwrap();
        assert_eq!(s.turn_count, 2);
        assert!(s.context.mentioned_tables.contains("orders"));
        assert_eq!(s.context.turns.len(), 3);
    }

    #[tokio::test]
    async fn record_turn_numbers_and_trims() {
        let (_, m) = manager(SessionConfig {
            max_turns: 2,
            ..Default::default()
        });
        let id = m.create("ann", "db").await.unwrap();
        for n in 1..=4 {
            let s = m.record_turn(id, turn(&format!("q{n}"))).await.unwrap();
            assert_eq!(s.turn_count, n);
        }
        let s = m.get(id).await.unwrap();
        let got: Vec<(u32, &str)> = s
            .context
            .turns
            .iter()
            .map(|t| (t.turn_id, t.user_query.as_str()))
            .collect();
        assert_eq!(got, [(3, "q3"), (4, "q4")]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_record_turn_loses_nothing() {
        let (_, m) = manager(SessionConfig {
            max_turns: 20,
            ..Default::default()
        });
        let m = Arc::new(m);
        let id = m.create("ann", "db").await.unwrap();
        let tasks: Vec<_> = (0..50)
            .map(|n| {
                let m = m.clone();
                tokio::spawn(async move { m.record_turn(id, turn(&format!("q{n}"))).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let s = m.get(id).await.unwrap();
        assert_eq!(s.turn_count, 50);
        let ids: Vec<u32> = s.context.turns.iter().map(|t| t.turn_id).collect();
        assert_eq!(ids, (31..=50).collect::<Vec<_>>());
        let mut queries: Vec<&str> = s
            .context
            .turns
            .iter()
            .map(|t| t.user_query.as_str())
            .collect();
        queries.sort_unstable();
        queries.dedup();
        assert_eq!(queries.len(), 20, "every kept turn is a different one");
        assert_eq!(m.session_locks.len(), 0, "session locks are released");
    }

    #[tokio::test]
    async fn list_user_is_newest_first() {
        let (store, m) = manager(SessionConfig::default());
        let a = m.create("ann", "db").await.unwrap();
        let b = m.create("ann", "db").await.unwrap();
        m.create("bob", "db").await.unwrap();
        age(&store, b, Duration::from_secs(60)).await;
        let ids: Vec<SessionId> = m
            .list_user("ann")
            .await
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(ids, [a, b]);
        assert!(m.list_user("carol").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn expiry_task_removes_idle_sessions_and_stops_on_drop() {
        let (store, m) = manager(SessionConfig {
            idle_timeout: Duration::from_millis(100),
            ..Default::default()
        });
        let m = Arc::new(m);
        let task = m.spawn_expiry_task(Duration::from_millis(50));
        let id = m.create("ann", "db").await.unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while store.load(id).await.unwrap().is_some() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the expiry task did not remove the idle session within 5 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(task);
        // With the task gone, an idle session stays until someone expires it.
        let id = m.create("ann", "db").await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(store.load(id).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn expiry_task_ends_with_its_manager() {
        let (_, m) = manager(SessionConfig::default());
        let m = Arc::new(m);
        let task = m.spawn_expiry_task(Duration::from_millis(10));
        drop(m);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !task.is_finished() {
            assert!(tokio::time::Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
