//! `ttvault token`: one fresh access token on stdout and nothing else, for
//! `curl -H "Authorization: Bearer $(ttvault token)"`.

use crate::cli::Global;
use crate::error::Result;

pub fn run(global: &Global) -> Result<i32> {
    let minted = crate::agent::minted(global, false)?;
    let line = zeroize::Zeroizing::new(format!("{}\n", minted.access_token.expose()));
    super::export::write_stdout(line.as_bytes())?;
    Ok(0)
}
