//! `cbi schema`, `cbi sql`, `cbi ask` and `cbi chat` against the machine's PostgreSQL and
//! MariaDB, and chat sessions kept in its Redis.
//!
//! Each test creates a fresh, randomly named database through an admin connection
//! (`CBI_TEST_POSTGRES_URL`, `CBI_TEST_MYSQL_URL`), points the binary at it, and drops it in a
//! guard's `Drop`, so the database disappears even when an assertion fails; Redis sessions live
//! under a random key prefix (`CBI_TEST_REDIS_URL`) whose keys a guard deletes. A missing server
//! is a failure with a message saying what to start.

use mysql_async::prelude::Queryable;

use crate::support::{Cbi, block_on, unique_name};

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

/// The URL with its last path segment (the database name) replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let (server, _) = base.rsplit_once('/').expect("URL without a database path");
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

fn statements(ddl: &str) -> impl Iterator<Item = &str> {
    ddl.split(';').map(str::trim).filter(|s| !s.is_empty())
}

struct PgDatabase {
    admin: String,
    name: String,
}

impl PgDatabase {
    fn create() -> PgDatabase {
        let admin = std::env::var("CBI_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
        let name = unique_name("cbi_cli");
        block_on(async {
            let client = pg_client(&admin).await;
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
        });
        let db = PgDatabase { admin, name };
        block_on(async {
            let client = pg_client(&db.url()).await;
            client.batch_execute(SHOP_DDL).await.unwrap();
        });
        db
    }

    fn url(&self) -> String {
        with_database(&self.admin, &self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        block_on(async {
            let client = pg_client(&self.admin).await;
            let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            if let Err(e) = client.batch_execute(&drop).await {
                eprintln!("could not drop test database {}: {e}", self.name);
            }
        });
    }
}

async fn pg_client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is not reachable at {url}: {e}; start it or set CBI_TEST_POSTGRES_URL"
            )
        });
    tokio::spawn(conn);
    client
}

struct MyDatabase {
    admin: String,
    name: String,
}

impl MyDatabase {
    fn create() -> MyDatabase {
        let admin = std::env::var("CBI_TEST_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_string());
        let name = unique_name("cbi_cli");
        block_on(async {
            let mut c = my_conn(&admin).await;
            c.query_drop(format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            c.disconnect().await.unwrap();
        });
        let db = MyDatabase { admin, name };
        block_on(async {
            let mut c = my_conn(&db.url()).await;
            for s in statements(SHOP_DDL) {
                c.query_drop(s).await.unwrap();
            }
            c.disconnect().await.unwrap();
        });
        db
    }

    fn url(&self) -> String {
        with_database(&self.admin, &self.name)
    }
}

impl Drop for MyDatabase {
    fn drop(&mut self) {
        block_on(async {
            let mut c = my_conn(&self.admin).await;
            let drop = format!("DROP DATABASE IF EXISTS {}", self.name);
            if let Err(e) = c.query_drop(drop).await {
                eprintln!("could not drop test database {}: {e}", self.name);
            }
            let _ = c.disconnect().await;
        });
    }
}

async fn my_conn(url: &str) -> mysql_async::Conn {
    let opts = mysql_async::Opts::from_url(url).unwrap();
    mysql_async::Conn::new(opts).await.unwrap_or_else(|e| {
        panic!("MariaDB/MySQL is not reachable at {url}: {e}; start it or set CBI_TEST_MYSQL_URL")
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
    assert_eq!(
        out.success(),
        "[\n  {\"name\": \"Ada\", \"total\": 19.75, \"n\": 2},\n  {\"name\": \"Grace\", \"total\": 100, \"n\": 1}\n]\n"
    );

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
    assert_eq!(json["result"]["rows"][0][0]["value"], 2, "{json}");
    let run = cbi.run_stdin(
        &["chat", "--db", url],
        "How many orders are there?\n:explain\n",
    );
    let text = run.success();
    assert!(run.stderr.is_empty(), "{}", run.stderr);
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
    let db = PgDatabase::create();
    check_shop(&db.url(), &db.name, "postgresql");
}

#[test]
fn mariadb_schema_and_sql() {
    let db = MyDatabase::create();
    check_shop(&db.url(), &db.name, "mysql");
}

/// A Redis key prefix no other run uses; its keys are deleted on drop.
struct RedisPrefix {
    url: String,
    prefix: String,
}

impl RedisPrefix {
    fn new() -> RedisPrefix {
        let url = std::env::var("CBI_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string());
        let prefix = format!("{}:", unique_name("cbi_cli"));
        let p = RedisPrefix { url, prefix };
        drop(p.conn());
        p
    }

    fn conn(&self) -> redis::Connection {
        redis::Client::open(self.url.as_str())
            .unwrap()
            .get_connection_with_timeout(std::time::Duration::from_secs(3))
            .unwrap_or_else(|e| {
                panic!(
                    "Redis is not reachable at {}: {e}; start it or set CBI_TEST_REDIS_URL",
                    self.url
                )
            })
    }

    fn keys(&self) -> Vec<String> {
        let mut conn = self.conn();
        redis::Commands::scan_match::<_, String>(&mut conn, format!("{}*", self.prefix))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        let Ok(keys) = std::panic::catch_unwind(|| self.keys()) else {
            return;
        };
        if !keys.is_empty() {
            let mut conn = self.conn();
            let _: redis::RedisResult<()> = redis::Commands::del(&mut conn, keys);
        }
    }
}

#[test]
fn chat_sessions_in_redis_resume_from_another_process() {
    let redis = RedisPrefix::new();
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

#[test]
fn urls_get_their_database_replaced() {
    assert_eq!(
        with_database("postgres://u@h:1/test", "x"),
        "postgres://u@h:1/x"
    );
    assert_eq!(
        with_database("postgres://u@h/test?sslmode=disable", "x"),
        "postgres://u@h/x?sslmode=disable"
    );
}
