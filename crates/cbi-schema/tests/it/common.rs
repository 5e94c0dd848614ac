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
use cbi_testkit::{ScratchDb, Server};
use cbi_types::{Connection, SqlDialect};

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

/// Where a fixture's database lives, and how it is cleaned up.
#[derive(Debug)]
enum Place {
    Sqlite {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    Server(ScratchDb),
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
                TestDb::on(ScratchDb::create(Server::Postgres, "cbi_schema").await)
            }
            Backend::MySql => TestDb::on(ScratchDb::create(Server::MySql, "cbi_schema").await),
        }
    }

    fn on(db: ScratchDb) -> TestDb {
        TestDb {
            url: db.url.clone(),
            place: Place::Server(db),
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
            Place::Server(_) => panic!("not a SQLite fixture"),
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
            Place::Server(db) => db.execute(statements).await,
        }
    }

    /// A read-only cbi connection to this database.
    pub async fn connect(&self) -> Arc<dyn Connection> {
        cbi_db::connect(&self.url, &ConnectOptions::default())
            .await
            .unwrap_or_else(|e| panic!("cbi_db::connect({}): {e}", self.url))
    }
}
