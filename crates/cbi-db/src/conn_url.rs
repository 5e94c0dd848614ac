//! Connection strings: what a user types on the command line or in `cbi.toml`.

use std::fmt;
use std::path::{Path, PathBuf};

use cbi_types::SqlDialect;

use crate::{Error, Result};

/// Where a database lives, parsed from a connection string.
///
/// Accepted forms:
///
/// | written as | means |
/// |---|---|
/// | `demo.sqlite`, `./x.db`, `/abs/path.sqlite` (no scheme) | a SQLite file |
/// | `sqlite:PATH`, `sqlite://PATH`, `sqlite:///abs/path`, `file:PATH` | a SQLite file |
/// | `postgres://user:pass@host:port/db`, `postgresql://…` | a PostgreSQL database |
/// | `mysql://user:pass@host:port/db`, `mariadb://…` | a MySQL or MariaDB database |
///
/// Parsing never depends on which drivers were compiled in, so configuration can be checked
/// anywhere; [`ConnectionUrl::connect`] is where a missing driver is reported.
///
/// `Display` and `Debug` never show a password (it is rendered as `****`), so a
/// `ConnectionUrl` is safe to log and to put in error messages.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionUrl {
    /// A SQLite database file. It must already exist: cbi never creates one.
    Sqlite { path: PathBuf },
    /// A PostgreSQL server (`postgres://` or `postgresql://`).
    Postgres(ServerUrl),
    /// A MySQL or MariaDB server (`mysql://` or `mariadb://`); which one is detected from the
    /// server's version once connected, not from the scheme.
    MySql(ServerUrl),
}

/// The parts of a `postgres://` or `mysql://` URL, percent-decoded.
///
/// The password is only reachable through [`ServerUrl::password`]; `Display` and `Debug` mask
/// it.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerUrl {
    scheme: String,
    host: String,
    port: u16,
    user: Option<String>,
    password: Option<String>,
    database: Option<String>,
    params: Vec<(String, String)>,
}

impl ServerUrl {
    /// The scheme as written (lower-cased): `postgres`, `postgresql`, `mysql` or `mariadb`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Host name, IP address (IPv6 without brackets) or, for PostgreSQL, a Unix socket
    /// directory given with `?host=/path`. `localhost` when the URL has none.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, or the backend's default (5432, 3306) when the URL has none.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The user name, when the URL has one.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The password, when the URL has one. Handle with care: never log it.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The database name, when the URL has one.
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// The query parameters (`?sslmode=disable&application_name=x`), in order.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// The value of a query parameter.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// What messages call this server: the URL with its password masked.
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    pub(crate) fn target(&self) -> String {
        self.to_string()
    }
}

impl ConnectionUrl {
    /// Parses a connection string. See the type's documentation for the accepted forms.
    ///
    /// Errors are one-line messages meant for the person who typed the string, and never
    /// include its password.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::InvalidUrl("the connection string is empty".into()));
        }
        let Some((scheme, rest)) = split_scheme(s) else {
            return Ok(ConnectionUrl::Sqlite {
                path: PathBuf::from(s),
            });
        };
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" | "sqlite3" | "file" => parse_sqlite(rest),
            "postgres" | "postgresql" => parse_server(s, 5432, PG_PARAMS).map(Self::Postgres),
            "mysql" | "mariadb" => parse_server(s, 3306, MYSQL_PARAMS).map(Self::MySql),
            _ => Err(Error::UnsupportedScheme(scheme.to_string())),
        }
    }

    /// The dialect statements for this database must be written in.
    pub fn dialect(&self) -> SqlDialect {
        match self {
            ConnectionUrl::Sqlite { .. } => SqlDialect::Sqlite,
            ConnectionUrl::Postgres(_) => SqlDialect::PostgreSql,
            ConnectionUrl::MySql(_) => SqlDialect::MySql,
        }
    }

    /// The SQLite file, when this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            ConnectionUrl::Sqlite { path } => Some(path),
            _ => None,
        }
    }
}

