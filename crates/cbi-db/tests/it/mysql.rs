//! Against the machine's MariaDB (or MySQL): a fresh database per test, dropped afterwards.

use std::ops::Deref;
use std::time::Duration;

use cbi_db::{ConnectOptions, MySqlConnection};
use cbi_testkit::{ScratchDb, Server};
use cbi_types::{Connection, Error, QueryLimits, SqlDialect, Value};
use chrono::{NaiveDate, NaiveTime};
use mysql_async::prelude::Queryable;
use rust_decimal::Decimal;

use crate::common::{self, COUNT_ALL, FIXTURE_ROW_TOTAL, WRITES};

const SCHEMA: [&str; 9] = [
    "CREATE TABLE customers (
        id INT PRIMARY KEY,
        name VARCHAR(50) NOT NULL,
        email VARCHAR(100) UNIQUE COMMENT 'Where receipts go',
        created DATE
    ) COMMENT 'People who buy'",
    "CREATE TABLE orders (
        id INT PRIMARY KEY,
        customer_id INT NOT NULL,
        total DECIMAL(10, 2),
        placed_at DATETIME,
        paid BOOLEAN,
        INDEX orders_customer (customer_id),
        FOREIGN KEY (customer_id) REFERENCES customers (id)
    )",
    "CREATE TABLE products (sku VARCHAR(20), region VARCHAR(10), price DOUBLE, PRIMARY KEY (sku, region))",
    "CREATE TABLE order_lines (
        order_id INT,
        line_no INT,
        sku VARCHAR(20),
        region VARCHAR(10),
        qty INT DEFAULT 1,
        PRIMARY KEY (order_id, line_no),
        FOREIGN KEY (order_id) REFERENCES orders (id),
        FOREIGN KEY (sku, region) REFERENCES products (sku, region)
    )",
    "CREATE TABLE profiles (
        customer_id INT PRIMARY KEY,
        bio TEXT,
        FOREIGN KEY (customer_id) REFERENCES customers (id)
    )",
    "CREATE TABLE numbers (n INT PRIMARY KEY)",
    "CREATE TABLE ten (n INT)",
    "CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100",
    "CREATE TABLE kinds (
        e ENUM('happy', 'sad'), j JSON, b BLOB, t TIME, y YEAR, u BIGINT UNSIGNED, f FLOAT, bit1 BIT(8)
    )",
];

async fn writer(url: &str) -> mysql_async::Conn {
    mysql_async::Conn::from_url(url)
        .await
        .unwrap_or_else(|e| panic!("MariaDB/MySQL is required at {url} (CBI_TEST_MYSQL_URL): {e}"))
}

/// A fresh database holding the fixture; dropped when this goes away, even when an assertion
/// failed.
struct MyDb(ScratchDb);

impl Deref for MyDb {
    type Target = ScratchDb;

    fn deref(&self) -> &ScratchDb {
        &self.0
    }
}

impl MyDb {
    async fn new() -> MyDb {
        let db = MyDb(ScratchDb::create(Server::MySql, "cbi_db_test").await);
        let mut w = writer(&db.url).await;
        for sql in SCHEMA {
            w.query_drop(sql).await.unwrap();
        }
        for sql in common::fixture_rows() {
            w.query_drop(sql).await.unwrap();
        }
        w.query_drop(
            "INSERT INTO kinds VALUES ('sad', '{\"a\": 1}', x'00ff', '-26:30:00', 2024, 18446744073709551615, 1.1, b'101')",
        )
        .await
        .unwrap();
        w.query_drop("ANALYZE TABLE numbers").await.unwrap();
        w.disconnect().await.unwrap();
        db
    }

    async fn open(&self) -> MySqlConnection {
        match cbi_db::ConnectionUrl::parse(&self.url).unwrap() {
            cbi_db::ConnectionUrl::MySql(u) => {
                MySqlConnection::connect(&u, &ConnectOptions::default())
                    .await
                    .unwrap()
            }
            other => panic!("{other:?}"),
        }
    }

    async fn total_rows(&self) -> i64 {
        let mut w = writer(&self.url).await;
        let n: Option<i64> = w.query_first(COUNT_ALL).await.unwrap();
        w.disconnect().await.unwrap();
        n.unwrap()
    }

    async fn table_names(&self) -> Vec<String> {
        let mut w = writer(&self.url).await;
        let names: Vec<String> = w
            .exec(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1",
                (self.name.as_str(),),
            )
            .await
            .unwrap();
        w.disconnect().await.unwrap();
        names
    }
}

