//! Every gold query of Spider dev is real read-only SQL over a real schema: all must pass,
//! but for those that show a column neither grouped nor aggregated (SQLite's bare columns,
//! which PostgreSQL refuses and cbi refuses everywhere).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use cbi_nl2sql::{ProblemKind, SqlValidator};
use cbi_types::{
    ColumnSchema, DatabaseSchema, Relationship, RelationshipType, SqlDialect, TableSchema,
};
use serde::Deserialize;

const SPIDER: &str = "/work/shared/datasets/spider";

#[derive(Deserialize)]
struct SpiderDb {
    db_id: String,
    table_names_original: Vec<String>,
    column_names_original: Vec<(i64, String)>,
    column_types: Vec<String>,
    #[serde(default)]
    primary_keys: Vec<serde_json::Value>,
    #[serde(default)]
    foreign_keys: Vec<(usize, usize)>,
}

#[derive(Deserialize)]
struct SpiderExample {
    db_id: String,
    query: String,
}

/// Builds a `DatabaseSchema` from one tables.json entry.
fn schema_of(db: &SpiderDb) -> DatabaseSchema {
    let mut tables: Vec<TableSchema> = db
        .table_names_original
        .iter()
        .map(|name| TableSchema {
            name: name.clone(),
            ..Default::default()
        })
        .collect();
    // Column 0 is Spider's `*`, table -1.
    let mut owner = Vec::new();
    for (i, (table, name)) in db.column_names_original.iter().enumerate() {
        let Ok(t) = usize::try_from(*table) else {
            owner.push(None);
            continue;
        };
        owner.push(Some((t, tables[t].columns.len())));
        tables[t].columns.push(ColumnSchema {
            name: name.clone(),
            data_type: db.column_types.get(i).cloned().unwrap_or_default(),
            nullable: true,
            ..Default::default()
        });
    }
    // A primary key is a column index, or a list of them for composite keys.
    for pk in &db.primary_keys {
        let ids: Vec<usize> = match pk {
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_u64())
                .map(|v| v as usize)
                .collect(),
            v => v.as_u64().map(|v| v as usize).into_iter().collect(),
        };
        for id in ids {
            if let Some(Some((t, c))) = owner.get(id) {
                let col = tables[*t].columns[*c].name.clone();
                tables[*t].primary_key.push(col);
            }
        }
    }
    let relationships = db
        .foreign_keys
        .iter()
        .filter_map(|(from, to)| {
            let (ft, fc) = (*owner.get(*from)?)?;
            let (tt, tc) = (*owner.get(*to)?)?;
            Some(Relationship {
                from_table: tables[ft].name.clone(),
                from_columns: vec![tables[ft].columns[fc].name.clone()],
                to_table: tables[tt].name.clone(),
                to_columns: vec![tables[tt].columns[tc].name.clone()],
                relationship_type: RelationshipType::ManyToOne,
                inferred: false,
            })
        })
        .collect();
    DatabaseSchema {
        name: db.db_id.clone(),
        dialect: SqlDialect::Sqlite,
        tables,
        relationships,
    }
}

fn load<T: for<'de> Deserialize<'de>>(file: &str) -> T {
    let root = std::env::var("CBI_DATASETS")
        .map_or_else(|_| SPIDER.to_string(), |d| format!("{d}/spider"));
    let path = Path::new(&root).join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("Spider dev is expected at {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_spider_dev_gold_query_validates() {
    let dbs: Vec<SpiderDb> = load("tables.json");
    let validators: HashMap<String, SqlValidator> = dbs
        .iter()
        .map(|db| {
            let v = SqlValidator::new(SqlDialect::Sqlite, Arc::new(schema_of(db)));
            (db.db_id.clone(), v)
        })
        .collect();
    let examples: Vec<SpiderExample> = load("dev.json");
    assert_eq!(examples.len(), 1034);
    let mut failures = Vec::new();
    let mut bare = 0;
    for (i, ex) in examples.iter().enumerate() {
        let v = &validators[&ex.db_id];
        match v.validate(&ex.query) {
            Ok(ok) => {
                // The rendered statement must itself validate, unchanged but for the limit.
                let again = v.validate(&ok.sql).unwrap_or_else(|p| {
                    panic!(
                        "#{i} re-validation failed: {}\n{}",
                        cbi_nl2sql::validate::summarize(&p),
                        ok.sql
                    )
                });
                assert!(!again.limit_added, "#{i}: {}", ok.sql);
                assert_eq!(again.sql, ok.sql, "#{i}");
            }
            Err(p) if p.iter().all(|p| p.kind == ProblemKind::UngroupedColumn) => bare += 1,
            Err(p) => failures.push(format!(
                "#{i} [{}] {}\n    {}",
                ex.db_id,
                ex.query,
                cbi_nl2sql::validate::summarize(&p)
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 1034 gold queries refused:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // `SELECT T2.name, count(*) … GROUP BY T1.stadium_id`, `SELECT max(capacity), average
    // FROM stadium`: counted exactly, so a change in the grouping rule shows here.
    assert_eq!(bare, 54, "gold queries with ungrouped columns");
}

/// The other direction: misspell every column name a gold query mentions and the validator
/// must notice. This keeps the resolver from passing Spider by being lenient.
#[test]
fn misspelled_columns_in_spider_gold_queries_are_refused() {
    use sqlparser::dialect::SQLiteDialect;
    use sqlparser::tokenizer::{Token, Tokenizer};

    let dbs: Vec<SpiderDb> = load("tables.json");
    let schemas: HashMap<String, Arc<DatabaseSchema>> = dbs
        .iter()
        .map(|db| (db.db_id.clone(), Arc::new(schema_of(db))))
        .collect();
    let examples: Vec<SpiderExample> = load("dev.json");
    let mut missed = Vec::new();
    let mut mutated = 0;
    for (i, ex) in examples.iter().enumerate() {
        let schema = &schemas[&ex.db_id];
        let is_column = |w: &str| {
            schema
                .tables
                .iter()
                .any(|t| t.columns.iter().any(|c| c.name.eq_ignore_ascii_case(w)))
        };
        let tokens = Tokenizer::new(&SQLiteDialect {}, &ex.query)
            .tokenize()
            .unwrap();
        let mut changed = false;
        let text: String = tokens
            .iter()
            .map(|t| match t {
                Token::Word(w) if w.quote_style.is_none() && is_column(&w.value) => {
                    changed = true;
                    format!("{}_zq", w.value)
                }
                other => other.to_string(),
            })
            .collect();
        if !changed {
            continue;
        }
        mutated += 1;
        let v = SqlValidator::new(SqlDialect::Sqlite, schema.clone());
        match v.validate(&text) {
            Ok(_) => missed.push(format!("#{i} {text}")),
            Err(problems) => {
                let unknown = problems.iter().any(|p| {
                    matches!(
                        p.kind,
                        ProblemKind::UnknownColumn | ProblemKind::UnknownTable
                    )
                });
                if !unknown {
                    missed.push(format!(
                        "#{i} {text}: {}",
                        cbi_nl2sql::validate::summarize(&problems)
                    ));
                }
            }
        }
    }
    assert!(mutated > 950, "only {mutated} queries mention a column");
    assert!(
        missed.is_empty(),
        "{} misspellings not caught:\n{}",
        missed.len(),
        missed.join("\n")
    );
}
