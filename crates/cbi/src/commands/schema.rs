//! `cbi schema`: what the database holds, as cbi understands it.
//!
//! The catalog is read through cbi-schema's introspector (declared keys plus relationships
//! inferred from names), checked against the semantic file when there is one (`--semantic`,
//! the config's, or the one beside a SQLite file: see [`crate::semantic`]), and augmented
//! with sample values and ranges (unless `--no-samples`). The readable view is what a person
//! needs to write a question or a query; `--json` is the whole [`AugmentedSchema`] for programs.

use std::io::Write;
use std::time::Instant;

use cbi_schema::{AugmentOptions, SchemaAugmenter, SchemaIntrospector};
use cbi_types::{
    AugmentedSchema, ColumnProfile, ColumnSchema, Relationship, RelationshipType, SemanticModel,
    TableKind, TableSchema,
};
use comfy_table::Cell;

use super::{Context, Opened};
use crate::cli::SchemaArgs;
use crate::output::{duration, new_table, thousands};

/// Sample values shown per column in the readable view.
const SHOWN_SAMPLES: usize = 3;
/// Longest sample value shown; longer ones are elided.
const SAMPLE_CHARS: usize = 24;

pub async fn run(ctx: &Context, args: SchemaArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let Opened { conn, url } = ctx.open().await?;
    let start = Instant::now();
    let schema = SchemaIntrospector::new(conn.clone()).introspect().await?;
    let semantic_path = ctx.semantic_file(args.semantic.as_deref(), &url);
    let semantic = match &semantic_path {
        Some(path) => {
            let model = cbi_schema::load_semantic(path)?;
            cbi_schema::check_semantic(&model, &schema, path)?;
            tracing::info!(path = %path.display(), "semantic file loaded");
            model
        }
        None => SemanticModel::default(),
    };
    let augmenter = SchemaAugmenter::new(AugmentOptions {
        profile_data: !args.no_samples,
        ..AugmentOptions::default()
    });
    let aug = augmenter.augment(conn.as_ref(), schema, semantic).await?;
    let elapsed = start.elapsed();

    if args.json {
        serde_json::to_writer_pretty(&mut *out, &aug)?;
        writeln!(out)?;
    } else {
        let view = render(&aug, &duration(elapsed), !args.no_samples);
        write!(out, "{view}")?;
        let internal = internal_tables(conn.as_ref()).await;
        if !internal.is_empty() {
            writeln!(
                out,
                "\nSQLite's own bookkeeping tables, not used for questions: {}",
                internal.join(", ")
            )?;
        }
    }
    Ok(())
}

