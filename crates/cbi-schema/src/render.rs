//! Rendering an augmented schema as text for a language model's prompt, within a size budget.
//!
//! The format is DDL-like, which models read best, with descriptions, sample values and ranges
//! as comments. When the full text does not fit the budget it degrades in steps — fewer
//! samples, then no descriptions, then no samples or ranges, then tables least related to the
//! focus are left out (and said to be) — so the most useful facts survive the longest.

use std::collections::HashSet;
use std::fmt::Write;

use cbi_types::{AugmentedSchema, TableSchema};

/// What to render and how much room there is.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Most characters the text may have (roughly 4 characters a token).
    pub budget_chars: usize,
    /// Tables to keep first, most important first (from schema linking); others follow by how
    /// closely they are related to these.
    pub focus: Vec<String>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            budget_chars: 12_000,
            focus: Vec::new(),
        }
    }
}

#[derive(Clone, Copy)]
struct Detail {
    samples: usize,
    descriptions: bool,
    ranges: bool,
}

const LEVELS: [Detail; 4] = [
    Detail {
        samples: 5,
        descriptions: true,
        ranges: true,
    },
    Detail {
        samples: 3,
        descriptions: true,
        ranges: true,
    },
    Detail {
        samples: 3,
        descriptions: false,
        ranges: true,
    },
    Detail {
        samples: 0,
        descriptions: false,
        ranges: false,
    },
];

