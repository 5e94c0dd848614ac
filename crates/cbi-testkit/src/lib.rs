//! Fixtures for cbi's tests against the machine's real servers: a [`ScratchDb`], a randomly
//! named PostgreSQL or MariaDB/MySQL database that is dropped when the fixture goes out of scope
//! (also while a failed assertion unwinds), and a [`RedisPrefix`], a random key prefix whose keys
//! are deleted the same way.
//!
//! The servers are found through `CBI_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), `CBI_TEST_MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306/test`) and `CBI_TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6379/`). A missing server fails the test that needs it, with a message
//! naming the URL; nothing is skipped.
//!
//! For the in-process model provider, [`gguf::write_tiny_llama`] writes a tiny random GGUF
//! model that llama.cpp loads, so those tests need no download.
//!
//! This is not part of cbi: it depends on no `cbi-*` crate, is never published, and only
//! `[dev-dependencies]` use it. Start with [`ScratchDb::create`].

pub mod gguf;

use std::time::Duration;

use mysql_async::prelude::Queryable;
use tokio_postgres::NoTls;

/// A database server the tests run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Postgres,
    MySql,
}

impl Server {
    /// The URL of a database on the server that a superuser can create databases from: the
    /// environment variable, else the default the project's test setup documents.
    pub fn admin_url(self) -> String {
        let (var, default) = match self {
            Server::Postgres => (
                "CBI_TEST_POSTGRES_URL",
                "postgres://postgres@127.0.0.1:5432/test",
            ),
            Server::MySql => ("CBI_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
        };
        std::env::var(var).unwrap_or_else(|_| default.to_string())
    }

    /// How a failed connection names the server, and where to point the tests elsewhere.
    fn describe(self) -> &'static str {
        match self {
            Server::Postgres => "PostgreSQL (CBI_TEST_POSTGRES_URL)",
            Server::MySql => "MariaDB/MySQL (CBI_TEST_MYSQL_URL)",
        }
    }
}

/// A name no other run uses, safe to embed unquoted as a database name or key prefix.
pub fn random_name(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// `url` with its database (the path) replaced by `db`, keeping any query string.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    format!("{server}/{db}{query}")
}

/// A fresh, randomly named database, dropped (open sessions and all) when this goes out of
/// scope. The test users are superusers, so [`url`](Self::url) can also write.
#[derive(Debug)]
pub struct ScratchDb {
    pub server: Server,
    /// `{prefix}_{random}`, in lowercase: the same quoted or not.
    pub name: String,
    /// The admin URL with this database in place of the admin's.
    pub url: String,
    admin: String,
}

impl ScratchDb {
    /// Creates an empty database named `{prefix}_{random}` (UTF-8 on MySQL); panics with the
    /// server's URL when it cannot.
    pub async fn create(server: Server, prefix: &str) -> ScratchDb {
        let admin = server.admin_url();
        let name = random_name(prefix);
        let create = match server {
            Server::Postgres => format!("CREATE DATABASE {name}"),
            Server::MySql => format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"),
        };
        if let Err(e) = run(server, &admin, &[&create]).await {
            panic!("{e}");
        }
        ScratchDb {
            server,
            url: with_database(&admin, &name),
            name,
            admin,
        }
    }

    /// Runs statements that change the database, through a plain driver connection of its own
    /// (cbi's connections cannot write). PostgreSQL gets them as one batch, MySQL one by one.
    pub async fn execute(&self, statements: &[&str]) {
        if let Err(e) = run(self.server, &self.url, statements).await {
            panic!("{e}");
        }
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        let (server, admin) = (self.server, self.admin.clone());
        let drop = match server {
            Server::Postgres => format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            Server::MySql => format!("DROP DATABASE IF EXISTS {}", self.name),
        };
        // A fresh thread with its own runtime, so this works with or without a runtime around
        // it, even while a failed assertion unwinds inside the test's.
        let outcome = std::thread::spawn(move || -> Result<(), String> {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?
                .block_on(run(server, &admin, &[&drop]))
        })
        .join();
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("dropping scratch database {} failed: {e}", self.name),
            Err(_) => eprintln!("dropping scratch database {} panicked", self.name),
        }
    }
}

