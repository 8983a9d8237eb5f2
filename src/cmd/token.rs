//! `ttvault token`: one fresh access token on stdout and nothing else, for
//! `curl -H "Authorization: Bearer $(ttvault token)"`.

use super::Context;
use crate::error::Result;
use crate::output;
use crate::session::{self, Secrets};

pub fn run(ctx: &Context) -> Result<i32> {
    let session = session::open(&ctx.vault, Secrets::Withheld)?;
    let line = zeroize::Zeroizing::new(format!("{}\n", session.access_token.expose()));
    output::stdout(line.as_bytes())?;
    Ok(0)
}
