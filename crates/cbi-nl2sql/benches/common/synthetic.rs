//! A deterministic synthetic schema of many tables, and questions over it, for measuring how
//! the embedded generator's latency grows with the size of a schema.
//!
//! The schema looks like a large business database as cbi would see it after augmentation:
//! tables named from business nouns (`shipment_events`, `customer_accounts_17`), 5–25 columns
//! each (keys, names, codes, amounts, quantities, dates, statuses, descriptions, foreign keys to
//! one to three other tables, all declared as relationships), row counts, profiles with
//! descriptions, synonyms, samples and value ranges, and a value index of categorical values.
//! It is built directly, without a database, from a fixed seed: the same call always yields the
//! same schema and the same questions, on every machine.
//!
//! Shared by the criterion bench (`benches/generate.rs`) and `cargo xtask bench`, which includes
//! this file by path; it depends only on `cbi-types` and `cbi-schema`.

use cbi_schema::names::{describe, plural, readable_name, singular};
use cbi_types::{
    AugmentedSchema, ColumnProfile, ColumnSchema, DatabaseSchema, Relationship, RelationshipType,
    SemanticModel, SqlDialect, TableProfile, TableSchema, ValueIndex,
};

/// The seed of [`Synthetic::new`]; changing it changes every table, column and question.
pub const SEED: u64 = 0x00cb_1be7_c400_1000;

/// Tables of the schema the product target speaks of ("also on a synthetic schema of 1,000
/// tables").
pub const TABLES: usize = 1_000;

/// Questions per template in the benchmarks: 30 × 8 templates = 240 questions.
pub const QUESTIONS_PER_KIND: usize = 30;

/// The question templates, in the order [`Synthetic::questions`] lists them.
pub const KINDS: &[&str] = &[
    "count",
    "grouped",
    "filter",
    "top-n",
    "time",
    "value",
    "join",
    "superlative",
];

/// A question over the synthetic schema, with the template it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub kind: &'static str,
    pub text: String,
}

/// The schema and its questions.
#[derive(Debug, Clone)]
pub struct Synthetic {
    pub schema: AugmentedSchema,
    /// `per_kind` questions of each of [`KINDS`], grouped by kind.
    pub questions: Vec<Question>,
}

/// Business nouns tables are named after (singular).
const ENTITIES: &[&str] = &[
    "customer",
    "account",
    "order",
    "invoice",
    "payment",
    "shipment",
    "product",
    "supplier",
    "warehouse",
    "employee",
    "department",
    "contract",
    "campaign",
    "lead",
    "opportunity",
    "ticket",
    "vendor",
    "asset",
    "claim",
    "policy",
    "loan",
    "transaction",
    "subscription",
    "store",
    "branch",
    "project",
    "task",
    "budget",
    "expense",
    "refund",
    "delivery",
    "route",
    "vehicle",
    "driver",
    "patient",
    "appointment",
    "course",
    "student",
    "instructor",
    "partner",
    "reseller",
    "license",
    "device",
    "sensor",
    "incident",
    "survey",
    "member",
    "donation",
    "venue",
    "booking",
    "flight",
    "passenger",
    "carrier",
    "parcel",
    "machine",
    "part",
    "recipe",
    "supplier_site",
    "sales_rep",
    "cost_center",
];

/// Second words of compound table names (plural).
const QUALIFIERS: &[&str] = &[
    "accounts",
    "events",
    "lines",
    "items",
    "payments",
    "notes",
    "schedules",
    "rates",
    "targets",
    "reviews",
    "logs",
    "snapshots",
    "balances",
    "contacts",
    "addresses",
    "assignments",
    "adjustments",
    "allocations",
    "approvals",
    "forecasts",
    "metrics",
    "transfers",
    "visits",
    "quotes",
];

