//! Statements the validator must refuse, each with the right kind of problem, and the
//! messages a person or a model reads.

use cbi_nl2sql::ProblemKind::{
    AmbiguousColumn, FunctionNotAllowed, Locking, NotReadOnly, Parse, StatementCount, TooLarge,
    UnknownColumn, UnknownTable, Unsupported,
};
use cbi_nl2sql::functions::functions;
use cbi_nl2sql::validate::{MAX_PROBLEMS, summarize};
use cbi_nl2sql::{SqlValidator, ValidatorOptions};
use cbi_types::SqlDialect::{self, Generic, MySql, Oracle, PostgreSql, Sqlite};

use super::{check, fixture, kinds, refuses, validator};

#[test]
fn anything_but_a_query_is_refused() {
    let cases: &[(SqlDialect, &str)] = &[
        // DML, including the upsert and replace forms.
        (PostgreSql, "INSERT INTO sales (id) VALUES (1)"),
        (
            PostgreSql,
            "INSERT INTO sales (id) VALUES (1) ON CONFLICT DO NOTHING",
        ),
        (PostgreSql, "INSERT INTO sales SELECT * FROM sales"),
        (PostgreSql, "UPDATE sales SET amount = 0"),
        (PostgreSql, "DELETE FROM sales"),
        (
            PostgreSql,
            "MERGE INTO sales s USING finance.targets t ON s.region = t.region WHEN MATCHED THEN DELETE",
        ),
        (MySql, "REPLACE INTO sales (id) VALUES (1)"),
        (
            MySql,
            "INSERT INTO sales (id) VALUES (1) ON DUPLICATE KEY UPDATE amount = 0",
        ),
        (Sqlite, "INSERT OR REPLACE INTO sales (id) VALUES (1)"),
        (Sqlite, "REPLACE INTO sales (id) VALUES (1)"),
        // DDL.
        (PostgreSql, "CREATE TABLE x (id int)"),
        (PostgreSql, "CREATE TABLE x AS SELECT * FROM sales"),
        (PostgreSql, "CREATE VIEW v AS SELECT * FROM sales"),
        (PostgreSql, "DROP TABLE sales"),
        (PostgreSql, "ALTER TABLE sales ADD COLUMN x int"),
        (PostgreSql, "TRUNCATE sales"),
        (
            PostgreSql,
            "CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql",
        ),
        (PostgreSql, "REFRESH MATERIALIZED VIEW v"),
        // Server, session and file statements.
        (Sqlite, "PRAGMA writable_schema = 1"),
        (Sqlite, "PRAGMA table_info('sales')"),
        (Sqlite, "ATTACH DATABASE '/tmp/x.db' AS x"),
        (Generic, "DETACH DATABASE x"),
        (Sqlite, "VACUUM"),
        (Sqlite, "ANALYZE"),
        (PostgreSql, "COPY sales TO '/tmp/sales.csv'"),
        (PostgreSql, "COPY sales FROM PROGRAM 'rm -rf /'"),
        (PostgreSql, "CALL p()"),
        (PostgreSql, "SET search_path = evil"),
        (PostgreSql, "RESET ALL"),
        (MySql, "SET @a = 1"),
        (PostgreSql, "GRANT SELECT ON sales TO someone"),
        (PostgreSql, "REVOKE ALL ON sales FROM someone"),
        (PostgreSql, "LOCK TABLE sales"),
        (MySql, "LOCK TABLES sales READ"),
        (PostgreSql, "LISTEN x"),
        (PostgreSql, "NOTIFY x"),
        (PostgreSql, "PREPARE p AS SELECT 1"),
        (PostgreSql, "EXECUTE p"),
        (PostgreSql, "DECLARE c CURSOR FOR SELECT 1"),
        (PostgreSql, "SHOW search_path"),
        (MySql, "SHOW TABLES"),
        // Transactions.
        (PostgreSql, "BEGIN"),
        (PostgreSql, "START TRANSACTION"),
        (PostgreSql, "COMMIT"),
        (PostgreSql, "ROLLBACK"),
        // EXPLAIN ANALYZE runs the statement; plain EXPLAIN is not a query either.
        (PostgreSql, "EXPLAIN ANALYZE SELECT * FROM sales"),
        (PostgreSql, "EXPLAIN ANALYZE DELETE FROM sales"),
        (PostgreSql, "EXPLAIN SELECT * FROM sales"),
    ];
    for (d, sql) in cases {
        let p = refuses(*d, sql);
        assert_eq!(p[0].kind, NotReadOnly, "{d}: `{sql}`: {}", summarize(&p));
        assert!(
            p.iter().all(|p| p.kind == NotReadOnly),
            "{d}: `{sql}`: {}",
            summarize(&p)
        );
    }
}

