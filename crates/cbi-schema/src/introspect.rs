//! The catalog, completed: what the connection reports, plus relationships inferred from names
//! where no foreign key was declared, and each relationship's cardinality.

use std::sync::Arc;

use cbi_types::{
    Connection, DatabaseSchema, Relationship, RelationshipType, TableSchema, TypeClass,
};

use crate::Result;
use crate::names::{column_prefix, is_abbreviation_of, plural, singular, split_identifier};

/// Reads a database's schema through any [`Connection`] (SQLite, PostgreSQL, MySQL or anything
/// else implementing the trait) and completes it.
///
/// The connection returns the catalog with declared foreign keys; the introspector adds links
/// guessed from column names (`customer_id` → `customers.customer_id`), flagged `inferred`, and
/// classifies every link as many-to-one or one-to-one from the keys and unique indexes.
#[derive(Debug, Clone)]
pub struct SchemaIntrospector {
    conn: Arc<dyn Connection>,
    infer: bool,
}

impl SchemaIntrospector {
    pub fn new(conn: Arc<dyn Connection>) -> Self {
        SchemaIntrospector { conn, infer: true }
    }

    /// Turns name-based inference off (only declared foreign keys are kept).
    pub fn without_inference(mut self) -> Self {
        self.infer = false;
        self
    }

    /// The completed schema.
    pub async fn introspect(&self) -> Result<DatabaseSchema> {
        let mut schema = self.conn.introspect().await?;
        complete(&mut schema, self.infer);
        Ok(schema)
    }
}

/// Adds inferred relationships (when `infer`) and sets every relationship's type. Idempotent.
pub fn complete(schema: &mut DatabaseSchema, infer: bool) {
    if infer {
        let inferred = infer_relationships(schema);
        schema.relationships.extend(inferred);
    }
    for i in 0..schema.relationships.len() {
        let r = &schema.relationships[i];
        let unique = schema
            .table(&r.from_table)
            .is_some_and(|t| columns_unique(t, &r.from_columns));
        schema.relationships[i].relationship_type = if unique {
            RelationshipType::OneToOne
        } else {
            RelationshipType::ManyToOne
        };
    }
}

fn columns_unique(t: &TableSchema, cols: &[String]) -> bool {
    let same = |a: &[String]| {
        a.len() == cols.len()
            && a.iter()
                .all(|c| cols.iter().any(|x| x.eq_ignore_ascii_case(c)))
    };
    (!t.primary_key.is_empty() && same(&t.primary_key))
        || t.indexes.iter().any(|i| i.unique && same(&i.columns))
}

/// Relationships guessed from column names, for columns not already covered by a declared key.
///
/// A column `<stem>_id` / `<stem>Id` / `<stem>_<pk>` links to a table named `<stem>` (singular or
/// plural, any case, optionally with a common prefix) when that table has a single-column
/// primary key of a compatible type; a column with exactly the name of another table's
/// single-column primary key (`Country_ID`) links to that table. A table never links to itself
/// by inference, and each column gets at most one inferred target.
pub fn infer_relationships(schema: &DatabaseSchema) -> Vec<Relationship> {
    let prefixes: Vec<Option<String>> = schema.tables.iter().map(table_prefix).collect();
    // The last word of each table's name, singular (`carriers` → carrier), computed once.
    let last_words: Vec<String> = schema
        .tables
        .iter()
        .map(|t| {
            split_identifier(&t.name)
                .last()
                .map(|w| singular(w))
                .unwrap_or_default()
        })
        .collect();
    let mut out = Vec::new();
    for (ti, table) in schema.tables.iter().enumerate() {
        for col in &table.columns {
            let covered = schema.relationships.iter().any(|r| {
                r.from_table.eq_ignore_ascii_case(&table.name)
                    && r.from_columns
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(&col.name))
            });
            if covered {
                continue;
            }
            // A table's own identifier (`id`, `order_id` in `orders`) is not a reference; a
            // primary key named after another table (`customer_id` in `profile`) may be.
            if table.primary_key.len() == 1
                && table.primary_key[0].eq_ignore_ascii_case(&col.name)
                && names_own_table(&table.name, &col.name)
            {
                continue;
            }
            let found = by_prefix(
                schema,
                &prefixes,
                &last_words,
                ti,
                &col.name,
                col.type_class(),
            )
            .or_else(|| find_target(schema, table, &col.name, col.type_class()));
            if let Some((target, target_col)) = found {
                out.push(Relationship {
                    from_table: table.name.clone(),
                    from_columns: vec![col.name.clone()],
                    to_table: target.name.clone(),
                    to_columns: vec![target_col],
                    relationship_type: RelationshipType::ManyToOne,
                    inferred: true,
                });
            }
        }
    }
    out
}

