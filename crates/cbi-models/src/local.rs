//! An in-process GGUF model through llama.cpp (the `llama-cpp-2` crate), behind the `local`
//! feature.
//!
//! One model file is one [`LocalGguf`]: a worker thread owns the llama.cpp model and a single
//! context (its KV cache), and answers requests one at a time, so the async caller never
//! blocks on inference and a dropped caller stops the generation it asked for. The worker
//! keeps the tokens that are in the KV cache and, on the next request, evaluates only what
//! follows the longest prefix the new prompt shares with them: the second question on one
//! schema pays for its own tokens, not for the schema again.
//!
//! Prompts go through the chat template stored in the GGUF; a model without one (or with one
//! llama.cpp does not know) gets ChatML. Sampling is greedy at temperature 0 (or unset) and
//! seeded otherwise; a request's GBNF grammar masks every token that would leave it. Several
//! choices (`n`) share the evaluated prompt in the KV cache and are decoded side by side, one
//! batch a step.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::num::NonZeroU32;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak, mpsc as std_mpsc};
use std::time::Instant;

use async_trait::async_trait;
use cbi_types::{
    ChatMessage, ChatRole, Completion, CompletionRequest, FinishReason, LanguageModel, TokenUsage,
};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use tokio::sync::mpsc;

use crate::error::{Error, Result};

const PROVIDER: &str = "gguf";

/// The temperature of the second and later choices when a request asks for several at
/// temperature 0: greedy decoding would give the same text n times.
pub const DIVERSE_TEMPERATURE: f32 = 0.7;

/// The most choices decoded side by side in one batch; a request for more gets them one after
/// another.
/// On a CPU one batch of several tokens costs little more than one token (the weights are read
/// once), so a vote's candidates come at nearly the price of one.
const PARALLEL_CHOICES: usize = 8;

/// How a [`LocalGguf`] runs. Build with `..Default::default()`.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalOptions {
    /// CPU threads for llama.cpp; `None` uses every core the process may run on.
    pub threads: Option<usize>,
    /// Tokens the context (prompt and answer together) holds; never more than the model
    /// was trained on.
    pub context_size: u32,
    /// Tokens evaluated per llama.cpp batch while reading a prompt.
    pub batch_size: u32,
    /// Answer length when a request leaves `max_tokens` unset.
    pub max_tokens: u32,
    /// Temperature when a request leaves it unset; `None` is greedy.
    pub temperature: Option<f32>,
    /// Seed of the sampler. Requests draw their seeds from it in order, so a process that
    /// sends the same requests in the same order gets the same answers.
    pub seed: u32,
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions {
            threads: None,
            context_size: 4096,
            batch_size: 512,
            max_tokens: 512,
            temperature: None,
            seed: 0x5eed,
        }
    }
}

/// What a [`LocalGguf`] has done since it was loaded, for benchmarks, logs and tests.
///
/// `prompt_tokens = reused_tokens + evaluated_tokens`: the reused ones were already in the KV
/// cache from an earlier request that shared the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LocalStats {
    pub requests: u64,
    /// Prompt tokens of every request, all of them.
    pub prompt_tokens: u64,
    /// Prompt tokens found in the KV cache and not evaluated again.
    pub reused_tokens: u64,
    /// Prompt tokens evaluated.
    pub evaluated_tokens: u64,
    /// Tokens generated, every choice together.
    pub generated_tokens: u64,
    /// Time spent evaluating prompts, in microseconds.
    pub prompt_micros: u64,
    /// Time spent generating, in microseconds.
    pub generation_micros: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    prompt_tokens: AtomicU64,
    reused_tokens: AtomicU64,
    evaluated_tokens: AtomicU64,
    generated_tokens: AtomicU64,
    prompt_micros: AtomicU64,
    generation_micros: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64, n: impl TryInto<u64>) {
        counter.fetch_add(n.try_into().unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    fn snapshot(&self) -> LocalStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        LocalStats {
            requests: get(&self.requests),
            prompt_tokens: get(&self.prompt_tokens),
            reused_tokens: get(&self.reused_tokens),
            evaluated_tokens: get(&self.evaluated_tokens),
            generated_tokens: get(&self.generated_tokens),
            prompt_micros: get(&self.prompt_micros),
            generation_micros: get(&self.generation_micros),
        }
    }
}

/// A GGUF language model run in this process by llama.cpp.
///
/// Loading reads the whole file (mapped) and takes seconds for a 1 GB model; share one
/// instance, or use [`LocalGguf::shared`], which hands out the model already loaded from the
/// same file with the same options. Requests are answered one at a time, in order.
pub struct LocalGguf {
    name: String,
    path: PathBuf,
    options: LocalOptions,
    context_size: u32,
    jobs: std_mpsc::Sender<Job>,
    counters: Arc<Counters>,
}

impl fmt::Debug for LocalGguf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalGguf")
            .field("name", &self.name)
            .field("path", &self.path)
            .field("context_size", &self.context_size)
            .finish_non_exhaustive()
    }
}

enum Job {
    Complete {
        request: CompletionRequest,
        stream: bool,
        events: mpsc::UnboundedSender<Event>,
    },
    Render {
        messages: Vec<ChatMessage>,
        reply: mpsc::UnboundedSender<Result<String>>,
    },
}

