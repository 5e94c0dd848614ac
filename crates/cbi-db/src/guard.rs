//! Lexical checks every backend runs before a statement reaches its database.
//!
//! They are a second wall behind the databases' own read-only modes, written for the holes
//! those modes leave: PostgreSQL allows `COPY … TO` a server file inside a `READ ONLY`
//! transaction, MySQL and MariaDB allow `SELECT … INTO OUTFILE`, and a MySQL DDL statement
//! commits implicitly. So a statement must *start* with a reading keyword, must be alone, and
//! must not name a handful of functions and clauses that touch the server's files or other
//! sessions. The checks are deliberately blunt (a word in a string literal counts) — a false
//! refusal is cheap, a false pass is not.

use cbi_types::{Error, Result, SqlDialect};

/// Words that may start a statement sent to [`cbi_types::Connection::query`].
fn allowed_first_word(word: &str, dialect: SqlDialect) -> bool {
    let w = word.to_ascii_lowercase();
    match w.as_str() {
        "select" | "with" | "values" | "table" => true,
        "show" => matches!(dialect, SqlDialect::PostgreSql | SqlDialect::MySql),
        "describe" | "desc" => dialect == SqlDialect::MySql,
        // The SQLite authorizer decides which pragmas may run (only reading ones).
        "pragma" => dialect == SqlDialect::Sqlite,
        _ => false,
    }
}

/// Words refused anywhere in a statement: server-side file access, other sessions, locks that
/// outlive the query, and configuration changes. Matched as whole words, case-insensitively.
fn denied_words(dialect: SqlDialect) -> &'static [&'static str] {
    match dialect {
        SqlDialect::PostgreSql => &[
            "lo_export",
            "lo_import",
            "pg_read_file",
            "pg_read_binary_file",
            "pg_ls_dir",
            "pg_stat_file",
            "pg_file_write",
            "pg_file_rename",
            "pg_file_unlink",
            "pg_terminate_backend",
            "pg_cancel_backend",
            "pg_reload_conf",
            "pg_rotate_logfile",
            "pg_promote",
            "pg_switch_wal",
            "pg_advisory_lock",
            "pg_advisory_lock_shared",
            "pg_advisory_xact_lock",
            "pg_try_advisory_lock",
            "set_config",
            "dblink",
            "dblink_exec",
            "dblink_connect",
        ],
        SqlDialect::MySql => &[
            "outfile",
            "dumpfile",
            "load_file",
            "get_lock",
            "sys_exec",
            "sys_eval",
        ],
        _ => &["load_extension"],
    }
}

/// Checks a statement for [`cbi_types::Connection::query`] and returns it without trailing
/// semicolons and whitespace.
pub(crate) fn check_query(sql: &str, dialect: SqlDialect) -> Result<&str> {
    let (stmt, first) = single_statement(sql, dialect)?;
    match first {
        First::Word(w) if allowed_first_word(w, dialect) => {}
        First::Word(w) => {
            return Err(Error::ReadOnly(format!(
                "`{}` statements are not allowed; this connection only reads (SELECT, WITH, VALUES{})",
                w.to_ascii_uppercase(),
                match dialect {
                    SqlDialect::PostgreSql => ", TABLE, SHOW",
                    SqlDialect::MySql => ", TABLE, SHOW, DESCRIBE",
                    SqlDialect::Sqlite => ", read-only PRAGMA",
                    _ => "",
                }
            )));
        }
        First::Other => {
            return Err(Error::Invalid(
                "a statement must start with SELECT or WITH".into(),
            ));
        }
        First::Nothing => return Err(Error::Invalid("the statement is empty".into())),
    }
    deny_words(stmt, dialect)?;
    Ok(stmt)
}

