//! Loading benchmark sets into one shape: units (a conversation, or a single question as a
//! conversation of one turn) of turns with their accepted gold answers.
//!
//! Loaders only read the files they are pointed at; where a database is expected but missing,
//! the unit is kept and later reported as skipped.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use super::hardness::{Hardness, hardness};
use super::sqltext::{repair_tokenised, split_statements};

/// The benchmark formats `cargo xtask eval` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Spider 1.0: `dev.json` + `database/<db_id>/<db_id>.sqlite`.
    Spider,
    /// BIRD dev or mini-dev JSON with `evidence`, databases in `dev_databases/`.
    Bird,
    /// SParC: multi-turn interactions over the Spider databases.
    Sparc,
    /// CoSQL (SQL part): multi-turn dialogues over the Spider databases.
    Cosql,
    /// Your own questions: one JSON object per line.
    Jsonl,
    /// GeoQuery (text2sql-data), variables filled in, on its SQLite database.
    Geoquery,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Spider => "spider",
            Format::Bird => "bird",
            Format::Sparc => "sparc",
            Format::Cosql => "cosql",
            Format::Jsonl => "jsonl",
            Format::Geoquery => "geoquery",
        }
    }

    /// Multi-turn sets, scored per question and per interaction.
    pub fn conversational(self) -> bool {
        matches!(self, Format::Sparc | Format::Cosql)
    }

    /// Sets scored officially by test-suite-sql-eval, which also runs every query on each
    /// further `*.sqlite*` file in the database's folder (its "test suite" of databases).
    pub fn uses_database_suites(self) -> bool {
        matches!(self, Format::Spider | Format::Sparc | Format::Cosql)
    }
}

/// One question to answer and what counts as right.
#[derive(Debug, Clone)]
pub struct Turn {
    /// Unique in the dataset; for conversations `<interaction>/<turn>`.
    pub id: String,
    pub question: String,
    /// BIRD's `evidence` (or a jsonl `evidence`): a hint handed to the predictor.
    pub evidence: Option<String>,
    /// Accepted answers, already repaired where the data needed it; right if any matches.
    pub gold: Vec<String>,
    /// The gold SQL as the data file has it, for the predictions file.
    pub gold_text: String,
    pub hardness: Option<Hardness>,
    /// The set's own difficulty label (BIRD's, or a jsonl `difficulty`).
    pub difficulty: Option<String>,
    /// A jsonl `category` (the kind of question: `top_n`, `anti_join`…), reported apart.
    pub category: Option<String>,
}

/// A conversation (or a lone question) about one database.
#[derive(Debug, Clone)]
pub struct Unit {
    pub id: String,
    pub db_id: String,
    /// The SQLite file the questions are about.
    pub db_path: PathBuf,
    pub turns: Vec<Turn>,
}

/// A loaded benchmark.
#[derive(Debug)]
pub struct Dataset {
    /// The file the questions came from.
    pub source: PathBuf,
    pub units: Vec<Unit>,
    /// Gold queries that `repair_tokenised` changed.
    pub gold_repairs: usize,
}

/// Where to read from and what to keep.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub data: PathBuf,
    /// Overrides the format's own database folder (`<db_dir>/<db_id>/<db_id>.sqlite`).
    pub db_dir: Option<PathBuf>,
    /// Keep only these databases (empty: all).
    pub dbs: Vec<String>,
    /// Keep every K-th unit after the database filter (the first, the K+1-th, …): a fixed
    /// sample spread over the whole set, the same on every run.
    pub every: Option<usize>,
    /// Keep the first N units after the database filter and `every`.
    pub limit: Option<usize>,
}

pub fn load(format: Format, opts: &LoadOptions) -> Result<Dataset> {
    let mut ds = match format {
        Format::Spider => load_spider(opts)?,
        Format::Bird => load_bird(opts)?,
        Format::Sparc | Format::Cosql => load_interactions(opts)?,
        Format::Jsonl => load_jsonl(opts)?,
        Format::Geoquery => load_geoquery(opts)?,
    };
    if !opts.dbs.is_empty() {
        let known: HashSet<&str> = ds.units.iter().map(|u| u.db_id.as_str()).collect();
        for db in &opts.dbs {
            if !known.contains(db.as_str()) {
                bail!("--db {db}: no question in {} uses it", ds.source.display());
            }
        }
        ds.units.retain(|u| opts.dbs.contains(&u.db_id));
    }
    if let Some(k) = opts.every.filter(|k| *k > 1) {
        ds.units = std::mem::take(&mut ds.units)
            .into_iter()
            .step_by(k)
            .collect();
    }
    if let Some(n) = opts.limit {
        ds.units.truncate(n);
    }
    Ok(ds)
}

