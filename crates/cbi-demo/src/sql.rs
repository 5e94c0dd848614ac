//! The demo's DDL and the rendering of rows as SQL, for any [`SqlDialect`].

use std::fmt::Write as _;

use cbi_types::{SqlDialect, Value};

use crate::rows::{Channel, OrderStatus, Row, Segment, StoreType, Table};

/// A column: its name and its portable type with constraints.
type Column = (&'static str, &'static str);

struct TableDef {
    columns: &'static [Column],
    /// `(column, parent table)`; the parent column has the same name.
    foreign_keys: &'static [(&'static str, Table)],
}

fn def(table: Table) -> TableDef {
    const ID: &str = "INTEGER NOT NULL PRIMARY KEY";
    const REF: &str = "INTEGER NOT NULL";
    const MONEY: &str = "DECIMAL(10,2) NOT NULL";
    const DAY: &str = "DATE NOT NULL";
    const WORD: &str = "VARCHAR(20) NOT NULL";
    const NAME: &str = "VARCHAR(40) NOT NULL";
    const PLACE: &str = "VARCHAR(60) NOT NULL";
    match table {
        Table::Regions => TableDef {
            columns: &[("region_id", ID), ("name", "VARCHAR(40) NOT NULL UNIQUE")],
            foreign_keys: &[],
        },
        Table::Stores => TableDef {
            columns: &[
                ("store_id", ID),
                ("name", "VARCHAR(80) NOT NULL"),
                ("city", PLACE),
                ("region_id", REF),
                ("store_type", WORD),
                ("opened_on", DAY),
            ],
            foreign_keys: &[("region_id", Table::Regions)],
        },
        Table::Customers => TableDef {
            columns: &[
                ("customer_id", ID),
                ("first_name", NAME),
                ("last_name", NAME),
                ("email", "VARCHAR(120) NOT NULL UNIQUE"),
                ("city", PLACE),
                ("region_id", REF),
                ("segment", WORD),
                ("signup_date", DAY),
                ("birth_year", "INTEGER NOT NULL"),
            ],
            foreign_keys: &[("region_id", Table::Regions)],
        },
        Table::Categories => TableDef {
            columns: &[
                ("category_id", ID),
                ("name", "VARCHAR(40) NOT NULL UNIQUE"),
                ("department", NAME),
            ],
            foreign_keys: &[],
        },
        Table::Products => TableDef {
            columns: &[
                ("product_id", ID),
                ("name", "VARCHAR(120) NOT NULL"),
                ("category_id", REF),
                ("brand", NAME),
                ("unit_price", MONEY),
                ("unit_cost", MONEY),
                ("launched_on", DAY),
            ],
            foreign_keys: &[("category_id", Table::Categories)],
        },
        Table::Orders => TableDef {
            columns: &[
                ("order_id", ID),
                ("customer_id", REF),
                ("store_id", REF),
                ("order_date", DAY),
                ("status", WORD),
                ("channel", WORD),
                ("shipping_cost", MONEY),
            ],
            foreign_keys: &[
                ("customer_id", Table::Customers),
                ("store_id", Table::Stores),
            ],
        },
        Table::OrderItems => TableDef {
            columns: &[
                ("order_item_id", ID),
                ("order_id", REF),
                ("product_id", REF),
                ("quantity", "INTEGER NOT NULL"),
                ("unit_price", MONEY),
                ("discount", "DECIMAL(4,2) NOT NULL"),
            ],
            foreign_keys: &[("order_id", Table::Orders), ("product_id", Table::Products)],
        },
        Table::Returns => TableDef {
            columns: &[
                ("return_id", ID),
                ("order_item_id", REF),
                ("return_date", DAY),
                ("reason", PLACE),
                ("refund_amount", MONEY),
            ],
            foreign_keys: &[("order_item_id", Table::OrderItems)],
        },
    }
}

/// `CHECK` constraints, so the allowed values are visible in the schema itself.
fn checks(table: Table, dialect: SqlDialect) -> Vec<String> {
    fn one_of(
        dialect: SqlDialect,
        column: &str,
        values: impl Iterator<Item = &'static str>,
    ) -> String {
        let list: Vec<String> = values.map(|v| dialect.string_literal(v)).collect();
        format!("CHECK ({column} IN ({}))", list.join(", "))
    }
    match table {
        Table::Stores => vec![one_of(
            dialect,
            "store_type",
            StoreType::ALL.iter().map(|v| v.as_str()),
        )],
        Table::Customers => vec![one_of(
            dialect,
            "segment",
            Segment::ALL.iter().map(|v| v.as_str()),
        )],
        Table::Orders => vec![
            one_of(
                dialect,
                "status",
                OrderStatus::ALL.iter().map(|v| v.as_str()),
            ),
            one_of(dialect, "channel", Channel::ALL.iter().map(|v| v.as_str())),
        ],
        Table::OrderItems => vec![
            "CHECK (quantity > 0)".to_string(),
            "CHECK (discount >= 0 AND discount <= 0.30)".to_string(),
        ],
        _ => Vec::new(),
    }
}

