//! The router over scripted mock models, on tokio's paused clock: backoff, Retry-After,
//! timeouts and breaker cooldowns take no real time and are measured exactly.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cbi_models::{
    BreakerPolicy, ModelProfile, ModelRouter, Prefer, Requirements, RetryPolicy, Usage,
};
use cbi_types::{
    ChatMessage, Completion, CompletionRequest, Error, LanguageModel, Result, TokenUsage,
};
use tokio::time::Instant;

/// What a mock model does on one call.
#[derive(Debug)]
enum Step {
    Answer,
    Fail(Error),
    /// Answers after this long.
    Slow(Duration),
    Hang,
    /// Streams some text, then fails.
    PartialThenFail(Error),
}

#[derive(Debug)]
struct Mock {
    name: String,
    steps: Mutex<VecDeque<Step>>,
    /// What to do once the script is used up.
    then: fn() -> Step,
    calls: AtomicUsize,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

impl Mock {
    fn new(name: &str, steps: Vec<Step>) -> Arc<Mock> {
        Self::then(name, steps, || Step::Answer)
    }

    fn then(name: &str, steps: Vec<Step>, then: fn() -> Step) -> Arc<Mock> {
        Arc::new(Mock {
            name: name.into(),
            steps: Mutex::new(steps.into()),
            then,
            calls: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        })
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    async fn run(
        &self,
        mut on_delta: Option<&mut (dyn for<'s> FnMut(&'s str) + Send)>,
    ) -> Result<Completion> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        let step = self
            .steps
            .lock()
            .expect("steps")
            .pop_front()
            .unwrap_or_else(self.then);
        let result = match step {
            Step::Answer => Ok(()),
            Step::Fail(e) => Err(e),
            Step::Slow(d) => {
                tokio::time::sleep(d).await;
                Ok(())
            }
            Step::Hang => std::future::pending().await,
            Step::PartialThenFail(e) => {
                if let Some(f) = on_delta.as_deref_mut() {
                    f("SEL");
                }
                Err(e)
            }
        };
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        result?;
        let text = format!("answer from {}", self.name);
        if let Some(f) = on_delta {
            f(&text);
        }
        Ok(Completion {
            text,
            usage: TokenUsage {
                prompt_tokens: 1000,
                completion_tokens: 500,
            },
            model: self.name.clone(),
            ..Completion::default()
        })
    }
}

#[async_trait]
impl LanguageModel for Mock {
    fn name(&self) -> &str {
        &self.name
    }

    async fn complete(&self, _request: &CompletionRequest) -> Result<Completion> {
        self.run(None).await
    }

    async fn complete_streaming(
        &self,
        _request: &CompletionRequest,
        on_delta: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> Result<Completion> {
        self.run(Some(on_delta)).await
    }
}

fn request() -> CompletionRequest {
    CompletionRequest {
        messages: vec![ChatMessage::user("How many orders?")],
        ..Default::default()
    }
}

fn server_error() -> Error {
    Error::Model("a failed (HTTP 503; temporary, retrying may help)".into())
}

fn refused() -> Error {
    Error::Connect {
        target: "a".into(),
        message: "a refused the API key (HTTP 401)".into(),
    }
}

const NO_RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 1,
    base_delay: Duration::from_millis(100),
    max_delay: Duration::from_secs(1),
    max_retry_after: Duration::from_secs(30),
};

fn routes(models: &[&Arc<Mock>]) -> cbi_models::RouterBuilder {
    models.iter().fold(ModelRouter::builder().seed(1), |b, m| {
        b.route(
            Arc::clone(m) as Arc<dyn LanguageModel>,
            ModelProfile::default(),
        )
    })
}

#[tokio::test(start_paused = true)]
async fn falls_back_in_order_without_retrying_a_refused_key() {
    let (a, b, c) = (
        Mock::new("a", vec![Step::Fail(refused())]),
        Mock::new("b", vec![]),
        Mock::new("c", vec![]),
    );
    let router = routes(&[&a, &b, &c]).build();
    let completion = router.complete(&request()).await.expect("fallback");
    assert_eq!(completion.model, "b");
    assert_eq!((a.calls(), b.calls(), c.calls()), (1, 1, 0));
}

