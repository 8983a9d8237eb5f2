//! `ttvault token`: one fresh access token on stdout and nothing else, for
//! `curl -H "Authorization: Bearer $(ttvault token)"`.

use crate::cli::Global;
use crate::error::Result;
use crate::{mint, oauth};

pub fn run(global: &Global) -> Result<i32> {
    let http = oauth::Client::new()?;
    let minted = mint::from_vault(global, &http)?;
    let line = zeroize::Zeroizing::new(format!("{}\n", minted.access_token.expose()));
    super::export::write_stdout(line.as_bytes())?;
    Ok(0)
}