/// Renders the schema for a prompt, fitting `opts.budget_chars` whenever at least one table
/// fits.
pub fn render_prompt(aug: &AugmentedSchema, opts: &RenderOptions) -> String {
    let order = table_order(aug, &opts.focus);
    for detail in LEVELS {
        let text = render_tables(aug, &order, detail, order.len());
        if text.len() <= opts.budget_chars {
            return text;
        }
    }
    // Still too long: keep as many tables as fit, in order, at the lowest detail.
    let detail = LEVELS[LEVELS.len() - 1];
    let (mut lo, mut hi) = (1usize, order.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if render_tables(aug, &order, detail, mid).len() <= opts.budget_chars {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    render_tables(aug, &order, detail, lo)
}

/// Table indexes: focus tables first, then by distance from them over relationships, then the
/// rest by name.
fn table_order(aug: &AugmentedSchema, focus: &[String]) -> Vec<usize> {
    let s = &aug.schema;
    let mut order: Vec<usize> = Vec::with_capacity(s.tables.len());
    let mut seen = HashSet::new();
    for f in focus {
        if let Some(i) = s.table_index(f) {
            if seen.insert(i) {
                order.push(i);
            }
        }
    }
    let mut frontier = order.clone();
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for &i in &frontier {
            let name = &s.tables[i].name;
            let mut neighbours: Vec<usize> = s
                .relationships_of(name)
                .filter_map(|r| {
                    let other = if r.from_table.eq_ignore_ascii_case(name) {
                        &r.to_table
                    } else {
                        &r.from_table
                    };
                    s.table_index(other)
                })
                .collect();
            neighbours.sort_by(|a, b| s.tables[*a].name.cmp(&s.tables[*b].name));
            for n in neighbours {
                if seen.insert(n) {
                    order.push(n);
                    next.push(n);
                }
            }
        }
        frontier = next;
    }
    let mut rest: Vec<usize> = (0..s.tables.len()).filter(|i| !seen.contains(i)).collect();
    rest.sort_by(|a, b| s.tables[*a].name.cmp(&s.tables[*b].name));
    order.extend(rest);
    order
}

fn render_tables(aug: &AugmentedSchema, order: &[usize], detail: Detail, take: usize) -> String {
    let s = &aug.schema;
    let d = s.dialect;
    let mut out = String::new();
    let _ = writeln!(out, "-- Database `{}` ({} dialect)", s.name, d.name());
    for &ti in order.iter().take(take) {
        let t = &s.tables[ti];
        let p = aug.tables.get(ti);
        let mut head = format!("CREATE TABLE {} (", d.ident(&t.name));
        let mut notes = Vec::new();
        if detail.descriptions {
            if let Some(p) = p {
                if !is_restatement(&p.description, &t.name) {
                    notes.push(p.description.clone());
                }
            }
        }
        if let Some(n) = t.row_count {
            notes.push(format!("~{n} rows"));
        }
        if t.kind == cbi_types::TableKind::View {
            notes.insert(0, "view".into());
        }
        if !notes.is_empty() {
            let _ = write!(head, " -- {}", notes.join("; "));
        }
        out.push_str(&head);
        out.push('\n');
        let n = t.columns.len();
        for (ci, c) in t.columns.iter().enumerate() {
            let mut line = format!("  {} {}", d.ident(&c.name), c.data_type);
            if t.primary_key.len() == 1 && t.primary_key[0].eq_ignore_ascii_case(&c.name) {
                line.push_str(" PRIMARY KEY");
            }
            if let Some((rt, rc)) = reference(t, &c.name, aug) {
                let _ = write!(line, " REFERENCES {}({})", d.ident(&rt), d.ident(&rc));
            }
            let needs_comma = ci + 1 < n || t.primary_key.len() > 1;
            if needs_comma {
                line.push(',');
            }
            let mut comments = Vec::new();
            if let Some(cp) = p.and_then(|p| p.columns.get(ci)) {
                if detail.descriptions && !is_restatement(&cp.description, &c.name) {
                    comments.push(cp.description.clone());
                }
                // Unique values are names or ids, noise in a prompt, unless there are only a few
                // of them (the five regions, the twelve categories): then they are the values.
                let few = cp.distinct_count.is_some_and(|k| k <= 12);
                if detail.samples > 0 && !cp.samples.is_empty() && (!cp.unique || few) {
                    let vals: Vec<String> = cp
                        .samples
                        .iter()
                        .take(detail.samples)
                        .map(|v| format!("'{}'", v.replace('\'', "''")))
                        .collect();
                    let more = match cp.distinct_count {
                        Some(k) if k as usize > vals.len() => format!(" ({k} distinct)"),
                        None => " (many distinct)".to_string(),
                        _ => String::new(),
                    };
                    comments.push(format!("e.g. {}{more}", vals.join(", ")));
                }
                if detail.ranges {
                    if let (Some(lo), Some(hi)) = (&cp.min, &cp.max) {
                        comments.push(format!("{lo} .. {hi}"));
                    }
                }
            }
            if !comments.is_empty() {
                let _ = write!(line, " -- {}", comments.join("; "));
            }
            out.push_str(&line);
            out.push('\n');
        }
        if t.primary_key.len() > 1 {
            let cols: Vec<String> = t.primary_key.iter().map(|c| d.ident(c)).collect();
            let _ = writeln!(out, "  PRIMARY KEY ({})", cols.join(", "));
        }
        out.push_str(");\n");
    }
    if take < order.len() {
        let rest: Vec<&str> = order[take..]
            .iter()
            .map(|&i| s.tables[i].name.as_str())
            .collect();
        let _ = writeln!(
            out,
            "-- {} more tables not shown: {}",
            rest.len(),
            truncate_list(&rest, 20)
        );
    }
    out
}

fn truncate_list(items: &[&str], max: usize) -> String {
    if items.len() <= max {
        items.join(", ")
    } else {
        format!("{}, …", items[..max].join(", "))
    }
}

/// The single-column relationship leaving `table.column`, if any.
fn reference(t: &TableSchema, column: &str, aug: &AugmentedSchema) -> Option<(String, String)> {
    aug.schema
        .relationships
        .iter()
        .find(|r| {
            r.from_table.eq_ignore_ascii_case(&t.name)
                && r.from_columns.len() == 1
                && r.from_columns[0].eq_ignore_ascii_case(column)
        })
        .map(|r| (r.to_table.clone(), r.to_columns[0].clone()))
}

/// Whether a description only repeats the identifier ("Order items" for `order_items`).
fn is_restatement(description: &str, ident: &str) -> bool {
    let a: String = description
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let b: String = crate::names::readable_name(ident)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    let raw: String = ident
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    a == b || a == raw
}

#[cfg(test)]
mod tests {
    use cbi_types::{
        ColumnProfile, ColumnSchema, DatabaseSchema, Relationship, RelationshipType, TableProfile,
    };

    use super::*;

    fn aug() -> AugmentedSchema {
        let col = |n: &str, t: &str| ColumnSchema {
            name: n.into(),
            data_type: t.into(),
            ..Default::default()
        };
        let schema = DatabaseSchema {
            name: "shop".into(),
            tables: vec![
                TableSchema {
                    name: "customers".into(),
                    columns: vec![col("customer_id", "INTEGER"), col("name", "TEXT")],
                    primary_key: vec!["customer_id".into()],
                    row_count: Some(3),
                    ..Default::default()
                },
                TableSchema {
                    name: "orders".into(),
                    columns: vec![
                        col("order_id", "INTEGER"),
                        col("customer_id", "INTEGER"),
                        col("status", "TEXT"),
                        col("order_date", "DATE"),
                    ],
                    primary_key: vec!["order_id".into()],
                    row_count: Some(10),
                    ..Default::default()
                },
                TableSchema {
                    name: "audit_log".into(),
                    columns: vec![col("entry", "TEXT")],
                    ..Default::default()
                },
            ],
            relationships: vec![Relationship {
                from_table: "orders".into(),
                from_columns: vec!["customer_id".into()],
                to_table: "customers".into(),
                to_columns: vec!["customer_id".into()],
                relationship_type: RelationshipType::ManyToOne,
                inferred: false,
            }],
            ..Default::default()
        };
        let profile = |t: &TableSchema, desc: &str| TableProfile {
            name: t.name.clone(),
            description: desc.into(),
            synonyms: vec![],
            columns: t
                .columns
                .iter()
                .map(|c| ColumnProfile {
                    name: c.name.clone(),
                    description: crate::names::describe(&c.name),
                    ..Default::default()
                })
                .collect(),
        };
        let mut tables = vec![
            profile(&schema.tables[0], "People who buy"),
            profile(&schema.tables[1], "Orders"),
            profile(&schema.tables[2], "Audit log"),
        ];
        tables[1].columns[2].samples = vec!["completed".into(), "it's shipped".into()];
        tables[1].columns[2].distinct_count = Some(4);
        tables[1].columns[3].min = Some("2022-01-01".into());
        tables[1].columns[3].max = Some("2024-12-31".into());
        AugmentedSchema {
            schema,
            tables,
            ..Default::default()
        }
    }

    #[test]
    fn full_rendering() {
        let text = render_prompt(
            &aug(),
            &RenderOptions {
                budget_chars: 10_000,
                focus: vec!["orders".into()],
            },
        );
        insta::assert_snapshot!(text);
    }

    #[test]
    fn degrades_within_budget_keeping_focus_first() {
        let a = aug();
        let full = render_prompt(
            &a,
            &RenderOptions {
                budget_chars: 10_000,
                focus: vec![],
            },
        );
        for budget in [full.len() - 1, 300, 250] {
            let text = render_prompt(
                &a,
                &RenderOptions {
                    budget_chars: budget,
                    focus: vec!["orders".into()],
                },
            );
            assert!(
                text.len() <= budget,
                "budget {budget}: {} chars\n{text}",
                text.len()
            );
            assert!(text.contains("CREATE TABLE orders"), "{text}");
        }
        let tiny = render_prompt(
            &a,
            &RenderOptions {
                budget_chars: 250,
                focus: vec!["orders".into()],
            },
        );
        assert!(tiny.contains("more tables not shown"), "{tiny}");
        assert!(!tiny.contains("e.g."), "{tiny}");
    }
}
