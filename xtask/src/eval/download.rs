//! Fetching BIRD's dev set for people who do not have it: a verified, resumable download into
//! a cache folder, then a safe extraction of the archive and the archive nested in it.
//!
//! BIRD does not publish a checksum for `dev.zip`. The expected size and SHA-256 pinned here
//! come from independent third-party records of the same file (the `dev_20240627` release,
//! 346,207,293 bytes, sha256 `cdd6d19f…a630`); a download that does not match both is refused.
//! For an archive without a pinned digest the first verified download records its SHA-256 next
//! to it (trust on first use) and every later use checks the archive against that record.
//!
//! Nothing here runs when `--data` is given.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

/// The official BIRD dev archive.
pub const BIRD_DEV_URL: &str = "https://bird-bench.oss-cn-beijing.aliyuncs.com/dev.zip";
const BIRD_DEV_SIZE: u64 = 346_207_293;
const BIRD_DEV_SHA256: &str = "cdd6d19faeb45a23970b98d3ef6c40a87987c95459c2cf12076897a60cf5a630";

/// An archive to fetch and what it must be.
#[derive(Debug, Clone)]
pub struct ArchiveSpec {
    pub url: String,
    /// File name in the cache folder.
    pub file_name: String,
    /// Exact size in bytes.
    pub size: u64,
    /// Expected SHA-256 (hex); `None` records the digest of the first download instead.
    pub sha256: Option<String>,
}

impl ArchiveSpec {
    /// BIRD dev, from `url` (the official one unless overridden).
    pub fn bird_dev(url: &str) -> Self {
        ArchiveSpec {
            url: url.to_string(),
            file_name: "dev.zip".to_string(),
            size: BIRD_DEV_SIZE,
            sha256: Some(BIRD_DEV_SHA256.to_string()),
        }
    }
}

/// The cache folder: `$CBI_CACHE_DIR`, else `$XDG_CACHE_HOME/cbi`, else `~/.cache/cbi`.
pub fn cache_dir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("CBI_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d).join("cbi"));
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".cache/cbi")),
        None => bail!("no cache folder: set CBI_CACHE_DIR"),
    }
}

fn sha256_file(path: &Path) -> Result<String> {
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

/// Checks a complete archive against its spec, or against the digest recorded in `record` by
/// an earlier download when the spec pins none.
fn verify(path: &Path, spec: &ArchiveSpec, record: &Path) -> Result<()> {
    let size = fs::metadata(path)?.len();
    if size != spec.size {
        bail!(
            "{}: size mismatch: expected {} bytes, got {size}",
            path.display(),
            spec.size
        );
    }
    let actual = sha256_file(path)?;
    let expected = match &spec.sha256 {
        Some(s) => Some(s.to_ascii_lowercase()),
        None => fs::read_to_string(record)
            .ok()
            .map(|s| s.trim().to_string()),
    };
    match expected {
        Some(e) if e != actual => bail!(
            "{}: sha256 mismatch: expected {e}, got {actual}",
            path.display()
        ),
        Some(_) => Ok(()),
        None => {
            // trust on first use: remember what we got
            fs::write(record, format!("{actual}\n"))?;
            Ok(())
        }
    }
}

/// Downloads `spec` into `dir` unless a verified copy is there, and returns its path.
///
/// The transfer goes to `<name>.part`; an interrupted download is resumed from where it stopped
/// (HTTP range request) when run again. The `.part` file becomes `<name>` only once its size and
/// digest check out; a wrong one is deleted. An existing `<name>` is verified on every use.
pub async fn fetch(
    client: &reqwest::Client,
    spec: &ArchiveSpec,
    dir: &Path,
    show_progress: bool,
) -> Result<PathBuf> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let dest = dir.join(&spec.file_name);
    let record = dir.join(format!("{}.sha256", spec.file_name));
    if dest.exists() {
        verify(&dest, spec, &record).with_context(|| {
            format!(
                "the cached archive is not the expected file; delete {} to download it again",
                dest.display()
            )
        })?;
        return Ok(dest);
    }
    let part = dir.join(format!("{}.part", spec.file_name));
    let mut have = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    if have > spec.size {
        fs::remove_file(&part)?;
        have = 0;
    }
    if have < spec.size {
        download_into(client, spec, &part, have, show_progress).await?;
    }
    if let Err(e) = verify(&part, spec, &record) {
        let _ = fs::remove_file(&part);
        return Err(e.context(format!("downloaded {} is not the expected file", spec.url)));
    }
    fs::rename(&part, &dest)?;
    Ok(dest)
}

