//! The generator: dimensions up front, then the facts (orders, their items, returns) one month
//! at a time.

use std::collections::HashSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::DemoSize;
use crate::catalog::{self, CATEGORIES, REGIONS, RETURN_REASONS};
use crate::rng::{Cumulative, Rng, zipf_weight};
use crate::rows::{
    Category, Channel, Customer, Order, OrderItem, OrderStatus, Product, Region, Return, RowCounts,
    Segment, Store, StoreType, Table,
};

/// The first day with orders.
pub const FIRST_ORDER_DATE: NaiveDate = ymd(2022, 1, 1);
/// The last day with orders, and the last day of everything else (signups, returns).
pub const LAST_DATE: NaiveDate = ymd(2024, 12, 31);

/// Online orders placed after this day have not arrived by the end of the data.
const IN_TRANSIT_AFTER: NaiveDate = ymd(2024, 12, 25);

/// The key of the random stream. Changing it changes every row.
const SEED: [u8; 32] = *b"cbi retail demo, seed number 001";

/// Independent random streams, so a change in how one part draws leaves the others alone.
const STREAM_STORES: u64 = 1;
const STREAM_CUSTOMERS: u64 = 2;
const STREAM_PRODUCTS: u64 = 3;
const STREAM_FACTS: u64 = 4;

const fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(date) => date,
        None => panic!("invalid constant date"),
    }
}

/// A uniformly drawn day in `from..=to`.
fn day_between(rng: &mut Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(0) as u64;
    add_days(from, rng.below(span + 1))
}

fn add_days(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_add_days(Days::new(n)).unwrap_or(NaiveDate::MAX)
}

fn money(cents: u64) -> Decimal {
    Decimal::new(cents as i64, 2)
}

/// `cents × percent / 100`, rounded half up.
fn percent_of(cents: u64, percent: u64) -> u64 {
    (cents * percent + 50) / 100
}

/// The tables that describe the business: small, generated up front and kept in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dimensions {
    pub regions: Vec<Region>,
    pub stores: Vec<Store>,
    pub customers: Vec<Customer>,
    pub categories: Vec<Category>,
    pub products: Vec<Product>,
}

impl Dimensions {
    /// Rows per table (the fact tables count zero).
    pub fn row_counts(&self) -> RowCounts {
        let mut c = RowCounts::default();
        c.add(Table::Regions, self.regions.len() as u64);
        c.add(Table::Stores, self.stores.len() as u64);
        c.add(Table::Customers, self.customers.len() as u64);
        c.add(Table::Categories, self.categories.len() as u64);
        c.add(Table::Products, self.products.len() as u64);
        c
    }
}

/// One calendar month of facts. Every foreign key in it points into the [`Dimensions`] or into
/// the same or an earlier batch, so batches can be written in order as they come.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FactBatch {
    pub orders: Vec<Order>,
    pub order_items: Vec<OrderItem>,
    pub returns: Vec<Return>,
}

impl FactBatch {
    /// Rows per table (the dimension tables count zero).
    pub fn row_counts(&self) -> RowCounts {
        let mut c = RowCounts::default();
        c.add(Table::Orders, self.orders.len() as u64);
        c.add(Table::OrderItems, self.order_items.len() as u64);
        c.add(Table::Returns, self.returns.len() as u64);
        c
    }
}

/// The whole demo database in memory: what tests and small sizes use.
///
/// For `large` and custom sizes prefer [`Generator`], which yields the facts month by month;
/// both produce exactly the same rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub size: DemoSize,
    pub regions: Vec<Region>,
    pub stores: Vec<Store>,
    pub customers: Vec<Customer>,
    pub categories: Vec<Category>,
    pub products: Vec<Product>,
    pub orders: Vec<Order>,
    pub order_items: Vec<OrderItem>,
    pub returns: Vec<Return>,
}

impl Dataset {
    /// Generates every row for `size`. The same size gives the same rows, always.
    pub fn generate(size: DemoSize) -> Dataset {
        let mut g = Generator::new(size);
        let (mut orders, mut order_items, mut returns) = (Vec::new(), Vec::new(), Vec::new());
        for batch in g.by_ref() {
            orders.extend(batch.orders);
            order_items.extend(batch.order_items);
            returns.extend(batch.returns);
        }
        let d = g.into_dimensions();
        Dataset {
            size,
            regions: d.regions,
            stores: d.stores,
            customers: d.customers,
            categories: d.categories,
            products: d.products,
            orders,
            order_items,
            returns,
        }
    }

