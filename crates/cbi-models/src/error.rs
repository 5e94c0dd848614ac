use std::time::Duration;

/// What can go wrong talking to a model vendor, running a model in process, or setting a
/// provider up.
///
/// The providers produce these and convert them into [`cbi_types::Error`] at the
/// [`cbi_types::LanguageModel`] boundary (`?` works in code that returns the shared error),
/// keeping the category a caller reacts to: a refused key becomes `Connect`, a 429
/// `RateLimited`, a hang `Timeout`, a server fault or garbled answer `Model`, a rejected request
/// `Invalid`; a local model file that will not load `Invalid`, a local model failing `Model`,
/// a provider left out of the build `Unsupported`. [`Error::kind`] and [`Error::is_retryable`] answer the same questions for code
/// that holds this enum.
///
/// No variant ever carries an API key: vendor messages are scrubbed of the key before they are
/// stored here, and targets are base URLs, which hold no credentials.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration names a provider this crate does not speak.
    #[error(
        "unknown model provider `{0}`; expected one of openai, openai-compatible, anthropic, cohere, ollama, gguf"
    )]
    UnknownProvider(String),
    /// The provider exists but this build left it out (a cargo feature that was off).
    #[error(
        "provider `{provider}`: this build of cbi-models has no `{feature}` feature; rebuild with --features {feature}"
    )]
    NotBuilt {
        provider: &'static str,
        feature: &'static str,
    },
    /// A local provider was configured without the model file (GGUF) or folder (MiniLM) to
    /// load.
    #[error("{provider} needs a path: the model file or folder to load (models.*.path)")]
    MissingModelPath { provider: &'static str },
    /// The configuration puts a provider where it does not belong: an embedding provider as a
    /// language model, or a chat vendor as the embedding model.
    #[error("model provider `{provider}` is not {wanted}; {hint}")]
    WrongKind {
        provider: String,
        wanted: &'static str,
        hint: &'static str,
    },
    /// A local model file is missing, unreadable, not GGUF, or not something llama.cpp can
    /// load.
    #[error("model file {}: {message}", path.display())]
    ModelFile {
        path: std::path::PathBuf,
        message: String,
    },
    /// A local model was asked for something it cannot do: an invalid grammar, a prompt
    /// longer than its context. Sending it again will not help.
    #[error("{provider} cannot take this request: {message}")]
    InvalidRequest {
        provider: &'static str,
        message: String,
    },
    /// An in-process model failed while running (llama.cpp refused a batch, its worker
    /// stopped).
    #[error("local model {model} failed: {message}")]
    Local { model: String, message: String },
    /// A cloud provider was configured without a key, and none is in the environment.
    #[error("{provider} needs an API key: set models.*.api_key or the {env} environment variable")]
    MissingApiKey {
        provider: &'static str,
        env: &'static str,
    },
    /// A provider that can point anywhere was configured without saying where.
    #[error("{provider} needs a base_url: the address of the server to talk to")]
    MissingBaseUrl { provider: &'static str },
    /// The API key holds characters an HTTP header cannot carry (a pasted newline).
    #[error("{provider}: the API key contains characters an HTTP header cannot carry")]
    InvalidApiKey { provider: &'static str },
    /// The base URL is not an `http://` or `https://` URL.
    #[error("{provider}: base URL `{url}` must start with http:// or https://")]
    InvalidBaseUrl { provider: &'static str, url: String },
    /// The vendor refused the API key (401) or its permissions (403).
    #[error("{provider} refused the API key (HTTP {status}): {message}")]
    Unauthorized {
        provider: &'static str,
        status: u16,
        message: String,
    },
    /// The vendor rejected the request itself (400, 404, 413, 422…): a bad parameter, an
    /// unknown model, a prompt longer than the context window. Sending it again will not help.
    #[error("{provider} rejected the request (HTTP {status}): {message}")]
    Rejected {
        provider: &'static str,
        status: u16,
        message: String,
    },
    /// The vendor asked us to slow down (429), optionally saying for how long.
    #[error("{provider} is rate limiting us{}", retry_after.map(|d| format!("; retry after {} ms", d.as_millis())).unwrap_or_default())]
    RateLimited {
        provider: &'static str,
        retry_after: Option<Duration>,
    },
    /// The vendor failed (5xx, Anthropic's 529 "overloaded", an error event mid-stream).
    /// Usually temporary: retrying later may work.
    #[error("{provider} failed (HTTP {status}; temporary, retrying may help): {message}")]
    Server {
        provider: &'static str,
        status: u16,
        message: String,
    },
    /// The answer was not the JSON (or event stream) the vendor documents.
    #[error("{provider} sent a response that is not its documented format: {message}")]
    Malformed {
        provider: &'static str,
        message: String,
    },
    /// The connection broke before the answer was complete.
    #[error("{provider} closed the connection before the answer was complete: {message}")]
    Disconnected {
        provider: &'static str,
        message: String,
    },
    /// The server could not be reached at all (refused, DNS, TLS).
    #[error("cannot reach {provider} at {target}: {message}")]
    Unreachable {
        provider: &'static str,
        target: String,
        message: String,
    },
    /// No complete answer arrived within the provider's time limit.
    #[error("{provider} did not answer within {} ms", after.as_millis())]
    Timeout {
        provider: &'static str,
        after: Duration,
    },
}

/// The categories of [`Error`], for code that reacts to a failure without matching on its
/// fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Unknown provider, missing key, bad base URL: fix the configuration.
    Config,
    /// The key was refused.
    Auth,
    /// The request was refused as malformed or impossible.
    Rejected,
    /// Slow down.
    RateLimited,
    /// The vendor failed.
    Server,
    /// The answer could not be read.
    Malformed,
    /// The connection broke mid-answer.
    Disconnected,
    /// The server could not be reached.
    Unreachable,
    /// Nothing came back in time.
    Timeout,
    /// A local model file could not be loaded.
    ModelFile,
    /// An in-process model failed while running.
    Local,
}

impl Error {
    /// The category of this failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::UnknownProvider(_)
            | Error::MissingApiKey { .. }
            | Error::InvalidApiKey { .. }
            | Error::MissingBaseUrl { .. }
            | Error::InvalidBaseUrl { .. }
            | Error::NotBuilt { .. }
            | Error::WrongKind { .. }
            | Error::MissingModelPath { .. } => ErrorKind::Config,
            Error::ModelFile { .. } => ErrorKind::ModelFile,
            Error::Local { .. } => ErrorKind::Local,
            Error::Unauthorized { .. } => ErrorKind::Auth,
            Error::Rejected { .. } | Error::InvalidRequest { .. } => ErrorKind::Rejected,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::Server { .. } => ErrorKind::Server,
            Error::Malformed { .. } => ErrorKind::Malformed,
            Error::Disconnected { .. } => ErrorKind::Disconnected,
            Error::Unreachable { .. } => ErrorKind::Unreachable,
            Error::Timeout { .. } => ErrorKind::Timeout,
        }
    }

    /// Whether the same request may succeed if sent again later. Refused keys, rejected
    /// requests and configuration mistakes will not; an unreachable server is left to a
    /// fallback rather than retried.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::RateLimited
                | ErrorKind::Server
                | ErrorKind::Malformed
                | ErrorKind::Disconnected
                | ErrorKind::Timeout
        )
    }
}

