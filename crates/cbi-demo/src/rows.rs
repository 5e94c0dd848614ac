//! The eight tables of the demo and their typed rows.

use std::fmt;

use cbi_types::Value;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// A table of the demo database.
///
/// [`Table::ALL`] lists them parents first, which is the order rows must be inserted in for the
/// foreign keys to hold at every step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Regions,
    Stores,
    Customers,
    Categories,
    Products,
    Orders,
    OrderItems,
    Returns,
}

impl Table {
    /// Every table, parents before children.
    pub const ALL: [Table; 8] = [
        Table::Regions,
        Table::Stores,
        Table::Customers,
        Table::Categories,
        Table::Products,
        Table::Orders,
        Table::OrderItems,
        Table::Returns,
    ];

    /// The table's name in SQL.
    pub fn name(self) -> &'static str {
        match self {
            Table::Regions => "regions",
            Table::Stores => "stores",
            Table::Customers => "customers",
            Table::Categories => "categories",
            Table::Products => "products",
            Table::Orders => "orders",
            Table::OrderItems => "order_items",
            Table::Returns => "returns",
        }
    }

    /// Column names in declaration order, which is also the order of [`Row::values`].
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Table::Regions => &["region_id", "name"],
            Table::Stores => &[
                "store_id",
                "name",
                "city",
                "region_id",
                "store_type",
                "opened_on",
            ],
            Table::Customers => &[
                "customer_id",
                "first_name",
                "last_name",
                "email",
                "city",
                "region_id",
                "segment",
                "signup_date",
                "birth_year",
            ],
            Table::Categories => &["category_id", "name", "department"],
            Table::Products => &[
                "product_id",
                "name",
                "category_id",
                "brand",
                "unit_price",
                "unit_cost",
                "launched_on",
            ],
            Table::Orders => &[
                "order_id",
                "customer_id",
                "store_id",
                "order_date",
                "status",
                "channel",
                "shipping_cost",
            ],
            Table::OrderItems => &[
                "order_item_id",
                "order_id",
                "product_id",
                "quantity",
                "unit_price",
                "discount",
            ],
            Table::Returns => &[
                "return_id",
                "order_item_id",
                "return_date",
                "reason",
                "refund_amount",
            ],
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A row of one of the demo tables, as the backend-neutral values the writers and the SQL
/// renderer consume.
pub trait Row {
    /// The table the row belongs to.
    const TABLE: Table;

    /// The row's cells in [`Table::columns`] order: ids and counts as `Int`, money and
    /// fractions as `Decimal` (scale 2), days as `Date`, everything else as `Text`.
    fn values(&self) -> Vec<Value>;
}

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// Every value, in the order of the column's documentation.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as stored in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum! {
    /// `stores.store_type`. Each region has exactly one `online` store, which takes every online
    /// order of the region's customers.
    StoreType { Flagship => "flagship", Mall => "mall", Outlet => "outlet", Online => "online" }
}

text_enum! {
    /// `customers.segment`.
    Segment { Consumer => "Consumer", Corporate => "Corporate", SmallBusiness => "Small Business" }
}

text_enum! {
    /// `orders.status`. `returned` means every item of the order came back; `shipped` orders
    /// were placed online in the last days of the data and have not arrived yet.
    OrderStatus {
        Completed => "completed",
        Shipped => "shipped",
        Cancelled => "cancelled",
        Returned => "returned",
    }
}

text_enum! {
    /// `orders.channel`.
    Channel { Online => "online", InStore => "in-store" }
}

/// `regions`: five sales regions of different sizes (West largest, Central smallest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub region_id: i64,
    pub name: String,
}

/// `stores`: physical stores and one online store per region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    pub store_id: i64,
    pub name: String,
    pub city: String,
    pub region_id: i64,
    pub store_type: StoreType,
    pub opened_on: NaiveDate,
}

/// `customers`: ids increase with `signup_date`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub customer_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub city: String,
    pub region_id: i64,
    pub segment: Segment,
    pub signup_date: NaiveDate,
    pub birth_year: i64,
}

/// `categories`: twelve categories in four departments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub category_id: i64,
    pub name: String,
    pub department: String,
}

/// `products`: ids increase with `launched_on`. `unit_price` is today's list price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub product_id: i64,
    pub name: String,
    pub category_id: i64,
    pub brand: String,
    pub unit_price: Decimal,
    pub unit_cost: Decimal,
    pub launched_on: NaiveDate,
}

/// `orders`: ids increase with `order_date`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub order_id: i64,
    pub customer_id: i64,
    pub store_id: i64,
    pub order_date: NaiveDate,
    pub status: OrderStatus,
    pub channel: Channel,
    pub shipping_cost: Decimal,
}

/// `order_items`: one line of an order. `unit_price` is the price charged that year (list
/// prices rose over time), before `discount` (a fraction, 0 to 0.30).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItem {
    pub order_item_id: i64,
    pub order_id: i64,
    pub product_id: i64,
    pub quantity: i64,
    pub unit_price: Decimal,
    pub discount: Decimal,
}