enum Event {
    Delta(String),
    Done(Result<Completion>),
}

/// llama.cpp's process-wide state: initialised once, never freed.
fn backend() -> Result<&'static LlamaBackend> {
    static BACKEND: OnceLock<std::result::Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            // llama.cpp logs every tensor it loads; send that to tracing instead of stderr.
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Local {
            model: "llama.cpp".into(),
            message: format!("cannot start the llama.cpp backend: {e}"),
        })
}

/// Checks what llama.cpp would otherwise assert on or misreport: the file is there, readable,
/// and starts with the GGUF magic.
fn check_file(path: &Path) -> Result<()> {
    let fail = |message: String| Error::ModelFile {
        path: path.to_path_buf(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail("not a file".into()));
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .map_err(|e| fail(format!("cannot read it: {e}")))?;
    if &magic != b"GGUF" {
        return Err(fail(
            "not a GGUF file (its first bytes are not `GGUF`)".into(),
        ));
    }
    if path.to_str().is_none() {
        return Err(fail("llama.cpp needs a path that is valid UTF-8".into()));
    }
    Ok(())
}

impl LocalGguf {
    /// Loads a GGUF model file and starts its worker thread.
    ///
    /// Fails, without panicking, when the file is missing, is not GGUF, or is a GGUF file
    /// llama.cpp cannot load (unknown architecture, truncated data); llama.cpp's own reason
    /// goes to the `tracing` log.
    pub fn load(path: impl AsRef<Path>, options: LocalOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        check_file(&path)?;
        let backend = backend()?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into());
        let name = format!("local/{stem}");
        let counters = Arc::new(Counters::default());
        let (jobs, inbox) = std_mpsc::channel();
        let (ready_tx, ready) = std_mpsc::sync_channel(1);
        let worker = Worker {
            backend,
            path: path.clone(),
            model_name: stem,
            options: options.clone(),
            counters: Arc::clone(&counters),
        };
        std::thread::Builder::new()
            .name(format!("cbi-gguf {}", name))
            .spawn(move || worker.run(inbox, ready_tx))
            .map_err(|e| Error::Local {
                model: name.clone(),
                message: format!("cannot start its worker thread: {e}"),
            })?;
        let context_size = ready.recv().map_err(|_| Error::Local {
            model: name.clone(),
            message: "the worker thread stopped while loading".into(),
        })??;
        tracing::info!(model = %name, context_size, "loaded GGUF model");
        Ok(LocalGguf {
            name,
            path,
            options,
            context_size,
            jobs,
            counters,
        })
    }

    /// The model already loaded from this file with these options, if any part of the process
    /// still holds it; else a fresh [`load`](Self::load). Loading a 1 GB file twice would cost
    /// seconds and double the memory.
    pub fn shared(path: impl AsRef<Path>, options: LocalOptions) -> Result<Arc<Self>> {
        type Loaded = HashMap<PathBuf, Vec<(LocalOptions, Weak<LocalGguf>)>>;
        static LOADED: OnceLock<Mutex<Loaded>> = OnceLock::new();
        let path = path.as_ref();
        check_file(path)?;
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        // Held while loading, so two callers asking at once load the file once.
        let mut loaded = LOADED
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entries = loaded.entry(key).or_default();
        entries.retain(|(_, model)| model.strong_count() > 0);
        if let Some(model) = entries
            .iter()
            .find(|(o, _)| *o == options)
            .and_then(|(_, m)| m.upgrade())
        {
            return Ok(model);
        }
        let model = Arc::new(Self::load(path, options.clone())?);
        entries.push((options, Arc::downgrade(&model)));
        Ok(model)
    }

    /// The file this model was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The options it was loaded with.
    pub fn options(&self) -> &LocalOptions {
        &self.options
    }

    /// Tokens its context holds, prompt and answer together.
    pub fn context_size(&self) -> u32 {
        self.context_size
    }

    /// Counts since loading: prompt tokens evaluated and reused, tokens generated, time spent.
    pub fn stats(&self) -> LocalStats {
        self.counters.snapshot()
    }

    /// The text the model is given for these messages: the GGUF's chat template applied, with
    /// the opening of the assistant's turn at the end.
    pub async fn prompt(&self, messages: &[ChatMessage]) -> Result<String> {
        let (reply, mut answer) = mpsc::unbounded_channel();
        self.send(Job::Render {
            messages: messages.to_vec(),
            reply,
        })?;
        answer.recv().await.unwrap_or_else(|| Err(self.stopped()))
    }

    fn send(&self, job: Job) -> Result<()> {
        self.jobs.send(job).map_err(|_| self.stopped())
    }

    fn stopped(&self) -> Error {
        Error::Local {
            model: self.name.clone(),
            message: "its worker thread has stopped".into(),
        }
    }

    async fn run(
        &self,
        request: &CompletionRequest,
        mut on_delta: Option<&mut (dyn for<'s> FnMut(&'s str) + Send)>,
    ) -> Result<Completion> {
        let (events, mut inbox) = mpsc::unbounded_channel();
        self.send(Job::Complete {
            request: request.clone(),
            stream: on_delta.is_some(),
            events,
        })?;
        while let Some(event) = inbox.recv().await {
            match event {
                Event::Delta(text) => {
                    if let Some(f) = on_delta.as_mut() {
                        f(&text);
                    }
                }
                Event::Done(result) => return result,
            }
        }
        Err(self.stopped())
    }
}

