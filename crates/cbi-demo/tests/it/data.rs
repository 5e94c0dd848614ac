//! The generated rows: determinism, integrity, and the business patterns questions rely on.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use cbi_demo::{
    Channel, Dataset, DemoSize, FIRST_ORDER_DATE, Generator, LAST_DATE, OrderStatus, Segment,
    StoreType, Table, insert_statements,
};
use cbi_types::SqlDialect;
use chrono::Datelike;
use rust_decimal::{Decimal, RoundingStrategy};
use sha2::{Digest, Sha256};

pub(crate) fn tiny() -> &'static Dataset {
    static D: OnceLock<Dataset> = OnceLock::new();
    D.get_or_init(|| Dataset::generate(DemoSize::TINY))
}

fn small() -> &'static Dataset {
    static D: OnceLock<Dataset> = OnceLock::new();
    D.get_or_init(|| Dataset::generate(DemoSize::SMALL))
}

/// SHA-256 of every row, rendered as SQLite INSERTs.
fn digest(d: &Dataset) -> String {
    let mut h = Sha256::new();
    let mut feed = |stmts: &mut dyn Iterator<Item = String>| {
        for s in stmts {
            h.update(s.as_bytes());
            h.update(b";\n");
        }
    };
    let dialect = SqlDialect::Sqlite;
    feed(&mut insert_statements(dialect, &d.regions, 1000));
    feed(&mut insert_statements(dialect, &d.stores, 1000));
    feed(&mut insert_statements(dialect, &d.customers, 1000));
    feed(&mut insert_statements(dialect, &d.categories, 1000));
    feed(&mut insert_statements(dialect, &d.products, 1000));
    feed(&mut insert_statements(dialect, &d.orders, 1000));
    feed(&mut insert_statements(dialect, &d.order_items, 1000));
    feed(&mut insert_statements(dialect, &d.returns, 1000));
    hex::encode(h.finalize())
}

/// What was paid for an order line: quantity × price × (1 − discount), exactly.
fn net(quantity: i64, unit_price: Decimal, discount: Decimal) -> Decimal {
    Decimal::from(quantity) * unit_price * (Decimal::ONE - discount)
}

#[test]
fn generating_twice_gives_identical_rows() {
    let again = Dataset::generate(DemoSize::TINY);
    assert_eq!(digest(tiny()), digest(&again));
    assert_eq!(tiny(), &again);
}

/// The data is part of cbi's contract: evaluation sets and other crates' tests are written
/// against it. If this fails after an intended change to the generator, update the digest,
/// bump `cbi_demo::DATA_VERSION`, and say so in the commit.
#[test]
fn tiny_data_is_pinned() {
    assert_eq!(
        digest(tiny()),
        "1d203f8437ec9c1ae42e0f1ea3763c55ae9e28c949b103c2b9946b965ca21a42"
    );
}

#[test]
fn streaming_yields_the_same_rows_as_the_dataset() {
    let d = tiny();
    let mut g = Generator::new(DemoSize::TINY);
    assert_eq!(g.dimensions().customers, d.customers);
    assert_eq!(g.dimensions().products, d.products);
    let batches: Vec<_> = g.by_ref().collect();
    assert_eq!(batches.len(), 36, "one batch per month");
    let items: Vec<_> = batches.iter().flat_map(|b| b.order_items.clone()).collect();
    let returns: Vec<_> = batches.iter().flat_map(|b| b.returns.clone()).collect();
    assert_eq!(items, d.order_items);
    assert_eq!(returns, d.returns);
    for (i, b) in batches.iter().enumerate() {
        let month = (i % 12) as u32 + 1;
        assert!(b.orders.iter().all(|o| o.order_date.month() == month));
    }
}

#[test]
fn tiny_has_the_sizes_its_preset_says() {
    let d = tiny();
    let c = d.row_counts();
    assert_eq!(c.get(Table::Regions), 5);
    assert_eq!(c.get(Table::Categories), 12);
    assert_eq!(c.get(Table::Stores), DemoSize::TINY.physical_stores() + 5);
    assert_eq!(c.get(Table::Customers), DemoSize::TINY.customers());
    assert_eq!(c.get(Table::Customers), 142);
    assert_eq!(
        c.get(Table::Products),
        12 * DemoSize::TINY.products_per_category()
    );
    assert_eq!(c.get(Table::OrderItems), 2_000);
    let orders = c.get(Table::Orders);
    assert!((700..=1_100).contains(&orders), "{orders} orders");
    let returns = c.get(Table::Returns);
    assert!((40..=140).contains(&returns), "{returns} returns");

    let custom = Dataset::generate(DemoSize::order_items(333).unwrap());
    assert_eq!(custom.order_items.len(), 333);
    assert_eq!(custom.customers.len(), 23);
}

