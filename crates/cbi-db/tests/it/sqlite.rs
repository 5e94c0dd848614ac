use std::path::{Path, PathBuf};
use std::time::Duration;

use cbi_db::{ConnectOptions, SqliteConnection, SqliteOptions};
use cbi_types::{Connection, Error, QueryLimits, SqlDialect, Value};
use chrono::NaiveDate;

use crate::common::{self, COUNT_ALL, FIXTURE_ROW_TOTAL, WRITES};

const SCHEMA: &str = "
    CREATE TABLE customers (
        id INTEGER PRIMARY KEY,
        name VARCHAR(50) NOT NULL,
        email VARCHAR(100) UNIQUE,
        created DATE
    );
    CREATE TABLE orders (
        id INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers (id),
        total NUMERIC(10, 2),
        placed_at DATETIME,
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
";

/// A fixture file in its own temporary directory (removed on drop), written through a plain
/// writable rusqlite connection.
struct Fixture {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shop.sqlite");
        let w = rusqlite::Connection::open(&path).unwrap();
        w.execute_batch(SCHEMA).unwrap();
        for sql in common::fixture_rows() {
            w.execute(&sql, []).unwrap();
        }
        Fixture { dir, path }
    }

    /// Counted through a separate writable connection, not the one under test.
    fn total_rows(&self) -> i64 {
        let w = rusqlite::Connection::open(&self.path).unwrap();
        w.query_row(COUNT_ALL, [], |r| r.get(0)).unwrap()
    }

    fn open(&self) -> SqliteConnection {
        SqliteConnection::open(&self.path).unwrap()
    }
}

#[tokio::test]
async fn introspection_finds_the_fixture() {
    let f = Fixture::new();
    let conn = f.open();
    assert_eq!(conn.dialect(), SqlDialect::Sqlite);
    assert_eq!(conn.database_name(), "shop");
    let s = conn.introspect().await.unwrap();
    assert_eq!(s.name, "shop");
    common::check_fixture_schema(&s);
    // SQLite counts rows exactly when there are no statistics.
    assert_eq!(s.table("numbers").unwrap().row_count, Some(1000));
    assert_eq!(
        s.table("orders")
            .unwrap()
            .column("total")
            .unwrap()
            .data_type,
        "NUMERIC(10, 2)"
    );
}

#[tokio::test]
async fn statistics_supply_row_counts_when_present() {
    let f = Fixture::new();
    let w = rusqlite::Connection::open(&f.path).unwrap();
    w.execute_batch("ANALYZE; UPDATE sqlite_stat1 SET stat = '4242 1' WHERE tbl = 'orders';")
        .unwrap();
    drop(w);
    let s = f.open().introspect().await.unwrap();
    assert_eq!(s.table("orders").unwrap().row_count, Some(4242));
    assert!(s.table("sqlite_stat1").is_none());
}

#[tokio::test]
async fn writes_are_refused_and_change_nothing() {
    let f = Fixture::new();
    let conn = f.open();
    common::assert_all_refused(&conn, &WRITES).await;
    let attach_target = f.dir.path().join("other.sqlite");
    let attach = format!("ATTACH DATABASE '{}' AS o", attach_target.display());
    common::assert_all_refused(
        &conn,
        &[
            "PRAGMA query_only = 0",
            "PRAGMA query_only = 0; DELETE FROM numbers",
            "WITH x AS (SELECT 1) DELETE FROM numbers",
            "REPLACE INTO ten VALUES (1)",
            "VACUUM",
            &attach,
            "SELECT load_extension('/tmp/nothing')",
        ],
    )
    .await;
    let e = conn
        .query("DELETE FROM numbers", QueryLimits::default())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::ReadOnly(_)), "{e:?}");
    assert!(!attach_target.exists());
    assert_eq!(f.total_rows(), FIXTURE_ROW_TOTAL);
}

#[tokio::test]
async fn one_statement_per_call() {
    let f = Fixture::new();
    common::assert_one_statement_only(&f.open()).await;
    assert_eq!(f.total_rows(), FIXTURE_ROW_TOTAL);
}

#[tokio::test]
async fn the_row_cap_holds() {
    common::assert_row_cap(&Fixture::new().open()).await;
}

#[tokio::test]
async fn slow_queries_time_out() {
    let f = Fixture::new();
    common::assert_times_out(
        &f.open(),
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000000) \
         SELECT count(*) FROM c",
    )
    .await;
}

#[tokio::test]
async fn explain_shows_the_plan() {
    let f = Fixture::new();
    let conn = f.open();
    common::assert_explain(&conn).await;
    let plan = conn
        .explain("SELECT * FROM orders WHERE customer_id = 1")
        .await
        .unwrap();
    assert!(plan.contains("orders_customer"), "{plan}");
}

