//! `cbi schema` on a real SQLite database (Spider's world_1) and with semantic files.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{Cbi, spider_db};

/// The line of the table view that shows `column` of `table` (blocks are separated by blank
/// lines and start with the table's title).
fn column_row(out: &str, table: &str, column: &str) -> String {
    let block = out
        .split("\n\n")
        .find(|b| b.starts_with(&format!("{table} ")) || b.starts_with(&format!("{table}\n")))
        .unwrap_or_else(|| panic!("no block for table {table} in\n{out}"));
    block
        .lines()
        .find(|l| {
            l.split('┆')
                .next()
                .is_some_and(|c| c.trim_matches(['│', ' ']) == column)
        })
        .unwrap_or_else(|| panic!("no row for {table}.{column} in\n{block}"))
        .to_string()
}

#[test]
fn world_1_shows_its_tables_keys_and_relationships() {
    let cbi = Cbi::new();
    let db = spider_db("world_1");
    let out = cbi.run(&["schema", "--db", db.to_str().unwrap()]);
    let out = out.success();

    let header = out.lines().next().unwrap();
    assert!(
        header.starts_with("Database world_1 (sqlite): 3 tables, ") && header.contains(" read in "),
        "{header}"
    );
    // sqlite_sequence, the file's fourth table, is SQLite's bookkeeping, not data: it is named
    // once at the end, not shown as a table.
    assert!(!out.contains("\nsqlite_sequence ("), "{out}");
    assert!(
        out.trim_end()
            .ends_with("SQLite's own bookkeeping tables, not used for questions: sqlite_sequence"),
        "{out}"
    );
    for title in ["city (~", "country (~", "countrylanguage (~"] {
        assert!(out.contains(&format!("\n{title}")), "no {title} in\n{out}");
    }
    assert!(out.contains("\ncity (~4,079 rows)\n"), "{out}");

    assert!(column_row(out, "city", "ID").contains("PK"));
    let fk = column_row(out, "city", "CountryCode");
    assert!(fk.contains("FK → country.Code"), "{fk}");
    assert!(!fk.contains("inferred"), "a declared key: {fk}");
    assert!(column_row(out, "country", "Code").contains("PK"));
    let cl = column_row(out, "countrylanguage", "CountryCode");
    assert!(
        cl.contains("PK") && cl.contains("FK → country.Code"),
        "{cl}"
    );
    assert!(column_row(out, "countrylanguage", "Language").contains("PK"));
    // Nullability and samples: IndepYear may be NULL and is a ranged integer column.
    let indep = column_row(out, "country", "IndepYear");
    assert!(indep.contains("yes") && indep.contains(" … "), "{indep}");
    let continent = column_row(out, "country", "Continent");
    assert!(
        continent.contains("no") && continent.contains("Africa"),
        "{continent}"
    );
    assert!(continent.contains("(7 distinct)"), "{continent}");

    let rels = out
        .split("\nRelationships\n")
        .nth(1)
        .expect("a relationships section");
    let declared: Vec<&str> = rels.lines().filter(|l| l.contains("declared")).collect();
    assert!(
        declared.iter().any(|l| l.contains("city.CountryCode")
            && l.contains("country.Code")
            && l.contains("many-to-one")),
        "{rels}"
    );
    assert!(
        declared
            .iter()
            .any(|l| l.contains("countrylanguage.CountryCode") && l.contains("country.Code")),
        "{rels}"
    );
}

#[test]
fn json_is_the_whole_augmented_schema() {
    let cbi = Cbi::new();
    let db = spider_db("world_1");
    let db = db.to_str().unwrap();

    let out = cbi.run(&["schema", "--db", db, "--json"]);
    let json: Value = serde_json::from_str(out.success()).unwrap();
    let names: BTreeSet<&str> = json["schema"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["city", "country", "countrylanguage"])
    );
    assert_eq!(json["schema"]["dialect"], "sqlite");
    let country = json["schema"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "country")
        .unwrap();
    assert_eq!(country["primary_key"], serde_json::json!(["Code"]));
    assert!(
        json["schema"]["relationships"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["from_table"] == "city"
                && r["to_table"] == "country"
                && r["inferred"] == false)
    );
    let samples = |json: &Value| -> usize {
        json["tables"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t["columns"].as_array().unwrap())
            .map(|c| c["samples"].as_array().unwrap().len())
            .sum()
    };
    assert!(samples(&json) > 0, "profiling found sample values");
    assert!(!json["fingerprint"].as_str().unwrap().is_empty());

    // --no-samples reads names only.
    let out = cbi.run(&["schema", "--db", db, "--json", "--no-samples"]);
    let json: Value = serde_json::from_str(out.success()).unwrap();
    assert_eq!(samples(&json), 0);
    assert_eq!(json["schema"]["tables"].as_array().unwrap().len(), 3);
}

#[test]
fn a_semantic_file_is_checked_and_shown() {
    let cbi = Cbi::new();
    let db = spider_db("world_1");
    let db = db.to_str().unwrap();
    let good = cbi.dir().join("semantic.yaml");
    std::fs::write(
        &good,
        "tables:\n  city:\n    description: Cities with their population.\n    synonyms: [towns]\nbusiness_terms:\n  - name: inhabitants\n    column: city.Population\n",
    )
    .unwrap();
    let out = cbi.run(&[
        "schema",
        "--db",
        db,
        "--semantic",
        good.to_str().unwrap(),
        "--no-samples",
    ]);
    assert!(
        out.success()
            .contains("\ncity (~4,079 rows)\n  Cities with their population.\n"),
        "{}",
        out.stdout
    );

    // The same file found through the config file, relative to it.
    std::fs::write(
        cbi.dir().join("cbi.yaml"),
        "database:\n  semantic_file: semantic.yaml\n",
    )
    .unwrap();
    let out = cbi.run(&["schema", "--db", db, "--json", "--no-samples"]);
    let json: Value = serde_json::from_str(out.success()).unwrap();
    assert_eq!(
        json["semantic"]["tables"]["city"]["description"],
        "Cities with their population."
    );
}