/// Money columns: `DECIMAL(12,2)`.
const AMOUNTS: &[&str] = &[
    "amount",
    "total_amount",
    "unit_price",
    "balance",
    "cost",
    "revenue",
    "discount",
    "tax",
    "fee",
    "credit_limit",
    "salary",
    "budget_amount",
];

/// Counting columns: `INTEGER`.
const QUANTITIES: &[&str] = &[
    "quantity",
    "units",
    "headcount",
    "score",
    "rating",
    "duration_minutes",
    "weight_kg",
];

/// Date and time columns, with their declared types.
const DATES: &[(&str, &str)] = &[
    ("created_at", "TIMESTAMP"),
    ("updated_at", "TIMESTAMP"),
    ("due_date", "DATE"),
    ("start_date", "DATE"),
    ("end_date", "DATE"),
    ("closed_on", "DATE"),
    ("signup_date", "DATE"),
    ("shipped_at", "TIMESTAMP"),
];

/// Free-text columns: never sampled or indexed.
const TEXTS: &[&str] = &["description", "notes", "comment", "address_line"];

/// Code-like columns: unique, a few samples.
const CODES: &[&str] = &["code", "reference", "sku", "external_ref"];

/// Low-cardinality columns and the values they draw from; these fill the value index.
const CATEGORICALS: &[(&str, &[&str])] = &[
    (
        "status",
        &[
            "active",
            "pending",
            "closed",
            "cancelled",
            "on hold",
            "shipped",
            "delivered",
            "overdue",
            "approved",
            "rejected",
            "draft",
            "archived",
        ],
    ),
    ("priority", &["low", "medium", "high", "urgent", "critical"]),
    (
        "channel",
        &[
            "online",
            "retail",
            "partner",
            "phone",
            "email",
            "marketplace",
        ],
    ),
    (
        "category",
        &[
            "Electronics",
            "Furniture",
            "Office Supplies",
            "Apparel",
            "Garden",
            "Toys",
            "Groceries",
            "Sporting Goods",
            "Automotive",
            "Books",
            "Health",
            "Beauty",
            "Hardware",
            "Pet Supplies",
            "Jewelry",
            "Music",
            "Software",
            "Kitchen",
            "Outdoor",
            "Lighting",
        ],
    ),
    (
        "region",
        &[
            "North", "South", "East", "West", "Central", "EMEA", "APAC", "LATAM", "Nordics",
            "Benelux", "Iberia", "Midwest", "Pacific", "Atlantic",
        ],
    ),
    ("tier", &["bronze", "silver", "gold", "platinum"]),
    (
        "segment",
        &[
            "Consumer",
            "Corporate",
            "Home Office",
            "Small Business",
            "Enterprise",
            "Public Sector",
        ],
    ),
    (
        "country",
        &[
            "France",
            "Germany",
            "Spain",
            "Italy",
            "Portugal",
            "Netherlands",
            "Belgium",
            "Sweden",
            "Norway",
            "Denmark",
            "Poland",
            "Austria",
            "Ireland",
            "Canada",
            "Mexico",
            "Brazil",
            "Argentina",
            "Japan",
            "India",
            "Australia",
            "United States",
            "United Kingdom",
            "South Africa",
            "New Zealand",
        ],
    ),
    (
        "city",
        &[
            "Lyon",
            "Hamburg",
            "Valencia",
            "Turin",
            "Porto",
            "Rotterdam",
            "Antwerp",
            "Gothenburg",
            "Bergen",
            "Aarhus",
            "Krakow",
            "Graz",
            "Cork",
            "Toronto",
            "Monterrey",
            "Curitiba",
            "Rosario",
            "Osaka",
            "Pune",
            "Perth",
            "Denver",
            "Leeds",
            "Durban",
            "Wellington",
            "Seattle",
            "Austin",
            "Boston",
            "Chicago",
        ],
    ),
    (
        "currency",
        &["EUR", "USD", "GBP", "JPY", "SEK", "CAD", "BRL"],
    ),
    (
        "payment_method",
        &[
            "card",
            "bank transfer",
            "cash",
            "invoice",
            "direct debit",
            "voucher",
        ],
    ),
    (
        "source",
        &[
            "web form",
            "referral",
            "trade show",
            "cold call",
            "newsletter",
            "social media",
        ],
    ),
];