#[tokio::test(start_paused = true)]
async fn temporary_failures_are_retried_with_capped_jittered_backoff() {
    let a = Mock::new(
        "a",
        vec![Step::Fail(server_error()), Step::Fail(server_error())],
    );
    let router = routes(&[&a])
        .retry(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(150),
            ..RetryPolicy::default()
        })
        .build();
    let start = Instant::now();
    let completion = router.complete(&request()).await.expect("third attempt");
    assert_eq!((completion.model.as_str(), a.calls()), ("a", 3));
    assert!(
        start.elapsed() <= Duration::from_millis(100 + 150),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_waited_out_exactly_unless_it_is_too_long() {
    let limited = |secs| Error::RateLimited {
        provider: "a".into(),
        retry_after: Some(Duration::from_secs(secs)),
    };
    let (a, b) = (
        Mock::new("a", vec![Step::Fail(limited(5))]),
        Mock::new("b", vec![]),
    );
    let router = routes(&[&a, &b]).build();
    let start = Instant::now();
    assert_eq!(router.complete(&request()).await.expect("retry").model, "a");
    assert_eq!(start.elapsed(), Duration::from_secs(5));

    let (a, b) = (
        Mock::new("a", vec![Step::Fail(limited(120))]),
        Mock::new("b", vec![]),
    );
    let router = routes(&[&a, &b]).build();
    let start = Instant::now();
    assert_eq!(
        router.complete(&request()).await.expect("fallback").model,
        "b"
    );
    assert_eq!(
        start.elapsed(),
        Duration::ZERO,
        "a 2-minute Retry-After goes elsewhere at once"
    );
}

#[tokio::test(start_paused = true)]
async fn a_hanging_model_times_out_and_the_next_answers() {
    let (a, b) = (
        Mock::then("a", vec![], || Step::Hang),
        Mock::new("b", vec![]),
    );
    let router = routes(&[&a, &b])
        .timeout(Duration::from_secs(2))
        .retry(RetryPolicy {
            max_attempts: 2,
            ..NO_RETRY
        })
        .build();
    let start = Instant::now();
    assert_eq!(
        router.complete(&request()).await.expect("fallback").model,
        "b"
    );
    assert_eq!(
        a.calls(),
        2,
        "a timeout may be temporary, so it is retried once"
    );
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_secs(4) && elapsed <= Duration::from_millis(4100),
        "{elapsed:?}"
    );

    let router = ModelRouter::builder()
        .route(
            Arc::clone(&a) as Arc<dyn LanguageModel>,
            ModelProfile::default(),
        )
        .timeout(Duration::from_secs(2))
        .retry(NO_RETRY)
        .build();
    assert_eq!(
        router.complete(&request()).await.expect_err("timeout"),
        Error::Timeout(Duration::from_secs(2))
    );
}

#[tokio::test(start_paused = true)]
async fn the_breaker_opens_skips_and_probes_once_after_the_cooldown() {
    let a = Mock::then("a", vec![], server_error_step);
    let b = Mock::new("b", vec![]);
    let router = routes(&[&a, &b])
        .retry(NO_RETRY)
        .breaker(BreakerPolicy {
            failure_threshold: 2,
            cooldown: Duration::from_secs(30),
        })
        .build();
    for _ in 0..2 {
        assert_eq!(router.complete(&request()).await.expect("b").model, "b");
    }
    assert_eq!(router.tripped(), ["a"]);
    assert_eq!(router.complete(&request()).await.expect("b").model, "b");
    assert_eq!(a.calls(), 2, "an open breaker skips a");

    // After the cooldown one call probes a, fails, and the breaker opens again.
    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(router.complete(&request()).await.expect("b").model, "b");
    assert_eq!(a.calls(), 3);
    assert_eq!(router.complete(&request()).await.expect("b").model, "b");
    assert_eq!(a.calls(), 3, "a failed probe reopens");

    // A successful probe closes it.
    *a.steps.lock().expect("steps") = VecDeque::from([Step::Answer, Step::Answer]);
    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(router.complete(&request()).await.expect("probe").model, "a");
    assert!(router.tripped().is_empty());
    assert_eq!(
        router.complete(&request()).await.expect("closed").model,
        "a"
    );
}

fn server_error_step() -> Step {
    Step::Fail(server_error())
}