#[test]
fn keys_are_dense_and_every_reference_resolves() {
    for d in [tiny(), small()] {
        fn dense(ids: impl Iterator<Item = i64>) -> HashSet<i64> {
            let v: Vec<i64> = ids.collect();
            assert!(
                v.iter().copied().eq(1..=v.len() as i64),
                "ids are 1..=n in order"
            );
            v.into_iter().collect()
        }
        let regions = dense(d.regions.iter().map(|r| r.region_id));
        let stores = dense(d.stores.iter().map(|s| s.store_id));
        let customers = dense(d.customers.iter().map(|c| c.customer_id));
        let categories = dense(d.categories.iter().map(|c| c.category_id));
        let products = dense(d.products.iter().map(|p| p.product_id));
        let orders = dense(d.orders.iter().map(|o| o.order_id));
        let items = dense(d.order_items.iter().map(|i| i.order_item_id));
        dense(d.returns.iter().map(|r| r.return_id));

        assert!(d.stores.iter().all(|s| regions.contains(&s.region_id)));
        assert!(d.customers.iter().all(|c| regions.contains(&c.region_id)));
        assert!(
            d.products
                .iter()
                .all(|p| categories.contains(&p.category_id))
        );
        assert!(d.orders.iter().all(|o| customers.contains(&o.customer_id)));
        assert!(d.orders.iter().all(|o| stores.contains(&o.store_id)));
        assert!(d.order_items.iter().all(|i| orders.contains(&i.order_id)));
        assert!(
            d.order_items
                .iter()
                .all(|i| products.contains(&i.product_id))
        );
        assert!(d.returns.iter().all(|r| items.contains(&r.order_item_id)));

        let unique = |v: Vec<&str>| v.len() == v.iter().collect::<HashSet<_>>().len();
        assert!(unique(d.regions.iter().map(|r| r.name.as_str()).collect()));
        assert!(unique(
            d.categories.iter().map(|c| c.name.as_str()).collect()
        ));
        assert!(unique(
            d.customers.iter().map(|c| c.email.as_str()).collect()
        ));
        assert!(unique(d.stores.iter().map(|s| s.name.as_str()).collect()));
        assert!(unique(d.products.iter().map(|p| p.name.as_str()).collect()));
        assert!(unique(
            d.returns
                .iter()
                .map(|r| r.order_item_id.to_string())
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
                .collect()
        ));
    }
    let names: Vec<&str> = tiny().regions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["North", "South", "East", "West", "Central"]);
}

#[test]
fn the_largest_catalogue_has_distinct_readable_product_names() {
    let g = Generator::new(DemoSize::LARGE);
    let products = &g.dimensions().products;
    assert_eq!(products.len(), 720);
    let names: HashSet<&str> = products.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names.len(), 720);
    assert!(
        names.iter().all(|n| n.split(' ').count() >= 3),
        "brand line noun"
    );
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("Acme ") && n.contains(" Laptop ")),
        "{names:?}"
    );
}

#[test]
fn dates_respect_the_timeline() {
    assert_eq!(small().orders.last().unwrap().order_date, LAST_DATE);
    for d in [tiny(), small()] {
        let customers: HashMap<i64, _> = d.customers.iter().map(|c| (c.customer_id, c)).collect();
        let stores: HashMap<i64, _> = d.stores.iter().map(|s| (s.store_id, s)).collect();
        let products: HashMap<i64, _> = d.products.iter().map(|p| (p.product_id, p)).collect();
        let orders: HashMap<i64, _> = d.orders.iter().map(|o| (o.order_id, o)).collect();
        let items: HashMap<i64, _> = d.order_items.iter().map(|i| (i.order_item_id, i)).collect();

        assert!(
            d.orders
                .windows(2)
                .all(|w| w[0].order_date <= w[1].order_date)
        );
        assert!(
            d.customers
                .windows(2)
                .all(|w| w[0].signup_date <= w[1].signup_date)
        );
        assert_eq!(d.orders.first().unwrap().order_date, FIRST_ORDER_DATE);
        let last = d.orders.last().unwrap().order_date;
        assert!(
            last <= LAST_DATE && last >= LAST_DATE - chrono::Days::new(3),
            "{last}"
        );
        for o in &d.orders {
            assert!((FIRST_ORDER_DATE..=LAST_DATE).contains(&o.order_date));
            let c = customers[&o.customer_id];
            assert!(
                c.signup_date <= o.order_date,
                "order {} before signup",
                o.order_id
            );
            let s = stores[&o.store_id];
            assert!(
                s.opened_on <= o.order_date,
                "order {} before store opened",
                o.order_id
            );
            assert_eq!(
                s.region_id, c.region_id,
                "customers shop in their own region"
            );
            assert_eq!(
                s.store_type == StoreType::Online,
                o.channel == Channel::Online,
                "order {}",
                o.order_id
            );
        }
        for i in &d.order_items {
            let o = orders[&i.order_id];
            assert!(products[&i.product_id].launched_on <= o.order_date);
        }
        for r in &d.returns {
            let o = orders[&items[&r.order_item_id].order_id];
            assert!(r.return_date > o.order_date && r.return_date <= LAST_DATE);
        }
        for c in &d.customers {
            assert!(c.signup_date <= LAST_DATE);
            assert!((1940..=2006).contains(&c.birth_year));
        }
    }
}

