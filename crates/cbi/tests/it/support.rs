//! Running the binary in isolation, and the fixtures the tests share.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

/// A sandbox for one or more runs of `cbi`: its own HOME, config and data directories, and the
/// working directory they live in.
pub struct Cbi {
    home: TempDir,
}

impl Cbi {
    pub fn new() -> Cbi {
        Cbi {
            home: tempfile::tempdir().unwrap(),
        }
    }

    /// The sandbox folder (also the working directory of every run).
    pub fn dir(&self) -> &Path {
        self.home.path()
    }

    /// `cbi` with a scrubbed environment: nothing from the machine's or the developer's
    /// configuration leaks in.
    pub fn command(&self) -> Command {
        let home = self.dir();
        let mut c = Command::new(env!("CARGO_BIN_EXE_cbi"));
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .current_dir(home)
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    pub fn run_with(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        let mut c = self.command();
        c.args(args);
        for (k, v) in envs {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }
}

/// What one run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts exit code 0 and returns stdout.
    #[track_caller]
    pub fn success(&self) -> &str {
        assert_eq!(
            self.code,
            Some(0),
            "cbi {:?} failed\n--- stdout\n{}\n--- stderr\n{}",
            self.args,
            self.stdout,
            self.stderr
        );
        &self.stdout
    }

    /// Asserts the shape every failure must have — exit code 1, exactly one line on stderr
    /// starting with `error: `, no panic — and returns that line.
    #[track_caller]
    pub fn one_line_error(&self) -> &str {
        assert_eq!(
            self.code,
            Some(1),
            "cbi {:?}: expected exit code 1\n--- stdout\n{}\n--- stderr\n{}",
            self.args,
            self.stdout,
            self.stderr
        );
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "cbi {:?}: expected one line on stderr, got:\n{}",
            self.args,
            self.stderr
        );
        assert!(
            lines[0].starts_with("error: "),
            "cbi {:?}: {}",
            self.args,
            lines[0]
        );
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        assert!(!self.stdout.contains("panicked"), "{}", self.stdout);
        lines[0]
    }
}

/// A Spider database from the shared benchmark folder (`$CBI_DATASETS`, default
/// `shared/datasets` beside the workspace). Fails loudly when it is missing.
pub fn spider_db(name: &str) -> PathBuf {
    let dir = std::env::var_os("CBI_DATASETS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets"),
        PathBuf::from,
    );
    let file = dir
        .join("spider/database")
        .join(name)
        .join(format!("{name}.sqlite"));
    assert!(
        file.is_file(),
        "Spider database not found at {} (set CBI_DATASETS to the folder holding spider/)",
        file.display()
    );
    file
}

/// A small SQLite file: table `t` with five rows covering text, NULL, REAL and awkward CSV
/// characters.
pub fn sqlite_fixture(dir: &Path) -> PathBuf {
    let path = dir.join("fixture.sqlite");
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, price REAL);
         INSERT INTO t VALUES
           (1, 'apple', 1.5),
           (2, NULL, 2.0),
           (3, 'cherry, \"red\"', NULL),
           (4, 'date', 4.25),
           (5, 'elder
berry', 0.5);",
    )
    .unwrap();
    path
}

/// Everything a SQLite file holds, two ways: its bytes, and its catalog and rows as read back by
/// rusqlite (so a change in either is caught).
pub fn sqlite_snapshot(path: &Path) -> (Vec<u8>, Vec<String>) {
    let bytes = std::fs::read(path).unwrap();
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut dump = Vec::new();
    let mut stmt = db
        .prepare("SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master ORDER BY name")
        .unwrap();
    dump.extend(
        stmt.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap),
    );
    let mut stmt = db
        .prepare("SELECT id || '|' || coalesce(name, 'NULL') || '|' || coalesce(price, 'NULL') FROM t ORDER BY id")
        .unwrap();
    dump.extend(
        stmt.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap),
    );
    (bytes, dump)
}

/// Runs a future to completion on a fresh runtime (the tests themselves are synchronous: they
/// mostly wait for a child process).
pub fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A name no other test run uses, safe as a database name on every server.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}
