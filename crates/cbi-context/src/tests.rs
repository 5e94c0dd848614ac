//! The resolver on the retail demo (tiny): each rule with the follow-ups it reads, as the SQL
//! the conversation ends with.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use cbi_nl2sql::{GenerateOptions, Prepared, generate};
use cbi_types::{Connection, SqlDialect};

use crate::{ContextTracker, Focus, ReferenceResolver, Resolution, ResolveOptions};

struct Fixture {
    _dir: tempfile::TempDir,
    prepared: Prepared,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("retail.sqlite");
        cbi_demo::write_sqlite(&path, cbi_demo::DemoSize::TINY).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let aug = rt.block_on(async {
            let conn: Arc<dyn Connection> =
                Arc::new(cbi_db::SqliteConnection::open(&path).unwrap());
            let schema = cbi_schema::SchemaIntrospector::new(conn.clone())
                .introspect()
                .await
                .unwrap();
            let semantic = cbi_schema::parse_semantic(
                cbi_demo::SEMANTIC_YAML,
                Path::new("retail.semantic.yaml"),
            )
            .unwrap();
            cbi_schema::SchemaAugmenter::default()
                .augment(conn.as_ref(), schema, semantic)
                .await
                .unwrap()
        });
        Fixture {
            _dir: dir,
            prepared: Prepared::new(Arc::new(aug)),
        }
    })
}

/// Runs a conversation: each turn resolved against the focus the turns before left, or
/// planned on its own. One line per turn: `sql`, `? unclear: …` or `- sql` (standalone), and
/// the edits of the last resolved turn.
fn converse(turns: &[&str]) -> Vec<String> {
    converse_with_edits(turns).0
}

fn converse_with_edits(turns: &[&str]) -> (Vec<String>, Vec<crate::Edit>) {
    let p = &fixture().prepared;
    let idx = &p.index;
    let resolver = ReferenceResolver::new(idx, ResolveOptions::default());
    let mut ctx = cbi_types::ConversationContext::default();
    let mut out = Vec::new();
    let mut edits = Vec::new();
    for (k, q) in turns.iter().enumerate() {
        let focus = ContextTracker::focus(&ctx, idx);
        edits.clear();
        let (query, line) = match resolver.resolve(q, focus.as_ref()) {
            Resolution::Resolved(r) => {
                let sql = crate::render(&r.query, idx, SqlDialect::Sqlite).unwrap();
                edits = r.edits.clone();
                (Some(r.query), sql)
            }
            Resolution::Unclear(u) => (None, format!("? unclear: {}", u.phrase)),
            Resolution::Standalone => {
                let opts = GenerateOptions {
                    clarify: false,
                    ..GenerateOptions::default()
                };
                match generate(p, q, &opts) {
                    Ok(g) => (g.query, format!("- {}", g.sql.unwrap_or_default())),
                    Err(e) => (None, format!("- error: {e}")),
                }
            }
        };
        if let Some(qr) = &query {
            let f = Focus::of(k as u32 + 1, q, Some(qr), None);
            ContextTracker::observe(&mut ctx, &f);
        }
        out.push(line);
    }
    (out, edits)
}

use crate::Edit::*;

