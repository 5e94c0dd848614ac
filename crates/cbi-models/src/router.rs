//! [`ModelRouter`]: several models behind one [`LanguageModel`], chosen by what a call needs
//! and protected from each other's failures.

mod breaker;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::mem::discriminant;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cbi_types::{Completion, CompletionRequest, Error, LanguageModel, Result, TokenUsage};
use tokio::sync::Semaphore;

use breaker::{Breaker, Refusal};

/// What a route is like, as whoever configures the router judges it. Used to choose among
/// routes and to price their calls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelProfile {
    /// How good its answers are, from 0 (worst) to 1 (best), on whatever scale the operator
    /// uses consistently across routes.
    pub quality: f32,
    /// How long a typical call takes.
    pub typical_latency: Duration,
    /// Price of 1,000 prompt tokens, in the operator's currency (0 for a local model).
    pub prompt_cost_per_1k: f64,
    /// Price of 1,000 completion tokens.
    pub completion_cost_per_1k: f64,
    /// Most tokens, prompt and completion together, the model accepts.
    pub context_window: u32,
    /// Most calls in flight at once through this router; further callers wait their turn.
    /// 0 means no limit.
    pub max_concurrency: usize,
}

impl Default for ModelProfile {
    fn default() -> Self {
        ModelProfile {
            quality: 0.5,
            typical_latency: Duration::from_secs(2),
            prompt_cost_per_1k: 0.0,
            completion_cost_per_1k: 0.0,
            context_window: 8192,
            max_concurrency: 0,
        }
    }
}

impl ModelProfile {
    /// The price of a call that used `usage`.
    pub fn cost(&self, usage: TokenUsage) -> f64 {
        f64::from(usage.prompt_tokens) / 1000.0 * self.prompt_cost_per_1k
            + f64::from(usage.completion_tokens) / 1000.0 * self.completion_cost_per_1k
    }
}

/// Which of the routes meeting the [`Requirements`] to try first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prefer {
    /// The order the routes were added in: the configured fallback chain.
    #[default]
    Order,
    /// Highest quality first.
    Quality,
    /// Lowest typical latency first.
    Latency,
    /// Lowest estimated cost first.
    Cost,
}

/// What a call needs from a model. Routes that fall short are not tried; the rest are tried
/// in the order `prefer` gives (ties keep the configured order).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Requirements {
    pub min_quality: Option<f32>,
    pub max_latency: Option<Duration>,
    /// Most a call may cost, estimated from the prompt's length and `max_tokens` (or
    /// [`ESTIMATED_COMPLETION_TOKENS`] when unset).
    pub max_cost: Option<f64>,
    /// Context the call needs, in tokens; the router also estimates it from the request and
    /// uses the larger.
    pub context_tokens: Option<u32>,
    pub prefer: Prefer,
}

/// Completion length assumed for a cost estimate when a request sets no `max_tokens`.
pub const ESTIMATED_COMPLETION_TOKENS: u32 = 256;

/// How a route is retried before the router falls back to the next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Calls to one route per request, the first included.
    pub max_attempts: u32,
    /// Backoff before the second attempt; it doubles per attempt up to `max_delay`, and each
    /// wait is drawn uniformly between zero and that bound ("full jitter"), so callers that
    /// failed together do not retry together.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A vendor's `Retry-After` is waited out when it is at most this long; a longer one sends
    /// the call to the next route instead.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

/// When a route's circuit breaker opens and how long it stays open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    /// How long an open breaker refuses calls before letting one probe through.
    pub cooldown: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        BreakerPolicy {
            failure_threshold: 5,
            cooldown: Duration::from_secs(30),
        }
    }
}

/// Tokens and cost of the calls made so far.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Usage {
    /// Calls answered.
    pub calls: u64,
    /// Attempts that failed (each retry counts).
    pub failures: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// In the currency of the routes' profiles.
    pub cost: f64,
}

impl Usage {
    fn add(&mut self, usage: TokenUsage, cost: f64) {
        self.calls += 1;
        self.prompt_tokens += u64::from(usage.prompt_tokens);
        self.completion_tokens += u64::from(usage.completion_tokens);
        self.cost += cost;
    }
}