    /// Rows per table.
    pub fn row_counts(&self) -> RowCounts {
        let mut c = RowCounts::default();
        c.add(Table::Regions, self.regions.len() as u64);
        c.add(Table::Stores, self.stores.len() as u64);
        c.add(Table::Customers, self.customers.len() as u64);
        c.add(Table::Categories, self.categories.len() as u64);
        c.add(Table::Products, self.products.len() as u64);
        c.add(Table::Orders, self.orders.len() as u64);
        c.add(Table::OrderItems, self.order_items.len() as u64);
        c.add(Table::Returns, self.returns.len() as u64);
        c
    }
}

/// Streams the demo database: [`Generator::dimensions`] first, then one [`FactBatch`] per
/// month from January 2022 to December 2024 (36 batches), so even `large` needs only a month of
/// facts in memory at a time.
pub struct Generator {
    dims: Dimensions,
    model: Model,
    rng: Rng,
    /// Order items to have generated by the end of each day (cumulative).
    item_targets: Vec<u64>,
    next_day: usize,
    next_order_id: i64,
    next_item_id: i64,
    next_return_id: i64,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("dimensions", &self.dims.row_counts())
            .field(
                "next_day",
                &add_days(FIRST_ORDER_DATE, self.next_day as u64),
            )
            .finish_non_exhaustive()
    }
}

impl Generator {
    /// Builds the dimensions for `size` and prepares the facts.
    pub fn new(size: DemoSize) -> Generator {
        let regions = gen_regions();
        let stores = gen_stores(size, &mut Rng::new(SEED, STREAM_STORES));
        let customers = gen_customers(size, &mut Rng::new(SEED, STREAM_CUSTOMERS));
        let categories = gen_categories();
        let (products, ranks) = gen_products(size, &mut Rng::new(SEED, STREAM_PRODUCTS));
        let dims = Dimensions {
            regions,
            stores,
            customers,
            categories,
            products,
        };
        let mut rng = Rng::new(SEED, STREAM_FACTS);
        let model = Model::new(&dims, &ranks, &mut rng);
        Generator {
            item_targets: allocate_items(size.target_order_items())
                .into_iter()
                .scan(0, |sum, n| {
                    *sum += n;
                    Some(*sum)
                })
                .collect(),
            dims,
            model,
            rng,
            next_day: 0,
            next_order_id: 1,
            next_item_id: 1,
            next_return_id: 1,
        }
    }

    /// The dimension tables, complete.
    pub fn dimensions(&self) -> &Dimensions {
        &self.dims
    }

    /// Gives up the dimensions (after the batches were consumed, or instead of them).
    pub fn into_dimensions(self) -> Dimensions {
        self.dims
    }

