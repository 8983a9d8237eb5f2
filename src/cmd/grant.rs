//! The part `init` and `rotate` share: get the client credentials and a refresh token
//! (browser flow or `--paste`), and verify the grant. Nothing here writes the vault;
//! the browser's answer is held until the caller has.

use super::credentials::Known;
use super::grant_retry::Missed;
use crate::cli::GrantArgs;
use crate::endpoints::Environment;
use crate::error::{Error, Result};
use crate::oauth::authorize::Pending;
use crate::oauth::failure::{Failure, Refusal, REGISTER_REDIRECT_URI};
use crate::oauth::server::{port_holder, LoopbackError, RedirectUri, Responder, Server, Start};
use crate::oauth::verify::{self, Verified};
use crate::oauth::{self, browser, Http};
use crate::output;
use crate::secret::{ClientSecret, RefreshToken};
use crate::settings::{CLIENT_SECRET as ENV_CLIENT_SECRET, REFRESH_TOKEN as ENV_REFRESH_TOKEN};
use crate::ui::Ui;
use std::time::Duration;

/// The redirect URI Tastytrade's guide registers, and ttvault's default.
pub const DEFAULT_REDIRECT_URI: &str = "http://localhost:8000";
/// `read` is all the SPX chain fetcher needs.
pub const DEFAULT_SCOPE: &str = "read";
/// How long the browser flow waits by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// How to get a grant: `init`'s and `rotate`'s options, with the defaults filled in.
pub struct Options {
    pub client_id: Option<String>,
    /// The refresh token is pasted instead of the browser flow.
    pub paste: bool,
    pub open_browser: bool,
    pub redirect_uri: String,
    pub scope: String,
    pub allow_trade: bool,
    pub timeout: Duration,
}

impl Options {
    /// The options on the command line; what is not given there is `recorded_redirect_uri`
    /// (the vault's, for `rotate`) or the default.
    pub fn of(args: &GrantArgs, recorded_redirect_uri: Option<&str>) -> Self {
        Options {
            client_id: args.client_id.clone(),
            paste: args.paste,
            open_browser: !args.no_browser,
            redirect_uri: args
                .redirect_uri
                .as_deref()
                .or(recorded_redirect_uri)
                .unwrap_or(DEFAULT_REDIRECT_URI)
                .to_string(),
            scope: args.scope.as_deref().unwrap_or(DEFAULT_SCOPE).to_string(),
            allow_trade: args.allow_trade,
            timeout: args.timeout.unwrap_or(DEFAULT_TIMEOUT),
        }
    }
}

/// A verified grant, not yet written anywhere.
pub struct Obtained {
    pub client_id: String,
    pub client_secret: ClientSecret,
    pub verified: Verified,
    pub redirect_uri: Option<String>,
    /// The scopes asked for in the browser flow (`None` for `--paste`).
    pub requested: Option<Vec<String>>,
    /// The browser, still waiting for the page that says how it ended.
    browser: Option<(Responder, Server)>,
}

impl Obtained {
    /// The scopes to record in the vault: the grant's when known, else what was asked.
    pub fn scopes(&self) -> Vec<String> {
        match &self.verified.scopes {
            verify::Scopes::Known(s) => s.clone(),
            verify::Scopes::Unknown => self.requested.clone().unwrap_or_default(),
        }
    }

    /// Tells the browser (if any) that all is done.
    pub fn finish(&mut self, detail: &str) {
        if let Some((responder, server)) = self.browser.take() {
            responder.success(detail);
            drop(server);
        }
    }

    /// Tells the browser (if any) what went wrong after the grant was verified.
    pub fn fail(&mut self, err: &Error) {
        if let Some((responder, server)) = self.browser.take() {
            responder.failure(&err.message);
            drop(server);
        }
    }
}

/// Adds to a network failure's advice where the token endpoint came from: the vault
/// (`stored`, rotate without overrides), TTVAULT_API_URL, or Tastytrade's defaults.
pub fn say_endpoint_source(err: Error, environment: &Environment, stored: bool) -> Error {
    let from_env = crate::settings::get().api_url.is_some();
    let from = match (stored, environment) {
        (true, _) => "the one stored in the vault",
        (false, Environment::Custom { .. }) if from_env => "set by TTVAULT_API_URL",
        (false, Environment::Sandbox) | (false, Environment::Custom { .. })
            if environment.is_sandbox() =>
        {
            "Tastytrade's sandbox (--sandbox)"
        }
        (false, _) => "Tastytrade's production endpoint",
    };
    oauth::failure::endpoint_came_from(err, &environment.token_url(), from)
}