#[tokio::test]
async fn values_are_typed_by_declaration() {
    let f = Fixture::new();
    let conn = f.open();
    let r = conn
        .query(
            "SELECT o.id, o.total, o.placed_at, o.paid, c.created, c.email, p.price, x'00ff', 1.5 \
             FROM orders o JOIN customers c ON c.id = o.customer_id \
             JOIN products p ON p.region = 'eu' ORDER BY o.id",
            QueryLimits::default(),
        )
        .await
        .unwrap();
    let ada = &r.rows[0];
    assert_eq!(ada[0], Value::Int(10));
    assert_eq!(ada[1], Value::Float(250.5));
    assert_eq!(
        ada[2],
        Value::Timestamp(
            NaiveDate::from_ymd_opt(2024, 3, 1)
                .unwrap()
                .and_hms_opt(10, 30, 0)
                .unwrap()
        )
    );
    assert_eq!(ada[3], Value::Bool(true));
    assert_eq!(
        ada[4],
        Value::Date(NaiveDate::from_ymd_opt(2024, 1, 5).unwrap())
    );
    assert_eq!(ada[5], Value::Text("ada@example.com".into()));
    assert_eq!(ada[6], Value::Float(9.5));
    assert_eq!(ada[7], Value::Bytes(vec![0, 255]));
    assert_eq!(ada[8], Value::Float(1.5));
    assert_eq!(r.rows[1][3], Value::Bool(false));
    assert_eq!(r.rows[1][5], Value::Null);
    assert_eq!(r.columns[2].type_name, "DATETIME");
    assert_eq!(r.columns[7].type_name, "");
    assert!(r.elapsed > Duration::ZERO);
}

#[tokio::test]
async fn raw_values_keep_storage_classes() {
    let f = Fixture::new();
    let w = rusqlite::Connection::open(&f.path).unwrap();
    w.execute(
        "INSERT INTO customers (id, name) VALUES (9, CAST(x'41ff42' AS TEXT))",
        [],
    )
    .unwrap();
    drop(w);
    let conn = SqliteConnection::open_with(&f.path, SqliteOptions::default().with_raw_values(true))
        .unwrap();
    let r = conn
        .query("SELECT o.paid, o.placed_at, c.created FROM orders o JOIN customers c ON c.id = o.customer_id ORDER BY o.id", QueryLimits::default())
        .await
        .unwrap();
    assert_eq!(
        r.rows[0],
        vec![
            Value::Int(1),
            Value::Text("2024-03-01 10:30:00".into()),
            Value::Text("2024-01-05".into())
        ]
    );
    // Invalid UTF-8 is dropped, as Python's `decode(errors="ignore")` does.
    let r = conn
        .query(
            "SELECT name FROM customers WHERE id = 9",
            QueryLimits::default(),
        )
        .await
        .unwrap();
    assert_eq!(r.scalar(), Some(&Value::Text("AB".into())));
}

#[tokio::test]
async fn concurrent_queries_share_the_pool() {
    let f = Fixture::new();
    let conn = std::sync::Arc::new(
        SqliteConnection::open_with(&f.path, SqliteOptions::default().with_max_connections(3))
            .unwrap(),
    );
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let conn = conn.clone();
            tokio::spawn(async move {
                conn.query(
                    &format!("SELECT count(*) FROM numbers WHERE n > {i}"),
                    QueryLimits::default(),
                )
                .await
                .unwrap()
                .scalar()
                .cloned()
            })
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.unwrap(), Some(Value::Int(1000 - i as i64)));
    }
}

#[tokio::test]
async fn connect_opens_paths_and_urls() {
    let f = Fixture::new();
    let opts = ConnectOptions::default();
    for url in [
        f.path.display().to_string(),
        format!("sqlite:{}", f.path.display()),
        format!("sqlite://{}", f.path.display()),
    ] {
        let conn = cbi_db::connect(&url, &opts).await.unwrap();
        assert_eq!(conn.database_name(), "shop");
        let r = conn
            .query("SELECT count(*) FROM ten", QueryLimits::default())
            .await
            .unwrap();
        assert_eq!(r.scalar(), Some(&Value::Int(10)));
    }
}

#[tokio::test]
async fn a_missing_file_is_not_found_and_never_created() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.sqlite");
    let e = cbi_db::connect(missing.to_str().unwrap(), &ConnectOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(e, cbi_db::Error::FileNotFound(ref p) if p == &missing),
        "{e:?}"
    );
    let shared: Error = e.into();
    assert!(matches!(
        shared,
        Error::NotFound {
            what: "database file",
            ..
        }
    ));
    assert!(!missing.exists());
    assert!(matches!(
        SqliteConnection::open(&missing),
        Err(cbi_db::Error::FileNotFound(_))
    ));
    assert!(!missing.exists());
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_a_connect_error() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("notes.txt");
    let text = "this is not a database, just some text that is long enough";
    std::fs::write(&junk, text).unwrap();
    let e = SqliteConnection::open(&junk).unwrap_err();
    assert!(
        matches!(e, cbi_db::Error::Connect { ref message, .. } if message.contains("not a database")),
        "{e:?}"
    );
    let e = SqliteConnection::open(dir.path()).unwrap_err();
    assert!(matches!(e, cbi_db::Error::Connect { .. }), "{e:?}");
    assert_eq!(std::fs::read_to_string(&junk).unwrap(), text);
}

