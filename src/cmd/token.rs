//! `ttvault token`: one fresh access token on stdout and nothing else, for
//! `curl -H "Authorization: Bearer $(ttvault token)"`.

use super::Context;
use crate::cli::TokenArgs;
use crate::error::Result;
use crate::output;
use crate::session::{self, Freshness, Secrets};

pub fn run(ctx: &Context, args: &TokenArgs) -> Result<i32> {
    let want = Freshness::at_least(args.min_ttl);
    let session = session::open_with(&ctx.vault, Secrets::Withheld, want)?;
    let line = zeroize::Zeroizing::new(format!("{}\n", session.access_token.expose()));
    output::stdout(line.as_bytes())?;
    Ok(0)
}
