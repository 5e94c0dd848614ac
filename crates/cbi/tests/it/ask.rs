//! `cbi ask`: one question through the engine, on the bundled demo (with its semantic file), a
//! Spider database and files the tests make; checked against the data read directly.

use serde_json::Value;

use crate::support::{
    Cbi, ambiguous_fixture, regions_fixture, regions_snapshot, sqlite_scalar, table_cells,
};

const CONCERT_SINGER: &str = "concert_singer";

/// The single value of a one-cell answer table.
fn scalar_cell(out: &str) -> String {
    let cells = table_cells(out);
    assert_eq!(cells.len(), 2, "a header and one row:\n{out}");
    assert_eq!(cells[1].len(), 1, "one column:\n{out}");
    cells[1][0].clone()
}

#[test]
fn a_count_on_the_demo_with_its_sql_and_json() {
    let cbi = Cbi::new();
    let question = "How many customers are there?";
    let first = cbi.run(&["ask", question]);
    let out = first.success().to_string();
    let demo = cbi.demo_db();
    let customers = sqlite_scalar(&demo, "SELECT count(*) FROM customers");
    assert!(customers > 100, "{customers}");
    // Quantities are shown with digit groups.
    assert_eq!(
        scalar_cell(&out).replace(',', ""),
        customers.to_string(),
        "{out}"
    );
    // The SQL is shown, indented and laid out on lines, and then how sure cbi is and what it
    // computed.
    let sql_at = out
        .lines()
        .position(|l| l.trim_start().starts_with("SELECT"))
        .unwrap_or_else(|| panic!("no SQL in\n{out}"));
    let from = out
        .lines()
        .nth(sql_at + 1)
        .unwrap_or_else(|| panic!("no FROM line in\n{out}"));
    assert!(
        from.starts_with("    FROM") && from.contains("customers"),
        "{out}"
    );
    assert!(out.contains("\nconfidence: high ("), "{out}");
    assert!(out.contains("1 row in "), "{out}");

    // --json: the whole response.
    let json = cbi.run(&["ask", "--json", question]);
    let v: Value = serde_json::from_str(json.success()).unwrap();
    let sql = v["sql"].as_str().unwrap();
    assert!(sql.contains("customers"), "{sql}");
    let confidence = v["confidence"].as_f64().unwrap();
    assert!((0.9..=1.0).contains(&confidence), "{confidence}");
    assert_eq!(v["confidence_band"], "high");
    assert_eq!(v["rows"][0][0], customers, "{v}");
    assert_eq!(v["columns"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["intent"], "query");
    assert!(v["explanation"].as_str().is_some_and(|e| !e.is_empty()));
    assert!(json.stderr.is_empty(), "{}", json.stderr);

    // --sql-only: one statement, nothing else, the same one --json reported.
    let only = cbi.run(&["ask", "--sql-only", question]);
    let text = only.success();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert_eq!(text.trim(), sql);
    assert!(
        !text.trim_end().trim_end_matches(';').contains(';'),
        "{text}"
    );
}

#[test]
fn the_demo_semantic_file_is_found_and_used() {
    let cbi = Cbi::new();
    let question = "What is total revenue by category?";
    let out = cbi.run(&["ask", "--sql-only", question]);
    let sql = out.success().trim().to_string();
    // "revenue" is the semantic file's business term, with its own measure.
    assert!(
        sql.contains("order_items.quantity * order_items.unit_price"),
        "{sql}"
    );
    let demo = cbi.demo_db();
    let semantic = demo.with_extension("semantic.yaml");
    assert_eq!(
        std::fs::read_to_string(&semantic).unwrap(),
        cbi_demo::SEMANTIC_YAML
    );

    // With an empty semantic file instead, the measure is unknown to cbi.
    let empty = cbi.dir().join("empty.yaml");
    std::fs::write(&empty, "{}\n").unwrap();
    let out = cbi.run(&[
        "ask",
        "--sql-only",
        "--semantic",
        empty.to_str().unwrap(),
        question,
    ]);
    assert!(
        !out.stdout
            .contains("order_items.quantity * order_items.unit_price"),
        "{}",
        out.stdout
    );

    // The people's view runs it: twelve categories, the top one named in the summary.
    let out = cbi.run(&["ask", question]);
    let text = out.success();
    let cells = table_cells(text);
    assert_eq!(cells.len(), 13, "{text}");
    assert!(text.contains("\nsummary: 12 rows; "), "{text}");
}

#[test]
fn a_verified_question_says_so() {
    let cbi = Cbi::new();
    let out = cbi.run(&["ask", "What was total revenue by region in 2024?"]);
    let text = out.success();
    assert!(
        text.contains("\nverified answer (from the semantic file)\n"),
        "{text}"
    );
    assert!(text.contains("\nconfidence: high (1.00)\n"), "{text}");
    let cells = table_cells(text);
    assert_eq!(cells[0], ["region", "revenue"], "{text}");
    let mut regions: Vec<&str> = cells[1..].iter().map(|r| r[0].as_str()).collect();
    regions.sort_unstable();
    assert_eq!(regions, ["Central", "East", "North", "South", "West"]);
}

#[test]
fn a_spider_database() {
    let cbi = Cbi::new();
    let db = crate::support::spider_db(CONCERT_SINGER);
    let out = cbi.run(&[
        "ask",
        "--db",
        db.to_str().unwrap(),
        "How many singers are there?",
    ]);
    assert_eq!(scalar_cell(out.success()), "6", "{}", out.stdout);
}

#[test]
fn long_answers_show_twenty_rows_unless_asked_for_more() {
    let cbi = Cbi::new();
    let demo = cbi.demo_db();
    let products = sqlite_scalar(&demo, "SELECT count(*) FROM products");
    assert!(products > 40, "{products}");
    let question = "List all products";
    let out = cbi.run(&["ask", question]);
    let text = out.success();
    assert_eq!(table_cells(text).len(), 21, "header and 20 rows:\n{text}");
    assert!(
        text.contains(&format!("\n… {} more rows (", products - 20)),
        "{text}"
    );
    assert!(text.contains(&format!("\n{products} rows in ")), "{text}");

    let out = cbi.run(&["ask", "--max-rows", "30", question]);
    let text = out.success();
    assert_eq!(table_cells(text).len(), 31, "header and 30 rows:\n{text}");
    assert!(!text.contains("more rows"), "{text}");
}

#[test]
fn an_ambiguous_question_is_asked_back_with_exit_code_3() {
    let cbi = Cbi::new();
    let db = ambiguous_fixture(cbi.dir());
    let db = db.to_str().unwrap();
    let question = "What is the total amount?";
    let out = cbi.run(&["ask", "--db", db, question]);
    assert_eq!(out.code, Some(3), "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].ends_with('?'), "{}", out.stdout);
    let options: Vec<&str> = lines
        .iter()
        .filter_map(|l| {
            l.trim_start()
                .strip_prefix("1. ")
                .or(l.trim_start().strip_prefix("2. "))
        })
        .collect();
    let mut sorted = options.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        ["online_sales.amount", "store_sales.amount"],
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("--no-clarify"), "{}", out.stdout);
    assert!(out.stderr.is_empty(), "{}", out.stderr);

    let json = cbi.run(&["ask", "--db", db, "--json", question]);
    assert_eq!(json.code, Some(3), "{json:?}");
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["clarification"]["options"].as_array().unwrap().len(), 2);
    assert!(v["sql"].is_null());

    // --no-clarify: the likeliest reading, answered.
    let out = cbi.run(&["ask", "--db", db, "--no-clarify", question]);
    let value = scalar_cell(out.success());
    assert!(value == "30" || value == "6", "{}", out.stdout);
}