#[test]
fn writes_hidden_inside_a_query_are_refused() {
    for (d, sql) in [
        (
            PostgreSql,
            "WITH gone AS (DELETE FROM sales RETURNING *) SELECT * FROM gone",
        ),
        (
            PostgreSql,
            "WITH x AS (UPDATE sales SET amount = 0 RETURNING id) SELECT id FROM x",
        ),
        (
            PostgreSql,
            "WITH x AS (INSERT INTO sales (id) VALUES (1) RETURNING id) SELECT id FROM x",
        ),
        (PostgreSql, "SELECT * INTO new_sales FROM sales"),
        (PostgreSql, "SELECT * INTO TEMPORARY new_sales FROM sales"),
        (MySql, "SELECT amount INTO @total FROM sales"),
        (
            Generic,
            "SELECT amount INTO copy FROM sales UNION SELECT amount FROM sales",
        ),
    ] {
        check(d, sql, &[NotReadOnly]);
    }
    // MySQL's file writers do not even parse; either way they never run.
    for sql in [
        "SELECT * FROM sales INTO OUTFILE '/tmp/x'",
        "SELECT * INTO OUTFILE '/tmp/x' FROM sales",
        "SELECT * INTO DUMPFILE '/tmp/x' FROM sales",
    ] {
        let p = refuses(MySql, sql);
        assert!(
            matches!(p[0].kind, Parse | NotReadOnly),
            "{sql}: {}",
            summarize(&p)
        );
    }
}

#[test]
fn locking_clauses_are_refused() {
    for (d, sql) in [
        (PostgreSql, "SELECT * FROM sales FOR UPDATE"),
        (PostgreSql, "SELECT * FROM sales FOR SHARE"),
        (PostgreSql, "SELECT * FROM sales FOR UPDATE SKIP LOCKED"),
        (PostgreSql, "SELECT * FROM sales s FOR UPDATE OF s NOWAIT"),
        (
            PostgreSql,
            "SELECT * FROM customers WHERE id IN (SELECT customer_id FROM orders FOR UPDATE)",
        ),
        (MySql, "SELECT * FROM sales FOR UPDATE"),
    ] {
        check(d, sql, &[Locking]);
    }
    // Not parsed by sqlparser, refused all the same.
    check(MySql, "SELECT * FROM sales LOCK IN SHARE MODE", &[Parse]);
}

#[test]
fn several_statements_are_refused() {
    check(PostgreSql, "SELECT 1; SELECT 2", &[StatementCount]);
    check(
        Sqlite,
        "SELECT 1; DROP TABLE sales",
        &[StatementCount, NotReadOnly],
    );
    check(Sqlite, "", &[StatementCount]);
    check(Sqlite, "-- nothing but a comment", &[StatementCount]);
    // One statement and a trailing semicolon is fine.
    super::accepts(Sqlite, "SELECT 1;");
}

/// Functions that sleep, change server state inside a read-only transaction, take locks,
/// wait on replication, reach files or read outside the schema: none is on any list.
const HARMFUL: &[&str] = &[
    "pg_sleep",
    "pg_sleep_for",
    "pg_stat_reset",
    "pg_stat_reset_shared",
    "pg_stat_reset_single_table_counters",
    "brin_summarize_new_values",
    "brin_desummarize_range",
    "brin_summarize_range",
    "txid_current",
    "pg_current_xact_id",
    "pg_nextoid",
    "pg_log_backend_memory_contexts",
    "pg_show_all_settings",
    "pg_show_all_file_settings",
    "pg_hba_file_rules",
    "pg_stat_get_activity",
    "current_setting",
    "set_config",
    "nextval",
    "setval",
    "pg_advisory_lock",
    "pg_notify",
    "pg_read_file",
    "pg_ls_dir",
    "lo_import",
    "dblink",
    "query_to_xml",
    "version",
    "pg_terminate_backend",
    "pg_reload_conf",
    "sleep",
    "benchmark",
    "get_lock",
    "release_all_locks",
    "release_lock",
    "master_gtid_wait",
    "master_pos_wait",
    "load_file",
    "lastval",
    "last_insert_id",
    "database",
    "user",
    "connection_id",
    "load_extension",
    "randomblob",
    "zeroblob",
    "readfile",
    "writefile",
    "fsdir",
    "sqlite_version",
    "sqlite_compileoption_get",
    "changes",
    "dbms_lock",
    "utl_http",
    "xp_cmdshell",
];

