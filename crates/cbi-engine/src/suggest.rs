//! First questions to offer a person who has asked nothing yet, drawn from the schema they may
//! see: the semantic file's verified questions, then each business measure by a grouping
//! column and by month, then counts of the largest tables. The engine keeps only those its
//! embedded generator answers confidently and its validator accepts for that person, so a
//! suggestion never names a hidden table or column and never fails when clicked.

use cbi_schema::names::readable_name;
use cbi_types::{AugmentedSchema, TermTarget, TypeClass};

/// The question shapes, as data. `{measure}`, `{dimension}` and `{table}` are filled in.
pub(crate) const SHAPES: Shapes = Shapes {
    measure_by_dimension: "{measure} by {dimension}",
    measure_by_month: "{measure} by month",
    count_table: "How many {table} are there?",
};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Shapes {
    pub(crate) measure_by_dimension: &'static str,
    pub(crate) measure_by_month: &'static str,
    pub(crate) count_table: &'static str,
}

/// A grouping column has at least this many and at most this many distinct values.
const DIMENSION_VALUES: std::ops::RangeInclusive<u64> = 2..=12;

/// Where a candidate came from: a verified question needs only the validator's check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A verified question and its SQL.
    Verified(String),
    /// A question built from a shape; `group` names the measure or table it is about, so
    /// the chosen few are about different things.
    Shaped { group: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub(crate) question: String,
    pub(crate) source: Source,
}

/// Every candidate, best first.
pub(crate) fn candidates(schema: &AugmentedSchema) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = schema
        .semantic
        .verified_queries
        .iter()
        .map(|q| Candidate {
            question: q.question.clone(),
            source: Source::Verified(q.sql.clone()),
        })
        .collect();
    let measures: Vec<&str> = schema
        .semantic
        .business_terms
        .iter()
        .filter(|t| matches!(t.target, TermTarget::Measure(_)))
        .map(|t| t.name.as_str())
        .collect();
    let dimensions = dimensions(schema);
    let has_dates = schema
        .schema
        .tables
        .iter()
        .flat_map(|t| &t.columns)
        .any(|c| is_temporal(&c.data_type));
    for m in &measures {
        let group = m.to_string();
        for d in &dimensions {
            out.push(shaped(
                SHAPES
                    .measure_by_dimension
                    .replace("{measure}", &capitalize(m))
                    .replace("{dimension}", d),
                &group,
            ));
        }
        if has_dates {
            out.push(shaped(
                SHAPES.measure_by_month.replace("{measure}", &capitalize(m)),
                &group,
            ));
        }
    }
    let mut tables: Vec<_> = schema.schema.tables.iter().collect();
    tables.sort_by_key(|t| std::cmp::Reverse(t.row_count.unwrap_or(0)));
    for t in tables {
        let name = readable_name(&t.name);
        out.push(shaped(
            SHAPES.count_table.replace("{table}", &name),
            &t.name,
        ));
    }
    out
}

fn shaped(question: String, group: &str) -> Candidate {
    Candidate {
        question,
        source: Source::Shaped {
            group: group.to_string(),
        },
    }
}

/// Readable names of the columns worth grouping by: text with a few distinct values, not
/// a key. Most rows first, one per name.
fn dimensions(schema: &AugmentedSchema) -> Vec<String> {
    let mut found: Vec<(u64, String)> = Vec::new();
    for (t, profile) in schema.schema.tables.iter().zip(&schema.tables) {
        for (c, p) in t.columns.iter().zip(&profile.columns) {
            let is_key = t.primary_key.iter().any(|k| k == &c.name)
                || c.name.to_ascii_lowercase().ends_with("_id");
            let few = p
                .distinct_count
                .is_some_and(|n| DIMENSION_VALUES.contains(&n));
            if is_key || !few || p.unique || !is_text(&c.data_type) {
                continue;
            }
            // "name" of table `regions` reads as "region".
            let name = if c.name.eq_ignore_ascii_case("name") {
                readable_name(&cbi_schema::names::singular(&t.name))
            } else {
                readable_name(&c.name)
            };
            if !found.iter().any(|(_, n)| n == &name) {
                found.push((t.row_count.unwrap_or(0), name));
            }
        }
    }
    found.sort_by_key(|(rows, _)| std::cmp::Reverse(*rows));
    found.into_iter().map(|(_, n)| n).collect()
}

fn is_text(data_type: &str) -> bool {
    TypeClass::of(data_type) == TypeClass::Text
}

