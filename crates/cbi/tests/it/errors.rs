//! Bad input of every kind ends the same way: exit code 1, one `error:` line naming the
//! problem, no panic and no password. Usage mistakes exit with 2.

use crate::support::{Cbi, spider_db, sqlite_fixture};

fn mysql_url_with(password: &str) -> String {
    let base = cbi_testkit::Server::MySql.admin_url();
    let rest = base
        .strip_prefix("mysql://")
        .expect("CBI_TEST_MYSQL_URL must start with mysql://");
    let (userinfo, host) = rest
        .split_once('@')
        .expect("CBI_TEST_MYSQL_URL must name a user");
    let user = userinfo.split(':').next().unwrap();
    format!("mysql://{user}:{password}@{host}")
}

#[test]
fn unreachable_or_unknown_databases() {
    let cbi = Cbi::new();
    let cases: Vec<(Vec<String>, &str, Option<&str>)> = vec![
        (
            vec!["schema".into(), "--db".into(), "nope.sqlite".into()],
            "error: database file `nope.sqlite` not found",
            None,
        ),
        (
            vec![
                "sql".into(),
                "--db".into(),
                "missing/dir/x.db".into(),
                "SELECT 1".into(),
            ],
            "error: database file `missing/dir/x.db` not found",
            None,
        ),
        (
            vec![
                "schema".into(),
                "--db".into(),
                "mongodb://u:hunter2@localhost/x".into(),
            ],
            "error: unsupported scheme `mongodb`",
            Some("hunter2"),
        ),
        (
            vec![
                "schema".into(),
                "--db".into(),
                "postgres://bob:hunter2@127.0.0.1:1/x".into(),
            ],
            "error: cannot connect to postgres://bob:****@127.0.0.1:1/x: ",
            Some("hunter2"),
        ),
        (
            vec!["schema".into(), "--db".into(), mysql_url_with("s3cr3t-pw")],
            "error: cannot connect to mysql://",
            Some("s3cr3t-pw"),
        ),
    ];
    for (args, prefix, secret) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = cbi.run(&args);
        let line = out.one_line_error();
        assert!(line.starts_with(prefix), "{args:?}: {line}");
        if let Some(secret) = secret {
            assert!(
                !out.stderr.contains(secret) && !out.stdout.contains(secret),
                "{line}"
            );
        }
    }
    // MariaDB says why: the password was refused.
    let out = cbi.run(&["schema", "--db", &mysql_url_with("s3cr3t-pw")]);
    let line = out.one_line_error();
    assert!(line.contains("Access denied"), "{line}");
}

#[test]
fn a_file_that_is_not_a_database() {
    let cbi = Cbi::new();
    let file = cbi.dir().join("notes.sqlite");
    std::fs::write(
        &file,
        "these are not the tables you are looking for\n".repeat(100),
    )
    .unwrap();
    let out = cbi.run(&["schema", "--db", file.to_str().unwrap()]);
    let line = out.one_line_error();
    assert!(line.contains("notes.sqlite"), "{line}");
}

#[test]
fn a_missing_table_or_column_in_sql() {
    let cbi = Cbi::new();
    let db = sqlite_fixture(cbi.dir());
    let db = db.to_str().unwrap();
    let out = cbi.run(&["sql", "--db", db, "SELECT * FROM nope"]);
    let line = out.one_line_error();
    assert!(line.contains("nope"), "{line}");
    let out = cbi.run(&["sql", "--db", db, "SELECT nmae FROM t"]);
    let line = out.one_line_error();
    assert!(line.contains("nmae"), "{line}");
    let out = cbi.run(&["sql", "--db", db, "SELEKT 1"]);
    let line = out.one_line_error();
    assert!(line.starts_with("error: invalid SQL: "), "{line}");
    let out = cbi.run(&["sql", "--db", db, "   "]);
    assert_eq!(out.one_line_error(), "error: the SQL statement is empty");
}