async fn download_into(
    client: &reqwest::Client,
    spec: &ArchiveSpec,
    part: &Path,
    have: u64,
    show_progress: bool,
) -> Result<()> {
    let mut req = client.get(&spec.url);
    if have > 0 {
        req = req.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    let resp = req
        .send()
        .await
        .with_context(|| format!("downloading {}", spec.url))?;
    let status = resp.status();
    let size_mismatch = |total: u64| {
        let _ = fs::remove_file(part);
        anyhow::anyhow!(
            "{}: size mismatch: expected {} bytes, the server has {total}",
            spec.url,
            spec.size
        )
    };
    let (mut file, mut written) = if have > 0 && status == reqwest::StatusCode::PARTIAL_CONTENT {
        // `Content-Range: bytes <start>-<end>/<total>`
        let range = resp
            .headers()
            .get(reqwest::header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("bytes "))
            .and_then(|v| v.split_once('/'))
            .and_then(|(span, total)| {
                let start = span.split_once('-')?.0.trim().parse::<u64>().ok()?;
                Some((start, total.trim().parse::<u64>().ok()))
            });
        match range {
            Some((_, Some(total))) if total != spec.size => return Err(size_mismatch(total)),
            Some((start, _)) if start == have => {
                (OpenOptions::new().append(true).open(part)?, have)
            }
            _ => {
                let _ = fs::remove_file(part);
                bail!(
                    "downloading {}: the server resumed at the wrong offset; run again to start over",
                    spec.url
                );
            }
        }
    } else if status.is_success() {
        if let Some(total) = resp.content_length().filter(|n| *n != spec.size) {
            return Err(size_mismatch(total));
        }
        (File::create(part)?, 0)
    } else {
        bail!("downloading {}: HTTP {status}", spec.url);
    };
    let bar = if show_progress {
        ProgressBar::new(spec.size)
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
    bar.set_message(spec.file_name.clone());
    bar.set_position(written);
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                file.flush()?;
                bar.abandon();
                bail!(
                    "download of {} interrupted after {written} of {} bytes ({e}); run again to resume",
                    spec.url,
                    spec.size
                );
            }
        };
        written += chunk.len() as u64;
        if written > spec.size {
            drop(file);
            let _ = fs::remove_file(part);
            bar.abandon();
            bail!(
                "{}: size mismatch: the server sent more than the expected {} bytes",
                spec.url,
                spec.size
            );
        }
        file.write_all(&chunk)?;
        bar.set_position(written);
    }
    file.sync_all()?;
    bar.finish_and_clear();
    if written < spec.size {
        bail!(
            "download of {} interrupted after {written} of {} bytes; run again to resume",
            spec.url,
            spec.size
        );
    }
    Ok(())
}