/// Results of this crate's own API.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for cbi_types::Error {
    fn from(e: Error) -> Self {
        use cbi_types::Error as E;
        match e {
            Error::UnknownProvider(_)
            | Error::MissingApiKey { .. }
            | Error::InvalidApiKey { .. }
            | Error::MissingBaseUrl { .. }
            | Error::InvalidBaseUrl { .. }
            | Error::MissingModelPath { .. }
            | Error::WrongKind { .. }
            | Error::ModelFile { .. }
            | Error::InvalidRequest { .. } => E::Invalid(e.to_string()),
            Error::NotBuilt { .. } => E::Unsupported(e.to_string()),
            Error::Local { .. } => E::Model(e.to_string()),
            Error::Unauthorized { provider, .. } => E::Connect {
                target: provider.to_owned(),
                message: e.to_string(),
            },
            Error::Unreachable {
                ref target,
                provider,
                ..
            } => E::Connect {
                target: format!("{provider} at {target}"),
                message: e.to_string(),
            },
            Error::Rejected { .. } => E::Invalid(e.to_string()),
            Error::RateLimited {
                provider,
                retry_after,
            } => E::RateLimited {
                provider: provider.to_owned(),
                retry_after,
            },
            Error::Timeout { after, .. } => E::Timeout(after),
            Error::Server { .. } | Error::Malformed { .. } | Error::Disconnected { .. } => {
                E::Model(e.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(e: Error, kind: ErrorKind, retryable: bool, shared: &str) {
        assert_eq!(e.kind(), kind, "{e}");
        assert_eq!(e.is_retryable(), retryable, "{e}");
        let s = format!("{:?}", cbi_types::Error::from(e.clone()));
        assert!(s.starts_with(shared), "{e} became {s}");
    }

    #[test]
    fn every_failure_keeps_its_category_across_the_trait_boundary() {
        let p = "openai";
        check(
            Error::UnknownProvider("x".into()),
            ErrorKind::Config,
            false,
            "Invalid",
        );
        check(
            Error::MissingApiKey {
                provider: p,
                env: "OPENAI_API_KEY",
            },
            ErrorKind::Config,
            false,
            "Invalid",
        );
        check(
            Error::InvalidBaseUrl {
                provider: p,
                url: "ftp://x".into(),
            },
            ErrorKind::Config,
            false,
            "Invalid",
        );
        check(
            Error::Unauthorized {
                provider: p,
                status: 401,
                message: "no".into(),
            },
            ErrorKind::Auth,
            false,
            "Connect",
        );
        check(
            Error::Rejected {
                provider: p,
                status: 400,
                message: "no".into(),
            },
            ErrorKind::Rejected,
            false,
            "Invalid",
        );
        check(
            Error::RateLimited {
                provider: p,
                retry_after: None,
            },
            ErrorKind::RateLimited,
            true,
            "RateLimited",
        );
        check(
            Error::Server {
                provider: p,
                status: 503,
                message: "x".into(),
            },
            ErrorKind::Server,
            true,
            "Model",
        );
        check(
            Error::Malformed {
                provider: p,
                message: "x".into(),
            },
            ErrorKind::Malformed,
            true,
            "Model",
        );
        check(
            Error::Disconnected {
                provider: p,
                message: "x".into(),
            },
            ErrorKind::Disconnected,
            true,
            "Model",
        );
        check(
            Error::Unreachable {
                provider: p,
                target: "http://127.0.0.1:1".into(),
                message: "refused".into(),
            },
            ErrorKind::Unreachable,
            false,
            "Connect",
        );
        check(
            Error::Timeout {
                provider: p,
                after: Duration::from_secs(1),
            },
            ErrorKind::Timeout,
            true,
            "Timeout",
        );
    }

    #[test]
    fn local_failures_are_neither_retried_nor_hidden() {
        check(
            Error::NotBuilt {
                provider: "gguf",
                feature: "local",
            },
            ErrorKind::Config,
            false,
            "Unsupported",
        );
        check(
            Error::MissingModelPath { provider: "gguf" },
            ErrorKind::Config,
            false,
            "Invalid",
        );
        check(
            Error::ModelFile {
                path: "/m.gguf".into(),
                message: "missing".into(),
            },
            ErrorKind::ModelFile,
            false,
            "Invalid",
        );
        check(
            Error::InvalidRequest {
                provider: "gguf",
                message: "bad grammar".into(),
            },
            ErrorKind::Rejected,
            false,
            "Invalid",
        );
        check(
            Error::Local {
                model: "m".into(),
                message: "decode failed".into(),
            },
            ErrorKind::Local,
            false,
            "Model",
        );
        assert_eq!(
            Error::NotBuilt {
                provider: "gguf",
                feature: "local"
            }
            .to_string(),
            "provider `gguf`: this build of cbi-models has no `local` feature; rebuild with --features local"
        );
    }

    #[test]
    fn messages_name_the_provider() {
        let e = Error::Server {
            provider: "anthropic",
            status: 529,
            message: "Overloaded".into(),
        };
        assert_eq!(
            cbi_types::Error::from(e).to_string(),
            "model error: anthropic failed (HTTP 529; temporary, retrying may help): Overloaded"
        );
        let e = Error::RateLimited {
            provider: "cohere",
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            cbi_types::Error::from(e).to_string(),
            "rate limited by cohere; retry after 3 s"
        );
    }
}
