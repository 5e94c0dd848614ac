//! `cargo xtask eval` (being written).

/// Arguments of `cargo xtask eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {}

pub fn run(_args: EvalArgs) -> anyhow::Result<()> {
    anyhow::bail!("cargo xtask eval is not built yet")
}
