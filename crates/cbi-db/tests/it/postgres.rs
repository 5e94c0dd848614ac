//! Against the machine's PostgreSQL: a fresh database per test, dropped afterwards.

use std::ops::Deref;
use std::time::Duration;

use cbi_db::{ConnectOptions, PostgresConnection};
use cbi_testkit::{ScratchDb, Server};
use cbi_types::{Connection, Error, QueryLimits, SqlDialect, TableKind, Value};
use chrono::{NaiveDate, NaiveTime};
use rust_decimal::Decimal;
use tokio_postgres::NoTls;

use crate::common::{self, COUNT_ALL, FIXTURE_ROW_TOTAL, WRITES};

const SCHEMA: &str = "
    CREATE TABLE customers (
        id INTEGER PRIMARY KEY,
        name VARCHAR(50) NOT NULL,
        email VARCHAR(100) UNIQUE,
        created DATE
    );
    COMMENT ON TABLE customers IS 'People who buy';
    COMMENT ON COLUMN customers.email IS 'Where receipts go';
    CREATE TABLE orders (
        id INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers (id),
        total NUMERIC(10, 2),
        placed_at TIMESTAMP,
        paid BOOLEAN
    );
    CREATE INDEX orders_customer ON orders (customer_id);
    CREATE TABLE products (sku VARCHAR(20), region VARCHAR(10), price REAL, PRIMARY KEY (sku, region));
    CREATE TABLE order_lines (
        order_id INTEGER REFERENCES orders,
        line_no INTEGER,
        sku VARCHAR(20),
        region VARCHAR(10),
        qty INTEGER DEFAULT 1,
        PRIMARY KEY (order_id, line_no),
        FOREIGN KEY (sku, region) REFERENCES products (sku, region)
    );
    CREATE TABLE profiles (customer_id INTEGER PRIMARY KEY REFERENCES customers (id), bio TEXT);
    CREATE TABLE numbers (n INTEGER PRIMARY KEY);
    CREATE TABLE ten (n INTEGER);
    CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
    CREATE SCHEMA sales;
    CREATE TABLE sales.regions (code TEXT PRIMARY KEY, label TEXT);
    CREATE TYPE mood AS ENUM ('happy', 'sad');
    CREATE DOMAIN positive AS INTEGER CHECK (VALUE > 0);
";

async fn client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required at {url} (CBI_TEST_POSTGRES_URL): {e}"));
    tokio::spawn(conn);
    client
}

/// A fresh database holding the fixture; dropped (connections and all) when this goes away,
/// even when an assertion failed.
struct PgDb(ScratchDb);

impl Deref for PgDb {
    type Target = ScratchDb;

    fn deref(&self) -> &ScratchDb {
        &self.0
    }
}

impl PgDb {
    async fn new() -> PgDb {
        let db = PgDb(ScratchDb::create(Server::Postgres, "cbi_db_test").await);
        let c = db.writer().await;
        c.batch_execute(SCHEMA).await.unwrap();
        for sql in common::fixture_rows() {
            c.batch_execute(&sql).await.unwrap();
        }
        c.batch_execute("ANALYZE").await.unwrap();
        db
    }

    /// A plain writable session on the database, for setup and for checking what changed.
    async fn writer(&self) -> tokio_postgres::Client {
        client(&self.url).await
    }

    async fn open(&self) -> PostgresConnection {
        match cbi_db::ConnectionUrl::parse(&self.url).unwrap() {
            cbi_db::ConnectionUrl::Postgres(u) => {
                PostgresConnection::connect(&u, &ConnectOptions::default())
                    .await
                    .unwrap()
            }
            other => panic!("{other:?}"),
        }
    }

    async fn total_rows(&self) -> i64 {
        self.writer()
            .await
            .query_one(COUNT_ALL, &[])
            .await
            .unwrap()
            .get(0)
    }
}

#[tokio::test]
async fn introspection_finds_the_fixture() {
    let db = PgDb::new().await;
    let conn = db.open().await;
    assert_eq!(conn.dialect(), SqlDialect::PostgreSql);
    assert_eq!(conn.database_name(), db.name);
    let s = conn.introspect().await.unwrap();
    assert_eq!(s.name, db.name);
    common::check_fixture_schema(&s);
    let customers = s.table("customers").unwrap();
    assert_eq!(customers.comment.as_deref(), Some("People who buy"));
    assert_eq!(
        customers.column("email").unwrap().comment.as_deref(),
        Some("Where receipts go")
    );
    assert_eq!(
        customers.column("name").unwrap().data_type,
        "character varying(50)"
    );
    assert_eq!(
        s.table("orders")
            .unwrap()
            .column("total")
            .unwrap()
            .data_type,
        "numeric(10,2)"
    );
    assert_eq!(s.table("numbers").unwrap().row_count, Some(1000));
    let regions = s.tables.iter().find(|t| t.name == "regions").unwrap();
    assert_eq!(regions.schema.as_deref(), Some("sales"));
    assert_eq!(regions.kind, TableKind::Table);
    assert_eq!(regions.primary_key, ["code"]);
    assert!(
        s.tables
            .iter()
            .all(|t| t.schema.as_deref() != Some("pg_catalog"))
    );
}

