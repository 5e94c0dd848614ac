//! Who may call the server: bearer tokens, each naming a user with an allow-list of tables and
//! columns and their own limits.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use cbi_engine::{Access, Principal};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// A user of the server.
#[derive(Debug, Clone)]
pub struct User {
    pub principal: Principal,
    /// Requests allowed per minute (a burst of this many, refilled evenly).
    pub rate_per_minute: u32,
    /// Requests of this user running at once; more are refused with 429.
    pub max_concurrent: usize,
}

/// The users file, as written:
///
/// ```yaml
/// users:
///   - name: ann
///     token_sha256: 5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8
///     tables:                  # optional: without it, every table and column
///       orders: ["*"]
///       customers: [customer_id, name, region]
///     rate_per_minute: 600     # optional
///     max_concurrent: 8        # optional
///   - name: ci
///     token_env: CBI_CI_TOKEN  # the token is read from this environment variable
/// ```
///
/// Tokens are never written in the file itself: its SHA-256, or the name of an environment
/// variable holding it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    users: Vec<UserEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    name: String,
    #[serde(default)]
    token_sha256: Option<String>,
    #[serde(default)]
    token_env: Option<String>,
    #[serde(default)]
    tables: Option<std::collections::BTreeMap<String, Vec<String>>>,
    #[serde(default)]
    rate_per_minute: Option<u32>,
    #[serde(default)]
    max_concurrent: Option<usize>,
}

/// Limits of users that do not set their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    pub rate_per_minute: u32,
    pub max_concurrent: usize,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            rate_per_minute: 6_000,
            max_concurrent: 64,
        }
    }
}

/// The users the server knows, by the SHA-256 of their token; or no one, when the server runs
/// without authentication (one user, `default`, who sees everything).
#[derive(Debug, Clone)]
pub struct Users {
    by_token: HashMap<[u8; 32], Arc<User>>,
    open: Option<Arc<User>>,
}

impl Users {
    /// No authentication: every request is the user `default`, who sees everything. For a
    /// server on the loopback interface.
    pub fn open(defaults: Defaults) -> Self {
        Users {
            by_token: HashMap::new(),
            open: Some(Arc::new(User {
                principal: Principal::new("default"),
                rate_per_minute: defaults.rate_per_minute,
                max_concurrent: defaults.max_concurrent,
            })),
        }
    }

    /// Users with tokens (given in plain text here; a users file holds only hashes).
    pub fn with_tokens(users: impl IntoIterator<Item = (String, User)>) -> Self {
        Users {
            by_token: users
                .into_iter()
                .map(|(token, user)| (digest(&token), Arc::new(user)))
                .collect(),
            open: None,
        }
    }

    /// Reads a users file: a `users:` list, each with a `name`, exactly one of `token_sha256`
    /// and `token_env`, and optionally `tables`, `rate_per_minute` and `max_concurrent` (see
    /// the README's "Serving over HTTP").
    pub fn load(path: &Path, defaults: Defaults) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("users file {}: {e}", path.display())))?;
        Self::parse(&text, defaults, &|k| std::env::var(k).ok())
            .map_err(|e| Error::Config(format!("users file {}: {e}", path.display())))
    }

    pub(crate) fn parse(
        text: &str,
        defaults: Defaults,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> std::result::Result<Self, String> {
        let file: UsersFile = serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
        if file.users.is_empty() {
            return Err("no users: list at least one, or run without --users".into());
        }
        let mut by_token = HashMap::new();
        for u in file.users {
            let hash = match (&u.token_sha256, &u.token_env) {
                (Some(h), None) => hex::decode(h.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| format!("user {}: token_sha256 is not 64 hex digits", u.name))?,
                (None, Some(var)) => {
                    let token = env(var)
                        .filter(|t| !t.is_empty())
                        .ok_or_else(|| format!("user {}: ${var} is not set", u.name))?;
                    digest(&token)
                }
                _ => {
                    return Err(format!(
                        "user {}: give exactly one of token_sha256 and token_env",
                        u.name
                    ));
                }
            };
            let user = User {
                principal: Principal::new(u.name.clone()).with_access(Access { tables: u.tables }),
                rate_per_minute: u.rate_per_minute.unwrap_or(defaults.rate_per_minute).max(1),
                max_concurrent: u.max_concurrent.unwrap_or(defaults.max_concurrent).max(1),
            };
            if by_token.insert(hash, Arc::new(user)).is_some() {
                return Err(format!("user {}: the same token is given twice", u.name));
            }
        }
        Ok(Users {
            by_token,
            open: None,
        })
    }

    /// Whether requests need a token.
    pub fn requires_token(&self) -> bool {
        self.open.is_none()
    }

    /// The user a request's `Authorization` header names, if any.
    pub(crate) fn authenticate(&self, header: Option<&str>) -> Option<Arc<User>> {
        if let Some(u) = &self.open {
            return Some(u.clone());
        }
        let token = header?.strip_prefix("Bearer ")?.trim();
        if token.is_empty() {
            return None;
        }
        // Looked up by the token's hash: the map never holds, or compares, a token itself.
        self.by_token.get(&digest(token)).cloned()
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(t: &str) -> String {
        hex::encode(digest(t))
    }

    #[test]
    fn tokens_from_hashes_and_environment() {
        let text = format!(
            "users:\n  - name: ann\n    token_sha256: {}\n    tables:\n      orders: ['*']\n      customers: [name]\n    rate_per_minute: 5\n  - name: ci\n    token_env: CI_TOKEN\n",
            sha("s3cret")
        );
        let env = |k: &str| (k == "CI_TOKEN").then(|| "from-env".to_string());
        let users = Users::parse(&text, Defaults::default(), &env).unwrap();
        assert!(users.requires_token());
        let ann = users.authenticate(Some("Bearer s3cret")).unwrap();
        assert_eq!(ann.principal.user_id, "ann");
        assert_eq!(ann.rate_per_minute, 5);
        assert!(!ann.principal.access.column("customers", "email"));
        let ci = users.authenticate(Some("Bearer from-env")).unwrap();
        assert!(ci.principal.access.is_all());
        assert_eq!(ci.max_concurrent, Defaults::default().max_concurrent);
        for bad in [
            None,
            Some("Bearer"),
            Some("Bearer "),
            Some("s3cret"),
            Some("Bearer nope"),
        ] {
            assert!(users.authenticate(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let none = |_: &str| None;
        for (text, says) in [
            ("users: []", "no users"),
            ("users:\n  - name: a\n", "exactly one of"),
            (
                "users:\n  - name: a\n    token_sha256: abc\n",
                "64 hex digits",
            ),
            (
                "users:\n  - name: a\n    token_env: NOPE\n",
                "$NOPE is not set",
            ),
            ("users:\n  - name: a\n    token: plain\n", "unknown field"),
        ] {
            let e = Users::parse(text, Defaults::default(), &none).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }
}