fn is_temporal(data_type: &str) -> bool {
    matches!(
        TypeClass::of(data_type),
        TypeClass::Date | TypeClass::Timestamp
    )
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Chooses up to `limit` accepted candidates, at most one per measure or table, so the few
/// shown are about different things.
#[derive(Debug)]
pub(crate) struct Picker {
    limit: usize,
    groups: std::collections::HashSet<String>,
    chosen: Vec<String>,
}

impl Picker {
    pub(crate) fn new(limit: usize) -> Self {
        Picker {
            limit,
            groups: Default::default(),
            chosen: Vec::new(),
        }
    }

    /// Whether `c` would be chosen if it is accepted (so it is worth checking).
    pub(crate) fn wants(&self, c: &Candidate) -> bool {
        self.chosen.len() < self.limit
            && !self.chosen.contains(&c.question)
            && match &c.source {
                Source::Shaped { group } => !self.groups.contains(group),
                Source::Verified(_) => true,
            }
    }

    pub(crate) fn take(&mut self, c: Candidate) {
        if let Source::Shaped { group } = c.source {
            self.groups.insert(group);
        }
        self.chosen.push(c.question);
    }

    pub(crate) fn is_full(&self) -> bool {
        self.chosen.len() >= self.limit
    }

    pub(crate) fn finish(self) -> Vec<String> {
        self.chosen
    }
}

#[cfg(test)]
mod tests {
    use cbi_types::{
        BusinessTerm, ColumnProfile, ColumnSchema, DatabaseSchema, SemanticModel, SqlDialect,
        TableProfile, TableSchema, VerifiedQuery,
    };

    use super::*;

    fn column(name: &str, ty: &str) -> ColumnSchema {
        ColumnSchema {
            name: name.into(),
            data_type: ty.into(),
            ..ColumnSchema::default()
        }
    }

    fn profile(name: &str, distinct: u64, unique: bool) -> ColumnProfile {
        ColumnProfile {
            name: name.into(),
            distinct_count: Some(distinct),
            unique,
            ..ColumnProfile::default()
        }
    }

    fn shop() -> AugmentedSchema {
        let regions = TableSchema {
            name: "regions".into(),
            columns: vec![column("region_id", "INTEGER"), column("name", "TEXT")],
            primary_key: vec!["region_id".into()],
            row_count: Some(4),
            ..TableSchema::default()
        };
        let orders = TableSchema {
            name: "orders".into(),
            columns: vec![
                column("order_id", "INTEGER"),
                column("status", "VARCHAR(20)"),
                column("email", "TEXT"),
                column("order_date", "DATE"),
            ],
            primary_key: vec!["order_id".into()],
            row_count: Some(1000),
            ..TableSchema::default()
        };
        AugmentedSchema {
            schema: DatabaseSchema {
                name: "shop".into(),
                dialect: SqlDialect::Sqlite,
                tables: vec![regions, orders],
                ..DatabaseSchema::default()
            },
            tables: vec![
                TableProfile {
                    name: "regions".into(),
                    columns: vec![profile("region_id", 4, true), profile("name", 4, false)],
                    ..TableProfile::default()
                },
                TableProfile {
                    name: "orders".into(),
                    columns: vec![
                        profile("order_id", 1000, true),
                        profile("status", 3, false),
                        profile("email", 900, false),
                        profile("order_date", 365, false),
                    ],
                    ..TableProfile::default()
                },
            ],
            semantic: SemanticModel {
                business_terms: vec![BusinessTerm {
                    name: "revenue".into(),
                    synonyms: vec![],
                    description: None,
                    target: TermTarget::Measure("SUM(orders.total)".into()),
                }],
                verified_queries: vec![VerifiedQuery {
                    question: "Revenue in 2024?".into(),
                    sql: "SELECT 1".into(),
                    description: None,
                }],
                ..SemanticModel::default()
            },
            ..AugmentedSchema::default()
        }
    }

    #[test]
    fn candidates_come_verified_first_then_measures_then_counts() {
        let got: Vec<String> = candidates(&shop())
            .into_iter()
            .map(|c| c.question)
            .collect();
        assert_eq!(
            got,
            [
                "Revenue in 2024?",
                "Revenue by status",
                "Revenue by region",
                "Revenue by month",
                "How many orders are there?",
                "How many regions are there?",
            ]
        );
    }

    #[test]
    fn keys_wide_and_unique_columns_are_no_dimension() {
        assert_eq!(dimensions(&shop()), ["status", "region"]);
    }

    #[test]
    fn the_picker_takes_one_question_per_measure_or_table() {
        let mut p = Picker::new(3);
        for c in candidates(&shop()) {
            if p.wants(&c) {
                p.take(c);
            }
        }
        assert!(p.is_full());
        let picked = p.finish();
        assert_eq!(
            picked,
            [
                "Revenue in 2024?",
                "Revenue by status",
                "How many orders are there?"
            ]
        );
    }
}
