use serde::{Deserialize, Serialize};

use crate::SqlDialect;

/// What a database holds, as its catalog describes it (plus inferred relationships).
///
/// Names keep the database's own spelling; every lookup helper here compares case-insensitively,
/// because people and models rarely respect case, and no supported database allows two tables
/// that differ only in case without quoting tricks cbi does not support.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DatabaseSchema {
    /// A display name for the database (file stem, database name), never a secret.
    pub name: String,
    pub dialect: SqlDialect,
    pub tables: Vec<TableSchema>,
    pub relationships: Vec<Relationship>,
}

impl DatabaseSchema {
    /// The table with this name (case-insensitive).
    pub fn table(&self, name: &str) -> Option<&TableSchema> {
        self.tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    }

    /// Index of the table with this name (case-insensitive).
    pub fn table_index(&self, name: &str) -> Option<usize> {
        self.tables
            .iter()
            .position(|t| t.name.eq_ignore_ascii_case(name))
    }

    /// Relationships that touch the table, in either direction.
    pub fn relationships_of<'a>(
        &'a self,
        table: &'a str,
    ) -> impl Iterator<Item = &'a Relationship> + 'a {
        self.relationships.iter().filter(move |r| {
            r.from_table.eq_ignore_ascii_case(table) || r.to_table.eq_ignore_ascii_case(table)
        })
    }

    /// Total number of columns, a rough measure of schema size.
    pub fn column_count(&self) -> usize {
        self.tables.iter().map(|t| t.columns.len()).sum()
    }
}

/// Whether a relation is a base table or a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    #[default]
    Table,
    View,
}

/// A table or view.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TableSchema {
    pub name: String,
    /// The namespace (PostgreSQL schema) when it is not the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default)]
    pub kind: TableKind,
    pub columns: Vec<ColumnSchema>,
    /// Primary key columns in key order; empty when there is none.
    #[serde(default)]
    pub primary_key: Vec<String>,
    #[serde(default)]
    pub indexes: Vec<IndexSchema>,
    /// The database's estimate of the number of rows (from statistics, not a full count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_count: Option<u64>,
    /// A comment stored in the catalog, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl TableSchema {
    /// The column with this name (case-insensitive).
    pub fn column(&self, name: &str) -> Option<&ColumnSchema> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Index of the column with this name (case-insensitive).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Whether the column is (part of) the primary key.
    pub fn is_primary_key(&self, column: &str) -> bool {
        self.primary_key
            .iter()
            .any(|c| c.eq_ignore_ascii_case(column))
    }
}

/// A column of a table or view.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ColumnSchema {
    pub name: String,
    /// The declared type as the catalog spells it (`integer`, `varchar(40)`, `REAL`).
    pub data_type: String,
    pub nullable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl ColumnSchema {
    /// A coarse classification of the declared type, used for linking and rendering.
    pub fn type_class(&self) -> TypeClass {
        TypeClass::of(&self.data_type)
    }
}

/// A coarse type family, independent of the database's spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeClass {
    Integer,
    Decimal,
    Float,
    Text,
    Boolean,
    Date,
    Timestamp,
    Time,
    Binary,
    Other,
}

impl TypeClass {
    /// Classifies a declared type name, following SQLite's affinity rules where they apply and
    /// the usual names of PostgreSQL and MySQL otherwise.
    pub fn of(data_type: &str) -> TypeClass {
        let t = data_type.to_ascii_lowercase();
        let t = t.trim();
        if t.starts_with("bool") || t == "tinyint(1)" || t == "bit" || t == "bit(1)" {
            TypeClass::Boolean
        } else if t.contains("int") {
            TypeClass::Integer
        } else if t.starts_with("timestamp") || t.starts_with("datetime") {
            TypeClass::Timestamp
        } else if t == "date" || t.starts_with("date ") {
            TypeClass::Date
        } else if t.starts_with("time") {
            TypeClass::Time
        } else if t.starts_with("numeric")
            || t.starts_with("decimal")
            || t.starts_with("number")
            || t == "money"
        {
            TypeClass::Decimal
        } else if t.contains("real")
            || t.contains("floa")
            || t.contains("doub")
            || t.starts_with("year")
        {
            if t.starts_with("year") {
                TypeClass::Integer
            } else {
                TypeClass::Float
            }
        } else if t.contains("char")
            || t.contains("clob")
            || t.contains("text")
            || t.starts_with("enum")
            || t.starts_with("set(")
            || t == "uuid"
            || t == "citext"
            || t == "name"
            || t.starts_with("json")
        {
            TypeClass::Text
        } else if t.contains("blob") || t.starts_with("bytea") || t.contains("binary") {
            TypeClass::Binary
        } else if t.is_empty() {
            // SQLite columns without a declared type hold anything; text is the safest guess.
            TypeClass::Text
        } else {
            TypeClass::Other
        }
    }

    /// Whether values of this class can be summed and averaged.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            TypeClass::Integer | TypeClass::Decimal | TypeClass::Float
        )
    }

    /// Whether values of this class are points in time.
    pub fn is_temporal(self) -> bool {
        matches!(self, TypeClass::Date | TypeClass::Timestamp)
    }
}

/// An index on a table.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IndexSchema {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
}

/// How rows of two tables relate, seen from `from_table` (which holds the referencing columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationshipType {
    /// Each `from` row matches at most one `to` row and vice versa (the referencing columns are
    /// unique).
    OneToOne,
    /// Many `from` rows point at one `to` row: the usual foreign key.
    ManyToOne,
    /// One `from` row relates to many `to` rows.
    OneToMany,
    /// Two tables linked through a junction table.
    ManyToMany,
}

/// A link between two tables: a declared foreign key or one inferred from column names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Relationship {
    pub from_table: String,
    pub from_columns: Vec<String>,
    pub to_table: String,
    pub to_columns: Vec<String>,
    pub relationship_type: RelationshipType,
    /// True when the link was guessed from names (`customer_id` → `customers.id`) rather than
    /// declared in the catalog. Inferred links are used for joins but shown as such.
    #[serde(default)]
    pub inferred: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_classes() {
        for (t, c) in [
            ("INTEGER", TypeClass::Integer),
            ("bigint", TypeClass::Integer),
            ("int(11)", TypeClass::Integer),
            ("numeric(10,2)", TypeClass::Decimal),
            ("REAL", TypeClass::Float),
            ("double precision", TypeClass::Float),
            ("varchar(40)", TypeClass::Text),
            ("character varying", TypeClass::Text),
            ("TEXT", TypeClass::Text),
            ("date", TypeClass::Date),
            ("timestamp without time zone", TypeClass::Timestamp),
            ("datetime", TypeClass::Timestamp),
            ("boolean", TypeClass::Boolean),
            ("tinyint(1)", TypeClass::Boolean),
            ("blob", TypeClass::Binary),
            ("", TypeClass::Text),
            ("year", TypeClass::Integer),
        ] {
            assert_eq!(TypeClass::of(t), c, "{t}");
        }
    }

    #[test]
    fn lookups_ignore_case() {
        let s = DatabaseSchema {
            name: "x".into(),
            tables: vec![TableSchema {
                name: "Orders".into(),
                columns: vec![ColumnSchema {
                    name: "Id".into(),
                    data_type: "int".into(),
                    ..Default::default()
                }],
                primary_key: vec!["Id".into()],
                ..Default::default()
            }],
            ..Default::default()
        };
        let t = s.table("orders").unwrap();
        assert!(t.column("ID").is_some());
        assert!(t.is_primary_key("id"));
        assert_eq!(s.table_index("ORDERS"), Some(0));
    }
}
