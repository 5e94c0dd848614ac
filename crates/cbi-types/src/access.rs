//! What a user may read: tables, and columns of each table.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The tables and columns a user may see, in answers, in the schema and in error messages.
///
/// `Access::all()` (the default) sees everything. Otherwise only the listed tables exist for
/// the user; a table listed with `["*"]` (or no columns) shows all its columns, else only the
/// ones named. Names match case-insensitively. In a configuration file:
///
/// ```yaml
/// tables:
///   orders: ["*"]
///   customers: [customer_id, name, region]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Access {
    /// `None`: every table and column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tables: Option<BTreeMap<String, Vec<String>>>,
}

impl Access {
    /// Everything.
    pub fn all() -> Self {
        Access::default()
    }

    /// Only these tables, each with the columns given (`*` or none: all of its columns).
    pub fn only<T, C, S>(tables: T) -> Self
    where
        T: IntoIterator<Item = (S, C)>,
        C: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Access {
            tables: Some(
                tables
                    .into_iter()
                    .map(|(t, cols)| (t.into(), cols.into_iter().map(Into::into).collect()))
                    .collect(),
            ),
        }
    }

    /// Whether this sees everything.
    pub fn is_all(&self) -> bool {
        self.tables.is_none()
    }

    fn entry(&self, table: &str) -> Option<&[String]> {
        let tables = self.tables.as_ref()?;
        tables
            .iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(table))
            .map(|(_, c)| c.as_slice())
    }

    /// Whether the user may see the table at all.
    pub fn table(&self, table: &str) -> bool {
        self.is_all() || self.entry(table).is_some()
    }

    /// Whether the user sees every column of the table (false for a table not listed).
    pub fn whole_table(&self, table: &str) -> bool {
        self.is_all()
            || self
                .entry(table)
                .is_some_and(|c| c.is_empty() || c.iter().any(|c| c == "*"))
    }

    /// Whether the user may see the column.
    pub fn column(&self, table: &str, column: &str) -> bool {
        self.whole_table(table)
            || self
                .entry(table)
                .is_some_and(|c| c.iter().any(|c| c.eq_ignore_ascii_case(column)))
    }

    /// A short stable name of this access, for cache keys ("all" when unrestricted).
    pub fn fingerprint(&self) -> String {
        let Some(tables) = &self.tables else {
            return "all".to_string();
        };
        // FNV-1a over the canonical listing: stable across runs and platforms.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |s: &str| {
            for b in s.to_ascii_lowercase().bytes().chain([0u8]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        };
        for (t, cols) in tables {
            eat(t);
            let mut cols: Vec<String> = cols.iter().map(|c| c.to_ascii_lowercase()).collect();
            cols.sort();
            for c in &cols {
                eat(c);
            }
            eat("\u{1}");
        }
        format!("{h:016x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_columns() {
        let a = Access::only([
            ("orders", vec!["*"]),
            ("Customers", vec!["customer_id", "Name"]),
        ]);
        assert!(!a.is_all());
        assert!(a.table("ORDERS") && a.table("customers") && !a.table("products"));
        assert!(a.column("orders", "anything"));
        assert!(a.column("customers", "name") && !a.column("customers", "email"));
        assert!(!a.column("products", "name"));
        assert!(!a.whole_table("customers") && a.whole_table("orders"));
        assert!(Access::only([("orders", Vec::<&str>::new())]).whole_table("orders"));
        assert!(Access::all().column("x", "y"));
        assert_eq!(Access::all().fingerprint(), "all");
        assert_eq!(
            a.fingerprint(),
            Access::only([
                ("customers", vec!["name", "customer_id"]),
                ("orders", vec!["*"])
            ])
            .fingerprint(),
        );
        assert_ne!(
            a.fingerprint(),
            Access::only([("orders", vec!["*"])]).fingerprint()
        );
    }

    #[test]
    fn reads_from_yaml_shaped_json() {
        let a: Access =
            serde_json::from_str(r#"{"tables": {"orders": ["*"], "customers": ["name"]}}"#)
                .unwrap();
        assert!(a.column("customers", "name") && !a.column("customers", "email"));
        let all: Access = serde_json::from_str("{}").unwrap();
        assert!(all.is_all());
    }
}
