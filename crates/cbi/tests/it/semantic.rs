//! `cbi semantic init`: a draft beside the database that cbi then reads, never an overwrite.

use std::path::{Path, PathBuf};

use crate::support::Cbi;

/// A logistics-style SQLite file: prefixed columns, a Y/N flag, a status, an amount, no
/// declared foreign keys.
fn carriers_fixture(dir: &Path) -> PathBuf {
    let path = dir.join("freight.sqlite");
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch(
        "CREATE TABLE carriers (car_id INTEGER PRIMARY KEY, car_name TEXT, car_preferred_yn TEXT);
         INSERT INTO carriers VALUES (1, 'Swift', 'Y'), (2, 'Slowpoke', 'N'), (3, 'Nimbus', 'Y'),
                                     (4, 'Anchor', 'N');
         CREATE TABLE shipments (shp_id INTEGER PRIMARY KEY, shp_carrier_id INTEGER,
                                 shp_status TEXT, shp_weight_kg REAL, shp_created_at TEXT);
         INSERT INTO shipments VALUES
           (1, 1, 'DELIVERED', 12.5, '2024-01-03'), (2, 1, 'LOST', 3.0, '2024-02-11'),
           (3, 2, 'DELIVERED', 40.25, '2024-02-20'), (4, 3, 'IN_TRANSIT', 7.75, '2024-03-01'),
           (5, 4, 'DELIVERED', 1.5, '2024-03-15'), (6, 3, 'DELIVERED', 9.0, '2024-04-02');",
    )
    .unwrap();
    path
}

#[test]
fn a_draft_is_written_beside_the_database_and_used() {
    let cbi = Cbi::new();
    let db = carriers_fixture(cbi.dir());
    let db_arg = db.to_str().unwrap();
    let out = cbi.run(&["--db", db_arg, "semantic", "init"]);
    let said = out.success();
    let file = cbi.dir().join("freight.semantic.yaml");
    assert!(said.contains("freight.semantic.yaml"), "{said}");
    let text = std::fs::read_to_string(&file).unwrap();
    for expect in [
        "# Joins cbi uses",
        "shipments.shp_carrier_id -> carriers.car_id  (inferred)",
        "shp_created_at: { description: When the shipment was created, synonyms: [created at] }",
        "description: \"Shipments: one row per shipment, dated by created at; each belongs to a carrier. About 6 rows.\"",
        "car_name: { description: \"Name; names the carrier\" }",
        "shp_status: { description: \"Status: one of DELIVERED",
        "  - name: preferred carriers\n",
        "    filter: carriers.car_preferred_yn = 'Y'\n",
        "    measure: SUM(shipments.shp_weight_kg)\n",
    ] {
        assert!(text.contains(expect), "missing {expect:?} in\n{text}");
    }

    // cbi reads it from now on: the drafted filter answers a question the names alone do not.
    let out = cbi.run(&[
        "--db",
        db_arg,
        "ask",
        "--json",
        "How many preferred carriers are there?",
    ]);
    let json: serde_json::Value = serde_json::from_str(out.success()).unwrap();
    let sql = json["sql"].as_str().unwrap();
    assert!(sql.contains("car_preferred_yn = 'Y'"), "{sql}");
    assert_eq!(json["rows"][0][0], serde_json::json!(2), "{json}");

    // An existing file is never replaced without --force.
    std::fs::write(&file, "# reviewed by a person\n").unwrap();
    let out = cbi.run(&["--db", db_arg, "semantic", "init"]);
    assert!(
        out.one_line_error().contains("already exists"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "# reviewed by a person\n"
    );
    cbi.run(&["--db", db_arg, "semantic", "init", "--force"])
        .success();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);

    // `--out -` prints the same draft and writes nothing.
    let out = cbi.run(&["--db", db_arg, "semantic", "init", "--out", "-"]);
    assert_eq!(out.success(), text);
}
