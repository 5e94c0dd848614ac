//! The embedded generator on the retail demo: the SQL it writes for each dialect (snapshots),
//! that every statement round-trips through its dialect's parser and passes the validator, and
//! that no question text can make it panic.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use cbi_nl2sql::{GenerateOptions, Prepared, SqlValidator, generate, sql::parser_dialect};
use cbi_types::{Connection, SqlDialect};
use sqlparser::parser::Parser;

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

/// The retail demo's augmented schema (tiny, with its semantic file), shared by the tests.
pub fn demo_schema() -> Arc<cbi_types::AugmentedSchema> {
    fixture().prepared.index.aug.clone()
}

/// Questions covering every construct, one line of SQL per dialect in the snapshot.
const QUESTIONS: &[&str] = &[
    "How many customers are there?",
    "How many orders were cancelled?",
    "What is the average unit price of products?",
    "Total revenue by region",
    "What are the top 5 products by revenue?",
    "Which category has the most products?",
    "Which products cost more than 1000?",
    "How many products have a price between 100 and 200?",
    "How many customers are not in the Consumer segment?",
    "Revenue by month in 2024",
    "Revenue by quarter in 2023",
    "How many orders were placed last quarter?",
    "Which products are priced above the average price?",
    "Which brands have more than 10 products?",
    "Which products have never been ordered?",
    "List the different store types",
    "Show the three most expensive products",
    "What is the oldest store?",
    "Compare the revenue of the West and East regions",
    "Average refund by return reason",
    "Which brand sold the most units?",
    "How many returns had a refund over 100?",
];

fn options(dialect: SqlDialect) -> GenerateOptions {
    GenerateOptions {
        dialect,
        clarify: false,
        ..GenerateOptions::default()
    }
}

#[test]
fn sql_for_every_dialect() {
    let f = fixture();
    let mut out = String::new();
    for q in QUESTIONS {
        out.push_str(q);
        out.push('\n');
        for d in [
            SqlDialect::Sqlite,
            SqlDialect::PostgreSql,
            SqlDialect::MySql,
            SqlDialect::Oracle,
        ] {
            let g = generate(&f.prepared, q, &options(d)).unwrap_or_else(|e| panic!("{q}: {e}"));
            out.push_str(&format!("  {:<10} {}\n", d.name(), g.sql.unwrap()));
        }
    }
    insta::assert_snapshot!(out);
}

#[test]
fn every_statement_round_trips_and_validates() {
    let f = fixture();
    for d in SqlDialect::ALL {
        let validator = SqlValidator::new(d, Arc::new(f.prepared.schema().schema.clone()));
        for q in QUESTIONS {
            let sql = generate(&f.prepared, q, &options(d)).unwrap().sql.unwrap();
            let parsed = Parser::parse_sql(parser_dialect(d).as_ref(), &sql)
                .unwrap_or_else(|e| panic!("{d} {q}: {e}: {sql}"));
            assert_eq!(parsed.len(), 1);
            assert_eq!(parsed[0].to_string(), sql, "{d}: not in canonical form");
            validator
                .validate(&sql)
                .unwrap_or_else(|p| panic!("{d} {q}: {p:?}: {sql}"));
        }
    }
}