/// `(conversation, the edits its last turn makes, text its SQL must hold)`: one or more cases
/// per rule.
const CASES: &[(&[&str], &[crate::Edit], &str)] = &[
    // rank
    (
        &["Show sales by region", "Which had the highest?"],
        &[Rank],
        "DESC LIMIT 1",
    ),
    (
        &["Show sales by region", "And the lowest?"],
        &[Rank],
        "discount)) LIMIT 1",
    ),
    (
        &["Revenue by category", "Top 3 of those"],
        &[Rank],
        "DESC LIMIT 3",
    ),
    // regroup
    (
        &[
            "Show sales by region",
            "Which had the highest?",
            "Show that by month",
        ],
        &[Regroup],
        "GROUP BY strftime('%Y-%m', orders.order_date)",
    ),
    (
        &["Revenue by region", "by store type instead"],
        &[Regroup],
        "SELECT stores.store_type, SUM(",
    ),
    (
        &["Revenue by region", "also by channel"],
        &[Regroup],
        "GROUP BY regions.region_id, regions.name, orders.channel",
    ),
    // refilter and retime
    (
        &["Revenue by region in 2024", "Only 2023"],
        &[Time],
        "orders.order_date >= '2023-01-01' AND orders.order_date < '2024-01-01'",
    ),
    (
        &["Revenue by region", "only online"],
        &[Filter],
        "WHERE orders.channel = 'online'",
    ),
    (
        &["Revenue by region", "exclude cancelled orders"],
        &[Filter],
        "WHERE orders.status <> 'cancelled'",
    ),
    (
        &[
            "Revenue by store type for the West region",
            "What about the East?",
        ],
        &[Filter],
        "WHERE regions.name = 'East'",
    ),
    (
        &["Show sales by region", "only 2024", "and the West?"],
        &[Filter],
        "< '2025-01-01' AND regions.name = 'West'",
    ),
    // measure swaps and corrections
    (
        &["Revenue by region", "the average instead"],
        &[MeasureSwap],
        "SELECT regions.name AS region, AVG(",
    ),
    (
        &["Revenue by region", "Show units sold instead"],
        &[MeasureSwap],
        "SUM(order_items.quantity) FROM",
    ),
    (
        &["Revenue by region", "no, I meant profit"],
        &[Correction],
        "products.unit_cost)) FROM",
    ),
    (
        &[
            "Number of returns by department",
            "How many orders instead?",
        ],
        &[MeasureSwap],
        "SELECT categories.department, COUNT(DISTINCT orders.order_id) FROM orders",
    ),
    // comparison
    (
        &["Revenue in 2024", "compared with last year"],
        &[Compare],
        "WHERE orders.order_date >= '2023-01-01' AND orders.order_date < '2025-01-01' GROUP BY strftime('%Y', orders.order_date)",
    ),
    // carry-over: pronouns, drill-down
    (
        &[
            "How many customers are in the Corporate segment?",
            "What are their emails?",
        ],
        &[CarryOver],
        "SELECT customers.first_name, customers.last_name, customers.email FROM customers WHERE customers.segment = 'Corporate'",
    ),
    (
        &[
            "How many customers are in the Corporate segment?",
            "How many of them are in the West?",
        ],
        &[CarryOver],
        "WHERE regions.name = 'West' AND customers.segment = 'Corporate'",
    ),
    (
        &[
            "Revenue by region in 2024",
            "Show me the orders behind that",
        ],
        &[CarryOver],
        "FROM orders WHERE orders.order_date >= '2024-01-01' AND orders.order_date < '2025-01-01'",
    ),
    (
        &[
            "How many customers signed up in 2023?",
            "List the ones in the Corporate segment",
        ],
        &[CarryOver],
        "SELECT customers.first_name, customers.last_name FROM customers WHERE customers.segment = 'Corporate' AND customers.signup_date >= '2023-01-01'",
    ),
    // ordering, counting, summaries, numbers, distinct, limits
    (
        &[
            "List the products in the Cycling category",
            "Sort by price, cheapest first",
        ],
        &[Reorder],
        "ORDER BY products.unit_price",
    ),
    (
        &[
            "List the products in the Cycling category",
            "Sort them by price",
            "Limit it to 3",
        ],
        &[Limit],
        "ORDER BY products.unit_price LIMIT 3",
    ),
    (
        &[
            "List the products in the Cycling category",
            "How many are there?",
        ],
        &[Count],
        "SELECT COUNT(DISTINCT products.name) FROM products",
    ),
    (
        &[
            "Which brands have more than 10 products?",
            "How about more than 20?",
        ],
        &[Recompare],
        "HAVING COUNT(*) > 20",
    ),
    (
        &[
            "List the unit prices of products in the Cycling category",
            "What are the maximum and the minimum?",
        ],
        &[Summarize],
        "SELECT MAX(products.unit_price), MIN(products.unit_price) FROM",
    ),
    (
        &["List the cities of customers", "Show the distinct values"],
        &[Distinct],
        "SELECT DISTINCT customers.city FROM customers",
    ),
    (
        &[
            "How many distinct cities do customers live in?",
            "What are they?",
        ],
        &[ListCounted],
        "SELECT DISTINCT customers.city FROM customers",
    ),
    (
        &["List the customers born before 1960", "how about after?"],
        &[Recompare],
        "customers.birth_year > 1960",
    ),
    (
        &["Number of orders by status", "Which channels were they in?"],
        &[Regroup],
        "GROUP BY orders.channel",
    ),
    (
        &[
            "List the unit prices of products in the Cycling category",
            "Also show the maximum",
        ],
        &[Summarize],
        "MAX(products.unit_price)",
    ),
    (
        &[
            "What is the average unit price of products?",
            "Also show the maximum",
        ],
        &[MeasureSwap],
        "SELECT AVG(products.unit_price), MAX(products.unit_price) FROM products",
    ),
    (
        &[
            "List the products in the Cycling category",
            "What are all the products except those?",
        ],
        &[Complement],
        "WHERE products.product_id NOT IN (SELECT products.product_id FROM products JOIN categories",
    ),
    (
        &[
            "Show the name and unit price of products in the Cycling category",
            "Order by cheapest first",
        ],
        &[Reorder],
        "ORDER BY products.unit_price",
    ),
    (
        &[
            "Show the name and unit price of products in the Cycling category",
            "Sort them by price",
            "just show their names",
        ],
        &[CarryOver],
        "ORDER BY products.unit_price",
    ),
];

