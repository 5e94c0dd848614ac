//! The sqlparser dialect each cbi dialect is read with.
//!
//! The validator parses a statement, checks the tree and hands the database the tree printed
//! back; that is safe only if the database reads the printed text the way sqlparser does. For
//! PostgreSQL (with `standard_conforming_strings`), SQLite and Oracle it does. MySQL and
//! MariaDB by default read a backslash inside a string as an escape, which sqlparser's printer
//! does not write back: the literal `'\\'` (one backslash) is printed as `'\'`, which MySQL
//! reads as an escaped quote, and the rest of the "string" runs as SQL. So cbi's MySQL
//! connections run with `sql_mode` `NO_BACKSLASH_ESCAPES`, and MySQL text is read here with
//! [`MySqlNoBackslash`]: sqlparser's MySQL dialect in every respect but that one. The
//! connector's lexical guard reads strings the same way.

use std::any::TypeId;

use cbi_types::SqlDialect;
use sqlparser::ast::{Expr, Statement};
use sqlparser::dialect::{
    BindPlaceholderStyle, Dialect, GenericDialect, MySqlDialect, OracleDialect, PostgreSqlDialect,
    SQLiteDialect,
};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};

/// Prints a statement for the database, writing its single-quoted string literals the way
/// cbi writes them ([`SqlDialect::string_literal`]: every quote doubled, backslashes plain).
///
/// sqlparser's printer leaves a value's `''` and `\'` as they are, taking them for escapes
/// already made, so the value `a''b` would print as `'a''b'` and read back as `a'b`. Each
/// literal is printed as a placeholder first and then replaced by its correct spelling; the
/// validator's round trip proves the result reads back as the tree that was checked.
pub fn print_statement(stmt: &Statement, dialect: SqlDialect) -> String {
    use sqlparser::ast::{Value, visit_expressions_mut};
    use std::ops::ControlFlow;

    let mut stmt = stmt.clone();
    let mut values = Vec::new();
    let _ = visit_expressions_mut(&mut stmt, |e| {
        if let Expr::Value(v) = e {
            if let Value::SingleQuotedString(s) = &mut v.value {
                let placeholder = format!("\u{1}cbi{}\u{1}", values.len());
                values.push((placeholder.clone(), std::mem::replace(s, placeholder)));
            }
        }
        ControlFlow::<()>::Continue(())
    });
    let mut text = stmt.to_string();
    for (placeholder, value) in values {
        let quoted = format!("'{placeholder}'");
        if let Some(at) = text.find(&quoted) {
            text.replace_range(at..at + quoted.len(), &dialect.string_literal(&value));
        }
    }
    text
}

/// The sqlparser dialect for a cbi dialect: what the validator, the renderer and every round
/// trip parse with.
pub fn parser_dialect(d: SqlDialect) -> Box<dyn Dialect> {
    match d {
        SqlDialect::PostgreSql => Box::new(PostgreSqlDialect {}),
        SqlDialect::MySql => Box::new(MySqlNoBackslash(MySqlDialect {})),
        SqlDialect::Sqlite => Box::new(SQLiteDialect {}),
        SqlDialect::Oracle => Box::new(OracleDialect {}),
        SqlDialect::Generic => Box::new(GenericDialect {}),
    }
}

/// MySQL as cbi's connections speak it: `NO_BACKSLASH_ESCAPES`, so `'\'` is a string holding
/// one backslash and a quote is escaped only by doubling it.
///
/// It reports MySQL's `TypeId`, so the parser's MySQL-specific rules apply unchanged, and
/// forwards every method sqlparser's `MySqlDialect` overrides except the backslash escape.
#[derive(Debug, Default, Clone, Copy)]
pub struct MySqlNoBackslash(pub MySqlDialect);

impl Dialect for MySqlNoBackslash {
    fn dialect(&self) -> TypeId {
        TypeId::of::<MySqlDialect>()
    }

    fn supports_string_literal_backslash_escape(&self) -> bool {
        false
    }

