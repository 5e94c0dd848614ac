//! `cbi schema`, `cbi sql`, `cbi ask` and `cbi chat` against the machine's PostgreSQL and
//! MariaDB, and chat sessions kept in its Redis.
//!
//! Each test creates a fresh, randomly named database through an admin connection
//! (`CBI_TEST_POSTGRES_URL`, `CBI_TEST_MYSQL_URL`), points the binary at it, and drops it in a
//! guard's `Drop`, so the database disappears even when an assertion fails; Redis sessions live
//! under a random key prefix (`CBI_TEST_REDIS_URL`) whose keys a guard deletes. A missing server
//! is a failure with a message saying what to start.

use cbi_testkit::{RedisPrefix, ScratchDb, Server};

use crate::support::{Cbi, block_on};

const SHOP_DDL: &str = "
CREATE TABLE customers (id integer PRIMARY KEY, name varchar(40) NOT NULL, city varchar(40));
CREATE TABLE orders (
  id integer PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES customers (id),
  amount numeric(10, 2) NOT NULL
);
INSERT INTO customers VALUES (1, 'Ada', 'London'), (2, 'Grace', NULL);
INSERT INTO orders VALUES (10, 1, 12.50), (11, 1, 7.25), (12, 2, 100.00);
";

fn statements(ddl: &str) -> impl Iterator<Item = &str> {
    ddl.split(';').map(str::trim).filter(|s| !s.is_empty())
}

/// A fresh database on `server` holding the shop; dropped when the test ends.
fn shop(server: Server) -> ScratchDb {
    block_on(async {
        let db = ScratchDb::create(server, "cbi_cli").await;
        db.execute(&statements(SHOP_DDL).collect::<Vec<_>>()).await;
        db
    })
}

/// What both servers must show for the shop database.
fn check_shop(url: &str, name: &str, dialect: &str) {
    let cbi = Cbi::new();
    let out = cbi.run(&["schema", "--db", url]);
    let text = out.success();
    let header = text.lines().next().unwrap();
    assert!(
        header.starts_with(&format!("Database {name} ({dialect}): 2 tables, ")),
        "{header}"
    );
    assert!(text.contains("\ncustomers"), "{text}");
    assert!(text.contains("FK → customers.id"), "{text}");
    assert!(text.contains("London"), "samples are read: {text}");

    let out = cbi.run(&[
        "sql",
        "--db",
        url,
        "--json",
        "SELECT c.name, SUM(o.amount) AS total, COUNT(*) AS n FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.name ORDER BY c.name",
    ]);
    let v: serde_json::Value = serde_json::from_str(out.success()).unwrap();
    assert_eq!(v["columns"], serde_json::json!(["name", "total", "n"]));
    assert_eq!(
        v["rows"],
        serde_json::json!([["Ada", 19.75, 2], ["Grace", 100, 1]])
    );
    assert_eq!(v["row_count"], 2);

    let out = cbi.run(&[
        "sql",
        "--db",
        url,
        "--csv",
        "SELECT id, city FROM customers ORDER BY id",
    ]);
    assert_eq!(out.success(), "id,city\r\n1,London\r\n2,\r\n");

    let out = cbi.run(&["sql", "--db", url, "DELETE FROM orders"]);
    assert!(out.one_line_error().starts_with("error: refused: "));
    // The tests connect as the servers' superusers: cbi says so, once.
    assert_eq!(
        out.stderr.matches("warning: connected to ").count(),
        1,
        "{}",
        out.stderr
    );
    let out = cbi.run(&[
        "sql",
        "--db",
        url,
        "--csv",
        "SELECT count(*) AS n FROM orders",
    ]);
    assert_eq!(out.success(), "n\r\n3\r\n", "nothing was deleted");

    // A question through the engine, and its plan from the server in a chat.
    let out = cbi.run(&[
        "ask",
        "--db",
        url,
        "--json",
        "How many customers are there?",
    ]);
    let json: serde_json::Value = serde_json::from_str(out.success()).unwrap();
    assert_eq!(json["rows"][0][0], 2, "{json}");
    let run = cbi.run_stdin(
        &["chat", "--db", url],
        "How many orders are there?\n:explain\n",
    );
    let text = run.success();
    // Only the privilege warning (the tests connect as superusers), once.
    assert_eq!(
        run.stderr.lines().collect::<Vec<_>>().len(),
        1,
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.starts_with("warning: connected to "),
        "{}",
        run.stderr
    );
    assert!(
        text.contains(&format!("cbi chat: {name} ({dialect})")),
        "{text}"
    );
    let explain = text.split("\n> :explain\n").nth(1).unwrap();
    let plan = explain.split("\nplan:\n").nth(1).unwrap();
    assert!(!plan.trim().is_empty(), "{explain}");
}

#[test]
fn postgres_schema_and_sql() {
    let db = shop(Server::Postgres);
    check_shop(&db.url, &db.name, "postgresql");
}

#[test]
fn mariadb_schema_and_sql() {
    let db = shop(Server::MySql);
    check_shop(&db.url, &db.name, "mysql");
}

#[test]
fn chat_sessions_in_redis_resume_from_another_process() {
    let redis = RedisPrefix::new("cbi_cli");
    let cbi = Cbi::new();
    std::fs::write(
        cbi.dir().join("cbi.yaml"),
        format!(
            "session:\n  store: redis\n  redis_url: ${{CBI_CHAT_REDIS}}\n  redis_prefix: \"{}\"\n",
            redis.prefix
        ),
    )
    .unwrap();
    let env = [("CBI_CHAT_REDIS", redis.url.as_str())];
    let question = "How many customers are there?";
    let first = cbi.run_stdin_with(&["chat"], &env, &format!("{question}\n"));
    let banner = first.success().lines().next().unwrap().to_string();
    let id = banner
        .split("session ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .to_string();
    assert!(
        redis.keys().iter().any(|k| k.contains(&id)),
        "the session is stored under the prefix: {:?}",
        redis.keys()
    );
    let second = cbi.run_stdin_with(&["chat", "--session", &id], &env, ":history\n");
    let text = second.success();
    assert!(text.contains(&format!("1. {question}")), "{text}");
}
