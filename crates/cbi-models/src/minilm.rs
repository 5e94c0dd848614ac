//! Sentence embeddings in-process: all-MiniLM-L6-v2, or any BERT encoder whose sentence vector
//! is the mean of its token vectors, run with candle on the CPU.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use cbi_types::EmbeddingModel;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::error::{Error, Result};

/// The longest input, in tokens, that is read; the rest of a longer text is dropped. It is the
/// length sentence-transformers uses for all-MiniLM-L6-v2 (its tokenizer file says 128), and
/// never more than the model's position table.
pub const MAX_TOKENS: usize = 256;

/// Texts per forward pass: enough to use the matrix kernels well, few enough that a batch of
/// long texts stays small in memory.
const BATCH: usize = 32;

/// The files a model folder holds, as the hub and `cargo xtask models` lay them out.
const WEIGHTS: &str = "model.safetensors";
const TOKENIZER: &str = "tokenizer.json";
const CONFIG: &str = "config.json";

/// A BERT sentence encoder loaded from a folder holding `model.safetensors`, `tokenizer.json`
/// and `config.json` (what `cargo xtask models --only minilm` writes).
///
/// A sentence's vector is the mean of its token vectors, counting only real tokens (the
/// attention mask), scaled to unit length, so a text embeds the same alone or in a batch of
/// longer ones, and a dot product is a cosine. Texts run in batches of 32 and are cut at
/// [`MAX_TOKENS`] tokens.
#[derive(Clone)]
pub struct MiniLm {
    inner: Arc<Inner>,
    name: String,
}

struct Inner {
    model: BertModel,
    tokenizer: Tokenizer,
    dimensions: usize,
    device: Device,
    name: String,
}

impl fmt::Debug for MiniLm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MiniLm")
            .field("name", &self.name)
            .field("dimensions", &self.inner.dimensions)
            .finish_non_exhaustive()
    }
}

impl MiniLm {
    /// Loads the model in `dir`, checking what it can before any text runs: a missing or
    /// malformed file is an [`Error::ModelFile`], never a panic later.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let bad = |message: String| Error::ModelFile {
            path: dir.to_path_buf(),
            message,
        };
        if !dir.is_dir() {
            return Err(bad("not a folder".into()));
        }
        let read = |name: &str| {
            std::fs::read(dir.join(name)).map_err(|e| bad(format!("cannot read {name}: {e}")))
        };

        let config: Config = serde_json::from_slice(&read(CONFIG)?)
            .map_err(|e| bad(format!("{CONFIG} is not a BERT configuration: {e}")))?;
        let heads = config.num_attention_heads;
        if config.hidden_size == 0 || heads == 0 || config.hidden_size % heads != 0 {
            return Err(bad(format!(
                "{CONFIG}: hidden_size {} is not a positive multiple of num_attention_heads {heads}",
                config.hidden_size
            )));
        }
        if config.max_position_embeddings < 4 {
            return Err(bad(format!(
                "{CONFIG}: max_position_embeddings must be at least 4"
            )));
        }

        let mut tokenizer = Tokenizer::from_bytes(read(TOKENIZER)?)
            .map_err(|e| bad(format!("{TOKENIZER} is not a tokenizer: {e}")))?;
        // The file may pad every text to a fixed length (128 for MiniLM): pad each batch only
        // to its longest text instead, which is the same after masked pooling and faster.
        let padding = match tokenizer.get_padding() {
            Some(p) => PaddingParams {
                strategy: PaddingStrategy::BatchLongest,
                ..p.clone()
            },
            None => PaddingParams {
                pad_id: u32::try_from(config.pad_token_id).unwrap_or(0),
                ..PaddingParams::default()
            },
        };
        tokenizer.with_padding(Some(padding));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS.min(config.max_position_embeddings),
                ..TruncationParams::default()
            }))
            .map_err(|e| bad(format!("{TOKENIZER}: {e}")))?;

        let device = Device::Cpu;
        let tensors = candle_core::safetensors::load_buffer(&read(WEIGHTS)?, &device)
            .map_err(|e| bad(format!("{WEIGHTS} is not a safetensors file: {e}")))?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let model = BertModel::load(vb, &config)
            .map_err(|e| bad(format!("{WEIGHTS} does not fit {CONFIG}: {e}")))?;

        let name = format!(
            "local-embedding/{}",
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "bert".into())
        );
        Ok(MiniLm {
            inner: Arc::new(Inner {
                model,
                tokenizer,
                dimensions: config.hidden_size,
                device,
                name: name.clone(),
            }),
            name,
        })
    }

    /// The same model under another name (`local-embedding/all-MiniLM-L6-v2`).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.name = self.name.clone();
        }
        self
    }

    /// [`EmbeddingModel::embed`] on the calling thread, for callers without an async runtime
    /// (benchmarks, command-line tools). It keeps the thread busy for the whole computation.
    pub fn embed_blocking(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        self.inner.embed(texts)
    }
}

impl Inner {
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(BATCH) {
            out.extend(self.embed_batch(batch)?);
        }
        Ok(out)
    }

    fn embed_batch(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let failed = |message: String| Error::Local {
            model: self.name.clone(),
            message,
        };
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| failed(format!("tokenizing: {e}")))?;
        let (n, len) = (encodings.len(), encodings.first().map_or(0, |e| e.len()));
        if n == 0 {
            return Ok(Vec::new());
        }
        let (mut ids, mut types, mut mask) = (
            Vec::with_capacity(n * len),
            Vec::with_capacity(n * len),
            Vec::with_capacity(n * len),
        );
        for e in &encodings {
            if e.len() != len {
                return Err(failed("the tokenizer padded a batch unevenly".into()));
            }
            ids.extend_from_slice(e.get_ids());
            types.extend_from_slice(e.get_type_ids());
            mask.extend_from_slice(e.get_attention_mask());
        }
        self.pool(ids, types, mask, (n, len))
            .map_err(|e| failed(e.to_string()))
    }

    /// Runs the encoder and averages each text's token vectors over its real tokens, then
    /// scales the average to unit length.
    fn pool(
        &self,
        ids: Vec<u32>,
        types: Vec<u32>,
        mask: Vec<u32>,
        shape: (usize, usize),
    ) -> candle_core::Result<Vec<Vec<f32>>> {
        let ids = Tensor::from_vec(ids, shape, &self.device)?;
        let types = Tensor::from_vec(types, shape, &self.device)?;
        let mask = Tensor::from_vec(mask, shape, &self.device)?;
        // (batch, tokens, hidden)
        let hidden = self.model.forward(&ids, &types, Some(&mask))?;
        let weights = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&weights)?.sum(1)?;
        let counts = weights.sum(1)?.clamp(1e-9, f64::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        mean.broadcast_div(&norms)?.to_vec2::<f32>()
    }
}

#[async_trait]
impl EmbeddingModel for MiniLm {
    fn name(&self) -> &str {
        &self.name
    }

    fn dimensions(&self) -> usize {
        self.inner.dimensions
    }

    /// Runs on tokio's blocking pool when called inside a runtime, so the computation (a few
    /// milliseconds a text) does not stall other tasks; on the calling thread otherwise.
    async fn embed(&self, texts: &[String]) -> cbi_types::Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return Ok(self.inner.embed(texts)?);
        }
        let inner = self.inner.clone();
        let texts = texts.to_vec();
        let vectors = tokio::task::spawn_blocking(move || inner.embed(&texts))
            .await
            .map_err(|e| Error::Local {
                model: self.name.clone(),
                message: format!("the embedding task ended abnormally: {e}"),
            })??;
        Ok(vectors)
    }
}
