//! The reproductions of the security probe, through the real binary: each statement goes to
//! `cbi sql -` on stdin, the process runs under a 2 GiB address-space limit (`prlimit --as`, so
//! a result that tried to fill memory would abort it), and must end within its time limit plus a
//! margin with the expected refusal or a harmless answer.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cbi_testkit::{ScratchDb, Server};

use crate::support::{Cbi, block_on};

/// The address space the binary may use: far below what the probe's inputs used to take
/// (1.5 to 3.7 GB), far above what cbi needs.
const ADDRESS_SPACE: &str = "--as=2147483648";

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// `cbi sql --db URL ARGS… -` with `sql` on stdin, under the address-space limit.
fn cbi_sql(cbi: &Cbi, url: &str, args: &[&str], sql: &str) -> Outcome {
    let template = cbi.command();
    let mut c = Command::new("prlimit");
    c.arg(ADDRESS_SPACE).arg("--").arg(template.get_program());
    c.env_clear();
    for (k, v) in template.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    if let Some(dir) = template.get_current_dir() {
        c.current_dir(dir);
    }
    c.args(["sql", "--db", url]).args(args).arg("-");
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = c.spawn().expect("prlimit (util-linux) runs cbi");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(sql.as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

#[track_caller]
fn refused(o: &Outcome, within: Duration, says: &str) {
    assert_eq!(
        o.code,
        Some(1),
        "stdout: {}\nstderr: {}",
        o.stdout,
        o.stderr
    );
    assert!(
        o.stderr.contains(says),
        "expected `{says}` in: {}",
        o.stderr
    );
    assert!(o.elapsed < within, "took {:?}: {}", o.elapsed, o.stderr);
}

#[test]
fn sqlite_reproductions() {
    let cbi = Cbi::new();
    let path = cbi.dir().join("probe.sqlite");
    let w = rusqlite::Connection::open(&path).unwrap();
    w.execute_batch(
        "CREATE TABLE numbers (n INTEGER PRIMARY KEY);
         WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000)
         INSERT INTO numbers SELECT n FROM c;",
    )
    .unwrap();
    drop(w);
    let url = path.to_string_lossy().into_owned();
    let half = ["--timeout", "0.5"];
    let o = cbi_sql(
        &cbi,
        &url,
        &half,
        "SELECT sum(length(randomblob(900000000))) FROM (SELECT 1 FROM numbers LIMIT 20)",
    );
    refused(
        &o,
        Duration::from_secs(3),
        "function `randomblob` is not allowed",
    );
    let o = cbi_sql(&cbi, &url, &half, "SELECT zeroblob(100000000) FROM numbers");
    refused(
        &o,
        Duration::from_secs(3),
        "function `zeroblob` is not allowed",
    );
    // Allowed functions, expensive per row (the row keeps SQLite from computing it once):
    // the watchdog stops them at the deadline.
    let o = cbi_sql(
        &cbi,
        &url,
        &half,
        "SELECT length(replace(printf('%.*c', 20000000 + n, 'x'), 'x', 'yy')) FROM numbers",
    );
    refused(&o, Duration::from_secs(3), "time limit");
    // A gigabyte of text asked for as CSV: the byte cap ends it, memory stays bounded.
    let o = cbi_sql(
        &cbi,
        &url,
        &["--csv", "--timeout", "10"],
        "SELECT printf('%.*c', 1000000 + n, 'x') FROM numbers",
    );
    refused(&o, Duration::from_secs(12), "result too large");
    // No -wal, -shm or journal beside the file.
    let mut names: Vec<String> = std::fs::read_dir(cbi.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("probe"))
        .collect();
    names.sort();
    assert_eq!(names, ["probe.sqlite"]);
}

#[test]
fn postgres_reproductions() {
    let db = block_on(ScratchDb::create(Server::Postgres, "cbi_cli_hostile"));
    block_on(db.execute(&["CREATE TABLE accounts (id integer PRIMARY KEY)"]));
    let cbi = Cbi::new();
    let o = cbi_sql(
        &cbi,
        &db.url,
        &["--timeout", "20"],
        "SELECT repeat('x',100000000) FROM generate_series(1,10000)",
    );
    refused(&o, Duration::from_secs(20), "result too large");
    for (sql, name) in [
        ("SELECT pg_stat_reset()", "pg_stat_reset"),
        (
            "SELECT brin_summarize_new_values('accounts_pkey')",
            "brin_summarize_new_values",
        ),
        (
            "SELECT name, setting FROM pg_show_all_settings()",
            "pg_show_all_settings",
        ),
        ("SELECT * FROM pg_hba_file_rules()", "pg_hba_file_rules"),
        ("SELECT txid_current()", "txid_current"),
    ] {
        let o = cbi_sql(&cbi, &db.url, &["--timeout", "0.5"], sql);
        refused(
            &o,
            Duration::from_secs(3),
            &format!("`{name}` is not allowed"),
        );
    }
}

#[test]
fn mariadb_reproductions() {
    let db = block_on(ScratchDb::create(Server::MySql, "cbi_cli_hostile"));
    block_on(db.execute(&[
        "CREATE TABLE accounts (id integer PRIMARY KEY)",
        "INSERT INTO accounts VALUES (1), (2)",
    ]));
    let cbi = Cbi::new();
    let o = cbi_sql(
        &cbi,
        &db.url,
        &["--csv", "--timeout", "2"],
        r"SELECT '\\' AS a, ', (SELECT group_concat(schema_name) FROM information_schema.schemata) AS s -- ' AS b FROM accounts",
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    // The "subquery" is the second column's text; no schema name came back.
    assert_eq!(
        o.stdout,
        "a,b\r\n\
         \\\\,\", (SELECT group_concat(schema_name) FROM information_schema.schemata) AS s -- \"\r\n\
         \\\\,\", (SELECT group_concat(schema_name) FROM information_schema.schemata) AS s -- \"\r\n"
    );
    let o = cbi_sql(
        &cbi,
        &db.url,
        &["--timeout", "0.5"],
        "SELECT master_gtid_wait('0-1-100', 5)",
    );
    refused(
        &o,
        Duration::from_secs(3),
        "`master_gtid_wait` is not allowed",
    );
    let o = cbi_sql(
        &cbi,
        &db.url,
        &["--timeout", "0.5"],
        r"SELECT '\' AS a, ', release_all_locks() AS s, sleep(3) -- ' AS b FROM accounts",
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.elapsed < Duration::from_secs(3), "{:?}", o.elapsed);
}