#[async_trait]
impl LanguageModel for LocalGguf {
    fn name(&self) -> &str {
        &self.name
    }

    async fn complete(&self, request: &CompletionRequest) -> cbi_types::Result<Completion> {
        Ok(self.run(request, None).await?)
    }

    async fn complete_streaming(
        &self,
        request: &CompletionRequest,
        on_delta: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> cbi_types::Result<Completion> {
        Ok(self.run(request, Some(on_delta)).await?)
    }
}

/// What the worker thread needs to load the model.
struct Worker {
    backend: &'static LlamaBackend,
    path: PathBuf,
    model_name: String,
    options: LocalOptions,
    counters: Arc<Counters>,
}

impl Worker {
    fn run(self, inbox: std_mpsc::Receiver<Job>, ready: std_mpsc::SyncSender<Result<u32>>) {
        let model = match LlamaModel::load_from_file(
            self.backend,
            &self.path,
            &LlamaModelParams::default(),
        ) {
            Ok(model) => model,
            Err(e) => {
                let _ = ready.send(Err(Error::ModelFile {
                    path: self.path.clone(),
                    message: format!(
                        "llama.cpp cannot load it ({e}): an architecture it does not know, or a \
                         damaged or truncated file; its debug log says which"
                    ),
                }));
                return;
            }
        };
        let mut runner = match Runner::new(&self, &model) {
            Ok(runner) => runner,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        if ready.send(Ok(runner.n_ctx)).is_err() {
            return;
        }
        // Ends when the last sender (the LocalGguf) is dropped; the model and context are
        // freed with this frame.
        while let Ok(job) = inbox.recv() {
            match job {
                Job::Render { messages, reply } => {
                    let _ = reply.send(runner.render(&messages));
                }
                Job::Complete {
                    request,
                    stream,
                    events,
                } => {
                    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        runner.complete(&request, stream, &events)
                    }));
                    let result = outcome.unwrap_or_else(|panic| {
                        // The KV cache may hold anything now: start it afresh.
                        runner.forget();
                        let what = panic
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_default();
                        Err(runner.error(format!("inference panicked: {what}")))
                    });
                    let _ = events.send(Event::Done(result));
                }
            }
        }
    }
}

/// The model, its one context, and what that context's KV cache holds.
struct Runner<'m> {
    model: &'m LlamaModel,
    ctx: LlamaContext<'m>,
    /// The tokens in the KV cache of sequence 0, at positions 0, 1, 2…
    cached: Vec<LlamaToken>,
    template: Option<LlamaChatTemplate>,
    n_ctx: u32,
    n_batch: usize,
    options: LocalOptions,
    model_name: String,
    counters: Arc<Counters>,
    /// Requests answered, to derive each one's seed.
    served: u32,
}

