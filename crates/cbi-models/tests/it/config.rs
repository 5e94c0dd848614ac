use cbi_models::{Error, from_config_with_env};
use cbi_types::config::{ModelConfig, Secret};
use cbi_types::{ChatMessage, CompletionRequest};

use crate::server::{MockServer, Reply};
use crate::vendor::KEY;

fn config(provider: &str, base_url: Option<&str>, api_key: Option<&str>) -> ModelConfig {
    ModelConfig {
        provider: provider.into(),
        model: "m".into(),
        api_key: api_key.map(Secret::new),
        base_url: base_url.map(str::to_owned),
        ..ModelConfig::default()
    }
}

fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }
}

#[test]
fn every_http_provider_is_built_with_its_default_address_and_hides_its_key() {
    let cases = [
        ("openai", None, "openai/m", "https://api.openai.com/v1"),
        (
            "openai-compatible",
            Some("http://127.0.0.1:8000/v1"),
            "openai-compatible/m",
            "http://127.0.0.1:8000/v1",
        ),
        (
            "anthropic",
            None,
            "anthropic/m",
            "https://api.anthropic.com",
        ),
        ("cohere", None, "cohere/m", "https://api.cohere.com"),
        ("ollama", None, "ollama/m", "http://127.0.0.1:11434"),
    ];
    for (provider, base, name, url) in cases {
        let model = from_config_with_env(&config(provider, base, Some(KEY)), env(&[]))
            .unwrap_or_else(|e| panic!("{provider}: {e}"));
        assert_eq!(model.name(), name);
        let debug = format!("{model:?}");
        assert!(debug.contains(url), "{provider}: {debug}");
        assert!(!debug.contains(KEY), "{provider} shows its key: {debug}");
        assert!(debug.contains("****"), "{provider}: {debug}");
    }
}

#[test]
fn keys_come_from_the_environment_when_not_configured() {
    let check = |provider: &str, vars: &'static [(&'static str, &'static str)], ok: bool| {
        let result = from_config_with_env(&config(provider, None, None), env(vars));
        assert_eq!(result.is_ok(), ok, "{provider} with {vars:?}: {result:?}");
        if !ok {
            let error = result.expect_err("missing key");
            assert!(matches!(error, Error::MissingApiKey { .. }), "{error:?}");
        }
    };
    check("openai", &[("OPENAI_API_KEY", "k")], true);
    check("openai", &[("OPENAI_API_KEY", "  ")], false);
    check("openai", &[], false);
    check("anthropic", &[("ANTHROPIC_API_KEY", "k")], true);
    check("anthropic", &[("OPENAI_API_KEY", "k")], false);
    check("cohere", &[("CO_API_KEY", "k")], true);
    check("cohere", &[("COHERE_API_KEY", "k")], true);
    check("cohere", &[], false);
    check("ollama", &[], true);
    assert_eq!(
        from_config_with_env(&config("anthropic", None, None), env(&[]))
            .expect_err("missing key")
            .to_string(),
        "anthropic needs an API key: set models.*.api_key or the ANTHROPIC_API_KEY environment variable"
    );
}

#[test]
fn configuration_mistakes_are_reported() {
    let e = |c: ModelConfig| {
        from_config_with_env(&c, env(&[("OPENAI_API_KEY", "k")])).expect_err("mistake")
    };
    assert!(matches!(
        e(config("openai-compatible", None, None)),
        Error::MissingBaseUrl { .. }
    ));
    assert!(matches!(
        e(config("openai", Some("api.openai.com"), None)),
        Error::InvalidBaseUrl { .. }
    ));
    assert!(
        matches!(e(config("gguf-ish", None, None)), Error::UnknownProvider(p) if p == "gguf-ish")
    );
    let gguf = e(config("gguf", None, None));
    if cfg!(feature = "local") {
        assert!(
            matches!(gguf, Error::MissingModelPath { provider: "gguf" }),
            "{gguf:?}"
        );
    } else {
        assert!(
            matches!(
                gguf,
                Error::NotBuilt {
                    provider: "gguf",
                    feature: "local"
                }
            ),
            "{gguf:?}"
        );
        assert!(
            gguf.to_string().contains("rebuild with --features local"),
            "{gguf}"
        );
    }
}

#[tokio::test]
async fn the_openai_key_is_never_sent_to_a_compatible_server() {
    let server = MockServer::start(vec![Reply::json(200, serde_json::json!({
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]
    }))]).await;
    let model = from_config_with_env(
        &config("openai-compatible", Some(&server.url), None),
        env(&[("OPENAI_API_KEY", "sk-real-openai-key")]),
    )
    .expect("model");
    let request = CompletionRequest {
        messages: vec![ChatMessage::user("hi")],
        ..Default::default()
    };
    assert_eq!(
        model.complete(&request).await.expect("completion").text,
        "ok"
    );
    assert_eq!(server.only_request().header("authorization"), None);
}

#[tokio::test]
async fn configured_defaults_and_a_key_with_a_newline_are_handled() {
    let server = MockServer::start(vec![Reply::json(
        200,
        serde_json::json!({
            "model": "m", "message": {"role": "assistant", "content": "ok"}, "done": true
        }),
    )])
    .await;
    let mut c = config("ollama", Some(&server.url), None);
    c.max_tokens = Some(99);
    c.temperature = Some(0.0);
    let model = from_config_with_env(&c, env(&[])).expect("model");
    let request = CompletionRequest {
        messages: vec![ChatMessage::user("hi")],
        ..Default::default()
    };
    model.complete(&request).await.expect("completion");
    assert_eq!(
        server.only_request().body["options"],
        serde_json::json!({"temperature": 0.0, "num_predict": 99})
    );

    let model = from_config_with_env(
        &config("openai", Some(&server.url), Some("bad\nkey")),
        env(&[]),
    )
    .expect("model");
    let error = model
        .complete(&request)
        .await
        .expect_err("key with a newline");
    assert!(error.to_string().contains("cannot carry"), "{error}");
    assert!(!error.to_string().contains("bad\nkey"));
}

#[test]
fn embedding_providers_and_language_models_stay_in_their_place() {
    let e = from_config_with_env(&config("local-embedding", None, None), env(&[]))
        .expect_err("an embedding model is not a language model");
    assert_eq!(
        e.to_string(),
        "model provider `local-embedding` is not a language model; it computes embeddings: configure it under models.embedding"
    );
    let e = cbi_models::embedding_from_config(&config("openai", None, Some(KEY)))
        .expect_err("no hosted embeddings");
    assert!(matches!(e, Error::WrongKind { .. }), "{e}");
    let e = cbi_models::embedding_from_config(&config("local-embedding", None, None))
        .expect_err("no path");
    assert_eq!(
        e.to_string(),
        "local-embedding needs a path: the model file or folder to load (models.*.path)"
    );
}

#[cfg(not(feature = "minilm"))]
#[test]
fn local_embeddings_without_the_feature_say_how_to_get_them() {
    let mut c = config("local-embedding", None, None);
    c.path = Some("/models/all-MiniLM-L6-v2".into());
    let e = cbi_models::embedding_from_config(&c).expect_err("feature off");
    assert_eq!(
        e.to_string(),
        "provider `local-embedding`: this build of cbi-models has no `minilm` feature; rebuild with --features minilm"
    );
    assert!(matches!(
        cbi_types::Error::from(e),
        cbi_types::Error::Unsupported(_)
    ));
}
