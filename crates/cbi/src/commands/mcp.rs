//! `cbi mcp`: the engine as a Model Context Protocol server (`cbi-mcp`), on stdio or, with
//! `--http`, streamable HTTP on a loopback address.

use anyhow::{Context as _, bail};
use cbi_engine::Principal;

use super::Context;
use super::chat::user_name;
use super::conversation::Conversation;
use crate::cli::McpArgs;

pub async fn run(ctx: &Context, args: McpArgs) -> anyhow::Result<()> {
    ctx.limits(None, None)?;
    if let Some(addr) = args.http {
        if !addr.ip().is_loopback() {
            bail!(
                "the MCP endpoint has no authentication yet: listen on a loopback address, not {addr}"
            );
        }
    }
    let (engine, key, _expiry) =
        Conversation::serving(ctx, args.semantic.as_deref(), args.model.as_deref()).await?;
    let who = Principal::new(user_name(args.user.as_deref()));
    let server = cbi_mcp::CbiMcp::new(engine, key.clone(), who);
    match args.http {
        None => {
            // stdout carries the protocol: everything else goes to stderr.
            eprintln!("cbi mcp: serving {key} on stdio");
            cbi_mcp::serve_stdio(server).await?;
        }
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            eprintln!(
                "cbi mcp: serving {key} at http://{}/mcp (streamable HTTP); Ctrl-C stops",
                listener.local_addr()?
            );
            cbi_mcp::serve_http(listener, server, cbi_server::shutdown_signal()).await?;
        }
    }
    Ok(())
}