#[test]
fn values_are_in_their_domains() {
    for d in [tiny(), small()] {
        for p in &d.products {
            assert!(
                p.unit_cost > Decimal::ZERO && p.unit_cost < p.unit_price,
                "{p:?}"
            );
            assert_eq!(p.unit_price.scale(), 2);
            assert!(p.unit_price.to_string().ends_with(".99"));
        }
        let mut items_by_order: HashMap<i64, Vec<i64>> = HashMap::new();
        for i in &d.order_items {
            assert!(i.quantity >= 1 && i.quantity <= 60, "{i:?}");
            assert!(i.discount >= Decimal::ZERO && i.discount <= Decimal::new(30, 2));
            assert!(i.unit_price > Decimal::ZERO);
            items_by_order
                .entry(i.order_id)
                .or_default()
                .push(i.order_item_id);
        }
        let items: HashMap<i64, _> = d.order_items.iter().map(|i| (i.order_item_id, i)).collect();
        let returned: HashSet<i64> = d.returns.iter().map(|r| r.order_item_id).collect();
        for r in &d.returns {
            let i = items[&r.order_item_id];
            let paid = net(i.quantity, i.unit_price, i.discount)
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            assert_eq!(r.refund_amount, paid);
        }
        for o in &d.orders {
            let lines = &items_by_order[&o.order_id];
            let back = lines.iter().filter(|i| returned.contains(i)).count();
            match o.status {
                OrderStatus::Returned => assert_eq!(back, lines.len()),
                OrderStatus::Completed => assert!(back < lines.len()),
                OrderStatus::Cancelled | OrderStatus::Shipped => assert_eq!(back, 0),
            }
            if o.status == OrderStatus::Cancelled || o.channel == Channel::InStore {
                assert_eq!(o.shipping_cost, Decimal::ZERO);
            }
            if o.status == OrderStatus::Shipped {
                assert_eq!(o.channel, Channel::Online);
                assert!(o.order_date.month() == 12 && o.order_date.year() == 2024);
            }
        }
        let reasons: HashSet<&str> = d.returns.iter().map(|r| r.reason.as_str()).collect();
        assert!((3..=6).contains(&reasons.len()), "{reasons:?}");
    }
}

/// Revenue of the orders that were not cancelled, by a key of the order and line.
fn revenue_by<K: std::hash::Hash + Eq>(
    d: &Dataset,
    key: impl Fn(&cbi_demo::Order, &cbi_demo::OrderItem) -> K,
) -> HashMap<K, Decimal> {
    let orders: HashMap<i64, _> = d.orders.iter().map(|o| (o.order_id, o)).collect();
    let mut out = HashMap::new();
    for i in &d.order_items {
        let o = orders[&i.order_id];
        if o.status == OrderStatus::Cancelled {
            continue;
        }
        *out.entry(key(o, i)).or_insert(Decimal::ZERO) += net(i.quantity, i.unit_price, i.discount);
    }
    out
}