impl<'m> Runner<'m> {
    fn new(worker: &Worker, model: &'m LlamaModel) -> Result<Self> {
        let options = &worker.options;
        let trained = model.n_ctx_train();
        let n_ctx = if trained > 0 {
            options.context_size.min(trained)
        } else {
            options.context_size
        }
        .max(16);
        let threads = options
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .clamp(1, i32::MAX as usize) as i32;
        let n_batch = options.batch_size.clamp(1, n_ctx);
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx))
            .with_n_batch(n_batch)
            .with_n_ubatch(n_batch)
            .with_n_seq_max(PARALLEL_CHOICES as u32)
            // One pool of cells for every sequence: the prompt, copied to each choice, is
            // stored once, and a single choice may use the whole context.
            .with_kv_unified(true)
            .with_n_threads(threads)
            .with_n_threads_batch(threads);
        let ctx = model
            .new_context(worker.backend, params)
            .map_err(|e| Error::Local {
                model: worker.model_name.clone(),
                message: format!(
                    "cannot create a context of {n_ctx} tokens ({e}); try a smaller context size"
                ),
            })?;
        let template = match model.chat_template(None) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::debug!(error = %e, "the GGUF has no chat template; using ChatML");
                None
            }
        };
        Ok(Runner {
            model,
            n_ctx: ctx.n_ctx(),
            n_batch: ctx.n_batch().max(1) as usize,
            ctx,
            cached: Vec::new(),
            template,
            options: options.clone(),
            model_name: worker.model_name.clone(),
            counters: Arc::clone(&worker.counters),
            served: 0,
        })
    }

    fn error(&self, message: impl Into<String>) -> Error {
        Error::Local {
            model: self.model_name.clone(),
            message: message.into(),
        }
    }

    fn invalid(&self, message: impl Into<String>) -> Error {
        Error::InvalidRequest {
            provider: PROVIDER,
            message: message.into(),
        }
    }

    /// Empties the KV cache.
    fn forget(&mut self) {
        self.ctx.clear_kv_cache();
        self.cached.clear();
    }

    fn render(&self, messages: &[ChatMessage]) -> Result<String> {
        if let Some(template) = &self.template {
            let chat = messages
                .iter()
                .map(|m| LlamaChatMessage::new(role(m.role).into(), m.content.clone()))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|_| self.invalid("a message contains a NUL character"))?;
            match self.model.apply_chat_template(template, &chat, true) {
                Ok(prompt) => return Ok(prompt),
                Err(e) => tracing::debug!(
                    error = %e,
                    "llama.cpp does not know the GGUF's chat template; using ChatML"
                ),
            }
        }
        Ok(chatml(messages))
    }

    fn complete(
        &mut self,
        request: &CompletionRequest,
        stream: bool,
        events: &mpsc::UnboundedSender<Event>,
    ) -> Result<Completion> {
        // Reject a bad grammar before any work.
        if let Some(gbnf) = &request.grammar {
            self.grammar(gbnf)?;
        }
        let prompt = self.render(&request.messages)?;
        let tokens = self.model.vocab().tokenize(prompt.as_bytes(), true, true);
        if tokens.is_empty() {
            return Err(self.invalid("the prompt is empty"));
        }
        if tokens.len() >= self.n_ctx as usize {
            return Err(self.invalid(format!(
                "the prompt is {} tokens; the context holds {} (prompt and answer together)",
                tokens.len(),
                self.n_ctx
            )));
        }
        let started = Instant::now();
        let reused = self.evaluate_prompt(&tokens)?;
        let first_logits = self.ctx.get_logits_ith(-1).to_vec();
        let prompt_time = started.elapsed();

        let started = Instant::now();
        let n = request.n.unwrap_or(1).max(1);
        let max_tokens = request.max_tokens.unwrap_or(self.options.max_tokens);
        let temperature = request
            .temperature
            .or(self.options.temperature)
            .filter(|t| *t > 0.0);
        let seed = self
            .options
            .seed
            .wrapping_add(self.served.wrapping_mul(0x9e37_79b9));
        self.served = self.served.wrapping_add(1);
        let lanes: Vec<(Option<f32>, u32)> = (0..n)
            .map(|choice| {
                let temperature = match (temperature, choice) {
                    (Some(t), _) => Some(t),
                    (None, 0) => None,
                    (None, _) => Some(DIVERSE_TEMPERATURE),
                };
                (temperature, seed.wrapping_add(choice))
            })
            .collect();
        let sink = stream.then_some(events);
        let answers = if n > 1 {
            let choosing = Choosing {
                prompt: &tokens,
                first_logits: &first_logits,
                request,
                lanes: &lanes,
                sink,
                events,
            };
            self.generate_together(&choosing, max_tokens)?
        } else {
            None
        };
        let answers = match answers {
            Some(answers) => answers,
            // One choice, or several that do not fit side by side: one after another.
            None => {
                let mut answers = Vec::with_capacity(lanes.len());
                for (i, &(temperature, seed)) in lanes.iter().enumerate() {
                    answers.push(self.generate(
                        &tokens,
                        &first_logits,
                        request,
                        max_tokens,
                        temperature,
                        seed,
                        sink.filter(|_| i == 0),
                        events,
                    )?);
                }
                answers
            }
        };
        let generated: usize = answers.iter().map(|a| a.tokens).sum();
        let finish_reason = answers
            .first()
            .map_or(FinishReason::Stop, |a| a.finish_reason);
        let choices: Vec<String> = answers.into_iter().map(|a| a.text).collect();
        let generation_time = started.elapsed();

        let c = &self.counters;
        Counters::add(&c.requests, 1u64);
        Counters::add(&c.prompt_tokens, tokens.len());
        Counters::add(&c.reused_tokens, reused);
        Counters::add(&c.evaluated_tokens, tokens.len() - reused);
        Counters::add(&c.generated_tokens, generated);
        Counters::add(&c.prompt_micros, prompt_time.as_micros());
        Counters::add(&c.generation_micros, generation_time.as_micros());
        tracing::debug!(
            model = %self.model_name,
            prompt_tokens = tokens.len(),
            reused_tokens = reused,
            generated_tokens = generated,
            prompt_ms = prompt_time.as_millis() as u64,
            generation_ms = generation_time.as_millis() as u64,
            "local completion"
        );

        let text = choices.first().cloned().unwrap_or_default();
        Ok(Completion {
            text,
            choices: if n > 1 { choices } else { Vec::new() },
            usage: TokenUsage {
                prompt_tokens: u32::try_from(tokens.len()).unwrap_or(u32::MAX),
                completion_tokens: u32::try_from(generated).unwrap_or(u32::MAX),
            },
            model: self.model_name.clone(),
            finish_reason,
        })
    }

    /// Brings the KV cache to hold exactly `tokens`, evaluating only what follows the prefix it
    /// already holds, and leaves the last token's logits ready. Returns how many tokens were
    /// reused.
    fn evaluate_prompt(&mut self, tokens: &[LlamaToken]) -> Result<usize> {
        let shared = self
            .cached
            .iter()
            .zip(tokens)
            .take_while(|(a, b)| a == b)
            .count();
        // The last prompt token is always evaluated again: its logits are the first choice.
        let keep = shared.min(tokens.len() - 1);
        let kept = match self
            .ctx
            .clear_kv_cache_seq(Some(0), Some(keep as u32), None)
        {
            Ok(true) => keep,
            // A model whose memory cannot drop a tail (recurrent ones) starts afresh.
            _ => {
                self.ctx.clear_kv_cache();
                0
            }
        };
        self.cached.truncate(kept);
        if let Err(e) = self.feed(&tokens[kept..], kept) {
            self.forget();
            return Err(e);
        }
        Ok(kept)
    }

    /// Decodes `tokens` at positions `start..`, in batches, asking for the last one's logits.
    fn feed(&mut self, tokens: &[LlamaToken], start: usize) -> Result<()> {
        let mut batch = LlamaBatch::new(tokens.len().clamp(1, self.n_batch), 1);
        let last = tokens.len().saturating_sub(1);
        for (k, chunk) in tokens.chunks(self.n_batch).enumerate() {
            batch.clear();
            for (j, &token) in chunk.iter().enumerate() {
                let i = k * self.n_batch + j;
                let pos = i32::try_from(start + i).map_err(|_| self.error("position overflow"))?;
                batch
                    .add(token, pos, &[0], i == last)
                    .map_err(|e| self.error(e.to_string()))?;
            }
            self.ctx
                .decode(&mut batch)
                .map_err(|e| self.error(format!("llama.cpp could not evaluate the prompt: {e}")))?;
            self.cached.extend_from_slice(chunk);
        }
        Ok(())
    }

    fn grammar(&self, gbnf: &str) -> Result<LlamaSampler> {
        LlamaSampler::grammar(self.model, gbnf, "root").map_err(|e| {
            self.invalid(format!(
                "the GBNF grammar is invalid ({e}); it needs a `root` rule, and llama.cpp's log \
                 says where parsing failed"
            ))
        })
    }

    /// One choice: rolls the KV cache back to the end of the prompt, then samples until an
    /// end-of-generation token, a stop sequence, `max_tokens` or a full context.
    #[allow(clippy::too_many_arguments)]
    fn generate(
        &mut self,
        prompt: &[LlamaToken],
        first_logits: &[f32],
        request: &CompletionRequest,
        max_tokens: u32,
        temperature: Option<f32>,
        seed: u32,
        sink: Option<&mpsc::UnboundedSender<Event>>,
        events: &mpsc::UnboundedSender<Event>,
    ) -> Result<Answer> {
        if self.cached.len() > prompt.len() {
            if !matches!(
                self.ctx
                    .clear_kv_cache_seq(Some(0), Some(prompt.len() as u32), None),
                Ok(true)
            ) {
                // Cannot drop the previous choice: evaluate the prompt again.
                self.forget();
                self.feed(prompt, 0)?;
            }
            self.cached.truncate(prompt.len());
        }
        let mut grammar = request
            .grammar
            .as_deref()
            .map(|g| self.grammar(g))
            .transpose()?;
        let mut sampler = match temperature {
            None => LlamaSampler::greedy(),
            Some(t) => {
                LlamaSampler::chain_simple([LlamaSampler::temp(t), LlamaSampler::dist(seed)])
            }
        };
        let model = self.model;
        let vocab = model.vocab();
        let mut text = TextSink::new(&request.stop, sink);
        let mut utf8 = Utf8Stream::default();
        let mut logits = first_logits.to_vec();
        let mut piece = Vec::new();
        let mut produced = 0usize;
        let finish_reason = loop {
            // Prompt and answer together never pass the context.
            if produced >= max_tokens as usize || self.cached.len() >= self.n_ctx as usize {
                break FinishReason::Length;
            }
            if events.is_closed() {
                return Err(self.error("the caller went away; generation stopped"));
            }
            let token = self.pick(&logits, grammar.as_mut(), &mut sampler)?;
            if let Some(g) = grammar.as_mut() {
                g.try_accept(token)
                    .map_err(|e| self.error(format!("the grammar refused a token: {e}")))?;
            }
            sampler.accept(token);
            if vocab.is_eog(token) {
                break FinishReason::Stop;
            }
            produced += 1;
            piece.clear();
            vocab.token_to_piece_into(token, &mut piece, false, None);
            let mut decoded = String::new();
            utf8.push(&piece, &mut decoded);
            if text.push(&decoded) {
                break FinishReason::Stop;
            }
            if produced >= max_tokens as usize {
                break FinishReason::Length;
            }
            let pos = self.cached.len();
            self.feed(&[token], pos)?;
            logits.clear();
            logits.extend_from_slice(self.ctx.get_logits_ith(-1));
        };
        let mut rest = String::new();
        utf8.finish(&mut rest);
        if !text.stopped {
            text.push(&rest);
        }
        Ok(Answer {
            text: text.finish(),
            tokens: produced,
            finish_reason,
        })
    }

    /// Several choices decoded side by side: the prompt (sequence 0) is shared with sequences
    /// 1…n-1 in the KV cache, and each step decodes one token of every unfinished choice in a
    /// single batch. Choice 0 is streamed when `sink` is given. None, with the cache as it was,
    /// when the choices do not fit (more than [`PARALLEL_CHOICES`], or too little room left in
    /// the context for each): the caller then generates them one after another.
    fn generate_together(
        &mut self,
        choosing: &Choosing<'_>,
        max_tokens: u32,
    ) -> Result<Option<Vec<Answer>>> {
        let n = choosing.lanes.len();
        let start = choosing.prompt.len();
        // Every choice's tokens take cells of their own after the shared prompt.
        let room = (self.n_ctx as usize).saturating_sub(start) / n.max(1);
        let budget = (max_tokens as usize).min(room);
        if n > PARALLEL_CHOICES || budget == 0 {
            return Ok(None);
        }
        // Sequence 0 holds exactly the prompt; the others share it.
        if self.cached.len() > start {
            if !matches!(
                self.ctx
                    .clear_kv_cache_seq(Some(0), Some(start as u32), None),
                Ok(true)
            ) {
                return Ok(None);
            }
            self.cached.truncate(start);
        }
        for seq in 1..n {
            let _ = self.ctx.clear_kv_cache_seq(Some(seq as u32), None, None);
            if self
                .ctx
                .copy_kv_cache_seq(0, seq as i32, None, None)
                .is_err()
            {
                self.drop_choices(n, start);
                return Ok(None);
            }
        }
        let answers = self.decode_lanes(choosing, budget);
        self.drop_choices(n, start);
        answers.map(Some)
    }

    /// The decoding loop of [`Runner::generate_together`].
    fn decode_lanes(&mut self, choosing: &Choosing<'_>, budget: usize) -> Result<Vec<Answer>> {
        let Choosing {
            prompt,
            first_logits,
            request,
            lanes,
            sink,
            events,
        } = *choosing;
        struct Lane<'a> {
            sampler: LlamaSampler,
            grammar: Option<LlamaSampler>,
            text: TextSink<'a>,
            utf8: Utf8Stream,
            logits: Vec<f32>,
            produced: usize,
            finished: Option<FinishReason>,
        }
        let model = self.model;
        let vocab = model.vocab();
        let mut running = Vec::with_capacity(lanes.len());
        for (i, &(temperature, seed)) in lanes.iter().enumerate() {
            running.push(Lane {
                sampler: match temperature {
                    None => LlamaSampler::greedy(),
                    Some(t) => LlamaSampler::chain_simple([
                        LlamaSampler::temp(t),
                        LlamaSampler::dist(seed),
                    ]),
                },
                grammar: request
                    .grammar
                    .as_deref()
                    .map(|g| self.grammar(g))
                    .transpose()?,
                text: TextSink::new(&request.stop, sink.filter(|_| i == 0)),
                utf8: Utf8Stream::default(),
                logits: first_logits.to_vec(),
                produced: 0,
                finished: None,
            });
        }
        let mut batch = LlamaBatch::new(lanes.len(), 1);
        let mut rows = Vec::with_capacity(lanes.len());
        let mut piece = Vec::new();
        loop {
            if events.is_closed() {
                return Err(self.error("the caller went away; generation stopped"));
            }
            batch.clear();
            rows.clear();
            for (seq, lane) in running.iter_mut().enumerate() {
                if lane.finished.is_some() {
                    continue;
                }
                if lane.produced >= budget {
                    lane.finished = Some(FinishReason::Length);
                    continue;
                }
                let token = self.pick(&lane.logits, lane.grammar.as_mut(), &mut lane.sampler)?;
                if let Some(g) = lane.grammar.as_mut() {
                    g.try_accept(token)
                        .map_err(|e| self.error(format!("the grammar refused a token: {e}")))?;
                }
                lane.sampler.accept(token);
                if vocab.is_eog(token) {
                    lane.finished = Some(FinishReason::Stop);
                    continue;
                }
                lane.produced += 1;
                piece.clear();
                vocab.token_to_piece_into(token, &mut piece, false, None);
                let mut decoded = String::new();
                lane.utf8.push(&piece, &mut decoded);
                if lane.text.push(&decoded) {
                    lane.finished = Some(FinishReason::Stop);
                    continue;
                }
                if lane.produced >= budget {
                    lane.finished = Some(FinishReason::Length);
                    continue;
                }
                let pos = i32::try_from(prompt.len() + lane.produced - 1)
                    .map_err(|_| self.error("position overflow"))?;
                batch
                    .add(token, pos, &[seq as i32], true)
                    .map_err(|e| self.error(e.to_string()))?;
                rows.push(seq);
            }
            if rows.is_empty() {
                break;
            }
            self.ctx
                .decode(&mut batch)
                .map_err(|e| self.error(format!("llama.cpp could not decode: {e}")))?;
            for (row, &seq) in rows.iter().enumerate() {
                let lane = &mut running[seq];
                lane.logits.clear();
                lane.logits
                    .extend_from_slice(self.ctx.get_logits_ith(row as i32));
            }
        }
        Ok(running
            .into_iter()
            .map(|mut lane| {
                let mut rest = String::new();
                lane.utf8.finish(&mut rest);
                if !lane.text.stopped {
                    lane.text.push(&rest);
                }
                Answer {
                    text: lane.text.finish(),
                    tokens: lane.produced,
                    finish_reason: lane.finished.unwrap_or(FinishReason::Length),
                }
            })
            .collect())
    }

    /// Drops sequences 1…n-1 and whatever sequence 0 holds past the prompt; on failure the
    /// whole cache.
    fn drop_choices(&mut self, n: usize, start: usize) {
        let mut ok = true;
        for seq in 1..n {
            ok &= matches!(
                self.ctx.clear_kv_cache_seq(Some(seq as u32), None, None),
                Ok(true)
            );
        }
        ok &= matches!(
            self.ctx
                .clear_kv_cache_seq(Some(0), Some(start as u32), None),
            Ok(true)
        );
        if ok {
            self.cached.truncate(start);
        } else {
            self.forget();
        }
    }

    /// The next token: greedy or seeded sampling over the whole vocabulary, and when a grammar
    /// is given and forbids that token, the same sampling again over what the grammar allows.
    ///
    /// Checking the one sampled token first is what llama.cpp's own samplers do: masking all of
    /// a 150,000-token vocabulary through a schema's grammar at every step costs about a second
    /// a token on two cores, while a well-prompted model's choice is usually allowed already.
    fn pick(
        &self,
        logits: &[f32],
        grammar: Option<&mut LlamaSampler>,
        sampler: &mut LlamaSampler,
    ) -> Result<LlamaToken> {
        let all = || {
            LlamaTokenDataArray::from_iter(
                (0i32..)
                    .zip(logits)
                    .map(|(id, &logit)| LlamaTokenData::new(LlamaToken(id), logit, 0.0)),
                false,
            )
        };
        let mut candidates = all();
        candidates.apply_sampler(sampler);
        let first = candidates
            .selected_token()
            .ok_or_else(|| self.error("the sampler selected no token"))?;
        let Some(g) = grammar else {
            return Ok(first);
        };
        let logit = usize::try_from(first.0)
            .ok()
            .and_then(|i| logits.get(i))
            .copied()
            .unwrap_or(0.0);
        let mut one =
            LlamaTokenDataArray::from_iter([LlamaTokenData::new(first, logit, 0.0)], false);
        one.apply_sampler(g);
        if one
            .data
            .first()
            .is_some_and(|d| d.logit() > f32::NEG_INFINITY)
        {
            return Ok(first);
        }
        let mut candidates = all();
        candidates.apply_sampler(g);
        if !candidates
            .data
            .iter()
            .any(|d| d.logit() > f32::NEG_INFINITY)
        {
            return Err(self.invalid("the grammar allows no token of this model's vocabulary here"));
        }
        candidates.apply_sampler(sampler);
        candidates
            .selected_token()
            .ok_or_else(|| self.error("the sampler selected no token"))
    }
}