/// Words of company-like display names ("Northwind Logistics").
const NAME_FIRST: &[&str] = &[
    "Northwind",
    "Blue River",
    "Acme",
    "Silverline",
    "Redwood",
    "Summit",
    "Harbor",
    "Oakridge",
    "Brightstar",
    "Ironbridge",
    "Greenfield",
    "Lakeside",
    "Pinecrest",
    "Stonegate",
    "Sunrise",
    "Westbrook",
    "Clearwater",
    "Goldleaf",
    "Riverside",
    "Maple",
];
const NAME_SECOND: &[&str] = &[
    "Logistics",
    "Foods",
    "Traders",
    "Systems",
    "Partners",
    "Holdings",
    "Supply",
    "Labs",
    "Works",
    "Group",
    "Industries",
    "Services",
];

/// A small, fast, deterministic generator (SplitMix64): the same seed gives the same sequence
/// everywhere, with no dependency and nothing taken from the operating system.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A number in `lo..=hi`.
    fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// What a column is for, so question templates can pick fitting columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Key,
    Name,
    Code,
    Amount,
    Quantity,
    Date,
    Text,
    Flag,
    Categorical,
    Foreign(usize),
}

/// One table as it is being built, with the role of each column.
struct Draft {
    table: TableSchema,
    profile: TableProfile,
    roles: Vec<Role>,
}

impl Draft {
    fn columns_with(&self, pred: impl Fn(Role) -> bool) -> Vec<usize> {
        (0..self.roles.len())
            .filter(|&i| pred(self.roles[i]))
            .collect()
    }
}

impl Synthetic {
    /// Builds a schema of `tables` tables and `per_kind` questions of each kind in [`KINDS`].
    pub fn new(tables: usize, per_kind: usize) -> Synthetic {
        let mut rng = Rng(SEED);
        let names = table_names(&mut rng, tables);
        let mut value_index = ValueIndex::default();
        let mut drafts: Vec<Draft> = Vec::with_capacity(tables);
        let mut relationships = Vec::new();
        for (ti, name) in names.iter().enumerate() {
            let draft = table(&mut rng, ti, name, &names, &mut value_index);
            for (ci, role) in draft.roles.iter().enumerate() {
                if let Role::Foreign(to) = *role {
                    relationships.push(Relationship {
                        from_table: name.clone(),
                        from_columns: vec![draft.table.columns[ci].name.clone()],
                        to_table: names[to].clone(),
                        to_columns: vec!["id".to_string()],
                        relationship_type: RelationshipType::ManyToOne,
                        inferred: false,
                    });
                }
            }
            drafts.push(draft);
        }
        let questions = questions(&mut rng, &drafts, per_kind);
        let (tables, profiles): (Vec<TableSchema>, Vec<TableProfile>) =
            drafts.into_iter().map(|d| (d.table, d.profile)).unzip();
        let schema = DatabaseSchema {
            name: format!("synthetic-{}", tables.len()),
            dialect: SqlDialect::Sqlite,
            tables,
            relationships,
        };
        let fingerprint = cbi_schema::fingerprint(&schema);
        Synthetic {
            schema: AugmentedSchema {
                schema,
                tables: profiles,
                semantic: SemanticModel::default(),
                value_index,
                fingerprint,
            },
            questions,
        }
    }
}