/// A snapshot of the router's accounting.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Accounting {
    pub total: Usage,
    /// By the session id callers passed to [`ModelRouter::complete_for`] and friends.
    pub sessions: BTreeMap<String, Usage>,
    /// By route name (`provider/model`).
    pub models: BTreeMap<String, Usage>,
}

#[derive(Default)]
struct Ledger {
    total: Usage,
    sessions: HashMap<String, Usage>,
    models: HashMap<String, Usage>,
}

struct Route {
    model: Arc<dyn LanguageModel>,
    name: String,
    profile: ModelProfile,
    permits: Option<Semaphore>,
    breaker: Breaker,
}

/// Several models behind one [`LanguageModel`].
///
/// For each call it takes the routes meeting the call's [`Requirements`] and tries them in
/// turn. Each route is called under the router's timeout, after waiting for one of its
/// concurrency permits (the wait is not part of the timeout; every call ahead is itself bounded
/// by it). A failure is retried on the same route with backoff when it may be temporary —
/// rate limits (waiting out `Retry-After`), timeouts and `Model` errors (server faults, broken
/// connections, garbled answers) — and otherwise, or when attempts run out, the next route is
/// tried. `Connect` (key refused, server unreachable) moves on at once, as do `Invalid` and
/// the other categories. Every failure except a refused request (`Invalid`, `NotFound`,
/// `Unsupported`) counts towards the route's circuit breaker; an open breaker skips the route
/// until its cooldown ends, then lets one call probe it.
///
/// Once a streamed call has delivered text to its caller it is never retried or sent elsewhere,
/// since the caller would see the text twice; its failure is returned as is.
///
/// When every route fails the error is the last one when all failures were of one category (so
/// a caller can still react to, say, `RateLimited`), and otherwise a `Model` error listing each
/// route's failure.
pub struct ModelRouter {
    name: String,
    routes: Vec<Route>,
    requirements: Requirements,
    retry: RetryPolicy,
    timeout: Duration,
    rng: AtomicU64,
    ledger: Mutex<Ledger>,
}

impl fmt::Debug for ModelRouter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelRouter")
            .field("name", &self.name)
            .field(
                "routes",
                &self.routes.iter().map(|r| &r.model).collect::<Vec<_>>(),
            )
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Builds a [`ModelRouter`]; see [`ModelRouter::builder`].
#[derive(Debug)]
pub struct RouterBuilder {
    name: String,
    routes: Vec<(Arc<dyn LanguageModel>, ModelProfile)>,
    requirements: Requirements,
    retry: RetryPolicy,
    breaker: BreakerPolicy,
    timeout: Duration,
    seed: Option<u64>,
}

impl RouterBuilder {
    /// Adds a route at the end of the fallback chain.
    pub fn route(mut self, model: Arc<dyn LanguageModel>, profile: ModelProfile) -> Self {
        self.routes.push((model, profile));
        self
    }

    /// Requirements of calls made through [`LanguageModel::complete`] and
    /// [`ModelRouter::complete_for`]; none by default.
    pub fn requirements(mut self, requirements: Requirements) -> Self {
        self.requirements = requirements;
        self
    }

    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn breaker(mut self, breaker: BreakerPolicy) -> Self {
        self.breaker = breaker;
        self
    }

    /// Longest one attempt on one route may take (60 s by default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Seeds the backoff jitter, for reproducible tests; by default it is seeded from the clock.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The name the router reports as a [`LanguageModel`] (`router` by default).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    pub fn build(self) -> ModelRouter {
        let seed = self.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0x5eed)
        });
        ModelRouter {
            name: self.name,
            routes: self
                .routes
                .into_iter()
                .map(|(model, profile)| Route {
                    name: model.name().to_owned(),
                    permits: (profile.max_concurrency > 0)
                        .then(|| Semaphore::new(profile.max_concurrency)),
                    breaker: Breaker::new(self.breaker),
                    model,
                    profile,
                })
                .collect(),
            requirements: self.requirements,
            retry: self.retry,
            timeout: self.timeout,
            rng: AtomicU64::new(seed),
            ledger: Mutex::default(),
        }
    }
}