#[test]
fn bad_questions_fail_with_one_line() {
    let cbi = Cbi::new();
    // Generated first, so its one-line notice is not mistaken for a second error line.
    cbi.demo_db();
    let out = cbi.run(&["ask", "What is the airspeed velocity of a swallow?"]);
    let line = out.one_line_error();
    assert!(line.starts_with("error: could not answer"), "{line}");
    assert!(out.stdout.is_empty(), "{}", out.stdout);

    for empty in ["", "   "] {
        let out = cbi.run(&["ask", empty]);
        assert_eq!(out.one_line_error(), "error: the question is empty");
    }
    let out = cbi.run(&["ask", "--db", "nope.sqlite", "How many?"]);
    assert_eq!(
        out.one_line_error(),
        "error: database file `nope.sqlite` not found"
    );
    // A semantic file that names what the database lacks is reported before anything runs.
    let wrong = cbi.dir().join("wrong.yaml");
    std::fs::write(&wrong, "tables:\n  custmers:\n    description: x\n").unwrap();
    let out = cbi.run(&[
        "ask",
        "--semantic",
        wrong.to_str().unwrap(),
        "How many customers are there?",
    ]);
    let line = out.one_line_error();
    assert!(
        line.contains("tables.custmers: no such table") && line.contains("customers"),
        "{line}"
    );
}