/// `CREATE TABLE` for `table`: primary key, `NOT NULL`s, unique names, foreign keys and the
/// allowed values of enumerated columns. The types (`INTEGER`, `VARCHAR(n)`, `DECIMAL(p,s)`,
/// `DATE`) mean the same in SQLite, PostgreSQL and MySQL/MariaDB; MySQL tables are InnoDB so
/// the foreign keys are enforced.
pub fn create_table(dialect: SqlDialect, table: Table) -> String {
    render_create_table(dialect, table, true)
}

/// `CREATE TABLE`, with or without the foreign keys (a bulk load adds them afterwards with
/// [`foreign_key_ddl`], checking every row in one pass instead of one at a time).
pub(crate) fn render_create_table(dialect: SqlDialect, table: Table, foreign_keys: bool) -> String {
    let d = def(table);
    let mut parts: Vec<String> = d
        .columns
        .iter()
        .map(|(name, ty)| format!("{name} {ty}"))
        .collect();
    if foreign_keys {
        for (column, parent) in d.foreign_keys {
            parts.push(format!(
                "FOREIGN KEY ({column}) REFERENCES {parent} ({column})"
            ));
        }
    }
    parts.extend(checks(table, dialect));
    let mut sql = format!("CREATE TABLE {table} (\n    {}\n)", parts.join(",\n    "));
    if dialect == SqlDialect::MySql {
        sql.push_str(" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    }
    sql
}

/// `ALTER TABLE … ADD FOREIGN KEY` for every foreign key [`create_table`] declares inline; the
/// constraints end up the same (PostgreSQL names them `<table>_<column>_fkey` either way).
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn foreign_key_ddl() -> Vec<String> {
    let mut out = Vec::new();
    for table in Table::ALL {
        for (column, parent) in def(table).foreign_keys {
            out.push(format!(
                "ALTER TABLE {table} ADD FOREIGN KEY ({column}) REFERENCES {parent} ({column})"
            ));
        }
    }
    out
}

/// The indexes: one per foreign-key column, and one on `orders.order_date` for date ranges.
pub fn index_ddl(_dialect: SqlDialect) -> Vec<String> {
    let mut out = Vec::new();
    for table in Table::ALL {
        for (column, _) in def(table).foreign_keys {
            out.push(format!(
                "CREATE INDEX idx_{table}_{column} ON {table} ({column})"
            ));
        }
        if table == Table::Orders {
            out.push("CREATE INDEX idx_orders_order_date ON orders (order_date)".to_string());
        }
    }
    out
}

/// Every `CREATE TABLE`, parents first.
pub fn table_ddl(dialect: SqlDialect) -> Vec<String> {
    Table::ALL
        .into_iter()
        .map(|t| create_table(dialect, t))
        .collect()
}

/// The whole schema: [`table_ddl`] then [`index_ddl`]. Writers create the indexes after loading
/// the rows, which is faster; the result is the same.
pub fn ddl(dialect: SqlDialect) -> Vec<String> {
    let mut all = table_ddl(dialect);
    all.extend(index_ddl(dialect));
    all
}

/// A value as a SQL literal for `dialect`. Strings go through [`SqlDialect::string_literal`];
/// dates are `'YYYY-MM-DD'` strings, which every backend converts on insert (`DATE '…'` for
/// Oracle and generic SQL, where a bare string may not convert).
pub fn literal(dialect: SqlDialect, value: &Value) -> String {
    match value {
        Value::Null => "NULL".to_string(),
        Value::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.is_finite() => format!("{f:?}"),
        Value::Float(_) => "NULL".to_string(),
        Value::Decimal(d) => d.to_string(),
        Value::Text(s) => dialect.string_literal(s),
        Value::Date(d) => match dialect {
            SqlDialect::Oracle | SqlDialect::Generic => format!("DATE '{d}'"),
            _ => format!("'{d}'"),
        },
        Value::Bytes(b) => {
            let mut s = String::with_capacity(b.len() * 2 + 3);
            s.push_str("X'");
            for byte in b {
                let _ = write!(s, "{byte:02X}");
            }
            s.push('\'');
            s
        }
        other => dialect.string_literal(&other.to_string()),
    }
}

/// Renders rows as multi-row `INSERT INTO table (columns) VALUES (…), (…)` statements of at
/// most `rows_per_statement` rows each (at least one). Lazily, so a caller can stream a large
/// table without holding all its SQL.
pub fn insert_statements<R: Row>(
    dialect: SqlDialect,
    rows: &[R],
    rows_per_statement: usize,
) -> impl Iterator<Item = String> + '_ {
    let head = format!(
        "INSERT INTO {} ({}) VALUES ",
        R::TABLE,
        R::TABLE.columns().join(", ")
    );
    rows.chunks(rows_per_statement.max(1)).map(move |chunk| {
        let mut sql = String::with_capacity(head.len() + chunk.len() * 64);
        sql.push_str(&head);
        for (i, row) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for (j, v) in row.values().iter().enumerate() {
                if j > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&literal(dialect, v));
            }
            sql.push(')');
        }
        sql
    })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    use super::*;
    use crate::rows::Region;

    #[test]
    fn literals_escape_and_type_values() {
        let d = NaiveDate::from_ymd_opt(2022, 2, 3).unwrap();
        for (dialect, value, expect) in [
            (
                SqlDialect::Sqlite,
                Value::Text("Men's Clothing".into()),
                "'Men''s Clothing'",
            ),
            (
                SqlDialect::MySql,
                Value::Text("a\\b'c".into()),
                // The writer's MySQL session runs with NO_BACKSLASH_ESCAPES.
                "'a\\b''c'",
            ),
            (SqlDialect::PostgreSql, Value::Date(d), "'2022-02-03'"),
            (SqlDialect::Generic, Value::Date(d), "DATE '2022-02-03'"),
            (
                SqlDialect::MySql,
                Value::Decimal(Decimal::new(1250, 2)),
                "12.50",
            ),
            (SqlDialect::Sqlite, Value::Int(-4), "-4"),
            (SqlDialect::Sqlite, Value::Null, "NULL"),
            (SqlDialect::Sqlite, Value::Float(0.5), "0.5"),
            (SqlDialect::Sqlite, Value::Bytes(vec![1, 171]), "X'01AB'"),
        ] {
            assert_eq!(literal(dialect, &value), expect, "{dialect} {value:?}");
        }
    }

    #[test]
    fn inserts_are_batched() {
        let rows: Vec<Region> = (1..=5)
            .map(|i| Region {
                region_id: i,
                name: format!("R'{i}"),
            })
            .collect();
        let stmts: Vec<String> = insert_statements(SqlDialect::Sqlite, &rows, 2).collect();
        assert_eq!(stmts.len(), 3);
        assert_eq!(
            stmts[0],
            "INSERT INTO regions (region_id, name) VALUES (1, 'R''1'), (2, 'R''2')"
        );
        assert_eq!(
            stmts[2],
            "INSERT INTO regions (region_id, name) VALUES (5, 'R''5')"
        );
        assert_eq!(insert_statements(SqlDialect::Sqlite, &rows, 0).count(), 5);
        assert_eq!(
            insert_statements::<Region>(SqlDialect::Sqlite, &[], 10).count(),
            0
        );
    }

    #[test]
    fn ddl_declares_keys_and_indexes() {
        let items = create_table(SqlDialect::Sqlite, Table::OrderItems);
        assert!(
            items.contains("order_item_id INTEGER NOT NULL PRIMARY KEY"),
            "{items}"
        );
        assert!(items.contains("FOREIGN KEY (product_id) REFERENCES products (product_id)"));
        assert!(!items.contains("ENGINE"));
        assert!(
            create_table(SqlDialect::MySql, Table::Regions)
                .ends_with("ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
        );
        let idx = index_ddl(SqlDialect::PostgreSql);
        assert_eq!(idx.len(), 9);
        assert!(
            idx.contains(&"CREATE INDEX idx_orders_order_date ON orders (order_date)".to_string())
        );
        assert_eq!(ddl(SqlDialect::Sqlite).len(), 17);
        let fks = foreign_key_ddl();
        assert_eq!(fks.len(), 8);
        assert!(fks.contains(&"ALTER TABLE returns ADD FOREIGN KEY (order_item_id) REFERENCES order_items (order_item_id)".to_string()));
        assert!(
            !render_create_table(SqlDialect::PostgreSql, Table::Returns, false)
                .contains("FOREIGN KEY")
        );
        for t in Table::ALL {
            let names: Vec<&str> = def(t).columns.iter().map(|c| c.0).collect();
            assert_eq!(names, t.columns(), "{t}");
        }
    }
}
