//! The routes: each reads its request, calls one engine method for the caller, and writes JSON.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cbi_engine::{AskOptions, Principal, Stage, result_json};
use cbi_types::{AugmentedSchema, QueryResult, SessionId};
use governor::clock::{Clock, DefaultClock};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::sync::OwnedSemaphorePermit;

use crate::error::ApiError;
use crate::{AppState, OPENAPI, User};

type Shared = State<Arc<AppState>>;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(crate::web::page))
        .route("/assets/{file}", get(crate::web::asset))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/sessions", get(list_sessions).post(create_session))
        .route("/v1/sessions/{id}", get(get_session).delete(end_session))
        .route("/v1/sessions/{id}/export", get(export))
        .route("/v1/ask", post(ask))
        .route("/v1/ask/stream", post(ask_stream))
        .route("/v1/clarify", post(clarify))
        .route("/v1/sql", post(sql))
        .route("/v1/schema", get(schema))
        .route("/v1/suggestions", get(suggestions))
        .route("/v1/explain", post(explain))
        .route("/v1/feedback", post(feedback))
}

/// The user a request is from, admitted by their rate limit and holding one of their
/// concurrency slots until the request is done.
pub(crate) struct Caller {
    user: Arc<User>,
    permit: OwnedSemaphorePermit,
}

impl Caller {
    fn principal(&self) -> &Principal {
        &self.user.principal
    }
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let auth = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let Some(user) = state.opts.users.authenticate(auth) else {
            state.metrics.refused("unauthorized");
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid bearer token is required (Authorization: Bearer …)",
            ));
        };
        let limits = state.limits_of(&user);
        if let Err(not_until) = limits.rate.check() {
            state.metrics.refused("rate");
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "too many requests: at most {} a minute",
                    user.rate_per_minute
                ),
            );
            e.retry_after = Some(wait.as_secs().max(1));
            return Err(e);
        }
        let Ok(permit) = limits.in_flight.clone().try_acquire_owned() else {
            state.metrics.refused("concurrency");
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_in_flight",
                format!(
                    "too many requests at once: at most {} of yours run together",
                    user.max_concurrent
                ),
            );
            e.retry_after = Some(1);
            return Err(e);
        };
        Ok(Caller { user, permit })
    }
}

/// A JSON body whose rejection (malformed, too large, wrong type) is a JSON error too.
pub(crate) struct Body<T>(T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(e) => Err(json_rejection(e)),
        }
    }
}

fn json_rejection(e: JsonRejection) -> ApiError {
    let status = e.status();
    let kind = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "too_large"
    } else {
        "bad_request"
    };
    ApiError::new(status, kind, e.body_text())
}

fn session_id(text: &str) -> Result<SessionId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("`{text}` is not a session id")))
}

async fn healthz(State(state): Shared) -> axum::Json<serde_json::Value> {
    axum::Json(json!({"status": "ok", "databases": state.engine.databases().len()}))
}

async fn metrics(State(state): Shared) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        state.metrics.render(),
    )
        .into_response()
}

async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
        .into_response()
}

async fn create_session(
    State(state): Shared,
    caller: Caller,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), ApiError> {
    let id = state
        .engine
        .start_session(caller.principal(), &state.opts.database)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(json!({"session_id": id}))))
}

async fn list_sessions(
    State(state): Shared,
    caller: Caller,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let list = state.engine.list_sessions(caller.principal()).await?;
    Ok(axum::Json(json!({"sessions": list})))
}

async fn get_session(
    State(state): Shared,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let s = state
        .engine
        .session(caller.principal(), session_id(&id)?)
        .await?;
    let turns: Vec<serde_json::Value> = s
        .context
        .turns
        .iter()
        .map(|t| {
            json!({
                "turn_id": t.turn_id,
                "question": t.user_query,
                "intent": t.intent,
                "sql": t.sql,
                "summary": t.results_summary,
                "at": t.timestamp,
            })
        })
        .collect();
    Ok(axum::Json(json!({
        "session_id": s.id,
        "created_at": s.created_at,
        "last_accessed": s.last_accessed,
        "turn_count": s.turn_count,
        "turns": turns,
        "pending_clarification": s.context.pending_clarification,
    })))
}

