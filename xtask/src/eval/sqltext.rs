//! Text-level handling of benchmark SQL: the repairs, rewrites and splits the official scripts
//! make, done on a small lexer so string literals, quoted names and comments are never touched
//! by mistake.

/// One piece of SQL text, as the lexer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece<'a> {
    /// Keywords, names, numbers, operators, whitespace: everything that is not quoted.
    Code(&'a str),
    /// A `'…'` literal, quotes included.
    SingleQuoted(&'a str),
    /// A `"…"`, `` `…` `` or `[…]` quoted name (SQLite also reads `"…"` as a string when no
    /// column has that name), quotes included.
    QuotedName(&'a str),
    /// A `-- …` or `/* … */` comment.
    Comment(&'a str),
}

/// Splits SQL into pieces. An unterminated quote or comment runs to the end of the text, so
/// any input is accepted.
fn lex<'a>(sql: &'a str) -> Vec<Piece<'a>> {
    let bytes = sql.as_bytes();
    let mut pieces = Vec::new();
    let mut code_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let (end, kind): (usize, fn(&'a str) -> Piece<'a>) = match bytes[i] {
            b'\'' => (quoted_end(bytes, i, b'\''), Piece::SingleQuoted),
            b'"' => (quoted_end(bytes, i, b'"'), Piece::QuotedName),
            b'`' => (quoted_end(bytes, i, b'`'), Piece::QuotedName),
            b'[' => (
                bytes[i..]
                    .iter()
                    .position(|&b| b == b']')
                    .map_or(bytes.len(), |p| i + p + 1),
                Piece::QuotedName,
            ),
            b'-' if bytes.get(i + 1) == Some(&b'-') => (
                bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |p| i + p),
                Piece::Comment,
            ),
            b'/' if bytes.get(i + 1) == Some(&b'*') => (
                sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |p| i + 2 + p + 2),
                Piece::Comment,
            ),
            _ => {
                i += 1;
                continue;
            }
        };
        if code_start < i {
            pieces.push(Piece::Code(&sql[code_start..i]));
        }
        pieces.push(kind(&sql[i..end]));
        i = end;
        code_start = end;
    }
    if code_start < bytes.len() {
        pieces.push(Piece::Code(&sql[code_start..]));
    }
    pieces
}

/// End (exclusive) of a quoted run starting at `start`, where a doubled quote is an escape.
fn quoted_end(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn piece_text<'a>(p: &Piece<'a>) -> &'a str {
    match *p {
        Piece::Code(s) | Piece::SingleQuoted(s) | Piece::QuotedName(s) | Piece::Comment(s) => s,
    }
}

/// Undoes the space tokenisation of SParC/CoSQL gold SQL (editsql's copies), so it runs and means
/// what its authors wrote.
///
/// Outside quotes, split operators are joined again: `> =`, `< =`, `! =`, `< >`. Inside a quoted
/// value, the tokeniser also spaced out parentheses (`'amc hornet sportabout  ( sw ) '` for the
/// stored `'amc hornet sportabout (sw)'`); a quoted value with a parenthesis standing alone
/// between spaces gets that undone. Leading and trailing spaces are otherwise kept: some stored
/// values really have them (`" ASY"` in flight_2, `"Gonzalo Higuaín "` in museum_visit).
pub fn repair_tokenised(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    for piece in lex(sql) {
        match piece {
            Piece::Code(s) => out.push_str(&join_split_operators(s)),
            Piece::SingleQuoted(s) | Piece::QuotedName(s) => out.push_str(&repair_literal(s)),
            Piece::Comment(s) => out.push_str(s),
        }
    }
    out
}

fn join_split_operators(code: &str) -> String {
    code.replace("> =", ">=")
        .replace("< =", "<=")
        .replace("! =", "!=")
        .replace("< >", "<>")
}

fn repair_literal(quoted: &str) -> String {
    let spaced_paren = quoted.contains(" ( ") || quoted.contains(" ) ");
    let terminated = quoted.len() >= 2
        && (quoted.starts_with('\'') || quoted.starts_with('"'))
        && quoted.ends_with(&quoted[..1]);
    if !spaced_paren || !terminated {
        return quoted.to_string();
    }
    let (open, inner, close) = (
        &quoted[..1],
        &quoted[1..quoted.len() - 1],
        &quoted[quoted.len() - 1..],
    );
    let mut s = inner.to_string();
    while s.contains("  ") {
        s = s.replace("  ", " ");
    }
    s = s.replace("( ", "(").replace(" )", ")");
    if s.ends_with(") ") {
        s.pop();
    }
    format!("{open}{s}{close}")
}

