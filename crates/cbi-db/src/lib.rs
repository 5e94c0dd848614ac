//! Read-only database connectors for cbi.
//!
//! This crate implements [`cbi_types::Connection`] for SQLite ([`SqliteConnection`], feature
//! `sqlite`, on by default), PostgreSQL ([`PostgresConnection`], feature `postgres`) and MySQL or
//! MariaDB ([`MySqlConnection`], feature `mysql`), and parses the connection strings people
//! type ([`ConnectionUrl`]). The entry point is [`connect`]: give it a string such as
//! `demo.sqlite` or `postgres://analyst@db/sales` and get an `Arc<dyn Connection>`.
//!
//! It is **read-only by design**, and not only by convention: nothing here offers a way to
//! write. Every backend is locked at the connection level (SQLite opened read-only with
//! `query_only` and an authorizer; PostgreSQL and MySQL in read-only sessions and read-only
//! transactions that are always rolled back), and every statement passes a lexical check first
//! (one statement, starting with a reading keyword, none of the few functions that reach the
//! server's files). Each query runs under [`cbi_types::QueryLimits`]: rows past the cap are not
//! fetched and a statement past its time limit is cancelled.
//!
//! It is not a SQL validator, planner or query builder — deciding which reads are sensible is
//! the job of the crates above — and it never creates a database file that does not exist.

use std::sync::Arc;
use std::time::Duration;

use cbi_types::Connection;

mod conn_url;
mod error;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod guard;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod relations;

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod server;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use conn_url::{ConnectionUrl, ServerUrl};
pub use error::{Error, Result};
#[cfg(feature = "mysql")]
pub use mysql::MySqlConnection;
#[cfg(feature = "postgres")]
pub use postgres::PostgresConnection;
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteConnection, SqliteOptions};

/// How to open connections: pool size and how long to wait for a server.
///
/// The defaults (4 connections, 10 s) suit one interactive user; a server answering many
/// sessions wants a larger pool.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// The most connections kept open (and queries run at once) per database.
    pub pool_size: usize,
    /// How long to wait for a server to accept a connection. A `connect_timeout` parameter in
    /// the URL takes precedence.
    pub connect_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            pool_size: 4,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

impl ConnectOptions {
    /// The same options with another pool size (at least 1).
    pub fn with_pool_size(self, pool_size: usize) -> Self {
        ConnectOptions {
            pool_size: pool_size.max(1),
            ..self
        }
    }

    /// The same options with another connect timeout.
    pub fn with_connect_timeout(self, connect_timeout: Duration) -> Self {
        ConnectOptions {
            connect_timeout,
            ..self
        }
    }
}

/// Opens a read-only connection to the database a connection string names.
///
/// Fails with [`Error::FileNotFound`] for a SQLite file that does not exist (none is ever
/// created), [`Error::Connect`] when a server refuses us (wrong password, unknown database,
/// nothing listening) and [`Error::NotCompiled`] when this build left the backend's driver out.
/// The connection is verified before this returns.
pub async fn connect(url: &str, opts: &ConnectOptions) -> Result<Arc<dyn Connection>> {
    ConnectionUrl::parse(url)?.connect(opts).await
}

impl ConnectionUrl {
    /// Opens a read-only connection to this database; see [`connect`].
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
        allow(unused_variables)
    )]
    pub async fn connect(&self, opts: &ConnectOptions) -> Result<Arc<dyn Connection>> {
        match self {
            #[cfg(feature = "sqlite")]
            ConnectionUrl::Sqlite { path } => {
                let path = path.clone();
                let sqlite_opts = SqliteOptions::default().with_max_connections(opts.pool_size);
                let conn = tokio::task::spawn_blocking(move || {
                    SqliteConnection::open_with(&path, sqlite_opts)
                })
                .await
                .map_err(|e| Error::Connect {
                    target: self.to_string(),
                    message: format!("the opening task failed: {e}"),
                })??;
                Ok(Arc::new(conn))
            }
            #[cfg(not(feature = "sqlite"))]
            ConnectionUrl::Sqlite { .. } => Err(Error::NotCompiled {
                backend: "SQLite",
                feature: "sqlite",
            }),
            #[cfg(feature = "postgres")]
            ConnectionUrl::Postgres(server) => {
                Ok(Arc::new(PostgresConnection::connect(server, opts).await?))
            }
            #[cfg(not(feature = "postgres"))]
            ConnectionUrl::Postgres(_) => Err(Error::NotCompiled {
                backend: "PostgreSQL",
                feature: "postgres",
            }),
            #[cfg(feature = "mysql")]
            ConnectionUrl::MySql(server) => {
                Ok(Arc::new(MySqlConnection::connect(server, opts).await?))
            }
            #[cfg(not(feature = "mysql"))]
            ConnectionUrl::MySql(_) => Err(Error::NotCompiled {
                backend: "MySQL/MariaDB",
                feature: "mysql",
            }),
        }
    }
}