    /// Generates a day's orders until `target` order items exist in total. An order may run
    /// past the day's share (the next day makes up for it), but never past the size's total,
    /// which comes out exact.
    fn day(&mut self, date: NaiveDate, target: u64, out: &mut FactBatch) {
        let total = self.item_targets.last().copied().unwrap_or(0);
        let cal = DayFacts::of(date);
        let year = (date.year() - FIRST_ORDER_DATE.year()).clamp(0, 2) as u64;
        let month = date.month0() as usize;
        loop {
            let generated = (self.next_item_id - 1) as u64;
            if generated >= target {
                break;
            }
            let rng = &mut self.rng;
            let m = &self.model;
            let signed_up = m.signups.partition_point(|&d| d <= date).max(1);
            let ci = m
                .customer_weights
                .sample_prefix(rng, signed_up)
                .unwrap_or(0);
            let customer = &self.dims.customers[ci];
            let region = m.customer_region[ci];
            let b2b = customer.segment != Segment::Consumer;

            let mut online_permille =
                REGIONS[region].online_permille + 30 * year + if b2b { 100 } else { 0 };
            if cal.cyber_monday {
                online_permille = 850;
            } else if cal.black_friday {
                online_permille = online_permille.saturating_sub(120);
            }
            let physical = &m.physical[region];
            let open = physical.opened.partition_point(|&d| d <= date);
            let in_store = !cal.stores_closed && !rng.chance(online_permille) && open > 0;
            let (channel, store) = match physical.weights.sample_prefix(rng, open) {
                Some(i) if in_store => (Channel::InStore, i),
                _ => (Channel::Online, usize::MAX),
            };
            let (store_id, store_type) = if channel == Channel::Online {
                (m.online_store[region], StoreType::Online)
            } else {
                (physical.ids[store], physical.types[store])
            };

            let size_weights: &[u64] = if b2b {
                &[25, 25, 20, 15, 10, 5]
            } else {
                &[45, 27, 14, 8, 4, 2]
            };
            let lines = (rng.weighted(size_weights) as u64 + 1).min(total - generated);

            let mut status = if rng.chance(30) {
                OrderStatus::Cancelled
            } else if channel == Channel::Online && date > IN_TRANSIT_AFTER {
                OrderStatus::Shipped
            } else {
                OrderStatus::Completed
            };

            let order_id = self.next_order_id;
            self.next_order_id += 1;
            let first_item = out.order_items.len();
            let mut chosen: Vec<usize> = Vec::with_capacity(lines as usize);
            let mut subtotal = 0u64;
            let mut furniture = false;
            let mut returned = 0u64;
            for _ in 0..lines {
                let cat = rng.weighted(&m.category_weights[month]);
                let pc = &m.categories[cat];
                let launched = pc.launched.partition_point(|&d| d <= date);
                let mut pick = pc.weights.sample_prefix(rng, launched).unwrap_or(0);
                for _ in 0..8 {
                    if !chosen.contains(&pc.products[pick]) {
                        break;
                    }
                    pick = pc.weights.sample_prefix(rng, launched).unwrap_or(0);
                }
                let pi = pc.products[pick];
                chosen.push(pi);
                let list_cents = m.list_cents[pi];
                let price = price_in_year(list_cents, year);
                furniture |= CATEGORIES[cat].name == "Furniture";

                let mut quantity = if price >= 30_000 {
                    [1, 2][rng.weighted(&[95, 5])]
                } else if price >= 5_000 {
                    [1, 2, 3][rng.weighted(&[78, 16, 6])]
                } else {
                    [1, 2, 3, 4, 5, 6][rng.weighted(&[52, 26, 12, 6, 2, 2])]
                };
                // Businesses sometimes buy in bulk.
                if b2b && price < 30_000 && rng.chance(150) {
                    quantity *= rng.between(2, 5);
                } else if b2b && rng.chance(60) {
                    quantity = rng.between(2, 8);
                }

                let mut discount_chance = 200;
                if store_type == StoreType::Outlet {
                    discount_chance += 300;
                }
                if cal.sale {
                    discount_chance += 300;
                }
                let discount = if customer.segment == Segment::Corporate && rng.chance(300) {
                    10
                } else if rng.chance(discount_chance) {
                    [5, 10, 15, 20, 25, 30][rng.weighted(&[30, 30, 15, 12, 8, 5])]
                } else {
                    0
                };
                let net = percent_of(quantity * price, 100 - discount);
                subtotal += net;

                let item_id = self.next_item_id;
                self.next_item_id += 1;
                out.order_items.push(OrderItem {
                    order_item_id: item_id,
                    order_id,
                    product_id: self.dims.products[pi].product_id,
                    quantity: quantity as i64,
                    unit_price: money(price),
                    discount: Decimal::new(discount as i64, 2),
                });

                if status == OrderStatus::Completed {
                    let base = CATEGORIES[cat].return_permille;
                    let permille = if channel == Channel::Online {
                        base + 10
                    } else {
                        base - 10
                    };
                    if rng.chance(permille) {
                        let return_date = add_days(date, rng.between(3, 45));
                        if return_date <= LAST_DATE {
                            let profile = CATEGORIES[cat].reasons as usize;
                            let mut weights = RETURN_REASONS.map(|(_, w)| w[profile]);
                            if channel == Channel::InStore {
                                weights[catalog::DAMAGED_IN_SHIPPING] = 0;
                            }
                            let reason = RETURN_REASONS[rng.weighted(&weights)].0;
                            out.returns.push(Return {
                                return_id: self.next_return_id,
                                order_item_id: item_id,
                                return_date,
                                reason: reason.to_string(),
                                refund_amount: money(net),
                            });
                            self.next_return_id += 1;
                            returned += 1;
                        }
                    }
                }
            }
            debug_assert_eq!(out.order_items.len() - first_item, lines as usize);
            if returned == lines {
                status = OrderStatus::Returned;
            }
            let shipping = match (channel, status) {
                (_, OrderStatus::Cancelled) | (Channel::InStore, _) => 0,
                (Channel::Online, _) if furniture => 4_999,
                (Channel::Online, _) if subtotal >= 7_500 => 0,
                (Channel::Online, _) => 699,
            };
            out.orders.push(Order {
                order_id,
                customer_id: customer.customer_id,
                store_id,
                order_date: date,
                status,
                channel,
                shipping_cost: money(shipping),
            });
        }
    }
}