/// Checks a statement for [`cbi_types::Connection::explain`]: a query (never `ANALYZE`,
/// which would run it), alone.
pub(crate) fn check_explain(sql: &str, dialect: SqlDialect) -> Result<&str> {
    let (stmt, first) = single_statement(sql, dialect)?;
    match first {
        First::Word(w)
            if matches!(
                w.to_ascii_lowercase().as_str(),
                "select" | "with" | "values" | "table"
            ) => {}
        First::Word(w)
            if matches!(
                w.to_ascii_lowercase().as_str(),
                "analyze" | "analyse" | "explain"
            ) =>
        {
            return Err(Error::Invalid(format!(
                "pass the query itself to explain, without `{}`: cbi only shows plans and never runs the query",
                w.to_ascii_uppercase()
            )));
        }
        First::Word(w) => {
            return Err(Error::ReadOnly(format!(
                "only queries can be explained, not `{}` statements",
                w.to_ascii_uppercase()
            )));
        }
        First::Other => {
            return Err(Error::Invalid(
                "a statement must start with SELECT or WITH".into(),
            ));
        }
        First::Nothing => return Err(Error::Invalid("the statement is empty".into())),
    }
    deny_words(stmt, dialect)?;
    Ok(stmt)
}

#[derive(Debug, PartialEq)]
enum First<'a> {
    Word(&'a str),
    Other,
    Nothing,
}

/// Cuts `sql` at its end (trailing `;`, whitespace, comments), refusing a second statement,
/// and returns its first keyword (after any opening parentheses).
fn single_statement(sql: &str, dialect: SqlDialect) -> Result<(&str, First<'_>)> {
    if dialect == SqlDialect::MySql {
        let lower = sql.to_ascii_lowercase();
        if lower.contains("/*!") || lower.contains("/*m!") {
            return Err(Error::Invalid(
                "MySQL executable comments (`/*! … */`) are not accepted".into(),
            ));
        }
    }
    let lexed = lex(sql, dialect);
    let first = lexed
        .tokens
        .iter()
        .find(|(_, t)| *t != Tok::Other('('))
        .map_or(First::Nothing, |(_, t)| match t {
            Tok::Word(w) => First::Word(w),
            Tok::Semi => First::Nothing,
            _ => First::Other,
        });
    let stmt = match lexed.tokens.iter().position(|(_, t)| *t == Tok::Semi) {
        Some(i) => {
            if lexed.tokens[i..].iter().any(|(_, t)| *t != Tok::Semi) {
                return Err(Error::Invalid(
                    "only one statement per call is accepted; found another after `;`".into(),
                ));
            }
            &sql[..lexed.tokens[i].0]
        }
        None => sql,
    };
    let stmt = stmt.trim();
    if lexed.tokens.first().is_some_and(|(_, t)| *t == Tok::Semi) {
        return Err(Error::Invalid("the statement is empty".into()));
    }
    Ok((stmt, first))
}

