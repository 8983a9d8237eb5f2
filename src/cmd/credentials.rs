//! The client id and secret as far as the command line, the environment and the terminal
//! know them (`init`, `rotate`); what is still missing is asked on the local page.

use super::grant::Options;
use crate::error::Result;
use crate::secret::ClientSecret;
use crate::ui::Ui;

/// Client credentials as far as the terminal and environment know them.
#[derive(Clone, Default)]
pub struct Known {
    pub client_id: Option<String>,
    pub client_secret: Option<ClientSecret>,
}

/// The client id and secret from `--client-id`, `TTVAULT_CLIENT_SECRET`, and the terminal
/// (when there is one). What is still missing is asked on the local page. `stored_id` is
/// the vault's client id (`rotate`): with it, an empty answer to the secret prompt keeps
/// the stored secret (the caller fills it in).
pub fn known(args: &Options, stored_id: Option<&str>, ui: &dyn Ui) -> Result<Known> {
    let default_id = stored_id;
    let terminal = ui.can_ask();
    let mut client_id = args
        .client_id
        .clone()
        .or_else(|| default_id.map(str::to_string))
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    if client_id.is_none() && terminal {
        let typed = ui.line(
            if args.paste {
                "Client ID: "
            } else {
                "Client ID (or press Enter to type it in the browser instead): "
            },
            false,
        )?;
        client_id = Some(typed.trim().to_string()).filter(|c| !c.is_empty());
    }
    let mut client_secret = crate::settings::get()
        .client_secret()?
        .map(|s| ClientSecret::new(s.trim()));
    if client_secret.is_none() && client_id.is_some() && terminal {
        let keeps = stored_id.is_some() && client_id.as_deref() == stored_id;
        let typed = ui.line(
            if keeps {
                "Client secret (input hidden; press Enter to keep the stored one): "
            } else {
                "Client secret (input hidden): "
            },
            true,
        )?;
        client_secret = Some(ClientSecret::new(typed.trim())).filter(|s| !s.expose().is_empty());
    }
    Ok(Known {
        client_id,
        client_secret,
    })
}