impl Iterator for Generator {
    type Item = FactBatch;

    /// The next month's facts; `None` after December 2024.
    fn next(&mut self) -> Option<FactBatch> {
        let days = self.item_targets.len();
        if self.next_day >= days {
            return None;
        }
        let mut batch = FactBatch::default();
        let month = add_days(FIRST_ORDER_DATE, self.next_day as u64).month();
        while self.next_day < days {
            let date = add_days(FIRST_ORDER_DATE, self.next_day as u64);
            if date.month() != month {
                break;
            }
            let target = self.item_targets[self.next_day];
            self.day(date, target, &mut batch);
            self.next_day += 1;
        }
        Some(batch)
    }
}

/// The list price of a product in an earlier year: prices rose about 3 % a year, and every
/// price ends in .99.
fn price_in_year(list_cents: u64, year: u64) -> u64 {
    let factor = [94, 97, 100][year.min(2) as usize];
    let dollars = (list_cents + 1) * factor / 100 / 100;
    (dollars * 100).saturating_sub(1).max(99)
}

/// What kind of day a date is, for volumes, channels and discounts.
struct DayFacts {
    thanksgiving: bool,
    black_friday: bool,
    cyber_monday: bool,
    /// Physical stores are closed (Thanksgiving, Christmas, New Year's Day): online only.
    stores_closed: bool,
    /// A sale is on (Black Friday week to Cyber Monday, after Christmas, early January).
    sale: bool,
    /// The December rush before Christmas.
    rush: bool,
}

impl DayFacts {
    fn of(date: NaiveDate) -> DayFacts {
        let thanksgiving_day =
            NaiveDate::from_weekday_of_month_opt(date.year(), 11, Weekday::Thu, 4);
        let offset = thanksgiving_day.map(|t| (date - t).num_days());
        let (m, d) = (date.month(), date.day());
        let christmas = m == 12 && d == 25;
        let new_year = m == 1 && d == 1;
        DayFacts {
            thanksgiving: offset == Some(0),
            black_friday: offset == Some(1),
            cyber_monday: offset == Some(4),
            stores_closed: offset == Some(0) || christmas || new_year,
            sale: offset.is_some_and(|o| (-6..=4).contains(&o))
                || (m == 12 && d >= 26)
                || (m == 1 && d <= 15),
            rush: m == 12 && (10..=23).contains(&d),
        }
    }

    /// The day's share of the year's volume, before the yearly growth.
    fn weight(&self, date: NaiveDate) -> u64 {
        const MONTH: [u64; 12] = [78, 84, 96, 97, 100, 102, 104, 103, 95, 100, 118, 145];
        let weekday = match date.weekday() {
            Weekday::Mon => 92,
            Weekday::Tue => 90,
            Weekday::Wed => 93,
            Weekday::Thu => 97,
            Weekday::Fri => 108,
            Weekday::Sat => 128,
            Weekday::Sun => 112,
        };
        let special = if self.black_friday {
            300
        } else if self.cyber_monday {
            220
        } else if self.thanksgiving {
            50
        } else if self.stores_closed {
            35
        } else if self.rush {
            125
        } else {
            100
        };
        MONTH[date.month0() as usize] * weekday * special
    }
}