impl std::str::FromStr for ConnectionUrl {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        ConnectionUrl::parse(s)
    }
}

/// Splits `scheme:rest` when `s` starts with a URL scheme. One-letter "schemes" are Windows
/// drive letters (`C:\data\x.db`), so they count as paths.
fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let colon = s.find(':')?;
    let scheme = &s[..colon];
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (first_ok && rest_ok && scheme.len() >= 2).then(|| (scheme, &s[colon + 1..]))
}

fn parse_sqlite(rest: &str) -> Result<ConnectionUrl> {
    // Options after `?` (`mode=ro`, …) are accepted and ignored: the connection is read-only
    // whatever they say.
    let rest = rest.split_once('?').map_or(rest, |(p, _)| p);
    let path = match rest.strip_prefix("//") {
        // `sqlite:///abs/path` keeps its leading slash; `sqlite://demo.db` is relative.
        Some(after) => after,
        None => rest,
    };
    let path = percent_decode(path)
        .ok_or_else(|| Error::InvalidUrl("the SQLite path is not valid UTF-8".into()))?;
    if path.is_empty() {
        return Err(Error::InvalidUrl("the SQLite URL has no file path".into()));
    }
    Ok(ConnectionUrl::Sqlite {
        path: PathBuf::from(path),
    })
}

const PG_PARAMS: &[&str] = &["sslmode", "application_name", "connect_timeout", "host"];
const MYSQL_PARAMS: &[&str] = &["connect_timeout"];

fn parse_server(s: &str, default_port: u16, allowed: &[&str]) -> Result<ServerUrl> {
    // `url`'s messages never repeat the input, so they cannot leak the password.
    let url = url::Url::parse(s).map_err(|e| Error::InvalidUrl(e.to_string()))?;
    let scheme = url.scheme().to_ascii_lowercase();
    let decode = |part: &str, what: &str| {
        percent_decode(part)
            .ok_or_else(|| Error::InvalidUrl(format!("the {what} is not valid UTF-8 once decoded")))
    };
    let user = match url.username() {
        "" => None,
        u => Some(decode(u, "user name")?),
    };
    let password = url.password().map(|p| decode(p, "password")).transpose()?;
    let path = url.path();
    let path = path.strip_prefix('/').unwrap_or(path);
    if path.contains('/') {
        return Err(Error::InvalidUrl(format!(
            "the path must be just the database name, not `/{path}`"
        )));
    }
    let database = match path {
        "" => None,
        p => Some(decode(p, "database name")?),
    };
    let mut params = Vec::new();
    for (k, v) in url.query_pairs() {
        if !allowed.contains(&k.as_ref()) {
            return Err(Error::InvalidUrl(format!(
                "unsupported parameter `{k}` for {scheme}:// (supported: {})",
                allowed.join(", ")
            )));
        }
        params.push((k.into_owned(), v.into_owned()));
    }
    let host = match url.host() {
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Domain(d)) if !d.is_empty() => decode(d, "host")?,
        _ => params
            .iter()
            .find(|(k, _)| k == "host")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "localhost".to_string()),
    };
    if let Some((_, v)) = params.iter().find(|(k, _)| k == "connect_timeout") {
        if !v.parse::<u64>().is_ok_and(|n| n > 0) {
            return Err(Error::InvalidUrl(format!(
                "connect_timeout must be a positive number of seconds, not `{v}`"
            )));
        }
    }
    Ok(ServerUrl {
        scheme,
        host,
        port: url.port().unwrap_or(default_port),
        user,
        password,
        database,
        params,
    })
}

/// Decodes `%XX` escapes; `None` when the result is not UTF-8. Malformed escapes are kept
/// literally, as browsers and the `url` crate do.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Escapes what would otherwise end a URL component, for `Display`.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        if let Some(user) = &self.user {
            f.write_str(&percent_encode(user))?;
            if self.password.is_some() {
                f.write_str(":****")?;
            }
            f.write_str("@")?;
        } else if self.password.is_some() {
            f.write_str(":****@")?;
        }
        if self.host.starts_with('/') {
            // A Unix socket directory travels as a parameter.
            write!(f, ":{}", self.port)?;
        } else if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)?;
        } else {
            write!(f, "{}:{}", percent_encode(&self.host), self.port)?;
        }
        if let Some(db) = &self.database {
            write!(f, "/{}", percent_encode(db))?;
        }
        let mut sep = '?';
        for (k, v) in &self.params {
            write!(f, "{sep}{}={}", percent_encode(k), percent_encode(v))?;
            sep = '&';
        }
        Ok(())
    }
}

