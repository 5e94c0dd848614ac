//! `cargo xtask demo-db` (being written).

/// Arguments of `cargo xtask demo-db`.
#[derive(Debug, clap::Args)]
pub struct DemoDbArgs {}

pub fn run(_args: DemoDbArgs) -> anyhow::Result<()> {
    anyhow::bail!("cargo xtask demo-db is not built yet")
}
