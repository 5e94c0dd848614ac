use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::DatabaseSchema;

/// A schema plus everything cbi learned or was told about it: readable descriptions, synonyms,
/// sample values, value statistics, an index from cell values to columns, and the user's
/// semantic file.
///
/// Built once per schema fingerprint by `cbi-schema`'s augmenter and shared read-only
/// (`Arc<AugmentedSchema>`) by every question asked of that database.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AugmentedSchema {
    pub schema: DatabaseSchema,
    /// One profile per table, in the same order as `schema.tables`.
    pub tables: Vec<TableProfile>,
    #[serde(default)]
    pub semantic: SemanticModel,
    #[serde(default)]
    pub value_index: ValueIndex,
    /// A hash of the catalog (tables, columns, types, keys) this augmentation was built from.
    pub fingerprint: String,
}

impl AugmentedSchema {
    /// The profile of a table (case-insensitive).
    pub fn table_profile(&self, table: &str) -> Option<&TableProfile> {
        self.schema
            .table_index(table)
            .and_then(|i| self.tables.get(i))
    }

    /// The profile of a column (case-insensitive).
    pub fn column_profile(&self, table: &str, column: &str) -> Option<&ColumnProfile> {
        let ti = self.schema.table_index(table)?;
        let ci = self.schema.tables[ti].column_index(column)?;
        self.tables.get(ti)?.columns.get(ci)
    }
}

/// What cbi knows about a table beyond its catalog entry.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TableProfile {
    pub name: String,
    /// A readable description: from the semantic file, the catalog comment, or derived from the
    /// name.
    pub description: String,
    /// Other words people use for this table (semantic file, plus derived forms).
    #[serde(default)]
    pub synonyms: Vec<String>,
    /// One profile per column, in the same order as the table's columns.
    pub columns: Vec<ColumnProfile>,
}

/// What cbi knows about a column beyond its catalog entry.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ColumnProfile {
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub synonyms: Vec<String>,
    /// A few distinct non-null values, most frequent first, rendered as text.
    #[serde(default)]
    pub samples: Vec<String>,
    /// Number of distinct non-null values, when it was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinct_count: Option<u64>,
    /// Smallest and largest value (numeric and temporal columns), rendered as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
    /// True when every sampled value was distinct and non-null: an identifier or a name.
    #[serde(default)]
    pub unique: bool,
}

/// The user's semantic file: what the catalog cannot say.
///
/// Everything is optional; an empty model is valid. Parsing and validation against a schema live
/// in `cbi-schema`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SemanticModel {
    /// Per-table descriptions and synonyms, keyed by table name.
    #[serde(default)]
    pub tables: BTreeMap<String, SemanticTable>,
    /// Words of the business and what they mean in SQL terms.
    #[serde(default)]
    pub business_terms: Vec<BusinessTerm>,
    /// Questions with SQL a person has checked; answered verbatim when asked again.
    #[serde(default)]
    pub verified_queries: Vec<VerifiedQuery>,
}

impl SemanticModel {
    /// Whether the model says nothing at all.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty() && self.business_terms.is_empty() && self.verified_queries.is_empty()
    }
}

/// Semantic-file entries of one table.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SemanticTable {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub synonyms: Vec<String>,
    #[serde(default)]
    pub columns: BTreeMap<String, SemanticColumn>,
}

/// Semantic-file entries of one column.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SemanticColumn {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub synonyms: Vec<String>,
}

/// A business word ("revenue", "active customer") and what it means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessTerm {
    pub name: String,
    #[serde(default)]
    pub synonyms: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(flatten)]
    pub target: TermTarget,
}

/// What a business term stands for. Exactly one is given in the semantic file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermTarget {
    /// A column, as `table.column`.
    Column(String),
    /// An aggregate SQL expression over qualified columns, e.g.
    /// `SUM(order_items.quantity * order_items.unit_price)`.
    Measure(String),
    /// A boolean SQL condition over qualified columns, e.g. `orders.status = 'returned'`.
    Filter(String),
}

/// A question→SQL pair someone verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifiedQuery {
    pub question: String,
    pub sql: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// Where a cell value was seen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ValueHit {
    pub table: String,
    pub column: String,
    /// The value exactly as stored, for use in a SQL literal.
    pub value: String,
}