#[tokio::test]
async fn writes_are_refused_and_change_nothing() {
    let db = PgDb::new().await;
    let conn = db.open().await;
    common::assert_all_refused(&conn, &WRITES).await;
    let copy_target = format!("/tmp/{}.csv", db.name);
    let copy = format!("COPY numbers TO '{copy_target}'");
    let copy_query = format!("COPY (SELECT 1) TO '{copy_target}'");
    let export = format!("SELECT lo_export(1, '{copy_target}')");
    common::assert_all_refused(
        &conn,
        &[
            "WITH gone AS (DELETE FROM numbers RETURNING n) SELECT count(*) FROM gone",
            "WITH x AS (INSERT INTO ten VALUES (11) RETURNING n) SELECT * FROM x",
            "SELECT n INTO stolen FROM numbers",
            "SELECT * FROM numbers FOR UPDATE",
            "SELECT set_config('default_transaction_read_only', 'off', false)",
            "SET default_transaction_read_only = off",
            "BEGIN READ WRITE",
            "COMMIT",
            &copy,
            &copy_query,
            &export,
            "SELECT nextval('no_such_seq')",
        ],
    )
    .await;
    // The server itself refuses writes that pass the lexical guard.
    let e = conn
        .query(
            "WITH gone AS (DELETE FROM numbers RETURNING n) SELECT count(*) FROM gone",
            QueryLimits::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::ReadOnly(_)), "{e:?}");
    let e = conn
        .query("DELETE FROM numbers", QueryLimits::default())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::ReadOnly(_)), "{e:?}");

    assert_eq!(db.total_rows().await, FIXTURE_ROW_TOTAL);
    let w = db.writer().await;
    let tables: i64 = w
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE tablename IN ('intruder', 'stolen')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(tables, 0);
    assert!(!std::path::Path::new(&copy_target).exists());
    // Later queries still work: nothing above left the pool in a bad state.
    let r = conn
        .query("SELECT count(*) FROM ten", QueryLimits::default())
        .await
        .unwrap();
    assert_eq!(r.scalar(), Some(&Value::Int(10)));
}

#[tokio::test]
async fn limits_and_statements() {
    let db = PgDb::new().await;
    let conn = db.open().await;
    common::assert_one_statement_only(&conn).await;
    common::assert_row_cap(&conn).await;
    common::assert_times_out(
        &conn,
        "SELECT count(*) FROM generate_series(1, 100000) a CROSS JOIN generate_series(1, 100000) b",
    )
    .await;
    common::assert_times_out(&conn, "SELECT pg_sleep(30)").await;
    common::assert_explain(&conn).await;
    let plan = conn
        .explain("(SELECT 1) UNION (SELECT n FROM ten)")
        .await
        .unwrap();
    assert!(plan.contains("Append") || plan.contains("Unique"), "{plan}");
    assert_eq!(db.total_rows().await, FIXTURE_ROW_TOTAL);
}

#[tokio::test]
async fn values_are_typed() {
    let db = PgDb::new().await;
    let conn = db.open().await;
    let r = conn
        .query(
            "SELECT 1::int2, 2::int4, 3::int8, 1.1::float4, 2.5::float8, 12.34::numeric(10,2), \
             'x'::text, 'y'::varchar, 'z'::char(2), true, DATE '2024-02-29', TIME '13:45:00.25', \
             TIMESTAMP '2024-02-29 13:45:00', TIMESTAMPTZ '2024-02-29 13:45:00+02', \
             '\\x01ff'::bytea, NULL::int, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, \
             '{\"a\": 1}'::json, '{\"a\": 1}'::jsonb, 'happy'::mood, 5::positive, 'NaN'::numeric, \
             'infinity'::date, 1e40::numeric",
            QueryLimits::default(),
        )
        .await
        .unwrap();
    let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    assert_eq!(
        r.rows[0],
        vec![
            Value::Int(1),
            Value::Int(2),
            Value::Int(3),
            Value::Float(1.1),
            Value::Float(2.5),
            Value::Decimal(Decimal::new(1234, 2)),
            Value::Text("x".into()),
            Value::Text("y".into()),
            Value::Text("z ".into()),
            Value::Bool(true),
            Value::Date(day),
            Value::Time(NaiveTime::from_hms_milli_opt(13, 45, 0, 250).unwrap()),
            Value::Timestamp(day.and_hms_opt(13, 45, 0).unwrap()),
            Value::TimestampTz(day.and_hms_opt(11, 45, 0).unwrap().and_utc()),
            Value::Bytes(vec![1, 255]),
            Value::Null,
            Value::Text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".into()),
            Value::Text("{\"a\": 1}".into()),
            Value::Text("{\"a\": 1}".into()),
            Value::Text("happy".into()),
            Value::Int(5),
            Value::Text("NaN".into()),
            Value::Text("infinity".into()),
            Value::Text(format!("1{}", "0".repeat(40))),
        ]
    );
    assert_eq!(r.columns[5].type_name, "numeric");
    assert_eq!(r.columns[19].type_name, "mood");
    assert!(r.elapsed > Duration::ZERO);
}