/// `n` unique table names: plural nouns and noun compounds, numbered where a name repeats (the
/// way large databases grow `customer_accounts_17`).
fn table_names(rng: &mut Rng, n: usize) -> Vec<String> {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    let mut names = Vec::with_capacity(n);
    while names.len() < n {
        let entity = *rng.pick(ENTITIES);
        let base = if rng.chance(25) {
            plural_ident(entity)
        } else {
            format!("{entity}_{}", rng.pick(QUALIFIERS))
        };
        let uses = seen.entry(base.clone()).or_insert(0);
        *uses += 1;
        names.push(if *uses == 1 {
            base
        } else {
            format!("{base}_{}", *uses)
        });
    }
    names
}

/// `sales_rep` → `sales_reps`.
fn plural_ident(ident: &str) -> String {
    match ident.rsplit_once('_') {
        Some((head, last)) => format!("{head}_{}", plural(last)),
        None => plural(ident),
    }
}

/// The entity a table's rows are, as an identifier: `shipment_events_3` → `shipment_event`.
fn entity_of(table: &str) -> String {
    let base = table.trim_end_matches(|c: char| c.is_ascii_digit() || c == '_');
    match base.rsplit_once('_') {
        Some((head, last)) => format!("{head}_{}", singular(last)),
        None => singular(base),
    }
}

fn column(name: &str, data_type: &str, nullable: bool) -> ColumnSchema {
    ColumnSchema {
        name: name.to_string(),
        data_type: data_type.to_string(),
        nullable,
        ..ColumnSchema::default()
    }
}

/// A profile as the augmenter derives it from a name, before any data is seen.
fn column_profile(name: &str) -> ColumnProfile {
    let readable = readable_name(name);
    ColumnProfile {
        name: name.to_string(),
        description: describe(name),
        synonyms: if readable.eq_ignore_ascii_case(name) {
            Vec::new()
        } else {
            vec![readable]
        },
        ..ColumnProfile::default()
    }
}