/// Several choices of one request, decoded side by side.
#[derive(Clone, Copy)]
struct Choosing<'r> {
    prompt: &'r [LlamaToken],
    /// The logits after the prompt's last token: every choice's first step.
    first_logits: &'r [f32],
    request: &'r CompletionRequest,
    /// Each choice's temperature (None: greedy) and seed.
    lanes: &'r [(Option<f32>, u32)],
    /// Where choice 0 streams its text, when the request streams.
    sink: Option<&'r mpsc::UnboundedSender<Event>>,
    events: &'r mpsc::UnboundedSender<Event>,
}

struct Answer {
    text: String,
    tokens: usize,
    finish_reason: FinishReason,
}

fn role(role: ChatRole) -> &'static str {
    match role {
        ChatRole::System => "system",
        ChatRole::User => "user",
        ChatRole::Assistant => "assistant",
    }
}

/// ChatML, the format of Qwen and many others, for models whose GGUF has no chat template.
fn chatml(messages: &[ChatMessage]) -> String {
    let mut prompt = String::new();
    for m in messages {
        prompt.push_str("<|im_start|>");
        prompt.push_str(role(m.role));
        prompt.push('\n');
        prompt.push_str(&m.content);
        prompt.push_str("<|im_end|>\n");
    }
    prompt.push_str("<|im_start|>assistant\n");
    prompt
}

