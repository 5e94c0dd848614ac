//! The embedded default: with no database named, cbi generates the retail demo once into its
//! data directory and reuses it afterwards.

use std::collections::BTreeSet;

use crate::support::Cbi;

const DEMO_TABLES: [&str; 8] = [
    "categories",
    "customers",
    "order_items",
    "orders",
    "products",
    "regions",
    "returns",
    "stores",
];

#[test]
fn no_database_means_the_demo_generated_once() {
    let cbi = Cbi::new();
    let data = cbi.dir().join("cbi-data");
    let data_str = data.to_str().unwrap();
    let env = [("CBI_DATA_DIR", data_str)];

    let first = cbi.run_with(&["schema"], &env);
    let out = first.success();
    assert!(out.starts_with("Database retail-"), "{out}");
    assert!(
        out.lines().next().unwrap().contains("(sqlite): 8 tables"),
        "{out}"
    );
    for t in DEMO_TABLES {
        assert!(out.contains(&format!("\n{t} (~")), "no {t} in\n{out}");
    }
    let notice: Vec<&str> = first.stderr.lines().collect();
    assert_eq!(notice.len(), 1, "{}", first.stderr);
    assert!(
        notice[0].contains("created the demo database"),
        "{}",
        notice[0]
    );

    // The database and its semantic file, and no leftovers.
    let demo_dir = data.join("demo");
    let mut files: Vec<String> = std::fs::read_dir(&demo_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        2,
        "only the demo files, no leftovers: {files:?}"
    );
    let stem = files[0]
        .strip_suffix(".semantic.yaml")
        .unwrap_or_else(|| panic!("{files:?}"));
    assert!(stem.starts_with("retail-"), "{files:?}");
    assert_eq!(files[1], format!("{stem}.sqlite"));
    let file = demo_dir.join(&files[1]);
    let semantic = demo_dir.join(&files[0]);
    assert_eq!(
        std::fs::read_to_string(&semantic).unwrap(),
        cbi_demo::SEMANTIC_YAML
    );
    // `cbi schema` loaded it: the semantic file's descriptions are shown.
    assert!(
        out.contains(
            "
regions (~5 rows)
  The five sales regions"
        ),
        "{out}"
    );
    let modified = std::fs::metadata(&file).unwrap().modified().unwrap();

    // The second run reuses the file silently; `--db demo` names the same database.
    let second = cbi.run_with(
        &[
            "sql",
            "--db",
            "demo",
            "--csv",
            "SELECT count(*) AS n FROM regions",
        ],
        &env,
    );
    assert_eq!(second.success(), "n\r\n5\r\n");
    assert!(second.stderr.is_empty(), "{}", second.stderr);
    let third = cbi.run_with(&["schema", "--json", "--no-samples"], &env);
    let json: serde_json::Value = serde_json::from_str(third.success()).unwrap();
    let names: BTreeSet<&str> = json["schema"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from(DEMO_TABLES));
    assert!(third.stderr.is_empty(), "{}", third.stderr);
    assert_eq!(
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        modified
    );

    // A semantic file that differs from the bundled one (an older cbi's) is replaced.
    std::fs::write(&semantic, "tables: {}\n").unwrap();
    let refreshed = cbi.run_with(&["schema", "--no-samples"], &env);
    assert!(
        refreshed
            .success()
            .contains("\nregions (~5 rows)\n  The five sales regions"),
        "{}",
        refreshed.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&semantic).unwrap(),
        cbi_demo::SEMANTIC_YAML
    );

    // database.url: demo in the config file means the same.
    std::fs::write(cbi.dir().join("cbi.yaml"), "database:\n  url: demo\n").unwrap();
    let fourth = cbi.run_with(
        &["sql", "--csv", "SELECT count(*) AS n FROM categories"],
        &env,
    );
    assert_eq!(fourth.success(), "n\r\n12\r\n");
}