#[tokio::test]
async fn introspection_finds_the_fixture() {
    let db = MyDb::new().await;
    let conn = db.open().await;
    assert_eq!(conn.dialect(), SqlDialect::MySql);
    assert_eq!(conn.database_name(), db.name);
    let mut s = conn.introspect().await.unwrap();
    assert_eq!(s.name, db.name);
    let kinds = s.table_index("kinds").unwrap();
    let kinds = s.tables.remove(kinds);
    assert_eq!(kinds.column("e").unwrap().data_type, "enum('happy','sad')");
    common::check_fixture_schema(&s);
    let customers = s.table("customers").unwrap();
    assert_eq!(customers.comment.as_deref(), Some("People who buy"));
    assert_eq!(
        customers.column("email").unwrap().comment.as_deref(),
        Some("Where receipts go")
    );
    assert_eq!(customers.column("created").unwrap().default_value, None);
    assert_eq!(customers.column("name").unwrap().data_type, "varchar(50)");
}

#[tokio::test]
async fn writes_are_refused_and_change_nothing() {
    let db = MyDb::new().await;
    let conn = db.open().await;
    let before = db.table_names().await;
    common::assert_all_refused(&conn, &WRITES).await;
    let outfile = format!("/tmp/{}.out", db.name);
    let into_outfile = format!("SELECT * FROM numbers INTO OUTFILE '{outfile}'");
    let hidden_outfile = format!("SELECT 1 /*!50000 INTO OUTFILE '{outfile}' */");
    let dumpfile = format!("SELECT 1 INTO DUMPFILE '{outfile}'");
    common::assert_all_refused(
        &conn,
        &[
            &into_outfile,
            &hidden_outfile,
            &dumpfile,
            "SELECT LOAD_FILE('/etc/passwd')",
            "SELECT GET_LOCK('cbi', 1)",
            "SET SESSION TRANSACTION READ WRITE",
            "SET STATEMENT max_statement_time = 0 FOR DELETE FROM numbers",
            "LOCK TABLES numbers WRITE",
            "CREATE TEMPORARY TABLE t (a INT)",
            "RENAME TABLE numbers TO numbers2",
            "REPLACE INTO ten VALUES (1)",
            "DO SLEEP(0)",
            "CALL no_such_procedure()",
            "HANDLER numbers OPEN",
            "COMMIT",
            "START TRANSACTION",
            "SELECT * FROM numbers FOR UPDATE; DELETE FROM numbers",
        ],
    )
    .await;
    assert!(!std::path::Path::new(&outfile).exists());
    assert_eq!(db.total_rows().await, FIXTURE_ROW_TOTAL);
    assert_eq!(db.table_names().await, before);
    let r = conn
        .query("SELECT count(*) FROM ten", QueryLimits::default())
        .await
        .unwrap();
    assert_eq!(r.scalar(), Some(&Value::Int(10)));
}

#[tokio::test]
async fn limits_and_statements() {
    let db = MyDb::new().await;
    let conn = db.open().await;
    common::assert_one_statement_only(&conn).await;
    common::assert_row_cap(&conn).await;
    common::assert_times_out(
        &conn,
        // (MariaDB stops recursive CTEs at max_recursive_iterations = 1000, so a join it is.)
        "SELECT count(*) FROM numbers a, numbers b, numbers c WHERE a.n + b.n + c.n > 0",
    )
    .await;
    common::assert_times_out(&conn, "SELECT BENCHMARK(100000000000, MD5('cbi'))").await;
    common::assert_explain(&conn).await;
    let r = conn
        .query("SHOW TABLES", QueryLimits::default())
        .await
        .unwrap();
    assert_eq!(r.row_count(), 9);
    let r = conn
        .query("DESCRIBE customers", QueryLimits::default())
        .await
        .unwrap();
    assert_eq!(r.row_count(), 4);
    assert_eq!(db.total_rows().await, FIXTURE_ROW_TOTAL);
}