/// Turns token bytes into text: a character split across tokens waits for its last byte;
/// bytes that can never be UTF-8 become U+FFFD.
#[derive(Debug, Default)]
struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    fn push(&mut self, bytes: &[u8], out: &mut String) {
        self.pending.extend_from_slice(bytes);
        let mut start = 0;
        while start < self.pending.len() {
            match std::str::from_utf8(&self.pending[start..]) {
                Ok(s) => {
                    out.push_str(s);
                    start = self.pending.len();
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    out.push_str(
                        std::str::from_utf8(&self.pending[start..start + valid]).unwrap_or(""),
                    );
                    start += valid;
                    match e.error_len() {
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            start += bad;
                        }
                        // An incomplete character at the end: wait for the next token.
                        None => break,
                    }
                }
            }
        }
        self.pending.drain(..start);
    }

    /// Whatever is left at the end of generation.
    fn finish(&mut self, out: &mut String) {
        if !self.pending.is_empty() {
            out.push_str(&String::from_utf8_lossy(&self.pending));
            self.pending.clear();
        }
    }
}

/// The text of one choice: cut at the first stop sequence, and streamed so that no delta ever
/// holds part of a stop sequence (text that might start one is held back until it cannot).
struct TextSink<'a> {
    text: String,
    emitted: usize,
    stops: Vec<&'a str>,
    stream: Option<&'a mpsc::UnboundedSender<Event>>,
    stopped: bool,
}

