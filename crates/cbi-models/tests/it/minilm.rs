//! `MiniLm` on a tiny random BERT the tests write: its weights (safetensors), its config and a
//! WordPiece `tokenizer.json` in the format of the real one (which pads every text to a fixed
//! length), so nothing is downloaded.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use cbi_models::{Error, MiniLm, embedding_from_config};
use cbi_types::EmbeddingModel;
use cbi_types::config::ModelConfig;
use serde_json::json;

const HIDDEN: usize = 16;
const LAYERS: usize = 2;
const INTERMEDIATE: usize = 32;
/// Short enough that the test's long text runs into it.
const POSITIONS: usize = 24;

const WORDS: &[&str] = &[
    "total",
    "sales",
    "by",
    "region",
    "revenue",
    "per",
    "area",
    "number",
    "of",
    "employees",
    "hired",
    "in",
    "the",
    "last",
    "year",
    "and",
    "##s",
    "##ed",
    "2020",
    "show",
    "me",
];

fn config() -> serde_json::Value {
    json!({
        "architectures": ["BertModel"],
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": HIDDEN,
        "initializer_range": 0.02,
        "intermediate_size": INTERMEDIATE,
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": POSITIONS,
        "model_type": "bert",
        "num_attention_heads": 2,
        "num_hidden_layers": LAYERS,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "type_vocab_size": 2,
        "vocab_size": 5 + WORDS.len(),
    })
}

/// A WordPiece tokenizer shaped like all-MiniLM-L6-v2's: BERT normaliser and pre-tokeniser,
/// `[CLS] … [SEP]`, and padding to a fixed length.
fn tokenizer() -> serde_json::Value {
    let specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
    let vocab: serde_json::Map<String, serde_json::Value> = specials
        .iter()
        .chain(WORDS)
        .enumerate()
        .map(|(i, w)| (w.to_string(), json!(i)))
        .collect();
    let added: Vec<_> = specials
        .iter()
        .enumerate()
        .map(|(i, w)| {
            json!({"id": i, "special": true, "content": w, "single_word": false,
                   "lstrip": false, "rstrip": false, "normalized": false})
        })
        .collect();
    json!({
        "version": "1.0",
        "truncation": {"max_length": 16, "strategy": "LongestFirst", "stride": 0},
        "padding": {"strategy": {"Fixed": 16}, "direction": "Right", "pad_to_multiple_of": null,
                    "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                       "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}
            }
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab}
    })
}

/// Random weights under the names BERT checkpoints use (without the `bert.` prefix, as
/// sentence-transformers saves them).
fn weights() -> HashMap<String, Tensor> {
    let dev = Device::Cpu;
    let vocab = 5 + WORDS.len();
    let mut w = HashMap::new();
    let mut randn = |name: String, shape: &[usize]| {
        let t = Tensor::randn(0f32, 0.5, shape, &dev).expect("random tensor");
        w.insert(name, t);
    };
    randn("embeddings.word_embeddings.weight".into(), &[vocab, HIDDEN]);
    randn(
        "embeddings.position_embeddings.weight".into(),
        &[POSITIONS, HIDDEN],
    );
    randn(
        "embeddings.token_type_embeddings.weight".into(),
        &[2, HIDDEN],
    );
    let mut norms = vec!["embeddings.LayerNorm".to_string()];
    for l in 0..LAYERS {
        let p = format!("encoder.layer.{l}");
        for (name, out, inp) in [
            ("attention.self.query", HIDDEN, HIDDEN),
            ("attention.self.key", HIDDEN, HIDDEN),
            ("attention.self.value", HIDDEN, HIDDEN),
            ("attention.output.dense", HIDDEN, HIDDEN),
            ("intermediate.dense", INTERMEDIATE, HIDDEN),
            ("output.dense", HIDDEN, INTERMEDIATE),
        ] {
            randn(format!("{p}.{name}.weight"), &[out, inp]);
            randn(format!("{p}.{name}.bias"), &[out]);
        }
        norms.push(format!("{p}.attention.output.LayerNorm"));
        norms.push(format!("{p}.output.LayerNorm"));
    }
    for n in norms {
        w.insert(
            format!("{n}.weight"),
            Tensor::ones(HIDDEN, DType::F32, &dev).expect("ones"),
        );
        w.insert(
            format!("{n}.bias"),
            Tensor::zeros(HIDDEN, DType::F32, &dev).expect("zeros"),
        );
    }
    w
}

fn write_model(dir: &Path) {
    std::fs::write(dir.join("config.json"), config().to_string()).expect("config");
    std::fs::write(dir.join("tokenizer.json"), tokenizer().to_string()).expect("tokenizer");
    candle_core::safetensors::save(&weights(), dir.join("model.safetensors")).expect("weights");
}

fn tiny() -> (tempfile::TempDir, MiniLm) {
    let dir = tempfile::tempdir().expect("temp dir");
    write_model(dir.path());
    let model = MiniLm::load(dir.path()).expect("the tiny model loads");
    (dir, model)
}

