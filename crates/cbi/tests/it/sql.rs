//! `cbi sql` on a SQLite file the test makes: exact output formats, the row cap, the time limit,
//! and statements that must be refused without changing a byte.

use std::time::{Duration, Instant};

use crate::support::{Cbi, sqlite_fixture, sqlite_snapshot};

const FIRST_THREE: &str = "SELECT id, name, price FROM t WHERE id <= 3 ORDER BY id";

#[test]
fn select_prints_a_table_with_a_footer() {
    let cbi = Cbi::new();
    let db = sqlite_fixture(cbi.dir());
    let out = cbi.run(&["sql", "--db", db.to_str().unwrap(), FIRST_THREE]);
    let text = out.success();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[1].contains("id") && lines[1].contains("name") && lines[1].contains("price"),
        "{text}"
    );
    assert!(text.contains("apple"), "{text}");
    assert!(text.contains("cherry, \"red\""), "{text}");
    // NULL is shown as NULL, in the text column and the number column alike.
    let row2 = lines.iter().find(|l| l.contains(" 2 ")).unwrap();
    // Numbers read as numbers: 2.0 is shown as 2 (--json and --csv keep the exact value).
    assert!(row2.contains("NULL") && row2.contains(" 2 "), "{row2}");
    // Numbers are right-aligned: `1.5` ends where the `price` header ends.
    let price_end = lines[1].find("price").unwrap() + "price".len();
    let row1 = lines.iter().find(|l| l.contains("apple")).unwrap();
    assert_eq!(row1.find("1.5").map(|i| i + 3), Some(price_end), "{text}");
    let footer = lines.last().unwrap();
    assert!(
        footer.starts_with("3 rows in ") && footer.ends_with(" ms"),
        "{footer}"
    );
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn csv_output_is_exact() {
    let cbi = Cbi::new();
    let db = sqlite_fixture(cbi.dir());
    let out = cbi.run(&["sql", "--db", db.to_str().unwrap(), "--csv", FIRST_THREE]);
    assert_eq!(
        out.success(),
        "id,name,price\r\n1,apple,1.5\r\n2,,2.0\r\n3,\"cherry, \"\"red\"\"\",\r\n"
    );
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn json_output_is_exact_and_in_the_one_shape() {
    let cbi = Cbi::new();
    let db = sqlite_fixture(cbi.dir());
    let out = cbi.run(&["sql", "--db", db.to_str().unwrap(), "--json", FIRST_THREE]);
    let v: serde_json::Value = serde_json::from_str(out.success()).unwrap();
    assert_eq!(v["columns"], serde_json::json!(["id", "name", "price"]));
    assert_eq!(
        v["rows"],
        serde_json::json!([
            [1, "apple", 1.5],
            [2, null, 2.0],
            [3, "cherry, \"red\"", null]
        ])
    );
    assert_eq!(v["row_count"], 3);
    assert_eq!(v["truncated"], false);
    assert!(v["sql"].as_str().unwrap().starts_with("SELECT"), "{v}");
    let out = cbi.run(&[
        "sql",
        "--db",
        db.to_str().unwrap(),
        "--json",
        "SELECT id FROM t WHERE id > 99",
    ]);
    let v: serde_json::Value = serde_json::from_str(out.success()).unwrap();
    assert_eq!(
        (v["rows"].clone(), v["row_count"].clone()),
        (serde_json::json!([]), serde_json::json!(0))
    );
}

#[test]
fn the_statement_can_come_from_stdin() {
    use std::io::Write;
    let cbi = Cbi::new();
    let db = sqlite_fixture(cbi.dir());
    let mut child = cbi
        .command()
        .args(["sql", "--db", db.to_str().unwrap(), "--csv", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"SELECT count(*) AS n FROM t\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "n\r\n5\r\n");
}

#[test]
fn max_rows_truncates_and_says_so() {
    let cbi = Cbi::new();
    let db = sqlite_fixture(cbi.dir());
    let db = db.to_str().unwrap();
    let all = "SELECT id FROM t ORDER BY id";

    let out = cbi.run(&["sql", "--db", db, "--max-rows", "2", all]);
    let text = out.success();
    let (table, footer) = text.trim_end().rsplit_once('\n').unwrap();
    let cells: Vec<&str> = table
        .lines()
        .filter_map(|l| l.strip_prefix('│'))
        .map(|l| l.trim_matches(['│', ' ']))
        .collect();
    assert_eq!(cells, ["id", "1", "2"], "{text}");
    assert!(
        footer.starts_with("2 rows (truncated at 2) in "),
        "{footer}"
    );

    let out = cbi.run(&["sql", "--db", db, "--max-rows", "2", "--csv", all]);
    assert_eq!(out.success(), "id\r\n1\r\n2\r\n");
    assert!(out.stderr.contains("truncated at 2 rows"), "{}", out.stderr);

    // Exactly at the cap is not truncated.
    let out = cbi.run(&["sql", "--db", db, "--max-rows", "5", all]);
    assert!(
        out.success()
            .lines()
            .last()
            .unwrap()
            .starts_with("5 rows in "),
        "{}",
        out.stdout
    );

    // The config file's performance.max_rows is the default cap.
    std::fs::write(cbi.dir().join("cbi.yaml"), "performance:\n  max_rows: 3\n").unwrap();
    let out = cbi.run(&["sql", "--db", db, all]);
    assert!(
        out.success()
            .lines()
            .last()
            .unwrap()
            .starts_with("3 rows (truncated at 3) in "),
        "{}",
        out.stdout
    );
}

#[test]
fn a_slow_query_is_cut_off_at_the_time_limit() {
    let cbi = Cbi::new();
    let db = sqlite_fixture(cbi.dir());
    // 5^14 ≈ 6·10⁹ combinations: minutes of work for SQLite.
    let from: Vec<String> = (0..14).map(|i| format!("t AS t{i}")).collect();
    let slow = format!("SELECT count(*) FROM {}", from.join(", "));
    let start = Instant::now();
    let out = cbi.run(&[
        "sql",
        "--db",
        db.to_str().unwrap(),
        "--timeout",
        "0.3",
        &slow,
    ]);
    let line = out.one_line_error();
    assert!(
        line.contains("cancelled") && line.contains("300 ms"),
        "{line}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn writes_are_refused_and_change_nothing() {
    let cbi = Cbi::new();
    let db = sqlite_fixture(cbi.dir());
    let before = sqlite_snapshot(&db);
    for statement in [
        "DELETE FROM t",
        "DROP TABLE t",
        "INSERT INTO t (id, name) VALUES (9, 'x')",
        "UPDATE t SET name = 'x'",
        "PRAGMA writable_schema=1",
        "SELECT 1; DELETE FROM t",
        "SELECT id FROM t; SELECT name FROM t",
        "CREATE TABLE u (x INTEGER)",
        "ATTACH DATABASE 'other.db' AS other",
    ] {
        let out = cbi.run(&["sql", "--db", db.to_str().unwrap(), statement]);
        let line = out.one_line_error();
        assert!(
            line.starts_with("error: refused: ") || line.starts_with("error: invalid SQL: "),
            "{statement}: {line}"
        );
        assert!(out.stdout.is_empty(), "{statement}: {}", out.stdout);
        assert_eq!(
            sqlite_snapshot(&db),
            before,
            "{statement} changed the database"
        );
    }
    assert!(!cbi.dir().join("other.db").exists());
    // The DELETE is named as what it is.
    let out = cbi.run(&["sql", "--db", db.to_str().unwrap(), "DELETE FROM t"]);
    let line = out.one_line_error();
    assert!(
        line.contains("read-only") && line.contains("DELETE"),
        "{line}"
    );
}
