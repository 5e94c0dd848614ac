//! Round trips: `tiny` written to SQLite, PostgreSQL and MariaDB reads back, through each
//! driver directly, as the same counts and aggregates the generator computed — so the three
//! backends hold the same data.
//!
//! The server tests create a database with a random name through an admin connection
//! (`CBI_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`;
//! `CBI_TEST_MYSQL_URL`, default `mysql://root@127.0.0.1:3306/test`) and drop it afterwards,
//! also when an assertion fails. A missing server fails the test.

use cbi_demo::{Dataset, Table};
use rust_decimal::Decimal;

/// What every backend must report for the same data.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Readback {
    pub counts: Vec<(&'static str, i64)>,
    /// `SUM(quantity * unit_price)` over `order_items`, to the cent.
    pub gross: String,
    /// `SUM(refund_amount)` over `returns`, to the cent.
    pub refunds: String,
    pub first_order: String,
    pub last_return: String,
    /// Count and first name of categories with an apostrophe: strings survive escaping.
    pub apostrophes: String,
    /// Customers named Núñez: non-ASCII text survives.
    pub accents: String,
}

/// The readback computed from the rows in memory.
pub(crate) fn expected(d: &Dataset) -> Readback {
    let counts = d.row_counts();
    let gross: Decimal = d
        .order_items
        .iter()
        .map(|i| Decimal::from(i.quantity) * i.unit_price)
        .sum();
    let refunds: Decimal = d.returns.iter().map(|r| r.refund_amount).sum();
    let mut apostrophes: Vec<&str> = d
        .categories
        .iter()
        .map(|c| c.name.as_str())
        .filter(|n| n.contains("'s "))
        .collect();
    apostrophes.sort_unstable();
    Readback {
        counts: Table::ALL
            .iter()
            .map(|&t| (t.name(), counts.get(t) as i64))
            .collect(),
        gross: format!("{:.2}", gross),
        refunds: format!("{:.2}", refunds),
        first_order: d
            .orders
            .iter()
            .map(|o| o.order_date)
            .min()
            .unwrap()
            .to_string(),
        last_return: d
            .returns
            .iter()
            .map(|r| r.return_date)
            .max()
            .unwrap()
            .to_string(),
        apostrophes: format!("{} {}", apostrophes.len(), apostrophes[0]),
        accents: d
            .customers
            .iter()
            .filter(|c| c.last_name == "Núñez")
            .count()
            .to_string(),
    }
}

#[test]
fn the_expected_readback_is_not_trivial() {
    let e = expected(crate::data::tiny());
    assert_eq!(e.apostrophes, "2 Men's Clothing");
    assert_ne!(e.accents, "0", "tiny has a customer named Núñez");
    assert!(e.counts.iter().all(|(_, n)| *n > 0));
}

#[cfg(feature = "postgres")]
mod postgres {
    use cbi_demo::{DemoSize, Error, Table, write_postgres};
    use cbi_testkit::{ScratchDb, Server};
    use tokio_postgres::{Client, NoTls};

    use super::{Readback, expected};
    use crate::data::tiny;

    async fn connect(url: &str) -> Client {
        let (client, conn) = tokio_postgres::connect(url, NoTls)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL must be running at {url}: {e}"));
        tokio::spawn(conn);
        client
    }

    async fn read_back(c: &Client) -> Readback {
        let one = async |sql: &str| -> String {
            c.query_one(sql, &[])
                .await
                .unwrap_or_else(|e| panic!("{e}: {sql}"))
                .get(0)
        };
        let mut counts = Vec::new();
        for t in Table::ALL {
            let n: i64 = c
                .query_one(&format!("SELECT COUNT(*) FROM {t}"), &[])
                .await
                .unwrap()
                .get(0);
            counts.push((t.name(), n));
        }
        Readback {
            counts,
            gross: one("SELECT SUM(quantity * unit_price)::text FROM order_items").await,
            refunds: one("SELECT SUM(refund_amount)::text FROM returns").await,
            first_order: one("SELECT MIN(order_date)::text FROM orders").await,
            last_return: one("SELECT MAX(return_date)::text FROM returns").await,
            apostrophes: one(
                "SELECT COUNT(*) || ' ' || MIN(name) FROM categories WHERE name LIKE '%''s %'",
            )
            .await,
            accents: one("SELECT COUNT(*)::text FROM customers WHERE last_name = 'Núñez'").await,
        }
    }

