//! Writing the demo into a MySQL or MariaDB database.

use std::time::Instant;

use cbi_types::SqlDialect;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, TxOpts};

use crate::rows::{Row, RowCounts, Table};
use crate::sql::{index_ddl, insert_statements, table_ddl};
use crate::{DemoSize, Error, Generator, Result, WriteReport};

/// Rows per `INSERT`: about 100 kB of SQL, far below any `max_allowed_packet`.
const ROWS_PER_INSERT: usize = 2_000;

/// Writes the demo database of `size` into the MySQL/MariaDB database named in `url`
/// (`mysql://user:password@host:port/dbname`).
///
/// The database should be empty; the writer fails with [`Error::TablesExist`] before creating
/// anything if a table with a demo name is already there, and it never drops anything. Rows go
/// in as batched multi-row `INSERT`s (rendered by [`insert_statements`], so this path also
/// proves the renderer against a real server) in one transaction, then the indexes are created
/// and `ANALYZE TABLE` runs. MySQL commits DDL implicitly, so after a failure the (empty or
/// partly filled) tables remain; drop the database to try again.
pub async fn write_mysql(url: &str, size: DemoSize) -> Result<WriteReport> {
    let start = Instant::now();
    let opts = Opts::from_url(url)
        .map_err(|e| Error::InvalidTarget(format!("MySQL connection string: {e}")))?;
    let Some(db) = opts.db_name().map(str::to_string) else {
        return Err(Error::InvalidTarget(
            "the MySQL URL names no database; give it as the path, e.g. mysql://root@127.0.0.1:3306/demo"
                .to_string(),
        ));
    };
    let target = format!(
        "mysql database `{db}` on {}:{}",
        opts.ip_or_hostname(),
        opts.tcp_port()
    );
    let mut conn = Conn::new(opts).await?;
    // Literals are rendered with quotes doubled and backslashes as plain characters, the way
    // cbi's own MySQL sessions read them.
    conn.query_drop("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_BACKSLASH_ESCAPES')")
        .await?;
    let loaded = load(&mut conn, size).await;
    let _ = conn.disconnect().await;
    Ok(WriteReport {
        target,
        size,
        rows: loaded?,
        elapsed: start.elapsed(),
        file_bytes: None,
    })
}

async fn load(conn: &mut Conn, size: DemoSize) -> Result<RowCounts> {
    let names: Vec<String> = Table::ALL.iter().map(|t| t.name().to_string()).collect();
    let placeholders = vec!["?"; names.len()].join(", ");
    let existing: Vec<String> = conn
        .exec(
            format!(
                "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND LOWER(table_name) IN ({placeholders}) \
                 ORDER BY 1"
            ),
            names.clone(),
        )
        .await?;
    if !existing.is_empty() {
        return Err(Error::TablesExist(existing));
    }

    for sql in table_ddl(SqlDialect::MySql) {
        conn.query_drop(sql).await?;
    }
    let mut tx = conn.start_transaction(TxOpts::default()).await?;
    let mut generator = Generator::new(size);
    let mut counts = RowCounts::default();
    let d = generator.dimensions();
    insert(&mut tx, &d.regions, &mut counts).await?;
    insert(&mut tx, &d.stores, &mut counts).await?;
    insert(&mut tx, &d.customers, &mut counts).await?;
    insert(&mut tx, &d.categories, &mut counts).await?;
    insert(&mut tx, &d.products, &mut counts).await?;
    for batch in generator.by_ref() {
        insert(&mut tx, &batch.orders, &mut counts).await?;
        insert(&mut tx, &batch.order_items, &mut counts).await?;
        insert(&mut tx, &batch.returns, &mut counts).await?;
    }
    tx.commit().await?;
    for sql in index_ddl(SqlDialect::MySql) {
        conn.query_drop(sql).await?;
    }
    conn.query_drop(format!("ANALYZE TABLE {}", names.join(", ")))
        .await?;
    Ok(counts)
}

async fn insert<R: Row>(
    tx: &mut mysql_async::Transaction<'_>,
    rows: &[R],
    counts: &mut RowCounts,
) -> Result<()> {
    for sql in insert_statements(SqlDialect::MySql, rows, ROWS_PER_INSERT) {
        tx.query_drop(sql).await?;
    }
    counts.add(R::TABLE, rows.len() as u64);
    Ok(())
}