#[test]
fn a_verified_delete_is_refused_and_changes_nothing() {
    let cbi = Cbi::new();
    let db = regions_fixture(cbi.dir());
    let before = regions_snapshot(&db);
    let out = cbi.run(&[
        "ask",
        "--db",
        db.to_str().unwrap(),
        "Clean up the regions table",
    ]);
    let line = out.one_line_error();
    assert!(
        line.starts_with("error: refused: ") && line.contains("DELETE"),
        "{line}"
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert_eq!(
        regions_snapshot(&db),
        before,
        "the DELETE changed the database"
    );
    assert_eq!(before.1.len(), 3);

    // The same file, found beside the database, still answers ordinary questions.
    let out = cbi.run(&[
        "ask",
        "--db",
        db.to_str().unwrap(),
        "How many regions are there?",
    ]);
    assert_eq!(scalar_cell(out.success()), "3");
}

#[test]
fn usage_and_help() {
    let cbi = Cbi::new();
    let out = cbi.run(&["ask"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    let out = cbi.run(&["ask", "--json", "--sql-only", "q"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    let help = cbi.run(&["ask", "--help"]);
    let help = help.success();
    for text in [
        "--json",
        "--sql-only",
        "--max-rows",
        "--timeout",
        "--no-clarify",
        "--semantic",
        "Exit codes",
        "3",
    ] {
        assert!(help.contains(text), "ask --help lacks {text}:\n{help}");
    }
    let help = cbi.run(&["--help"]);
    assert!(help.success().contains("ask") && help.stdout.contains("chat"));
}

/// `--model` names the generator; a spec that cannot be set up is one error line, and a
/// configured model without its key is said once while the embedded generator answers.
#[test]
fn model_specs_and_unusable_models() {
    let cbi = Cbi::new();
    let db = regions_fixture(cbi.dir());
    let db = db.to_string_lossy();
    let out = cbi.run(&[
        "ask",
        "--db",
        &db,
        "--model",
        "bogus",
        "How many regions are there?",
    ]);
    assert!(
        out.one_line_error()
            .starts_with("error: --model `bogus`: expected embedded")
    );
    let out = cbi.run(&[
        "ask",
        "--db",
        &db,
        "--model",
        "local:m.gguf",
        "How many regions are there?",
    ]);
    // Without the `local` feature the build says so; with it, the file is missing. Either
    // way a one-line error naming the spec, never a panic or a silent fallback.
    let e = out.one_line_error();
    assert!(e.starts_with("error: --model local:m.gguf"), "{e}");
    assert!(
        e.contains("--features local") || e.contains("m.gguf:"),
        "{e}"
    );
    let out = cbi.run(&[
        "ask",
        "--db",
        &db,
        "--model",
        "embedded",
        "How many regions are there?",
    ]);
    out.success();
    std::fs::write(
        cbi.dir().join("cbi.yaml"),
        "models:\n  primary: { provider: anthropic, model: claude-x, api_key: \"${NO_SUCH_KEY_VAR:-}\" }\n",
    )
    .unwrap();
    let out = cbi.run(&["ask", "--db", &db, "How many regions are there?"]);
    out.success();
    assert_eq!(out.stderr.matches("warning: ").count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("the embedded generator answers"),
        "{}",
        out.stderr
    );
}
