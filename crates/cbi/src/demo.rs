//! The bundled demo database: cbi's default when no database is named.
//!
//! The demo is cbi-demo's retail dataset at its `small` preset, kept as a SQLite file in the
//! user's data directory: `$CBI_DATA_DIR/demo/retail-<data version>.sqlite`, or the platform's
//! data directory (`$XDG_DATA_HOME/cbi` or `~/.local/share/cbi` on Linux). The first command that
//! needs it generates it — deterministically and without any download — and says so in one line
//! on stderr; every later command reuses the file. The data version is in the file name, so a cbi
//! whose generator changed makes a fresh file instead of trusting a stale one.
//!
//! Generation is atomic (cbi-demo writes a temporary file beside the target and renames it into
//! place), so an interrupted run or two runs racing never leave a half-written demo behind.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use cbi_demo::DemoSize;

/// What `--db` or `database.url` say to mean the bundled demo.
pub const KEYWORD: &str = "demo";

/// The size of the bundled demo.
pub const SIZE: DemoSize = DemoSize::SMALL;

/// Whether a database argument asks for the demo.
pub fn is_demo(db: &str) -> bool {
    db.trim().eq_ignore_ascii_case(KEYWORD)
}

/// The demo file's path (which may not exist yet).
pub fn path() -> anyhow::Result<PathBuf> {
    let dir = data_dir(&|k| std::env::var_os(k).filter(|v| !v.is_empty())).ok_or_else(|| {
        anyhow!("cannot find a data directory for the demo database; set CBI_DATA_DIR")
    })?;
    Ok(dir.join("demo").join(file_name()))
}

/// The demo file's name, versioned by the generator's data version.
pub fn file_name() -> String {
    format!("retail-{}.sqlite", cbi_demo::DATA_VERSION)
}

/// cbi's data directory: `$CBI_DATA_DIR`, else the platform's per-user data directory.
fn data_dir(env: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    if let Some(d) = env("CBI_DATA_DIR") {
        return Some(PathBuf::from(d));
    }
    let home = env("HOME").map(PathBuf::from);
    if cfg!(windows) {
        return env("LOCALAPPDATA").map(|d| PathBuf::from(d).join("cbi"));
    }
    if cfg!(target_os = "macos") {
        return home.map(|h| h.join("Library/Application Support/cbi"));
    }
    match env("XDG_DATA_HOME").map(PathBuf::from) {
        Some(x) if x.is_absolute() => Some(x.join("cbi")),
        _ => home.map(|h| h.join(".local/share/cbi")),
    }
}

/// The demo file, generated first if it is not there yet. Blocking: generation takes a few
/// seconds the first time.
pub fn ensure() -> anyhow::Result<PathBuf> {
    let path = path()?;
    ensure_at(&path, SIZE, |line| eprintln!("{line}"))?;
    Ok(path)
}

/// Generates the demo at `path` unless a file is already there; `notice` receives the one line
/// that tells the user a file was created. Returns whether this call created it.
pub fn ensure_at(path: &Path, size: DemoSize, notice: impl FnOnce(&str)) -> anyhow::Result<bool> {
    if path.is_file() {
        tracing::debug!(path = %path.display(), "using the existing demo database");
        return Ok(false);
    }
    tracing::info!(path = %path.display(), "generating the demo database");
    match cbi_demo::write_sqlite(path, size) {
        Ok(report) => {
            notice(&format!(
                "cbi: created the demo database {} ({} rows, {:.1} s)",
                path.display(),
                crate::output::thousands(report.rows.total()),
                report.elapsed.as_secs_f64()
            ));
            Ok(true)
        }
        // Another cbi finished first; its file is the same, byte for byte.
        Err(cbi_demo::Error::FileExists(_)) if path.is_file() => Ok(false),
        Err(e) => {
            Err(e).with_context(|| format!("cannot create the demo database at {}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| ((*k).to_string(), OsString::from(v)))
            .collect();
        move |k| vars.get(k).cloned()
    }

    #[test]
    fn data_directory_lookup() {
        assert_eq!(
            data_dir(&env(&[("CBI_DATA_DIR", "/d"), ("HOME", "/h")])),
            Some(PathBuf::from("/d"))
        );
        if cfg!(target_os = "linux") {
            assert_eq!(
                data_dir(&env(&[("HOME", "/h")])),
                Some(PathBuf::from("/h/.local/share/cbi"))
            );
            assert_eq!(
                data_dir(&env(&[("HOME", "/h"), ("XDG_DATA_HOME", "/x")])),
                Some(PathBuf::from("/x/cbi"))
            );
            assert_eq!(
                data_dir(&env(&[("HOME", "/h"), ("XDG_DATA_HOME", "rel")])),
                Some(PathBuf::from("/h/.local/share/cbi"))
            );
            assert_eq!(data_dir(&env(&[])), None);
        }
    }

    #[test]
    fn keyword() {
        assert!(is_demo("demo"));
        assert!(is_demo(" DEMO "));
        assert!(!is_demo("demo.sqlite"));
        assert!(file_name().starts_with("retail-") && file_name().ends_with(".sqlite"));
    }

    #[test]
    fn generates_once_then_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo").join("retail.sqlite");
        let mut lines = Vec::new();
        assert!(ensure_at(&path, DemoSize::TINY, |l| lines.push(l.to_string())).unwrap());
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("created the demo database"), "{lines:?}");
        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        assert!(!ensure_at(&path, DemoSize::TINY, |_| panic!("no notice expected")).unwrap());
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            before
        );
        // Nothing but the demo file is left in its directory: no temporary files.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![OsString::from("retail.sqlite")]);
    }
}