/// The loopback server, bound before anything is asked (README "Check before asking"): a
/// busy port is reported before anyone types a passphrase or a secret.
pub struct Bound {
    pub(super) redirect: RedirectUri,
    pub(super) server: Server,
}

/// Binds the redirect URI's port for the browser flow (`None` for `--paste`).
pub fn bind(args: &Options) -> Result<Option<Bound>> {
    if args.paste {
        return Ok(None);
    }
    let redirect = RedirectUri::parse(&args.redirect_uri)
        .map_err(|e| loopback_error(e, &args.redirect_uri))?;
    let server = Server::bind(&redirect).map_err(|e| loopback_error(e, &redirect.uri))?;
    Ok(Some(Bound { redirect, server }))
}

/// Whether a new vault can be written beside `vault`: checked before any prompt, so a
/// read-only folder does not cost a passphrase, the secrets and a sign-in.
pub fn check_writable(vault: &std::path::Path) -> Result<()> {
    let folder = match vault.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let probe = folder.join(format!(
        ".ttvault-write-check-{}-{:x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(Error::failure(format!(
            "cannot write the vault in {}: {e}",
            folder.display()
        ))
        .hint("run the command in a folder you can write, or pass --vault PATH")),
    }
}

/// Runs the browser flow (or `--paste`) and verifies the grant. `bound` is [`bind`]'s.
pub fn obtain(
    args: &Options,
    environment: &Environment,
    known: Known,
    bound: Option<Bound>,
    ui: &dyn Ui,
) -> Result<Obtained> {
    // Asking for `trade` only to refuse the grant afterwards would waste a sign-in.
    if !args.paste && !args.allow_trade && args.scope.split_whitespace().any(|s| s == "trade") {
        return Err(
            Error::usage("--scope asks for `trade`, which needs --allow-trade").hint(
                "the SPX chain fetcher needs `read` only (the default); add --allow-trade if \
                   you really want a trading grant in this vault",
            ),
        );
    }
    let http = oauth::Client::new()?;
    let mut obtained = if args.paste {
        paste(&http, args, environment, known, ui)?
    } else {
        super::grant_retry::browser_until_granted(&http, args, environment, known, bound, ui)?
    };
    if !args.allow_trade {
        let sandbox = oauth::failure::is_sandbox_url(&environment.token_url());
        if let Err(err) = confirm_unknown_scopes(&obtained.verified.scopes, sandbox, ui) {
            obtained.fail(&err);
            return Err(err);
        }
    }
    Ok(obtained)
}

/// A refresh token that names no scopes (opaque, or a JWT without a scope claim: how
/// Tastytrade's real tokens name them is unconfirmed, docs/OAUTH.md) cannot be checked for
/// `trade`. At a terminal the person confirms that only Read was ticked, or nothing is
/// written; without one, a warning (which `audit` repeats) and on.
fn confirm_unknown_scopes(scopes: &verify::Scopes, sandbox: bool, ui: &dyn Ui) -> Result<()> {
    if scopes.is_known() {
        return Ok(());
    }
    let said = "the refresh token does not say which scopes the grant holds (it is not a JWT, \
                or names none), so ttvault cannot check that it lacks `trade`";
    let place = if sandbox {
        "in the developer sandbox's tools"
    } else {
        "on tastytrade.com (Manage → My Profile → API → OAuth Applications)"
    };
    if !ui.can_ask() {
        output::warning(
            said,
            Some(&format!(
                "make sure only Read is ticked for this grant {place}; `ttvault audit` repeats this"
            )),
        );
        return Ok(());
    }
    output::note(said);
    if ui.confirm(
        &format!("Is Read the only box ticked for this grant {place}?"),
        false,
    )? {
        return Ok(());
    }
    Err(
        Error::failure("stopped: the grant may hold more than Read; nothing was written").hint(
            format!(
        "delete this grant {place}, create one with only Read ticked (the SPX chain fetcher \
         needs nothing else), and run this again"
    ),
        ),
    )
}