#[test]
fn answers_carry_confidence_reasons_and_an_explanation() {
    let f = fixture();
    let g = generate(
        &f.prepared,
        "How many customers are there?",
        &options(SqlDialect::Sqlite),
    )
    .unwrap();
    assert!(g.confidence >= 0.9, "{g:?}");
    assert!(g.reasons.is_empty(), "{:?}", g.reasons);
    assert_eq!(g.explanation, "Counts customers.");
    // An unknown word that carries meaning lowers confidence and is named.
    let g = generate(
        &f.prepared,
        "How many zorbified customers are there?",
        &options(SqlDialect::Sqlite),
    )
    .unwrap();
    assert!(g.confidence < 0.9, "{g:?}");
    assert!(
        g.reasons.iter().any(|r| r.contains("zorbified")),
        "{:?}",
        g.reasons
    );
    // A verified question is answered verbatim at the top of the scale.
    let g = generate(
        &f.prepared,
        "What was total revenue by region in 2024?",
        &options(SqlDialect::Sqlite),
    )
    .unwrap();
    assert!(g.verified && g.confidence == 1.0 && g.query.is_none());
    // Nothing of the database mentioned: a clear error.
    let e = generate(
        &f.prepared,
        "What is the meaning of life?",
        &options(SqlDialect::Sqlite),
    )
    .unwrap_err();
    assert!(e.to_string().contains("could not answer"), "{e}");
}

#[test]
fn relative_dates_are_explained_with_the_day_they_count_from() {
    let f = fixture();
    let g = generate(
        &f.prepared,
        "How many orders were placed last year?",
        &options(SqlDialect::Sqlite),
    )
    .unwrap();
    let sql = g.sql.as_deref().unwrap();
    // The demo's latest order is in 2024: last year is 2023.
    assert!(
        sql.contains("'2023-01-01'") && sql.contains("'2024-01-01'"),
        "{sql}"
    );
    assert!(
        g.explanation
            .contains("\"last year\" is read as 2023, counting from 2024-12-")
            && g.explanation
                .ends_with(", the latest order date in the data."),
        "{}",
        g.explanation
    );
    // A reference date given is named as such.
    let mut opts = options(SqlDialect::Sqlite);
    opts.plan.reference_date = chrono::NaiveDate::from_ymd_opt(2024, 6, 15);
    let g = generate(&f.prepared, "revenue this month", &opts).unwrap();
    assert!(
        g.explanation
            .contains("is read as 2024-06-01 to 2024-06-15, counting from 2024-06-15, the reference date given."),
        "{}",
        g.explanation
    );
    // A date that does not move with today is not remarked on.
    let g = generate(
        &f.prepared,
        "How many orders were placed in 2023?",
        &options(SqlDialect::Sqlite),
    )
    .unwrap();
    assert!(
        !g.explanation.contains("counting from"),
        "{}",
        g.explanation
    );
}

#[test]
fn plans_are_stored_as_json_and_read_back() {
    let f = fixture();
    let g = generate(
        &f.prepared,
        "Revenue by month in 2024",
        &options(SqlDialect::Sqlite),
    )
    .unwrap();
    let q = g.query.unwrap();
    let json = serde_json::to_value(&q).unwrap();
    let back: cbi_nl2sql::SemanticQuery = serde_json::from_value(json).unwrap();
    assert_eq!(back, q);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
    #[test]
    fn any_question_text_gives_sql_or_an_error(q in "\\PC{0,80}") {
        let f = fixture();
        if let Ok(g) = generate(&f.prepared, &q, &options(SqlDialect::Sqlite)) {
            if let Some(sql) = g.sql {
                let validator = SqlValidator::new(SqlDialect::Sqlite, Arc::new(f.prepared.schema().schema.clone()));
                proptest::prop_assert!(validator.validate(&sql).is_ok(), "{q:?} gave {sql}");
            }
        }
    }

    #[test]
    fn questions_made_of_schema_words_never_panic(words in proptest::collection::vec(
        proptest::sample::select(vec![
            "how", "many", "total", "revenue", "by", "region", "top", "5", "products", "in", "2023",
            "average", "price", "not", "West", "orders", "each", "most", "least", "between", "and",
            "more", "than", "the", "customers", "per", "month", "last", "quarter", "sorted", "descending",
            "'Acme'", "never", "which", "with", "at", "least", "3", "categories", "brand", "of",
        ]),
        0..14,
    )) {
        let f = fixture();
        let q = words.join(" ");
        let _ = generate(&f.prepared, &q, &options(SqlDialect::PostgreSql));
    }
}