    fn supports_string_literal_table_alias(&self, explicit: bool) -> bool {
        self.0.supports_string_literal_table_alias(explicit)
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        self.0.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        self.0.is_identifier_part(ch)
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        self.0.is_delimited_identifier_start(ch)
    }

    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        self.0.identifier_quote_style(identifier)
    }

    fn ordered_bind_placeholder_style(&self) -> Option<BindPlaceholderStyle> {
        self.0.ordered_bind_placeholder_style()
    }

    fn supports_string_literal_concatenation(&self) -> bool {
        self.0.supports_string_literal_concatenation()
    }

    fn ignores_wildcard_escapes(&self) -> bool {
        self.0.ignores_wildcard_escapes()
    }

    fn supports_numeric_prefix(&self) -> bool {
        self.0.supports_numeric_prefix()
    }

    fn supports_literal_prefix_in_qualified_name(&self) -> bool {
        self.0.supports_literal_prefix_in_qualified_name()
    }

    fn supports_bitwise_shift_operators(&self) -> bool {
        self.0.supports_bitwise_shift_operators()
    }

    fn supports_singular_value_keyword(&self) -> bool {
        self.0.supports_singular_value_keyword()
    }

    fn supports_multiline_comment_hints(&self) -> bool {
        self.0.supports_multiline_comment_hints()
    }

    fn parse_infix(
        &self,
        parser: &mut Parser<'_>,
        expr: &Expr,
        precedence: u8,
    ) -> Option<Result<Expr, ParserError>> {
        self.0.parse_infix(parser, expr, precedence)
    }

    fn parse_statement(&self, parser: &mut Parser<'_>) -> Option<Result<Statement, ParserError>> {
        self.0.parse_statement(parser)
    }

    fn require_interval_qualifier(&self) -> bool {
        self.0.require_interval_qualifier()
    }

    fn supports_limit_comma(&self) -> bool {
        self.0.supports_limit_comma()
    }

    fn supports_create_table_select(&self) -> bool {
        self.0.supports_create_table_select()
    }

    fn supports_insert_set(&self) -> bool {
        self.0.supports_insert_set()
    }

    fn supports_user_host_grantee(&self) -> bool {
        self.0.supports_user_host_grantee()
    }

    fn is_table_factor_alias(&self, explicit: bool, kw: &Keyword, parser: &mut Parser<'_>) -> bool {
        self.0.is_table_factor_alias(explicit, kw, parser)
    }

    fn supports_table_hints(&self) -> bool {
        self.0.supports_table_hints()
    }

    fn requires_single_line_comment_whitespace(&self) -> bool {
        self.0.requires_single_line_comment_whitespace()
    }

    fn supports_hash_comment(&self) -> bool {
        self.0.supports_hash_comment()
    }

    fn supports_match_against(&self) -> bool {
        self.0.supports_match_against()
    }

    fn supports_select_modifiers(&self) -> bool {
        self.0.supports_select_modifiers()
    }

    fn supports_set_names(&self) -> bool {
        self.0.supports_set_names()
    }

    fn supports_comma_separated_set_assignments(&self) -> bool {
        self.0.supports_comma_separated_set_assignments()
    }

    fn supports_alter_column_position(&self) -> bool {
        self.0.supports_alter_column_position()
    }

    fn supports_update_order_by(&self) -> bool {
        self.0.supports_update_order_by()
    }

    fn supports_data_type_signed_suffix(&self) -> bool {
        self.0.supports_data_type_signed_suffix()
    }

    fn supports_data_type_zerofill_suffix(&self) -> bool {
        self.0.supports_data_type_zerofill_suffix()
    }

    fn supports_cross_join_constraint(&self) -> bool {
        self.0.supports_cross_join_constraint()
    }

    fn supports_double_ampersand_operator(&self) -> bool {
        self.0.supports_double_ampersand_operator()
    }

    fn get_next_precedence(&self, parser: &Parser<'_>) -> Option<Result<u8, ParserError>> {
        self.0.get_next_precedence(parser)
    }

    fn supports_binary_kw_as_cast(&self) -> bool {
        self.0.supports_binary_kw_as_cast()
    }

    fn supports_table_partitions(&self) -> bool {
        self.0.supports_table_partitions()
    }

    fn supports_comment_optimizer_hint(&self) -> bool {
        self.0.supports_comment_optimizer_hint()
    }

    fn supports_constraint_keyword_without_name(&self) -> bool {
        self.0.supports_constraint_keyword_without_name()
    }

    fn supports_key_column_option(&self) -> bool {
        self.0.supports_key_column_option()
    }

    fn supports_group_by_with_modifier(&self) -> bool {
        self.0.supports_group_by_with_modifier()
    }

    fn supports_left_associative_joins_without_parens(&self) -> bool {
        self.0.supports_left_associative_joins_without_parens()
    }
}

#[cfg(test)]
mod tests {
    use sqlparser::parser::Parser;

    use super::*;

    fn round(sql: &str) -> String {
        let d = parser_dialect(SqlDialect::MySql);
        let stmts = Parser::parse_sql(d.as_ref(), sql).unwrap();
        stmts[0].to_string()
    }

    #[test]
    fn mysql_backslashes_are_plain_characters() {
        // One string, holding `\\`: printed back exactly as written.
        assert_eq!(round(r"SELECT '\\' AS a"), r"SELECT '\\' AS a");
        // The bypass, read the way the server reads it under NO_BACKSLASH_ESCAPES: `'\'` is a
        // whole string, and what an attacker meant as SQL is the second column's literal.
        let sql = r"SELECT '\' AS a, ', (SELECT 1) AS s -- ' AS b";
        assert_eq!(round(sql), sql);
        assert_eq!(round(r"SELECT 'it''s \n'"), r"SELECT 'it''s \n'");
    }

    #[test]
    fn literals_print_with_every_quote_doubled() {
        // sqlparser's own printer would write the value `a''b` as `'a''b'` (read back: a'b).
        for d in SqlDialect::ALL {
            let sql = "SELECT 'a''''b', '''''', 'x\\''y' FROM t";
            let stmt = Parser::parse_sql(parser_dialect(d).as_ref(), sql)
                .unwrap()
                .remove(0);
            let printed = print_statement(&stmt, d);
            assert_eq!(printed, sql, "{d}");
            let again = Parser::parse_sql(parser_dialect(d).as_ref(), &printed)
                .unwrap()
                .remove(0);
            assert_eq!(again, stmt, "{d}");
        }
    }

    #[test]
    fn mysql_rules_still_apply() {
        // `LIMIT offset, count`, `#` comments and backtick identifiers are MySQL's.
        assert_eq!(
            round("SELECT `a` FROM t # comment\n LIMIT 1, 2"),
            "SELECT `a` FROM t LIMIT 1, 2"
        );
        assert_eq!(
            round("SELECT DIV_ROUND FROM t WHERE 5 DIV 2 = 2"),
            "SELECT DIV_ROUND FROM t WHERE 5 DIV 2 = 2"
        );
    }
}