/// Builds table `ti`: its columns, keys, foreign keys to earlier tables, profile and indexed
/// values.
fn table(
    rng: &mut Rng,
    ti: usize,
    name: &str,
    names: &[String],
    value_index: &mut ValueIndex,
) -> Draft {
    let rows = 10u64.pow(rng.between(1, 6) as u32) * rng.between(1, 9) as u64;
    let target = rng.between(5, 25);
    let entity = entity_of(name);
    let mut columns = vec![column("id", "INTEGER", false)];
    let mut profiles = vec![ColumnProfile {
        distinct_count: Some(rows),
        min: Some("1".to_string()),
        max: Some(rows.to_string()),
        unique: true,
        ..column_profile("id")
    }];
    let mut roles = vec![Role::Key];
    // A pool may offer a name the table already has; the second one is dropped.
    let mut push = |columns: &mut Vec<ColumnSchema>, c: ColumnSchema, p: ColumnProfile, r| {
        if !columns.iter().any(|x| x.name == c.name) {
            columns.push(c);
            profiles.push(p);
            roles.push(r);
        }
    };

    // The row label most tables have.
    if rng.chance(85) {
        let label = match rng.below(3) {
            0 => "name".to_string(),
            1 => "title".to_string(),
            _ => format!("{entity}_name"),
        };
        let samples: Vec<String> = (0..rng.between(5, 10))
            .map(|_| format!("{} {}", rng.pick(NAME_FIRST), rng.pick(NAME_SECOND)))
            .collect();
        for s in &samples {
            value_index.insert(name, &label, s);
        }
        let p = ColumnProfile {
            samples: samples.iter().take(5).cloned().collect(),
            unique: true,
            ..column_profile(&label)
        };
        push(
            &mut columns,
            column(&label, "VARCHAR(80)", false),
            p,
            Role::Name,
        );
    }

    // Foreign keys to one to three earlier tables.
    if ti > 0 {
        for _ in 0..rng.between(1, 3) {
            let to = rng.below(ti);
            let fk = format!("{}_id", entity_of(&names[to]));
            let p = ColumnProfile {
                min: Some("1".to_string()),
                max: Some(rng.between(10, 100_000).to_string()),
                ..column_profile(&fk)
            };
            push(
                &mut columns,
                column(&fk, "INTEGER", true),
                p,
                Role::Foreign(to),
            );
        }
    }

    // The rest, drawn from the column pools without repeats.
    let mut attempts = 0;
    while columns.len() < target && attempts < 200 {
        attempts += 1;
        let (c, p, role) = match rng.below(10) {
            0 | 1 => {
                let n = *rng.pick(AMOUNTS);
                let max = rng.between(100, 1_000_000);
                let p = ColumnProfile {
                    min: Some("0.00".to_string()),
                    max: Some(format!("{max}.00")),
                    ..column_profile(n)
                };
                (column(n, "DECIMAL(12,2)", true), p, Role::Amount)
            }
            2 => {
                let n = *rng.pick(QUANTITIES);
                let p = ColumnProfile {
                    min: Some("0".to_string()),
                    max: Some(rng.between(5, 5_000).to_string()),
                    ..column_profile(n)
                };
                (column(n, "INTEGER", true), p, Role::Quantity)
            }
            3 | 4 => {
                let &(n, ty) = rng.pick(DATES);
                let first = 2015 + rng.below(6);
                let p = ColumnProfile {
                    min: Some(format!("{first}-01-0{}", rng.between(1, 9))),
                    max: Some("2024-12-31".to_string()),
                    ..column_profile(n)
                };
                (column(n, ty, true), p, Role::Date)
            }
            5..=7 => {
                let &(n, pool) = rng.pick(CATEGORICALS);
                let k = rng.between(3.min(pool.len()), pool.len().min(12));
                let start = rng.below(pool.len());
                let values: Vec<&str> = (0..k).map(|i| pool[(start + i) % pool.len()]).collect();
                for v in &values {
                    value_index.insert(name, n, v);
                }
                let p = ColumnProfile {
                    samples: values.iter().take(5).map(|v| (*v).to_string()).collect(),
                    distinct_count: Some(k as u64),
                    ..column_profile(n)
                };
                (column(n, "VARCHAR(20)", true), p, Role::Categorical)
            }
            8 => {
                if rng.chance(50) {
                    let n = *rng.pick(TEXTS);
                    (column(n, "TEXT", true), column_profile(n), Role::Text)
                } else {
                    let n = *rng.pick(CODES);
                    let prefix: String = entity
                        .chars()
                        .filter(char::is_ascii_alphabetic)
                        .take(3)
                        .collect::<String>()
                        .to_uppercase();
                    let samples: Vec<String> = (0..5)
                        .map(|_| format!("{prefix}-{:05}", rng.below(100_000)))
                        .collect();
                    for s in &samples {
                        value_index.insert(name, n, s);
                    }
                    let p = ColumnProfile {
                        samples,
                        unique: true,
                        ..column_profile(n)
                    };
                    (column(n, "VARCHAR(32)", false), p, Role::Code)
                }
            }
            _ => {
                let n = "is_active";
                let p = ColumnProfile {
                    samples: vec!["1".to_string(), "0".to_string()],
                    distinct_count: Some(2),
                    ..column_profile(n)
                };
                (column(n, "BOOLEAN", true), p, Role::Flag)
            }
        };
        push(&mut columns, c, p, role);
    }

    let readable = readable_name(name);
    let mut synonyms = vec![
        readable.clone(),
        singular(&readable),
        plural(&singular(&readable)),
    ];
    synonyms.sort();
    synonyms.dedup();
    synonyms.retain(|s| !s.eq_ignore_ascii_case(name));
    Draft {
        table: TableSchema {
            name: name.to_string(),
            columns,
            primary_key: vec!["id".to_string()],
            row_count: Some(rows),
            ..TableSchema::default()
        },
        profile: TableProfile {
            name: name.to_string(),
            description: describe(name),
            synonyms,
            columns: profiles,
        },
        roles,
    }
}

