//! The server's Prometheus series, all named `cbi_*`.

use std::sync::Mutex;
use std::time::Duration;

use cbi_engine::QueryResponse;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteLabels {
    pub(crate) route: String,
    pub(crate) status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Route {
    pub(crate) route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StageLabel {
    pub(crate) stage: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct BandLabel {
    pub(crate) band: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct TokenLabel {
    pub(crate) kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ReasonLabel {
    pub(crate) reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct CacheLabel {
    /// `sql` or `rows`.
    pub(crate) part: &'static str,
    /// `hit` or `miss`.
    pub(crate) outcome: &'static str,
}

fn latency() -> Histogram {
    // 100 µs … ~13 s
    Histogram::new(exponential_buckets(0.0001, 2.0, 18))
}

/// Every series the server exports.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Mutex<Registry>,
    pub(crate) requests: Family<RouteLabels, Counter>,
    pub(crate) request_seconds: Family<Route, Histogram>,
    pub(crate) stage_seconds: Family<StageLabel, Histogram>,
    pub(crate) answers: Family<BandLabel, Counter>,
    pub(crate) tokens: Family<TokenLabel, Counter>,
    pub(crate) cost_micro_usd: Counter,
    pub(crate) refused: Family<ReasonLabel, Counter>,
    pub(crate) feedback: Family<BandLabel, Counter>,
    pub(crate) cache: Family<CacheLabel, Counter>,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let requests = Family::<RouteLabels, Counter>::default();
        let request_seconds =
            Family::<Route, Histogram>::new_with_constructor(latency as fn() -> Histogram);
        let stage_seconds =
            Family::<StageLabel, Histogram>::new_with_constructor(latency as fn() -> Histogram);
        let answers = Family::<BandLabel, Counter>::default();
        let tokens = Family::<TokenLabel, Counter>::default();
        let cost_micro_usd = Counter::default();
        let refused = Family::<ReasonLabel, Counter>::default();
        let feedback = Family::<BandLabel, Counter>::default();
        let cache = Family::<CacheLabel, Counter>::default();
        let mut r = Registry::with_prefix("cbi");
        r.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        r.register(
            "http_request_seconds",
            "HTTP request latency by route",
            request_seconds.clone(),
        );
        r.register(
            "answer_stage_seconds",
            "Time spent in each stage of an answer (schema, generate, validate, execute, total)",
            stage_seconds.clone(),
        );
        r.register(
            "answers",
            "Answers by confidence band (high, medium, low, clarify)",
            answers.clone(),
        );
        r.register(
            "model_tokens",
            "Language-model tokens spent, by kind (prompt, completion)",
            tokens.clone(),
        );
        r.register(
            "model_cost_micro_usd",
            "Estimated language-model cost in millionths of a US dollar",
            cost_micro_usd.clone(),
        );
        r.register(
            "refused_requests",
            "Requests refused before reaching the engine, by reason",
            refused.clone(),
        );
        r.register(
            "feedback",
            "Feedback on answers (accepted, rejected)",
            feedback.clone(),
        );
        r.register(
            "cache_lookups",
            "Answers whose SQL or rows came from the cache (hit) or were worked out (miss)",
            cache.clone(),
        );
        Metrics {
            registry: Mutex::new(r),
            requests,
            request_seconds,
            stage_seconds,
            answers,
            tokens,
            cost_micro_usd,
            refused,
            feedback,
            cache,
        }
    }

    pub(crate) fn request(&self, route: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RouteLabels {
                route: route.to_string(),
                status,
            })
            .inc();
        self.request_seconds
            .get_or_create(&Route {
                route: route.to_string(),
            })
            .observe(took.as_secs_f64());
    }

    pub(crate) fn answer(&self, r: &QueryResponse) {
        let t = &r.timings;
        for (stage, d) in [
            ("schema", t.schema),
            ("generate", t.generate),
            ("validate", t.validate),
            ("execute", t.execute),
            ("total", t.total),
        ] {
            self.stage_seconds
                .get_or_create(&StageLabel { stage })
                .observe(d.as_secs_f64());
        }
        let band = if r.clarification.is_some() {
            "clarify"
        } else {
            match r.confidence_band {
                cbi_engine::ConfidenceBand::High => "high",
                cbi_engine::ConfidenceBand::Medium => "medium",
                cbi_engine::ConfidenceBand::Low => "low",
            }
        };
        self.answers.get_or_create(&BandLabel { band }).inc();
        if r.sql.is_some() {
            for (part, hit) in [("sql", r.cache.sql), ("rows", r.cache.rows)] {
                let outcome = if hit { "hit" } else { "miss" };
                self.cache
                    .get_or_create(&CacheLabel { part, outcome })
                    .inc();
            }
        }
        self.tokens
            .get_or_create(&TokenLabel { kind: "prompt" })
            .inc_by(u64::from(r.usage.prompt_tokens));
        self.tokens
            .get_or_create(&TokenLabel { kind: "completion" })
            .inc_by(u64::from(r.usage.completion_tokens));
        if r.cost_usd > 0.0 {
            self.cost_micro_usd
                .inc_by((r.cost_usd * 1e6).round() as u64);
        }
    }

    pub(crate) fn refused(&self, reason: &'static str) {
        self.refused.get_or_create(&ReasonLabel { reason }).inc();
    }

    /// The exposition text of every series.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        let registry = self
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}
