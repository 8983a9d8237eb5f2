//! `ttvault token`: one fresh access token on stdout and nothing else, for
//! `curl -H "Authorization: Bearer $(ttvault token)"`; with `--json`, the token and its
//! expiry (`{"access_token", "expires_at"}`, RFC 3339 UTC).

use super::Context;
use crate::cli::TokenArgs;
use crate::error::Result;
use crate::output;
use crate::want::{Freshness, Secrets};

pub fn run(ctx: &Context, args: &TokenArgs) -> Result<i32> {
    let http = crate::oauth::Client::new()?;
    let want = Freshness::at_least(args.min_ttl);
    let session = ctx.grant(&http).session(Secrets::Withheld, want)?;
    let text = if ctx.json {
        // Built by hand so the only copies of the token are ones that are wiped.
        let token = zeroize::Zeroizing::new(
            serde_json::to_string(session.access_token.expose()).unwrap_or_default(),
        );
        let expires = humantime::format_rfc3339_seconds(session.expires_at);
        zeroize::Zeroizing::new(format!(
            "{{\"access_token\":{},\"expires_at\":\"{expires}\"}}\n",
            *token
        ))
    } else {
        zeroize::Zeroizing::new(format!("{}\n", session.access_token.expose()))
    };
    output::stdout(text.as_bytes())?;
    Ok(0)
}