/// Order items per day: exactly `total`, spread by seasonality, weekday, holidays and yearly
/// growth (about 12 % a year), with the rounding remainders given to the days that lost most.
fn allocate_items(total: u64) -> Vec<u64> {
    const GROWTH: [u64; 3] = [100, 112, 125];
    let days = (LAST_DATE - FIRST_ORDER_DATE).num_days() as u64 + 1;
    let weights: Vec<u128> = (0..days)
        .map(|i| {
            let date = add_days(FIRST_ORDER_DATE, i);
            let year = (date.year() - FIRST_ORDER_DATE.year()).clamp(0, 2) as usize;
            u128::from(DayFacts::of(date).weight(date) * GROWTH[year])
        })
        .collect();
    let sum: u128 = weights.iter().sum();
    let total128 = u128::from(total);
    let mut items: Vec<u64> = weights
        .iter()
        .map(|w| (total128 * w / sum) as u64)
        .collect();
    let assigned: u64 = items.iter().sum();
    let mut by_remainder: Vec<(u128, usize)> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| (total128 * w % sum, i))
        .collect();
    by_remainder.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in by_remainder.iter().take((total - assigned) as usize) {
        items[i] += 1;
    }
    items
}

fn gen_regions() -> Vec<Region> {
    REGIONS
        .iter()
        .enumerate()
        .map(|(i, r)| Region {
            region_id: i as i64 + 1,
            name: r.name.to_string(),
        })
        .collect()
}

fn gen_categories() -> Vec<Category> {
    CATEGORIES
        .iter()
        .enumerate()
        .map(|(i, c)| Category {
            category_id: i as i64 + 1,
            name: c.name.to_string(),
            department: c.department.to_string(),
        })
        .collect()
}

/// Splits `total` by `weights` (largest remainder), giving every part at least `min`.
fn apportion(total: u64, weights: &[u64], min: u64) -> Vec<u64> {
    let base = min * weights.len() as u64;
    let extra = total.saturating_sub(base);
    let sum: u64 = weights.iter().sum::<u64>().max(1);
    let mut parts: Vec<u64> = weights.iter().map(|w| min + extra * w / sum).collect();
    let mut order: Vec<(u64, usize)> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| (extra * w % sum, i))
        .collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let assigned: u64 = parts.iter().sum();
    for &(_, i) in order.iter().take(total.saturating_sub(assigned) as usize) {
        parts[i] += 1;
    }
    parts
}

fn gen_stores(size: DemoSize, rng: &mut Rng) -> Vec<Store> {
    const MALLS: [&str; 6] = [
        "Galleria",
        "Town Center",
        "Crossing",
        "Plaza",
        "Commons",
        "Square",
    ];
    const LATER: [StoreType; 6] = [
        StoreType::Mall,
        StoreType::Outlet,
        StoreType::Mall,
        StoreType::Flagship,
        StoreType::Mall,
        StoreType::Outlet,
    ];
    let weights: Vec<u64> = REGIONS.iter().map(|r| r.customer_weight).collect();
    let counts = apportion(size.physical_stores(), &weights, 1);
    let mut names = HashSet::new();
    let mut stores = Vec::new();
    for (ri, spec) in REGIONS.iter().enumerate() {
        let region_id = ri as i64 + 1;
        stores.push(Store {
            store_id: 0,
            name: format!("{} Online", spec.name),
            city: spec.cities[0].to_string(),
            region_id,
            store_type: StoreType::Online,
            opened_on: day_between(rng, ymd(2014, 1, 1), ymd(2016, 12, 31)),
        });
        for i in 0..counts[ri] as usize {
            let store_type = if i == 0 {
                StoreType::Flagship
            } else {
                LATER[(i - 1) % LATER.len()]
            };
            let city = spec.cities[i % spec.cities.len()];
            let base = match store_type {
                StoreType::Flagship => format!("{city} Flagship"),
                StoreType::Outlet => format!("{city} Outlet"),
                _ => format!("{city} {}", MALLS[rng.below(MALLS.len() as u64) as usize]),
            };
            let mut name = base.clone();
            let mut n = 2;
            while !names.insert(name.clone()) {
                name = format!("{base} {n}");
                n += 1;
            }
            let opened_on = if i == 0 {
                day_between(rng, ymd(2008, 1, 1), ymd(2016, 12, 31))
            } else if rng.chance(750) {
                day_between(rng, ymd(2008, 1, 1), ymd(2021, 12, 31))
            } else {
                day_between(rng, ymd(2022, 1, 1), ymd(2024, 6, 30))
            };
            stores.push(Store {
                store_id: 0,
                name,
                city: city.to_string(),
                region_id,
                store_type,
                opened_on,
            });
        }
    }
    stores.sort_by_key(|s| s.opened_on);
    for (i, s) in stores.iter_mut().enumerate() {
        s.store_id = i as i64 + 1;
    }
    stores
}

