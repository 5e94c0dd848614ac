//! Which semantic file (if any) goes with a database, and loading it.
//!
//! A semantic file (YAML: descriptions, synonyms, business terms, verified queries) is what the
//! catalog cannot say. The first of these applies:
//!
//! 1. `--semantic FILE` on the command line;
//! 2. `database.semantic_file` in the configuration file;
//! 3. for a SQLite database `X.sqlite` (or `X.db`, or any other extension), the file
//!    `X.semantic.yaml` beside it, when it exists — so a database and its semantic layer travel
//!    together, and the bundled demo gets its own without any configuration.
//!
//! Servers (PostgreSQL, MySQL) have no "beside", so for them only 1 and 2 apply.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cbi_db::ConnectionUrl;
use cbi_schema::SchemaIntrospector;
use cbi_types::{Connection, SemanticModel};

/// The semantic file that goes beside a SQLite database file: its last extension replaced by
/// `semantic.yaml` (`shop.sqlite` → `shop.semantic.yaml`, `shop` → `shop.semantic.yaml`).
pub fn beside(db: &Path) -> PathBuf {
    db.with_extension("semantic.yaml")
}

/// The semantic file for a database, by the rules of the module documentation. Files named
/// explicitly are returned whether or not they exist (loading them says so); the file beside a
/// database is only returned when it is there.
pub fn find(
    flag: Option<&Path>,
    configured: Option<&Path>,
    url: &ConnectionUrl,
) -> Option<PathBuf> {
    if let Some(p) = flag.or(configured) {
        return Some(p.to_path_buf());
    }
    match url {
        ConnectionUrl::Sqlite { path } => Some(beside(path)).filter(|p| p.is_file()),
        _ => None,
    }
}

/// Loads a semantic file and checks it against the database's catalog, so a typo in it is
/// reported with the file's name and a "did you mean" before any question is asked.
pub async fn load_checked(
    path: &Path,
    conn: &Arc<dyn Connection>,
) -> anyhow::Result<SemanticModel> {
    let model = cbi_schema::load_semantic(path)?;
    if !model.is_empty() {
        // The check needs names only: no inference, no data read.
        let schema = SchemaIntrospector::new(conn.clone())
            .without_inference()
            .introspect()
            .await?;
        cbi_schema::check_semantic(&model, &schema, path)?;
    }
    tracing::info!(path = %path.display(), "semantic file loaded");
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(p: &Path) -> ConnectionUrl {
        ConnectionUrl::Sqlite {
            path: p.to_path_buf(),
        }
    }

    #[test]
    fn names_beside_a_database() {
        assert_eq!(
            beside(Path::new("/d/shop.sqlite")),
            Path::new("/d/shop.semantic.yaml")
        );
        assert_eq!(beside(Path::new("x.db")), Path::new("x.semantic.yaml"));
        assert_eq!(
            beside(Path::new("retail-1.sqlite")),
            Path::new("retail-1.semantic.yaml")
        );
        assert_eq!(beside(Path::new("plain")), Path::new("plain.semantic.yaml"));
    }

    #[test]
    fn flag_then_config_then_the_file_beside() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("shop.db");
        let url = sqlite(&db);
        let flag = Path::new("flag.yaml");
        let configured = Path::new("config.yaml");

        assert_eq!(find(None, None, &url), None, "nothing beside yet");
        std::fs::write(dir.path().join("shop.semantic.yaml"), "").unwrap();
        assert_eq!(
            find(None, None, &url),
            Some(dir.path().join("shop.semantic.yaml"))
        );
        assert_eq!(
            find(None, Some(configured), &url).as_deref(),
            Some(configured)
        );
        assert_eq!(
            find(Some(flag), Some(configured), &url).as_deref(),
            Some(flag)
        );

        let server = ConnectionUrl::parse("postgres://u@h/db").unwrap();
        assert_eq!(find(None, None, &server), None);
        assert_eq!(
            find(None, Some(configured), &server).as_deref(),
            Some(configured)
        );
    }
}