/// `<dir>/<db_id>/<db_id>.sqlite`.
pub fn db_file(dir: &Path, db_id: &str) -> PathBuf {
    let nested = dir.join(db_id).join(format!("{db_id}.sqlite"));
    let flat = dir.join(format!("{db_id}.sqlite"));
    if !nested.exists() && flat.exists() {
        return flat;
    }
    nested
}

/// The JSON file of a set: `data` itself when it is a file, else the first of `names` in it.
fn data_file(data: &Path, names: &[&str]) -> Result<PathBuf> {
    if data.is_file() {
        return Ok(data.to_path_buf());
    }
    if !data.is_dir() {
        bail!("--data {}: no such file or folder", data.display());
    }
    for name in names {
        let p = data.join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    bail!(
        "--data {}: none of {} found in this folder",
        data.display(),
        names.join(", ")
    )
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn folder_of(file: &Path) -> PathBuf {
    file.parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn level(sql: &str) -> Option<Hardness> {
    hardness(sql).ok()
}

fn single(id: String, db_id: String, db_path: PathBuf, turn: Turn) -> Unit {
    Unit {
        id,
        db_id,
        db_path,
        turns: vec![turn],
    }
}

#[derive(Deserialize)]
struct SpiderItem {
    db_id: String,
    question: String,
    query: String,
}

fn load_spider(opts: &LoadOptions) -> Result<Dataset> {
    let file = data_file(&opts.data, &["dev.json"])?;
    let db_dir = opts
        .db_dir
        .clone()
        .unwrap_or_else(|| folder_of(&file).join("database"));
    let items: Vec<SpiderItem> = read_json(&file)?;
    let units = items
        .into_iter()
        .enumerate()
        .map(|(i, it)| {
            let id = i.to_string();
            let turn = Turn {
                id: id.clone(),
                question: it.question,
                evidence: None,
                hardness: level(&it.query),
                gold: vec![it.query.clone()],
                gold_text: it.query,
                difficulty: None,
                category: None,
            };
            single(id, it.db_id.clone(), db_file(&db_dir, &it.db_id), turn)
        })
        .collect();
    Ok(Dataset {
        source: file,
        units,
        gold_repairs: 0,
    })
}

#[derive(Deserialize)]
struct BirdItem {
    #[serde(default)]
    question_id: Option<serde_json::Value>,
    db_id: String,
    question: String,
    #[serde(default)]
    evidence: Option<String>,
    #[serde(rename = "SQL")]
    sql: String,
    #[serde(default)]
    difficulty: Option<String>,
}

fn load_bird(opts: &LoadOptions) -> Result<Dataset> {
    let file = data_file(&opts.data, &["dev.json", "mini_dev_sqlite.json"])?;
    let db_dir = opts
        .db_dir
        .clone()
        .unwrap_or_else(|| folder_of(&file).join("dev_databases"));
    let items: Vec<BirdItem> = read_json(&file)?;
    let mut seen = HashSet::new();
    let mut units = Vec::with_capacity(items.len());
    for (i, it) in items.into_iter().enumerate() {
        let mut id = match &it.question_id {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => i.to_string(),
        };
        // mini-dev lists two questions twice; later copies get `#2`, `#3`…
        let base = id.clone();
        let mut copy = 1;
        while !seen.insert(id.clone()) {
            copy += 1;
            id = format!("{base}#{copy}");
        }
        let turn = Turn {
            id: id.clone(),
            question: it.question,
            evidence: it.evidence.filter(|e| !e.trim().is_empty()),
            hardness: None,
            gold: vec![it.sql.clone()],
            gold_text: it.sql,
            difficulty: it.difficulty,
            category: None,
        };
        units.push(single(
            id,
            it.db_id.clone(),
            db_file(&db_dir, &it.db_id),
            turn,
        ));
    }
    Ok(Dataset {
        source: file,
        units,
        gold_repairs: 0,
    })
}

#[derive(Deserialize)]
struct Interaction {
    database_id: String,
    interaction: Vec<InteractionTurn>,
}

#[derive(Deserialize)]
struct InteractionTurn {
    utterance: String,
    query: String,
}

fn load_interactions(opts: &LoadOptions) -> Result<Dataset> {
    let file = data_file(&opts.data, &["dev.json"])?;
    let db_dir = opts
        .db_dir
        .clone()
        .unwrap_or_else(|| folder_of(&file).join("../spider/database"));
    let items: Vec<Interaction> = read_json(&file)?;
    let mut repairs = 0;
    let mut units = Vec::with_capacity(items.len());
    for (i, it) in items.into_iter().enumerate() {
        let unit_id = i.to_string();
        let turns = it
            .interaction
            .into_iter()
            .enumerate()
            .map(|(t, turn)| {
                let repaired = repair_tokenised(&turn.query);
                if repaired != turn.query {
                    repairs += 1;
                }
                Turn {
                    id: format!("{unit_id}/{}", t + 1),
                    question: turn.utterance,
                    evidence: None,
                    hardness: level(&repaired),
                    gold: vec![repaired],
                    gold_text: turn.query,
                    difficulty: None,
                    category: None,
                }
            })
            .collect::<Vec<_>>();
        if turns.is_empty() {
            continue;
        }
        units.push(Unit {
            db_path: db_file(&db_dir, &it.database_id),
            id: unit_id,
            db_id: it.database_id,
            turns,
        });
    }
    Ok(Dataset {
        source: file,
        units,
        gold_repairs: repairs,
    })
}

#[derive(Deserialize)]
struct JsonlItem {
    #[serde(default)]
    id: Option<serde_json::Value>,
    question: String,
    #[serde(default)]
    db_path: Option<PathBuf>,
    #[serde(default)]
    db_id: Option<String>,
    #[serde(default)]
    evidence: Option<String>,
    gold_sql: GoldField,
    #[serde(default)]
    difficulty: Option<String>,
    #[serde(default)]
    category: Option<String>,
}

/// `gold_sql`: one string (answers separated by `;`) or a list of answers.
#[derive(Deserialize)]
#[serde(untagged)]
enum GoldField {
    One(String),
    Many(Vec<String>),
}

fn load_jsonl(opts: &LoadOptions) -> Result<Dataset> {
    let file = opts.data.clone();
    if !file.is_file() {
        bail!(
            "--data {}: expected a .jsonl file (one question per line)",
            file.display()
        );
    }
    let base = folder_of(&file);
    let text = fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let mut seen = HashSet::new();
    let mut units = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let lineno = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        let it: JsonlItem = serde_json::from_str(line)
            .with_context(|| format!("{} line {lineno}", file.display()))?;
        let id = match &it.id {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(x)) => x.to_string(),
            None => lineno.to_string(),
            Some(other) => bail!(
                "{} line {lineno}: `id` must be a string or a number, not {other}",
                file.display()
            ),
        };
        if !seen.insert(id.clone()) {
            bail!("{} line {lineno}: id `{id}` appears twice", file.display());
        }
        let (db_id, db_path) = match (&opts.db_dir, &it.db_id, &it.db_path) {
            (Some(dir), Some(db_id), _) => (db_id.clone(), db_file(dir, db_id)),
            (_, _, Some(p)) => {
                let path = if p.is_absolute() {
                    p.clone()
                } else {
                    base.join(p)
                };
                let db_id = it.db_id.clone().unwrap_or_else(|| {
                    p.file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default()
                });
                (db_id, path)
            }
            (None, Some(_), None) => bail!(
                "{} line {lineno}: `db_id` without `db_path` needs --db-dir",
                file.display()
            ),
            (_, None, None) => bail!(
                "{} line {lineno}: give `db_path` (relative to the file) or `db_id` with --db-dir",
                file.display()
            ),
        };
        let (gold, gold_text) = match it.gold_sql {
            GoldField::One(s) => (split_statements(&s), s),
            GoldField::Many(v) => {
                let text = v.join("; ");
                (
                    v.into_iter()
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect(),
                    text,
                )
            }
        };
        if gold.is_empty() {
            bail!("{} line {lineno}: `gold_sql` is empty", file.display());
        }
        let turn = Turn {
            id: id.clone(),
            question: it.question,
            evidence: it.evidence.filter(|e| !e.trim().is_empty()),
            hardness: level(&gold[0]),
            gold,
            gold_text,
            difficulty: it.difficulty,
            category: it.category,
        };
        units.push(single(id, db_id, db_path, turn));
    }
    Ok(Dataset {
        source: file,
        units,
        gold_repairs: 0,
    })
}

#[derive(Deserialize)]
struct GeoTemplate {
    sentences: Vec<GeoSentence>,
    sql: Vec<String>,
}

#[derive(Deserialize)]
struct GeoSentence {
    text: String,
    #[serde(default)]
    variables: std::collections::BTreeMap<String, String>,
}

/// GeoQuery's database file names, newest first.
const GEO_DBS: [&str; 2] = ["geography-db.added-in-2020.sqlite", "geography-db.sqlite"];

fn load_geoquery(opts: &LoadOptions) -> Result<Dataset> {
    let file = data_file(&opts.data, &["geography.json"])?;
    let folder = opts.db_dir.clone().unwrap_or_else(|| folder_of(&file));
    let db_path = GEO_DBS
        .iter()
        .map(|n| folder.join(n))
        .find(|p| p.is_file())
        .unwrap_or_else(|| folder.join(GEO_DBS[0]));
    let templates: Vec<GeoTemplate> = read_json(&file)?;
    let mut units = Vec::new();
    for (t, tpl) in templates.into_iter().enumerate() {
        let Some(sql) = tpl.sql.first() else {
            continue;
        };
        for (s, sentence) in tpl.sentences.iter().enumerate() {
            let id = format!("{t}/{s}");
            let question = fill_variables(&sentence.text, &sentence.variables);
            let gold = fill_variables(sql, &sentence.variables);
            let turn = Turn {
                id: id.clone(),
                question,
                evidence: None,
                hardness: level(&gold),
                gold: vec![gold.clone()],
                gold_text: gold,
                difficulty: None,
                category: None,
            };
            units.push(single(id, "geography".to_string(), db_path.clone(), turn));
        }
    }
    Ok(Dataset {
        source: file,
        units,
        gold_repairs: 0,
    })
}

/// Replaces each variable name with its value, longest names first so `city_name10` is not
/// read as `city_name1` followed by `0`.
pub fn fill_variables(text: &str, vars: &std::collections::BTreeMap<String, String>) -> String {
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let mut out = text.to_string();
    for name in names {
        out = out.replace(name.as_str(), &vars[name]);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::Write;

    use super::*;

    #[test]
    fn variables_fill_longest_first() {
        let vars = BTreeMap::from([
            ("city_name1".to_string(), "austin".to_string()),
            ("city_name10".to_string(), "boston".to_string()),
        ]);
        assert_eq!(
            fill_variables("\"city_name10\" or city_name1", &vars),
            "\"boston\" or austin"
        );
    }

    #[test]
    fn jsonl_accepts_several_answers_and_both_database_forms() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("q.jsonl");
        let mut f = fs::File::create(&file).unwrap();
        writeln!(
            f,
            r#"{{"id":"a","question":"q1","db_path":"dbs/x.sqlite","gold_sql":"SELECT 1; SELECT ';'"}}"#
        )
        .unwrap();
        writeln!(f).unwrap();
        writeln!(
            f,
            r#"{{"id":7,"question":"q2","db_id":"y","evidence":"hint","gold_sql":["SELECT 2","  "],"category":"top_n","difficulty":"hard"}}"#
        )
        .unwrap();
        drop(f);
        let err = load(
            Format::Jsonl,
            &LoadOptions {
                data: file.clone(),
                ..LoadOptions::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("--db-dir"), "{err:#}");
        let ds = load(
            Format::Jsonl,
            &LoadOptions {
                data: file.clone(),
                db_dir: Some(PathBuf::from("/dbs")),
                ..LoadOptions::default()
            },
        )
        .unwrap();
        assert_eq!(ds.units.len(), 2);
        let a = &ds.units[0];
        assert_eq!(a.id, "a");
        assert_eq!(a.db_path, dir.path().join("dbs/x.sqlite"));
        assert_eq!(a.db_id, "x");
        assert_eq!(a.turns[0].gold, vec!["SELECT 1", "SELECT ';'"]);
        let b = &ds.units[1];
        assert_eq!(b.id, "7");
        assert_eq!(b.db_path, PathBuf::from("/dbs/y/y.sqlite"));
        assert_eq!(b.turns[0].gold, vec!["SELECT 2"]);
        assert_eq!(b.turns[0].evidence.as_deref(), Some("hint"));
        assert_eq!(b.turns[0].category.as_deref(), Some("top_n"));
        assert_eq!(b.turns[0].difficulty.as_deref(), Some("hard"));
        assert_eq!(a.turns[0].category, None);
    }

    #[test]
    fn jsonl_rejects_duplicate_ids_and_empty_gold() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("q.jsonl");
        fs::write(
            &file,
            "{\"id\":1,\"question\":\"q\",\"db_path\":\"a.sqlite\",\"gold_sql\":\"SELECT 1\"}\n\
             {\"id\":\"1\",\"question\":\"q\",\"db_path\":\"a.sqlite\",\"gold_sql\":\"SELECT 1\"}\n",
        )
        .unwrap();
        let opts = LoadOptions {
            data: file.clone(),
            ..LoadOptions::default()
        };
        assert!(
            load(Format::Jsonl, &opts)
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
        fs::write(
            &file,
            "{\"question\":\"q\",\"db_path\":\"a.sqlite\",\"gold_sql\":\" ; \"}\n",
        )
        .unwrap();
        assert!(
            load(Format::Jsonl, &opts)
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
    }

    #[test]
    fn shared_sets_load_with_their_counts() {
        let data = crate::eval::testdata::datasets();
        let opts = |sub: &str| LoadOptions {
            data: data.join(sub),
            ..LoadOptions::default()
        };
        let spider = load(Format::Spider, &opts("spider")).unwrap();
        assert_eq!(spider.units.len(), 1034);
        let missing = spider.units.iter().filter(|u| !u.db_path.is_file()).count();
        assert_eq!(missing, 62, "wta_1 is absent");
        let sparc = load(Format::Sparc, &opts("sparc")).unwrap();
        assert_eq!(sparc.units.len(), 422);
        assert_eq!(
            sparc.units.iter().map(|u| u.turns.len()).sum::<usize>(),
            1203
        );
        let cosql = load(Format::Cosql, &opts("cosql")).unwrap();
        assert_eq!(cosql.units.len(), 293);
        assert_eq!(
            cosql.units.iter().map(|u| u.turns.len()).sum::<usize>(),
            1007
        );
        assert!(cosql.gold_repairs > 0);
        let geo = load(Format::Geoquery, &opts("geoquery")).unwrap();
        assert_eq!(geo.units.len(), 877);
        assert!(geo.units.iter().all(|u| u.db_path.is_file()));
        assert!(!geo.units[0].turns[0].gold[0].contains("state_name0"));
        let bird = load(Format::Bird, &opts("bird-minidev")).unwrap();
        assert_eq!(bird.units.len(), 500);
        assert!(bird.units.iter().all(|u| !u.db_path.is_file()));
        assert_eq!(bird.units[0].id, "1471");
        let ids: HashSet<&str> = bird.units.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids.len(), 500, "ids are unique");
        assert!(ids.contains("137#2"));
        assert!(bird.units[0].turns[0].evidence.is_some());
        // filters
        let some = load(
            Format::Spider,
            &LoadOptions {
                dbs: vec!["concert_singer".into(), "pets_1".into()],
                limit: Some(50),
                ..opts("spider")
            },
        )
        .unwrap();
        assert_eq!(some.units.len(), 50);
        assert!(
            some.units
                .iter()
                .all(|u| u.db_id == "concert_singer" || u.db_id == "pets_1")
        );
        // a spread sample: the first, the fifth, …, the same on every load
        let all = load(Format::Spider, &opts("spider")).unwrap();
        let sample = load(
            Format::Spider,
            &LoadOptions {
                every: Some(4),
                ..opts("spider")
            },
        )
        .unwrap();
        assert_eq!(sample.units.len(), all.units.len().div_ceil(4));
        assert_eq!(sample.units[0].id, all.units[0].id);
        assert_eq!(sample.units[1].id, all.units[4].id);
        assert_eq!(
            sample.units.last().unwrap().id,
            all.units[(all.units.len() - 1) / 4 * 4].id
        );
        let err = load(
            Format::Spider,
            &LoadOptions {
                dbs: vec!["nope".into()],
                ..opts("spider")
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("nope"));
    }
}