/// The word a table's columns carry before their own names (`shp` in `shp_created_at`).
fn table_prefix(t: &TableSchema) -> Option<String> {
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    column_prefix(&t.name, &names)
}

/// References in schemas whose columns carry their table's prefix: after the column's own
/// prefix, `<p>_id` or a trailing `<p>` names the table whose prefix (or name) is `p` —
/// `pcl_shp_id` → `shipments.shp_id`, `shp_origin_wh` → `warehouses.wh_id`,
/// `shp_carrier_id` → `carriers.car_id` — to that table's single-column primary key of a
/// compatible type. A table's own key and other tables' own prefixes never link back to it.
fn by_prefix<'a>(
    schema: &'a DatabaseSchema,
    prefixes: &[Option<String>],
    last_words: &[String],
    from: usize,
    column: &str,
    class: TypeClass,
) -> Option<(&'a TableSchema, String)> {
    let table = &schema.tables[from];
    let mut words = split_identifier(column);
    if let Some(p) = &prefixes[from] {
        if words.len() > 1 && words[0] == *p {
            words.remove(0);
        }
    }
    let (reference, keyed) = match words.as_slice() {
        [.., w, last] if matches!(last.as_str(), "id" | "key" | "code" | "cd" | "no" | "num") => {
            (w.clone(), true)
        }
        [.., last] => (last.clone(), false),
        [] => return None,
    };
    if table.primary_key.len() == 1 && table.primary_key[0].eq_ignore_ascii_case(column) {
        return None;
    }
    let names_table = |ti: usize| {
        if ti == from {
            return false;
        }
        let by_prefix = prefixes[ti].as_deref() == Some(reference.as_str());
        // A full word of the name (`carrier_id` → carriers) only before `_id`; a bare trailing
        // word is a reference only as another table's prefix (`origin_wh`).
        let last = &last_words[ti];
        let by_name = keyed
            && (*last == reference
                || (prefixes[ti].is_some() && is_abbreviation_of(&reference, last)));
        by_prefix || by_name
    };
    let mut hits = (0..schema.tables.len()).filter(|&ti| names_table(ti));
    let (Some(ti), None) = (hits.next(), hits.next()) else {
        return None;
    };
    let target = &schema.tables[ti];
    let [pk] = target.primary_key.as_slice() else {
        return None;
    };
    let other = target.column(pk)?.type_class();
    (other == class || (other.is_numeric() && class.is_numeric())).then(|| (target, pk.clone()))
}

fn names_own_table(table: &str, column: &str) -> bool {
    let words = split_identifier(column);
    let stem = match words.split_last() {
        Some((last, stem)) if matches!(last.as_str(), "id" | "key" | "code" | "no" | "num") => {
            stem.join("_")
        }
        _ => words.join("_"),
    };
    let table = split_identifier(table).join("_");
    stem.is_empty() || stem == table || singular(&table) == stem || table.ends_with(&stem)
}

