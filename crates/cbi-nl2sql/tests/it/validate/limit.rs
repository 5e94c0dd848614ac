//! The row limit on the outermost query: added when missing, kept when present.

use std::sync::Arc;

use cbi_nl2sql::{SqlValidator, ValidatorOptions};
use cbi_types::SqlDialect::{self, Generic, MySql, Oracle, PostgreSql, Sqlite};

use super::{accepts, fixture};

/// (dialect, input, output, limit_added, limit)
const CASES: &[(SqlDialect, &str, &str, bool, Option<u64>)] = &[
    (
        PostgreSql,
        "SELECT region FROM sales",
        "SELECT region FROM sales LIMIT 1000",
        true,
        Some(1000),
    ),
    (
        Sqlite,
        "select region from sales where amount > 1 order by region",
        "SELECT region FROM sales WHERE amount > 1 ORDER BY region LIMIT 1000",
        true,
        Some(1000),
    ),
    // A smaller limit is the query's own business.
    (
        PostgreSql,
        "SELECT region FROM sales ORDER BY amount DESC LIMIT 5",
        "SELECT region FROM sales ORDER BY amount DESC LIMIT 5",
        false,
        Some(5),
    ),
    // A larger one is left alone too (the connection caps the rows it fetches) and reported.
    (
        PostgreSql,
        "SELECT region FROM sales LIMIT 5000",
        "SELECT region FROM sales LIMIT 5000",
        false,
        Some(5000),
    ),
    (
        PostgreSql,
        "SELECT region FROM sales LIMIT 10 OFFSET 20",
        "SELECT region FROM sales LIMIT 10 OFFSET 20",
        false,
        Some(10),
    ),
    // OFFSET alone gets a limit.
    (
        PostgreSql,
        "SELECT region FROM sales OFFSET 20",
        "SELECT region FROM sales LIMIT 1000 OFFSET 20",
        true,
        Some(1000),
    ),
    (
        MySql,
        "SELECT region FROM sales LIMIT 20, 10",
        "SELECT region FROM sales LIMIT 20, 10",
        false,
        Some(10),
    ),
    // FETCH FIRST counts as a limit.
    (
        PostgreSql,
        "SELECT region FROM sales FETCH FIRST 3 ROWS ONLY",
        "SELECT region FROM sales FETCH FIRST 3 ROWS ONLY",
        false,
        Some(3),
    ),
    // So does TOP.
    (
        Generic,
        "SELECT TOP 7 region FROM sales",
        "SELECT TOP 7 region FROM sales",
        false,
        Some(7),
    ),
    // A limit that is not a number is kept; its value is unknown.
    (
        PostgreSql,
        "SELECT region FROM sales LIMIT (SELECT count(*) FROM customers)",
        "SELECT region FROM sales LIMIT (SELECT count(*) FROM customers)",
        false,
        None,
    ),
    // The limit goes on the whole set operation, not on its last arm.
    (
        Sqlite,
        "SELECT region FROM sales UNION SELECT region FROM targets",
        "SELECT region FROM sales UNION SELECT region FROM targets LIMIT 1000",
        true,
        Some(1000),
    ),
    // Inner limits do not limit the result.
    (
        PostgreSql,
        "SELECT * FROM (SELECT region FROM sales LIMIT 5) AS s",
        "SELECT * FROM (SELECT region FROM sales LIMIT 5) AS s LIMIT 1000",
        true,
        Some(1000),
    ),
    (
        PostgreSql,
        "WITH t AS (SELECT region FROM sales LIMIT 5) SELECT region FROM t",
        "WITH t AS (SELECT region FROM sales LIMIT 5) SELECT region FROM t LIMIT 1000",
        true,
        Some(1000),
    ),
    // Oracle spells it FETCH FIRST.
    (
        Oracle,
        "SELECT region FROM sales",
        "SELECT region FROM sales FETCH FIRST 1000 ROWS ONLY",
        true,
        Some(1000),
    ),
    (
        Oracle,
        "SELECT region FROM sales ORDER BY region OFFSET 5 ROWS",
        "SELECT region FROM sales ORDER BY region OFFSET 5 ROWS FETCH FIRST 1000 ROWS ONLY",
        true,
        Some(1000),
    ),
    (
        Oracle,
        "SELECT region FROM sales FETCH FIRST 5 ROWS ONLY",
        "SELECT region FROM sales FETCH FIRST 5 ROWS ONLY",
        false,
        Some(5),
    ),
];

#[test]
fn limits_are_added_once_and_kept_when_present() {
    for (d, sql, out, added, limit) in CASES {
        let v = accepts(*d, sql);
        assert_eq!(v.sql, *out, "{d}: {sql}");
        assert_eq!(v.limit_added, *added, "{d}: {sql}");
        assert_eq!(v.limit, *limit, "{d}: {sql}");
    }
}

#[test]
fn the_default_limit_is_an_option() {
    let v = SqlValidator::new(PostgreSql, Arc::clone(&fixture())).with_options(ValidatorOptions {
        default_limit: 50,
        ..ValidatorOptions::default()
    });
    let out = v.validate("SELECT region FROM sales").unwrap();
    assert_eq!(out.sql, "SELECT region FROM sales LIMIT 50");
    assert_eq!(out.limit, Some(50));
    let out = v.validate("SELECT region FROM sales LIMIT 10").unwrap();
    assert!(!out.limit_added);
}