async fn end_session(
    State(state): Shared,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .engine
        .end_session(caller.principal(), session_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AskRequest {
    question: String,
    #[serde(default)]
    session_id: Option<String>,
    /// Work the answer out again instead of reusing a cached one.
    #[serde(default)]
    fresh: bool,
}

/// The session a request continues, or a new one for the caller. A question asked without a
/// session never fails because the caller holds the most sessions allowed: their least
/// recently used one is ended to make room (an explicit `POST /v1/sessions` is refused
/// instead).
async fn session_for(
    state: &AppState,
    who: &Principal,
    id: Option<&str>,
) -> Result<SessionId, ApiError> {
    if let Some(id) = id {
        return session_id(id);
    }
    Ok(state
        .engine
        .start_session_replacing_oldest(who, &state.opts.database)
        .await?)
}

async fn ask(
    State(state): Shared,
    caller: Caller,
    Body(req): Body<AskRequest>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let who = caller.principal();
    let session = session_for(&state, who, req.session_id.as_deref()).await?;
    let options = AskOptions { fresh: req.fresh };
    let r = state
        .engine
        .ask_with(who, session, &req.question, options, None)
        .await?;
    state.metrics.answer(&r);
    Ok(axum::Json(r.to_json()))
}

/// The same as `/v1/ask`, as server-sent events: one `stage` event per step (understood,
/// validated, rows, summary), then `answer` with the full answer, or `error`.
async fn ask_stream(
    State(state): Shared,
    caller: Caller,
    Body(req): Body<AskRequest>,
) -> Result<Sse<impl futures::Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let session = session_for(&state, caller.principal(), req.session_id.as_deref()).await?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let st = state.clone();
    tokio::spawn(async move {
        // The caller's concurrency slot is held until the answer is complete.
        let Caller { user, permit } = caller;
        let stages = tx.clone();
        let sink = move |s: Stage| {
            if let Ok(e) = Event::default().event("stage").json_data(&s) {
                let _ = stages.send(e);
            }
        };
        let options = AskOptions { fresh: req.fresh };
        let event = match st
            .engine
            .ask_with(
                &user.principal,
                session,
                &req.question,
                options,
                Some(&sink),
            )
            .await
        {
            Ok(r) => {
                st.metrics.answer(&r);
                Event::default().event("answer").json_data(r.to_json())
            }
            Err(e) => Event::default()
                .event("error")
                .json_data(ApiError::from(e).body()),
        };
        if let Ok(e) = event {
            let _ = tx.send(e);
        }
        drop(permit);
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClarifyRequest {
    session_id: String,
    /// The option picked: its number ("2") or its label.
    choice: String,
}

async fn clarify(
    State(state): Shared,
    caller: Caller,
    Body(req): Body<ClarifyRequest>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let who = caller.principal();
    let id = session_id(&req.session_id)?;
    let s = state.engine.session(who, id).await?;
    if s.context.pending_clarification.is_none() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_clarification",
            "this session has no clarifying question waiting for an answer",
        ));
    }
    let r = state.engine.ask(who, id, &req.choice).await?;
    state.metrics.answer(&r);
    Ok(axum::Json(r.to_json()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SqlRequest {
    sql: String,
}

async fn sql(
    State(state): Shared,
    caller: Caller,
    Body(req): Body<SqlRequest>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let (ran, result) = state
        .engine
        .sql(caller.principal(), &state.opts.database, &req.sql)
        .await?;
    Ok(axum::Json(result_json(&ran, &result)))
}

async fn explain(
    State(state): Shared,
    caller: Caller,
    Body(req): Body<SqlRequest>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let plan = state
        .engine
        .explain_sql(caller.principal(), &state.opts.database, &req.sql)
        .await?;
    Ok(axum::Json(json!({"plan": plan})))
}

async fn schema(
    State(state): Shared,
    caller: Caller,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let s = state
        .engine
        .describe(caller.principal(), &state.opts.database)
        .await?;
    Ok(axum::Json(schema_json(&s)))
}

/// How many first questions a client is offered.
const SUGGESTIONS: usize = 6;

/// A few first questions over what the caller may see, each one the engine answers.
async fn suggestions(
    State(state): Shared,
    caller: Caller,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let questions = state
        .engine
        .suggestions(caller.principal(), &state.opts.database, SUGGESTIONS)
        .await?;
    Ok(axum::Json(json!({"questions": questions})))
}

/// The schema as a client shows it: tables with their readable descriptions, columns with
/// types, descriptions and a few sample values, relationships and business terms.
fn schema_json(s: &AugmentedSchema) -> serde_json::Value {
    let tables: Vec<serde_json::Value> = s
        .schema
        .tables
        .iter()
        .map(|t| {
            let profile = s.tables.iter().find(|p| p.name == t.name);
            let columns: Vec<serde_json::Value> = t
                .columns
                .iter()
                .map(|c| {
                    let cp = profile.and_then(|p| p.columns.iter().find(|x| x.name == c.name));
                    json!({
                        "name": c.name,
                        "type": c.data_type,
                        "nullable": c.nullable,
                        "description": cp.map(|p| p.description.as_str()).unwrap_or(""),
                        "samples": cp.map(|p| p.samples.clone()).unwrap_or_default(),
                    })
                })
                .collect();
            json!({
                "name": t.name,
                "description": profile.map(|p| p.description.as_str()).unwrap_or(""),
                "row_count": t.row_count,
                "primary_key": t.primary_key,
                "columns": columns,
            })
        })
        .collect();
    let relationships: Vec<serde_json::Value> = s
        .schema
        .relationships
        .iter()
        .map(|r| {
            json!({
                "from": format!("{}({})", r.from_table, r.from_columns.join(", ")),
                "to": format!("{}({})", r.to_table, r.to_columns.join(", ")),
            })
        })
        .collect();
    let terms: Vec<serde_json::Value> = s
        .semantic
        .business_terms
        .iter()
        .map(|t| json!({"name": t.name, "description": t.description}))
        .collect();
    json!({
        "database": s.schema.name,
        "dialect": s.schema.dialect.name(),
        "tables": tables,
        "relationships": relationships,
        "business_terms": terms,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    /// The turn to export; the latest answered one when absent.
    #[serde(default)]
    turn: Option<u32>,
    /// `csv` (the default) or `json`.
    #[serde(default)]
    format: Option<String>,
}

/// Runs an answer's SQL again, as the caller may see it, and returns all its rows (up to the
/// row cap) as a CSV or JSON file.
async fn export(
    State(state): Shared,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let who = caller.principal();
    let s = state.engine.session(who, session_id(&id)?).await?;
    let turn = match q.turn {
        Some(n) => s.context.turns.iter().find(|t| t.turn_id == n),
        None => s.context.turns.iter().rev().find(|t| t.sql.is_some()),
    }
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such answer in this session",
        )
    })?;
    let sql = turn.sql.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "that turn has no answer to export",
        )
    })?;
    let (_, result) = state.engine.sql(who, &s.database, sql).await?;
    let name = format!("cbi-{}-turn{}", s.id, turn.turn_id);
    match q.format.as_deref().unwrap_or("csv") {
        "csv" => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.csv\""),
                ),
            ],
            csv(&result),
        )
            .into_response()),
        "json" => Ok((
            [(
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.json\""),
            )],
            axum::Json(result_json(sql, &result)),
        )
            .into_response()),
        other => Err(ApiError::bad_request(format!(
            "format `{other}`: expected csv or json"
        ))),
    }
}