fn deny_words(stmt: &str, dialect: SqlDialect) -> Result<()> {
    let lower = stmt.to_ascii_lowercase();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$';
    for word in denied_words(dialect) {
        for (at, _) in lower.match_indices(word) {
            let before = lower.as_bytes().get(at.wrapping_sub(1)).copied();
            let after = lower.as_bytes().get(at + word.len()).copied();
            if !before.is_some_and(is_word) && !after.is_some_and(is_word) {
                return Err(Error::ReadOnly(format!(
                    "`{word}` is not allowed through a read-only connection"
                )));
            }
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok<'a> {
    Word(&'a str),
    Semi,
    /// A quoted identifier or string, or an operator character.
    Other(char),
}

#[derive(Debug)]
struct Lexed<'a> {
    /// Byte offset and token.
    tokens: Vec<(usize, Tok<'a>)>,
}

/// Splits SQL into words, semicolons and other characters, skipping whitespace, comments,
/// string literals and quoted identifiers the way `dialect` spells them. An unterminated
/// literal or comment ends the token stream (the database will reject the statement).
fn lex(sql: &str, dialect: SqlDialect) -> Lexed<'_> {
    let b = sql.as_bytes();
    let n = b.len();
    let my = dialect == SqlDialect::MySql;
    let pg = dialect == SqlDialect::PostgreSql;
    let lite = dialect == SqlDialect::Sqlite;
    let word_byte = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
    let mut tokens = Vec::new();
    let mut i = 0;
    // Skips a quoted run opened at `i` by `q`; returns the index after the closing quote.
    let quoted = |start: usize, q: u8, backslash: bool| -> Option<usize> {
        let mut j = start + 1;
        while j < n {
            if backslash && b[j] == b'\\' {
                j += 2;
                continue;
            }
            if b[j] == q {
                if j + 1 < n && b[j + 1] == q {
                    j += 2;
                    continue;
                }
                return Some(j + 1);
            }
            j += 1;
        }
        None
    };
    while i < n {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'-' && next == Some(b'-') {
            // MySQL needs a space (or control character) after `--` for a comment.
            let after = b.get(i + 2).copied();
            if my && after.is_some_and(|a| a > b' ') {
                tokens.push((i, Tok::Other('-')));
                i += 1;
                continue;
            }
            i = b[i..]
                .iter()
                .position(|&x| x == b'\n')
                .map_or(n, |p| i + p + 1);
        } else if c == b'#' && my {
            i = b[i..]
                .iter()
                .position(|&x| x == b'\n')
                .map_or(n, |p| i + p + 1);
        } else if c == b'/' && next == Some(b'*') {
            // PostgreSQL nests block comments; MySQL and SQLite do not.
            let mut depth = 1;
            let mut j = i + 2;
            while j < n && depth > 0 {
                if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                    depth -= 1;
                    j += 2;
                } else if pg && b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                    depth += 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            if depth > 0 {
                break;
            }
            i = j;
        } else if c == b'\'' {
            // A backslash escapes only in PostgreSQL's E'' strings: cbi's MySQL sessions run
            // with NO_BACKSLASH_ESCAPES, so there, as in SQLite, `\` is a plain character.
            let backslash = pg
                && matches!(tokens.last(), Some((at, Tok::Word(w)))
                    if w.eq_ignore_ascii_case("e") && at + 1 == i);
            match quoted(i, b'\'', backslash) {
                Some(j) => {
                    tokens.push((i, Tok::Other('\'')));
                    i = j;
                }
                None => break,
            }
        } else if c == b'"' || (c == b'`' && (my || lite)) {
            match quoted(i, c, false) {
                Some(j) => {
                    tokens.push((i, Tok::Other(c as char)));
                    i = j;
                }
                None => break,
            }
        } else if c == b'[' && lite {
            match b[i..].iter().position(|&x| x == b']') {
                Some(p) => {
                    tokens.push((i, Tok::Other('[')));
                    i += p + 1;
                }
                None => break,
            }
        } else if c == b'$' && pg && dollar_tag(&b[i..]).is_some() {
            let tag_len = dollar_tag(&b[i..]).unwrap_or(1);
            let tag = &b[i..i + tag_len];
            let body = i + tag_len;
            match b[body..].windows(tag_len).position(|w| w == tag) {
                Some(p) => {
                    tokens.push((i, Tok::Other('$')));
                    i = body + p + tag_len;
                }
                None => break,
            }
        } else if c == b';' {
            tokens.push((i, Tok::Semi));
            i += 1;
        } else if word_byte(c) {
            let start = i;
            while i < n && (word_byte(b[i]) || (b[i] == b'$' && !lite)) {
                i += 1;
            }
            tokens.push((start, Tok::Word(&sql[start..i])));
        } else {
            tokens.push((i, Tok::Other(c as char)));
            i += 1;
        }
    }
    Lexed { tokens }
}

/// Length of a PostgreSQL dollar-quote tag (`$$`, `$tag$`) at the start of `b`.
fn dollar_tag(b: &[u8]) -> Option<usize> {
    let mut j = 1;
    while j < b.len() {
        let c = b[j];
        if c == b'$' {
            return Some(j + 1);
        }
        let ok = c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 || (j > 1 && c.is_ascii_digit());
        if !ok {
            return None;
        }
        j += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const ALL: [SqlDialect; 3] = [
        SqlDialect::Sqlite,
        SqlDialect::PostgreSql,
        SqlDialect::MySql,
    ];

    fn ok(sql: &str, d: SqlDialect) -> String {
        match check_query(sql, d) {
            Ok(s) => s.to_string(),
            Err(e) => panic!("{d:?} refused {sql:?}: {e}"),
        }
    }

    fn refused(sql: &str, d: SqlDialect) -> Error {
        match check_query(sql, d) {
            Ok(s) => panic!("{d:?} accepted {sql:?} as {s:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn accepts_reads_and_trims_their_end() {
        for d in ALL {
            assert_eq!(ok("SELECT 1", d), "SELECT 1");
            assert_eq!(ok("  select 1 ;  ", d), "select 1");
            assert_eq!(ok("SELECT 1;;", d), "SELECT 1");
            assert_eq!(ok("SELECT 1; -- done\n", d), "SELECT 1");
            assert_eq!(
                ok("-- why\nWITH x AS (SELECT 1) SELECT * FROM x", d),
                "-- why\nWITH x AS (SELECT 1) SELECT * FROM x"
            );
            assert_eq!(
                ok("/* a */ (SELECT 1) UNION (SELECT 2);", d),
                "/* a */ (SELECT 1) UNION (SELECT 2)"
            );
            assert_eq!(
                ok("SELECT 'a;b', \"c;d\" FROM t", d),
                "SELECT 'a;b', \"c;d\" FROM t"
            );
            ok("VALUES (1)", d);
            ok("SELECT 'it''s; fine'", d);
        }
        ok("SELECT $$a;b$$, $t$;'$t$ FROM t", SqlDialect::PostgreSql);
        ok("SELECT E'\\'; x' FROM t", SqlDialect::PostgreSql);
        // MySQL sessions run with NO_BACKSLASH_ESCAPES: `'a\'` is a whole string, so the `;`
        // after it ends the statement and what follows is a second one.
        ok("SELECT 'a\\\\', '; b' FROM t", SqlDialect::MySql);
        assert!(check_query("SELECT 'a\\'; b' FROM t", SqlDialect::MySql).is_err());
        ok("SELECT `a;b` FROM t # trailing; comment", SqlDialect::MySql);
        ok("SELECT [a;b] FROM t", SqlDialect::Sqlite);
        ok("PRAGMA table_info(t)", SqlDialect::Sqlite);
        ok("SHOW server_version", SqlDialect::PostgreSql);
        ok("DESCRIBE t", SqlDialect::MySql);
        ok(
            "SELECT 1 /* nested /* still */ comment; */",
            SqlDialect::PostgreSql,
        );
    }

    #[test]
    fn refuses_writes_by_their_first_word() {
        for d in ALL {
            for sql in [
                "INSERT INTO t VALUES (1)",
                "update t set a = 1",
                "DELETE FROM t",
                "CREATE TABLE x (a int)",
                "DROP TABLE t",
                "TRUNCATE t",
                "ALTER TABLE t ADD b int",
                "-- hi\nDELETE FROM t",
                "/* SELECT */ DELETE FROM t",
                "(DELETE FROM t)",
                "COPY t TO '/tmp/x'",
                "SET x = 1",
                "BEGIN",
                "GRANT ALL ON t TO u",
                "CALL p()",
                "ATTACH 'x.db' AS x",
                "VACUUM INTO '/tmp/x.db'",
            ] {
                assert!(
                    matches!(refused(sql, d), Error::ReadOnly(_)),
                    "{d:?}: {sql}"
                );
            }
        }
        let msg = refused("delete from t", SqlDialect::PostgreSql).to_string();
        assert_eq!(
            msg,
            "refused: `DELETE` statements are not allowed; this connection only reads (SELECT, WITH, VALUES, TABLE, SHOW)"
        );
    }

    #[test]
    fn refuses_a_second_statement() {
        for d in ALL {
            for sql in [
                "SELECT 1; SELECT 2",
                "SELECT 1; DELETE FROM t",
                "SELECT ';'; DROP TABLE t",
                "SELECT 1;\n-- c\nx",
            ] {
                let e = refused(sql, d);
                assert!(
                    matches!(&e, Error::Invalid(m) if m.contains("only one statement")),
                    "{d:?} {sql}: {e}"
                );
            }
        }
        // Lexed per dialect: MySQL's `--x` is not a comment, PostgreSQL's $$ hides a `;`.
        refused("SELECT 1 --x\n; DELETE FROM t", SqlDialect::MySql);
        refused("SELECT 1 /* /* */ ; DROP TABLE t", SqlDialect::MySql);
        ok(
            "SELECT 1 /* /* */ ; DROP TABLE t */",
            SqlDialect::PostgreSql,
        );
    }

    #[test]
    fn refuses_empty_and_odd_starts() {
        for d in ALL {
            assert!(matches!(refused("", d), Error::Invalid(_)));
            assert!(matches!(
                refused("  -- only a comment", d),
                Error::Invalid(_)
            ));
            assert!(matches!(refused(";", d), Error::Invalid(_)));
            assert!(matches!(refused("; SELECT 1", d), Error::Invalid(_)));
            assert!(matches!(refused("'x'", d), Error::Invalid(_)));
        }
    }

    #[test]
    fn refuses_file_and_session_escapes() {
        let my = SqlDialect::MySql;
        for sql in [
            "SELECT * FROM t INTO OUTFILE '/tmp/x'",
            "SELECT 1 INTO DUMPFILE '/tmp/x'",
            "SELECT LOAD_FILE('/etc/passwd')",
            "SELECT GET_LOCK('x', 10)",
            // With NO_BACKSLASH_ESCAPES the server would end the string at `\'`; we still see
            // the word.
            "SELECT '\\' INTO OUTFILE '/tmp/x' -- '",
        ] {
            assert!(matches!(refused(sql, my), Error::ReadOnly(_)), "{sql}");
        }
        assert!(matches!(
            refused("SELECT 1 /*!50000 INTO OUTFILE '/tmp/x' */", my),
            Error::Invalid(_)
        ));
        assert!(matches!(
            refused("SELECT 1 /*M!100000 , 2 */", my),
            Error::Invalid(_)
        ));
        let pg = SqlDialect::PostgreSql;
        for sql in [
            "SELECT lo_export(1, '/tmp/x')",
            "SELECT pg_catalog.pg_read_file('/etc/passwd')",
            "SELECT \"set_config\"('default_transaction_read_only', 'off', false)",
            "SELECT pg_terminate_backend(1)",
            "SELECT pg_advisory_lock(1)",
        ] {
            assert!(matches!(refused(sql, pg), Error::ReadOnly(_)), "{sql}");
        }
        // Whole words only.
        ok("SELECT outfile_count, my_get_lock FROM t", my);
        ok("SELECT lo_export_count FROM t", pg);
    }

    #[test]
    fn explain_takes_only_queries() {
        for d in ALL {
            assert_eq!(check_explain("SELECT 1;", d).unwrap(), "SELECT 1");
            for sql in [
                "ANALYZE SELECT 1",
                "explain select 1",
                "EXPLAIN ANALYZE SELECT 1",
            ] {
                let e = check_explain(sql, d).unwrap_err();
                assert!(
                    matches!(&e, Error::Invalid(m) if m.contains("without")),
                    "{e}"
                );
            }
            assert!(matches!(
                check_explain("DELETE FROM t", d),
                Err(Error::ReadOnly(_))
            ));
            assert!(check_explain("SELECT 1; SELECT 2", d).is_err());
        }
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC*") {
            for d in ALL {
                let _ = check_query(&s, d);
                let _ = check_explain(&s, d);
            }
        }

        #[test]
        fn arbitrary_bytes_of_sql_never_panic(s in "[ -~\\n;'\"`$\\[\\]/*#-]{0,80}") {
            for d in ALL {
                if let Ok(stmt) = check_query(&s, d) {
                    // What passes is a prefix of the input, trimmed.
                    prop_assert!(s.contains(stmt));
                }
            }
        }

        #[test]
        fn literals_never_split_a_statement(text in "[a-z ;\"`$]{0,20}") {
            for d in ALL {
                let lit = d.string_literal(&text);
                let sql = format!("SELECT {lit} AS x;");
                prop_assert_eq!(check_query(&sql, d).ok(), Some(&sql[..sql.len() - 1]));
                let two = format!("SELECT {lit}; DELETE FROM t");
                prop_assert!(check_query(&two, d).is_err());
            }
        }
    }
}
