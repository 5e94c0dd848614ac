//! The run folder: `meta.json` (what the run is), `predictions.jsonl` (one line per answered
//! question, appended and flushed as it goes) and the crash-safe reading that lets an
//! interrupted run continue.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::dataset::Format;
use super::hardness::Hardness;
use super::predictor::AnswerKind;

/// One scored question, as a line of `predictions.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    /// The conversation this question belongs to (its own id for single questions).
    pub unit: String,
    pub db_id: String,
    pub question: String,
    /// 1-based turn within the conversation (SParC and CoSQL only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn: Option<u32>,
    pub predicted_sql: Option<String>,
    pub gold_sql: String,
    pub correct_test_suite: bool,
    pub correct_bird: bool,
    /// What went wrong with the prediction ("prediction failed: no such column: x").
    pub error: Option<String>,
    /// Set when the gold SQL itself failed: the question is excluded from accuracy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gold_error: Option<String>,
    pub hardness: Option<Hardness>,
    pub difficulty: Option<String>,
    /// The question's category in the set (jsonl `category`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub generation_ms: f64,
    /// Time spent running the predicted SQL.
    pub execution_ms: f64,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub confidence: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<AnswerKind>,
    /// Why the predictor is as sure as it says (the embedded generator's penalties).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

impl Record {
    /// Counted in accuracy (its gold SQL ran).
    pub fn scored(&self) -> bool {
        self.gold_error.is_none()
    }
}

/// What a run is; a run is continued only with the same meta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub format: Format,
    /// The questions file, absolute.
    pub data: PathBuf,
    pub db_dir: Option<PathBuf>,
    pub model: String,
    pub keep_distinct: bool,
    pub max_rows: usize,
}

pub const META: &str = "meta.json";
pub const PREDICTIONS: &str = "predictions.jsonl";

/// Writes a file whole or not at all (a temporary file renamed over it).
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    {
        let mut f = File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
        f.write_all(contents)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Prepares the run folder and returns the records an earlier, interrupted run left.
///
/// With `restart`, or in a new folder, nothing is kept. Otherwise `meta.json` must describe the
/// same run; records are read back (a torn last line, from a crash mid-write, is dropped), and
/// records of conversations that did not finish (per `expected_turns`) are dropped too, since a
/// conversation is replayed from its first turn. If anything was dropped, the file is rewritten
/// without it before new lines are appended.
pub fn prepare(
    dir: &Path,
    meta: &Meta,
    restart: bool,
    expected_turns: &HashMap<String, usize>,
) -> Result<Vec<Record>> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let meta_path = dir.join(META);
    let pred_path = dir.join(PREDICTIONS);
    if restart || !meta_path.exists() {
        if pred_path.exists() {
            fs::remove_file(&pred_path)?;
        }
        write_atomic(&meta_path, serde_json::to_string_pretty(meta)?.as_bytes())?;
        return Ok(Vec::new());
    }
    let old: Meta = serde_json::from_str(&fs::read_to_string(&meta_path)?)
        .with_context(|| format!("reading {}", meta_path.display()))?;
    if &old != meta {
        bail!(
            "{} holds another run ({} on {} with model `{}`); pass --restart to start over or --run NAME for a new folder",
            dir.display(),
            old.format.name(),
            old.data.display(),
            old.model
        );
    }
    if !pred_path.exists() {
        return Ok(Vec::new());
    }
    let text = fs::read_to_string(&pred_path)?;
    let (records, torn) =
        parse_lines(&text).with_context(|| format!("in {}", pred_path.display()))?;
    let mut by_unit: HashMap<&str, usize> = HashMap::new();
    for r in &records {
        *by_unit.entry(r.unit.as_str()).or_default() += 1;
    }
    let complete: HashSet<String> = by_unit
        .iter()
        .filter(|(u, n)| expected_turns.get(**u).is_none_or(|e| *n >= e))
        .map(|(u, _)| (*u).to_string())
        .collect();
    let total = records.len();
    let kept: Vec<Record> = records
        .into_iter()
        .filter(|r| complete.contains(&r.unit))
        .collect();
    if torn || kept.len() != total {
        let mut out = String::new();
        for r in &kept {
            out.push_str(&serde_json::to_string(r)?);
            out.push('\n');
        }
        write_atomic(&pred_path, out.as_bytes())?;
    }
    Ok(kept)
}

