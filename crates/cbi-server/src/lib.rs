//! cbi over HTTP: a thin adapter over [`cbi_engine::ConversationalBiEngine`].
//!
//! [`router`] builds the axum application: a REST API under `/v1` (sessions, ask, clarify,
//! SQL, schema, explain, export, feedback), server-sent events for the stages of an answer,
//! the OpenAPI document, `/healthz` and Prometheus `/metrics` (series named `cbi_*`), and a web
//! chat page at `/` whose script, style and charting library are embedded in the binary. Every
//! request is a [`cbi_engine::Principal`] found by its bearer token ([`Users`]); what that user
//! may read (tables, columns) is enforced by the engine's validator, which for them knows
//! only those names, so a hidden column appears in no result, schema or error. Each user has a
//! request rate and a concurrency limit; request bodies are capped.
//!
//! Invariant: the server holds nothing about a conversation between requests — sessions live
//! in the engine's session store — so several processes sharing a Redis store serve one
//! conversation in turns.

mod error;
mod metrics;
mod routes;
mod users;
mod web;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use cbi_engine::ConversationalBiEngine;
use dashmap::DashMap;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

pub use error::{Error, ErrorKind, Result};
pub use users::{Defaults, User, Users};

use crate::metrics::Metrics;

/// The OpenAPI 3.1 document of the API, served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The engine's key of the database questions are answered over.
    pub database: String,
    pub users: Users,
    /// The largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
}

impl ServerOptions {
    /// Open (no tokens), over one database, with a 64 KiB body cap.
    pub fn open(database: impl Into<String>) -> Self {
        ServerOptions {
            database: database.into(),
            users: Users::open(Defaults::default()),
            max_body_bytes: 64 << 10,
        }
    }
}

/// What every request handler shares.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) engine: Arc<ConversationalBiEngine>,
    pub(crate) opts: ServerOptions,
    pub(crate) metrics: Metrics,
    limits: DashMap<String, Arc<UserLimits>>,
}

/// One user's rate limiter and in-flight requests.
#[derive(Debug)]
pub(crate) struct UserLimits {
    pub(crate) rate: DefaultDirectRateLimiter,
    pub(crate) in_flight: Arc<Semaphore>,
}

impl AppState {
    pub(crate) fn limits_of(&self, user: &User) -> Arc<UserLimits> {
        if let Some(l) = self.limits.get(&user.principal.user_id) {
            return l.clone();
        }
        let per_minute = NonZeroU32::new(user.rate_per_minute).unwrap_or(NonZeroU32::MIN);
        let limits = Arc::new(UserLimits {
            rate: RateLimiter::direct(Quota::per_minute(per_minute)),
            in_flight: Arc::new(Semaphore::new(user.max_concurrent)),
        });
        self.limits
            .entry(user.principal.user_id.clone())
            .or_insert(limits)
            .clone()
    }
}

/// The application: every route, the body cap and the request metrics.
pub fn router(engine: Arc<ConversationalBiEngine>, opts: ServerOptions) -> Router {
    let max_body = opts.max_body_bytes;
    let state = Arc::new(AppState {
        engine,
        opts,
        metrics: Metrics::new(),
        limits: DashMap::new(),
    });
    routes::routes()
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// Counts and times every request by its route pattern (`/v1/sessions/{id}`), never by its
/// raw path, so the series stay few.
async fn observe(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let t0 = Instant::now();
    let res = next.run(req).await;
    state
        .metrics
        .request(&route, res.status().as_u16(), t0.elapsed());
    res
}

/// Serves `app` on `listener` until `shutdown` completes; requests in progress finish first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM: the signal to shut down gracefully.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