/// SQLite's internal tables (`sqlite_sequence`, `sqlite_stat1`), which introspection leaves out
/// on purpose; named so nobody wonders where they went. Empty for other databases.
async fn internal_tables(conn: &dyn cbi_types::Connection) -> Vec<String> {
    if conn.dialect() != cbi_types::SqlDialect::Sqlite {
        return Vec::new();
    }
    let sql =
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'sqlite%' ORDER BY name";
    match conn.query(sql, cbi_types::QueryLimits::rows(100)).await {
        Ok(r) => r
            .rows
            .iter()
            .filter_map(|row| row.first().and_then(|v| v.as_str()).map(str::to_string))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The readable view: a header line, one block per table, then the relationships. The `values`
/// column (samples, ranges) is left out when the data was not profiled.
pub fn render(aug: &AugmentedSchema, took: &str, show_values: bool) -> String {
    let s = &aug.schema;
    let mut text = format!(
        "Database {} ({}): {}, {}, read in {took}\n",
        s.name,
        s.dialect.name(),
        count(s.tables.len(), "table", "tables"),
        count(s.relationships.len(), "relationship", "relationships"),
    );
    for (i, table) in s.tables.iter().enumerate() {
        text.push('\n');
        text.push_str(&table_title(table));
        text.push('\n');
        if let Some(desc) = given_description(aug, table) {
            text.push_str(&format!("  {desc}\n"));
        }
        let mut t = new_table();
        let mut header = vec!["column", "type", "null", "key"];
        if show_values {
            header.push("values");
        }
        t.set_header(header);
        for (c, col) in table.columns.iter().enumerate() {
            let mut row = vec![
                Cell::new(&col.name),
                Cell::new(&col.data_type),
                Cell::new(if col.nullable { "yes" } else { "no" }),
                Cell::new(key_markers(table, col, &s.relationships)),
            ];
            if show_values {
                let profile = aug.tables.get(i).and_then(|p| p.columns.get(c));
                row.push(Cell::new(profile.map(values_summary).unwrap_or_default()));
            }
            t.add_row(row);
        }
        text.push_str(&t.to_string());
        text.push('\n');
    }
    if !s.relationships.is_empty() {
        text.push_str("\nRelationships\n");
        let mut t = new_table();
        t.set_header(["from", "to", "cardinality", "source"]);
        for r in &s.relationships {
            t.add_row([
                Cell::new(qualified(&r.from_table, &r.from_columns)),
                Cell::new(qualified(&r.to_table, &r.to_columns)),
                Cell::new(cardinality(r.relationship_type)),
                Cell::new(if r.inferred { "inferred" } else { "declared" }),
            ]);
        }
        text.push_str(&t.to_string());
        text.push('\n');
    }
    text
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `city (~4,079 rows)`; views and tables without statistics say what they can.
fn table_title(t: &TableSchema) -> String {
    let name = match &t.schema {
        Some(ns) => format!("{ns}.{}", t.name),
        None => t.name.clone(),
    };
    let mut notes = Vec::new();
    if t.kind == TableKind::View {
        notes.push("view".to_string());
    }
    if let Some(n) = t.row_count {
        let rows = if n == 1 { "row" } else { "rows" };
        notes.push(format!("~{} {rows}", thousands(n)));
    }
    if notes.is_empty() {
        name
    } else {
        format!("{name} ({})", notes.join(", "))
    }
}

/// A description someone wrote (a catalog comment or the semantic file), not one derived from
/// the name, which would only repeat it.
fn given_description<'a>(aug: &'a AugmentedSchema, t: &'a TableSchema) -> Option<&'a str> {
    let from_semantic = aug
        .semantic
        .tables
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(&t.name))
        .and_then(|(_, st)| st.description.as_deref());
    from_semantic
        .or(t.comment.as_deref())
        .map(str::trim)
        .filter(|d| !d.is_empty())
}

/// `PK`, `UQ`, `FK → table.column` (declared) or `FK → table.column (inferred)`.
fn key_markers(table: &TableSchema, col: &ColumnSchema, rels: &[Relationship]) -> String {
    let mut marks = Vec::new();
    if table.is_primary_key(&col.name) {
        marks.push("PK".to_string());
    } else if table.indexes.iter().any(|ix| {
        ix.unique && ix.columns.len() == 1 && ix.columns[0].eq_ignore_ascii_case(&col.name)
    }) {
        marks.push("UQ".to_string());
    }
    for r in rels
        .iter()
        .filter(|r| r.from_table.eq_ignore_ascii_case(&table.name))
    {
        let Some(k) = r
            .from_columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(&col.name))
        else {
            continue;
        };
        let Some(to) = r.to_columns.get(k) else {
            continue;
        };
        let how = if r.inferred { " (inferred)" } else { "" };
        marks.push(format!("FK → {}.{to}{how}", r.to_table));
    }
    marks.join(", ")
}

/// A range (`1 … 4079`) for numbers and dates, a few frequent values for the rest, with the
/// number of distinct values when it was measured.
fn values_summary(p: &ColumnProfile) -> String {
    let mut s = match (&p.min, &p.max) {
        (Some(min), Some(max)) if min == max => elide(min),
        (Some(min), Some(max)) => format!("{} … {}", elide(min), elide(max)),
        _ => {
            let shown: Vec<String> = p
                .samples
                .iter()
                .take(SHOWN_SAMPLES)
                .map(|v| elide(v))
                .collect();
            let more = p.samples.len() > SHOWN_SAMPLES
                || p.distinct_count.is_some_and(|d| d > shown.len() as u64);
            let mut s = shown.join(", ");
            if more && !s.is_empty() {
                s.push_str(", …");
            }
            s
        }
    };
    if let Some(d) = p.distinct_count {
        if !s.is_empty() {
            s.push_str(&format!(" ({} distinct)", thousands(d)));
        }
    }
    s
}

fn elide(v: &str) -> String {
    let one_line = v.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > SAMPLE_CHARS {
        let mut cut: String = one_line.chars().take(SAMPLE_CHARS - 1).collect();
        cut.push('…');
        cut
    } else {
        one_line
    }
}

fn qualified(table: &str, columns: &[String]) -> String {
    match columns {
        [one] => format!("{table}.{one}"),
        many => format!("{table}.({})", many.join(", ")),
    }
}

fn cardinality(t: RelationshipType) -> &'static str {
    match t {
        RelationshipType::OneToOne => "one-to-one",
        RelationshipType::ManyToOne => "many-to-one",
        RelationshipType::OneToMany => "one-to-many",
        RelationshipType::ManyToMany => "many-to-many",
    }
}