/// `returns`: a whole order line sent back, refunded at what was paid for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Return {
    pub return_id: i64,
    pub order_item_id: i64,
    pub return_date: NaiveDate,
    pub reason: String,
    pub refund_amount: Decimal,
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

impl Row for Region {
    const TABLE: Table = Table::Regions;
    fn values(&self) -> Vec<Value> {
        vec![Value::Int(self.region_id), text(&self.name)]
    }
}

impl Row for Store {
    const TABLE: Table = Table::Stores;
    fn values(&self) -> Vec<Value> {
        vec![
            Value::Int(self.store_id),
            text(&self.name),
            text(&self.city),
            Value::Int(self.region_id),
            text(self.store_type.as_str()),
            Value::Date(self.opened_on),
        ]
    }
}

impl Row for Customer {
    const TABLE: Table = Table::Customers;
    fn values(&self) -> Vec<Value> {
        vec![
            Value::Int(self.customer_id),
            text(&self.first_name),
            text(&self.last_name),
            text(&self.email),
            text(&self.city),
            Value::Int(self.region_id),
            text(self.segment.as_str()),
            Value::Date(self.signup_date),
            Value::Int(self.birth_year),
        ]
    }
}

impl Row for Category {
    const TABLE: Table = Table::Categories;
    fn values(&self) -> Vec<Value> {
        vec![
            Value::Int(self.category_id),
            text(&self.name),
            text(&self.department),
        ]
    }
}

impl Row for Product {
    const TABLE: Table = Table::Products;
    fn values(&self) -> Vec<Value> {
        vec![
            Value::Int(self.product_id),
            text(&self.name),
            Value::Int(self.category_id),
            text(&self.brand),
            Value::Decimal(self.unit_price),
            Value::Decimal(self.unit_cost),
            Value::Date(self.launched_on),
        ]
    }
}

impl Row for Order {
    const TABLE: Table = Table::Orders;
    fn values(&self) -> Vec<Value> {
        vec![
            Value::Int(self.order_id),
            Value::Int(self.customer_id),
            Value::Int(self.store_id),
            Value::Date(self.order_date),
            text(self.status.as_str()),
            text(self.channel.as_str()),
            Value::Decimal(self.shipping_cost),
        ]
    }
}

impl Row for OrderItem {
    const TABLE: Table = Table::OrderItems;
    fn values(&self) -> Vec<Value> {
        vec![
            Value::Int(self.order_item_id),
            Value::Int(self.order_id),
            Value::Int(self.product_id),
            Value::Int(self.quantity),
            Value::Decimal(self.unit_price),
            Value::Decimal(self.discount),
        ]
    }
}

impl Row for Return {
    const TABLE: Table = Table::Returns;
    fn values(&self) -> Vec<Value> {
        vec![
            Value::Int(self.return_id),
            Value::Int(self.order_item_id),
            Value::Date(self.return_date),
            text(&self.reason),
            Value::Decimal(self.refund_amount),
        ]
    }
}

/// Number of rows per table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct RowCounts([u64; 8]);

impl RowCounts {
    /// Rows in `table`.
    pub fn get(&self, table: Table) -> u64 {
        self.0[table.index()]
    }

    /// Adds `n` rows to `table`'s count.
    pub fn add(&mut self, table: Table, n: u64) {
        self.0[table.index()] += n;
    }

    /// Rows in all tables together.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// `(table, rows)` for every table, parents first.
    pub fn iter(&self) -> impl Iterator<Item = (Table, u64)> + '_ {
        Table::ALL.into_iter().map(|t| (t, self.get(t)))
    }
}

impl fmt::Display for RowCounts {
    /// `regions 5, stores 10, …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (t, n)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{t} {n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_listed_parents_first_and_values_match_columns() {
        for (i, t) in Table::ALL.iter().enumerate() {
            assert_eq!(t.index(), i);
        }
        let d = NaiveDate::from_ymd_opt(2022, 3, 4).unwrap();
        let item = OrderItem {
            order_item_id: 1,
            order_id: 2,
            product_id: 3,
            quantity: 4,
            unit_price: Decimal::new(1999, 2),
            discount: Decimal::new(10, 2),
        };
        assert_eq!(item.values().len(), Table::OrderItems.columns().len());
        let store = Store {
            store_id: 1,
            name: "Chicago Flagship".into(),
            city: "Chicago".into(),
            region_id: 1,
            store_type: StoreType::Flagship,
            opened_on: d,
        };
        assert_eq!(store.values().len(), Table::Stores.columns().len());
        assert_eq!(store.values()[4], Value::Text("flagship".into()));
        assert_eq!(Segment::SmallBusiness.to_string(), "Small Business");
        assert_eq!(Channel::InStore.as_str(), "in-store");
    }

    #[test]
    fn counts_add_up() {
        let mut c = RowCounts::default();
        c.add(Table::Orders, 3);
        c.add(Table::Orders, 2);
        c.add(Table::Regions, 5);
        assert_eq!(c.get(Table::Orders), 5);
        assert_eq!(c.total(), 10);
        assert!(c.to_string().starts_with("regions 5, stores 0"));
    }
}
