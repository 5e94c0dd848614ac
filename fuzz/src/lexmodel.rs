//! How the databases themselves split text into string literals, quoted identifiers and
//! comments — modelled after their lexers as cbi's connections configure them — compared with
//! sqlparser's tokenizer on the text the validator accepted.
//!
//! The validator proves that its printed text reads back with *sqlparser* as the tree it
//! checked. That says nothing about the database if the database reads a quote, a backslash,
//! `$$` or `--` differently from sqlparser's dialect; this model is an independent second
//! reading. Printed text never holds a comment, so any comment the database would see is a
//! failure; every literal and quoted identifier must open and close at the same characters for
//! both readers.
//!
//! - **PostgreSQL** (`standard_conforming_strings = on`): `'…'` with `''`; `E'…'` also with
//!   backslash escapes; `U&'…'`, `B'…'`, `X'…'`, `N'…'` like `'…'`; `"…"` with `""`;
//!   `$tag$…$tag$` where `$` starts a token and the tag is an identifier without `$`;
//!   `--` and nested `/* */` comments.
//! - **MySQL/MariaDB** (`NO_BACKSLASH_ESCAPES`, no `ANSI_QUOTES`): `'…'` and `"…"` strings
//!   with doubling only; `` `…` `` with doubling; `#`, `-- ` (dashes then whitespace, a
//!   control character or the end) and `/* */` comments (`/*!…*/` runs as SQL).
//! - **SQLite**: `'…'`, `"…"`, `` `…` `` with doubling; `[…]` without escapes; `--` and
//!   `/* */` comments.
//! - **Oracle**: `'…'` with `''`; `q'X…X'` / `nq'X…X'` alternative quoting (`[]`, `{}`,
//!   `<>`, `()` pair up); `"…"` (a doubled `""` is tolerated: Oracle refuses it, which is
//!   an error, not a different reading); `--` and `/* */` comments.

use cbi_types::SqlDialect;
use sqlparser::dialect::Dialect;
use sqlparser::tokenizer::{Location, Token, Tokenizer};

/// A literal or quoted identifier: the char index of its first quote character (after any
/// prefix such as `E`, `N`, `X`, `U&`, `q`) and the index just past its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Opaque {
    pub open: usize,
    pub end: usize,
}

/// The lexer model of one database.
#[derive(Debug, Clone, Copy)]
pub struct Model {
    dialect: SqlDialect,
}

fn is_quote(c: char) -> bool {
    matches!(c, '\'' | '"' | '`' | '[' | '$')
}

impl Model {
    /// The model for `d`, for the four databases modelled.
    pub fn of(d: SqlDialect) -> Option<Model> {
        match d {
            SqlDialect::Generic => None,
            dialect => Some(Model { dialect }),
        }
    }

    /// Characters that continue an unquoted identifier (or number) in the database: a quote
    /// right after one of them does not get a prefix's meaning, and a `$` after one is not a
    /// dollar quote.
    fn ident_cont(&self, c: char) -> bool {
        match self.dialect {
            SqlDialect::PostgreSql => {
                c.is_ascii_alphanumeric() || c == '_' || c == '$' || !c.is_ascii()
            }
            SqlDialect::Oracle => c.is_alphanumeric() || c == '_' || c == '$' || c == '#',
            _ => c.is_ascii_alphanumeric() || c == '_' || c == '$' || !c.is_ascii(),
        }
    }

    /// Whether index `i` starts a token (is not inside an unquoted identifier or number).
    fn token_start(&self, s: &[char], i: usize) -> bool {
        i == 0 || !self.ident_cont(s[i - 1])
    }

