//! The same questions on SQLite, PostgreSQL and MariaDB give the same answers: the generator
//! renders each dialect correctly. Each server test uses a fresh, randomly named database that
//! is dropped afterwards.

use cbi_testkit::{ScratchDb, Server};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_answers_like_sqlite() {
    let db = ScratchDb::create(Server::Postgres, "cbi_engine").await;
    let url = &db.url;
    cbi_demo::write_postgres(url, cbi_demo::DemoSize::TINY)
        .await
        .unwrap();
    let expected = sqlite_answers().await;
    let got = answers(url).await;
    for (i, q) in QUESTIONS.iter().enumerate() {
        assert_eq!(
            got[i], expected[i],
            "PostgreSQL differs from SQLite on {q:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_answers_like_sqlite() {
    let db = ScratchDb::create(Server::MySql, "cbi_engine").await;
    let url = &db.url;
    cbi_demo::write_mysql(url, cbi_demo::DemoSize::TINY)
        .await
        .unwrap();
    let expected = sqlite_answers().await;
    let got = answers(url).await;
    for (i, q) in QUESTIONS.iter().enumerate() {
        assert_eq!(got[i], expected[i], "MariaDB differs from SQLite on {q:?}");
    }
}
