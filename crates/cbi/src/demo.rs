//! The bundled demo database: cbi's default when no database is named.
//!
//! The demo is cbi-demo's retail dataset at its `small` preset, kept as a SQLite file in the
//! user's data directory ([`crate::dirs`]): `$CBI_DATA_DIR/demo/retail-<data version>.sqlite`.
//! The first command that needs it generates it — deterministically and without any download —
//! and says so in one line on stderr; every later command reuses the file. The data version is
//! in the file name, so a cbi whose generator changed makes a fresh file instead of trusting a
//! stale one.
//!
//! Beside the database lies its semantic file, `retail-<data version>.semantic.yaml` (the
//! descriptions, synonyms, business terms and verified questions of `cbi_demo::SEMANTIC_YAML`),
//! which cbi loads like any semantic file next to a SQLite database. It is rewritten whenever
//! its content differs from the text built into this cbi, so an upgrade's better semantic layer
//! applies to an existing demo without regenerating the data.
//!
//! Both files are written atomically (a temporary file beside the target, then a rename), so an
//! interrupted run or two runs racing never leave a half-written file behind.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
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
    let dir = crate::dirs::data_dir().context("no place for the demo database")?;
    Ok(dir.join("demo").join(file_name()))
}

/// The demo file's name, versioned by the generator's data version.
pub fn file_name() -> String {
    format!("retail-{}.sqlite", cbi_demo::DATA_VERSION)
}

/// The demo file, generated first if it is not there yet, with its semantic file beside it.
/// Blocking: generation takes a few seconds the first time.
pub fn ensure() -> anyhow::Result<PathBuf> {
    let path = path()?;
    ensure_at(&path, SIZE, |line| eprintln!("{line}"))?;
    ensure_semantic_at(&path)?;
    Ok(path)
}

/// Writes the bundled semantic file beside the demo database at `db` (see
/// [`crate::semantic::beside`]) unless a file with exactly that content is already there.
/// Returns whether it wrote one.
pub fn ensure_semantic_at(db: &Path) -> anyhow::Result<bool> {
    let path = crate::semantic::beside(db);
    match std::fs::read(&path) {
        Ok(bytes) if bytes == cbi_demo::SEMANTIC_YAML.as_bytes() => return Ok(false),
        Ok(_) => tracing::info!(path = %path.display(), "refreshing the demo's semantic file"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::info!(path = %path.display(), "writing the demo's semantic file");
        }
        Err(e) => {
            return Err(e).with_context(|| {
                format!("cannot read the demo's semantic file {}", path.display())
            });
        }
    }
    write_atomically(&path, cbi_demo::SEMANTIC_YAML.as_bytes())
        .with_context(|| format!("cannot write the demo's semantic file {}", path.display()))?;
    Ok(true)
}

/// Writes `bytes` to a hidden temporary file beside `path`, then renames it over `path`, so
/// readers see the old file or the new one, never a part of either. The temporary file is
/// removed when anything fails.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tmp = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create_new(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
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
    use std::ffi::OsString;

    use super::*;

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

    #[test]
    fn the_semantic_file_is_written_beside_and_refreshed() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("retail-7.sqlite");
        let semantic = dir.path().join("retail-7.semantic.yaml");
        assert!(ensure_semantic_at(&db).unwrap());
        assert_eq!(
            std::fs::read_to_string(&semantic).unwrap(),
            cbi_demo::SEMANTIC_YAML
        );
        let before = std::fs::metadata(&semantic).unwrap().modified().unwrap();
        assert!(!ensure_semantic_at(&db).unwrap(), "same content: untouched");
        assert_eq!(
            std::fs::metadata(&semantic).unwrap().modified().unwrap(),
            before
        );

        // An older cbi's semantic layer is replaced by this one's.
        std::fs::write(&semantic, "tables: {}\n").unwrap();
        assert!(ensure_semantic_at(&db).unwrap());
        assert_eq!(
            std::fs::read_to_string(&semantic).unwrap(),
            cbi_demo::SEMANTIC_YAML
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![OsString::from("retail-7.semantic.yaml")]);

        // A directory that cannot be written to is an error naming the file, not a panic.
        let missing = dir.path().join("no/such/dir/retail.sqlite");
        let e = ensure_semantic_at(&missing).unwrap_err();
        assert!(
            crate::one_line(&e).contains("retail.semantic.yaml"),
            "{}",
            crate::one_line(&e)
        );
    }
}