/// Runs `statements` on a connection of its own to `url`; the error says what failed.
async fn run(server: Server, url: &str, statements: &[&str]) -> Result<(), String> {
    let unreachable =
        |e: &dyn std::fmt::Display| format!("{} must be running at {url}: {e}", server.describe());
    match server {
        Server::Postgres => {
            let (client, conn) = tokio_postgres::connect(url, NoTls)
                .await
                .map_err(|e| unreachable(&e))?;
            let driver = tokio::spawn(conn);
            let sql = statements.join(";\n");
            let done = client.batch_execute(&sql).await;
            drop(client);
            let _ = driver.await;
            done.map_err(|e| format!("{e}: {sql}"))
        }
        Server::MySql => {
            let mut c = mysql_async::Conn::from_url(url)
                .await
                .map_err(|e| unreachable(&e))?;
            for sql in statements {
                c.query_drop(*sql)
                    .await
                    .map_err(|e| format!("{e}: {sql}"))?;
            }
            c.disconnect().await.map_err(|e| e.to_string())
        }
    }
}

/// The Redis server the tests use.
pub fn redis_url() -> String {
    std::env::var("CBI_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_string())
}

/// A key prefix no other run uses (`{label}_{random}:`); every key under it is deleted when
/// this goes out of scope, even when the test failed.
#[derive(Debug)]
pub struct RedisPrefix {
    /// The server, from [`redis_url`].
    pub url: String,
    /// What every key of the test starts with, ending in `:`.
    pub prefix: String,
}

impl RedisPrefix {
    /// A new prefix; panics when Redis is not reachable, so a missing server fails loudly.
    pub fn new(label: &str) -> RedisPrefix {
        let p = RedisPrefix {
            url: redis_url(),
            prefix: format!("{}:", random_name(label)),
        };
        drop(p.conn());
        p
    }

    /// A plain connection, for looking at what the code under test wrote.
    pub fn conn(&self) -> redis::Connection {
        self.try_conn().unwrap_or_else(|e| {
            panic!(
                "Redis (CBI_TEST_REDIS_URL) must be running at {}: {e}",
                self.url
            )
        })
    }

    /// Every key under the prefix, sorted.
    pub fn keys(&self) -> Vec<String> {
        let mut keys = self
            .try_keys(&mut self.conn())
            .unwrap_or_else(|e| panic!("listing the keys under {}: {e}", self.prefix));
        keys.sort();
        keys
    }

    fn try_conn(&self) -> redis::RedisResult<redis::Connection> {
        redis::Client::open(self.url.as_str())?.get_connection_with_timeout(Duration::from_secs(3))
    }

    fn try_keys(&self, conn: &mut redis::Connection) -> redis::RedisResult<Vec<String>> {
        redis::Commands::scan_match::<_, String>(conn, format!("{}*", self.prefix))?.collect()
    }
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        let outcome = self.try_conn().and_then(|mut conn| {
            let keys = self.try_keys(&mut conn)?;
            if keys.is_empty() {
                return Ok(());
            }
            redis::Commands::del(&mut conn, keys)
        });
        if let Err(e) = outcome {
            eprintln!("deleting the Redis keys under {} failed: {e}", self.prefix);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_get_their_database_replaced() {
        assert_eq!(
            with_database("postgres://u@h:1/test", "x"),
            "postgres://u@h:1/x"
        );
        assert_eq!(
            with_database("mysql://root@h:3306", "x"),
            "mysql://root@h:3306/x"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }

    #[test]
    fn random_names_are_fresh_and_plain() {
        let (a, b) = (random_name("cbi_x"), random_name("cbi_x"));
        assert_ne!(a, b);
        assert!(a.starts_with("cbi_x_"), "{a}");
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{a}"
        );
    }

    /// The names of the databases on `server` that start with `prefix`.
    async fn databases_like(server: Server, prefix: &str) -> Vec<String> {
        let pattern = format!("{prefix}%");
        match server {
            Server::Postgres => {
                let (client, conn) = tokio_postgres::connect(&server.admin_url(), NoTls)
                    .await
                    .unwrap();
                tokio::spawn(conn);
                client
                    .query(
                        "SELECT datname::text FROM pg_database WHERE datname LIKE $1",
                        &[&pattern],
                    )
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.get(0))
                    .collect()
            }
            Server::MySql => {
                let mut c = mysql_async::Conn::from_url(server.admin_url())
                    .await
                    .unwrap();
                let names = c
                    .exec(
                        "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?",
                        (pattern,),
                    )
                    .await
                    .unwrap();
                c.disconnect().await.unwrap();
                names
            }
        }
    }

    /// Created, writable and gone after the drop, even with a session still open in it.
    async fn scratch_database_comes_and_goes(server: Server) {
        let db = ScratchDb::create(server, "cbi_testkit").await;
        assert!(db.url.ends_with(&format!("/{}", db.name)), "{}", db.url);
        db.execute(&["CREATE TABLE t (a INT)", "INSERT INTO t VALUES (1)"])
            .await;
        let name = db.name.clone();
        assert_eq!(databases_like(server, &name).await, [name.as_str()]);
        let open_session = match server {
            Server::Postgres => {
                let (client, conn) = tokio_postgres::connect(&db.url, NoTls).await.unwrap();
                let driver = tokio::spawn(conn);
                let n: i64 = client
                    .query_one("SELECT count(*) FROM t", &[])
                    .await
                    .unwrap()
                    .get(0);
                assert_eq!(n, 1);
                Some((client, driver))
            }
            Server::MySql => None,
        };
        drop(db);
        assert_eq!(databases_like(server, &name).await, Vec::<String>::new());
        drop(open_session);
    }

    #[tokio::test]
    async fn scratch_postgres_database_comes_and_goes() {
        scratch_database_comes_and_goes(Server::Postgres).await;
    }

    #[tokio::test]
    async fn scratch_mysql_database_comes_and_goes() {
        scratch_database_comes_and_goes(Server::MySql).await;
    }

    /// The point of dropping from a fresh thread: a test that fails inside its runtime still
    /// leaves nothing behind.
    #[test]
    fn a_failed_test_still_drops_its_database() {
        let (tx, rx) = std::sync::mpsc::channel();
        let failed = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async {
                    let db = ScratchDb::create(Server::Postgres, "cbi_testkit").await;
                    tx.send(db.name.clone()).unwrap();
                    panic!("a failed assertion in {}", db.name);
                })
        })
        .join();
        assert!(failed.is_err());
        let name = rx.recv().unwrap();
        let left = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(databases_like(Server::Postgres, &name));
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn redis_keys_under_the_prefix_go_with_it() {
        let p = RedisPrefix::new("cbi_testkit");
        assert!(p.prefix.starts_with("cbi_testkit_") && p.prefix.ends_with(':'));
        let mut c = p.conn();
        let keys = [format!("{}b", p.prefix), format!("{}a", p.prefix)];
        for k in &keys {
            let _: () = redis::Commands::set(&mut c, k, "1").unwrap();
        }
        assert_eq!(p.keys(), [keys[1].clone(), keys[0].clone()]);
        let other = RedisPrefix::new("cbi_testkit");
        assert!(other.keys().is_empty());
        drop(p);
        let left: Vec<String> = keys
            .iter()
            .filter(|k| redis::Commands::exists(&mut c, *k).unwrap())
            .cloned()
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