#[test]
fn each_rule_edits_the_focus() {
    let mut failures = Vec::new();
    for (turns, edits, holds) in CASES {
        let (lines, got) = converse_with_edits(turns);
        let last = lines.last().unwrap();
        if got != *edits || !last.contains(holds) {
            failures.push(format!(
                "{}\n  edits {got:?}, expected {edits:?}\n  {last}\n  should hold: {holds}",
                turns.join(" | ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Follow-ups with nothing to refer to, or whose reference cannot be read, are said to be so
/// (never answered as something else); questions that stand alone stay standalone.
#[test]
fn unreadable_references_are_unclear_and_new_questions_stand_alone() {
    for (turns, expect) in [
        (
            &["How many customers are there?", "Which had the highest?"][..],
            "? unclear",
        ),
        (&["Show sales by region", "what about it"], "? unclear"),
        (
            &["Show sales by region", "How many products are there?"],
            "- SELECT COUNT(*) FROM products",
        ),
        (&["Which had the highest?"], "- "),
    ] {
        let lines = converse(turns);
        assert!(
            lines.last().unwrap().starts_with(expect),
            "{}: {}",
            turns.join(" | "),
            lines.last().unwrap()
        );
    }
}

/// The SQL of every conversation above, turn by turn.
#[test]
fn conversations_snapshot() {
    let mut out = String::new();
    for (turns, _, _) in CASES {
        out.push_str(&format!("## {}\n", turns.join(" | ")));
        for l in converse(turns) {
            out.push_str(&l);
            out.push('\n');
        }
    }
    insta::assert_snapshot!(out);
}

/// A focus stored by another version, or naming a column the schema no longer has, is not
/// read back; one of this version is.
#[test]
fn focus_is_versioned_and_checked_against_the_schema() {
    let p = &fixture().prepared;
    let idx = &p.index;
    let g = generate(p, "Revenue by region", &GenerateOptions::default()).unwrap();
    let focus = Focus::of(1, "Revenue by region", g.query.as_ref(), g.sql.as_deref());
    let mut ctx = cbi_types::ConversationContext::default();
    ContextTracker::observe(&mut ctx, &focus);
    assert_eq!(ContextTracker::focus(&ctx, idx).as_ref(), Some(&focus));
    // Round trip through JSON, as a session store keeps it.
    let stored: cbi_types::ConversationContext =
        serde_json::from_str(&serde_json::to_string(&ctx).unwrap()).unwrap();
    assert_eq!(ContextTracker::focus(&stored, idx).as_ref(), Some(&focus));
    let mut old = ctx.clone();
    old.focus.as_mut().unwrap()["version"] = serde_json::json!(0);
    assert_eq!(
        ContextTracker::focus(&old, idx),
        None,
        "no turns to rebuild from"
    );
    let mut renamed = focus.clone();
    if let Some(q) = &mut renamed.query {
        q.group_by = vec![cbi_nl2sql::query::Expr::col("regions", "region_label")];
    }
    ContextTracker::observe(&mut ctx, &renamed);
    assert_eq!(ContextTracker::focus(&ctx, idx), None);
}

/// No question text makes the resolver panic, whatever the focus.
#[test]
fn odd_follow_ups_do_not_panic() {
    let p = &fixture().prepared;
    let idx = &p.index;
    let resolver = ReferenceResolver::new(idx, ResolveOptions::default());
    let g = generate(p, "Revenue by region in 2024", &GenerateOptions::default()).unwrap();
    let focus = Focus::of(1, "q", g.query.as_ref(), None);
    for q in [
        "",
        "?",
        "by",
        "by by by",
        "top",
        "top 0",
        "top -3",
        "limit it to",
        "sort by",
        "compared",
        "and",
        "no",
        "only",
        "instead",
        "how many",
        "more than",
        "more than x",
        "between 1 and",
        "the first 99999999999999999999",
        "\u{0}",
        "ünïcödé by month",
        "that that that",
        "exclude exclude",
        "what about 'unterminated",
    ] {
        let _ = resolver.resolve(q, Some(&focus));
        let _ = resolver.resolve(q, None);
    }
}

/// A conversation printed turn by turn with what the resolver read, on the demo (the guide's
/// conversation), or on any SQLite database as a debugging aid: `CBI_DEBUG_DB=path.sqlite
/// CBI_DEBUG_TURNS='first|follow-up|…' cargo test -p cbi-context debug_conversation --
/// --nocapture`.
#[test]
fn debug_conversation() {
    let given = std::env::var("CBI_DEBUG_DB").ok().map(|db| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let aug = rt.block_on(async {
            let conn: Arc<dyn Connection> = Arc::new(cbi_db::SqliteConnection::open(&db).unwrap());
            let schema = cbi_schema::SchemaIntrospector::new(conn.clone())
                .introspect()
                .await
                .unwrap();
            cbi_schema::SchemaAugmenter::default()
                .augment(conn.as_ref(), schema, cbi_types::SemanticModel::default())
                .await
                .unwrap()
        });
        Prepared::new(Arc::new(aug))
    });
    let p = given.as_ref().unwrap_or(&fixture().prepared);
    let turns = std::env::var("CBI_DEBUG_TURNS").unwrap_or_else(|_| {
        "Show sales by region|Which had the highest?|Show that by month".into()
    });
    let resolver = ReferenceResolver::new(&p.index, ResolveOptions::default());
    let mut ctx = cbi_types::ConversationContext::default();
    let mut lines = Vec::new();
    for (k, q) in turns.split('|').enumerate() {
        let focus = ContextTracker::focus(&ctx, &p.index);
        if let Some(f) = &focus {
            let r = resolver.read(q, f);
            println!(
                "reading: anaphor {:?} opener {} rank {:?} aggs {:?} groups {:?} values {:?} measure {:?} tables {:?} columns {:?} count {} unexplained {:?}",
                r.anaphor,
                r.opener,
                r.rank,
                r.aggs,
                r.groups,
                r.values,
                r.measure,
                r.tables,
                r.columns,
                r.count,
                r.unexplained()
            );
        }
        let (query, line) = match resolver.resolve(q, focus.as_ref()) {
            Resolution::Resolved(r) => {
                let sql = crate::render(&r.query, &p.index, SqlDialect::Sqlite).unwrap();
                (
                    Some(r.query),
                    format!("{:?} {:.2}: {sql}", r.edits, r.confidence),
                )
            }
            Resolution::Unclear(u) => (None, format!("? unclear: {}", u.phrase)),
            Resolution::Standalone => match generate(p, q, &GenerateOptions::default()) {
                Ok(g) => (g.query, format!("- {}", g.sql.unwrap_or_default())),
                Err(e) => (None, format!("- error: {e}")),
            },
        };
        println!("{q}\n  {line}");
        if let Some(qr) = &query {
            ContextTracker::observe(&mut ctx, &Focus::of(k as u32 + 1, q, Some(qr), None));
        }
        lines.push(line);
    }
    if given.is_none() {
        assert!(lines[1].starts_with("[Rank]"), "{}", lines[1]);
        assert!(lines[2].starts_with("[Regroup]"), "{}", lines[2]);
    }
}