impl<'a> TextSink<'a> {
    fn new(stops: &'a [String], stream: Option<&'a mpsc::UnboundedSender<Event>>) -> Self {
        TextSink {
            text: String::new(),
            emitted: 0,
            stops: stops
                .iter()
                .map(String::as_str)
                .filter(|s| !s.is_empty())
                .collect(),
            stream,
            stopped: false,
        }
    }

    /// Adds generated text; true when a stop sequence ended the choice.
    fn push(&mut self, piece: &str) -> bool {
        if self.stopped || piece.is_empty() {
            return self.stopped;
        }
        let before = self.text.len();
        self.text.push_str(piece);
        let found = self
            .stops
            .iter()
            .filter_map(|stop| {
                // Only a match that ends in the new piece is new.
                let mut from = before.saturating_sub(stop.len() - 1);
                while !self.text.is_char_boundary(from) {
                    from -= 1;
                }
                self.text[from..].find(stop).map(|i| from + i)
            })
            .min();
        if let Some(cut) = found {
            self.text.truncate(cut);
            self.stopped = true;
            self.emit(self.text.len());
            return true;
        }
        let held = self
            .stops
            .iter()
            .filter_map(|stop| {
                (1..stop.len())
                    .rev()
                    .find(|&k| self.text.as_bytes().ends_with(&stop.as_bytes()[..k]))
            })
            .max()
            .unwrap_or(0);
        self.emit(self.text.len() - held);
        false
    }