/// Types without a natural `Value` come back as PostgreSQL renders them, never as a panic.
#[tokio::test]
async fn other_types_come_back_as_text() {
    let db = PgDb::new().await;
    let conn = db.open().await;
    let r = conn
        .query(
            "SELECT n AS same, n AS same, ARRAY[1, 2, 3], INTERVAL '1 day 02:00:00', \
             12.34::money, '192.168.0.1/24'::inet, int4range(1, 5), ROW(1, 'a'), \
             '10:00+02'::timetz, 'a b'::tsvector, NULL::int[] \
             FROM ten ORDER BY n LIMIT 2",
            QueryLimits::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        r.column_names(),
        [
            "same",
            "same",
            "array",
            "interval",
            "money",
            "inet",
            "int4range",
            "row",
            "timetz",
            "tsvector",
            "int4"
        ]
    );
    let row = &r.rows[0];
    assert_eq!(row[0], Value::Int(1));
    assert_eq!(row[2], Value::Text("{1,2,3}".into()));
    assert_eq!(row[3], Value::Text("1 day 02:00:00".into()));
    assert!(
        matches!(&row[4], Value::Text(m) if m.contains("12.34")),
        "{:?}",
        row[4]
    );
    assert_eq!(row[5], Value::Text("192.168.0.1/24".into()));
    assert_eq!(row[6], Value::Text("[1,5)".into()));
    assert_eq!(row[7], Value::Text("(1,a)".into()));
    assert_eq!(row[8], Value::Text("10:00:00+02".into()));
    assert_eq!(row[9], Value::Text("'a' 'b'".into()));
    assert_eq!(row[10], Value::Null);
    assert_eq!(r.rows[1][0], Value::Int(2));
    assert_eq!(r.columns[2].type_name, "_int4");
}

#[tokio::test]
async fn connection_failures_are_connect_errors_without_the_password() {
    let db = PgDb::new().await;
    let base = url::Url::parse(&db.url).unwrap();
    let host = base.host_str().unwrap().to_string();
    let port = base.port().unwrap_or(5432);
    let opts = ConnectOptions::default().with_connect_timeout(Duration::from_secs(5));
    for (url, expect) in [
        (
            format!(
                "postgres://no_such_role_cbi:hunter2secret@{host}:{port}/{}",
                db.name
            ),
            "no_such_role_cbi",
        ),
        (
            format!("postgres://postgres:hunter2secret@{host}:{port}/no_such_database_cbi"),
            "no_such_database_cbi",
        ),
        (
            "postgres://postgres:hunter2secret@127.0.0.1:1/test".to_string(),
            "refused",
        ),
    ] {
        let e = cbi_db::connect(&url, &opts).await.unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, cbi_db::Error::Connect { .. }), "{url}: {e:?}");
        assert!(!msg.contains("hunter2secret"), "{msg}");
        assert!(msg.to_lowercase().contains(expect), "{msg}");
        assert!(msg.contains("****"), "{msg}");
        let shared: Error = e.into();
        assert!(matches!(shared, Error::Connect { .. }));
    }
    let e = cbi_db::connect(&format!("{}?sslmode=require", db.url), &opts)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("sslmode=require"), "{e}");
}

/// Rows past the byte cap are not read into memory: 10,000 rows of 10 MB stop at the first
/// rows past 64 MiB, and the session is usable afterwards. The superuser the tests connect as
/// is named in the privilege warning.
#[tokio::test]
async fn the_byte_cap_stops_huge_results() {
    let db = PgDb::new().await;
    let conn = db.open().await;
    let started = std::time::Instant::now();
    let e = conn
        .query(
            "SELECT repeat('x', 10000000) FROM generate_series(1, 10000)",
            QueryLimits::default().with_timeout(Duration::from_secs(20)),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::ResultTooLarge { .. }), "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let r = conn
        .query("SELECT count(*) FROM numbers", QueryLimits::default())
        .await
        .unwrap();
    assert_eq!(r.scalar(), Some(&Value::Int(1000)));
    assert!(
        conn.privilege_warning()
            .is_some_and(|w| w.contains("superuser `postgres`")),
        "{:?}",
        conn.privilege_warning()
    );
}