impl fmt::Debug for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerUrl({self})")
    }
}

impl fmt::Display for ConnectionUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionUrl::Sqlite { path } => write!(f, "sqlite:{}", path.display()),
            ConnectionUrl::Postgres(s) | ConnectionUrl::MySql(s) => s.fmt(f),
        }
    }
}

impl fmt::Debug for ConnectionUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConnectionUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sqlite(s: &str) -> PathBuf {
        match ConnectionUrl::parse(s) {
            Ok(ConnectionUrl::Sqlite { path }) => path,
            other => panic!("{s}: {other:?}"),
        }
    }

    fn server(s: &str) -> ServerUrl {
        match ConnectionUrl::parse(s) {
            Ok(ConnectionUrl::Postgres(u) | ConnectionUrl::MySql(u)) => u,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn sqlite_forms() {
        for (input, path) in [
            ("demo.sqlite", "demo.sqlite"),
            ("./x.db", "./x.db"),
            ("/abs/path.sqlite", "/abs/path.sqlite"),
            ("  data/a b.db ", "data/a b.db"),
            ("sqlite:demo.db", "demo.db"),
            ("sqlite://demo.db", "demo.db"),
            ("sqlite://./rel/x.db", "./rel/x.db"),
            ("sqlite:///abs/path", "/abs/path"),
            ("SQLITE:///abs/path?mode=ro", "/abs/path"),
            ("sqlite:my%20file.db", "my file.db"),
            ("file:///tmp/x.db", "/tmp/x.db"),
            (r"C:\data\x.db", r"C:\data\x.db"),
            (":memory:", ":memory:"),
        ] {
            assert_eq!(sqlite(input), PathBuf::from(path), "{input}");
        }
    }

    #[test]
    fn server_forms() {
        let u = server("postgres://alice:s%40cret@db.example.com:6543/sales?sslmode=disable");
        assert_eq!(u.scheme(), "postgres");
        assert_eq!(u.host(), "db.example.com");
        assert_eq!(u.port(), 6543);
        assert_eq!(u.user(), Some("alice"));
        assert_eq!(u.password(), Some("s@cret"));
        assert_eq!(u.database(), Some("sales"));
        assert_eq!(u.param("sslmode"), Some("disable"));

        let u = server("postgresql://localhost");
        assert_eq!((u.port(), u.user(), u.database()), (5432, None, None));

        let u = server("mysql://root@127.0.0.1/test");
        assert_eq!((u.host(), u.port()), ("127.0.0.1", 3306));
        assert_eq!(u.password(), None);

        let u = server("mariadb://bob:pw@[::1]:3307/shop");
        assert_eq!((u.host(), u.port(), u.scheme()), ("::1", 3307, "mariadb"));
        assert!(matches!(
            ConnectionUrl::parse("mariadb://x@h/d"),
            Ok(ConnectionUrl::MySql(_))
        ));

        let u = server("postgres:///sales?host=/var/run/postgresql");
        assert_eq!(u.host(), "/var/run/postgresql");
        assert_eq!(u.database(), Some("sales"));
    }

    #[test]
    fn display_masks_the_password() {
        for s in [
            "postgres://alice:hunter2@h:1/db",
            "mysql://root:hunter2@127.0.0.1/test",
            "postgres://:hunter2@h/db",
        ] {
            let u = ConnectionUrl::parse(s).unwrap();
            let shown = u.to_string();
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("****"), "{shown}");
            assert!(!format!("{u:?}").contains("hunter2"));
        }
        assert_eq!(
            ConnectionUrl::parse("postgres://alice:pw@h/db")
                .unwrap()
                .to_string(),
            "postgres://alice:****@h:5432/db"
        );
        assert_eq!(
            ConnectionUrl::parse("mysql://u@h/d").unwrap().to_string(),
            "mysql://u@h:3306/d"
        );
    }

    #[test]
    fn errors_are_clear_one_liners() {
        let msg = |s: &str| ConnectionUrl::parse(s).unwrap_err().to_string();
        assert_eq!(
            msg("mongodb://h/db"),
            "unsupported scheme `mongodb`; expected a SQLite path, sqlite:, postgres:// or mysql://"
        );
        assert_eq!(
            msg(""),
            "invalid connection string: the connection string is empty"
        );
        assert!(msg("sqlite:").contains("no file path"));
        assert!(msg("postgres://h:99999/db").starts_with("invalid connection string"));
        assert!(msg("postgres://h/a/b").contains("just the database name"));
        let m = msg("postgres://u:topsecret@h/db?sslcert=x");
        assert!(m.contains("unsupported parameter `sslcert`"), "{m}");
        assert!(!m.contains("topsecret"));
        assert!(msg("mysql://h/db?connect_timeout=soon").contains("connect_timeout"));
        for m in [
            msg("postgres://h:x/db"),
            msg("mongodb://x"),
            msg("sqlite://"),
        ] {
            assert!(!m.contains('\n'), "{m}");
        }
    }

    #[test]
    fn percent_decoding_keeps_malformed_escapes() {
        assert_eq!(percent_decode("a%20b").as_deref(), Some("a b"));
        assert_eq!(percent_decode("100%").as_deref(), Some("100%"));
        assert_eq!(percent_decode("%zz%4").as_deref(), Some("%zz%4"));
        assert_eq!(percent_decode("%ff"), None);
    }

    proptest! {
        #[test]
        fn arbitrary_strings_never_panic(s in "\\PC*") {
            let _ = ConnectionUrl::parse(&s);
        }

        #[test]
        fn arbitrary_url_like_strings_never_panic(
            scheme in "(postgres|mysql|sqlite|mariadb|postgresql|file|x)",
            rest in "[ -~]{0,60}",
        ) {
            let _ = ConnectionUrl::parse(&format!("{scheme}:{rest}"));
            let _ = ConnectionUrl::parse(&format!("{scheme}://{rest}"));
        }

        #[test]
        fn generated_urls_round_trip(
            pg in any::<bool>(),
            user in "[a-zA-Z0-9_.@:/ %-]{1,12}",
            password in proptest::option::of("[ -~]{1,12}"),
            host in "([a-z][a-z0-9-]{0,10}(\\.[a-z]{2,5})?|10\\.[0-9]\\.[0-9]\\.[0-9])",
            port in 1u16..,
            db in "[a-zA-Z0-9_ $%-]{1,16}",
        ) {
            let scheme = if pg { "postgres" } else { "mysql" };
            let pass = password.as_deref().map(|p| format!(":{}", percent_encode(p))).unwrap_or_default();
            let s = format!("{scheme}://{}{pass}@{host}:{port}/{}", percent_encode(&user), percent_encode(&db));
            let u = server(&s);
            prop_assert_eq!(u.user(), Some(user.as_str()));
            prop_assert_eq!(u.password(), password.as_deref());
            prop_assert_eq!(u.host(), host.as_str());
            prop_assert_eq!(u.port(), port);
            prop_assert_eq!(u.database(), Some(db.as_str()));
            // What Display shows parses back to the same place, without the password.
            let shown = u.to_string();
            let back = server(&shown);
            prop_assert_eq!(back.user(), u.user());
            prop_assert_eq!(back.host(), u.host());
            prop_assert_eq!(back.port(), u.port());
            prop_assert_eq!(back.database(), u.database());
            if let Some(p) = password.as_deref() {
                let leaked = format!(":{}@", percent_encode(p));
                prop_assert!(!shown.contains(&leaked));
            }
        }
    }
}
