//! Shared pieces of introspection: ordering tables and classifying declared foreign keys.

use cbi_types::{Relationship, RelationshipType, TableSchema};

/// Puts tables in the order every backend returns them: by name (case-insensitively, then
/// exactly), then by namespace.
pub(crate) fn sort_tables(tables: &mut [TableSchema]) {
    tables.sort_by(|a, b| {
        (a.name.to_lowercase(), &a.name, &a.schema).cmp(&(
            b.name.to_lowercase(),
            &b.name,
            &b.schema,
        ))
    });
}

/// Whether the referencing columns of a foreign key are unique in their table — a primary
/// key or unique index whose columns are all among them — which makes the link one-to-one.
pub(crate) fn classify(from: &TableSchema, from_columns: &[String]) -> RelationshipType {
    let covered = |key: &[String]| {
        !key.is_empty()
            && key
                .iter()
                .all(|k| from_columns.iter().any(|c| c.eq_ignore_ascii_case(k)))
    };
    if covered(&from.primary_key) || from.indexes.iter().any(|i| i.unique && covered(&i.columns)) {
        RelationshipType::OneToOne
    } else {
        RelationshipType::ManyToOne
    }
}

/// A declared foreign key before it is checked against the tables found.
#[derive(Debug, Clone)]
pub(crate) struct DeclaredKey {
    pub from_table: String,
    pub from_schema: Option<String>,
    pub from_columns: Vec<String>,
    pub to_table: String,
    pub to_schema: Option<String>,
    /// Empty when the declaration names no columns (SQLite: the referenced primary key).
    pub to_columns: Vec<String>,
}

/// Turns declared keys into relationships that point at tables and columns that exist,
/// spelled as the catalog spells them. Keys that reference a missing table or column (old
/// SQLite files have them) are dropped: a join along them could only fail. Duplicates are
/// removed and the result is ordered.
pub(crate) fn resolve(tables: &[TableSchema], keys: Vec<DeclaredKey>) -> Vec<Relationship> {
    let find = |name: &str, schema: &Option<String>| {
        tables
            .iter()
            .find(|t| t.name == *name && t.schema == *schema)
            .or_else(|| {
                tables
                    .iter()
                    .find(|t| t.name.eq_ignore_ascii_case(name) && t.schema == *schema)
            })
    };
    let spell = |t: &TableSchema, cols: &[String]| -> Option<Vec<String>> {
        cols.iter()
            .map(|c| t.column(c).map(|col| col.name.clone()))
            .collect()
    };
    let mut out: Vec<Relationship> = Vec::new();
    for k in keys {
        let (Some(from), Some(to)) = (
            find(&k.from_table, &k.from_schema),
            find(&k.to_table, &k.to_schema),
        ) else {
            tracing::debug!(from = %k.from_table, to = %k.to_table, "foreign key to a missing table skipped");
            continue;
        };
        let to_cols = if k.to_columns.is_empty() {
            to.primary_key.clone()
        } else {
            k.to_columns.clone()
        };
        let (Some(from_columns), Some(to_columns)) =
            (spell(from, &k.from_columns), spell(to, &to_cols))
        else {
            tracing::debug!(from = %k.from_table, to = %k.to_table, "foreign key to a missing column skipped");
            continue;
        };
        if from_columns.is_empty() || from_columns.len() != to_columns.len() {
            continue;
        }
        let r = Relationship {
            relationship_type: classify(from, &from_columns),
            from_table: from.name.clone(),
            from_columns,
            to_table: to.name.clone(),
            to_columns,
            inferred: false,
        };
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out.sort_by(|a, b| {
        (
            a.from_table.to_lowercase(),
            &a.from_columns,
            a.to_table.to_lowercase(),
        )
            .cmp(&(
                b.from_table.to_lowercase(),
                &b.from_columns,
                b.to_table.to_lowercase(),
            ))
    });
    out
}

#[cfg(test)]
mod tests {
    use cbi_types::{ColumnSchema, IndexSchema};

    use super::*;

    fn table(name: &str, cols: &[&str], pk: &[&str]) -> TableSchema {
        TableSchema {
            name: name.into(),
            columns: cols
                .iter()
                .map(|c| ColumnSchema {
                    name: (*c).into(),
                    ..Default::default()
                })
                .collect(),
            primary_key: pk.iter().map(|c| (*c).into()).collect(),
            ..Default::default()
        }
    }

    fn key(from: &str, fc: &[&str], to: &str, tc: &[&str]) -> DeclaredKey {
        DeclaredKey {
            from_table: from.into(),
            from_schema: None,
            from_columns: fc.iter().map(|c| (*c).into()).collect(),
            to_table: to.into(),
            to_schema: None,
            to_columns: tc.iter().map(|c| (*c).into()).collect(),
        }
    }

    #[test]
    fn resolves_spelling_defaults_and_drops_dangling_keys() {
        let mut profile = table("Profile", &["user_id", "bio"], &["user_id"]);
        profile.indexes.push(IndexSchema {
            name: "p".into(),
            columns: vec!["bio".into()],
            unique: false,
        });
        let tables = vec![
            table("Users", &["Id", "name"], &["Id"]),
            table("orders", &["id", "user_id"], &["id"]),
            profile,
        ];
        let rels = resolve(
            &tables,
            vec![
                key("orders", &["USER_ID"], "users", &[]),
                key("orders", &["user_id"], "Users", &["id"]),
                key("Profile", &["user_id"], "Users", &["Id"]),
                key("orders", &["user_id"], "ghosts", &["id"]),
                key("orders", &["nope"], "Users", &["Id"]),
                key("orders", &["user_id"], "Users", &["missing"]),
            ],
        );
        assert_eq!(rels.len(), 2, "{rels:#?}");
        assert_eq!(rels[0].from_table, "orders");
        assert_eq!(rels[0].from_columns, vec!["user_id"]);
        assert_eq!(rels[0].to_table, "Users");
        assert_eq!(rels[0].to_columns, vec!["Id"]);
        assert_eq!(rels[0].relationship_type, RelationshipType::ManyToOne);
        assert_eq!(rels[1].from_table, "Profile");
        assert_eq!(rels[1].relationship_type, RelationshipType::OneToOne);
        assert!(rels.iter().all(|r| !r.inferred));
    }

    #[test]
    fn tables_sort_by_name_ignoring_case() {
        let mut t = vec![
            table("b", &[], &[]),
            table("A", &[], &[]),
            table("a", &[], &[]),
        ];
        sort_tables(&mut t);
        let names: Vec<_> = t.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["A", "a", "b"]);
    }
}
