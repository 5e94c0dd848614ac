//! A user's view of an augmented schema: only the tables and columns their [`Access`] allows.

use cbi_types::{Access, AugmentedSchema, TermTarget};

use crate::qualified_refs;

/// The part of `schema` that `access` may see: other tables and columns are gone from the
/// tables, profiles, relationships, indexes, semantic descriptions and the value index, and
/// business terms that read a hidden column are dropped. Verified queries are kept; the
/// caller validates them against the restricted schema (their SQL is not parsed here).
///
/// The fingerprint changes with the access, so caches keyed on it keep users apart.
pub fn restrict(schema: &AugmentedSchema, access: &Access) -> AugmentedSchema {
    if access.is_all() {
        return schema.clone();
    }
    let mut out = schema.clone();
    let s = &mut out.schema;
    s.tables.retain(|t| access.table(&t.name));
    for t in &mut s.tables {
        let name = t.name.clone();
        t.columns.retain(|c| access.column(&name, &c.name));
        t.primary_key.retain(|c| access.column(&name, c));
        t.indexes
            .retain(|i| i.columns.iter().all(|c| access.column(&name, c)));
    }
    s.relationships.retain(|r| {
        r.from_columns
            .iter()
            .all(|c| access.column(&r.from_table, c))
            && r.to_columns.iter().all(|c| access.column(&r.to_table, c))
    });
    out.tables.retain(|t| access.table(&t.name));
    for t in &mut out.tables {
        let name = t.name.clone();
        t.columns.retain(|c| access.column(&name, &c.name));
    }
    let sem = &mut out.semantic;
    sem.tables.retain(|t, _| access.table(t));
    for (t, table) in sem.tables.iter_mut() {
        table.columns.retain(|c, _| access.column(t, c));
    }
    sem.business_terms.retain(|term| match &term.target {
        TermTarget::Column(c) => match c.split_once('.') {
            Some((t, c)) => access.column(t, c),
            None => false,
        },
        TermTarget::Measure(e) | TermTarget::Filter(e) => {
            qualified_refs(e).iter().all(|(t, c)| access.column(t, c))
        }
    });
    out.value_index
        .retain(|h| access.column(&h.table, &h.column));
    out.fingerprint = format!("{}-{}", schema.fingerprint, access.fingerprint());
    out
}

#[cfg(test)]
mod tests {
    use cbi_types::{
        BusinessTerm, ColumnProfile, ColumnSchema, DatabaseSchema, Relationship, RelationshipType,
        SqlDialect, TableProfile, TableSchema,
    };

    use super::*;

    fn col(name: &str) -> ColumnSchema {
        ColumnSchema {
            name: name.into(),
            data_type: "TEXT".into(),
            nullable: true,
            default_value: None,
            comment: None,
        }
    }

    fn table(name: &str, cols: &[&str]) -> TableSchema {
        TableSchema {
            name: name.into(),
            columns: cols.iter().map(|c| col(c)).collect(),
            primary_key: vec![cols[0].to_string()],
            ..TableSchema::default()
        }
    }

    fn schema() -> AugmentedSchema {
        let mut aug = AugmentedSchema {
            schema: DatabaseSchema {
                name: "shop".into(),
                dialect: SqlDialect::Sqlite,
                tables: vec![
                    table("customers", &["customer_id", "name", "email"]),
                    table("orders", &["order_id", "customer_id", "total"]),
                    table("salaries", &["employee_id", "amount"]),
                ],
                relationships: vec![Relationship {
                    from_table: "orders".into(),
                    from_columns: vec!["customer_id".into()],
                    to_table: "customers".into(),
                    to_columns: vec!["customer_id".into()],
                    relationship_type: RelationshipType::ManyToOne,
                    inferred: false,
                }],
            },
            fingerprint: "fp".into(),
            ..AugmentedSchema::default()
        };
        aug.tables = aug
            .schema
            .tables
            .iter()
            .map(|t| TableProfile {
                name: t.name.clone(),
                columns: t
                    .columns
                    .iter()
                    .map(|c| ColumnProfile {
                        name: c.name.clone(),
                        ..ColumnProfile::default()
                    })
                    .collect(),
                ..TableProfile::default()
            })
            .collect();
        aug.value_index
            .insert("customers", "email", "ann@example.com");
        aug.value_index.insert("customers", "name", "Ann");
        aug.semantic.business_terms = vec![
            BusinessTerm {
                name: "revenue".into(),
                synonyms: vec![],
                description: None,
                target: TermTarget::Measure("SUM(orders.total)".into()),
            },
            BusinessTerm {
                name: "payroll".into(),
                synonyms: vec![],
                description: None,
                target: TermTarget::Measure("SUM(salaries.amount)".into()),
            },
            BusinessTerm {
                name: "contact".into(),
                synonyms: vec![],
                description: None,
                target: TermTarget::Column("customers.email".into()),
            },
        ];
        aug
    }

    #[test]
    fn hidden_tables_and_columns_are_gone_everywhere() {
        let full = schema();
        let access = Access::only([
            ("orders", vec!["*"]),
            ("customers", vec!["customer_id", "name"]),
        ]);
        let r = restrict(&full, &access);
        let names: Vec<&str> = r.schema.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["customers", "orders"]);
        let customers = r.schema.table("customers").unwrap();
        let cols: Vec<&str> = customers.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(cols, ["customer_id", "name"]);
        assert_eq!(r.schema.relationships.len(), 1);
        assert_eq!(r.tables[0].columns.len(), 2);
        assert!(r.value_index.lookup("ann@example.com").is_empty());
        assert_eq!(r.value_index.lookup("ann").len(), 1);
        let terms: Vec<&str> = r
            .semantic
            .business_terms
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(terms, ["revenue"]);
        assert_ne!(r.fingerprint, full.fingerprint);
        // Without the join column on one side, the relationship goes too.
        let r = restrict(
            &full,
            &Access::only([
                ("orders", vec!["order_id", "total"]),
                ("customers", vec!["*"]),
            ]),
        );
        assert!(r.schema.relationships.is_empty());
        assert_eq!(restrict(&full, &Access::all()), full);
    }
}