fn texts(t: &[&str]) -> Vec<String> {
    t.iter().map(|s| s.to_string()).collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[tokio::test]
async fn vectors_have_the_configured_dimension_and_unit_length() {
    let (_dir, model) = tiny();
    assert_eq!(model.dimensions(), HIDDEN);
    let v = model
        .embed(&texts(&["total sales by region", "", "Revenue per AREA"]))
        .await
        .unwrap();
    assert_eq!(v.len(), 3);
    for x in &v {
        assert_eq!(x.len(), HIDDEN);
        let norm = x.iter().map(|a| a * a).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    }
    assert!(model.embed(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_text_embeds_the_same_alone_and_beside_longer_texts() {
    // Fails when pooling counts padding: alone the text has no padding, in this batch it has
    // many pad tokens (and the tokenizer file pads to 16 when not told otherwise).
    let (_dir, model) = tiny();
    let short = "total sales";
    let alone = model.embed(&texts(&[short])).await.unwrap();
    let batch = model
        .embed(&texts(&[
            "show me the number of employees hired in 2020 by region and area",
            short,
            "revenue",
        ]))
        .await
        .unwrap();
    let d = max_diff(&alone[0], &batch[1]);
    assert!(d < 1e-5, "the padded copy differs by {d}");
    let revenue = model.embed(&texts(&["revenue"])).await.unwrap();
    assert!(max_diff(&revenue[0], &batch[2]) < 1e-5);
}

#[tokio::test]
async fn more_texts_than_one_batch_keep_their_order() {
    let (_dir, model) = tiny();
    let many: Vec<String> = (0..70)
        .map(|i| WORDS[i % WORDS.len()..].join(" "))
        .collect();
    let all = model.embed(&many).await.unwrap();
    assert_eq!(all.len(), 70);
    for i in [0, 31, 32, 69] {
        let one = model.embed(&many[i..=i]).await.unwrap();
        assert!(max_diff(&one[0], &all[i]) < 1e-5, "text {i}");
    }
}

#[tokio::test]
async fn the_same_text_gives_the_same_vector() {
    let (_dir, model) = tiny();
    let t = texts(&["revenue per area", "number of employees"]);
    let a = model.embed(&t).await.unwrap();
    let b = model.embed(&t).await.unwrap();
    assert_eq!(a, b);
    assert_ne!(a[0], a[1]);
    assert_eq!(
        model.embed_blocking(&t).unwrap(),
        a,
        "the same without tokio"
    );
}

#[tokio::test]
async fn a_text_longer_than_the_model_is_cut_not_refused() {
    let (_dir, model) = tiny();
    // far past the 24 positions of the tiny model and the tokenizer file's own 16
    let long = WORDS.repeat(20).join(" ");
    let v = model.embed(&[long]).await.unwrap();
    assert_eq!(v[0].len(), HIDDEN);
    assert!(v[0].iter().all(|x| x.is_finite()));
}

#[test]
fn missing_or_broken_files_are_errors_not_panics() {
    let check = |dir: &Path, says: &str| match MiniLm::load(dir) {
        Err(e @ Error::ModelFile { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(says), "{msg}");
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("{} loaded", dir.display()),
    };
    let root = tempfile::tempdir().unwrap();
    check(&root.path().join("nowhere"), "not a folder");
    check(root.path(), "cannot read config.json");

    let fresh = || {
        let d = tempfile::tempdir().unwrap();
        write_model(d.path());
        d
    };
    let d = fresh();
    std::fs::write(d.path().join("model.safetensors"), b"not weights").unwrap();
    check(d.path(), "model.safetensors is not a safetensors file");

    let d = fresh();
    std::fs::write(d.path().join("tokenizer.json"), b"{").unwrap();
    check(d.path(), "tokenizer.json is not a tokenizer");

    let d = fresh();
    std::fs::write(d.path().join("config.json"), b"{\"hidden_size\": 16}").unwrap();
    check(d.path(), "config.json is not a BERT configuration");

    let d = fresh();
    let mut c = config();
    c["num_attention_heads"] = json!(0);
    std::fs::write(d.path().join("config.json"), c.to_string()).unwrap();
    check(d.path(), "num_attention_heads 0");

    let d = fresh();
    let mut c = config();
    c["num_hidden_layers"] = json!(3);
    std::fs::write(d.path().join("config.json"), c.to_string()).unwrap();
    check(d.path(), "model.safetensors does not fit config.json");
}

#[tokio::test]
async fn the_configuration_builds_it_from_its_folder() {
    let (dir, _) = tiny();
    let config = ModelConfig {
        provider: "local-embedding".into(),
        model: "tiny-bert".into(),
        path: Some(dir.path().to_path_buf()),
        ..ModelConfig::default()
    };
    let model = embedding_from_config(&config).unwrap();
    assert_eq!(model.name(), "local-embedding/tiny-bert");
    assert_eq!(model.dimensions(), HIDDEN);
    assert_eq!(
        model.embed(&texts(&["sales"])).await.unwrap()[0].len(),
        HIDDEN
    );

    let broken = ModelConfig {
        path: Some(dir.path().join("missing")),
        ..config
    };
    let e = embedding_from_config(&broken).unwrap_err();
    assert!(matches!(e, Error::ModelFile { .. }), "{e}");
}
