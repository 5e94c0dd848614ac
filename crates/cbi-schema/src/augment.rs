//! Augmentation: descriptions, synonyms, value profiles and the value index, built from the
//! catalog, a few cheap aggregate queries and the user's semantic file.

use std::time::Duration;

use cbi_types::{
    AugmentedSchema, ColumnProfile, Connection, DatabaseSchema, QueryLimits, SemanticModel,
    TableProfile, TableSchema, TypeClass, Value, ValueIndex,
};
use futures::stream::{self, StreamExt};
use sha2::{Digest, Sha256};

use crate::Result;
use crate::names::{describe, plural, readable_name, singular};

/// How much the augmenter may look at the data.
#[derive(Debug, Clone)]
pub struct AugmentOptions {
    /// Sample values kept per column, most frequent first.
    pub samples: usize,
    /// Text columns with more distinct values than this are not put in the value index (they
    /// are names, emails, free text).
    pub index_max_distinct: usize,
    /// Upper bound on the number of values indexed over the whole database.
    pub index_max_values: usize,
    /// Longer values are not indexed (descriptions, comments).
    pub index_max_len: usize,
    /// Time limit of each profiling query; a column whose query runs out is simply not profiled.
    pub query_timeout: Duration,
    /// Tables profiled at once.
    pub concurrency: usize,
    /// False: no data is read at all, only names are used.
    pub profile_data: bool,
}

impl Default for AugmentOptions {
    fn default() -> Self {
        AugmentOptions {
            samples: 5,
            index_max_distinct: 20_000,
            index_max_values: 500_000,
            index_max_len: 80,
            query_timeout: Duration::from_secs(10),
            concurrency: 4,
            profile_data: true,
        }
    }
}

/// Builds an [`AugmentedSchema`] from a schema, its database and a semantic model.
#[derive(Debug, Clone, Default)]
pub struct SchemaAugmenter {
    opts: AugmentOptions,
}

impl SchemaAugmenter {
    pub fn new(opts: AugmentOptions) -> Self {
        SchemaAugmenter { opts }
    }

    pub fn options(&self) -> &AugmentOptions {
        &self.opts
    }

    /// Augments `schema`. Profiling queries run read-only through `conn` under the options'
    /// time limit; a failed or slow profiling query only leaves that column without samples.
    pub async fn augment(
        &self,
        conn: &dyn Connection,
        schema: DatabaseSchema,
        semantic: SemanticModel,
    ) -> Result<AugmentedSchema> {
        let fingerprint = fingerprint(&schema);
        let profiled: Vec<(TableProfile, Vec<IndexedColumn>)> = if self.opts.profile_data {
            // Indexes, not references, so the futures stay `Send` for any caller.
            stream::iter(0..schema.tables.len())
                .map(|i| self.profile_table(conn, &schema, &schema.tables[i]))
                .buffered(self.opts.concurrency.max(1))
                .collect()
                .await
        } else {
            schema
                .tables
                .iter()
                .map(|t| (name_only_profile(t), Vec::new()))
                .collect()
        };
        let mut value_index = ValueIndex::default();
        let mut indexed = 0usize;
        let mut tables = Vec::with_capacity(profiled.len());
        for (profile, columns) in profiled {
            for col in columns {
                if indexed + col.values.len() > self.opts.index_max_values {
                    tracing::debug!(table = %profile.name, column = %col.column, "value index full");
                    continue;
                }
                indexed += col.values.len();
                for v in &col.values {
                    value_index.insert(&profile.name, &col.column, v);
                }
            }
            tables.push(profile);
        }
        let mut aug = AugmentedSchema {
            tables,
            value_index,
            fingerprint,
            semantic,
            schema,
        };
        apply_semantic(&mut aug);
        Ok(aug)
    }