#[tokio::test(start_paused = true)]
async fn only_one_probe_runs_while_others_go_elsewhere() {
    let a = Mock::new(
        "a",
        vec![
            Step::Fail(server_error()),
            Step::Slow(Duration::from_secs(1)),
        ],
    );
    let b = Mock::new("b", vec![]);
    let router = Arc::new(
        routes(&[&a, &b])
            .retry(NO_RETRY)
            .breaker(BreakerPolicy {
                failure_threshold: 1,
                cooldown: Duration::from_secs(10),
            })
            .build(),
    );
    router.complete(&request()).await.expect("b");
    tokio::time::advance(Duration::from_secs(10)).await;
    let probe = tokio::spawn({
        let router = Arc::clone(&router);
        async move { router.complete(&request()).await }
    });
    tokio::task::yield_now().await;
    assert_eq!(
        router.complete(&request()).await.expect("b").model,
        "b",
        "probe in flight"
    );
    assert_eq!(probe.await.expect("task").expect("probe").model, "a");
    assert_eq!(a.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_rejected_request_is_neither_retried_nor_held_against_the_provider() {
    let invalid = || Error::Invalid("a rejected the request (HTTP 400): bad".into());
    let a = Mock::new(
        "a",
        vec![
            Step::Fail(invalid()),
            Step::Fail(invalid()),
            Step::Fail(invalid()),
        ],
    );
    let router = routes(&[&a])
        .breaker(BreakerPolicy {
            failure_threshold: 1,
            cooldown: Duration::from_secs(60),
        })
        .build();
    for _ in 0..3 {
        assert_eq!(
            router.complete(&request()).await.expect_err("rejected"),
            invalid()
        );
    }
    assert_eq!(a.calls(), 3);
    assert!(router.tripped().is_empty());
}

#[tokio::test(start_paused = true)]
async fn concurrency_is_limited_per_route() {
    let a = Mock::then("a", vec![], || Step::Slow(Duration::from_secs(1)));
    let router = Arc::new(
        ModelRouter::builder()
            .route(
                Arc::clone(&a) as Arc<dyn LanguageModel>,
                ModelProfile {
                    max_concurrency: 2,
                    ..ModelProfile::default()
                },
            )
            .build(),
    );
    let start = Instant::now();
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let router = Arc::clone(&router);
            tokio::spawn(async move { router.complete(&request()).await })
        })
        .collect();
    for call in futures::future::join_all(calls).await {
        call.expect("task").expect("answer");
    }
    assert_eq!(a.peak.load(Ordering::SeqCst), 2);
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(3),
        "six calls, two at a time"
    );
}