#[test]
fn bad_semantic_files() {
    let cbi = Cbi::new();
    let db = spider_db("world_1");
    let db = db.to_str().unwrap();

    let corrupt = cbi.dir().join("corrupt.yaml");
    std::fs::write(&corrupt, "tables: [unclosed\n  - {{{\n").unwrap();
    let out = cbi.run(&[
        "schema",
        "--db",
        db,
        "--semantic",
        corrupt.to_str().unwrap(),
    ]);
    let line = out.one_line_error();
    assert!(
        line.starts_with(&format!("error: semantic file {}: ", corrupt.display())),
        "{line}"
    );

    let wrong = cbi.dir().join("wrong.yaml");
    std::fs::write(&wrong, "tables:\n  citty:\n    description: x\n").unwrap();
    let out = cbi.run(&["schema", "--db", db, "--semantic", wrong.to_str().unwrap()]);
    let line = out.one_line_error();
    assert!(
        line.contains("tables.citty: no such table") && line.contains("city"),
        "{line}"
    );

    let out = cbi.run(&["schema", "--db", db, "--semantic", "absent.yaml"]);
    let line = out.one_line_error();
    assert!(
        line.starts_with("error: semantic file absent.yaml: cannot read"),
        "{line}"
    );
}

#[test]
fn bad_config_files() {
    let cbi = Cbi::new();
    let db = sqlite_fixture(cbi.dir());
    let db = db.to_str().unwrap();
    let config = cbi.dir().join("cbi.yaml");

    std::fs::write(&config, "session:\n  max_turn: 3\n").unwrap();
    let out = cbi.run(&["sql", "--db", db, "SELECT 1"]);
    let line = out.one_line_error();
    assert!(
        line.starts_with(&format!(
            "error: config file {}: session.max_turn: unknown field `max_turn`",
            config.display()
        )),
        "{line}"
    );

    std::fs::write(&config, "session:\n  max_turns: 0\n").unwrap();
    let out = cbi.run(&["sql", "--db", db, "SELECT 1"]);
    assert_eq!(
        out.one_line_error(),
        format!(
            "error: config file {}: session.max_turns: must be at least 1",
            config.display()
        )
    );

    std::fs::write(&config, "performance:\n  max_rows: lots\n").unwrap();
    let out = cbi.run(&["sql", "--db", db, "SELECT 1"]);
    assert!(
        out.one_line_error()
            .contains("performance.max_rows: invalid type")
    );

    std::fs::write(&config, "database:\n  url: ${CBI_TEST_UNSET_VARIABLE}\n").unwrap();
    let out = cbi.run(&["schema"]);
    assert!(
        out.one_line_error()
            .contains("environment variable `CBI_TEST_UNSET_VARIABLE` is not set")
    );

    std::fs::write(
        &config,
        "database:\n  url: postgres://u:${PGPASS}@127.0.0.1:1/x\n",
    )
    .unwrap();
    let out = cbi.run_with(&["schema"], &[("PGPASS", "hunter2")]);
    let line = out.one_line_error();
    assert!(
        line.starts_with("error: cannot connect to postgres://u:****@127.0.0.1:1/x"),
        "{line}"
    );
    assert!(!line.contains("hunter2"));

    // A config file named explicitly must exist; one found implicitly is optional.
    std::fs::remove_file(&config).unwrap();
    let out = cbi.run(&["--config", "gone.yaml", "sql", "--db", db, "SELECT 1"]);
    assert_eq!(
        out.one_line_error(),
        "error: config file gone.yaml not found"
    );
    let out = cbi.run_with(
        &["sql", "--db", db, "SELECT 1"],
        &[("CBI_CONFIG", "also-gone.yaml")],
    );
    assert_eq!(
        out.one_line_error(),
        "error: config file also-gone.yaml not found"
    );
    cbi.run(&["sql", "--db", db, "SELECT 1"]).success();
}

#[test]
fn usage_errors_exit_with_2_and_help_reads_well() {
    let cbi = Cbi::new();
    for args in [
        &["sql"][..],
        &["frobnicate"],
        &["sql", "--max-rows", "0", "SELECT 1"],
        &["sql", "--timeout", "-1", "SELECT 1"],
        &["sql", "--json", "--csv", "SELECT 1"],
        &[],
    ] {
        let out = cbi.run(args);
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        assert!(!out.stderr.contains("panicked"));
    }
    let help = cbi.run(&["--help"]);
    let help = help.success();
    for text in ["schema", "sql", "--config", "--db", "--verbose", "demo"] {
        assert!(help.contains(text), "--help lacks {text}:\n{help}");
    }
    let help = cbi.run(&["sql", "--help"]);
    for text in ["--json", "--csv", "--max-rows", "--timeout", "read-only"] {
        assert!(help.success().contains(text), "sql --help lacks {text}");
    }
    assert!(cbi.run(&["--version"]).success().starts_with("cbi "));
}