#[test]
fn small_has_seasons_and_growth() {
    let d = small();
    let by_month = revenue_by(d, |o, _| (o.order_date.year(), o.order_date.month()));
    for year in 2022..=2024 {
        assert!(
            by_month[&(year, 12)] > by_month[&(year, 2)],
            "{year}: December beats February"
        );
        assert!(
            by_month[&(year, 11)] > by_month[&(year, 10)],
            "{year}: November beats October"
        );
        assert!(
            by_month[&(year, 1)] < by_month[&(year, 3)],
            "{year}: January dip"
        );
    }
    let by_year = revenue_by(d, |o, _| o.order_date.year());
    assert!(by_year[&2024] > by_year[&2022]);
    for (a, b) in [(2022, 2023), (2023, 2024)] {
        let growth = (by_year[&b] / by_year[&a] - Decimal::ONE) * Decimal::ONE_HUNDRED;
        assert!(
            growth > Decimal::from(5) && growth < Decimal::from(30),
            "{a}→{b}: {growth}%"
        );
    }

    // Outdoor goods sell in summer.
    let outdoor: HashSet<i64> = d
        .categories
        .iter()
        .filter(|c| c.department == "Outdoor")
        .map(|c| c.category_id)
        .collect();
    let product_category: HashMap<i64, i64> = d
        .products
        .iter()
        .map(|p| (p.product_id, p.category_id))
        .collect();
    let outdoor_by_month = revenue_by(d, |o, i| {
        (
            outdoor.contains(&product_category[&i.product_id]),
            o.order_date.month(),
        )
    });
    assert!(outdoor_by_month[&(true, 7)] > outdoor_by_month[&(true, 1)] * Decimal::TWO);
}

#[test]
fn small_has_skew_regions_and_channels() {
    let d = small();
    let customer_region: HashMap<i64, i64> = d
        .customers
        .iter()
        .map(|c| (c.customer_id, c.region_id))
        .collect();
    let by_region = revenue_by(d, |o, _| customer_region[&o.customer_id]);
    let name = |id: i64| d.regions[id as usize - 1].name.as_str();
    let mut ranked: Vec<(&str, Decimal)> = by_region.iter().map(|(&r, &v)| (name(r), v)).collect();
    ranked.sort_by_key(|r| std::cmp::Reverse(r.1));
    assert_eq!(ranked.first().unwrap().0, "West", "{ranked:?}");
    assert_eq!(ranked.last().unwrap().0, "Central", "{ranked:?}");

    let total: Decimal = by_region.values().sum();
    let top_share = |by: HashMap<i64, Decimal>| {
        let mut v: Vec<Decimal> = by.into_values().collect();
        v.sort_by(|a, b| b.cmp(a));
        let top: Decimal = v.iter().take(v.len().div_ceil(10)).sum();
        top / total
    };
    let customers = top_share(revenue_by(d, |o, _| o.customer_id));
    let products = top_share(revenue_by(d, |_, i| i.product_id));
    assert!(
        customers > Decimal::new(30, 2),
        "top 10% of customers: {customers}"
    );
    assert!(
        products > Decimal::new(35, 2),
        "top 10% of products: {products}"
    );

    let mut online: HashMap<&str, (u32, u32)> = HashMap::new();
    for o in &d.orders {
        let e = online
            .entry(name(customer_region[&o.customer_id]))
            .or_default();
        e.1 += 1;
        if o.channel == Channel::Online {
            e.0 += 1;
        }
    }
    let share = |r: &str| f64::from(online[r].0) / f64::from(online[r].1);
    assert!(share("West") > share("Central") + 0.10, "{online:?}");
    assert!(
        share("Central") > 0.15 && share("West") < 0.75,
        "{online:?}"
    );

    let corporate: HashSet<i64> = d
        .customers
        .iter()
        .filter(|c| c.segment == Segment::Corporate)
        .map(|c| c.customer_id)
        .collect();
    let corporate_share = d.customers.len() as f64 / corporate.len() as f64;
    assert!((3.5..=8.0).contains(&corporate_share), "{corporate_share}");
}

#[test]
fn small_has_realistic_cancellations_and_returns() {
    let d = small();
    let orders = d.orders.len() as f64;
    let cancelled = d
        .orders
        .iter()
        .filter(|o| o.status == OrderStatus::Cancelled)
        .count() as f64;
    assert!(
        (0.02..=0.04).contains(&(cancelled / orders)),
        "{cancelled}/{orders}"
    );

    let delivered: HashSet<i64> = d
        .orders
        .iter()
        .filter(|o| matches!(o.status, OrderStatus::Completed | OrderStatus::Returned))
        .map(|o| o.order_id)
        .collect();
    let delivered_items = d
        .order_items
        .iter()
        .filter(|i| delivered.contains(&i.order_id))
        .count() as f64;
    let rate = d.returns.len() as f64 / delivered_items;
    assert!((0.03..=0.05).contains(&rate), "return rate {rate}");

    let returned_orders = d
        .orders
        .iter()
        .filter(|o| o.status == OrderStatus::Returned)
        .count();
    assert!(returned_orders > 0);
    assert!(d.orders.iter().any(|o| o.status == OrderStatus::Shipped));
}