fn paste(
    http: &dyn Http,
    args: &Options,
    env: &Environment,
    known: Known,
    ui: &dyn Ui,
) -> Result<Obtained> {
    let needs = |what: &str| {
        Error::usage(format!("--paste needs the {what}")).hint(format!(
            "pass --client-id ID and set {ENV_CLIENT_SECRET} and {ENV_REFRESH_TOKEN}, or run \
             in a terminal to be asked"
        ))
    };
    let client_id = known.client_id.ok_or_else(|| needs("client id"))?;
    let client_secret = known.client_secret.ok_or_else(|| needs("client secret"))?;
    let refresh_token = match crate::settings::get().refresh_token()? {
        Some(t) => RefreshToken::new(t.trim()),
        None if ui.can_ask() => {
            RefreshToken::new(ui.line("Refresh token (input hidden): ", true)?.trim())
        }
        None => return Err(needs("refresh token")),
    };
    let checking = output::Activity::step("Checking the grant with Tastytrade…");
    let verified = verify::verify(
        http,
        &verify::Grant {
            token_url: &env.token_url(),
            api_url: env.api_url(),
            client_id: &client_id,
            client_secret: &client_secret,
            refresh_token: &refresh_token,
            allow_trade: args.allow_trade,
        },
    )?;
    drop(checking);
    Ok(Obtained {
        client_id,
        client_secret,
        verified,
        redirect_uri: None,
        requested: None,
        browser: None,
    })
}

pub(super) fn browser_flow(
    http: &dyn Http,
    args: &Options,
    env: &Environment,
    known: Known,
    bound: Bound,
) -> Result<Obtained, Missed> {
    let Bound {
        redirect,
        mut server,
    } = bound;
    if redirect.uri.ends_with('/') && redirect.path == "/" {
        output::note(&format!(
            "the redirect URI ends with a slash; it must match the grant's byte for byte (the \
             usual one is {DEFAULT_REDIRECT_URI}, without a slash)"
        ));
    }
    let pending = Pending::new();
    let scope = args.scope.clone();
    let build =
        |client_id: &str| pending.url(env.authorize_url(), client_id, &redirect.uri, &scope);

    // The address printed and opened is always the server's one-time start page, which
    // sends the browser on to Tastytrade (or asks for what is missing first).
    let authorize_url = match (&known.client_id, &known.client_secret) {
        (Some(id), Some(_)) => Some(build(id)?),
        _ => None,
    };
    let start_url = server.start_url();
    if authorize_url.is_none() {
        output::say("Open this address in your browser, enter the client id and secret, then sign in to Tastytrade:");
    } else {
        output::say(
            "Open this address in your browser to sign in to Tastytrade and approve ttvault:",
        );
    }
    output::say(&format!("  {start_url}"));
    // Handed over through a private file, never a command line (see oauth::browser).
    #[cfg(unix)]
    let opened = args.open_browser.then(|| browser::open_start(&start_url));
    #[cfg(not(unix))]
    let opened = args.open_browser.then(|| browser::open(&start_url));
    let page = match opened {
        Some(Err(why)) => {
            output::warning(
                &format!("could not open a browser ({why})"),
                Some("open the address above yourself"),
            );
            None
        }
        other => other.and_then(Result::ok),
    };
    let waiting = output::Activity::until(
        &format!(
            "Waiting for the browser… (Ctrl-C to cancel, times out in {})",
            humantime::format_duration(args.timeout)
        ),
        // None: a timeout past what the clock can count shows no time left.
        std::time::Instant::now().checked_add(args.timeout),
    );

    let start = match &authorize_url {
        Some(url) => Start::Authorize(url),
        None => Start::Form {
            client_id: known.client_id.as_deref(),
            authorize: &build,
        },
    };
    let callback = server.wait(start, &pending.state, args.timeout);
    // The start page has done its job (or the flow is over): no copy stays on disk.
    drop(page);
    let callback = callback.map_err(|e| match e {
        LoopbackError::Declined => Missed::Declined(loopback_error(e, &redirect.uri)),
        e => Missed::Other(loopback_error(e, &redirect.uri)),
    })?;
    drop(waiting);
    let responder = callback.responder;
    let (client_id, client_secret) = match (callback.credentials, known) {
        (Some(from_page), _) => from_page,
        (
            None,
            Known {
                client_id: Some(id),
                client_secret: Some(secret),
            },
        ) => (id, secret),
        (None, _) => {
            let err =
                Error::failure("the browser answered before the client credentials were given");
            responder.failure(&err.message);
            return Err(err.into());
        }
    };

    let checking = output::Activity::step("Tastytrade answered; checking the grant…");
    let token_url = env.token_url();
    let endpoint = oauth::token::TokenEndpoint {
        url: &token_url,
        client_id: &client_id,
        client_secret: &client_secret,
        encoding: None,
    };
    let exchanged = match endpoint.exchange_code(
        http,
        &oauth::retry::ThreadSleep,
        &callback.code,
        &redirect.uri,
        &pending.verifier,
    ) {
        Err(
            refused @ Failure::Refused {
                refusal: Refusal::Client,
                ..
            },
        ) => {
            drop(checking);
            let err = Error::from(refused);
            responder.failure(&err.message);
            return Err(Missed::Client { err, client_id });
        }
        other => other.map_err(Error::from),
    };
    let verified = exchanged.and_then(|tokens| {
        let refresh_token = tokens
            .refresh_token
            .ok_or_else(|| Error::network("the token endpoint issued no refresh token"))?;
        verify::verify(
            http,
            &verify::Grant {
                token_url: &token_url,
                api_url: env.api_url(),
                client_id: &client_id,
                client_secret: &client_secret,
                refresh_token: &refresh_token,
                allow_trade: args.allow_trade,
            },
        )
    });
    drop(checking);
    let verified = match verified {
        Ok(v) => v,
        Err(err) => {
            responder.failure(&err.message);
            return Err(err.into());
        }
    };
    Ok(Obtained {
        client_id,
        client_secret,
        verified,
        redirect_uri: Some(redirect.uri.clone()),
        requested: Some(args.scope.split_whitespace().map(str::to_string).collect()),
        browser: Some((responder, server)),
    })
}

