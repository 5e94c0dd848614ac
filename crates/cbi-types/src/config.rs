//! The configuration file: its shape, its defaults, `${ENV_VAR}` substitution and validation.
//!
//! Every field has a default, so no file is needed at all. A file may put its sections at the
//! top level or under a `conversational_bi:` key (the design guide's shape). Secrets are written
//! as `${OPENAI_API_KEY}` (or `${NAME:-fallback}`) and filled from the environment when the file
//! is loaded; they never appear in `Debug` output.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Problems found in a configuration file, all of them, each naming the key and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.join("; "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl ConfigError {
    fn one(p: impl Into<String>) -> Self {
        ConfigError {
            problems: vec![p.into()],
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub database: DatabaseConfig,
    pub session: SessionConfig,
    pub models: ModelsConfig,
    pub cache: CacheConfig,
    pub performance: PerformanceConfig,
    pub validator: ValidatorConfig,
}

/// What the SQL validator accepts beyond its built-in lists.
///
/// Queries may call only the functions cbi knows to be analytical and harmless for the
/// dialect (an allow-list); a database's own functions that you trust are added here by name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValidatorConfig {
    /// Scalar, aggregate or window functions to allow, by unqualified name.
    pub allowed_functions: Vec<String>,
    /// Table-valued functions (`FROM f(…)`) to allow, by unqualified name.
    pub allowed_table_functions: Vec<String>,
}

/// Which database to talk to when none is given on the command line.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// A connection string: a SQLite path, `sqlite:PATH`, `postgres://…` or `mysql://…`.
    pub url: Option<Secret>,
    /// A semantic file (YAML) with descriptions, synonyms, business terms and verified queries.
    pub semantic_file: Option<PathBuf>,
}

/// Where sessions are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStoreKind {
    Memory,
    /// A SQLite file, so a conversation survives a restart (the default).
    #[default]
    Sqlite,
    /// A Redis server, so several processes share sessions.
    Redis,
}

/// Session limits and storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    pub max_sessions_per_user: usize,
    pub idle_timeout_minutes: u64,
    pub max_turns: usize,
    pub store: SessionStoreKind,
    /// The SQLite file for `store: sqlite`; defaults to the user's data directory.
    pub path: Option<PathBuf>,
    /// The server for `store: redis`.
    pub redis_url: Option<Secret>,
    /// Prefix of every Redis key, so several deployments can share a server.
    pub redis_prefix: String,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            max_sessions_per_user: 10,
            idle_timeout_minutes: 30,
            max_turns: 20,
            store: SessionStoreKind::Sqlite,
            path: None,
            redis_url: None,
            redis_prefix: "cbi:".to_string(),
        }
    }
}

/// Language and embedding models. With none configured, cbi uses its embedded generator.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelsConfig {
    pub primary: Option<ModelConfig>,
    pub fallback: Option<ModelConfig>,
    pub embedding: Option<ModelConfig>,
}

/// Providers cbi knows how to talk to.
pub const PROVIDERS: &[&str] = &[
    "embedded",
    "openai",
    "openai-compatible",
    "anthropic",
    "cohere",
    "ollama",
    "gguf",
    "local-embedding",
];

/// One model.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    pub provider: String,
    pub model: String,
    pub api_key: Option<Secret>,
    /// Where the vendor's API lives; any compatible server works.
    pub base_url: Option<String>,
    /// A model file, for local providers.
    pub path: Option<PathBuf>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
    pub timeout_secs: Option<u64>,
}