/// Extracts a zip archive into `dest`, refusing entries that would land outside it (absolute
/// paths, `..`) and symbolic links. macOS `__MACOSX/` metadata is left out.
pub fn extract(archive: &Path, dest: &Path) -> Result<()> {
    let file = File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    let mut zip = zip::ZipArchive::new(file)
        .with_context(|| format!("{} is not a zip archive", archive.display()))?;
    // check every entry before writing anything
    for i in 0..zip.len() {
        let entry = zip.by_index(i)?;
        let Some(rel) = entry.enclosed_name() else {
            bail!(
                "{}: refusing entry `{}`: its path leaves the extraction folder",
                archive.display(),
                entry.name()
            );
        };
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            bail!(
                "{}: refusing entry `{}`: unusual path",
                archive.display(),
                entry.name()
            );
        }
        if entry.is_symlink() {
            bail!(
                "{}: refusing entry `{}`: symbolic links are not extracted",
                archive.display(),
                entry.name()
            );
        }
    }
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i)?;
        let Some(rel) = entry.enclosed_name() else {
            continue;
        };
        if rel.starts_with("__MACOSX") {
            continue;
        }
        let out = dest.join(&rel);
        if entry.is_dir() {
            fs::create_dir_all(&out)?;
            continue;
        }
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut f = File::create(&out).with_context(|| format!("writing {}", out.display()))?;
        io::copy(&mut entry, &mut f).with_context(|| format!("extracting `{}`", entry.name()))?;
    }
    Ok(())
}

/// Files named `name` under `dir`, at most `depth` folders down.
fn find_named(dir: &Path, name: &str, depth: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if depth > 0 {
                out.extend(find_named(&p, name, depth - 1));
            }
        } else if p.file_name().is_some_and(|n| n == name) {
            out.push(p);
        }
    }
    out
}

/// Makes sure BIRD dev is downloaded, verified and extracted under `cache`, and returns the
/// folder holding `dev.json` and `dev_databases/`.
///
/// Extraction goes to a temporary folder renamed into place when complete, so an interrupted
/// extraction is simply redone; the nested `dev_databases.zip` is extracted beside itself and
/// then deleted.
pub async fn ensure_bird_dev(cache: &Path, url: &str, show_progress: bool) -> Result<PathBuf> {
    let dir = cache.join("bird");
    let spec = ArchiveSpec::bird_dev(url);
    let client = reqwest::Client::builder()
        .build()
        .context("building the HTTP client")?;
    let archive = fetch(&client, &spec, &dir, show_progress).await?;
    prepare_extracted(&archive, &dir.join("dev"))
}