#[cfg(test)]
mod tests {
    use cbi_types::{DatabaseSchema, IndexSchema, SqlDialect, TableProfile};

    use super::*;

    fn col(name: &str, ty: &str, nullable: bool) -> ColumnSchema {
        ColumnSchema {
            name: name.into(),
            data_type: ty.into(),
            nullable,
            ..Default::default()
        }
    }

    fn sample() -> AugmentedSchema {
        let orders = TableSchema {
            name: "orders".into(),
            columns: vec![
                col("id", "INTEGER", false),
                col("customer_id", "INTEGER", false),
                col("status", "TEXT", true),
                col("code", "TEXT", false),
            ],
            primary_key: vec!["id".into()],
            indexes: vec![IndexSchema {
                name: "u".into(),
                columns: vec!["code".into()],
                unique: true,
            }],
            row_count: Some(12_345),
            comment: Some("One row per order.".into()),
            ..Default::default()
        };
        let customers = TableSchema {
            name: "customers".into(),
            columns: vec![col("customer_id", "INTEGER", false)],
            primary_key: vec!["customer_id".into()],
            kind: TableKind::View,
            ..Default::default()
        };
        let schema = DatabaseSchema {
            name: "shop".into(),
            dialect: SqlDialect::Sqlite,
            tables: vec![orders, customers],
            relationships: vec![Relationship {
                from_table: "orders".into(),
                from_columns: vec!["customer_id".into()],
                to_table: "customers".into(),
                to_columns: vec!["customer_id".into()],
                relationship_type: RelationshipType::ManyToOne,
                inferred: true,
            }],
        };
        let status = ColumnProfile {
            name: "status".into(),
            samples: vec![
                "delivered".into(),
                "shipped".into(),
                "x".repeat(40),
                "d".into(),
            ],
            distinct_count: Some(4),
            ..Default::default()
        };
        let id = ColumnProfile {
            name: "id".into(),
            min: Some("1".into()),
            max: Some("12345".into()),
            ..Default::default()
        };
        AugmentedSchema {
            tables: vec![
                TableProfile {
                    name: "orders".into(),
                    columns: vec![
                        id,
                        ColumnProfile::default(),
                        status,
                        ColumnProfile::default(),
                    ],
                    ..Default::default()
                },
                TableProfile::default(),
            ],
            schema,
            ..Default::default()
        }
    }

    #[test]
    fn readable_view() {
        let text = render(&sample(), "5 ms", true);
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("Database shop (sqlite): 2 tables, 1 relationship, read in 5 ms")
        );
        assert!(
            text.contains("\norders (~12,345 rows)\n  One row per order.\n"),
            "{text}"
        );
        assert!(text.contains("\ncustomers (view)\n"), "{text}");
        let row = |name: &str| {
            text.lines()
                .find(|l| l.contains(&format!(" {name} ")))
                .unwrap_or_else(|| panic!("no row for {name} in\n{text}"))
                .to_string()
        };
        assert!(
            row("id").contains("PK") && row("id").contains("1 … 12345"),
            "{text}"
        );
        assert!(row("customer_id").contains("FK → customers.customer_id (inferred)"));
        assert!(row("code").contains("UQ"));
        let status = row("status");
        assert!(status.contains("yes"), "{status}");
        assert!(
            status.contains(&format!(
                "delivered, shipped, {}…, … (4 distinct)",
                "x".repeat(23)
            )),
            "{status}"
        );
        assert!(text.contains("orders.customer_id"), "{text}");
        assert!(text.contains("many-to-one") && text.contains("inferred"));

        let names_only = render(&sample(), "5 ms", false);
        assert!(!names_only.contains("values") && !names_only.contains("delivered"));
        assert!(names_only.contains("FK → customers.customer_id (inferred)"));
    }
}
