//! A GGUF v3 writer and a tiny random `llama` model, so cbi-models' local provider (and the
//! engine's `local:` specs) are tested against a real llama.cpp model without downloading one.
//!
//! The format (ggml's `docs/gguf.md`): magic `GGUF`, version, tensor count, metadata count,
//! the metadata (key, type, value), the tensor infos (name, dimensions with the fastest-varying
//! first, type, offset into the data), padding to the alignment, and the tensor data, each
//! tensor starting at a multiple of the alignment. Everything little-endian.
//!
//! The model follows what llama.cpp's `llama` architecture reads (`src/models/llama.cpp` and
//! `llama_model_base::load_hparams`); the tokenizer is GPT-2 style byte-level BPE
//! (`tokenizer.ggml.model = "gpt2"`, llama-vocab.cpp), whose 256 byte tokens can spell any
//! text, plus a few merges and the ChatML control tokens.

use std::path::Path;

const ALIGNMENT: usize = 32;

enum Value {
    U32(u32),
    F32(f32),
    Bool(bool),
    Str(String),
    Strs(Vec<String>),
    I32s(Vec<i32>),
}

impl Value {
    fn type_id(&self) -> u32 {
        match self {
            Value::U32(_) => 4,
            Value::F32(_) => 6,
            Value::Bool(_) => 7,
            Value::Str(_) => 8,
            Value::Strs(_) | Value::I32s(_) => 9,
        }
    }
}

struct Tensor {
    name: String,
    /// ggml order: the fastest-varying dimension first.
    dims: Vec<u64>,
    data: Vec<f32>,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::U32(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::F32(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::Bool(x) => out.push(u8::from(*x)),
        Value::Str(s) => put_str(out, s),
        Value::Strs(items) => {
            out.extend_from_slice(&8u32.to_le_bytes());
            out.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for s in items {
                put_str(out, s);
            }
        }
        Value::I32s(items) => {
            out.extend_from_slice(&5u32.to_le_bytes());
            out.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for x in items {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
    }
}

fn pad(out: &mut Vec<u8>) {
    while out.len() % ALIGNMENT != 0 {
        out.push(0);
    }
}

fn gguf(metadata: &[(&str, Value)], tensors: &[Tensor]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"GGUF");
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&(tensors.len() as u64).to_le_bytes());
    out.extend_from_slice(&(metadata.len() as u64).to_le_bytes());
    for (key, value) in metadata {
        put_str(&mut out, key);
        out.extend_from_slice(&value.type_id().to_le_bytes());
        put_value(&mut out, value);
    }
    let mut offset = 0usize;
    for t in tensors {
        assert_eq!(
            t.dims.iter().product::<u64>() as usize,
            t.data.len(),
            "{}",
            t.name
        );
        put_str(&mut out, &t.name);
        out.extend_from_slice(&(t.dims.len() as u32).to_le_bytes());
        for d in &t.dims {
            out.extend_from_slice(&d.to_le_bytes());
        }
        out.extend_from_slice(&0u32.to_le_bytes()); // GGML_TYPE_F32
        out.extend_from_slice(&(offset as u64).to_le_bytes());
        offset += (t.data.len() * 4).next_multiple_of(ALIGNMENT);
    }
    pad(&mut out);
    for t in tensors {
        for x in &t.data {
            out.extend_from_slice(&x.to_le_bytes());
        }
        pad(&mut out);
    }
    out
}

/// splitmix64: fixed-seed weights without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [-scale, scale).
    fn weights(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n)
            .map(|_| ((self.next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale)
            .collect()
    }
}

/// GPT-2's printable stand-in for each byte (`bytes_to_unicode`), which byte-level BPE
/// vocabularies store instead of the raw byte.
fn byte_token(b: u8) -> String {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xa1..=0xac | 0xae..=0xff);
    if printable(b) {
        char::from(b).to_string()
    } else {
        let n = (0..b).filter(|&x| !printable(x)).count() as u32;
        char::from_u32(256 + n)
            .map(String::from)
            .unwrap_or_default()
    }
}

pub const N_EMBD: usize = 32;
const N_LAYER: usize = 2;
const N_HEAD: usize = 4;
const N_HEAD_KV: usize = 2;
const N_FF: usize = 64;
pub const N_CTX_TRAIN: u32 = 1024;

/// Multi-byte tokens, so prompts are not only single bytes: (left, right) in merge order.
const MERGES: &[(&str, &str)] = &[
    ("S", "E"),
    ("L", "E"),
    ("C", "T"),
    ("SE", "LE"),
    ("SELE", "CT"),
    ("Ġ", "t"),
    ("Ġt", "h"),
    ("Ġth", "e"),
];

