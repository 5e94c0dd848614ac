//! Finding and loading the configuration file.
//!
//! The file's shape, defaults, `${ENV}` substitution and validation belong to
//! [`cbi_types::Config`]; this module only decides *which* file (if any) applies and turns its
//! problems into one message that names the file. The search order is:
//!
//! 1. `--config PATH`, then `$CBI_CONFIG` — named explicitly, so a missing file is an error;
//! 2. `./cbi.yaml`, then `$XDG_CONFIG_HOME/cbi/config.yaml` (or `~/.config/cbi/config.yaml`) —
//!    used when they exist;
//! 3. otherwise the built-in defaults: no file is needed at all.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use cbi_types::Config;

/// The configuration in force and the file it came from.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    /// `None` when the built-in defaults apply.
    pub path: Option<PathBuf>,
}

/// Reads an environment variable (absent or empty: `None`).
type Env = Box<dyn Fn(&str) -> Option<OsString>>;

/// Where the search looks, separated from the process so tests can fake it.
struct Places {
    cwd: Option<PathBuf>,
    env: Env,
}

impl Places {
    fn of_process() -> Places {
        Places {
            cwd: std::env::current_dir().ok(),
            env: Box::new(|k| std::env::var_os(k).filter(|v| !v.is_empty())),
        }
    }

    /// The file to load, and whether it was named explicitly.
    fn find(&self, flag: Option<&Path>) -> Option<(PathBuf, bool)> {
        if let Some(p) = flag {
            return Some((p.to_path_buf(), true));
        }
        if let Some(p) = (self.env)("CBI_CONFIG") {
            return Some((PathBuf::from(p), true));
        }
        let mut candidates = Vec::new();
        if let Some(cwd) = &self.cwd {
            candidates.push(cwd.join("cbi.yaml"));
        }
        let xdg = (self.env)("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute());
        let home = (self.env)("HOME").map(PathBuf::from);
        match (xdg, home) {
            (Some(x), _) => candidates.push(x.join("cbi").join("config.yaml")),
            (None, Some(h)) => candidates.push(h.join(".config").join("cbi").join("config.yaml")),
            (None, None) => {}
        }
        candidates
            .into_iter()
            .find(|p| p.is_file())
            .map(|p| (p, false))
    }
}

/// Finds and loads the configuration; see the module documentation for the search order.
pub fn load(flag: Option<&Path>) -> anyhow::Result<Loaded> {
    load_from(&Places::of_process(), flag)
}

fn load_from(places: &Places, flag: Option<&Path>) -> anyhow::Result<Loaded> {
    let Some((path, explicit)) = places.find(flag) else {
        tracing::debug!("no configuration file; using the built-in defaults");
        return Ok(Loaded {
            config: Config::default(),
            path: None,
        });
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let how = if explicit { "" } else { " (it disappeared)" };
            return Err(anyhow!("config file {} not found{how}", path.display()));
        }
        Err(e) => {
            return Err(e)
                .with_context(|| format!("config file {}: cannot read it", path.display()));
        }
    };
    let env = |k: &str| std::env::var(k).ok();
    let mut config = Config::from_yaml_str(&text, env)
        .map_err(|e| anyhow!("config file {}: {e}", path.display()))?;
    resolve_relative(&mut config, &path);
    tracing::info!(path = %path.display(), "configuration loaded");
    Ok(Loaded {
        config,
        path: Some(path),
    })
}

/// Paths written in a config file mean paths next to that file, wherever cbi is started from.
fn resolve_relative(config: &mut Config, file: &Path) {
    let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return;
    };
    let fix = |p: &mut PathBuf| {
        if p.is_relative() {
            *p = dir.join(&*p);
        }
    };
    if let Some(p) = &mut config.database.semantic_file {
        fix(p);
    }
    if let Some(p) = &mut config.session.path {
        fix(p);
    }
    if let Some(p) = &mut config.cache.dir {
        fix(p);
    }
}

/// The base directory a config file's relative SQLite paths are taken from: the file's own
/// directory, or the working directory when the defaults apply.
pub fn base_dir(path: Option<&Path>) -> Option<&Path> {
    path.and_then(Path::parent)
        .filter(|d| !d.as_os_str().is_empty())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn places(cwd: &Path, vars: &[(&str, &Path)]) -> Places {
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.as_os_str().to_owned()))
            .collect();
        Places {
            cwd: Some(cwd.to_path_buf()),
            env: Box::new(move |k| vars.get(k).cloned()),
        }
    }

    #[test]
    fn search_order() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path().join("work");
        let home = dir.path().join("home");
        let xdg = dir.path().join("xdg");
        for d in [&cwd, &home.join(".config/cbi"), &xdg.join("cbi")] {
            std::fs::create_dir_all(d).unwrap();
        }
        let p = places(&cwd, &[("HOME", &home)]);
        assert_eq!(p.find(None), None);

        std::fs::write(home.join(".config/cbi/config.yaml"), "").unwrap();
        assert_eq!(
            p.find(None).unwrap().0,
            home.join(".config/cbi/config.yaml")
        );

        let p = places(&cwd, &[("HOME", &home), ("XDG_CONFIG_HOME", &xdg)]);
        assert_eq!(p.find(None), None, "XDG_CONFIG_HOME replaces ~/.config");
        std::fs::write(xdg.join("cbi/config.yaml"), "").unwrap();
        assert_eq!(p.find(None).unwrap().0, xdg.join("cbi/config.yaml"));

        std::fs::write(cwd.join("cbi.yaml"), "").unwrap();
        assert_eq!(p.find(None).unwrap(), (cwd.join("cbi.yaml"), false));

        let named = dir.path().join("named.yaml");
        let p = places(&cwd, &[("HOME", &home), ("CBI_CONFIG", &named)]);
        assert_eq!(p.find(None).unwrap(), (named.clone(), true));
        let flag = dir.path().join("flag.yaml");
        assert_eq!(p.find(Some(&flag)).unwrap(), (flag, true));
    }

    #[test]
    fn loading_names_the_file_and_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = places(dir.path(), &[]);
        let file = dir.path().join("cbi.yaml");

        let e = load_from(&p, Some(&file)).unwrap_err().to_string();
        assert_eq!(e, format!("config file {} not found", file.display()));

        std::fs::write(&file, "session:\n  max_turns: 0\n").unwrap();
        let e = load_from(&p, None).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "config file {}: session.max_turns: must be at least 1",
                file.display()
            )
        );

        std::fs::write(
            &file,
            "database:\n  semantic_file: sem.yaml\nperformance:\n  max_rows: 7\n",
        )
        .unwrap();
        let loaded = load_from(&p, None).unwrap();
        assert_eq!(loaded.path.as_deref(), Some(file.as_path()));
        assert_eq!(loaded.config.performance.max_rows, 7);
        assert_eq!(
            loaded.config.database.semantic_file,
            Some(dir.path().join("sem.yaml"))
        );
    }
}