#[tokio::test(start_paused = true)]
async fn requirements_choose_the_routes_and_their_order() {
    let profile = |quality, latency_ms, cost, context| ModelProfile {
        quality,
        typical_latency: Duration::from_millis(latency_ms),
        prompt_cost_per_1k: cost,
        completion_cost_per_1k: cost * 2.0,
        context_window: context,
        max_concurrency: 0,
    };
    let (small, big, long) = (
        Mock::new("small", vec![]),
        Mock::new("big", vec![]),
        Mock::new("long", vec![]),
    );
    let router = ModelRouter::builder()
        .route(
            small.clone() as Arc<dyn LanguageModel>,
            profile(0.6, 300, 0.0001, 8_000),
        )
        .route(
            big.clone() as Arc<dyn LanguageModel>,
            profile(0.95, 3000, 0.01, 128_000),
        )
        .route(
            long.clone() as Arc<dyn LanguageModel>,
            profile(0.8, 1500, 0.003, 1_000_000),
        )
        .build();
    let check = |req: Requirements, expect: &'static str| {
        let router = &router;
        async move {
            let answer = router.complete_with(None, &req, &request()).await;
            match answer {
                Ok(c) => assert_eq!(c.model, expect, "{req:?}"),
                Err(e) => assert!(e.to_string().contains(expect), "{req:?}: {e}"),
            }
        }
    };
    check(Requirements::default(), "small").await;
    check(
        Requirements {
            min_quality: Some(0.9),
            ..Default::default()
        },
        "big",
    )
    .await;
    check(
        Requirements {
            min_quality: Some(0.7),
            ..Default::default()
        },
        "big",
    )
    .await;
    check(
        Requirements {
            min_quality: Some(0.7),
            prefer: Prefer::Latency,
            ..Default::default()
        },
        "long",
    )
    .await;
    check(
        Requirements {
            max_latency: Some(Duration::from_secs(1)),
            prefer: Prefer::Quality,
            ..Default::default()
        },
        "small",
    )
    .await;
    check(
        Requirements {
            prefer: Prefer::Quality,
            ..Default::default()
        },
        "big",
    )
    .await;
    check(
        Requirements {
            context_tokens: Some(200_000),
            ..Default::default()
        },
        "long",
    )
    .await;
    check(
        Requirements {
            prefer: Prefer::Cost,
            min_quality: Some(0.7),
            ..Default::default()
        },
        "long",
    )
    .await;
    check(
        Requirements {
            max_cost: Some(0.004),
            min_quality: Some(0.7),
            ..Default::default()
        },
        "long",
    )
    .await;
    check(
        Requirements { min_quality: Some(0.99), ..Default::default() },
        "unsupported: no model meets the requirements (small: quality 0.6 < 0.99; big: quality 0.95 < 0.99; long: quality 0.8 < 0.99)",
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn tokens_and_cost_are_accounted_per_session_per_model_and_in_total() {
    let (a, b) = (
        Mock::new("a", vec![Step::Fail(refused())]),
        Mock::new("b", vec![]),
    );
    let priced = |prompt, completion| ModelProfile {
        prompt_cost_per_1k: prompt,
        completion_cost_per_1k: completion,
        ..ModelProfile::default()
    };
    let router = ModelRouter::builder()
        .route(a.clone() as Arc<dyn LanguageModel>, priced(0.5, 1.5))
        .route(b.clone() as Arc<dyn LanguageModel>, priced(0.25, 1.0))
        .build();
    router
        .complete_for("s1", &request())
        .await
        .expect("b answers after a fails");
    router.complete_for("s1", &request()).await.expect("a");
    router.complete_for("s2", &request()).await.expect("a");
    router.complete(&request()).await.expect("a");

    let usage = |calls, failures, cost| Usage {
        calls,
        failures,
        prompt_tokens: 1000 * calls,
        completion_tokens: 500 * calls,
        cost,
    };
    let snapshot = router.accounting();
    // a: 1000 * 0.5/1k + 500 * 1.5/1k = 1.25 a call; b: 0.25 + 0.5 = 0.75.
    assert_eq!(snapshot.total, usage(4, 1, 0.75 + 3.0 * 1.25));
    assert_eq!(snapshot.models["a"], usage(3, 1, 3.0 * 1.25));
    assert_eq!(snapshot.models["b"], usage(1, 0, 0.75));
    assert_eq!(snapshot.sessions.len(), 2);
    assert_eq!(snapshot.sessions["s1"], usage(2, 1, 0.75 + 1.25));
    assert_eq!(router.session_usage("s2"), Some(usage(1, 0, 1.25)));
    assert_eq!(router.forget_session("s2"), Some(usage(1, 0, 1.25)));
    assert_eq!(router.session_usage("s2"), None);
    assert_eq!(
        router.accounting().total.calls,
        4,
        "the total keeps forgotten sessions"
    );
}

#[tokio::test(start_paused = true)]
async fn a_stream_that_has_shown_text_is_never_retried_elsewhere() {
    let (a, b) = (
        Mock::new("a", vec![Step::PartialThenFail(server_error())]),
        Mock::new("b", vec![]),
    );
    let router = routes(&[&a, &b]).build();
    let mut seen = String::new();
    let error = router
        .stream_with(
            None,
            &Requirements::default(),
            &request(),
            &mut |d: &str| seen.push_str(d),
        )
        .await
        .expect_err("no second answer after the first began");
    assert_eq!(error, server_error());
    assert_eq!((seen.as_str(), a.calls(), b.calls()), ("SEL", 1, 0));

    // Before any text, a streamed call falls back like any other.
    let (a, b) = (
        Mock::new("a", vec![Step::Fail(refused())]),
        Mock::new("b", vec![]),
    );
    let router = routes(&[&a, &b]).build();
    let mut seen = String::new();
    let completion = router
        .complete_streaming(&request(), &mut |d: &str| seen.push_str(d))
        .await
        .expect("b");
    assert_eq!(
        (seen.as_str(), completion.model.as_str()),
        ("answer from b", "b")
    );
}

#[tokio::test(start_paused = true)]
async fn when_every_route_fails_the_caller_learns_why() {
    let limited = || Error::RateLimited {
        provider: "x".into(),
        retry_after: None,
    };
    let (a, b) = (
        Mock::then("a", vec![], || {
            Step::Fail(Error::RateLimited {
                provider: "x".into(),
                retry_after: None,
            })
        }),
        Mock::then("b", vec![], || {
            Step::Fail(Error::RateLimited {
                provider: "x".into(),
                retry_after: None,
            })
        }),
    );
    let router = routes(&[&a, &b])
        .retry(RetryPolicy {
            max_attempts: 2,
            ..NO_RETRY
        })
        .build();
    assert_eq!(
        router.complete(&request()).await.expect_err("all limited"),
        limited()
    );
    assert_eq!((a.calls(), b.calls()), (2, 2));

    let (a, b) = (
        Mock::new("a", vec![Step::Fail(refused())]),
        Mock::then("b", vec![], server_error_step),
    );
    let router = routes(&[&a, &b]).retry(NO_RETRY).build();
    let error = router.complete(&request()).await.expect_err("both fail");
    assert!(
        matches!(&error, Error::Model(m) if m.starts_with("no model could answer: a: cannot connect") && m.contains("b: model error")),
        "{error}"
    );
}