    async fn profile_table(
        &self,
        conn: &dyn Connection,
        schema: &DatabaseSchema,
        table: &TableSchema,
    ) -> (TableProfile, Vec<IndexedColumn>) {
        let mut profile = name_only_profile(table);
        let mut indexed = Vec::new();
        let d = schema.dialect;
        let from = match &table.schema {
            Some(ns) => format!("{}.{}", d.quote_ident(ns), d.quote_ident(&table.name)),
            None => d.quote_ident(&table.name),
        };
        let limits = |rows| QueryLimits::rows(rows).with_timeout(self.opts.query_timeout);
        // One scan for the range of every numeric and temporal column.
        let ranged: Vec<usize> = table
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                let k = c.type_class();
                k.is_numeric() || k.is_temporal()
            })
            .map(|(i, _)| i)
            .collect();
        if !ranged.is_empty() {
            let exprs: Vec<String> = ranged
                .iter()
                .flat_map(|&i| {
                    let c = d.quote_ident(&table.columns[i].name);
                    [format!("MIN({c})"), format!("MAX({c})")]
                })
                .collect();
            let sql = format!("SELECT {} FROM {from}", exprs.join(", "));
            match conn.query(&sql, limits(1)).await {
                Ok(r) => {
                    if let Some(row) = r.rows.first() {
                        for (k, &i) in ranged.iter().enumerate() {
                            let p = &mut profile.columns[i];
                            p.min = row.get(2 * k).and_then(render);
                            p.max = row.get(2 * k + 1).and_then(render);
                        }
                    }
                }
                Err(e) => {
                    tracing::debug!(table = %table.name, error = %e, "range profiling skipped")
                }
            }
        }
        // Value frequencies of text-like columns: samples, distinct counts, the value index.
        for (i, col) in table.columns.iter().enumerate() {
            if !matches!(
                col.type_class(),
                TypeClass::Text | TypeClass::Other | TypeClass::Boolean
            ) {
                continue;
            }
            let c = d.quote_ident(&col.name);
            let cap = self.opts.index_max_distinct + 1;
            let sql = format!(
                "SELECT {c}, COUNT(*) AS n FROM {from} WHERE {c} IS NOT NULL GROUP BY {c} ORDER BY n DESC, {c} LIMIT {cap}"
            );
            let r = match conn.query(&sql, limits(cap)).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!(table = %table.name, column = %col.name, error = %e, "value profiling skipped");
                    continue;
                }
            };
            let p = &mut profile.columns[i];
            let complete = r.rows.len() < cap && !r.truncated;
            p.samples = r
                .rows
                .iter()
                .filter_map(|row| row.first().and_then(render))
                .filter(|s| s.chars().count() <= self.opts.index_max_len)
                .take(self.opts.samples)
                .collect();
            if complete {
                p.distinct_count = Some(r.rows.len() as u64);
                p.unique = !r.rows.is_empty()
                    && r.rows
                        .iter()
                        .all(|row| matches!(row.get(1), Some(Value::Int(1))));
                let values: Vec<String> = r
                    .rows
                    .iter()
                    .filter_map(|row| row.first().and_then(render))
                    .filter(|s| s.chars().count() <= self.opts.index_max_len)
                    .collect();
                if col.type_class() != TypeClass::Boolean {
                    indexed.push(IndexedColumn {
                        column: col.name.clone(),
                        values,
                    });
                }
            }
        }
        (profile, indexed)
    }
}

/// Values of one column to put in the value index.
struct IndexedColumn {
    column: String,
    values: Vec<String>,
}

