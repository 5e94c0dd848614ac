//! The in-process GGUF provider against a tiny random llama model the test writes
//! (`cbi_testkit::gguf`): what it says is noise, so the tests assert what must hold for any model —
//! determinism, limits, grammar, choices, prefix reuse, streaming, errors.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cbi_models::{Error, ErrorKind, LocalGguf, LocalOptions, from_config_with_env};
use cbi_types::config::ModelConfig;
use cbi_types::{ChatMessage, Completion, CompletionRequest, FinishReason, LanguageModel};

use cbi_testkit::gguf::write_tiny_llama;

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn tiny(chat_template: Option<&str>) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tiny-llama.gguf");
    write_tiny_llama(&path, 42, chat_template).expect("write the tiny model");
    Fixture { _dir: dir, path }
}

fn options() -> LocalOptions {
    LocalOptions {
        threads: Some(1),
        context_size: 512,
        ..LocalOptions::default()
    }
}

fn load(path: &Path) -> LocalGguf {
    LocalGguf::load(path, options()).unwrap_or_else(|e| panic!("tiny model: {e}"))
}

fn ask(question: &str, max_tokens: u32) -> CompletionRequest {
    CompletionRequest {
        messages: vec![
            ChatMessage::system("You write SQL for the table t(a, b)."),
            ChatMessage::user(question),
        ],
        max_tokens: Some(max_tokens),
        ..CompletionRequest::default()
    }
}

async fn complete(model: &LocalGguf, request: &CompletionRequest) -> Completion {
    model
        .complete(request)
        .await
        .unwrap_or_else(|e| panic!("{request:?}: {e}"))
}

#[test]
fn a_missing_or_damaged_file_is_an_error_not_a_panic() {
    let f = tiny(None);
    let dir = f.path.parent().expect("dir");
    let bytes = std::fs::read(&f.path).expect("model bytes");
    let garbage = dir.join("garbage.gguf");
    std::fs::write(&garbage, b"this is not a model at all").expect("write");
    let truncated = dir.join("truncated.gguf");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).expect("write");
    let header_only = dir.join("header.gguf");
    std::fs::write(&header_only, &bytes[..24]).expect("write");
    let empty = dir.join("empty.gguf");
    std::fs::write(&empty, b"").expect("write");

    let cases = [
        (dir.join("missing.gguf"), "No such file"),
        (dir.to_path_buf(), "not a file"),
        (empty, "cannot read"),
        (garbage, "not a GGUF file"),
        (truncated, "llama.cpp cannot load it"),
        (header_only, "llama.cpp cannot load it"),
    ];
    for (path, says) in cases {
        let error = LocalGguf::load(&path, options()).expect_err("a bad model file");
        assert!(
            matches!(&error, Error::ModelFile { path: p, .. } if *p == path),
            "{error:?}"
        );
        assert_eq!(error.kind(), ErrorKind::ModelFile);
        assert!(!error.is_retryable());
        assert!(error.to_string().contains(says), "{path:?}: {error}");
    }
    // The good file still loads after all that.
    load(&f.path);
}

#[tokio::test]
async fn greedy_generation_is_deterministic_and_honours_max_tokens() {
    let f = tiny(None);
    let model = load(&f.path);
    assert_eq!(model.name(), "local/tiny-llama");
    let request = ask("how many rows?", 12);
    let first = complete(&model, &request).await;
    let again = complete(&model, &request).await;
    assert_eq!(first.text, again.text);
    assert!(!first.text.is_empty());
    assert_eq!(first.usage.completion_tokens, 12, "{first:?}");
    assert_eq!(first.finish_reason, FinishReason::Length);
    assert_eq!(first.model, "tiny-llama");
    assert!(first.choices.is_empty());
    // A fresh model (an empty KV cache) says the same: what the cache reused was right.
    let fresh = complete(&load(&f.path), &request).await;
    assert_eq!(fresh.text, first.text);

    let short = complete(&model, &ask("how many rows?", 3)).await;
    assert_eq!(short.usage.completion_tokens, 3);
    assert!(first.text.starts_with(&short.text), "{short:?} {first:?}");
    let none = complete(&model, &ask("how many rows?", 0)).await;
    assert_eq!((none.text.as_str(), none.usage.completion_tokens), ("", 0));
}

/// `SELECT ` then one to three lowercase letters then ` FROM t`.
fn matches_grammar(text: &str) -> bool {
    text.strip_prefix("SELECT ")
        .and_then(|rest| rest.strip_suffix(" FROM t"))
        .is_some_and(|col| {
            (1..=3).contains(&col.len()) && col.bytes().all(|b| b.is_ascii_lowercase())
        })
}

const GRAMMAR: &str = r#"root ::= "SELECT " col " FROM t"
col ::= [a-z] [a-z]? [a-z]?"#;

