//! `cbi serve`: the engine over HTTP (`cbi-server`), over the chosen database.

use anyhow::{Context as _, bail};
use cbi_server::{Defaults, ServerOptions, Users};

use super::Context;
use super::conversation::Conversation;
use crate::cli::ServeArgs;

pub async fn run(ctx: &Context, args: ServeArgs) -> anyhow::Result<()> {
    ctx.limits(None, None)?;
    let defaults = Defaults {
        rate_per_minute: args.rate_per_minute,
        max_concurrent: usize::try_from(args.max_concurrent).unwrap_or(usize::MAX),
    };
    let users = match &args.users {
        Some(path) => Users::load(path, defaults)?,
        None if args.addr.ip().is_loopback() => Users::open(defaults),
        None => bail!(
            "listening on {} without --users would let anyone who reaches it read the \
             database; give a users file, or listen on 127.0.0.1",
            args.addr
        ),
    };
    let (engine, key, _expiry) =
        Conversation::serving(ctx, args.semantic.as_deref(), args.model.as_deref()).await?;
    let opts = ServerOptions {
        database: key.clone(),
        max_body_bytes: args.max_body_bytes,
        users,
    };
    let auth = if opts.users.requires_token() {
        "bearer tokens"
    } else {
        "no authentication (loopback only)"
    };
    let app = cbi_server::router(engine, opts);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let addr = listener.local_addr()?;
    eprintln!("cbi serving {key} on http://{addr} ({auth}); Ctrl-C stops");
    cbi_server::serve(listener, app, cbi_server::shutdown_signal()).await?;
    eprintln!("cbi stopped");
    Ok(())
}
