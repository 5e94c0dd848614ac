//! The SQLite writer: a complete, analyzed file, never an overwrite by accident.

use cbi_demo::{DATA_VERSION, DemoSize, Error, IfExists, Table, write_sqlite, write_sqlite_with};
use rusqlite::Connection;

use crate::backends::{Readback, expected};
use crate::data::tiny;

pub(crate) fn read_back(conn: &Connection) -> Readback {
    let one = |sql: &str| -> String {
        conn.query_row(sql, [], |r| r.get::<_, String>(0))
            .unwrap_or_else(|e| panic!("{e}: {sql}"))
    };
    Readback {
        counts: Table::ALL
            .iter()
            .map(|t| {
                let n: i64 = conn
                    .query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))
                    .unwrap();
                (t.name(), n)
            })
            .collect(),
        gross: one("SELECT printf('%.2f', SUM(quantity * unit_price)) FROM order_items"),
        refunds: one("SELECT printf('%.2f', SUM(refund_amount)) FROM returns"),
        first_order: one("SELECT MIN(order_date) FROM orders"),
        last_return: one("SELECT MAX(return_date) FROM returns"),
        apostrophes: one(
            "SELECT COUNT(*) || ' ' || MIN(name) FROM categories WHERE name LIKE '%''s %'",
        ),
        accents: one("SELECT CAST(COUNT(*) AS TEXT) FROM customers WHERE last_name = 'Núñez'"),
    }
}

#[test]
fn writes_a_complete_analyzed_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("retail.sqlite");
    let report = write_sqlite(&path, DemoSize::TINY).unwrap();
    assert_eq!(report.rows, tiny().row_counts());
    assert_eq!(report.size, DemoSize::TINY);
    let bytes = std::fs::metadata(&path).unwrap().len();
    assert_eq!(report.file_bytes, Some(bytes));

    let conn = Connection::open(&path).unwrap();
    assert_eq!(read_back(&conn), expected(tiny()));

    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, DATA_VERSION);
    let stats: i64 = conn
        .query_row("SELECT COUNT(*) FROM sqlite_stat1", [], |r| r.get(0))
        .unwrap();
    assert!(stats >= 8, "ANALYZE ran: {stats} rows in sqlite_stat1");
    let indexes: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(indexes, 9);
    let violations: i64 = conn
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(violations, 0);
    let fks: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM pragma_foreign_key_list('order_items')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(fks, 2);

    // A price literal finds the product whose price it is.
    let price = tiny().products[0].unit_price;
    let n: i64 = conn
        .query_row(
            &format!("SELECT COUNT(*) FROM products WHERE unit_price = {price}"),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(n >= 1, "unit_price = {price}");

    // Nothing but the file itself was left in the directory.
    let left: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("retail.sqlite")]);
}

#[test]
fn refuses_to_overwrite_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.sqlite");
    std::fs::write(&path, b"not a demo").unwrap();

    let err = write_sqlite(&path, DemoSize::TINY).unwrap_err();
    assert!(
        matches!(err, Error::FileExists(ref p) if p == &path),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"not a demo");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no leftovers"
    );

    write_sqlite_with(&path, DemoSize::TINY, IfExists::Replace).unwrap();
    let conn = Connection::open(&path).unwrap();
    let regions: i64 = conn
        .query_row("SELECT COUNT(*) FROM regions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(regions, 5);
}

#[test]
fn a_path_without_a_file_name_is_refused() {
    let err = write_sqlite_with("/", DemoSize::TINY, IfExists::Replace).unwrap_err();
    assert!(matches!(err, Error::InvalidTarget(_)), "{err}");
}