/// A name reduced to the letters of an email address: accents folded, apostrophes dropped.
fn email_part(name: &str) -> String {
    name.chars()
        .filter_map(|c| {
            let c = match c {
                'á' | 'à' | 'â' | 'ä' => 'a',
                'é' | 'è' | 'ê' | 'ë' => 'e',
                'í' | 'ì' | 'î' | 'ï' => 'i',
                'ó' | 'ò' | 'ô' | 'ö' => 'o',
                'ú' | 'ù' | 'û' | 'ü' => 'u',
                'ñ' => 'n',
                'ç' => 'c',
                c => c,
            };
            c.is_ascii_alphanumeric().then(|| c.to_ascii_lowercase())
        })
        .collect()
}

fn gen_customers(size: DemoSize, rng: &mut Rng) -> Vec<Customer> {
    let n = size.customers();
    let region_weights: Vec<u64> = REGIONS.iter().map(|r| r.customer_weight).collect();
    // About a third signed up before the orders start; the rest arrive at a growing pace.
    let early = (n * 35 / 100).max(1);
    let mut customers: Vec<Customer> = (0..n)
        .map(|i| {
            let ri = rng.weighted(&region_weights);
            let cities = REGIONS[ri].cities;
            let city_weights: Vec<u64> = (0..cities.len() as u64).map(|k| 120 / (k + 2)).collect();
            let city = cities[rng.weighted(&city_weights)];
            let segment = [
                Segment::Consumer,
                Segment::Corporate,
                Segment::SmallBusiness,
            ][rng.weighted(&[70, 18, 12])];
            let first = catalog::FIRST_NAMES[rng.below(catalog::FIRST_NAMES.len() as u64) as usize];
            let last = catalog::LAST_NAMES[rng.below(catalog::LAST_NAMES.len() as u64) as usize];
            let domain =
                catalog::EMAIL_DOMAINS[rng.below(catalog::EMAIL_DOMAINS.len() as u64) as usize];
            let signup_date = if i < early {
                day_between(rng, ymd(2019, 1, 1), ymd(2021, 12, 31))
            } else {
                let year = 2022 + rng.weighted(&[28, 33, 39]) as i32;
                day_between(rng, ymd(year, 1, 1), ymd(year, 12, 31))
            };
            let birth_year = if segment == Segment::Consumer {
                1946 + rng.below(30) + rng.below(30)
            } else {
                1955 + rng.below(22) + rng.below(22)
            };
            Customer {
                customer_id: 0,
                first_name: first.to_string(),
                last_name: last.to_string(),
                email: domain.to_string(),
                city: city.to_string(),
                region_id: ri as i64 + 1,
                segment,
                signup_date,
                birth_year: birth_year as i64,
            }
        })
        .collect();
    customers.sort_by_key(|c| c.signup_date);
    let mut emails = HashSet::new();
    for (i, c) in customers.iter_mut().enumerate() {
        c.customer_id = i as i64 + 1;
        let local = format!("{}.{}", email_part(&c.first_name), email_part(&c.last_name));
        let domain = std::mem::take(&mut c.email);
        let mut email = format!("{local}@{domain}");
        let mut k = 2;
        while !emails.insert(email.clone()) {
            email = format!("{local}{k}@{domain}");
            k += 1;
        }
        c.email = email;
    }
    customers
}