    #[tokio::test]
    async fn round_trip_and_refusal_to_write_twice() {
        let db = ScratchDb::create(Server::Postgres, "cbi_demo").await;
        let report = write_postgres(&db.url, DemoSize::TINY).await.unwrap();
        assert_eq!(report.rows, tiny().row_counts());
        assert!(report.target.contains(&db.name), "{}", report.target);
        assert!(!report.target.contains("://"), "{}", report.target);

        let client = connect(&db.url).await;
        assert_eq!(read_back(&client).await, expected(tiny()));
        let fks: i64 = client
            .query_one(
                "SELECT COUNT(*) FROM information_schema.table_constraints \
                 WHERE constraint_type = 'FOREIGN KEY' AND table_schema = 'public'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(fks, 8);
        let analyzed: i64 = client
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(analyzed, 8);

        let err = write_postgres(&db.url, DemoSize::TINY).await.unwrap_err();
        match err {
            Error::TablesExist(tables) => assert_eq!(tables.len(), 8, "{tables:?}"),
            other => panic!("expected TablesExist, got {other}"),
        }
        assert_eq!(read_back(&client).await, expected(tiny()), "untouched");
    }

    #[tokio::test]
    async fn a_single_existing_table_stops_the_writer_before_it_creates_anything() {
        let db = ScratchDb::create(Server::Postgres, "cbi_demo").await;
        let client = connect(&db.url).await;
        client
            .batch_execute("CREATE TABLE returns (x INTEGER)")
            .await
            .unwrap();
        let err = write_postgres(&db.url, DemoSize::TINY).await.unwrap_err();
        assert!(
            matches!(&err, Error::TablesExist(t) if t == &["returns"]),
            "{err}"
        );
        let tables: i64 = client
            .query_one(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(tables, 1);
    }

    #[tokio::test]
    async fn a_bad_url_is_reported_as_such() {
        let err = write_postgres("postgres://[::1", DemoSize::TINY)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidTarget(_)), "{err}");
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use cbi_demo::{DemoSize, Error, Table, write_mysql};
    use cbi_testkit::{ScratchDb, Server, with_database};
    use mysql_async::Conn;
    use mysql_async::prelude::Queryable;

    use super::{Readback, expected};
    use crate::data::tiny;

    async fn connect(url: &str) -> Conn {
        Conn::from_url(url)
            .await
            .unwrap_or_else(|e| panic!("MariaDB/MySQL must be running at {url}: {e}"))
    }

    async fn read_back(c: &mut Conn) -> Readback {
        async fn one(c: &mut Conn, sql: &str) -> String {
            c.query_first::<String, _>(sql)
                .await
                .unwrap_or_else(|e| panic!("{e}: {sql}"))
                .unwrap()
        }
        let mut counts = Vec::new();
        for t in Table::ALL {
            let n: i64 = c
                .query_first(format!("SELECT COUNT(*) FROM {t}"))
                .await
                .unwrap()
                .unwrap();
            counts.push((t.name(), n));
        }
        Readback {
            counts,
            gross: one(
                c,
                "SELECT CAST(SUM(quantity * unit_price) AS CHAR) FROM order_items",
            )
            .await,
            refunds: one(c, "SELECT CAST(SUM(refund_amount) AS CHAR) FROM returns").await,
            first_order: one(c, "SELECT CAST(MIN(order_date) AS CHAR) FROM orders").await,
            last_return: one(c, "SELECT CAST(MAX(return_date) AS CHAR) FROM returns").await,
            apostrophes: one(
                c,
                "SELECT CONCAT(COUNT(*), ' ', MIN(name)) FROM categories WHERE name LIKE '%''s %'",
            )
            .await,
            accents: one(
                c,
                "SELECT CAST(COUNT(*) AS CHAR) FROM customers WHERE last_name = 'Núñez'",
            )
            .await,
        }
    }

    #[tokio::test]
    async fn round_trip_and_refusal_to_write_twice() {
        let db = ScratchDb::create(Server::MySql, "cbi_demo").await;
        let report = write_mysql(&db.url, DemoSize::TINY).await.unwrap();
        assert_eq!(report.rows, tiny().row_counts());
        assert!(report.target.contains(&db.name), "{}", report.target);

        let mut c = connect(&db.url).await;
        assert_eq!(read_back(&mut c).await, expected(tiny()));
        let fks: i64 = c
            .query_first(
                "SELECT COUNT(*) FROM information_schema.referential_constraints \
                 WHERE constraint_schema = DATABASE()",
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(fks, 8);
        let engines: Vec<String> = c
            .query(
                "SELECT DISTINCT CAST(engine AS CHAR) FROM information_schema.tables \
                 WHERE table_schema = DATABASE()",
            )
            .await
            .unwrap();
        assert_eq!(engines, ["InnoDB"]);

        let err = write_mysql(&db.url, DemoSize::TINY).await.unwrap_err();
        match err {
            Error::TablesExist(tables) => assert_eq!(tables.len(), 8, "{tables:?}"),
            other => panic!("expected TablesExist, got {other}"),
        }
        assert_eq!(read_back(&mut c).await, expected(tiny()), "untouched");
        c.disconnect().await.unwrap();
    }

    #[tokio::test]
    async fn a_url_without_a_database_is_refused() {
        let url = with_database(&Server::MySql.admin_url(), "");
        let err = write_mysql(&url, DemoSize::TINY).await.unwrap_err();
        assert!(matches!(err, Error::InvalidTarget(_)), "{err}");
    }
}