/// Caches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Reuse answers: the SQL of a question asked again in the same conversation state, and
    /// the rows of SQL run again.
    pub enable_query_cache: bool,
    pub enable_schema_cache: bool,
    /// Entries each answer cache keeps in process.
    pub query_cache_size: u64,
    /// How long generated SQL is reused.
    pub query_cache_ttl_hours: f64,
    /// How long rows are reused before the database is read again.
    pub result_ttl_secs: u64,
    /// A Redis server whose cache several cbi processes share (needs the `redis` feature).
    pub redis_url: Option<Secret>,
    /// What the shared cache's keys start with (`{prefix}cache:`).
    pub redis_prefix: String,
    /// Where augmented schemas are kept between runs; defaults to the user's cache directory.
    pub dir: Option<PathBuf>,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enable_query_cache: true,
            enable_schema_cache: true,
            query_cache_size: 10_000,
            query_cache_ttl_hours: 1.0,
            result_ttl_secs: 300,
            redis_url: None,
            redis_prefix: "cbi:".to_string(),
            dir: None,
        }
    }
}

/// Limits that keep every query cheap and safe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PerformanceConfig {
    pub max_concurrent_sessions: usize,
    pub latency_target_ms: u64,
    /// Longest a generated query may run before it is cancelled.
    pub query_timeout_secs: f64,
    /// Most rows a query may return.
    pub max_rows: usize,
    /// Most bytes of values a query may return (64 MiB by default); a larger result is refused
    /// as too large rather than read into memory.
    pub max_result_bytes: usize,
}

impl Default for PerformanceConfig {
    fn default() -> Self {
        PerformanceConfig {
            max_concurrent_sessions: 1000,
            latency_target_ms: 2000,
            query_timeout_secs: 30.0,
            max_rows: 10_000,
            max_result_bytes: crate::DEFAULT_MAX_RESULT_BYTES,
        }
    }
}

/// The longest time limit a query may be given (one day): longer is a mistake, and a
/// `Duration` cannot hold an arbitrary float.
pub const MAX_QUERY_TIMEOUT_SECS: f64 = 86_400.0;