/// Products, plus each product's popularity rank within its category (0 = best seller).
fn gen_products(size: DemoSize, rng: &mut Rng) -> (Vec<Product>, Vec<u64>) {
    let per_category = size.products_per_category() as usize;
    let mut products = Vec::new();
    for (ci, spec) in CATEGORIES.iter().enumerate() {
        let mut combos: Vec<(usize, usize, usize)> = Vec::new();
        for b in 0..spec.brands.len() {
            for l in 0..spec.lines.len() {
                for n in 0..spec.nouns.len() {
                    combos.push((b, l, n));
                }
            }
        }
        rng.shuffle(&mut combos);
        for (rank, &(b, l, n)) in combos.iter().take(per_category).enumerate() {
            let noun = &spec.nouns[n];
            let tiers = spec.lines.len() as u64;
            let position = l as u64 * 1000 + rng.below(1000);
            let dollars = noun.min_dollars
                + (noun.max_dollars - noun.min_dollars) * position / (tiers * 1000);
            let price = dollars * 100 - 1;
            let cost = price * rng.between(spec.cost_permille.0, spec.cost_permille.1) / 1000;
            let launched_on = if rank == 0 || rng.chance(720) {
                day_between(rng, ymd(2017, 1, 1), ymd(2021, 12, 31))
            } else {
                day_between(rng, ymd(2022, 1, 1), ymd(2024, 10, 31))
            };
            products.push((
                Product {
                    product_id: 0,
                    name: format!("{} {} {}", spec.brands[b], spec.lines[l], noun.name),
                    category_id: ci as i64 + 1,
                    brand: spec.brands[b].to_string(),
                    unit_price: money(price),
                    unit_cost: money(cost),
                    launched_on,
                },
                rank as u64,
            ));
        }
    }
    products.sort_by_key(|(p, _)| p.launched_on);
    products
        .into_iter()
        .enumerate()
        .map(|(i, (mut p, rank))| {
            p.product_id = i as i64 + 1;
            (p, rank)
        })
        .unzip()
}

/// Lookup tables the fact generator draws from, derived once from the dimensions.
struct Model {
    /// Signup dates in customer order (ascending).
    signups: Vec<NaiveDate>,
    customer_weights: Cumulative,
    customer_region: Vec<usize>,
    online_store: Vec<i64>,
    physical: Vec<PhysicalStores>,
    categories: Vec<CategoryProducts>,
    /// Relative weight of each category per month.
    category_weights: [[u64; 12]; 12],
    list_cents: Vec<u64>,
}

/// A region's physical stores in opening order.
struct PhysicalStores {
    ids: Vec<i64>,
    types: Vec<StoreType>,
    opened: Vec<NaiveDate>,
    weights: Cumulative,
}

/// A category's products in launch order.
struct CategoryProducts {
    /// Indexes into `Dimensions::products`.
    products: Vec<usize>,
    launched: Vec<NaiveDate>,
    weights: Cumulative,
}

impl Model {
    fn new(dims: &Dimensions, product_ranks: &[u64], rng: &mut Rng) -> Model {
        let n = dims.customers.len() as u64;
        let mut ranks: Vec<u64> = (0..n).collect();
        rng.shuffle(&mut ranks);
        let customer_weights = Cumulative::new(dims.customers.iter().zip(&ranks).map(|(c, &r)| {
            let w = zipf_weight(r, n);
            match c.segment {
                Segment::Consumer => w,
                Segment::Corporate => w * 3 / 2,
                Segment::SmallBusiness => w * 5 / 4,
            }
        }));
        let region_index = |id: i64| (id - 1).clamp(0, REGIONS.len() as i64 - 1) as usize;

        let mut online_store = vec![0; REGIONS.len()];
        let mut physical: Vec<PhysicalStores> = Vec::new();
        for (ri, online) in online_store.iter_mut().enumerate() {
            let mine: Vec<&Store> = dims
                .stores
                .iter()
                .filter(|s| region_index(s.region_id) == ri)
                .collect();
            let mut p = PhysicalStores {
                ids: Vec::new(),
                types: Vec::new(),
                opened: Vec::new(),
                weights: Cumulative::new([]),
            };
            let mut weights = Vec::new();
            for s in mine {
                if s.store_type == StoreType::Online {
                    *online = s.store_id;
                    continue;
                }
                p.ids.push(s.store_id);
                p.types.push(s.store_type);
                p.opened.push(s.opened_on);
                weights.push(match s.store_type {
                    StoreType::Flagship => 5,
                    StoreType::Mall => 3,
                    _ => 2,
                });
            }
            p.weights = Cumulative::new(weights);
            physical.push(p);
        }

        let categories = (0..CATEGORIES.len())
            .map(|ci| {
                let idx: Vec<usize> = dims
                    .products
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.category_id == ci as i64 + 1)
                    .map(|(i, _)| i)
                    .collect();
                let count = idx.len() as u64;
                CategoryProducts {
                    launched: idx.iter().map(|&i| dims.products[i].launched_on).collect(),
                    weights: Cumulative::new(
                        idx.iter().map(|&i| zipf_weight(product_ranks[i], count)),
                    ),
                    products: idx,
                }
            })
            .collect();

