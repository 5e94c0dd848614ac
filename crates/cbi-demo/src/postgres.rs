//! Writing the demo into a PostgreSQL database.

use std::io::Cursor;
use std::time::Instant;

use cbi_types::{SqlDialect, Value};
use futures::SinkExt;
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls, Transaction};

use crate::rows::{Row, RowCounts, Table};
use crate::sql::{foreign_key_ddl, index_ddl, render_create_table};
use crate::{DemoSize, Error, Generator, Result, WriteReport};

/// Bytes of COPY data sent per message.
const COPY_CHUNK: usize = 1 << 20;

/// Writes the demo database of `size` into the PostgreSQL database at `url`
/// (`postgres://user@host:port/dbname`, or a key-value connection string), in its current
/// schema (normally `public`).
///
/// The database should be empty; the writer fails with [`Error::TablesExist`] before creating
/// anything if a table with a demo name is already there, and it never drops anything. Tables,
/// rows (through `COPY`), foreign keys (added after the rows, which checks them in one pass) and
/// indexes go in one transaction, so a failure leaves the database as it was; `ANALYZE`
/// follows the commit. The resulting schema is exactly what [`crate::ddl`] describes.
/// Connects without TLS, like every test and tool in cbi.
pub async fn write_postgres(url: &str, size: DemoSize) -> Result<WriteReport> {
    let start = Instant::now();
    let config: Config = url
        .parse()
        .map_err(|e| Error::InvalidTarget(format!("PostgreSQL connection string: {e}")))?;
    let target = describe(&config);
    let (mut client, connection) = config.connect(NoTls).await?;
    // The connection future carries the protocol; its errors also surface through `client`.
    let driver = tokio::spawn(connection);
    let loaded = load(&mut client, size).await;
    drop(client);
    let _ = driver.await;
    Ok(WriteReport {
        target,
        size,
        rows: loaded?,
        elapsed: start.elapsed(),
        file_bytes: None,
    })
}

fn describe(config: &Config) -> String {
    let db = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("postgresql database `{db}` on {host}:{port}")
}

async fn load(client: &mut Client, size: DemoSize) -> Result<RowCounts> {
    let names: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
    let existing: Vec<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND lower(table_name) = ANY($1) \
             ORDER BY 1",
            &[&names],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if !existing.is_empty() {
        return Err(Error::TablesExist(existing));
    }

    let tx = client.transaction().await?;
    // Foreign keys are added after the rows: PostgreSQL checks them per row with triggers during
    // COPY, but in one join when they are added to a filled table.
    for table in Table::ALL {
        tx.batch_execute(&render_create_table(SqlDialect::PostgreSql, table, false))
            .await?;
    }
    let mut generator = Generator::new(size);
    let mut counts = RowCounts::default();
    let d = generator.dimensions();
    copy(&tx, &d.regions, &mut counts).await?;
    copy(&tx, &d.stores, &mut counts).await?;
    copy(&tx, &d.customers, &mut counts).await?;
    copy(&tx, &d.categories, &mut counts).await?;
    copy(&tx, &d.products, &mut counts).await?;
    for batch in generator.by_ref() {
        copy(&tx, &batch.orders, &mut counts).await?;
        copy(&tx, &batch.order_items, &mut counts).await?;
        copy(&tx, &batch.returns, &mut counts).await?;
    }
    for sql in foreign_key_ddl()
        .into_iter()
        .chain(index_ddl(SqlDialect::PostgreSql))
    {
        tx.batch_execute(&sql).await?;
    }
    tx.commit().await?;
    client
        .batch_execute(&format!("ANALYZE {}", names.join(", ")))
        .await?;
    Ok(counts)
}

async fn copy<R: Row>(tx: &Transaction<'_>, rows: &[R], counts: &mut RowCounts) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let table = R::TABLE;
    let sink = tx
        .copy_in::<_, Cursor<Vec<u8>>>(&format!(
            "COPY {table} ({}) FROM STDIN",
            table.columns().join(", ")
        ))
        .await?;
    futures::pin_mut!(sink);
    let mut buf = String::with_capacity(COPY_CHUNK + 4096);
    for row in rows {
        copy_line(&row.values(), &mut buf);
        if buf.len() >= COPY_CHUNK {
            sink.send(Cursor::new(std::mem::take(&mut buf).into_bytes()))
                .await?;
        }
    }
    if !buf.is_empty() {
        sink.send(Cursor::new(buf.into_bytes())).await?;
    }
    sink.finish().await?;
    counts.add(table, rows.len() as u64);
    Ok(())
}

/// Appends one row in COPY's text format: tab-separated, `\N` for NULL, with backslash, tab,
/// newline and carriage return escaped.
fn copy_line(values: &[Value], out: &mut String) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        match v {
            Value::Null => out.push_str("\\N"),
            Value::Text(s) => push_escaped(s, out),
            other => push_escaped(&other.to_string(), out),
        }
    }
    out.push('\n');
}

fn push_escaped(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    use super::*;

    #[test]
    fn copy_lines_escape_what_copy_reads_specially() {
        let mut out = String::new();
        copy_line(
            &[
                Value::Int(7),
                Value::Text("a\tb\\c\nd's".into()),
                Value::Null,
                Value::Decimal(Decimal::new(1999, 2)),
                Value::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
            ],
            &mut out,
        );
        assert_eq!(out, "7\ta\\tb\\\\c\\nd's\t\\N\t19.99\t2024-02-29\n");
    }

    #[test]
    fn targets_never_show_a_password() {
        let c: Config = "postgres://alice:secret@db.example:6543/shop"
            .parse()
            .unwrap();
        assert_eq!(
            describe(&c),
            "postgresql database `shop` on db.example:6543"
        );
        let c: Config = "host=localhost user=bob password=x".parse().unwrap();
        assert_eq!(describe(&c), "postgresql database `bob` on localhost:5432");
    }
}
