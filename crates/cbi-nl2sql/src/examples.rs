//! Retrieval of question→SQL examples for the model's prompt.
//!
//! [`ExampleStore`] holds the pairs a person vouched for — the semantic file's verified
//! queries, answers accepted as right — embedded by any [`EmbeddingModel`] and indexed in an
//! HNSW graph (`hnsw_rs`, cosine distance), and answers [`ExampleStore::find_similar`].
//! [`LexicalEmbedder`] is the zero-download embedder of the default build: word and character
//! trigram features hashed into a fixed-size vector, so "revenue by region" and "regional
//! revenue" land close without any model file. A sentence-embedding model (MiniLM) plugs in
//! through the same trait.

use std::sync::Arc;

use async_trait::async_trait;
use cbi_types::EmbeddingModel;
use hnsw_rs::prelude::{DistCosine, Hnsw};

/// Hashed lexical features: words (lowercase, a light plural fold) and the character trigrams
/// of each word, each feature signed by a second hash, L2-normalised.
#[derive(Debug, Clone)]
pub struct LexicalEmbedder {
    dims: usize,
}

impl Default for LexicalEmbedder {
    fn default() -> Self {
        LexicalEmbedder { dims: 512 }
    }
}

impl LexicalEmbedder {
    pub fn new(dims: usize) -> Self {
        LexicalEmbedder { dims: dims.max(8) }
    }

    /// The vector of one text (synchronous; the trait method wraps it).
    pub fn vector(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; self.dims];
        let mut add = |feature: &str, weight: f32| {
            let h = fnv(feature.as_bytes());
            let i = (h % self.dims as u64) as usize;
            let sign = if (h >> 63) & 1 == 1 { -1.0 } else { 1.0 };
            v[i] += sign * weight;
        };
        for word in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
        {
            let word = word
                .strip_suffix("ies")
                .map(|s| format!("{s}y"))
                .or_else(|| {
                    word.strip_suffix('s')
                        .filter(|s| s.len() > 2 && !s.ends_with('s'))
                        .map(str::to_string)
                })
                .unwrap_or(word);
            add(&format!("w:{word}"), 1.0);
            let chars: Vec<char> = format!("<{word}>").chars().collect();
            for t in chars.windows(3) {
                add(&format!("t:{}", t.iter().collect::<String>()), 0.35);
            }
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        v
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[async_trait]
impl EmbeddingModel for LexicalEmbedder {
    fn name(&self) -> &str {
        "lexical"
    }

    fn dimensions(&self) -> usize {
        self.dims
    }

    async fn embed(&self, texts: &[String]) -> cbi_types::Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|t| self.vector(t)).collect())
    }
}

/// A question with the SQL that answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub question: String,
    pub sql: String,
}

/// The HNSW graph's shape: neighbours kept per node, layers, and the breadth of the search
/// while building and querying; ample for the thousands of examples a database collects.
const MAX_CONNECTIONS: usize = 16;
const MAX_LAYERS: usize = 16;
const EF_CONSTRUCTION: usize = 200;
const EF_SEARCH: usize = 64;

/// Question→SQL examples, searchable by meaning.
pub struct ExampleStore {
    embedder: Arc<dyn EmbeddingModel>,
    examples: Vec<Example>,
    index: Hnsw<'static, f32, DistCosine>,
}

impl std::fmt::Debug for ExampleStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExampleStore")
            .field("embedder", &self.embedder.name())
            .field("examples", &self.examples.len())
            .finish_non_exhaustive()
    }
}

impl ExampleStore {
    /// An empty store that embeds with `embedder`, sized for about `capacity` examples (it
    /// grows past that, more slowly).
    pub fn new(embedder: Arc<dyn EmbeddingModel>, capacity: usize) -> Self {
        ExampleStore {
            embedder,
            examples: Vec::new(),
            index: Hnsw::new(
                MAX_CONNECTIONS,
                capacity.max(16),
                MAX_LAYERS,
                EF_CONSTRUCTION,
                DistCosine {},
            ),
        }
    }

    pub fn len(&self) -> usize {
        self.examples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// Adds examples (a vector of a wrong length, which a faulty embedder could return, is
    /// skipped rather than indexed).
    pub async fn add(&mut self, examples: Vec<Example>) -> cbi_types::Result<()> {
        if examples.is_empty() {
            return Ok(());
        }
        let texts: Vec<String> = examples.iter().map(|e| e.question.clone()).collect();
        let vectors = self.embedder.embed(&texts).await?;
        let dims = self.embedder.dimensions();
        for (example, v) in examples.into_iter().zip(vectors) {
            if v.len() != dims || v.iter().all(|x| *x == 0.0) {
                continue;
            }
            let id = self.examples.len();
            self.index.insert((&v, id));
            self.examples.push(example);
        }
        Ok(())
    }

    /// The `k` examples whose questions are most like `question`, most similar first, with
    /// their cosine similarity.
    pub async fn find_similar(
        &self,
        question: &str,
        k: usize,
    ) -> cbi_types::Result<Vec<(f32, &Example)>> {
        if self.examples.is_empty() || k == 0 {
            return Ok(Vec::new());
        }
        let v = self
            .embedder
            .embed(&[question.to_string()])
            .await?
            .pop()
            .unwrap_or_default();
        if v.len() != self.embedder.dimensions() || v.iter().all(|x| *x == 0.0) {
            return Ok(Vec::new());
        }
        let mut found: Vec<(f32, &Example)> = self
            .index
            .search(&v, k, EF_SEARCH.max(k))
            .into_iter()
            .filter_map(|n| self.examples.get(n.d_id).map(|e| (1.0 - n.distance, e)))
            .collect();
        found.sort_by(|a, b| b.0.total_cmp(&a.0));
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn related_wordings_are_closer_than_unrelated_ones() {
        let e = LexicalEmbedder::default();
        let a = e.vector("total revenue by region");
        let b = e.vector("What is the revenue for each region?");
        let c = e.vector("How many employees joined last year?");
        assert!(
            cos(&a, &b) > cos(&a, &c) + 0.2,
            "{} vs {}",
            cos(&a, &b),
            cos(&a, &c)
        );
        assert!((cos(&a, &a) - 1.0).abs() < 1e-5);
        assert!(e.vector("").iter().all(|x| *x == 0.0));
    }

    #[tokio::test]
    async fn the_store_finds_the_nearest_questions() {
        let mut store = ExampleStore::new(Arc::new(LexicalEmbedder::default()), 100);
        let pairs = [
            ("What was total revenue by region in 2024?", "SELECT 1"),
            ("How many customers signed up each month?", "SELECT 2"),
            ("Which products were returned most often?", "SELECT 3"),
            ("Average order value by sales channel", "SELECT 4"),
        ];
        store
            .add(
                pairs
                    .iter()
                    .map(|(q, s)| Example {
                        question: (*q).into(),
                        sql: (*s).into(),
                    })
                    .collect(),
            )
            .await
            .unwrap();
        assert_eq!(store.len(), 4);
        let found = store
            .find_similar("revenue per region last year", 2)
            .await
            .unwrap();
        assert_eq!(found[0].1.sql, "SELECT 1");
        assert!(found[0].0 > found[1].0);
        let found = store
            .find_similar("most returned products", 1)
            .await
            .unwrap();
        assert_eq!(found[0].1.sql, "SELECT 3");
        assert!(store.find_similar("", 3).await.unwrap().is_empty());
    }
}