/// The ChatML control tokens; `<|im_end|>` is the end-of-generation token.
pub const SPECIALS: &[&str] = &["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

/// Writes a tiny random `llama` model (2 layers, 32 wide, grouped-query attention, a 267-token
/// byte-level vocabulary) to `path`. `chat_template` goes to `tokenizer.chat_template` when
/// given. The output rows of the control tokens are zero and every other logit is spread
/// wide, so a random model almost never ends by itself: tests control the length.
pub fn write_tiny_llama(
    path: &Path,
    seed: u64,
    chat_template: Option<&str>,
) -> std::io::Result<()> {
    let mut tokens: Vec<String> = (0..=255u8).map(byte_token).collect();
    tokens.extend(MERGES.iter().map(|(a, b)| format!("{a}{b}")));
    let first_special = tokens.len();
    tokens.extend(SPECIALS.iter().map(|s| s.to_string()));
    let n_vocab = tokens.len();
    let mut types = vec![1i32; n_vocab]; // NORMAL
    for t in &mut types[first_special..] {
        *t = 3; // CONTROL
    }
    let id = |s: &str| (first_special + SPECIALS.iter().position(|x| *x == s).unwrap_or(0)) as u32;

    let mut metadata = vec![
        ("general.architecture", Value::Str("llama".into())),
        ("general.name", Value::Str("tiny-random-llama".into())),
        ("general.alignment", Value::U32(ALIGNMENT as u32)),
        ("llama.context_length", Value::U32(N_CTX_TRAIN)),
        ("llama.embedding_length", Value::U32(N_EMBD as u32)),
        ("llama.block_count", Value::U32(N_LAYER as u32)),
        ("llama.feed_forward_length", Value::U32(N_FF as u32)),
        ("llama.attention.head_count", Value::U32(N_HEAD as u32)),
        (
            "llama.attention.head_count_kv",
            Value::U32(N_HEAD_KV as u32),
        ),
        ("llama.attention.layer_norm_rms_epsilon", Value::F32(1e-5)),
        (
            "llama.rope.dimension_count",
            Value::U32((N_EMBD / N_HEAD) as u32),
        ),
        ("llama.rope.freq_base", Value::F32(10_000.0)),
        ("llama.vocab_size", Value::U32(n_vocab as u32)),
        ("tokenizer.ggml.model", Value::Str("gpt2".into())),
        ("tokenizer.ggml.pre", Value::Str("default".into())),
        ("tokenizer.ggml.tokens", Value::Strs(tokens)),
        ("tokenizer.ggml.token_type", Value::I32s(types)),
        (
            "tokenizer.ggml.merges",
            Value::Strs(MERGES.iter().map(|(a, b)| format!("{a} {b}")).collect()),
        ),
        (
            "tokenizer.ggml.bos_token_id",
            Value::U32(id("<|endoftext|>")),
        ),
        ("tokenizer.ggml.eos_token_id", Value::U32(id("<|im_end|>"))),
        ("tokenizer.ggml.add_bos_token", Value::Bool(false)),
    ];
    if let Some(t) = chat_template {
        metadata.push(("tokenizer.chat_template", Value::Str(t.into())));
    }

    let mut rng = Rng(seed);
    let n_kv = N_EMBD / N_HEAD * N_HEAD_KV;
    let attn = 1.0 / (N_EMBD as f32).sqrt();
    let t = |name: String, dims: &[usize], data: Vec<f32>| Tensor {
        name,
        dims: dims.iter().map(|&d| d as u64).collect(),
        data,
    };
    let mut output = rng.weights(N_EMBD * n_vocab, 0.6);
    output[first_special * N_EMBD..].fill(0.0);
    let mut tensors = vec![
        t(
            "token_embd.weight".into(),
            &[N_EMBD, n_vocab],
            rng.weights(N_EMBD * n_vocab, 1.0),
        ),
        t("output_norm.weight".into(), &[N_EMBD], vec![1.0; N_EMBD]),
        t("output.weight".into(), &[N_EMBD, n_vocab], output),
    ];
    for l in 0..N_LAYER {
        let b = |s: &str| format!("blk.{l}.{s}.weight");
        tensors.extend([
            t(b("attn_norm"), &[N_EMBD], vec![1.0; N_EMBD]),
            t(
                b("attn_q"),
                &[N_EMBD, N_EMBD],
                rng.weights(N_EMBD * N_EMBD, attn),
            ),
            t(
                b("attn_k"),
                &[N_EMBD, n_kv],
                rng.weights(N_EMBD * n_kv, attn),
            ),
            t(
                b("attn_v"),
                &[N_EMBD, n_kv],
                rng.weights(N_EMBD * n_kv, attn),
            ),
            t(
                b("attn_output"),
                &[N_EMBD, N_EMBD],
                rng.weights(N_EMBD * N_EMBD, attn),
            ),
            t(b("ffn_norm"), &[N_EMBD], vec![1.0; N_EMBD]),
            t(
                b("ffn_gate"),
                &[N_EMBD, N_FF],
                rng.weights(N_EMBD * N_FF, attn),
            ),
            t(
                b("ffn_up"),
                &[N_EMBD, N_FF],
                rng.weights(N_EMBD * N_FF, attn),
            ),
            t(
                b("ffn_down"),
                &[N_FF, N_EMBD],
                rng.weights(N_FF * N_EMBD, attn),
            ),
        ]);
    }
    std::fs::write(path, gguf(&metadata, &tensors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_tokens_are_gpt2s() {
        assert_eq!(byte_token(b'A'), "A");
        assert_eq!(byte_token(b' '), "Ġ");
        assert_eq!(byte_token(b'\n'), "Ċ");
        assert_eq!(byte_token(0), "Ā");
        let all: std::collections::HashSet<String> = (0..=255u8).map(byte_token).collect();
        assert_eq!(all.len(), 256);
    }

    #[test]
    fn the_file_is_laid_out_as_gguf_v3_and_depends_only_on_the_seed() {
        let dir = std::env::temp_dir().join(format!("cbi-testkit-gguf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let write = |name: &str, seed: u64| {
            let path = dir.join(name);
            write_tiny_llama(&path, seed, None).expect("write");
            std::fs::read(&path).expect("read")
        };
        let (a, b, c) = (write("a.gguf", 1), write("b.gguf", 1), write("c.gguf", 2));
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(&a[..4], b"GGUF");
        assert_eq!(a[4..8], 3u32.to_le_bytes());
        let tensors = 3 + 9 * N_LAYER as u64;
        assert_eq!(a[8..16], tensors.to_le_bytes());
        assert_eq!(a.len() % ALIGNMENT, 0);
        assert!(a == b && a != c);
    }
}