impl ModelRouter {
    pub fn builder() -> RouterBuilder {
        RouterBuilder {
            name: "router".into(),
            routes: Vec::new(),
            requirements: Requirements::default(),
            retry: RetryPolicy::default(),
            breaker: BreakerPolicy::default(),
            timeout: Duration::from_secs(60),
            seed: None,
        }
    }

    /// A completion whose tokens and cost are also counted against `session`.
    pub async fn complete_for(
        &self,
        session: &str,
        request: &CompletionRequest,
    ) -> Result<Completion> {
        self.run(Some(session), &self.requirements, request, None)
            .await
    }

    /// A completion under explicit requirements, optionally counted against a session.
    pub async fn complete_with(
        &self,
        session: Option<&str>,
        requirements: &Requirements,
        request: &CompletionRequest,
    ) -> Result<Completion> {
        self.run(session, requirements, request, None).await
    }

    /// [`complete_with`](Self::complete_with), streaming the text to `on_delta`.
    pub async fn stream_with(
        &self,
        session: Option<&str>,
        requirements: &Requirements,
        request: &CompletionRequest,
        on_delta: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> Result<Completion> {
        self.run(session, requirements, request, Some(on_delta))
            .await
    }

    /// Tokens and cost so far, in total, per session and per route.
    pub fn accounting(&self) -> Accounting {
        let ledger = self.ledger();
        Accounting {
            total: ledger.total,
            sessions: ledger
                .sessions
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            models: ledger.models.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        }
    }

    /// One session's usage so far.
    pub fn session_usage(&self, session: &str) -> Option<Usage> {
        self.ledger().sessions.get(session).copied()
    }

    /// Drops a session's entry (when the session ends), returning what it used. The total
    /// keeps counting it.
    pub fn forget_session(&self, session: &str) -> Option<Usage> {
        self.ledger().sessions.remove(session)
    }

    /// Names of the routes whose circuit breaker is open or probing.
    pub fn tripped(&self) -> Vec<&str> {
        self.routes
            .iter()
            .filter(|r| r.breaker.is_tripped())
            .map(|r| r.name.as_str())
            .collect()
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        // Counters only; a panic elsewhere cannot leave them inconsistent enough to matter.
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Routes meeting `req`, in the order to try them, or an error saying why each fell short.
    fn select(&self, req: &Requirements, request: &CompletionRequest) -> Result<Vec<&Route>> {
        if self.routes.is_empty() {
            return Err(Error::Unsupported("the model router has no models".into()));
        }
        let prompt = estimate_prompt_tokens(request);
        let completion = request.max_tokens.unwrap_or(ESTIMATED_COMPLETION_TOKENS);
        let context = req
            .context_tokens
            .unwrap_or(0)
            .max(prompt.saturating_add(request.max_tokens.unwrap_or(0)));
        let estimate = |p: &ModelProfile| {
            p.cost(TokenUsage {
                prompt_tokens: prompt,
                completion_tokens: completion,
            })
        };
        let mut chosen = Vec::with_capacity(self.routes.len());
        let mut reasons = Vec::new();
        for route in &self.routes {
            let p = &route.profile;
            let why = if req.min_quality.is_some_and(|q| p.quality < q) {
                Some(format!(
                    "quality {} < {}",
                    p.quality,
                    req.min_quality.unwrap_or(0.0)
                ))
            } else if req.max_latency.is_some_and(|l| p.typical_latency > l) {
                Some(format!(
                    "typical latency {:?} > {:?}",
                    p.typical_latency,
                    req.max_latency.unwrap_or_default()
                ))
            } else if p.context_window < context {
                Some(format!(
                    "context window {} < {context} tokens",
                    p.context_window
                ))
            } else if req.max_cost.is_some_and(|c| estimate(p) > c) {
                Some(format!(
                    "estimated cost {:.6} > {:.6}",
                    estimate(p),
                    req.max_cost.unwrap_or(0.0)
                ))
            } else {
                None
            };
            match why {
                Some(why) => reasons.push(format!("{}: {why}", route.name)),
                None => chosen.push(route),
            }
        }
        if chosen.is_empty() {
            return Err(Error::Unsupported(format!(
                "no model meets the requirements ({})",
                reasons.join("; ")
            )));
        }
        match req.prefer {
            Prefer::Order => {}
            Prefer::Quality => {
                chosen.sort_by(|a, b| b.profile.quality.total_cmp(&a.profile.quality))
            }
            Prefer::Latency => chosen.sort_by_key(|r| r.profile.typical_latency),
            Prefer::Cost => {
                chosen.sort_by(|a, b| estimate(&a.profile).total_cmp(&estimate(&b.profile)))
            }
        }
        Ok(chosen)
    }

    async fn run(
        &self,
        session: Option<&str>,
        requirements: &Requirements,
        request: &CompletionRequest,
        mut on_delta: Option<&mut (dyn for<'s> FnMut(&'s str) + Send)>,
    ) -> Result<Completion> {
        let routes = self.select(requirements, request)?;
        let mut failures: Vec<(&str, Error)> = Vec::new();
        let mut skipped: Vec<String> = Vec::new();
        for route in routes {
            let mut attempt = 0;
            loop {
                let ticket = match route.breaker.admit() {
                    Ok(t) => t,
                    Err(Refusal::Open(wait)) => {
                        skipped.push(format!(
                            "{} (paused after repeated failures; next try in {} ms)",
                            route.name,
                            wait.as_millis()
                        ));
                        break;
                    }
                    Err(Refusal::Probing) => {
                        skipped.push(format!("{} (being probed after failures)", route.name));
                        break;
                    }
                };
                attempt += 1;
                let mut streamed = false;
                let outcome = {
                    let _permit = match &route.permits {
                        // The semaphore lives as long as the route and is never closed.
                        Some(s) => s.acquire().await.ok(),
                        None => None,
                    };
                    match on_delta.as_deref_mut() {
                        Some(f) => {
                            let mut forward = |d: &str| {
                                streamed = true;
                                f(d);
                            };
                            self.attempt(route.model.complete_streaming(request, &mut forward))
                                .await
                        }
                        None => self.attempt(route.model.complete(request)).await,
                    }
                };
                let error = match outcome {
                    Ok(completion) => {
                        ticket.succeeded();
                        self.record(session, route, completion.usage);
                        return Ok(completion);
                    }
                    Err(e) => e,
                };
                let probe = ticket.is_probe();
                if blames_provider(&error) {
                    ticket.failed();
                } else {
                    ticket.neutral();
                }
                self.record_failure(session, route);
                tracing::warn!(model = %route.name, attempt, error = %error, "model call failed");
                if streamed {
                    return Err(error);
                }
                let wait = self.wait_before_retry(&error, attempt);
                failures.push((&route.name, error));
                match wait {
                    Some(wait) if !probe && attempt < self.retry.max_attempts => {
                        tokio::time::sleep(wait).await;
                    }
                    _ => break,
                }
            }
        }
        Err(combine(failures, skipped))
    }

    async fn attempt(&self, call: impl Future<Output = Result<Completion>>) -> Result<Completion> {
        tokio::time::timeout(self.timeout, call)
            .await
            .unwrap_or(Err(Error::Timeout(self.timeout)))
    }

    /// How long to wait before calling the same route again, or `None` to move on.
    fn wait_before_retry(&self, error: &Error, attempt: u32) -> Option<Duration> {
        match error {
            Error::RateLimited {
                retry_after: Some(after),
                ..
            } => (*after <= self.retry.max_retry_after).then_some(*after),
            Error::RateLimited { .. } | Error::Timeout(_) | Error::Model(_) => {
                Some(self.backoff(attempt))
            }
            _ => None,
        }
    }

    /// Full jitter: uniform in `[0, min(max_delay, base_delay * 2^(attempt-1))]`.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let bound = self
            .retry
            .base_delay
            .saturating_mul(1 << exp)
            .min(self.retry.max_delay);
        let unit = (splitmix64(&self.rng) >> 11) as f64 / (1u64 << 53) as f64;
        bound.mul_f64(unit)
    }