/// Renders a profiled value as text; NULL has no rendering.
fn render(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Bytes(_) => None,
        Value::Text(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A profile from names alone: descriptions and synonyms, no data.
fn name_only_profile(table: &TableSchema) -> TableProfile {
    let readable = readable_name(&table.name);
    let mut synonyms = vec![
        readable.clone(),
        singular(&readable),
        plural(&singular(&readable)),
    ];
    synonyms.sort();
    synonyms.dedup();
    synonyms.retain(|s| !s.eq_ignore_ascii_case(&table.name));
    TableProfile {
        name: table.name.clone(),
        description: table
            .comment
            .clone()
            .filter(|c| !c.trim().is_empty())
            .unwrap_or_else(|| describe(&table.name)),
        synonyms,
        columns: table
            .columns
            .iter()
            .map(|c| {
                let readable = readable_name(&c.name);
                ColumnProfile {
                    name: c.name.clone(),
                    description: c
                        .comment
                        .clone()
                        .filter(|d| !d.trim().is_empty())
                        .unwrap_or_else(|| describe(&c.name)),
                    synonyms: if readable.eq_ignore_ascii_case(&c.name) {
                        Vec::new()
                    } else {
                        vec![readable]
                    },
                    ..Default::default()
                }
            })
            .collect(),
    }
}

/// Lays the semantic model's descriptions and synonyms over the derived ones.
fn apply_semantic(aug: &mut AugmentedSchema) {
    for (tname, st) in &aug.semantic.tables {
        let Some(ti) = aug.schema.table_index(tname) else {
            continue;
        };
        let table = &aug.schema.tables[ti];
        let profile = &mut aug.tables[ti];
        if let Some(d) = &st.description {
            profile.description = d.clone();
        }
        for s in &st.synonyms {
            if !profile.synonyms.iter().any(|x| x.eq_ignore_ascii_case(s)) {
                profile.synonyms.push(s.clone());
            }
        }
        for (cname, sc) in &st.columns {
            let Some(ci) = table.column_index(cname) else {
                continue;
            };
            let cp = &mut profile.columns[ci];
            if let Some(d) = &sc.description {
                cp.description = d.clone();
            }
            for s in &sc.synonyms {
                if !cp.synonyms.iter().any(|x| x.eq_ignore_ascii_case(s)) {
                    cp.synonyms.push(s.clone());
                }
            }
        }
    }
}

/// A stable hash of what the catalog says (tables, kinds, columns, types, nullability, keys,
/// indexes, relationships), ignoring row counts, so it changes exactly when the schema does.
pub fn fingerprint(schema: &DatabaseSchema) -> String {
    let mut h = Sha256::new();
    let mut tables: Vec<&TableSchema> = schema.tables.iter().collect();
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    h.update(schema.dialect.name());
    for t in tables {
        h.update(b"\x00t");
        h.update(t.schema.as_deref().unwrap_or(""));
        h.update(b".");
        h.update(&t.name);
        h.update(format!("{:?}", t.kind));
        for c in &t.columns {
            h.update(b"\x00c");
            h.update(&c.name);
            h.update(b":");
            h.update(&c.data_type);
            h.update(if c.nullable { b"?" } else { b"!" });
        }
        h.update(b"\x00pk");
        h.update(t.primary_key.join(","));
        let mut idx: Vec<String> = t
            .indexes
            .iter()
            .map(|i| format!("{}({}){}", i.name, i.columns.join(","), i.unique))
            .collect();
        idx.sort();
        h.update(idx.join(";"));
    }
    let mut rels: Vec<String> = schema
        .relationships
        .iter()
        .filter(|r| !r.inferred)
        .map(|r| {
            format!(
                "{}({})->{}({})",
                r.from_table,
                r.from_columns.join(","),
                r.to_table,
                r.to_columns.join(",")
            )
        })
        .collect();
    rels.sort();
    h.update(rels.join(";"));
    hex::encode(&h.finalize()[..12])
}

#[cfg(test)]
mod tests {
    use cbi_types::{ColumnSchema, SemanticColumn, SemanticTable};

    use super::*;

    fn schema() -> DatabaseSchema {
        DatabaseSchema {
            name: "shop".into(),
            tables: vec![TableSchema {
                name: "order_items".into(),
                columns: vec![
                    ColumnSchema {
                        name: "qty".into(),
                        data_type: "integer".into(),
                        ..Default::default()
                    },
                    ColumnSchema {
                        name: "unit_price".into(),
                        data_type: "decimal(10,2)".into(),
                        comment: Some("Price paid per unit".into()),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn names_give_descriptions_and_synonyms() {
        let p = name_only_profile(&schema().tables[0]);
        assert_eq!(p.description, "Order items");
        assert!(
            p.synonyms.contains(&"order item".to_string()),
            "{:?}",
            p.synonyms
        );
        assert_eq!(p.columns[0].description, "Quantity");
        assert_eq!(p.columns[0].synonyms, ["quantity"]);
        assert_eq!(p.columns[1].description, "Price paid per unit");
    }

    #[test]
    fn semantic_model_overrides() {
        let s = schema();
        let mut semantic = SemanticModel::default();
        let mut st = SemanticTable {
            description: Some("Lines of orders".into()),
            synonyms: vec!["basket lines".into()],
            ..Default::default()
        };
        st.columns.insert(
            "QTY".into(),
            SemanticColumn {
                description: Some("Units bought".into()),
                synonyms: vec!["units".into()],
            },
        );
        semantic.tables.insert("order_items".into(), st);
        let mut aug = AugmentedSchema {
            tables: s.tables.iter().map(name_only_profile).collect(),
            schema: s,
            semantic,
            ..Default::default()
        };
        apply_semantic(&mut aug);
        assert_eq!(aug.tables[0].description, "Lines of orders");
        assert!(aug.tables[0].synonyms.contains(&"basket lines".to_string()));
        let qty = aug.column_profile("order_items", "qty").unwrap();
        assert_eq!(qty.description, "Units bought");
        assert_eq!(qty.synonyms, ["quantity", "units"]);
    }

    #[test]
    fn fingerprint_tracks_the_catalog_not_the_data() {
        let a = schema();
        let mut b = a.clone();
        b.tables[0].row_count = Some(99);
        assert_eq!(fingerprint(&a), fingerprint(&b));
        b.tables[0].columns[0].data_type = "bigint".into();
        assert_ne!(fingerprint(&a), fingerprint(&b));
        let mut c = a.clone();
        c.tables[0].columns.push(ColumnSchema {
            name: "note".into(),
            data_type: "text".into(),
            ..Default::default()
        });
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }
}