#[tokio::test]
async fn values_are_typed() {
    let db = MyDb::new().await;
    let conn = db.open().await;
    let r = conn
        .query(
            "SELECT CAST(7 AS SIGNED), 2.5e0, CAST(12.34 AS DECIMAL(10, 2)), 'x', \
             DATE '2024-02-29', TIME '13:45:00', TIMESTAMP '2024-02-29 13:45:00', x'01ff', NULL, \
             o.paid, o.placed_at, k.e, k.j, k.b, k.t, k.y, k.u, k.f, k.bit1 \
             FROM orders o CROSS JOIN kinds k WHERE o.id = 10",
            QueryLimits::default(),
        )
        .await
        .unwrap();
    let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let row = &r.rows[0];
    assert_eq!(row[0], Value::Int(7));
    assert_eq!(row[1], Value::Float(2.5));
    assert_eq!(row[2], Value::Decimal(Decimal::new(1234, 2)));
    assert_eq!(row[3], Value::Text("x".into()));
    assert_eq!(row[4], Value::Date(day));
    assert_eq!(
        row[5],
        Value::Time(NaiveTime::from_hms_opt(13, 45, 0).unwrap())
    );
    assert_eq!(
        row[6],
        Value::Timestamp(day.and_hms_opt(13, 45, 0).unwrap())
    );
    assert_eq!(row[7], Value::Bytes(vec![1, 255]));
    assert_eq!(row[8], Value::Null);
    // BOOLEAN is TINYINT(1) in MySQL; it stays an integer.
    assert_eq!(row[9], Value::Int(1));
    assert_eq!(
        row[10],
        Value::Timestamp(
            NaiveDate::from_ymd_opt(2024, 3, 1)
                .unwrap()
                .and_hms_opt(10, 30, 0)
                .unwrap()
        )
    );
    assert_eq!(row[11], Value::Text("sad".into()));
    assert!(
        matches!(&row[12], Value::Text(j) if j.contains("\"a\"")),
        "{:?}",
        row[12]
    );
    assert_eq!(row[13], Value::Bytes(vec![0, 255]));
    assert_eq!(row[14], Value::Text("-26:30:00".into()));
    assert_eq!(row[15], Value::Int(2024));
    assert_eq!(row[16], Value::Decimal(Decimal::from(u64::MAX)));
    assert_eq!(row[17], Value::Float(1.1));
    assert_eq!(row[18], Value::Int(5));
    assert_eq!(r.columns[2].type_name, "decimal");
    assert_eq!(r.columns[10].type_name, "datetime");
    assert!(r.elapsed > Duration::ZERO);
}

#[tokio::test]
async fn connection_failures_are_connect_errors_without_the_password() {
    let db = MyDb::new().await;
    let base = url::Url::parse(&db.url).unwrap();
    let host = base.host_str().unwrap().to_string();
    let port = base.port().unwrap_or(3306);
    let user = base.username().to_string();
    let opts = ConnectOptions::default().with_connect_timeout(Duration::from_secs(5));
    for (url, expect) in [
        (
            format!("mysql://{user}:hunter2secret@{host}:{port}/{}", db.name),
            "access denied",
        ),
        (
            format!(
                "mysql://no_such_user_cbi:hunter2secret@{host}:{port}/{}",
                db.name
            ),
            "access denied",
        ),
        (
            format!("mariadb://{user}@{host}:{port}/no_such_database_cbi"),
            "no_such_database_cbi",
        ),
        (
            "mysql://root:hunter2secret@127.0.0.1:1/test".to_string(),
            "refused",
        ),
    ] {
        let e = cbi_db::connect(&url, &opts).await.unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, cbi_db::Error::Connect { .. }), "{url}: {e:?}");
        assert!(!msg.contains("hunter2secret"), "{msg}");
        assert!(msg.to_lowercase().contains(expect), "{msg}");
    }
    let e = cbi_db::connect(&format!("mysql://{user}@{host}:{port}"), &opts)
        .await
        .unwrap_err();
    assert!(matches!(e, cbi_db::Error::InvalidUrl(_)), "{e:?}");
}

/// Rows past the byte cap are not read: the session is ended instead of drained, and the
/// connection keeps answering. Backslashes are plain characters in cbi's sessions, and the
/// root user the tests connect as earns the privilege warning.
#[tokio::test]
async fn the_byte_cap_stops_huge_results_and_backslashes_are_plain() {
    let db = MyDb::new().await;
    let conn = db.open().await;
    let started = std::time::Instant::now();
    let e = conn
        .query(
            "SELECT repeat('x', 10000000) FROM numbers",
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
        .query(r"SELECT '\\' AS a, 'it''s' AS b", QueryLimits::default())
        .await
        .unwrap();
    assert_eq!(
        r.rows[0],
        vec![Value::Text(r"\\".into()), Value::Text("it's".into())]
    );
    assert!(conn.privilege_warning().is_some());
}