/// Extracts `archive` (and its nested `dev_databases.zip`) into `dest` once, and finds the data
/// folder in it.
pub fn prepare_extracted(archive: &Path, dest: &Path) -> Result<PathBuf> {
    if !dest.exists() {
        let tmp = dest.with_extension("partial");
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir_all(&tmp)?;
        extract(archive, &tmp)?;
        for inner in find_named(&tmp, "dev_databases.zip", 3) {
            let parent = inner.parent().unwrap_or(&tmp).to_path_buf();
            extract(&inner, &parent)?;
            fs::remove_file(&inner)?;
        }
        fs::rename(&tmp, dest)?;
    }
    match find_named(dest, "dev.json", 3).first() {
        Some(p) => Ok(p.parent().unwrap_or(dest).to_path_buf()),
        None => bail!("{}: no dev.json in the extracted archive", dest.display()),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    use zip::write::SimpleFileOptions;

    use super::*;

    /// How the test server answers the next requests.
    #[derive(Debug, Clone, Copy)]
    enum Mode {
        /// The whole body (or the requested range, with 206).
        Full,
        /// Announce the whole body but close the connection after this many bytes.
        CutAfter(usize),
        /// This status, no body.
        Status(u16),
    }

    struct Server {
        url: String,
        mode: Arc<Mutex<Mode>>,
        /// The `Range` header of every request, in order.
        ranges: Arc<Mutex<Vec<Option<String>>>>,
    }

    impl Server {
        fn set(&self, mode: Mode) {
            *self.mode.lock().unwrap() = mode;
        }

        fn requests(&self) -> Vec<Option<String>> {
            self.ranges.lock().unwrap().clone()
        }
    }

    fn serve(body: Vec<u8>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/dev.zip", listener.local_addr().unwrap());
        let mode = Arc::new(Mutex::new(Mode::Full));
        let ranges = Arc::new(Mutex::new(Vec::new()));
        let (m, r) = (mode.clone(), ranges.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).to_string();
                let range = head
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("Range: ")
                            .or_else(|| l.strip_prefix("range: "))
                    })
                    .map(str::to_string);
                r.lock().unwrap().push(range.clone());
                let start: usize = range
                    .as_deref()
                    .and_then(|v| v.strip_prefix("bytes="))
                    .and_then(|v| v.trim_end_matches('-').parse().ok())
                    .unwrap_or(0);
                let mode = *m.lock().unwrap();
                let (status, extra, part) = match mode {
                    Mode::Status(code) => {
                        let _ = write!(
                            s,
                            "HTTP/1.1 {code} Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        );
                        continue;
                    }
                    _ if start > 0 => (
                        "206 Partial Content",
                        format!(
                            "Content-Range: bytes {start}-{}/{}\r\n",
                            body.len() - 1,
                            body.len()
                        ),
                        &body[start..],
                    ),
                    _ => ("200 OK", String::new(), &body[..]),
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
                    part.len()
                );
                let send = match mode {
                    Mode::CutAfter(n) => &part[..n.min(part.len())],
                    _ => part,
                };
                let _ = s.write_all(send);
                let _ = s.flush();
            }
        });
        Server { url, mode, ranges }
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in entries {
            w.start_file(*name, SimpleFileOptions::default()).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    /// A small stand-in for BIRD's dev.zip: the questions plus a nested databases archive.
    fn bird_like() -> Vec<u8> {
        let inner = zip_of(&[("dev_databases/toy/toy.sqlite", b"SQLite format 3\0 toy")]);
        // enough bytes that an interrupted transfer is visibly partial
        let filler = vec![b'x'; 64 * 1024];
        zip_of(&[
            ("dev_20240627/dev.json", b"[]"),
            ("dev_20240627/dev_databases.zip", &inner),
            ("dev_20240627/filler.bin", &filler),
            ("__MACOSX/dev_20240627/._dev.json", b"junk"),
        ])
    }

    fn spec(url: &str, body: &[u8]) -> ArchiveSpec {
        ArchiveSpec {
            url: url.to_string(),
            file_name: "dev.zip".into(),
            size: body.len() as u64,
            sha256: Some(hex::encode(Sha256::digest(body))),
        }
    }

    fn client() -> reqwest::Client {
        reqwest::Client::builder().no_proxy().build().unwrap()
    }

    #[tokio::test]
    async fn download_verify_and_extract_the_nested_archive() {
        let body = bird_like();
        let server = serve(body.clone());
        let cache = tempfile::tempdir().unwrap();
        let archive = fetch(&client(), &spec(&server.url, &body), cache.path(), false)
            .await
            .unwrap();
        assert_eq!(fs::read(&archive).unwrap(), body);
        let root = prepare_extracted(&archive, &cache.path().join("dev")).unwrap();
        assert!(root.ends_with("dev/dev_20240627"));
        assert!(root.join("dev.json").is_file());
        assert!(root.join("dev_databases/toy/toy.sqlite").is_file());
        assert!(
            !root.join("dev_databases.zip").exists(),
            "the nested archive is removed"
        );
        assert!(!cache.path().join("dev/__MACOSX").exists());
        // a later use checks the cached copy and asks the server nothing
        fetch(&client(), &spec(&server.url, &body), cache.path(), false)
            .await
            .unwrap();
        assert_eq!(
            prepare_extracted(&archive, &cache.path().join("dev")).unwrap(),
            root
        );
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn wrong_size_wrong_digest_and_http_errors_leave_nothing_behind() {
        let body = bird_like();
        let server = serve(body.clone());
        let cache = tempfile::tempdir().unwrap();
        let dest = cache.path().join("dev.zip");
        let part = cache.path().join("dev.zip.part");

        let mut wrong_size = spec(&server.url, &body);
        wrong_size.size += 1;
        let e = fetch(&client(), &wrong_size, cache.path(), false)
            .await
            .unwrap_err();
        assert!(format!("{e:#}").contains("size mismatch"), "{e:#}");
        assert!(!dest.exists() && !part.exists());

        let mut wrong_digest = spec(&server.url, &body);
        wrong_digest.sha256 = Some("00".repeat(32));
        let e = fetch(&client(), &wrong_digest, cache.path(), false)
            .await
            .unwrap_err();
        assert!(format!("{e:#}").contains("sha256 mismatch"), "{e:#}");
        assert!(!dest.exists() && !part.exists());

        server.set(Mode::Status(404));
        let e = fetch(&client(), &spec(&server.url, &body), cache.path(), false)
            .await
            .unwrap_err();
        assert!(format!("{e:#}").contains("404"), "{e:#}");
        assert!(!dest.exists() && !part.exists());
    }

    #[tokio::test]
    async fn an_interrupted_transfer_resumes_where_it_stopped() {
        let body = bird_like();
        let half = body.len() / 2;
        let server = serve(body.clone());
        server.set(Mode::CutAfter(half));
        let cache = tempfile::tempdir().unwrap();
        let s = spec(&server.url, &body);
        let e = fetch(&client(), &s, cache.path(), false).await.unwrap_err();
        assert!(format!("{e:#}").contains("interrupted"), "{e:#}");
        assert!(
            !cache.path().join("dev.zip").exists(),
            "a partial file never looks complete"
        );
        let part = cache.path().join("dev.zip.part");
        assert_eq!(fs::metadata(&part).unwrap().len(), half as u64);

        server.set(Mode::Full);
        let archive = fetch(&client(), &s, cache.path(), false).await.unwrap();
        assert_eq!(fs::read(&archive).unwrap(), body);
        assert!(!part.exists());
        assert_eq!(
            server.requests(),
            vec![None, Some(format!("bytes={half}-"))]
        );
    }

    #[tokio::test]
    async fn without_a_pinned_digest_the_first_download_is_trusted_and_recorded() {
        let body = bird_like();
        let server = serve(body.clone());
        let cache = tempfile::tempdir().unwrap();
        let mut s = spec(&server.url, &body);
        let expected = s.sha256.take().unwrap();
        let archive = fetch(&client(), &s, cache.path(), false).await.unwrap();
        let record = fs::read_to_string(cache.path().join("dev.zip.sha256")).unwrap();
        assert_eq!(record.trim(), expected);
        // the archive changes behind our back: every later use notices
        let mut bytes = fs::read(&archive).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&archive, &bytes).unwrap();
        let e = fetch(&client(), &s, cache.path(), false).await.unwrap_err();
        assert!(format!("{e:#}").contains("sha256 mismatch"), "{e:#}");
    }

    #[test]
    fn archive_entries_cannot_escape() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["../evil.txt", "/abs/evil.txt", "a/../../evil.txt"] {
            let bytes = zip_of(&[("fine.txt", b"ok"), (name, b"evil")]);
            let archive = dir.path().join("evil.zip");
            fs::write(&archive, bytes).unwrap();
            let dest = dir.path().join("out");
            let e = extract(&archive, &dest).unwrap_err();
            assert!(format!("{e:#}").contains("refusing"), "{name}: {e:#}");
            assert!(
                !dest.join("fine.txt").exists(),
                "{name}: nothing is written"
            );
            assert!(!dir.path().join("evil.txt").exists());
        }
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        w.add_symlink("link", "/etc/passwd", SimpleFileOptions::default())
            .unwrap();
        let archive = dir.path().join("link.zip");
        fs::write(&archive, w.finish().unwrap().into_inner()).unwrap();
        let e = extract(&archive, &dir.path().join("out")).unwrap_err();
        assert!(format!("{e:#}").contains("symbolic links"), "{e:#}");
    }
}