#[tokio::test]
async fn a_grammar_constrains_what_a_random_model_says() {
    let f = tiny(None);
    let model = load(&f.path);
    let mut seen = std::collections::HashSet::new();
    for k in 0..8 {
        let request = CompletionRequest {
            temperature: Some(1.0),
            grammar: Some(GRAMMAR.into()),
            ..ask(&format!("question {k}"), 40)
        };
        let c = complete(&model, &request).await;
        assert!(matches_grammar(&c.text), "{:?}", c.text);
        // Once the grammar is complete only the end-of-generation token is allowed.
        assert_eq!(c.finish_reason, FinishReason::Stop, "{c:?}");
        seen.insert(c.text);
    }
    // Seeds differ from request to request: the answers do too.
    assert!(seen.len() > 1, "{seen:?}");
    // Without the grammar the same model says something else entirely.
    let free = complete(&model, &ask("question 0", 20)).await;
    assert!(!matches_grammar(&free.text), "{:?}", free.text);
}

#[tokio::test]
async fn an_invalid_grammar_is_an_error_and_the_model_goes_on() {
    let f = tiny(None);
    let model = load(&f.path);
    for grammar in [
        "root ::= (",
        r#"start ::= "a""#,
        "root ::= undefined-rule",
        r#"root ::= root "a""#,
    ] {
        let request = CompletionRequest {
            grammar: Some(grammar.into()),
            ..ask("q", 5)
        };
        let error = model.complete(&request).await.expect_err(grammar);
        assert!(
            matches!(error, cbi_types::Error::Invalid(ref m) if m.contains("grammar")),
            "{grammar}: {error:?}"
        );
    }
    assert_eq!(
        complete(&model, &ask("q", 5)).await.usage.completion_tokens,
        5
    );
}

#[tokio::test]
async fn stop_sequences_end_the_text_before_them() {
    let f = tiny(None);
    let model = load(&f.path);
    let request = CompletionRequest {
        grammar: Some(GRAMMAR.into()),
        stop: vec![" FROM".into()],
        ..ask("q", 40)
    };
    let c = complete(&model, &request).await;
    let col = c.text.strip_prefix("SELECT ").expect("the grammar's start");
    assert!((1..=3).contains(&col.len()), "{c:?}");
    assert_eq!(c.finish_reason, FinishReason::Stop);

    // Greedy text, then the same request stopping at a piece from its middle.
    let long = complete(&model, &ask("q", 24)).await.text;
    let chars: Vec<char> = long.chars().collect();
    let stop: String = chars[chars.len() / 2..chars.len() / 2 + 2].iter().collect();
    let request = CompletionRequest {
        stop: vec!["never produced".into(), stop.clone()],
        ..ask("q", 24)
    };
    let cut = complete(&model, &request).await;
    let expected = &long[..long.find(&stop).expect("stop in text")];
    assert_eq!(cut.text, expected, "stop {stop:?} in {long:?}");
    assert_eq!(cut.finish_reason, FinishReason::Stop);
}

#[tokio::test]
async fn n_gives_that_many_choices_from_one_prompt_evaluation() {
    let f = tiny(None);
    let model = load(&f.path);
    let single = complete(&model, &ask("pick one", 10)).await;
    let before = model.stats();
    let request = CompletionRequest {
        n: Some(3),
        ..ask("pick one", 10)
    };
    let c = complete(&model, &request).await;
    let after = model.stats();
    assert_eq!(c.choices.len(), 3, "{c:?}");
    assert_eq!(c.text, c.choices[0]);
    // The first choice is greedy, the others sampled at DIVERSE_TEMPERATURE.
    assert_eq!(c.choices[0], single.text);
    assert!(c.choices[1..].iter().any(|t| *t != c.choices[0]), "{c:?}");
    assert_eq!(c.usage.completion_tokens, 30);
    // The prompt was evaluated once at most (here: not at all, it was cached).
    assert_eq!(
        after.prompt_tokens - before.prompt_tokens,
        u64::from(c.usage.prompt_tokens)
    );
    assert!(after.evaluated_tokens - before.evaluated_tokens <= 1);
    assert_eq!(after.generated_tokens - before.generated_tokens, 30);
}

#[tokio::test]
async fn a_second_question_on_the_same_schema_reuses_the_prefix() {
    let f = tiny(None);
    let model = load(&f.path);
    let schema =
        "You write SQL. CREATE TABLE sales(id int, region text, amount int, sold_on date); \
                  CREATE TABLE regions(name text, manager text);"
            .repeat(2);
    let request = |q: &str| CompletionRequest {
        messages: vec![ChatMessage::system(schema.clone()), ChatMessage::user(q)],
        max_tokens: Some(8),
        ..CompletionRequest::default()
    };
    let first = complete(&model, &request("total sales by region")).await;
    let s1 = model.stats();
    assert_eq!(s1.reused_tokens, 0);
    assert_eq!(s1.evaluated_tokens, u64::from(first.usage.prompt_tokens));

    let second = complete(&model, &request("who manages the north?")).await;
    let s2 = model.stats();
    let reused = s2.reused_tokens - s1.reused_tokens;
    let evaluated = s2.evaluated_tokens - s1.evaluated_tokens;
    assert_eq!(reused + evaluated, u64::from(second.usage.prompt_tokens));
    assert!(
        reused as usize > schema.len() / 2,
        "reused {reused} of {second:?}"
    );
    assert!(evaluated < 40, "evaluated {evaluated}");
    // And reusing changed nothing: a fresh model answers the same.
    let fresh = complete(&load(&f.path), &request("who manages the north?")).await;
    assert_eq!(fresh.text, second.text);

    // A different system prompt shares only the template's first tokens.
    let other = CompletionRequest {
        messages: vec![
            ChatMessage::system("Something else."),
            ChatMessage::user("q"),
        ],
        max_tokens: Some(2),
        ..CompletionRequest::default()
    };
    complete(&model, &other).await;
    let s3 = model.stats();
    assert!(s3.reused_tokens - s2.reused_tokens < 10, "{s3:?}");
}

