//! What reading a follow-up costs: [`ReferenceResolver::resolve`] against the focus an earlier
//! answer left, on the retail demo (its index prepared beforehand), including rendering the
//! edited query as SQL. The target is p50 under 1 ms per follow-up.
//!
//! - `resolve/<kind>`: one follow-up per kind of edit, read and rendered;
//! - `resolve/standalone`: a new question recognised as not being a follow-up;
//! - `focus/read`: reading the stored focus back from a session's context (JSON).
//!
//! Run with `cargo bench -p cbi-context --bench resolve`.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use cbi_context::{ContextTracker, Focus, ReferenceResolver, Resolution, ResolveOptions};
use cbi_nl2sql::{GenerateOptions, Prepared, generate};
use cbi_types::{Connection, SqlDialect};
use criterion::{Criterion, criterion_group, criterion_main};

/// `(kind, first question, follow-up)`.
const FOLLOW_UPS: &[(&str, &str, &str)] = &[
    ("rank", "Show sales by region", "Which had the highest?"),
    ("regroup", "Show sales by region", "Show that by month"),
    ("filter", "Revenue by region", "only online"),
    ("time", "Revenue by region in 2024", "Only 2023"),
    (
        "measure-swap",
        "Revenue by region",
        "Show units sold instead",
    ),
    ("compare", "Revenue in 2024", "compared with last year"),
    (
        "carry-over",
        "How many customers are in the Corporate segment?",
        "What are their emails?",
    ),
    (
        "count",
        "List the products in the Cycling category",
        "How many are there?",
    ),
    (
        "standalone",
        "Show sales by region",
        "How many products are there?",
    ),
];

fn prepared() -> Prepared {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary folder: {e}"));
    let path = dir.path().join("retail.sqlite");
    cbi_demo::write_sqlite(&path, cbi_demo::DemoSize::TINY)
        .unwrap_or_else(|e| panic!("writing the demo: {e}"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let aug = rt.block_on(async {
        let conn: Arc<dyn Connection> = Arc::new(
            cbi_db::SqliteConnection::open(&path).unwrap_or_else(|e| panic!("opening: {e}")),
        );
        let schema = cbi_schema::SchemaIntrospector::new(conn.clone())
            .introspect()
            .await
            .unwrap_or_else(|e| panic!("introspecting: {e}"));
        let semantic =
            cbi_schema::parse_semantic(cbi_demo::SEMANTIC_YAML, Path::new("retail.semantic.yaml"))
                .unwrap_or_else(|e| panic!("semantic file: {e}"));
        cbi_schema::SchemaAugmenter::default()
            .augment(conn.as_ref(), schema, semantic)
            .await
            .unwrap_or_else(|e| panic!("augmenting: {e}"))
    });
    Prepared::new(Arc::new(aug))
}

fn bench(c: &mut Criterion) {
    let p = prepared();
    let idx = &p.index;
    let resolver = ReferenceResolver::new(idx, ResolveOptions::default());
    let mut group = c.benchmark_group("resolve");
    for (kind, first, follow_up) in FOLLOW_UPS {
        let g = generate(&p, first, &GenerateOptions::default())
            .unwrap_or_else(|e| panic!("{first}: {e}"));
        let focus = Focus::of(1, first, g.query.as_ref(), g.sql.as_deref());
        // The follow-up must be read as its kind says, or the timing means nothing.
        let r = resolver.resolve(follow_up, Some(&focus));
        assert_eq!(
            matches!(r, Resolution::Resolved(_)),
            *kind != "standalone",
            "{follow_up}: {r:?}"
        );
        group.bench_function(*kind, |b| {
            b.iter(
                || match resolver.resolve(black_box(follow_up), Some(&focus)) {
                    Resolution::Resolved(r) => {
                        black_box(cbi_context::render(&r.query, idx, SqlDialect::PostgreSql).ok());
                    }
                    other => {
                        black_box(other);
                    }
                },
            )
        });
    }
    group.finish();

    let g = generate(&p, "Show sales by region", &GenerateOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let focus = Focus::of(
        1,
        "Show sales by region",
        g.query.as_ref(),
        g.sql.as_deref(),
    );
    let mut ctx = cbi_types::ConversationContext::default();
    ContextTracker::observe(&mut ctx, &focus);
    c.bench_function("focus/read", |b| {
        b.iter(|| black_box(ContextTracker::focus(black_box(&ctx), idx)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