    /// The literals and quoted identifiers the database finds in `text`, or why it would
    /// read the text as something sqlparser's printer never writes (a comment, something
    /// unterminated).
    ///
    /// `Ok(None)`: the database refuses the text outright at lexing (Oracle: a `$` that does
    /// not continue an identifier), so nothing of it runs whatever sqlparser made of it.
    pub fn lex(&self, text: &str) -> Result<Option<Vec<Opaque>>, String> {
        let s: Vec<char> = text.chars().collect();
        let n = s.len();
        let at = |i: usize| s.get(i).copied();
        let mut out = Vec::new();
        let mut i = 0;
        while i < n {
            let c = s[i];
            let next = at(i + 1);
            // comments
            let comment = match (self.dialect, c, next) {
                (SqlDialect::MySql, '#', _) => true,
                (SqlDialect::MySql, '-', Some('-')) => {
                    at(i + 2).is_none_or(|c| c.is_whitespace() || c.is_control())
                }
                (_, '-', Some('-')) => true,
                (_, '/', Some('*')) => true,
                _ => false,
            };
            if comment {
                return Err(format!("the database reads a comment at char {i}"));
            }
            match c {
                '\'' => {
                    let (open, end) = match self.dialect {
                        SqlDialect::Oracle if self.q_quote(&s, i) => (
                            i,
                            self.scan_q(&s, i)
                                .ok_or_else(|| unterminated("q-quoted string", i))?,
                        ),
                        _ => {
                            let backslash = self.dialect == SqlDialect::PostgreSql
                                && i >= 1
                                && matches!(s[i - 1], 'e' | 'E')
                                && self.token_start(&s, i - 1);
                            (
                                i,
                                scan_doubled(&s, i, '\'', backslash)
                                    .ok_or_else(|| unterminated("string", i))?,
                            )
                        }
                    };
                    out.push(Opaque { open, end });
                    i = end;
                }
                '"' => {
                    let end = scan_doubled(&s, i, '"', false)
                        .ok_or_else(|| unterminated("double-quoted name or string", i))?;
                    out.push(Opaque { open: i, end });
                    i = end;
                }
                '`' if matches!(self.dialect, SqlDialect::MySql | SqlDialect::Sqlite) => {
                    let end = scan_doubled(&s, i, '`', false)
                        .ok_or_else(|| unterminated("backquoted name", i))?;
                    out.push(Opaque { open: i, end });
                    i = end;
                }
                '[' if self.dialect == SqlDialect::Sqlite => {
                    let close = s[i + 1..]
                        .iter()
                        .position(|&c| c == ']')
                        .ok_or_else(|| unterminated("bracketed name", i))?;
                    let end = i + 1 + close + 1;
                    out.push(Opaque { open: i, end });
                    i = end;
                }
                '$' if self.dialect == SqlDialect::Oracle && self.token_start(&s, i) => {
                    return Ok(None);
                }
                '$' if self.dialect == SqlDialect::PostgreSql && self.token_start(&s, i) => {
                    match dollar_tag(&s, i) {
                        Some(tag_end) => {
                            let tag: Vec<char> = s[i..tag_end].to_vec();
                            let mut j = tag_end;
                            let end = loop {
                                if j + tag.len() > n {
                                    return Err(unterminated("dollar-quoted string", i));
                                }
                                if s[j..j + tag.len()] == tag[..] {
                                    break j + tag.len();
                                }
                                j += 1;
                            };
                            out.push(Opaque { open: i, end });
                            i = end;
                        }
                        None => i += 1,
                    }
                }
                _ => i += 1,
            }
        }
        Ok(Some(out))
    }

    /// Oracle: `'` preceded by a `q` (or `nq`) that starts a token.
    fn q_quote(&self, s: &[char], i: usize) -> bool {
        if i == 0 || !matches!(s[i - 1], 'q' | 'Q') {
            return false;
        }
        if self.token_start(s, i - 1) {
            return true;
        }
        i >= 2 && matches!(s[i - 2], 'n' | 'N') && self.token_start(s, i - 2)
    }

    fn scan_q(&self, s: &[char], i: usize) -> Option<usize> {
        let open = *s.get(i + 1)?;
        if open.is_whitespace() {
            return None;
        }
        let close = match open {
            '[' => ']',
            '{' => '}',
            '<' => '>',
            '(' => ')',
            c => c,
        };
        let mut j = i + 2;
        while j + 1 < s.len() {
            if s[j] == close && s[j + 1] == '\'' {
                return Some(j + 2);
            }
            j += 1;
        }
        None
    }

    /// Compares the database's reading of `text` with sqlparser's tokenizer (`dialect`).
    pub fn compare(&self, text: &str, dialect: &dyn Dialect) -> Result<(), String> {
        let Some(db) = self.lex(text).map_err(|e| format!("(e) {e}"))? else {
            return Ok(());
        };
        let parser = sqlparser_opaques(text, dialect).map_err(|e| format!("(e) {e}"))?;
        if db != parser {
            let show = |v: &[Opaque]| {
                let chars: Vec<char> = text.chars().collect();
                v.iter()
                    .map(|o| chars[o.open..o.end].iter().collect::<String>())
                    .collect::<Vec<_>>()
                    .join(" | ")
            };
            return Err(format!(
                "(e) the database and sqlparser split the literals differently:\n  database:  {}\n  sqlparser: {}",
                show(&db),
                show(&parser)
            ));
        }
        Ok(())
    }
}

fn unterminated(what: &str, i: usize) -> String {
    format!("the database reads an unterminated {what} opening at char {i}")
}

/// A `q`-delimited run starting at `s[i] == q`: the index past the closing quote. A doubled
/// quote is one character; with `backslash`, `\` escapes the next character.
fn scan_doubled(s: &[char], i: usize, q: char, backslash: bool) -> Option<usize> {
    let mut j = i + 1;
    while j < s.len() {
        let c = s[j];
        if backslash && c == '\\' {
            j += 2;
            continue;
        }
        if c == q {
            if s.get(j + 1) == Some(&q) {
                j += 2;
                continue;
            }
            return Some(j + 1);
        }
        j += 1;
    }
    None
}