/// The file is never modified, byte for byte, by anything the connection does.
#[tokio::test]
async fn the_file_is_left_untouched() {
    let f = Fixture::new();
    let before = std::fs::read(&f.path).unwrap();
    let conn = f.open();
    conn.introspect().await.unwrap();
    common::assert_all_refused(&conn, &WRITES).await;
    conn.query("SELECT * FROM numbers", QueryLimits::default())
        .await
        .unwrap();
    drop(conn);
    assert_eq!(std::fs::read(&f.path).unwrap(), before);
    assert!(!journal_exists(&f.path));
}

fn journal_exists(db: &Path) -> bool {
    ["-journal", "-wal"].iter().any(|s| {
        let mut p = db.as_os_str().to_owned();
        p.push(s);
        Path::new(&p).exists()
    })
}

/// Files left in WAL mode (as many writers leave them) open and read without being written.
#[tokio::test]
async fn wal_mode_files_are_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.sqlite");
    let w = rusqlite::Connection::open(&path).unwrap();
    w.execute_batch(
        "PRAGMA journal_mode = WAL; CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1), (2);",
    )
    .unwrap();
    drop(w);
    let conn = SqliteConnection::open(&path).unwrap();
    let r = conn
        .query("SELECT count(*) FROM t", QueryLimits::default())
        .await
        .unwrap();
    assert_eq!(r.scalar(), Some(&Value::Int(2)));
    assert_eq!(conn.introspect().await.unwrap().tables.len(), 1);
}

/// One expensive call per row slips between the progress handler's looks at the clock; the
/// watchdog interrupts it at the deadline anyway, and no single value may pass the byte cap
/// (`randomblob(900000000)` is refused at once instead of allocating 900 MB).
#[tokio::test]
async fn the_deadline_and_the_byte_cap_hold_for_expensive_calls() {
    let f = Fixture::new();
    let conn = f.open();
    let limits = QueryLimits::rows(100).with_timeout(Duration::from_millis(500));
    let started = std::time::Instant::now();
    let e = conn
        .query(
            "SELECT sum(length(randomblob(900000000))) FROM (SELECT 1 FROM numbers LIMIT 20)",
            limits,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::ResultTooLarge { .. }), "{e}");
    assert!(started.elapsed() < Duration::from_secs(2));

    // Within the cap per value, the calls still add up past the deadline: interrupted.
    let started = std::time::Instant::now();
    let e = conn
        .query(
            "SELECT sum(length(randomblob(30000000))) FROM numbers",
            limits,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e}");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );

    // The byte cap over a whole result: 1000 rows of 100 KB pass 1 MB.
    let e = conn
        .query(
            "SELECT zeroblob(100000) FROM numbers",
            QueryLimits::default().with_max_bytes(1 << 20),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::ResultTooLarge { max_bytes } if max_bytes == 1 << 20),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "result too large: its values pass the limit of 1 MiB on one result; ask for fewer rows or columns, or aggregate"
    );
    // Under the cap, the same result is fine.
    let r = conn
        .query("SELECT zeroblob(100) FROM numbers", QueryLimits::default())
        .await
        .unwrap();
    assert_eq!(r.rows.len(), 1000);
}

/// Reading a WAL-mode database leaves no `-wal` or `-shm` file beside it.
#[tokio::test]
async fn a_wal_database_is_read_without_side_files() {
    let f = Fixture::new();
    let w = rusqlite::Connection::open(&f.path).unwrap();
    let mode: String = w
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(w); // the last connection checkpoints and removes its side files
    let side = |suffix: &str| PathBuf::from(format!("{}{suffix}", f.path.display()));
    assert!(!side("-wal").exists() && !side("-shm").exists());
    let listing = || {
        let mut v: Vec<String> = std::fs::read_dir(f.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let before = listing();
    let conn = f.open();
    let r = conn
        .query("SELECT count(*) FROM numbers", QueryLimits::default())
        .await
        .unwrap();
    assert_eq!(r.scalar(), Some(&Value::Int(1000)));
    conn.introspect().await.unwrap();
    assert_eq!(listing(), before, "while open");
    drop(conn);
    assert_eq!(listing(), before, "after closing");
}

/// A file name with URI-like characters opens as that file: the immutable URI cbi builds for
/// WAL databases encodes them.
#[tokio::test]
async fn odd_file_names_open_as_themselves() {
    let f = Fixture::new();
    let odd = f.dir.path().join("we?ird #name%20.sqlite");
    std::fs::copy(&f.path, &odd).unwrap();
    let w = rusqlite::Connection::open(&odd).unwrap();
    w.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
        .unwrap();
    drop(w);
    let conn = SqliteConnection::open(&odd).unwrap();
    let r = conn
        .query("SELECT count(*) FROM numbers", QueryLimits::default())
        .await
        .unwrap();
    assert_eq!(r.scalar(), Some(&Value::Int(1000)));
}
