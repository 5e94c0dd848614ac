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
            .env("CBI_DATA_DIR", home.join("cbi-data"))
            .current_dir(home)
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    pub fn run_with(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        self.run_with_input(args, envs, None)
    }

    /// Runs `cbi` with `input` piped to its stdin (as a script of lines for `cbi chat`).
    pub fn run_stdin(&self, args: &[&str], input: &str) -> Run {
        self.run_with_input(args, &[], Some(input))
    }

    /// [`Cbi::run_stdin`] with extra environment variables.
    pub fn run_stdin_with(&self, args: &[&str], envs: &[(&str, &str)], input: &str) -> Run {
        self.run_with_input(args, envs, Some(input))
    }

    fn run_with_input(&self, args: &[&str], envs: &[(&str, &str)], input: Option<&str>) -> Run {
        use std::io::Write;
        let mut c = self.command();
        c.args(args);
        for (k, v) in envs {
            c.env(k, v);
        }
        let out = match input {
            None => c.output().unwrap(),
            Some(text) => {
                let mut child = c
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                let mut stdin = child.stdin.take().unwrap();
                let text = text.to_string();
                // Written from a thread so a chatty child never blocks on a full stdout pipe
                // while we are still writing its input.
                let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
                let out = child.wait_with_output().unwrap();
                writer.join().unwrap().unwrap();
                out
            }
        };
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
        // The superuser warning the test servers' admin users earn comes first, once.
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.starts_with("warning: connected to "))
            .collect();
        assert!(
            self.stderr.matches("warning: connected to ").count() <= 1,
            "cbi {:?}: the privilege warning more than once:\n{}",
            self.args,
            self.stderr
        );
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

impl Cbi {
    /// The bundled demo database as this sandbox's runs generate it (`$CBI_DATA_DIR/demo/`);
    /// generated by a first `cbi sql` when it is not there yet.
    pub fn demo_db(&self) -> PathBuf {
        let dir = self.dir().join("cbi-data").join("demo");
        let find = || {
            std::fs::read_dir(&dir).ok().and_then(|entries| {
                entries
                    .map(|e| e.unwrap().path())
                    .find(|p| p.extension().is_some_and(|x| x == "sqlite"))
            })
        };
        if let Some(path) = find() {
            return path;
        }
        self.run(&["sql", "--db", "demo", "SELECT 1"]).success();
        find().expect("the demo database was generated")
    }
}

/// One integer from a SQLite file, read directly (not through cbi), to check cbi's answers
/// against.
pub fn sqlite_scalar(path: &Path, sql: &str) -> i64 {
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    db.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The cells of a table that `cbi` printed (comfy-table's UTF-8 style): one `Vec` per row,
/// the header first. Lines that are not table rows are skipped.
pub fn table_cells(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter_map(|l| l.strip_prefix('│'))
        .map(|l| {
            l.trim_end_matches('│')
                .split('┆')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// A SQLite file with a `regions` table of three rows, and beside it `shop.semantic.yaml`
/// whose verified "question" is a DELETE: the engine must refuse it.
pub fn regions_fixture(dir: &Path) -> PathBuf {
    let path = dir.join("shop.sqlite");
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch(
        "CREATE TABLE regions (region_id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO regions VALUES (1, 'North'), (2, 'South'), (3, 'East');",
    )
    .unwrap();
    std::fs::write(
        dir.join("shop.semantic.yaml"),
        "verified_queries:\n  - question: Clean up the regions table\n    sql: DELETE FROM regions\n",
    )
    .unwrap();
    path
}

/// The bytes of a SQLite file and its `regions` rows as rusqlite reads them.
pub fn regions_snapshot(path: &Path) -> (Vec<u8>, Vec<String>) {
    let bytes = std::fs::read(path).unwrap();
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = db
        .prepare("SELECT region_id || '|' || name FROM regions ORDER BY region_id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (bytes, rows)
}

/// Two unrelated tables that both have an `amount`, so "the total amount" is ambiguous:
/// `online_sales` totals 30, `store_sales` 6.
pub fn ambiguous_fixture(dir: &Path) -> PathBuf {
    let path = dir.join("sales.sqlite");
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch(
        "CREATE TABLE online_sales (id INTEGER PRIMARY KEY, amount REAL);
         CREATE TABLE store_sales (id INTEGER PRIMARY KEY, amount REAL);
         INSERT INTO online_sales (amount) VALUES (10), (20);
         INSERT INTO store_sales (amount) VALUES (1), (2), (3);",
    )
    .unwrap();
    path
}

/// A Spider database from the shared benchmark folder (`$CBI_DATASETS`, default
/// `shared/datasets` beside the workspace). Fails loudly when it is missing.
pub fn spider_db(name: &str) -> PathBuf {
    let dir = std::env::var_os("CBI_DATASETS").map_or_else(
        || {
            let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets");
            if beside.is_dir() {
                beside
            } else {
                PathBuf::from("/work/shared/datasets")
            }
        },
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
