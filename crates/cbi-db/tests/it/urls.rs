//! `connect` with strings that never reach a database.

use cbi_db::{ConnectOptions, ConnectionUrl};

#[tokio::test]
async fn unsupported_schemes_are_clear() {
    let e = cbi_db::connect("mongodb://localhost/shop", &ConnectOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "unsupported scheme `mongodb`; expected a SQLite path, sqlite:, postgres:// or mysql://"
    );
}

#[tokio::test]
async fn backends_left_out_of_the_build_say_so() {
    for (url, compiled, message) in [
        (
            "postgres://u:secret@127.0.0.1:1/db",
            cfg!(feature = "postgres"),
            "PostgreSQL support is not compiled in; rebuild with the `postgres` feature",
        ),
        (
            "mysql://u:secret@127.0.0.1:1/db",
            cfg!(feature = "mysql"),
            "MySQL/MariaDB support is not compiled in; rebuild with the `mysql` feature",
        ),
        (
            "/definitely/missing.sqlite",
            cfg!(feature = "sqlite"),
            "SQLite support is not compiled in; rebuild with the `sqlite` feature",
        ),
    ] {
        let e = cbi_db::connect(url, &ConnectOptions::default())
            .await
            .unwrap_err();
        let m = e.to_string();
        assert!(!m.contains("secret"), "{m}");
        if compiled {
            assert_ne!(m, message);
        } else {
            assert_eq!(m, message);
        }
    }
}

#[test]
fn parsed_urls_know_their_dialect() {
    use cbi_types::SqlDialect;
    for (url, d) in [
        ("x.db", SqlDialect::Sqlite),
        ("postgresql://h/db", SqlDialect::PostgreSql),
        ("mariadb://h/db", SqlDialect::MySql),
    ] {
        assert_eq!(ConnectionUrl::parse(url).unwrap().dialect(), d);
    }
}