/// A string that must not be printed: an API key, or a URL that may hold a password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl Config {
    /// Parses a configuration text, filling `${VAR}` from `env`, and validates it.
    pub fn from_yaml_str(
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(text)
            .map_err(|e| ConfigError::one(format!("not valid YAML: {e}")))?;
        if doc.is_null() {
            return Ok(Config::default());
        }
        if let Some(inner) = doc.get("conversational_bi") {
            if doc.as_mapping().is_some_and(|m| m.len() == 1) {
                doc = inner.clone();
            }
        }
        let mut problems = Vec::new();
        substitute(&mut doc, &mut String::new(), &env, &mut problems);
        if !problems.is_empty() {
            return Err(ConfigError { problems });
        }
        let config: Config = serde_path_to_error::deserialize(doc).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            let inner = inner.split(" at line").next().unwrap_or(&inner).to_string();
            if path == "." {
                ConfigError::one(inner)
            } else {
                ConfigError::one(format!("{path}: {inner}"))
            }
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and parses a file, with the process environment.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::one(format!("cannot read config file {}: {e}", path.display()))
        })?;
        Config::from_yaml_str(&text, |k| std::env::var(k).ok()).map_err(|e| ConfigError {
            problems: e
                .problems
                .into_iter()
                .map(|p| format!("{}: {p}", path.display()))
                .collect(),
        })
    }

    /// Checks values serde cannot: ranges, and fields that only make sense together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut p = Vec::new();
        let s = &self.session;
        if s.max_sessions_per_user == 0 {
            p.push("session.max_sessions_per_user: must be at least 1".to_string());
        }
        if s.max_turns == 0 {
            p.push("session.max_turns: must be at least 1".to_string());
        }
        if s.idle_timeout_minutes == 0 {
            p.push("session.idle_timeout_minutes: must be at least 1".to_string());
        }
        if s.store == SessionStoreKind::Redis && s.redis_url.is_none() {
            p.push("session.redis_url: required when session.store is redis".to_string());
        }
        for (name, m) in [
            ("primary", &self.models.primary),
            ("fallback", &self.models.fallback),
            ("embedding", &self.models.embedding),
        ] {
            let Some(m) = m else { continue };
            let key = format!("models.{name}");
            if !PROVIDERS.contains(&m.provider.as_str()) {
                p.push(format!(
                    "{key}.provider: unknown provider `{}`; expected one of {}",
                    m.provider,
                    PROVIDERS.join(", ")
                ));
            }
            if m.model.trim().is_empty() && !matches!(m.provider.as_str(), "embedded" | "gguf") {
                p.push(format!("{key}.model: must name a model"));
            }
            if let Some(t) = m.temperature {
                if !(0.0..=2.0).contains(&t) {
                    p.push(format!(
                        "{key}.temperature: must be between 0 and 2, got {t}"
                    ));
                }
            }
            if m.max_tokens == Some(0) {
                p.push(format!("{key}.max_tokens: must be at least 1"));
            }
            if let Some(url) = &m.base_url {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    p.push(format!(
                        "{key}.base_url: must start with http:// or https://"
                    ));
                }
            }
        }
        let c = &self.cache;
        if c.enable_query_cache && c.query_cache_size == 0 {
            p.push("cache.query_cache_size: must be at least 1 when the query cache is on".into());
        }
        if !(c.query_cache_ttl_hours.is_finite() && c.query_cache_ttl_hours > 0.0) {
            p.push("cache.query_cache_ttl_hours: must be a positive number".into());
        }
        if c.enable_query_cache && c.result_ttl_secs == 0 {
            p.push("cache.result_ttl_secs: must be at least 1 when the query cache is on".into());
        }
        let perf = &self.performance;
        if !(perf.query_timeout_secs.is_finite() && perf.query_timeout_secs > 0.0) {
            p.push("performance.query_timeout_secs: must be a positive number".into());
        } else if perf.query_timeout_secs > MAX_QUERY_TIMEOUT_SECS {
            p.push(format!(
                "performance.query_timeout_secs: at most {MAX_QUERY_TIMEOUT_SECS} (one day), got {}",
                perf.query_timeout_secs
            ));
        }
        if perf.max_rows == 0 {
            p.push("performance.max_rows: must be at least 1".into());
        }
        if perf.max_concurrent_sessions == 0 {
            p.push("performance.max_concurrent_sessions: must be at least 1".into());
        }
        if p.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems: p })
        }
    }

    /// The query limits the performance section sets (the timeout clamped to the valid range,
    /// so a configuration built in code without [`Config::validate`] cannot make this panic).
    pub fn query_limits(&self) -> crate::QueryLimits {
        let secs = self.performance.query_timeout_secs;
        let secs = if secs.is_finite() {
            secs.clamp(0.001, MAX_QUERY_TIMEOUT_SECS)
        } else {
            30.0
        };
        crate::QueryLimits {
            max_rows: self.performance.max_rows,
            timeout: std::time::Duration::from_secs_f64(secs),
            max_bytes: self.performance.max_result_bytes.max(1),
        }
    }
}

