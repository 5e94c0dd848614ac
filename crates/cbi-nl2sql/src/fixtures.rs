//! Schemas written for unit tests.

use cbi_types::{ColumnSchema, TableSchema};

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
