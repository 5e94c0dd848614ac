//! Deterministic repair of column references a model misplaced, before its SQL is validated
//! again.
//!
//! Small models often name a column of one joined table through another table's alias
//! (`T2.Model` where `Model` is in `car_names AS T1`) or spell a column the way the question
//! does (`pet_type` for `PetType`), and then repeat the mistake however the validator words its
//! feedback. Both have one right reading when exactly one table of the query holds the column:
//! [`repair_columns`] rewrites the reference to it and says what it changed. It never invents
//! anything: a reference that no table of the query holds, or that several could mean, is left
//! for the validator to refuse. The repaired text is an ordinary candidate; the validator checks
//! it like any other, and what it checked is what runs.

use std::collections::HashMap;
use std::ops::ControlFlow;

use cbi_types::{DatabaseSchema, SqlDialect};
use sqlparser::ast::{Expr, Ident, TableFactor, Visit, VisitMut, Visitor, VisitorMut};
use sqlparser::parser::Parser;

use crate::dialects::parser_dialect;

/// What a name in the query's FROM clauses stands for.
#[derive(Debug, Clone, PartialEq)]
enum Binding {
    /// A table of the schema (its index).
    Table(usize),
    /// A derived table, a CTE, a table function, or one name bound to different tables:
    /// columns through it are not repaired.
    Opaque,
}

/// The SQL with misplaced column references rewritten, and one line per change
/// (`` `T2.Model` → `T1.Model` ``); None when nothing needed or allowed a repair, or the text
/// is not one statement the dialect parses.
pub fn repair_columns(
    sql: &str,
    dialect: SqlDialect,
    schema: &DatabaseSchema,
) -> Option<(String, Vec<String>)> {
    let parser = parser_dialect(dialect);
    let mut statements = Parser::parse_sql(parser.as_ref(), sql).ok()?;
    if statements.len() != 1 {
        return None;
    }
    let mut statement = statements.pop()?;
    let mut bindings = Bindings {
        schema,
        names: HashMap::new(),
        opaque: false,
    };
    let _ = Visit::visit(&statement, &mut bindings);
    let mut fix = Fix {
        schema,
        dialect,
        names: bindings.names,
        opaque: bindings.opaque,
        changes: Vec::new(),
    };
    let _ = VisitMut::visit(&mut statement, &mut fix);
    (!fix.changes.is_empty()).then(|| (statement.to_string(), fix.changes))
}

/// Collects every name a FROM clause binds, anywhere in the statement. Scopes are not told
/// apart: a name bound twice to different things is opaque, which only ever means repairing
/// less.
struct Bindings<'a> {
    schema: &'a DatabaseSchema,
    /// Lowercase name → the name as written, and what it stands for.
    names: HashMap<String, (String, Binding)>,
    /// Some source is not a table of the schema (a derived table, a CTE, a function): an
    /// unqualified name may come from it.
    opaque: bool,
}

impl Bindings<'_> {
    fn bind(&mut self, name: &str, binding: Binding) {
        let key = name.to_lowercase();
        match self.names.get_mut(&key) {
            Some((_, b)) if *b != binding => *b = Binding::Opaque,
            Some(_) => {}
            None => {
                self.names.insert(key, (name.to_string(), binding));
            }
        }
    }
}