        let mut category_weights = [[0; 12]; 12];
        for (m, row) in category_weights.iter_mut().enumerate() {
            for (c, w) in row.iter_mut().enumerate() {
                *w = CATEGORIES[c].popularity * CATEGORIES[c].season[m];
            }
        }

        Model {
            signups: dims.customers.iter().map(|c| c.signup_date).collect(),
            customer_weights,
            customer_region: dims
                .customers
                .iter()
                .map(|c| region_index(c.region_id))
                .collect(),
            online_store,
            physical,
            categories,
            category_weights,
            list_cents: dims
                .products
                .iter()
                .map(|p| (p.unit_price * Decimal::ONE_HUNDRED).to_u64().unwrap_or(0))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_allocated_exactly_and_seasonally() {
        for total in [1, 7, 2_000, 27_500] {
            let days = allocate_items(total);
            assert_eq!(days.len(), 1096);
            assert_eq!(days.iter().sum::<u64>(), total);
        }
        let days = allocate_items(1_000_000);
        let on = |y, m, d| days[(ymd(y, m, d) - FIRST_ORDER_DATE).num_days() as usize];
        // Black Friday 2023 was 24 November; a Friday two weeks earlier for comparison.
        assert!(on(2023, 11, 24) > 2 * on(2023, 11, 10));
        assert!(on(2023, 12, 25) < on(2023, 12, 22));
        assert!(on(2024, 7, 6) > on(2022, 7, 9), "growth");
    }

    #[test]
    fn calendar_knows_the_holidays() {
        assert!(DayFacts::of(ymd(2022, 11, 24)).thanksgiving);
        assert!(DayFacts::of(ymd(2022, 11, 25)).black_friday);
        assert!(DayFacts::of(ymd(2022, 11, 28)).cyber_monday);
        assert!(DayFacts::of(ymd(2024, 12, 25)).stores_closed);
        assert!(DayFacts::of(ymd(2024, 1, 10)).sale);
        assert!(!DayFacts::of(ymd(2024, 3, 10)).sale);
    }

    #[test]
    fn old_prices_end_in_99_and_are_lower() {
        assert_eq!(price_in_year(189_999, 2), 189_999);
        assert_eq!(price_in_year(189_999, 0), 178_599);
        assert_eq!(price_in_year(1_599, 0), 1_499);
        for cents in [1_599, 4_999, 249_999] {
            for y in 0..3 {
                let p = price_in_year(cents, y);
                assert_eq!(p % 100, 99);
                assert!(p <= cents);
            }
        }
    }

    #[test]
    fn apportion_gives_everyone_at_least_the_minimum() {
        assert_eq!(apportion(5, &[18, 21, 23, 28, 10], 1), vec![1, 1, 1, 1, 1]);
        let p = apportion(80, &[18, 21, 23, 28, 10], 1);
        assert_eq!(p.iter().sum::<u64>(), 80);
        assert!(p[3] > p[4]);
    }

    #[test]
    fn emails_are_plain_ascii() {
        assert_eq!(email_part("O'Brien"), "obrien");
        assert_eq!(email_part("Núñez"), "nunez");
        assert_eq!(email_part("Renée"), "renee");
    }
}