    fn record(&self, session: Option<&str>, route: &Route, usage: TokenUsage) {
        let cost = route.profile.cost(usage);
        let mut ledger = self.ledger();
        ledger.total.add(usage, cost);
        ledger
            .models
            .entry(route.name.clone())
            .or_default()
            .add(usage, cost);
        if let Some(s) = session {
            match ledger.sessions.get_mut(s) {
                Some(u) => u.add(usage, cost),
                None => {
                    let mut u = Usage::default();
                    u.add(usage, cost);
                    ledger.sessions.insert(s.to_owned(), u);
                }
            }
        }
    }

    fn record_failure(&self, session: Option<&str>, route: &Route) {
        let mut ledger = self.ledger();
        ledger.total.failures += 1;
        ledger
            .models
            .entry(route.name.clone())
            .or_default()
            .failures += 1;
        if let Some(s) = session {
            ledger.sessions.entry(s.to_owned()).or_default().failures += 1;
        }
    }
}

#[async_trait]
impl LanguageModel for ModelRouter {
    fn name(&self) -> &str {
        &self.name
    }

    async fn complete(&self, request: &CompletionRequest) -> Result<Completion> {
        self.run(None, &self.requirements, request, None).await
    }

    async fn complete_streaming(
        &self,
        request: &CompletionRequest,
        on_delta: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> Result<Completion> {
        self.run(None, &self.requirements, request, Some(on_delta))
            .await
    }
}

/// Whether a failure says something about the provider's health, rather than about the
/// request.
fn blames_provider(e: &Error) -> bool {
    !matches!(
        e,
        Error::Invalid(_) | Error::NotFound { .. } | Error::Unsupported(_)
    )
}

fn combine(mut failures: Vec<(&str, Error)>, skipped: Vec<String>) -> Error {
    let same_kind = failures
        .windows(2)
        .all(|w| discriminant(&w[0].1) == discriminant(&w[1].1));
    if skipped.is_empty() && same_kind {
        if let Some((_, last)) = failures.pop() {
            return last;
        }
    }
    let mut parts: Vec<String> = failures
        .iter()
        .map(|(name, e)| format!("{name}: {e}"))
        .collect();
    parts.extend(skipped);
    Error::Model(format!("no model could answer: {}", parts.join("; ")))
}

/// About four characters per token plus a few per message: close enough to choose a context
/// window and estimate a price, and costs nothing.
fn estimate_prompt_tokens(request: &CompletionRequest) -> u32 {
    let chars: usize = request.messages.iter().map(|m| m.content.len() + 16).sum();
    u32::try_from(chars / 4).unwrap_or(u32::MAX)
}

fn splitmix64(state: &AtomicU64) -> u64 {
    let mut z = state
        .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_jittered_under_an_exponential_cap() {
        let router = ModelRouter::builder()
            .retry(RetryPolicy {
                base_delay: Duration::from_millis(100),
                max_delay: Duration::from_millis(1000),
                ..RetryPolicy::default()
            })
            .seed(7)
            .build();
        for (attempt, cap) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1000),
            (40, 1000),
        ] {
            let waits: Vec<Duration> = (0..200).map(|_| router.backoff(attempt)).collect();
            let cap = Duration::from_millis(cap);
            assert!(waits.iter().all(|w| *w <= cap), "attempt {attempt}");
            assert!(
                waits.iter().any(|w| *w > cap / 2),
                "attempt {attempt} never near its cap"
            );
            assert!(
                waits.iter().any(|w| *w < cap / 2),
                "attempt {attempt} never jittered low"
            );
        }
    }

    #[test]
    fn failures_of_one_kind_keep_their_category() {
        let limited = |p: &str| Error::RateLimited {
            provider: p.into(),
            retry_after: None,
        };
        assert_eq!(
            combine(vec![("a", limited("a")), ("b", limited("b"))], vec![]),
            limited("b")
        );
        let mixed = combine(
            vec![
                ("a", limited("a")),
                ("b", Error::Timeout(Duration::from_secs(1))),
            ],
            vec![],
        );
        assert!(
            matches!(&mixed, Error::Model(m) if m.contains("a: rate limited by a") && m.contains("b: query cancelled")),
            "{mixed}"
        );
        let skipped = combine(vec![], vec!["a (paused)".into()]);
        assert!(matches!(&skipped, Error::Model(m) if m.contains("a (paused)")));
    }
}