/// test-suite-sql-eval's `postprocess`: a blind text replacement applied to gold and predicted
/// SQL before execution.
pub fn official_postprocess(sql: &str) -> String {
    sql.replace("> =", ">=")
        .replace("< =", "<=")
        .replace("! =", "!=")
}

/// test-suite-sql-eval's `remove_distinct` (applied by default, i.e. without `--keep_distinct`):
/// every bare `DISTINCT` keyword is dropped, including inside `COUNT(DISTINCT x)`. Quoted text
/// and longer words (`distinct_count`) are left alone, as with sqlparse's tokens.
pub fn remove_distinct(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    for piece in lex(sql) {
        match piece {
            Piece::Code(s) => {
                let mut word_start = None;
                for (i, c) in s.char_indices() {
                    let is_word = c.is_alphanumeric() || c == '_' || c == '$';
                    match (is_word, word_start) {
                        (true, None) => word_start = Some(i),
                        (false, Some(start)) => {
                            push_unless_distinct(&mut out, &s[start..i]);
                            word_start = None;
                            out.push(c);
                        }
                        (false, None) => out.push(c),
                        (true, Some(_)) => {}
                    }
                }
                if let Some(start) = word_start {
                    push_unless_distinct(&mut out, &s[start..]);
                }
            }
            other => out.push_str(piece_text(&other)),
        }
    }
    out
}

fn push_unless_distinct(out: &mut String, word: &str) {
    if !word.eq_ignore_ascii_case("distinct") {
        out.push_str(word);
    }
}

/// test-suite-sql-eval's `replace_cur_year`: `YEAR(CURDATE())` (any case and spacing, and the
/// whitespace after it) becomes `2020`, as the official regex does, quotes or not.
pub fn replace_cur_year(sql: &str) -> String {
    fn skip_ws(b: &[u8], mut i: usize) -> usize {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    }
    fn word(b: &[u8], i: usize, w: &str) -> Option<usize> {
        let end = i + w.len();
        (end <= b.len() && b[i..end].eq_ignore_ascii_case(w.as_bytes())).then_some(end)
    }
    fn punct(b: &[u8], i: usize, c: u8) -> Option<usize> {
        (b.get(i) == Some(&c)).then_some(i + 1)
    }
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        let matched = (|| {
            let j = word(b, i, "year")?;
            let j = punct(b, skip_ws(b, j), b'(')?;
            let j = word(b, skip_ws(b, j), "curdate")?;
            let j = punct(b, skip_ws(b, j), b'(')?;
            let j = punct(b, skip_ws(b, j), b')')?;
            let j = punct(b, skip_ws(b, j), b')')?;
            Some(skip_ws(b, j))
        })();
        match matched {
            Some(end) => {
                out.push_str(&sql[copied..i]);
                out.push_str("2020");
                copied = end;
                i = end;
            }
            None => i += 1,
        }
    }
    out.push_str(&sql[copied..]);
    out
}

/// Splits several accepted answers written as `a; b; c` at semicolons outside quotes and
/// comments, dropping empty pieces.
pub fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for piece in lex(sql) {
        match piece {
            Piece::Code(s) => {
                let mut parts = s.split(';');
                if let Some(first) = parts.next() {
                    current.push_str(first);
                }
                for part in parts {
                    push_trimmed(&mut out, &current);
                    current.clear();
                    current.push_str(part);
                }
            }
            other => current.push_str(piece_text(&other)),
        }
    }
    push_trimmed(&mut out, &current);
    out
}

fn push_trimmed(out: &mut Vec<String>, s: &str) {
    let t = s.trim();
    if !t.is_empty() {
        out.push(t.to_string());
    }
}

