//! The retail demo database of cbi: a deterministic, realistic dataset that lets a fresh clone
//! start a conversation with one command and no download, and gives every other crate's tests a
//! database with known contents.
//!
//! Eight tables — `regions`, `stores`, `customers`, `categories`, `products`, `orders`,
//! `order_items`, `returns` — with three years of orders (2022–2024) shaped like a real
//! retailer's: a November/December peak and a January dip, a summer bump for outdoor goods,
//! about 12 % more orders each year and rising prices, a few products and customers earning much
//! of the revenue, regions of different sizes (West largest, Central smallest) and online shares,
//! about 3 % cancelled orders and about 4 % of delivered items returned. The same
//! [`DemoSize`] always yields the same rows, on every platform and every backend: all
//! randomness comes from one fixed ChaCha8 key and all arithmetic is integer.
//!
//! Entry points: [`Dataset::generate`] for the rows in memory, [`Generator`] to stream them a
//! month at a time, [`ddl`] and [`insert_statements`] to render them as SQL for any
//! [`SqlDialect`](cbi_types::SqlDialect), and the writers [`write_sqlite`],
//! `write_postgres` (feature `postgres`) and `write_mysql` (feature `mysql`).
//!
//! **The writers are the only code in cbi that writes to a database.** Everything else reads
//! through `cbi_types::Connection`, which is read-only. They exist for `cargo xtask demo-db` and
//! for tests that need a fixture database, and they are deliberately narrow: they create the
//! demo's tables in a database they are given, fail if any of those tables already exists, and
//! never drop, alter or delete anything.
//!
//! This crate is not a general data generator, a migration tool or a loader for user data.

mod catalog;
mod error;
mod generate;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
mod rng;
mod rows;
mod size;
mod sql;
mod sqlite;

use std::time::Duration;

pub use error::{Error, Result};
pub use generate::{Dataset, Dimensions, FIRST_ORDER_DATE, FactBatch, Generator, LAST_DATE};
#[cfg(feature = "mysql")]
pub use mysql::write_mysql;
#[cfg(feature = "postgres")]
pub use postgres::write_postgres;
pub use rows::{
    Category, Channel, Customer, Order, OrderItem, OrderStatus, Product, Region, Return, Row,
    RowCounts, Segment, Store, StoreType, Table,
};
pub use size::DemoSize;
pub use sql::{create_table, ddl, index_ddl, insert_statements, literal, table_ddl};
pub use sqlite::{IfExists, write_sqlite, write_sqlite_with};

/// The demo's semantic file (YAML): table and column descriptions, synonyms, business terms
/// such as revenue and gross margin, and verified questions. cbi reads it from
/// [`SEMANTIC_FILE_NAME`] next to the database file.
pub const SEMANTIC_YAML: &str = include_str!("../data/retail.semantic.yaml");

/// The file name the semantic file is written under, next to `retail.sqlite`.
pub const SEMANTIC_FILE_NAME: &str = "retail.semantic.yaml";

/// The version of the generated data, stored as `PRAGMA user_version` in SQLite files.
///
/// Bumped whenever a change to this crate changes a single generated value, so a program that
/// ships or caches a demo file can tell whether it is current.
pub const DATA_VERSION: u32 = 1;

/// What a writer wrote, for `cargo xtask demo-db` to print and tests to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteReport {
    /// Where the rows went: a file path, or `postgresql database … on host:port`; never a
    /// password.
    pub target: String,
    pub size: DemoSize,
    /// Rows written per table.
    pub rows: RowCounts,
    /// Generation and writing together, including index creation and `ANALYZE`.
    pub elapsed: Duration,
    /// Size of the finished file, for SQLite.
    pub file_bytes: Option<u64>,
}
