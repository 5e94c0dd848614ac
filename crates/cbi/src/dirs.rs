//! Where cbi keeps its files: the data directory (the demo database and its semantic file, the
//! chat history, and — through cbi-session — the session file).
//!
//! One rule for all of them, so a user (or a test) moves everything with one variable:
//! `$CBI_DATA_DIR`, else the platform's per-user data directory (`$XDG_DATA_HOME/cbi` or
//! `~/.local/share/cbi` on Linux).

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::anyhow;

/// cbi's data directory, from the process environment.
pub fn data_dir() -> anyhow::Result<PathBuf> {
    data_dir_from(&|k| std::env::var_os(k).filter(|v| !v.is_empty()))
        .ok_or_else(|| anyhow!("cannot find a data directory for cbi; set CBI_DATA_DIR"))
}

/// [`data_dir`] over any environment (empty variables count as unset).
pub fn data_dir_from(env: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
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
            data_dir_from(&env(&[("CBI_DATA_DIR", "/d"), ("HOME", "/h")])),
            Some(PathBuf::from("/d"))
        );
        if cfg!(target_os = "linux") {
            assert_eq!(
                data_dir_from(&env(&[("HOME", "/h")])),
                Some(PathBuf::from("/h/.local/share/cbi"))
            );
            assert_eq!(
                data_dir_from(&env(&[("HOME", "/h"), ("XDG_DATA_HOME", "/x")])),
                Some(PathBuf::from("/x/cbi"))
            );
            assert_eq!(
                data_dir_from(&env(&[("HOME", "/h"), ("XDG_DATA_HOME", "rel")])),
                Some(PathBuf::from("/h/.local/share/cbi"))
            );
            assert_eq!(data_dir_from(&env(&[])), None);
        }
    }
}