fn find_target<'a>(
    schema: &'a DatabaseSchema,
    from: &TableSchema,
    column: &str,
    class: TypeClass,
) -> Option<(&'a TableSchema, String)> {
    let compatible = |t: &TableSchema, pk: &str| {
        t.column(pk).is_some_and(|c| {
            let other = c.type_class();
            other == class || (other.is_numeric() && class.is_numeric())
        })
    };
    let single_pk = |t: &'a TableSchema| -> Option<&'a str> {
        match t.primary_key.as_slice() {
            [pk] => Some(pk.as_str()),
            _ => None,
        }
    };
    // 1. `<stem>_id` → table `<stem>`/`<stems>`, to its primary key (or its `id` column).
    let words = split_identifier(column);
    if let Some((last, stem_words)) = words.split_last() {
        if !stem_words.is_empty() && matches!(last.as_str(), "id" | "key" | "code" | "no" | "num") {
            let stem = stem_words.join("_");
            let candidates = [stem.clone(), plural(&stem), singular(&stem)];
            let matches_name = |t: &TableSchema| {
                let name = split_identifier(&t.name).join("_");
                candidates.iter().any(|c| {
                    name == *c
                        || name
                            .split_once('_')
                            .is_some_and(|(prefix, rest)| rest == c && prefix.len() <= 4)
                })
            };
            let hit = schema
                .tables
                .iter()
                .find(|t| !t.name.eq_ignore_ascii_case(&from.name) && matches_name(t))
                .and_then(|table| {
                    let target_col = match single_pk(table) {
                        Some(pk) => pk.to_string(),
                        None => table
                            .columns
                            .iter()
                            .find(|c| {
                                c.name.eq_ignore_ascii_case("id")
                                    || c.name.eq_ignore_ascii_case(column)
                            })?
                            .name
                            .clone(),
                    };
                    compatible(table, &target_col).then_some((table, target_col))
                });
            if hit.is_some() {
                return hit;
            }
        }
    }
    // 2. An integer column named after a table (`flights.Airline` → `airlines.uid`): a
    //    reference to that table's integer primary key.
    if class == TypeClass::Integer {
        let w = split_identifier(column).join("_");
        let hit = schema.tables.iter().find(|t| {
            let name = split_identifier(&t.name).join("_");
            !t.name.eq_ignore_ascii_case(&from.name)
                && (name == w || name == plural(&w) || singular(&name) == w)
        });
        if let Some(t) = hit {
            if let Some(pk) = single_pk(t) {
                if t.column(pk)
                    .is_some_and(|c| c.type_class() == TypeClass::Integer)
                {
                    return Some((t, pk.to_string()));
                }
            }
        }
    }
    // 3. Exact name of another table's single-column primary key (Spider's `Country_ID`), as long
    //    as that name is specific (not a bare `id`) and only one table has it.
    if column.eq_ignore_ascii_case("id") {
        return None;
    }
    let mut hits = schema.tables.iter().filter(|t| {
        !t.name.eq_ignore_ascii_case(&from.name)
            && single_pk(t).is_some_and(|pk| pk.eq_ignore_ascii_case(column) && compatible(t, pk))
    });
    match (hits.next(), hits.next()) {
        (Some(t), None) => Some((t, single_pk(t)?.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use cbi_types::ColumnSchema;

    use super::*;

    fn col(name: &str, ty: &str) -> ColumnSchema {
        ColumnSchema {
            name: name.into(),
            data_type: ty.into(),
            nullable: true,
            ..Default::default()
        }
    }

    fn table(name: &str, pk: &[&str], cols: &[(&str, &str)]) -> TableSchema {
        TableSchema {
            name: name.into(),
            columns: cols.iter().map(|(n, t)| col(n, t)).collect(),
            primary_key: pk.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn links(s: &DatabaseSchema) -> Vec<String> {
        s.relationships
            .iter()
            .map(|r| {
                format!(
                    "{}.{} -> {}.{} {:?}{}",
                    r.from_table,
                    r.from_columns.join(","),
                    r.to_table,
                    r.to_columns.join(","),
                    r.relationship_type,
                    if r.inferred { " inferred" } else { "" }
                )
            })
            .collect()
    }

    #[test]
    fn infers_from_names_and_classifies() {
        let mut s = DatabaseSchema {
            name: "shop".into(),
            tables: vec![
                table("customers", &["id"], &[("id", "integer"), ("name", "text")]),
                table(
                    "orders",
                    &["order_id"],
                    &[
                        ("order_id", "integer"),
                        ("customer_id", "integer"),
                        ("status_code", "text"),
                    ],
                ),
                table(
                    "Country",
                    &["Country_ID"],
                    &[("Country_ID", "int"), ("Name", "text")],
                ),
                table(
                    "singer",
                    &["Singer_ID"],
                    &[("Singer_ID", "int"), ("Country_ID", "int")],
                ),
                table("profile", &["customer_id"], &[("customer_id", "integer")]),
                table("tbl_product", &["product_id"], &[("product_id", "integer")]),
                table(
                    "line",
                    &[],
                    &[("product_id", "integer"), ("order_id", "text")],
                ),
            ],
            ..Default::default()
        };
        complete(&mut s, true);
        assert_eq!(
            links(&s),
            [
                "orders.customer_id -> customers.id ManyToOne inferred",
                "singer.Country_ID -> Country.Country_ID ManyToOne inferred",
                "profile.customer_id -> customers.id OneToOne inferred",
                "line.product_id -> tbl_product.product_id ManyToOne inferred",
            ]
        );
    }

    /// Schemas whose columns carry their table's prefix (`shp_`, `wh_`) and refer to each other
    /// by those prefixes, with no declared keys.
    #[test]
    fn infers_from_column_prefixes() {
        let mut s = DatabaseSchema {
            tables: vec![
                table(
                    "warehouses",
                    &["wh_id"],
                    &[("wh_id", "TEXT"), ("wh_name", "TEXT"), ("wh_city", "TEXT")],
                ),
                table(
                    "carriers",
                    &["car_id"],
                    &[
                        ("car_id", "INTEGER"),
                        ("car_name", "TEXT"),
                        ("car_mode", "TEXT"),
                    ],
                ),
                table(
                    "shipments",
                    &["shp_id"],
                    &[
                        ("shp_id", "INTEGER"),
                        ("shp_origin_wh", "TEXT"),
                        ("shp_carrier_id", "INTEGER"),
                        ("shp_customer", "TEXT"),
                        ("shp_weight_kg", "REAL"),
                    ],
                ),
                table(
                    "parcels",
                    &["pcl_id"],
                    &[
                        ("pcl_id", "INTEGER"),
                        ("pcl_shp_id", "INTEGER"),
                        ("pcl_seq", "INTEGER"),
                    ],
                ),
                table(
                    "routes",
                    &["rte_id"],
                    // A route's `rte_car_id` names the carrier by its prefix; a number where a
                    // text key is expected is no reference.
                    &[
                        ("rte_id", "INTEGER"),
                        ("rte_car_id", "INTEGER"),
                        ("rte_origin_wh", "INTEGER"),
                    ],
                ),
            ],
            ..Default::default()
        };
        complete(&mut s, true);
        assert_eq!(
            links(&s),
            [
                "shipments.shp_origin_wh -> warehouses.wh_id ManyToOne inferred",
                "shipments.shp_carrier_id -> carriers.car_id ManyToOne inferred",
                "parcels.pcl_shp_id -> shipments.shp_id ManyToOne inferred",
                "routes.rte_car_id -> carriers.car_id ManyToOne inferred",
            ]
        );
    }

    #[test]
    fn declared_keys_win_and_inference_can_be_off() {
        let mut s = DatabaseSchema {
            tables: vec![
                table("customers", &["id"], &[("id", "integer")]),
                table(
                    "orders",
                    &["id"],
                    &[("id", "integer"), ("customer_id", "integer")],
                ),
            ],
            relationships: vec![Relationship {
                from_table: "orders".into(),
                from_columns: vec!["customer_id".into()],
                to_table: "customers".into(),
                to_columns: vec!["id".into()],
                relationship_type: RelationshipType::ManyToOne,
                inferred: false,
            }],
            ..Default::default()
        };
        let mut off = s.clone();
        complete(&mut s, true);
        assert_eq!(s.relationships.len(), 1);
        assert!(!s.relationships[0].inferred);
        off.relationships.clear();
        complete(&mut off, false);
        assert!(off.relationships.is_empty());
    }
}
