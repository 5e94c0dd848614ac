//! `cbi semantic init`: draft a semantic file from the database for a person to review.
//!
//! The catalog is read and profiled as `cbi schema` does (more sample values per column, so a
//! state column's values are all seen), the drafter of cbi-nl2sql turns it into a semantic
//! model ([`cbi_nl2sql::draft_semantic`]), and cbi-schema writes it as YAML. The draft is
//! parsed back and checked against the catalog before it is written, so what lands on disk is
//! a file cbi loads.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use cbi_db::ConnectionUrl;
use cbi_schema::{AugmentOptions, SchemaAugmenter, SchemaIntrospector};
use cbi_types::SemanticModel;

use super::{Context, Opened};
use crate::cli::SemanticInitArgs;

/// Sample values kept per column while drafting: enough to list every value of a status or
/// a type column.
const DRAFT_SAMPLES: usize = 12;

pub async fn run(ctx: &Context, args: SemanticInitArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let Opened { conn, url } = ctx.open().await?;
    let target = destination(args.out.as_deref(), &url);
    if let Some(path) = &target
        && path.exists()
        && !args.force
    {
        bail!(
            "{} already exists; review or move it, or pass --force to replace it",
            path.display()
        );
    }
    let schema = SchemaIntrospector::new(conn.clone()).introspect().await?;
    let augmenter = SchemaAugmenter::new(AugmentOptions {
        samples: DRAFT_SAMPLES,
        ..AugmentOptions::default()
    });
    let aug = augmenter
        .augment(conn.as_ref(), schema, SemanticModel::default())
        .await?;
    let index = cbi_nl2sql::SchemaIndex::new(Arc::new(aug));
    let draft = cbi_nl2sql::draft_semantic(&index);
    let text = cbi_schema::render_semantic(&draft.model, &draft.header);

    // What is written must load: parse it back and check it against the catalog.
    let origin = target.clone().unwrap_or_else(|| PathBuf::from("<stdout>"));
    let reread = cbi_schema::parse_semantic(&text, &origin)
        .context("the draft does not read back (a bug in cbi; please report it)")?;
    cbi_schema::check_semantic(&reread, &index.aug.schema, &origin)
        .context("the draft does not match the database (a bug in cbi; please report it)")?;

    let terms = draft.model.business_terms.len();
    let tables = draft.model.tables.len();
    match target {
        Some(path) => {
            std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
            writeln!(
                out,
                "Drafted {} with {tables} tables and {terms} business terms. Review it: cbi reads it{}.",
                path.display(),
                if matches!(url, ConnectionUrl::Sqlite { .. }) && args.out.is_none() {
                    " from now on, beside the database"
                } else {
                    " with --semantic FILE or database.semantic_file"
                }
            )?;
        }
        None => write!(out, "{text}")?,
    }
    Ok(())
}

/// Where the draft goes: `--out` (`-` is stdout), else beside a SQLite file, else stdout.
fn destination(flag: Option<&Path>, url: &ConnectionUrl) -> Option<PathBuf> {
    match flag {
        Some(p) if p == Path::new("-") => None,
        Some(p) => Some(p.to_path_buf()),
        None => match url {
            ConnectionUrl::Sqlite { path } => Some(crate::semantic::beside(path)),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_draft_goes_beside_a_sqlite_file_or_to_stdout() {
        let sqlite = ConnectionUrl::Sqlite {
            path: PathBuf::from("/d/shop.sqlite"),
        };
        assert_eq!(
            destination(None, &sqlite),
            Some(PathBuf::from("/d/shop.semantic.yaml"))
        );
        assert_eq!(destination(Some(Path::new("-")), &sqlite), None);
        assert_eq!(
            destination(Some(Path::new("x.yaml")), &sqlite),
            Some(PathBuf::from("x.yaml"))
        );
        let pg = ConnectionUrl::parse("postgres://u@h/db").unwrap();
        assert_eq!(destination(None, &pg), None);
    }
}