/// Replaces `${VAR}` and `${VAR:-default}` in every string of the document, recording a problem
/// (with the key path) for each variable that is unset and has no default.
fn substitute(
    v: &mut serde_yaml_ng::Value,
    path: &mut String,
    env: &impl Fn(&str) -> Option<String>,
    problems: &mut Vec<String>,
) {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::String(s) if s.contains("${") => match expand(s, env) {
            Ok(out) => *s = out,
            Err(msg) => problems.push(format!("{}: {msg}", path.trim_start_matches('.'))),
        },
        Y::Mapping(m) => {
            for (k, child) in m.iter_mut() {
                let len = path.len();
                path.push('.');
                path.push_str(k.as_str().unwrap_or("?"));
                substitute(child, path, env, problems);
                path.truncate(len);
            }
        }
        Y::Sequence(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                substitute(child, path, env, problems);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

fn expand(s: &str, env: &impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| "unterminated `${` in value".to_string())?;
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(format!(
                "`${{{inner}}}` is not a valid environment variable reference"
            ));
        }
        match (env(name), default) {
            (Some(v), _) if !v.is_empty() => out.push_str(&v),
            (_, Some(d)) => out.push_str(d),
            (Some(v), None) => out.push_str(&v),
            (None, None) => return Err(format!("environment variable `{name}` is not set")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(k: &str) -> Option<String> {
        match k {
            "OPENAI_API_KEY" => Some("sk-test".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn defaults_need_no_file() {
        let c = Config::from_yaml_str("", env).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.session.max_turns, 20);
        assert_eq!(c.query_limits().max_rows, 10_000);
    }

    #[test]
    fn design_guide_shape_with_env_substitution() {
        let text = r#"
conversational_bi:
  session:
    max_sessions_per_user: 10
    idle_timeout_minutes: 30
    max_turns: 20
  models:
    primary:
      provider: openai
      model: gpt-4
      api_key: ${OPENAI_API_KEY}
      max_tokens: 4096
    fallback:
      provider: anthropic
      model: claude-3-sonnet-20240229
      api_key: ${ANTHROPIC_API_KEY:-none}
  cache:
    enable_query_cache: true
    enable_schema_cache: true
    query_cache_size: 10000
    query_cache_ttl_hours: 1
  performance:
    max_concurrent_sessions: 1000
    latency_target_ms: 2000
"#;
        let c = Config::from_yaml_str(text, env).unwrap();
        let p = c.models.primary.as_ref().unwrap();
        assert_eq!(p.api_key.as_ref().unwrap().expose(), "sk-test");
        assert_eq!(
            c.models
                .fallback
                .as_ref()
                .unwrap()
                .api_key
                .as_ref()
                .unwrap()
                .expose(),
            "none"
        );
        assert!(!format!("{c:?}").contains("sk-test"));
    }

    #[test]
    fn errors_name_the_key() {
        let e = Config::from_yaml_str(
            "models:\n  primary:\n    provider: openai\n    model: x\n    api_key: ${NOPE}\n",
            env,
        )
        .unwrap_err();
        assert_eq!(
            e.problems,
            ["models.primary.api_key: environment variable `NOPE` is not set"]
        );
        let e = Config::from_yaml_str("session:\n  max_turn: 3\n", env).unwrap_err();
        assert!(
            e.problems[0].starts_with("session.max_turn: unknown field `max_turn`"),
            "{e}"
        );
        let e = Config::from_yaml_str("session:\n  max_turns: many\n", env).unwrap_err();
        assert!(
            e.problems[0].starts_with("session.max_turns: invalid type"),
            "{e}"
        );
        let e = Config::from_yaml_str(
            "session:\n  max_turns: 0\n  store: redis\nmodels:\n  primary:\n    provider: opnai\n    model: m\n",
            env,
        )
        .unwrap_err();
        assert_eq!(e.problems.len(), 3, "{e}");
        assert!(e.problems[2].contains("unknown provider `opnai`"));
        let e =
            Config::from_yaml_str("performance:\n  query_timeout_secs: 1e30\n", env).unwrap_err();
        assert!(e.problems[0].contains("at most 86400"), "{e}");
        let mut c = Config::default();
        c.performance.query_timeout_secs = f64::MAX;
        assert_eq!(c.query_limits().timeout.as_secs(), 86_400);
        let e = Config::from_yaml_str("key: [unclosed", env).unwrap_err();
        assert!(e.problems[0].starts_with("not valid YAML"));
    }

    #[test]
    fn expansion_rules() {
        assert_eq!(expand("a${OPENAI_API_KEY}b", &env).unwrap(), "ask-testb");
        assert_eq!(expand("${EMPTY:-d}", &env).unwrap(), "d");
        assert_eq!(expand("${X:-}", &env).unwrap(), "");
        assert!(expand("${", &env).is_err());
        assert!(expand("${1X}", &env).is_err());
        assert_eq!(expand("no vars", &env).unwrap(), "no vars");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            let _ = Config::from_yaml_str(&text, env);
        }

        #[test]
        fn arbitrary_values_never_panic(key in "[a-z_.]{1,20}", value in "\\PC{0,60}") {
            let text = format!("session:\n  {key}: {value:?}\nmodels:\n  primary:\n    provider: {value:?}\n");
            let _ = Config::from_yaml_str(&text, env);
        }
    }
}