/// RFC 4180 CSV: a header, then one record per row; NULL is an empty field.
fn csv(r: &QueryResult) -> String {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    let mut out = String::new();
    let header: Vec<String> = r.columns.iter().map(|c| field(&c.name)).collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for row in &r.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|v| match v.to_json() {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => field(&s),
                other => field(&other.to_string()),
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackRequest {
    session_id: String,
    turn_id: u32,
    /// True: "this is right" — the answer becomes a verified example. False is counted.
    correct: bool,
}

async fn feedback(
    State(state): Shared,
    caller: Caller,
    Body(req): Body<FeedbackRequest>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let who = caller.principal();
    let id = session_id(&req.session_id)?;
    if !req.correct {
        // Checked to belong to the caller, then only counted.
        state.engine.session(who, id).await?;
        state
            .metrics
            .feedback
            .get_or_create(&crate::metrics::BandLabel { band: "rejected" })
            .inc();
        return Ok(axum::Json(json!({"accepted": false})));
    }
    let verified = state.engine.accept(who, id, req.turn_id).await?;
    state
        .metrics
        .feedback
        .get_or_create(&crate::metrics::BandLabel { band: "accepted" })
        .inc();
    Ok(axum::Json(
        json!({"accepted": true, "question": verified.question, "sql": verified.sql}),
    ))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use cbi_types::{ColumnMeta, Value};

    use super::*;

    #[test]
    fn csv_quotes_what_needs_it() {
        let r = QueryResult {
            columns: vec![
                ColumnMeta {
                    name: "name".into(),
                    type_name: String::new(),
                },
                ColumnMeta {
                    name: "n".into(),
                    type_name: String::new(),
                },
            ],
            rows: vec![
                vec![Value::Text("a, \"b\"".into()), Value::Int(3)],
                vec![Value::Null, Value::Float(1.5)],
            ],
            truncated: false,
            elapsed: Duration::ZERO,
        };
        assert_eq!(csv(&r), "name,n\r\n\"a, \"\"b\"\"\",3\r\n,1.5\r\n");
    }

    #[test]
    fn the_openapi_document_lists_every_route() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        for route in [
            "/",
            "/assets/{file}",
            "/healthz",
            "/metrics",
            "/openapi.json",
            "/v1/sessions",
            "/v1/sessions/{id}",
            "/v1/sessions/{id}/export",
            "/v1/ask",
            "/v1/ask/stream",
            "/v1/clarify",
            "/v1/sql",
            "/v1/schema",
            "/v1/suggestions",
            "/v1/explain",
            "/v1/feedback",
        ] {
            assert!(paths.contains_key(route), "{route} is not documented");
        }
        assert_eq!(paths.len(), 16, "a documented path the router lacks");
    }
}