/// The statement without trailing semicolons and whitespace (`SELECT … ;` as GeoQuery writes
/// it), since a connection accepts exactly one statement.
pub fn strip_trailing_semicolons(sql: &str) -> &str {
    sql.trim()
        .trim_end_matches(|c: char| c == ';' || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenisation_is_repaired_outside_quotes() {
        let check = |input: &str, expect: &str| assert_eq!(repair_tokenised(input), expect);
        check(
            "SELECT a FROM t WHERE b > = 3 AND c ! = 4 OR d < = 5 OR e < > 6",
            "SELECT a FROM t WHERE b >= 3 AND c != 4 OR d <= 5 OR e <> 6",
        );
        check("SELECT count ( * ) FROM t", "SELECT count ( * ) FROM t");
        // quoted values keep their text, including real leading/trailing spaces
        check(
            "SELECT a FROM t WHERE b = ' > = ' AND c = \" ASY\"",
            "SELECT a FROM t WHERE b = ' > = ' AND c = \" ASY\"",
        );
        check(
            "WHERE name = \"Gonzalo Higuaín \"",
            "WHERE name = \"Gonzalo Higuaín \"",
        );
        // the tokeniser's spaced parentheses inside a value are undone
        check(
            "WHERE T2.Make   =   'amc hornet sportabout  ( sw ) '",
            "WHERE T2.Make   =   'amc hornet sportabout (sw)'",
        );
        check(
            "WHERE T2.Make = 'amc hornet sportabout (sw)'",
            "WHERE T2.Make = 'amc hornet sportabout (sw)'",
        );
    }

    #[test]
    fn distinct_is_removed_like_the_official_script() {
        assert_eq!(
            remove_distinct("SELECT DISTINCT a, count(distinct b) FROM t"),
            "SELECT  a, count( b) FROM t"
        );
        assert_eq!(
            remove_distinct("SELECT distinct_count FROM t WHERE x = 'distinct'"),
            "SELECT distinct_count FROM t WHERE x = 'distinct'"
        );
        assert_eq!(
            remove_distinct("SELECT \"DISTINCT\""),
            "SELECT \"DISTINCT\""
        );
    }

    #[test]
    fn cur_year_is_replaced() {
        assert_eq!(
            replace_cur_year("SELECT YEAR ( curdate( ) )  - age FROM t"),
            "SELECT 2020- age FROM t"
        );
        assert_eq!(replace_cur_year("SELECT year FROM t"), "SELECT year FROM t");
    }

    #[test]
    fn answers_split_outside_literals() {
        assert_eq!(
            split_statements("SELECT 'a;b' FROM t; SELECT \"x;\" -- c;d\n ;; SELECT 3;"),
            vec![
                "SELECT 'a;b' FROM t".to_string(),
                "SELECT \"x;\" -- c;d".to_string(),
                "SELECT 3".to_string()
            ]
        );
        assert_eq!(split_statements("  ;  "), Vec::<String>::new());
        assert_eq!(
            split_statements("SELECT 'it''s; fine'"),
            vec!["SELECT 'it''s; fine'".to_string()]
        );
    }

    #[test]
    fn trailing_semicolons_go() {
        assert_eq!(strip_trailing_semicolons(" SELECT 1 ; ;\n"), "SELECT 1");
        assert_eq!(strip_trailing_semicolons("SELECT ';'"), "SELECT ';'");
    }

    #[test]
    fn lexer_never_loses_text() {
        for s in [
            "'unterminated",
            "\"x",
            "[a",
            "/* c",
            "-- c",
            "a'b'c\"d\"e",
            "",
        ] {
            let joined: String = lex(s).iter().map(piece_text).collect();
            assert_eq!(joined, s);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_handled_without_panic(s in "\\PC{0,80}") {
            let joined: String = lex(&s).iter().map(piece_text).collect();
            proptest::prop_assert_eq!(&joined, &s);
            let _ = repair_tokenised(&s);
            let _ = remove_distinct(&s);
            let _ = replace_cur_year(&s);
            let _ = strip_trailing_semicolons(&s);
            for part in split_statements(&s) {
                proptest::prop_assert!(!part.trim().is_empty());
            }
        }

        #[test]
        fn sql_shaped_text_is_handled_without_panic(
            s in "[ a-zA-Z0-9'\"`\\[\\];()<>=!*,.%-/éü]{0,60}"
        ) {
            let _ = repair_tokenised(&s);
            let _ = remove_distinct(&s);
            let _ = replace_cur_year(&s);
            let n = split_statements(&s).len();
            proptest::prop_assert!(n <= s.matches(';').count() + 1);
        }
    }
}
