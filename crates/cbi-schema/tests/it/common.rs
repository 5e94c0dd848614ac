//! Fixtures: the `tiny` retail demo in a temporary SQLite file, or in a fresh, randomly named
//! PostgreSQL or MariaDB database that is dropped when the fixture goes out of scope (also
//! while a failed assertion unwinds). Servers are the machine's own, overridable with
//! `CBI_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and
//! `CBI_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`); a missing server fails
//! the test that needs it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use cbi_db::ConnectOptions;
use cbi_demo::{Dataset, DemoSize};
use cbi_types::{Connection, SqlDialect};
use mysql_async::prelude::Queryable;
use tokio_postgres::NoTls;

/// The backends every demo test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    pub const ALL: [Backend; 3] = [Backend::Sqlite, Backend::Postgres, Backend::MySql];

    pub fn dialect(self) -> SqlDialect {
        match self {
            Backend::Sqlite => SqlDialect::Sqlite,
            Backend::Postgres => SqlDialect::PostgreSql,
            Backend::MySql => SqlDialect::MySql,
        }
    }
}

/// The rows the generator makes for `tiny`, computed once per test binary.
pub fn tiny() -> &'static Dataset {
    static DATA: OnceLock<Dataset> = OnceLock::new();
    DATA.get_or_init(|| Dataset::generate(DemoSize::TINY))
}

fn postgres_admin_url() -> String {
    std::env::var("CBI_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

fn mysql_admin_url() -> String {
    std::env::var("CBI_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_string())
}

/// A database name no other run uses, safe to embed unquoted.
pub fn random_name(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// `url` with its database (the path) replaced by `db`, keeping any query string.
fn with_database(url: &str, db: &str) -> String {
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

/// Where a fixture's database lives, and how it is cleaned up.
#[derive(Debug)]
enum Place {
    Sqlite {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    Server {
        backend: Backend,
        admin: String,
        name: String,
    },
}

/// A database holding something a test wrote, read back through `cbi_db::connect(url)`.
#[derive(Debug)]
pub struct TestDb {
    place: Place,
    /// The connection string for `cbi_db::connect` (and for writing, on servers: the test
    /// users are superusers).
    pub url: String,
}

impl TestDb {
    /// An empty database on `backend` (for SQLite, a path where no file exists yet).
    pub async fn empty(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("db.sqlite");
                TestDb {
                    url: path.display().to_string(),
                    place: Place::Sqlite { _dir: dir, path },
                }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = random_name("cbi_schema");
                pg_batch(&admin, &format!("CREATE DATABASE {name}")).await;
                TestDb {
                    url: with_database(&admin, &name),
                    place: Place::Server {
                        backend,
                        admin,
                        name,
                    },
                }
            }
            Backend::MySql => {
                let admin = mysql_admin_url();
                let name = random_name("cbi_schema");
                my_batch(
                    &admin,
                    &[format!("CREATE DATABASE {name} CHARACTER SET utf8mb4")],
                )
                .await;
                TestDb {
                    url: with_database(&admin, &name),
                    place: Place::Server {
                        backend,
                        admin,
                        name,
                    },
                }
            }
        }
    }

    /// The `tiny` demo on `backend`, written by cbi-demo's writer for it.
    pub async fn demo(backend: Backend) -> TestDb {
        let db = TestDb::empty(backend).await;
        let report = match backend {
            Backend::Sqlite => cbi_demo::write_sqlite(db.sqlite_path(), DemoSize::TINY),
            Backend::Postgres => cbi_demo::write_postgres(&db.url, DemoSize::TINY).await,
            Backend::MySql => cbi_demo::write_mysql(&db.url, DemoSize::TINY).await,
        }
        .unwrap_or_else(|e| panic!("writing the demo to {backend:?}: {e}"));
        assert_eq!(report.rows, tiny().row_counts());
        db
    }

    /// The SQLite file (panics for a server database).
    pub fn sqlite_path(&self) -> &Path {
        match &self.place {
            Place::Sqlite { path, .. } => path,
            Place::Server { .. } => panic!("not a SQLite fixture"),
        }
    }

    /// Runs statements that change the database, through a writable connection of its own
    /// (cbi's connections cannot write).
    pub async fn write(&self, statements: &[&str]) {
        match &self.place {
            Place::Sqlite { path, .. } => {
                let c = rusqlite::Connection::open(path).unwrap();
                c.execute_batch(&statements.join(";\n")).unwrap();
                c.close().map_err(|(_, e)| e).unwrap();
            }
            Place::Server {
                backend: Backend::Postgres,
                ..
            } => pg_batch(&self.url, &statements.join(";\n")).await,
            Place::Server { .. } => {
                let owned: Vec<String> = statements.iter().map(|s| s.to_string()).collect();
                my_batch(&self.url, &owned).await;
            }
        }
    }

    /// A read-only cbi connection to this database.
    pub async fn connect(&self) -> Arc<dyn Connection> {
        cbi_db::connect(&self.url, &ConnectOptions::default())
            .await
            .unwrap_or_else(|e| panic!("cbi_db::connect({}): {e}", self.url))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Place::Server {
            backend,
            admin,
            name,
        } = &self.place
        else {
            return; // the temporary directory removes itself
        };
        let (backend, admin, db) = (*backend, admin.clone(), name.clone());
        // A fresh thread with its own runtime, so this works even while a failed assertion
        // unwinds inside the test's runtime.
        let outcome = std::thread::spawn(move || -> Result<(), String> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async move {
                match backend {
                    Backend::Postgres => {
                        let (client, conn) = tokio_postgres::connect(&admin, NoTls)
                            .await
                            .map_err(|e| e.to_string())?;
                        tokio::spawn(conn);
                        client
                            .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                            .await
                            .map_err(|e| e.to_string())
                    }
                    _ => {
                        let mut c = mysql_async::Conn::from_url(admin)
                            .await
                            .map_err(|e| e.to_string())?;
                        c.query_drop(format!("DROP DATABASE IF EXISTS {db}"))
                            .await
                            .map_err(|e| e.to_string())?;
                        c.disconnect().await.map_err(|e| e.to_string())
                    }
                }
            })
        })
        .join();
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("dropping test database {name} failed: {e}"),
            Err(_) => eprintln!("dropping test database {name} panicked"),
        }
    }
}

async fn pg_batch(url: &str, sql: &str) {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL must be running at {url}: {e}"));
    let driver = tokio::spawn(conn);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    drop(client);
    let _ = driver.await;
}

async fn my_batch(url: &str, statements: &[String]) {
    let mut c = mysql_async::Conn::from_url(url)
        .await
        .unwrap_or_else(|e| panic!("MariaDB/MySQL must be running at {url}: {e}"));
    for sql in statements {
        c.query_drop(sql)
            .await
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
    c.disconnect().await.unwrap();
}