/// Parses `predictions.jsonl`; returns the records and whether a torn last line was dropped.
/// A bad line anywhere else is an error: the file was not written by this harness.
fn parse_lines(text: &str) -> Result<(Vec<Record>, bool)> {
    let mut records = Vec::new();
    let ends_clean = text.is_empty() || text.ends_with('\n');
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(r) => records.push(r),
            Err(_) if i + 1 == lines.len() => return Ok((records, true)),
            Err(e) => bail!("line {} is not a prediction record: {e}", i + 1),
        }
    }
    Ok((records, !ends_clean))
}

/// Appends records to `predictions.jsonl`, one line per write, each written in a single call.
#[derive(Debug)]
pub struct Appender {
    file: File,
}

impl Appender {
    pub fn open(dir: &Path) -> Result<Self> {
        let path = dir.join(PREDICTIONS);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        Ok(Appender { file })
    }

    pub fn append(&mut self, record: &Record) -> Result<()> {
        let mut line = serde_json::to_string(record)?;
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.file.flush()?;
        Ok(())
    }

    /// Makes everything appended durable.
    pub fn sync(&self) -> Result<()> {
        self.file.sync_data()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn record(id: &str, unit: &str) -> Record {
        Record {
            id: id.into(),
            unit: unit.into(),
            db_id: "db".into(),
            question: "q".into(),
            turn: None,
            predicted_sql: Some("SELECT 1".into()),
            gold_sql: "SELECT 1".into(),
            correct_test_suite: true,
            correct_bird: true,
            error: None,
            gold_error: None,
            hardness: Some(Hardness::Easy),
            difficulty: None,
            category: None,
            generation_ms: 1.0,
            execution_ms: 1.0,
            prompt_tokens: 0,
            completion_tokens: 0,
            confidence: None,
            kind: None,
            reasons: Vec::new(),
        }
    }

    fn meta(model: &str) -> Meta {
        Meta {
            format: Format::Sparc,
            data: "/d/dev.json".into(),
            db_dir: None,
            model: model.into(),
            keep_distinct: false,
            max_rows: 10,
        }
    }

    #[test]
    fn resume_keeps_finished_conversations_and_drops_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let expected = HashMap::from([("u1".to_string(), 2), ("u2".to_string(), 2)]);
        assert!(
            prepare(dir.path(), &meta("gold"), false, &expected)
                .unwrap()
                .is_empty()
        );
        let mut app = Appender::open(dir.path()).unwrap();
        app.append(&record("u1/1", "u1")).unwrap();
        app.append(&record("u2/1", "u2")).unwrap();
        app.append(&record("u1/2", "u1")).unwrap();
        drop(app);
        // a crash in the middle of writing the next line
        let path = dir.path().join(PREDICTIONS);
        let mut text = fs::read_to_string(&path).unwrap();
        text.push_str("{\"id\":\"u2/2\",\"unit\":\"u2\",\"db_");
        fs::write(&path, &text).unwrap();

        let kept = prepare(dir.path(), &meta("gold"), false, &expected).unwrap();
        let ids: Vec<&str> = kept.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["u1/1", "u1/2"], "u2 did not finish");
        let rewritten = fs::read_to_string(&path).unwrap();
        assert_eq!(rewritten.lines().count(), 2);
        assert!(rewritten.ends_with('\n'));

        // another model in the same folder is refused; --restart clears it
        let err = prepare(dir.path(), &meta("select1"), false, &expected).unwrap_err();
        assert!(err.to_string().contains("--restart"), "{err:#}");
        assert!(
            prepare(dir.path(), &meta("select1"), true, &expected)
                .unwrap()
                .is_empty()
        );
        assert!(!path.exists());
    }

    #[test]
    fn a_corrupt_middle_line_is_an_error() {
        let text = "{\"not\":\"a record\"}\n{\"also\":1}\n";
        assert!(parse_lines(text).is_err());
        let one_torn = "{\"x\":";
        let (recs, torn) = parse_lines(one_torn).unwrap();
        assert!(recs.is_empty() && torn);
    }
}