/// PostgreSQL: `$` `[A-Za-z\x80-_][A-Za-z\x80-_0-9]*`? `$` at `i`: the index past the tag.
fn dollar_tag(s: &[char], i: usize) -> Option<usize> {
    let start = |c: char| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii();
    let cont = |c: char| start(c) || c.is_ascii_digit();
    let mut j = i + 1;
    if let Some(&c) = s.get(j) {
        if c == '$' {
            return Some(j + 1);
        }
        if !start(c) {
            return None;
        }
    }
    while let Some(&c) = s.get(j) {
        if c == '$' {
            return Some(j + 1);
        }
        if !cont(c) {
            return None;
        }
        j += 1;
    }
    None
}

/// The literals and quoted identifiers sqlparser's tokenizer finds in `text`.
pub fn sqlparser_opaques(text: &str, dialect: &dyn Dialect) -> Result<Vec<Opaque>, String> {
    let chars: Vec<char> = text.chars().collect();
    // (line, column) → char index, the tokenizer's way: a new line after `\n` only.
    let mut starts = vec![0usize]; // char index of each line's first char
    for (i, &c) in chars.iter().enumerate() {
        if c == '\n' {
            starts.push(i + 1);
        }
    }
    let index = |l: Location| -> usize {
        let line = (l.line as usize).saturating_sub(1);
        starts.get(line).copied().unwrap_or(chars.len()) + (l.column as usize).saturating_sub(1)
    };
    let tokens = Tokenizer::new(dialect, text)
        .with_unescape(false)
        .tokenize_with_location()
        .map_err(|e| format!("sqlparser cannot tokenize the accepted text: {e}"))?;
    let mut out = Vec::new();
    for t in tokens {
        let opaque = match &t.token {
            Token::Word(w) => w.quote_style.is_some(),
            Token::Whitespace(w) => {
                if !matches!(
                    w,
                    sqlparser::tokenizer::Whitespace::Space
                        | sqlparser::tokenizer::Whitespace::Newline
                        | sqlparser::tokenizer::Whitespace::Tab
                ) {
                    return Err(format!(
                        "sqlparser reads a comment in the accepted text: {w:?}"
                    ));
                }
                false
            }
            Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::TripleSingleQuotedString(_)
            | Token::TripleDoubleQuotedString(_)
            | Token::DollarQuotedString(_)
            | Token::SingleQuotedByteStringLiteral(_)
            | Token::DoubleQuotedByteStringLiteral(_)
            | Token::TripleSingleQuotedByteStringLiteral(_)
            | Token::TripleDoubleQuotedByteStringLiteral(_)
            | Token::SingleQuotedRawStringLiteral(_)
            | Token::DoubleQuotedRawStringLiteral(_)
            | Token::TripleSingleQuotedRawStringLiteral(_)
            | Token::TripleDoubleQuotedRawStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::QuoteDelimitedStringLiteral(_)
            | Token::NationalQuoteDelimitedStringLiteral(_)
            | Token::EscapedStringLiteral(_)
            | Token::UnicodeStringLiteral(_)
            | Token::HexStringLiteral(_) => true,
            _ => false,
        };
        if !opaque {
            continue;
        }
        let start = index(t.span.start);
        let end = index(t.span.end);
        let open = (start..end.min(chars.len()))
            .find(|&i| is_quote(chars[i]))
            .ok_or_else(|| format!("no quote in the token {:?}", t.token))?;
        out.push(Opaque { open, end });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cbi_nl2sql::parser_dialect;

    fn ok(d: SqlDialect, sql: &str) {
        let m = Model::of(d).unwrap();
        m.compare(sql, parser_dialect(d).as_ref())
            .unwrap_or_else(|e| panic!("{d}: {sql}: {e}"));
    }

    fn bad(d: SqlDialect, sql: &str) {
        let m = Model::of(d).unwrap();
        assert!(
            m.compare(sql, parser_dialect(d).as_ref()).is_err(),
            "{d}: {sql}"
        );
    }

    #[test]
    fn agreeing_texts() {
        for d in crate::DIALECTS {
            ok(
                d,
                "SELECT 'a''b', \"x\" FROM t WHERE a = 'it''s \\' LIMIT 1",
            );
            ok(d, "SELECT 'é中' FROM t\nWHERE 'x' = 'y'");
        }
        ok(
            SqlDialect::PostgreSql,
            "SELECT E'a\\'b', $$x'y$$, $q$ $$ $q$, a$b FROM t",
        );
        ok(SqlDialect::MySql, "SELECT `a``b`, \"x\"\"y\", 'a\\' FROM t");
        ok(SqlDialect::Sqlite, "SELECT [a b], `c` FROM t");
    }

    #[test]
    fn disagreeing_texts() {
        // a comment the database would see
        bad(SqlDialect::MySql, "SELECT 1 # x");
        bad(SqlDialect::PostgreSql, "SELECT 1 -- x");
        // sqlparser's plain MySQL dialect reads backslash escapes; the server here does not
        let m = Model::of(SqlDialect::MySql).unwrap();
        let plain = sqlparser::dialect::MySqlDialect {};
        assert!(
            m.compare(r"SELECT '\' AS a, ', (SELECT 1) AS s -- ' AS b", &plain)
                .is_err()
        );
    }
}