/// An index from (normalised) cell values to the columns holding them, so a question's "West"
/// or "France" can be linked to `regions.name` or `country.name`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ValueIndex {
    values: HashMap<String, Vec<ValueHit>>,
    /// Longest key in words, so a linker knows how long an n-gram to try.
    max_words: usize,
}

impl ValueIndex {
    /// Keeps only the hits `keep` accepts (a user's visible columns), dropping values left
    /// with none.
    pub fn retain(&mut self, mut keep: impl FnMut(&ValueHit) -> bool) {
        self.values.retain(|_, hits| {
            hits.retain(|h| keep(h));
            !hits.is_empty()
        });
        self.max_words = self
            .values
            .keys()
            .map(|k| k.split(' ').count())
            .max()
            .unwrap_or(0);
    }

    /// Adds one stored value seen in `table.column`.
    pub fn insert(&mut self, table: &str, column: &str, value: &str) {
        let key = normalize_value(value);
        if key.is_empty() {
            return;
        }
        self.max_words = self.max_words.max(key.split(' ').count());
        let hits = self.values.entry(key).or_default();
        let hit = ValueHit {
            table: table.to_string(),
            column: column.to_string(),
            value: value.to_string(),
        };
        if !hits.contains(&hit) {
            hits.push(hit);
        }
    }

    /// Columns holding a value equal to `text` after normalisation.
    pub fn lookup(&self, text: &str) -> &[ValueHit] {
        self.values
            .get(&normalize_value(text))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Columns holding a value whose normalised form is exactly `key` (already normalised).
    pub fn get_normalized(&self, key: &str) -> &[ValueHit] {
        self.values.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// All normalised keys with their hits, for fuzzy matching.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[ValueHit])> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Number of distinct normalised values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether nothing was indexed.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The most words any indexed value has.
    pub fn max_words(&self) -> usize {
        self.max_words
    }
}

/// The normal form cell values and question phrases are compared in: lower case, words
/// separated by single spaces (an underscore separates words too), surrounding punctuation and
/// quotes removed.
pub fn normalize_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // `past_due` and `CLOSED_WON` are read the way a person writes them: "past due".
    for word in s.split(|c: char| c.is_whitespace() || c == '_') {
        let mut w = word;
        loop {
            let t = w
                .trim_matches(|c: char| {
                    !c.is_alphanumeric()
                        && !matches!(c, '%' | '$' | '#' | '+' | '&' | '-' | '/' | '.')
                })
                .trim_end_matches(['.', '-', '/']);
            if t.len() == w.len() {
                break;
            }
            w = t;
        }
        if w.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        for c in w.chars() {
            out.extend(c.to_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        assert_eq!(normalize_value("  New   York "), "new york");
        assert_eq!(normalize_value("\"France\""), "france");
        assert_eq!(normalize_value("'West'."), "west");
        assert_eq!(normalize_value("St. Louis"), "st louis");
        assert_eq!(normalize_value("U.S.A."), "u.s.a");
        assert_eq!(normalize_value("AT&T"), "at&t");
        assert_eq!(normalize_value("past_due"), "past due");
        assert_eq!(normalize_value("CLOSED_WON "), "closed won");
        assert_eq!(normalize_value("__"), "");
        assert_eq!(normalize_value("..."), "");
    }

    #[test]
    fn value_index_links_values_to_columns() {
        let mut idx = ValueIndex::default();
        idx.insert("regions", "name", "West");
        idx.insert("customers", "city", "west");
        idx.insert("regions", "name", "West");
        idx.insert("country", "name", "United States");
        assert_eq!(idx.lookup("WEST").len(), 2);
        assert_eq!(idx.lookup("united  states")[0].value, "United States");
        assert_eq!(idx.max_words(), 2);
        assert!(idx.lookup("east").is_empty());
    }

    #[test]
    fn semantic_terms_parse_with_one_target() {
        let yaml = "name: revenue\nsynonyms: [sales]\nmeasure: SUM(order_items.amount)\n";
        let t: BusinessTerm = serde_yaml_ng::from_str(yaml).unwrap();
        assert_eq!(
            t.target,
            TermTarget::Measure("SUM(order_items.amount)".into())
        );
        let bad = "name: revenue\n";
        assert!(serde_yaml_ng::from_str::<BusinessTerm>(bad).is_err());
    }
}