/// Questions from templates, naming real tables, columns and values of the schema.
fn questions(rng: &mut Rng, drafts: &[Draft], per_kind: usize) -> Vec<Question> {
    let mut out = Vec::with_capacity(per_kind * KINDS.len());
    for &kind in KINDS {
        let mut made = 0;
        let mut attempts = 0;
        while made < per_kind && attempts < per_kind * 100 {
            attempts += 1;
            let d = rng.pick(drafts);
            if let Some(text) = question(rng, kind, d, drafts) {
                out.push(Question { kind, text });
                made += 1;
            }
        }
    }
    out
}

/// "total cost", but "total amount" rather than "total total amount".
fn total(column: &str) -> String {
    if column.starts_with("total ") {
        column.to_string()
    } else {
        format!("total {column}")
    }
}

/// One question of `kind` about table `d`, or `None` when the table lacks what the template
/// needs.
fn question(rng: &mut Rng, kind: &str, d: &Draft, drafts: &[Draft]) -> Option<String> {
    let t = readable_name(&d.table.name);
    let col = |i: usize| readable_name(&d.table.columns[i].name);
    let one = |rng: &mut Rng, of: Vec<usize>| (!of.is_empty()).then(|| of[rng.below(of.len())]);
    let amount = |rng: &mut Rng| one(rng, d.columns_with(|r| r == Role::Amount));
    let categorical = |rng: &mut Rng| one(rng, d.columns_with(|r| r == Role::Categorical));
    let sample = |rng: &mut Rng, ci: usize| {
        let s = &d.profile.columns[ci].samples;
        (!s.is_empty()).then(|| s[rng.below(s.len())].clone())
    };
    Some(match kind {
        "count" => match rng.below(3) {
            0 => format!("How many {t} are there?"),
            1 => format!("Count the {t}"),
            _ => format!("What is the number of {t}?"),
        },
        "grouped" => {
            let a = amount(rng)?;
            let c = categorical(rng)?;
            let measure = match rng.below(3) {
                0 => format!("average {}", col(a)),
                1 => total(&col(a)),
                _ => format!("maximum {}", col(a)),
            };
            format!("What is the {measure} of {t} by {}?", col(c))
        }
        "filter" => {
            let label = one(rng, d.columns_with(|r| r == Role::Name))?;
            let c = categorical(rng)?;
            let v = sample(rng, c)?;
            format!("List the {} of {t} where {} is '{v}'", col(label), col(c))
        }
        "top-n" => {
            let a = amount(rng)?;
            let n = rng.between(3, 10);
            format!("Top {n} {t} by {}", col(a))
        }
        "time" => {
            let a = amount(rng)?;
            one(rng, d.columns_with(|r| r == Role::Date))?;
            let year = 2019 + rng.below(6);
            match rng.below(2) {
                0 => format!("What was the {} of {t} in {year}?", total(&col(a))),
                _ => format!("How many {t} were there in {year}?"),
            }
        }
        "value" => {
            let c = categorical(rng)?;
            let v = sample(rng, c)?;
            match d.table.columns[c].name.as_str() {
                "region" | "country" | "city" => format!("How many {t} are in {v}?"),
                "status" | "priority" | "tier" => format!("How many {t} are {v}?"),
                _ => format!("How many {v} {t} are there?"),
            }
        }
        "join" => {
            let fks = d.columns_with(|r| matches!(r, Role::Foreign(_)));
            let fk = one(rng, fks)?;
            let Role::Foreign(to) = d.roles[fk] else {
                return None;
            };
            let other = readable_name(&drafts[to].table.name);
            format!("How many {t} are there for each {}?", singular(&other))
        }
        "superlative" => {
            let a = amount(rng)?;
            let adj = *rng.pick(&["highest", "lowest"]);
            format!("Which {} has the {adj} {}?", singular(&t), col(a))
        }
        _ => return None,
    })
}