impl Visitor for Bindings<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        match factor {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let last = name
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .map(|i| i.value.clone())
                    .unwrap_or_default();
                let binding = match (args, self.schema.table_index(&last)) {
                    (None, Some(t)) => Binding::Table(t),
                    _ => {
                        self.opaque = true;
                        Binding::Opaque
                    }
                };
                match alias {
                    Some(a) => self.bind(&a.name.value, binding),
                    None => self.bind(&last, binding),
                }
            }
            // Parentheses around joins: the tables inside are visited on their own.
            TableFactor::NestedJoin { alias: None, .. } => {}
            other => {
                self.opaque = true;
                let alias = match other {
                    TableFactor::Derived { alias, .. }
                    | TableFactor::TableFunction { alias, .. }
                    | TableFactor::Function { alias, .. }
                    | TableFactor::UNNEST { alias, .. }
                    | TableFactor::NestedJoin { alias, .. } => alias.as_ref(),
                    _ => None,
                };
                if let Some(a) = alias {
                    self.bind(&a.name.value, Binding::Opaque);
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// Rewrites the references that have exactly one right reading.
struct Fix<'a> {
    schema: &'a DatabaseSchema,
    dialect: SqlDialect,
    names: HashMap<String, (String, Binding)>,
    opaque: bool,
    changes: Vec<String>,
}

/// Case and underscores do not tell column names apart here (`pet_type` is `PetType`).
fn loose(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

impl Fix<'_> {
    /// The column of table `t` that `name` means: the same name in any case, else the same
    /// name but for case and underscores, when only one column is that.
    fn column_in(&self, t: usize, name: &str) -> Option<&str> {
        let cols = &self.schema.tables[t].columns;
        if let Some(c) = cols.iter().find(|c| c.name.eq_ignore_ascii_case(name)) {
            return Some(&c.name);
        }
        let want = loose(name);
        let mut found = cols.iter().filter(|c| loose(&c.name) == want);
        match (found.next(), found.next()) {
            (Some(c), None) => Some(&c.name),
            _ => None,
        }
    }

    /// The bound names (as written) of schema tables holding `name`, with the column's own
    /// spelling.
    fn holders(&self, name: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .names
            .values()
            .filter_map(|(written, b)| match b {
                Binding::Table(t) => self
                    .column_in(*t, name)
                    .map(|c| (written.clone(), c.to_string())),
                Binding::Opaque => None,
            })
            .collect();
        out.sort();
        out
    }

    fn note(&mut self, change: String) {
        if !self.changes.contains(&change) {
            self.changes.push(change);
        }
    }

    fn ident(&self, name: &str, like: &Ident) -> Ident {
        let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        let folds = match self.dialect {
            SqlDialect::PostgreSql => name.chars().any(|c| c.is_ascii_uppercase()),
            SqlDialect::Oracle => name.chars().any(|c| c.is_ascii_lowercase()),
            _ => false,
        };
        let quote = if plain && !folds {
            None
        } else if self.dialect == SqlDialect::MySql {
            Some('`')
        } else {
            Some('"')
        };
        Ident {
            value: name.to_string(),
            quote_style: quote,
            span: like.span,
        }
    }

    fn qualified(&mut self, qual: &mut Ident, col: &mut Ident) {
        let Some((_, Binding::Table(t))) = self.names.get(&qual.value.to_lowercase()).cloned()
        else {
            return;
        };
        let before = format!("{qual}.{col}");
        if let Some(real) = self.column_in(t, &col.value) {
            if real == col.value || real.eq_ignore_ascii_case(&col.value) {
                return;
            }
            *col = self.ident(real, col);
        } else {
            let holders = self.holders(&col.value);
            let [(bound, real)] = holders.as_slice() else {
                return;
            };
            *qual = Ident {
                value: bound.clone(),
                ..qual.clone()
            };
            *col = self.ident(real, col);
        }
        self.note(format!("`{before}` \u{2192} `{qual}.{col}`"));
    }

    fn unqualified(&mut self, col: &mut Ident) {
        // A quoted name may be a string (SQLite reads "x" as one when no column is `x`).
        if col.quote_style.is_some() || self.opaque {
            // A derived table or a CTE may be where the name comes from.
            return;
        }
        let holders = self.holders(&col.value);
        if holders.is_empty()
            || holders
                .iter()
                .any(|(_, c)| c.eq_ignore_ascii_case(&col.value))
        {
            return;
        }
        // Left unqualified, a name two tables hold would be ambiguous.
        let [(_, real)] = holders.as_slice() else {
            return;
        };
        let before = col.to_string();
        *col = self.ident(real, col);
        self.note(format!("`{before}` \u{2192} `{col}`"));
    }
}

impl VisitorMut for Fix<'_> {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match expr {
            Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
                let (qual, col) = parts.split_at_mut(1);
                self.qualified(&mut qual[0], &mut col[0]);
            }
            Expr::Identifier(col) => self.unqualified(col),
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::table;

    fn schema(dialect: SqlDialect) -> DatabaseSchema {
        DatabaseSchema {
            name: "db".into(),
            dialect,
            tables: vec![
                table("singer", &["Singer_ID", "Name", "Country", "Song_Name"]),
                table("singer_in_concert", &["concert_ID", "Singer_ID"]),
                table("Pets", &["PetID", "PetType", "pet_age", "weight"]),
                table("Has_Pet", &["StuID", "PetID"]),
                table("staff", &["id", "name", "manager_id"]),
            ],
            ..DatabaseSchema::default()
        }
    }

    /// `sql` repaired on SQLite: the new text and the changes, or None.
    fn check(sql: &str, expect: Option<(&str, &[&str])>) {
        check_in(SqlDialect::Sqlite, sql, expect);
    }

    fn check_in(dialect: SqlDialect, sql: &str, expect: Option<(&str, &[&str])>) {
        let got = repair_columns(sql, dialect, &schema(dialect));
        let got = got
            .as_ref()
            .map(|(s, c)| (s.as_str(), c.iter().map(String::as_str).collect::<Vec<_>>()));
        let expect = expect.map(|(s, c)| (s, c.to_vec()));
        assert_eq!(got, expect, "{sql}");
    }

    #[test]
    fn a_column_named_through_the_wrong_alias_moves_to_the_table_that_has_it() {
        check(
            "SELECT T2.Name, T2.Country FROM singer AS T1 JOIN singer_in_concert AS T2 \
             ON T1.Singer_ID = T2.Singer_ID WHERE T2.Song_Name LIKE '%Hey%'",
            Some((
                "SELECT T1.Name, T1.Country FROM singer AS T1 JOIN singer_in_concert AS T2 \
                 ON T1.Singer_ID = T2.Singer_ID WHERE T1.Song_Name LIKE '%Hey%'",
                &[
                    "`T2.Name` → `T1.Name`",
                    "`T2.Country` → `T1.Country`",
                    "`T2.Song_Name` → `T1.Song_Name`",
                ],
            )),
        );
        // Through the table's own name, too.
        check(
            "SELECT MIN(Has_Pet.weight) FROM Pets JOIN Has_Pet ON Pets.PetID = Has_Pet.PetID",
            Some((
                "SELECT MIN(Pets.weight) FROM Pets JOIN Has_Pet ON Pets.PetID = Has_Pet.PetID",
                &["`Has_Pet.weight` → `Pets.weight`"],
            )),
        );
    }

    #[test]
    fn a_column_spelled_another_way_gets_its_own_spelling() {
        check(
            "SELECT pet_type, AVG(pet_age) FROM Pets GROUP BY pet_type",
            Some((
                "SELECT PetType, AVG(pet_age) FROM Pets GROUP BY PetType",
                &["`pet_type` → `PetType`"],
            )),
        );
        check(
            "SELECT p.pet_type FROM Pets AS p",
            Some((
                "SELECT p.PetType FROM Pets AS p",
                &["`p.pet_type` → `p.PetType`"],
            )),
        );
        // PostgreSQL folds unquoted names to lowercase: the real name is quoted.
        check_in(
            SqlDialect::PostgreSql,
            "SELECT pet_type FROM Pets",
            Some((
                "SELECT \"PetType\" FROM Pets",
                &["`pet_type` → `\"PetType\"`"],
            )),
        );
    }

    #[test]
    fn nothing_is_guessed() {
        // Right already.
        check("SELECT T1.Name FROM singer AS T1", None);
        check("SELECT name FROM SINGER", None);
        // No table of the query has it (LName is nowhere; Country is not joined in).
        check("SELECT T2.LName FROM Pets AS T2", None);
        check("SELECT Pets.Country FROM Pets", None);
        // Two readings: both other aliases are the same table, and it has the column.
        check(
            "SELECT p.name FROM Pets AS p JOIN staff AS a ON a.id = p.PetID \
             JOIN staff AS b ON a.manager_id = b.id",
            None,
        );
        // A derived table or a CTE may be where an unqualified name comes from.
        check(
            "SELECT pet_type FROM (SELECT PetType AS pet_type FROM Pets) AS x",
            None,
        );
        check(
            "WITH x AS (SELECT PetType AS pet_type FROM Pets) SELECT pet_type FROM x",
            None,
        );
        // A quoted name may be a string.
        check("SELECT \"pet_type\" FROM Pets", None);
        // Not SQL, or more than one statement.
        check("SELEC pet_type FROM Pets", None);
        check("SELECT pet_type FROM Pets; SELECT 1", None);
    }
}