#[test]
fn harmful_functions_are_refused_in_every_dialect() {
    for name in HARMFUL {
        for d in SqlDialect::ALL {
            // Refused as not allowed, or (`user` in PostgreSQL, a keyword there) not even
            // parsed as a call.
            for sql in [
                format!("SELECT {name}(1) FROM sales"),
                format!("SELECT * FROM {name}(1)"),
            ] {
                let p = refuses(d, &sql);
                assert!(
                    kinds(&p) == [FunctionNotAllowed] || kinds(&p) == [Parse],
                    "{d}: `{sql}`: {}",
                    summarize(&p)
                );
            }
        }
    }
}

#[test]
fn every_listed_function_is_accepted() {
    for d in SqlDialect::ALL {
        let list = functions(d);
        for name in list.scalar() {
            super::accepts(d, &format!("SELECT {name}(amount) FROM sales"));
        }
        for name in list.table() {
            if name == "json_table" {
                continue; // its own syntax, covered by the accept tests
            }
            super::accepts(
                d,
                &format!("SELECT * FROM sales, {name}(sales.region) AS f"),
            );
        }
    }
}

#[test]
fn dangerous_functions_are_found_anywhere_in_the_tree() {
    let cases: &[(SqlDialect, &str)] = &[
        (PostgreSql, "SELECT PG_SLEEP(10)"),
        (PostgreSql, "SELECT Pg_Sleep_For('5 minutes')"),
        (PostgreSql, "SELECT pg_catalog.pg_sleep(10)"),
        (PostgreSql, r#"SELECT "pg_sleep"(10)"#),
        (
            PostgreSql,
            "SELECT * FROM sales WHERE amount > (SELECT pg_sleep(10))",
        ),
        (
            PostgreSql,
            "SELECT * FROM sales WHERE EXISTS (SELECT 1 FROM customers WHERE pg_sleep(1) IS NULL)",
        ),
        (
            PostgreSql,
            "WITH x AS (SELECT pg_read_file('/etc/passwd') AS f) SELECT f FROM x",
        ),
        (
            PostgreSql,
            "SELECT CASE WHEN amount > 0 THEN pg_sleep(1) END FROM sales",
        ),
        (PostgreSql, "SELECT * FROM sales ORDER BY pg_sleep(1)"),
        (
            PostgreSql,
            "SELECT sum(amount) OVER (PARTITION BY pg_sleep(1)) FROM sales",
        ),
        (
            PostgreSql,
            "SELECT count(*) FILTER (WHERE pg_sleep(1) IS NULL) FROM sales",
        ),
        (PostgreSql, "SELECT * FROM pg_ls_dir('/')"),
        (
            PostgreSql,
            "SELECT * FROM dblink('host=evil', 'select 1') AS t (a int)",
        ),
        (PostgreSql, "SELECT lo_import('/etc/passwd')"),
        (
            PostgreSql,
            "SELECT set_config('search_path', 'evil', false)",
        ),
        (PostgreSql, "SELECT current_setting('data_directory')"),
        (
            PostgreSql,
            "SELECT query_to_xml('select * from secrets', true, true, '')",
        ),
        (PostgreSql, "SELECT nextval('sales_id_seq')"),
        (PostgreSql, "SELECT pg_terminate_backend(1)"),
        (Sqlite, "SELECT load_extension('/tmp/evil.so')"),
        (Sqlite, "SELECT writefile('/tmp/x', name) FROM customers"),
        (
            Sqlite,
            "SELECT * FROM sales WHERE id = (SELECT readfile('/etc/passwd'))",
        ),
        (Sqlite, "SELECT fts3_tokenizer('simple')"),
        (Sqlite, "SELECT * FROM pragma_table_info('secrets')"),
        (
            PostgreSql,
            "SELECT * FROM sales TABLESAMPLE SYSTEM (pg_sleep(1))",
        ),
        (PostgreSql, "SELECT * FROM sales LIMIT pg_sleep(1)"),
        (PostgreSql, "WITH unused AS (SELECT pg_sleep(1)) SELECT 1"),
        (
            PostgreSql,
            "SELECT * FROM sales WHERE EXISTS (VALUES (pg_sleep(1)))",
        ),
        (PostgreSql, r#"SELECT "pg_catalog"."pg_sleep"(1)"#),
        (MySql, "SELECT * FROM sales WHERE sleep(5) = 0"),
        (MySql, "SELECT BENCHMARK(1000000000, md5('x'))"),
        (MySql, "SELECT LOAD_FILE('/etc/passwd')"),
        (MySql, "SELECT GET_LOCK('x', 10)"),
        (Oracle, "SELECT dbms_lock.sleep(5) FROM dual"),
        (Oracle, "SELECT utl_http.request('http://evil') FROM dual"),
        (Generic, "SELECT xp_cmdshell('dir')"),
    ];
    for (d, sql) in cases {
        let p = refuses(*d, sql);
        assert!(
            p.iter().any(|p| p.kind == FunctionNotAllowed),
            "{d}: `{sql}`: {}",
            summarize(&p)
        );
    }
}

#[test]
fn unknown_tables_are_refused_with_suggestions() {
    let p = check(PostgreSql, "SELECT * FROM slaes", &[UnknownTable]);
    assert_eq!(
        p[0].to_string(),
        "table `slaes` not found; did you mean `sales`?"
    );
    let p = check(PostgreSql, "SELECT * FROM finance.targetz", &[UnknownTable]);
    assert_eq!(p[0].suggestion.as_deref(), Some("finance.targets"));
    // The right name in the wrong schema.
    let p = check(PostgreSql, "SELECT * FROM public.targets", &[UnknownTable]);
    assert_eq!(p[0].suggestion.as_deref(), Some("finance.targets"));
    let p = check(PostgreSql, "SELECT * FROM secrets", &[UnknownTable]);
    assert_eq!(p[0].to_string(), "table `secrets` not found");
    // Catalogs are not part of the schema either.
    check(
        PostgreSql,
        "SELECT * FROM pg_catalog.pg_authid",
        &[UnknownTable],
    );
    check(Sqlite, "SELECT * FROM sqlite_master", &[UnknownTable]);
    check(MySql, "SELECT * FROM mysql.user", &[UnknownTable]);
    check(MySql, "SELECT * FROM otherdb.customers", &[UnknownTable]);
    check(
        Sqlite,
        "SELECT name FROM customers WHERE id IN secrets",
        &[UnknownTable],
    );
    // A CTE is only visible in its own query.
    check(
        PostgreSql,
        "SELECT * FROM (WITH t AS (SELECT 1 AS x) SELECT x FROM t) a, t",
        &[UnknownTable],
    );
    // Unknown qualifiers.
    let p = check(PostgreSql, "SELECT x.region FROM sales s", &[UnknownTable]);
    assert_eq!(
        p[0].to_string(),
        "table or alias `x` not found in this query"
    );
    let p = check(
        PostgreSql,
        "SELECT custs.name FROM sales s, customers cust",
        &[UnknownTable],
    );
    assert_eq!(p[0].suggestion.as_deref(), Some("cust.name"));
    let p = check(
        PostgreSql,
        "SELECT sales.region FROM sales s",
        &[UnknownTable],
    );
    assert_eq!(
        p[0].to_string(),
        "table `sales` is called `s` in this query; did you mean `s.region`?"
    );
    check(PostgreSql, "SELECT q.* FROM sales", &[UnknownTable]);
    check(PostgreSql, "SELECT count(q.*) FROM sales", &[UnknownTable]);
}

#[test]
fn unknown_columns_are_refused_with_suggestions() {
    let p = check(PostgreSql, "SELECT regoin FROM sales", &[UnknownColumn]);
    assert_eq!(
        p[0].to_string(),
        "column `regoin` not found in table `sales`; did you mean `region`?"
    );
    let p = check(PostgreSql, "SELECT s.regoin FROM sales s", &[UnknownColumn]);
    assert_eq!(
        p[0].to_string(),
        "column `regoin` not found in table `sales` (as `s`); did you mean `s.region`?"
    );
    // Several tables in scope: the suggestion says which one.
    let p = check(
        PostgreSql,
        "SELECT nmae FROM customers c JOIN orders o ON o.customer_id = c.id",
        &[UnknownColumn],
    );
    assert_eq!(
        p[0].to_string(),
        "column `nmae` not found in any of table `customers` (as `c`), table `Orders` (as `o`); did you mean `c.name`?"
    );
    // The column exists, in another table.
    let p = check(
        PostgreSql,
        "SELECT o.email FROM customers c JOIN orders o ON o.customer_id = c.id",
        &[UnknownColumn],
    );
    assert_eq!(p[0].suggestion.as_deref(), Some("c.email"));
    let p = check(
        PostgreSql,
        "SELECT wholly_unrelated FROM sales",
        &[UnknownColumn],
    );
    assert_eq!(p[0].suggestion, None);
    check(PostgreSql, "SELECT x", &[UnknownColumn]);
    check(
        MySql,
        "SELECT name FROM products WHERE MATCH (nmae) AGAINST ('lamp')",
        &[UnknownColumn],
    );
    // Scopes: a derived table hides what it does not select; set-operation arms are separate;
    // a subquery's tables are not visible outside it; a non-lateral derived table cannot see
    // its FROM siblings.
    check(
        PostgreSql,
        "SELECT d.amount FROM (SELECT region FROM sales) d",
        &[UnknownColumn],
    );
    check(
        PostgreSql,
        "SELECT region FROM sales UNION SELECT email FROM sales",
        &[UnknownColumn],
    );
    check(
        PostgreSql,
        "SELECT name FROM customers WHERE id IN (SELECT customer_id FROM orders) AND total > 1",
        &[UnknownColumn],
    );
    check(
        PostgreSql,
        "SELECT * FROM customers c, (SELECT * FROM orders o WHERE o.customer_id = c.id) x",
        &[UnknownTable],
    );
    check(
        PostgreSql,
        "WITH t(a) AS (SELECT region FROM sales) SELECT region FROM t",
        &[UnknownColumn],
    );
    check(
        PostgreSql,
        "SELECT n FROM (VALUES (1)) AS v",
        &[UnknownColumn],
    );
    check(
        PostgreSql,
        "SELECT amount FROM sales JOIN customers USING (email)",
        &[UnknownColumn],
    );
    // Aliases are not visible in WHERE outside SQLite.
    check(
        PostgreSql,
        "SELECT total * 2 AS twice FROM orders WHERE twice > 10",
        &[UnknownColumn],
    );
    // Double-quoted names are names outside SQLite.
    check(
        PostgreSql,
        r#"SELECT * FROM customers WHERE region = "USA""#,
        &[UnknownColumn],
    );
    check(
        Generic,
        r#"SELECT * FROM customers WHERE region = "USA""#,
        &[UnknownColumn],
    );
    // A back-quoted or bracketed name is never a string, even in SQLite.
    check(
        Sqlite,
        "SELECT * FROM customers WHERE region = `USA`",
        &[UnknownColumn],
    );
    check(
        Sqlite,
        "SELECT * FROM customers WHERE region = [USA]",
        &[UnknownColumn],
    );
}

#[test]
fn ambiguous_columns_are_refused() {
    let p = check(
        PostgreSql,
        "SELECT region FROM sales JOIN finance.targets ON sales.region = targets.region",
        &[AmbiguousColumn],
    );
    assert_eq!(
        p[0].to_string(),
        "column `region` is ambiguous: it is in table `sales` and table `finance.targets`; qualify it; did you mean `sales.region`?"
    );
    check(
        Sqlite,
        "SELECT T1.name FROM customers T1 JOIN products T2 ON T1.id = T2.id WHERE name = 'x'",
        &[AmbiguousColumn],
    );
}

#[test]
fn unsupported_syntax_is_refused_rather_than_waved_through() {
    check(
        Oracle,
        "SELECT * FROM sales PIVOT (sum(amount) FOR region IN ('a', 'b'))",
        &[Unsupported],
    );
    check(Generic, "FROM sales |> WHERE amount > 1", &[Unsupported]);
    check(
        Generic,
        "SELECT * FROM sales MATCH_RECOGNIZE (PARTITION BY region ORDER BY id PATTERN (x) DEFINE x AS amount > 1)",
        &[Unsupported],
    );
}

#[test]
fn parse_errors_carry_the_parser_message() {
    let p = check(PostgreSql, "SELEC * FROM sales", &[Parse]);
    assert!(
        p[0].message
            .starts_with("not valid postgresql SQL: Expected"),
        "{}",
        p[0]
    );
    assert!(p[0].message.contains("SELEC"), "{}", p[0]);
    check(Sqlite, "SELECT * FROM", &[Parse]);
    check(Sqlite, "SELECT 'unterminated", &[Parse]);
}

#[test]
fn oversized_statements_are_refused_before_parsing() {
    // A long operator chain parses into a tree as deep as the chain is long.
    let chain = vec!["1"; 10_001].join("+");
    check(Sqlite, &format!("SELECT {chain}"), &[TooLarge]);
    // Just under the cap it validates, on a test thread's default 2 MiB stack.
    let chain = vec!["1"; 9_998].join("+");
    let sql = format!("SELECT {chain}");
    let v = validator(Sqlite).validate(&sql).unwrap();
    assert!(v.limit_added);
    // Other chains, with bigger nodes: set operations, casts.
    let arms = vec!["SELECT 1"; 6_600].join(" UNION ");
    validator(Sqlite).validate(&arms).unwrap();
    let arms = vec!["SELECT id FROM sales WHERE amount > 1"; 2_200].join(" UNION ");
    validator(PostgreSql).validate(&arms).unwrap();
    let casts = format!("SELECT 1{}", "::int".repeat(9_990));
    validator(PostgreSql).validate(&casts).unwrap();
    // Deep or not, the problems are all there.
    let arms = vec!["SELECT regoin FROM sales"; 3_000].join(" UNION ");
    let p = validator(Sqlite)
        .validate(&format!("{arms} FOR UPDATE"))
        .unwrap_err();
    assert_eq!(kinds(&p), [UnknownColumn, Locking], "{}", summarize(&p));
    // The cap is an option.
    let small = SqlValidator::new(Sqlite, fixture()).with_options(ValidatorOptions {
        max_tokens: 3,
        ..ValidatorOptions::default()
    });
    assert_eq!(
        kinds(&small.validate("SELECT 1 + 2").unwrap_err()),
        [TooLarge]
    );
    small.validate("SELECT 1").unwrap();
}

#[test]
fn every_problem_is_reported_at_once_in_source_order() {
    let p = refuses(
        PostgreSql,
        "SELECT s.regoin, pg_sleep(1), c.nmae FROM sales s JOIN custmers c ON c.id = s.idd \
         JOIN orders o ON o.customer_id = c.id WHERE o.totl > 0 FOR UPDATE",
    );
    // `c.nmae` is not reported: nothing is known of the unknown `custmers`, and one problem
    // about it is enough.
    assert_eq!(
        kinds(&p),
        [
            UnknownColumn,
            FunctionNotAllowed,
            UnknownTable,
            UnknownColumn,
            UnknownColumn,
            Locking
        ],
        "{}",
        summarize(&p)
    );
    let lines: Vec<String> = p.iter().map(ToString::to_string).collect();
    insta::assert_snapshot!("several_problems", lines.join("\n"));
    // The same mistake twice is one problem.
    let p = refuses(
        PostgreSql,
        "SELECT regoin FROM sales WHERE regoin = 'x' ORDER BY regoin",
    );
    assert_eq!(kinds(&p), [UnknownColumn]);
}

/// Every message a person or a model may read, reviewed like code.
#[test]
fn message_catalogue() {
    let cases: &[(SqlDialect, &str)] = &[
        (PostgreSql, "SELEC 1"),
        (PostgreSql, "SELECT 1; SELECT 2"),
        (PostgreSql, "DELETE FROM sales"),
        (PostgreSql, "EXPLAIN ANALYZE SELECT 1"),
        (
            PostgreSql,
            "WITH d AS (DELETE FROM sales RETURNING id) SELECT id FROM d",
        ),
        (PostgreSql, "SELECT * INTO t FROM sales"),
        (PostgreSql, "SELECT * FROM sales FOR UPDATE"),
        (PostgreSql, "SELECT pg_catalog.pg_sleep(1)"),
        (MySql, "SELECT sleep(1)"),
        (PostgreSql, "SELECT * FROM slaes"),
        (PostgreSql, "SELECT * FROM public.targets"),
        (PostgreSql, "SELECT x.id FROM sales s"),
        (PostgreSql, "SELECT sales.id FROM sales s"),
        (PostgreSql, "SELECT regoin FROM sales"),
        (PostgreSql, "SELECT s.regoin FROM sales s"),
        (
            PostgreSql,
            "SELECT nmae FROM customers c JOIN orders o ON o.customer_id = c.id",
        ),
        (
            PostgreSql,
            "SELECT d.amount FROM (SELECT region FROM sales) d",
        ),
        (
            PostgreSql,
            "SELECT region FROM sales JOIN finance.targets USING (region) WHERE amount > 1",
        ),
        (
            PostgreSql,
            "SELECT amount FROM sales JOIN customers USING (email)",
        ),
        (PostgreSql, "SELECT x"),
        (
            Oracle,
            "SELECT * FROM sales PIVOT (sum(amount) FOR region IN ('a'))",
        ),
    ];
    let mut out = String::new();
    for (d, sql) in cases {
        out.push_str(&format!("[{d}] {sql}\n"));
        for p in refuses(*d, sql) {
            out.push_str(&format!("  {:?}: {p}\n", p.kind));
        }
    }
    insta::assert_snapshot!("messages", out);
}

#[test]
fn name_problems_are_capped_but_safety_problems_are_not() {
    let cols: Vec<String> = (0..300).map(|i| format!("nope{i}")).collect();
    let sql = format!("SELECT {}, pg_sleep(1) FROM sales", cols.join(", "));
    let p = refuses(PostgreSql, &sql);
    assert_eq!(p.len(), MAX_PROBLEMS + 1, "{}", summarize(&p));
    assert_eq!(p[0].message, "column `nope0` not found in table `sales`");
    assert_eq!(p[MAX_PROBLEMS].kind, FunctionNotAllowed);
}

#[test]
fn wildcards_over_partly_visible_tables_are_refused() {
    // `customers` is cut by a user's allow-list; `Orders` is whole.
    let v = SqlValidator::new(PostgreSql, fixture()).with_options(ValidatorOptions {
        partial_tables: vec!["CUSTOMERS".into()],
        ..ValidatorOptions::default()
    });
    for (sql, refused) in [
        ("SELECT * FROM customers", true),
        ("SELECT c.* FROM customers c", true),
        (
            "SELECT * FROM \"Orders\" o JOIN customers c ON c.id = o.customer_id",
            true,
        ),
        (
            "SELECT o.*, c.name FROM \"Orders\" o JOIN customers c ON c.id = o.customer_id",
            false,
        ),
        ("SELECT row_to_json(c.*) FROM customers c", true),
        ("SELECT * FROM \"Orders\"", false),
        ("SELECT COUNT(*) FROM customers", false),
        ("SELECT * FROM (SELECT name FROM customers) x", false),
        ("SELECT x.* FROM (SELECT name FROM customers) x", false),
        (
            "WITH c AS (SELECT * FROM customers) SELECT name FROM c",
            true,
        ),
        (
            "SELECT name FROM customers WHERE EXISTS (SELECT * FROM customers)",
            true,
        ),
    ] {
        let got = v.validate(sql);
        match (refused, &got) {
            (true, Err(p)) => assert!(
                kinds(p).contains(&cbi_nl2sql::ProblemKind::Wildcard),
                "{sql}: {}",
                summarize(p)
            ),
            (false, Ok(_)) => {}
            _ => panic!("{sql}: {got:?}"),
        }
    }
    // A whole-row reference by the table's name is no column the validator knows.
    assert!(v.validate("SELECT to_json(c) FROM customers c").is_err());
    assert!(
        v.validate("SELECT to_json(customers) FROM customers")
            .is_err()
    );
}
