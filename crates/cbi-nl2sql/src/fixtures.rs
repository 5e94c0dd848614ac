//! Schemas written for unit tests.

use std::sync::Arc;

use cbi_types::{
    AugmentedSchema, ColumnSchema, DatabaseSchema, Relationship, RelationshipType, SqlDialect,
    TableSchema, ValueIndex,
};

use crate::index::SchemaIndex;

/// A table of text columns with these names.
pub(crate) fn table(name: &str, cols: &[&str]) -> TableSchema {
    TableSchema {
        name: name.into(),
        columns: cols
            .iter()
            .map(|c| ColumnSchema {
                name: (*c).into(),
                data_type: "text".into(),
                nullable: true,
                ..ColumnSchema::default()
            })
            .collect(),
        ..TableSchema::default()
    }
}

/// A table with typed columns (`"name type"`, `"id integer pk"`; a `!` after the type makes
/// it NOT NULL).
pub(crate) fn typed(name: &str, cols: &[&str]) -> TableSchema {
    let mut t = TableSchema {
        name: name.into(),
        ..TableSchema::default()
    };
    for spec in cols {
        let mut parts = spec.split_whitespace();
        let col = parts.next().unwrap_or_default().to_string();
        let ty = parts.next().unwrap_or("text");
        let pk = parts.next() == Some("pk");
        t.columns.push(ColumnSchema {
            name: col.clone(),
            data_type: ty.trim_end_matches('!').into(),
            nullable: !ty.ends_with('!') && !pk,
            ..ColumnSchema::default()
        });
        if pk {
            t.primary_key.push(col);
        }
    }
    t
}

/// The index over these tables, with the relationships names imply and these cell values
/// (`table.column = value`), as the engine would build it without reading data.
pub(crate) fn index(tables: Vec<TableSchema>, values: &[(&str, &str, &str)]) -> SchemaIndex {
    keyed_index(tables, &[], values)
}

/// [`index`] with declared foreign keys (`"from_table.column"`, `"to_table.column"`).
pub(crate) fn keyed_index(
    tables: Vec<TableSchema>,
    keys: &[(&str, &str)],
    values: &[(&str, &str, &str)],
) -> SchemaIndex {
    let split = |s: &str| {
        let (t, c) = s.split_once('.').unwrap_or((s, ""));
        (t.to_string(), vec![c.to_string()])
    };
    let relationships = keys
        .iter()
        .map(|(from, to)| {
            let ((from_table, from_columns), (to_table, to_columns)) = (split(from), split(to));
            Relationship {
                from_table,
                from_columns,
                to_table,
                to_columns,
                relationship_type: RelationshipType::ManyToOne,
                inferred: false,
            }
        })
        .collect();
    let mut schema = DatabaseSchema {
        dialect: SqlDialect::Sqlite,
        tables,
        relationships,
        ..DatabaseSchema::default()
    };
    cbi_schema::complete(&mut schema, true);
    let mut value_index = ValueIndex::default();
    for (t, c, v) in values {
        value_index.insert(t, c, v);
    }
    SchemaIndex::new(Arc::new(AugmentedSchema {
        schema,
        value_index,
        ..AugmentedSchema::default()
    }))
}

/// `idx` with profiled sample values (`(table, column, values)`, most frequent first, all the
/// column's values), as the augmenter records them from the data.
pub(crate) fn with_samples(idx: SchemaIndex, samples: &[(&str, &str, &[&str])]) -> SchemaIndex {
    let mut aug: AugmentedSchema = (*idx.aug).clone();
    aug.tables = aug
        .schema
        .tables
        .iter()
        .map(|t| cbi_types::TableProfile {
            name: t.name.clone(),
            columns: t
                .columns
                .iter()
                .map(|c| {
                    let values = samples
                        .iter()
                        .find(|(st, sc, _)| *st == t.name && *sc == c.name)
                        .map(|(_, _, v)| *v);
                    cbi_types::ColumnProfile {
                        name: c.name.clone(),
                        samples: values
                            .unwrap_or_default()
                            .iter()
                            .map(|v| v.to_string())
                            .collect(),
                        distinct_count: values.map(|v| v.len() as u64),
                        ..cbi_types::ColumnProfile::default()
                    }
                })
                .collect(),
            ..cbi_types::TableProfile::default()
        })
        .collect();
    for (t, c, values) in samples {
        for v in *values {
            aug.value_index.insert(t, c, v);
        }
    }
    SchemaIndex::new(Arc::new(aug))
}