/// A busy port whose holder is one of the user's own processes, named.
fn busy_port_named(port: u16, holder: &port_holder::Holder, redirect_uri: &str) -> Error {
    let pid = holder.pid;
    match holder.ttvault_flow {
        Some(command) => Error::failure(format!(
            "port {port} is already in use by another `ttvault {command}` (pid {pid}), waiting \
             for its browser"
        ))
        .hint(format!(
            "finish that sign-in, or end it (Ctrl-C in its terminal, or `kill {pid}`), then \
             run this again"
        )),
        None => Error::failure(format!(
            "port {port} is already in use by {} (pid {pid})",
            holder.program
        ))
        .hint(format!(
            "the grant's registered redirect URI ({redirect_uri}) decides the port: stop that \
             program, or pass --redirect-uri with another loopback URI registered on the grant"
        )),
    }
}

/// The loopback server's error, with what to do about it. `redirect_uri` is the URI in
/// use (it decides the port).
pub(super) fn loopback_error(e: LoopbackError, redirect_uri: &str) -> Error {
    let err = Error::new(e.code(), e.to_string());
    match e {
        LoopbackError::RedirectUri { .. } => err.hint(REGISTER_REDIRECT_URI),
        LoopbackError::PortInUse { port } => match port_holder::of_port(port) {
            Some(holder) => busy_port_named(port, &holder, redirect_uri),
            None => err.hint(format!(
                "the grant's registered redirect URI ({redirect_uri}) decides the port: stop the \
                 program using it, or pass --redirect-uri with another loopback URI registered on \
                 the grant"
            )),
        },
        LoopbackError::TimedOut(_) => err.hint(format!(
            "run the command again (--timeout to wait longer), or use --paste with a refresh \
             token from a grant created on tastytrade.com. If Tastytrade's page said the \
             redirect URI does not match: {REGISTER_REDIRECT_URI}"
        )),
        LoopbackError::Declined => {
            err.hint("run the command again and approve ttvault's request on the Tastytrade page")
        }
        LoopbackError::AuthorizeError { .. } => err.hint(format!(
            "check the client id; if the redirect URI is the problem: {REGISTER_REDIRECT_URI}; then \
             run the command again"
        )),
        LoopbackError::NoCode => {
            err.hint("run the command again; if it keeps happening, check TTVAULT_AUTHORIZE_URL")
        }
        LoopbackError::ListenerDied { .. } => err.hint(
            "run the command again; if it keeps happening, another program on this computer \
             may be flooding the port",
        ),
        LoopbackError::StartReused => err.hint(
            "run the command again and open the new address once; if you did not open it \
             twice, another program or user on this computer may have read it",
        ),
        LoopbackError::Listen { .. } | LoopbackError::Finished => err,
    }
}
