//! The same questions on SQLite, PostgreSQL and MariaDB give the same answers: the generator
//! renders each dialect correctly. Each server test uses a fresh, randomly named database that
//! is dropped afterwards.

use mysql_async::prelude::Queryable;
use tokio_postgres::NoTls;

use crate::common::*;

const QUESTIONS: &[&str] = &[
    "How many customers are there?",
    "How many orders were cancelled?",
    "What is the total revenue?",
    "Total revenue by region",
    "What are the top 5 products by revenue?",
    "How many orders were placed in 2023?",
    "Which products are priced above the average price?",
    "Which brands have more than 10 products?",
    "How many customers were born between 1980 and 1989?",
    "List the 10 most expensive products",
    "What was the revenue in March 2023?",
    "How many products have never been ordered?",
];

fn admin(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_string())
}

fn with_db(url: &str, db: &str) -> String {
    let base = url.rsplit_once('/').map_or(url, |(b, _)| b);
    format!("{base}/{db}")
}

/// Answers on SQLite, for comparison.
async fn sqlite_answers() -> Vec<Vec<Vec<String>>> {
    let demo = Demo::of(cbi_demo::DemoSize::TINY);
    answers(&demo.path.to_string_lossy()).await
}

async fn answers(url: &str) -> Vec<Vec<Vec<String>>> {
    let engine = engine(false);
    let key = engine.attach(url, semantic()).await.unwrap();
    let mut out = Vec::new();
    for q in QUESTIONS {
        let s = engine.create_session_for("t", &key).await.unwrap();
        let r = engine
            .process_query(s, q)
            .await
            .unwrap_or_else(|e| panic!("{url}: {q}: {e}"));
        let sql = r.sql.clone().unwrap_or_default();
        out.push(canonical(
            &r.result.unwrap().rows,
            sql.to_lowercase().contains("order by"),
        ));
    }
    out
}

struct PgDb {
    admin: String,
    name: String,
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok((c, conn)) = tokio_postgres::connect(&admin, NoTls).await {
                    tokio::spawn(conn);
                    let _ = c
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_answers_like_sqlite() {
    let admin = admin(
        "CBI_TEST_POSTGRES_URL",
        "postgres://postgres@127.0.0.1:5432/test",
    );
    let name = format!("cbi_engine_{}", uuid::Uuid::new_v4().simple());
    let (c, conn) = tokio_postgres::connect(&admin, NoTls)
        .await
        .expect("PostgreSQL must be running");
    tokio::spawn(conn);
    c.batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let _guard = PgDb {
        admin: admin.clone(),
        name: name.clone(),
    };
    let url = with_db(&admin, &name);
    cbi_demo::write_postgres(&url, cbi_demo::DemoSize::TINY)
        .await
        .unwrap();
    let expected = sqlite_answers().await;
    let got = answers(&url).await;
    for (i, q) in QUESTIONS.iter().enumerate() {
        assert_eq!(
            got[i], expected[i],
            "PostgreSQL differs from SQLite on {q:?}"
        );
    }
}

struct MyDb {
    admin: String,
    name: String,
}

impl Drop for MyDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(pool) = mysql_async::Opts::from_url(&admin).map(mysql_async::Pool::new) {
                    if let Ok(mut c) = pool.get_conn().await {
                        let _ = c
                            .query_drop(format!("DROP DATABASE IF EXISTS {name}"))
                            .await;
                    }
                    let _ = pool.disconnect().await;
                }
            });
        })
        .join();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_answers_like_sqlite() {
    let admin = admin("CBI_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test");
    let name = format!("cbi_engine_{}", uuid::Uuid::new_v4().simple());
    {
        let pool = mysql_async::Pool::new(mysql_async::Opts::from_url(&admin).unwrap());
        let mut c = pool.get_conn().await.expect("MariaDB must be running");
        c.query_drop(format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"))
            .await
            .unwrap();
        drop(c);
        pool.disconnect().await.unwrap();
    }
    let _guard = MyDb {
        admin: admin.clone(),
        name: name.clone(),
    };
    let url = with_db(&admin, &name);
    cbi_demo::write_mysql(&url, cbi_demo::DemoSize::TINY)
        .await
        .unwrap();
    let expected = sqlite_answers().await;
    let got = answers(&url).await;
    for (i, q) in QUESTIONS.iter().enumerate() {
        assert_eq!(got[i], expected[i], "MariaDB differs from SQLite on {q:?}");
    }
}