#[tokio::test]
async fn a_prompt_longer_than_the_context_is_refused() {
    let f = tiny(None);
    let model = load(&f.path);
    assert_eq!(model.context_size(), 512);
    let error = model
        .complete(&ask(&"word ".repeat(200), 4))
        .await
        .expect_err("too long");
    assert!(
        matches!(error, cbi_types::Error::Invalid(ref m) if m.contains("context holds 512")),
        "{error:?}"
    );
    // Generation that reaches the end of the context stops there.
    let c = complete(&model, &ask(&"word ".repeat(90), 1000)).await;
    assert_eq!(c.finish_reason, FinishReason::Length);
    assert_eq!(
        c.usage.prompt_tokens + c.usage.completion_tokens,
        512,
        "{:?}",
        c.usage
    );
}

#[tokio::test]
async fn streamed_deltas_add_up_to_the_text() {
    let f = tiny(None);
    let model = load(&f.path);
    for request in [
        ask("stream it", 16),
        CompletionRequest {
            grammar: Some(GRAMMAR.into()),
            stop: vec![" FROM".into()],
            n: Some(2),
            temperature: Some(1.0),
            ..ask("stream it", 40)
        },
    ] {
        let mut deltas = Vec::new();
        let c = model
            .complete_streaming(&request, &mut |d: &str| deltas.push(d.to_owned()))
            .await
            .expect("streamed");
        assert!(deltas.len() > 1, "{deltas:?}");
        assert_eq!(deltas.concat(), c.text);
        assert!(!c.text.contains(" FROM"));
        // Not streamed, the same request gives the same text (greedy) or a valid one.
        if request.grammar.is_none() {
            assert_eq!(complete(&model, &request).await.text, c.text);
        }
    }
}

#[tokio::test]
async fn the_gguf_chat_template_is_used_and_chatml_is_the_fallback() {
    let messages = [ChatMessage::system("S"), ChatMessage::user("U")];
    let chatml =
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n";

    let plain = tiny(None);
    assert_eq!(
        load(&plain.path).prompt(&messages).await.expect("prompt"),
        chatml
    );

    // Gemma's format, recognised by llama.cpp from the template text.
    let gemma = tiny(Some(
        "{{ '<start_of_turn>' + role + '\n' + content + '<end_of_turn>' }}",
    ));
    let prompt = load(&gemma.path).prompt(&messages).await.expect("prompt");
    assert!(prompt.starts_with("<start_of_turn>user\n"), "{prompt:?}");
    assert!(prompt.ends_with("<start_of_turn>model\n"), "{prompt:?}");

    // A template llama.cpp does not know falls back to ChatML rather than failing.
    let odd = tiny(Some("{{ something no one recognises }}"));
    let model = load(&odd.path);
    assert_eq!(model.prompt(&messages).await.expect("prompt"), chatml);
    assert_eq!(
        complete(&model, &ask("q", 2)).await.usage.completion_tokens,
        2
    );
}

#[tokio::test]
async fn the_configuration_builds_it_once_per_file() {
    let f = tiny(None);
    let config = ModelConfig {
        provider: "gguf".into(),
        path: Some(f.path.clone()),
        max_tokens: Some(3),
        ..ModelConfig::default()
    };
    let a = from_config_with_env(&config, |_| None).expect("gguf model");
    let b = from_config_with_env(&config, |_| None).expect("gguf model");
    assert_eq!(a.name(), "local/tiny-llama");
    assert!(
        std::ptr::addr_eq(Arc::as_ptr(&a), Arc::as_ptr(&b)),
        "loaded twice"
    );
    // The configured max_tokens is the default of requests that leave it unset.
    let c = a
        .complete(&CompletionRequest {
            messages: vec![ChatMessage::user("q")],
            ..CompletionRequest::default()
        })
        .await
        .expect("completion");
    assert_eq!(c.usage.completion_tokens, 3);

    let shared = LocalGguf::shared(&f.path, options()).expect("shared");
    let again = LocalGguf::shared(&f.path, options()).expect("shared");
    assert!(Arc::ptr_eq(&shared, &again));
    assert!(
        !std::ptr::addr_eq(Arc::as_ptr(&shared), Arc::as_ptr(&a)),
        "other options"
    );

    let missing = ModelConfig {
        path: None,
        ..config
    };
    assert!(matches!(
        from_config_with_env(&missing, |_| None),
        Err(Error::MissingModelPath { provider: "gguf" })
    ));
}
