//! What the router adds to a call: selection, breaker, concurrency permit, timeout and
//! accounting, measured over a mock model that answers at once. `direct` calls the model
//! itself; the difference is the router's overhead.

use std::hint::black_box;
use std::sync::Arc;

use async_trait::async_trait;
use cbi_models::{ModelProfile, ModelRouter, Requirements};
use cbi_types::{ChatMessage, Completion, CompletionRequest, LanguageModel, Result, TokenUsage};
use criterion::{Criterion, criterion_group, criterion_main};

#[derive(Debug)]
struct Instant(String);

#[async_trait]
impl LanguageModel for Instant {
    fn name(&self) -> &str {
        &self.0
    }

    async fn complete(&self, _request: &CompletionRequest) -> Result<Completion> {
        Ok(Completion {
            text: "SELECT COUNT(*) FROM orders".into(),
            usage: TokenUsage {
                prompt_tokens: 120,
                completion_tokens: 9,
            },
            model: self.0.clone(),
            ..Completion::default()
        })
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let request = CompletionRequest {
        messages: vec![
            ChatMessage::system("You write SQLite for the schema below.\n".repeat(20)),
            ChatMessage::user("How many orders were placed last month?"),
        ],
        max_tokens: Some(256),
        ..Default::default()
    };
    let model: Arc<dyn LanguageModel> = Arc::new(Instant("mock/fast".into()));
    let profile = ModelProfile {
        prompt_cost_per_1k: 0.15,
        completion_cost_per_1k: 0.6,
        max_concurrency: 8,
        ..ModelProfile::default()
    };
    let router = ModelRouter::builder()
        .route(
            Arc::new(Instant("mock/first".into())),
            ModelProfile {
                quality: 0.3,
                ..profile
            },
        )
        .route(Arc::clone(&model), profile)
        .route(Arc::new(Instant("mock/third".into())), profile)
        .build();
    let needs = Requirements {
        min_quality: Some(0.4),
        ..Requirements::default()
    };

    let mut group = c.benchmark_group("router");
    group.bench_function("direct", |b| {
        b.iter(|| rt.block_on(model.complete(black_box(&request))))
    });
    group.bench_function("routed", |b| {
        b.iter(|| rt.block_on(router.complete_with(Some("session-1"), black_box(&needs), &request)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