    fn emit(&mut self, upto: usize) {
        if upto > self.emitted && self.text.is_char_boundary(upto) {
            if let Some(stream) = self.stream {
                let _ = stream.send(Event::Delta(self.text[self.emitted..upto].to_owned()));
            }
            self.emitted = upto;
        }
    }

    fn finish(mut self) -> String {
        self.emit(self.text.len());
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&[u8]]) -> Vec<String> {
        let mut utf8 = Utf8Stream::default();
        let mut out = Vec::new();
        for chunk in chunks {
            let mut s = String::new();
            utf8.push(chunk, &mut s);
            out.push(s);
        }
        let mut s = String::new();
        utf8.finish(&mut s);
        out.push(s);
        out
    }

    #[test]
    fn characters_split_across_tokens_wait_for_their_last_byte() {
        let euro = "€".as_bytes(); // three bytes
        assert_eq!(
            decode(&[b"a", &euro[..1], &euro[1..2], &euro[2..], b"b"]),
            ["a", "", "", "€", "b", ""]
        );
        assert_eq!(decode(&[&[0xff], b"x"]), ["\u{fffd}", "x", ""]);
        assert_eq!(decode(&[b"ok", &euro[..2]]), ["ok", "", "\u{fffd}"]);
    }

    fn sink(stops: &[&str], pieces: &[&str]) -> (String, Vec<String>, bool) {
        let stops: Vec<String> = stops.iter().map(|s| s.to_string()).collect();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut text = TextSink::new(&stops, Some(&tx));
        let mut stopped = false;
        for piece in pieces {
            if text.push(piece) {
                stopped = true;
                break;
            }
        }
        let text = text.finish();
        let mut deltas = Vec::new();
        while let Ok(Event::Delta(d)) = rx.try_recv() {
            deltas.push(d);
        }
        (text, deltas, stopped)
    }

    #[test]
    fn stop_sequences_cut_the_text_and_never_reach_a_delta() {
        let (text, deltas, stopped) = sink(&["\n\n", ";"], &["SELECT 1", "\n", "\nmore"]);
        assert_eq!((text.as_str(), stopped), ("SELECT 1", true));
        assert_eq!(deltas, ["SELECT 1"]);

        // A stop split over three pieces; the held-back text goes out when it cannot be one.
        let (text, deltas, stopped) = sink(&["END"], &["a E", "N", "D b"]);
        assert_eq!((text.as_str(), stopped), ("a ", true));
        assert_eq!(deltas.concat(), "a ");

        let (text, deltas, stopped) = sink(&["END"], &["a E", "N", "x"]);
        assert_eq!((text.as_str(), stopped), ("a ENx", false));
        assert_eq!(deltas, ["a ", "ENx"]);

        let (text, deltas, _) = sink(&[], &["é", "ü"]);
        assert_eq!((text.as_str(), deltas.concat().as_str()), ("éü", "éü"));
    }

    #[test]
    fn chatml_opens_the_assistant_turn() {
        assert_eq!(
            chatml(&[ChatMessage::system("s"), ChatMessage::user("u")]),
            "<|im_start|>system\ns<|im_end|>\n<|im_start|>user\nu<|im_end|>\n<|im_start|>assistant\n"
        );
    }
}
