//! The two OAuth endpoints: the authorize page (`/auth.html`, GET shows consent, POST decides)
//! and the token endpoint (`/oauth/token`), with Tastytrade's `error_code` errors.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::http::{append_query, is_json_body, parse_body, parse_form, Params, Reply};
use crate::pages::{self, ConsentForm};
use crate::state::{RefreshLookup, State};
use crate::{lock, Recorded, Shared, TokenBodies};

const KNOWN_SCOPES: [&str; 3] = ["read", "trade", "openid"];

/// A validated authorization request.
struct AuthRequest {
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    challenge: Option<String>,
    challenge_method: Option<String>,
}

/// Why an authorization request was refused. Until the client and redirect URI are known to
/// be good, the user sees an error page; after that, errors go back to the client (RFC 6749
/// §4.1.2.1), never to an unverified address.
enum Refusal {
    Page(String),
    Redirect(String),
}

/// `/auth.html`.
pub fn authorize(shared: &Shared, req: &Recorded) -> Reply {
    let params = match req.method.as_str() {
        "GET" => parse_form(&req.query),
        // A POST may carry everything in its body (the consent form's hidden fields) or the
        // original query plus just `decision` in the body; the body wins.
        "POST" => parse_form(&req.query).and_then(|mut p| {
            p.overlay(parse_body(req.header("content-type"), &req.body)?);
            Ok(p)
        }),
        _ => return pages::error(405, "Use GET or POST."),
    };
    let params = match params {
        Ok(p) => p,
        Err(e) => return pages::error(400, &format!("Malformed request: {e}.")),
    };
    let request = match validate(&lock(&shared.state), &params) {
        Ok(r) => r,
        Err(Refusal::Page(message)) => return pages::error(400, &message),
        Err(Refusal::Redirect(location)) => return Reply::redirect(location),
    };
    let decision = if req.method == "POST" {
        match params.get("decision") {
            Some("approve") => true,
            Some("deny") => false,
            _ => return pages::error(400, "decision must be \"approve\" or \"deny\"."),
        }
    } else if let Some(auto) = auto_decision(shared) {
        auto
    } else {
        return pages::consent(&ConsentForm {
            client_id: &request.client_id,
            redirect_uri: &request.redirect_uri,
            scope: &request.scope,
            state: request.state.as_deref(),
            code_challenge: request.challenge.as_deref(),
            code_challenge_method: request.challenge_method.as_deref(),
        });
    };
    Reply::redirect(decide(&mut lock(&shared.state), &request, decision))
}

fn auto_decision(shared: &Shared) -> Option<bool> {
    *lock(&shared.auto_decision)
}

/// Approves or denies an authorize URL without HTTP: the location the browser would be sent
/// to, or the error page's message.
pub fn decide_url(shared: &Shared, authorize_url: &str, approve: bool) -> Result<String, String> {
    let without_fragment = authorize_url.split('#').next().unwrap_or_default();
    let query = without_fragment
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or_default();
    let params = parse_form(query)?;
    let mut state = lock(&shared.state);
    match validate(&state, &params) {
        Ok(request) => Ok(decide(&mut state, &request, approve)),
        Err(Refusal::Page(message)) => Err(message),
        Err(Refusal::Redirect(location)) => Ok(location),
    }
}

fn decide(state: &mut State, request: &AuthRequest, approve: bool) -> String {
    let code = approve.then(|| {
        state.issue_code(
            &request.client_id,
            &request.redirect_uri,
            &request.scope,
            request.challenge.as_deref(),
        )
    });
    let mut query: Vec<(&str, &str)> = match &code {
        Some(code) => vec![("code", code)],
        None => vec![("error", "access_denied")],
    };
    if let Some(s) = &request.state {
        query.push(("state", s));
    }
    append_query(&request.redirect_uri, &query)
}

fn validate(state: &State, p: &Params) -> Result<AuthRequest, Refusal> {
    if let Some(name) = p.duplicate() {
        return Err(Refusal::Page(format!("Parameter {name} is repeated.")));
    }
    let client_id = p
        .non_empty("client_id")
        .ok_or_else(|| Refusal::Page("client_id is missing.".into()))?;
    let app = state
        .app(client_id)
        .ok_or_else(|| Refusal::Page(format!("Unknown client_id {client_id:?}.")))?;
    let redirect_uri = p
        .non_empty("redirect_uri")
        .ok_or_else(|| Refusal::Page("redirect_uri is missing.".into()))?;
    // Byte-for-byte, as Tastytrade compares: no normalisation of case, slashes or ports.
    if !app.redirect_uris.iter().any(|u| u == redirect_uri) {
        return Err(Refusal::Page(format!(
            "redirect_uri mismatch: {redirect_uri:?} is not registered for this application."
        )));
    }

    let client_state = p.get("state").map(str::to_string);
    let refuse = |error: &str| {
        let mut query = vec![("error", error)];
        if let Some(s) = &client_state {
            query.push(("state", s));
        }
        Refusal::Redirect(append_query(redirect_uri, &query))
    };
    match p.non_empty("response_type") {
        Some("code") => {}
        Some(_) => return Err(refuse("unsupported_response_type")),
        None => return Err(refuse("invalid_request")),
    }
    let scope = normalize_scope(p.get("scope").unwrap_or_default())
        .ok_or_else(|| refuse("invalid_scope"))?;
    let challenge = p.non_empty("code_challenge");
    let method = p.non_empty("code_challenge_method");
    match (challenge, method) {
        (None, None) => {}
        // Only S256: `plain` gives no protection and ttvault never sends it.
        (Some(c), Some("S256")) if is_pkce_value(c) => {}
        _ => return Err(refuse("invalid_request")),
    }
    Ok(AuthRequest {
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.to_string(),
        scope,
        state: client_state.clone(),
        challenge: challenge.map(str::to_string),
        challenge_method: method.map(str::to_string),
    })
}

/// Space-separated known scopes, duplicates dropped; `read` when none are asked for.
fn normalize_scope(raw: &str) -> Option<String> {
    let mut scopes: Vec<&str> = Vec::new();
    for s in raw.split_whitespace() {
        if !KNOWN_SCOPES.contains(&s) {
            return None;
        }
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    if scopes.is_empty() {
        scopes.push("read");
    }
    Some(scopes.join(" "))
}

/// RFC 7636 §4.1–4.2: 43 to 128 unreserved characters.
fn is_pkce_value(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// `POST /oauth/token`.
pub fn token(shared: &Shared, req: &Recorded) -> Reply {
    if req.method != "POST" {
        return Reply::oauth_error(405, "invalid_request", "Use POST");
    }
    slow_down(shared);
    if let Some(status) = take_failure(shared) {
        return Reply::nginx(status);
    }
    // Tastytrade refuses this outright (tastyware PR #255); clients must put the secret in
    // the body.
    if req.header("authorization").is_some() {
        return Reply::oauth_error(
            400,
            "invalid_request",
            "Authorization header is not accepted",
        );
    }
    if let Some(refusal) = refuse_encoding(shared.config.token_bodies, req) {
        return refusal;
    }
    let params = match parse_body(req.header("content-type"), &req.body) {
        Ok(p) => p,
        Err(e) => return Reply::oauth_error(400, "invalid_request", &e),
    };
    if let Some(name) = params.duplicate() {
        return Reply::oauth_error(
            400,
            "invalid_request",
            &format!("Parameter {name} is repeated"),
        );
    }
    let result = match params.non_empty("grant_type") {
        Some("authorization_code") => exchange_code(shared, &params),
        Some("refresh_token") => refresh(shared, &params),
        Some(other) => Err(Reply::oauth_error(
            400,
            "unsupported_grant_type",
            &format!("Unsupported grant_type {other:?}"),
        )),
        None => Err(missing("grant_type")),
    };
    result.unwrap_or_else(|error| error)
}

/// A body in the encoding this token endpoint does not understand ([`TokenBodies`]).
fn refuse_encoding(bodies: TokenBodies, req: &Recorded) -> Option<Reply> {
    let json = is_json_body(req.header("content-type"), &req.body);
    match bodies {
        TokenBodies::Both => None,
        TokenBodies::JsonOnly if !json => Some(Reply::oauth_error(
            415,
            "invalid_request",
            "Request body must be JSON",
        )),
        TokenBodies::FormOnly if json => Some(Reply::oauth_error(
            400,
            "invalid_request",
            "Request body must be form-encoded",
        )),
        _ => None,
    }
}

/// The sandbox's transient refusal of a healthy refresh, while any are left to give.
fn take_transient(shared: &Shared) -> Option<Reply> {
    let mut left = lock(&shared.transient_left);
    if *left == 0 {
        return None;
    }
    *left -= 1;
    Some(Reply::oauth_error(
        400,
        "invalid_request",
        "User is not a TastyTrade customer",
    ))
}

fn slow_down(shared: &Shared) {
    // Sleep in slices so dropping the StandIn is not held up by a long delay, and the delay
    // is read again each slice: a test can hold requests with a long one and release them
    // with `set_token_delay(Duration::ZERO)` once it has seen what it waits for.
    let step = Duration::from_millis(10);
    let mut slept = Duration::ZERO;
    loop {
        let delay = *lock(&shared.token_delay);
        if slept >= delay || shared.is_shutting_down() {
            break;
        }
        let nap = step.min(delay - slept);
        std::thread::sleep(nap);
        slept += nap;
    }
}

fn take_failure(shared: &Shared) -> Option<u16> {
    let mut failures = lock(&shared.failures);
    let (status, remaining) = failures.as_mut()?;
    let status = *status;
    *remaining -= 1;
    if *remaining == 0 {
        *failures = None;
    }
    Some(status)
}

fn missing(name: &str) -> Reply {
    Reply::oauth_error(
        400,
        "invalid_request",
        &format!("Missing parameter: {name}"),
    )
}

fn required<'a>(p: &'a Params, name: &str) -> Result<&'a str, Reply> {
    p.non_empty(name).ok_or_else(|| missing(name))
}

fn invalid_grant(description: &str) -> Reply {
    Reply::oauth_error(400, "invalid_grant", description)
}

fn invalid_client(description: &str) -> Reply {
    Reply::oauth_error(401, "invalid_client", description)
}

fn authenticate(state: &State, client_id: &str, secret: &str) -> Result<(), Reply> {
    match state.app(client_id) {
        None => Err(invalid_client("Unknown client")),
        Some(app) if app.secret != secret => Err(invalid_client("Invalid client credentials")),
        Some(_) => Ok(()),
    }
}

fn exchange_code(shared: &Shared, p: &Params) -> Result<Reply, Reply> {
    let code = required(p, "code")?;
    let client_id = required(p, "client_id")?;
    let secret = required(p, "client_secret")?;
    let redirect_uri = required(p, "redirect_uri")?;
    let mut state = lock(&shared.state);
    authenticate(&state, client_id, secret)?;
    let grant = state
        .take_code(code)
        .ok_or_else(|| invalid_grant("Invalid authorization code"))?;
    if grant.client_id != client_id {
        return Err(invalid_grant("Invalid authorization code"));
    }
    if grant.redirect_uri != redirect_uri {
        return Err(invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    if let Some(challenge) = &grant.challenge {
        let verifier = p
            .non_empty("code_verifier")
            .ok_or_else(|| invalid_grant("code_verifier is required"))?;
        if s256(verifier) != *challenge {
            return Err(invalid_grant("code_verifier does not match code_challenge"));
        }
    }
    let (id, refresh_token) = state.new_grant(client_id, &grant.scope);
    let mut body = access_response(shared, &mut state, id);
    body.insert("refresh_token".into(), Value::String(refresh_token));
    if grant.scope.split(' ').any(|s| s == "openid") {
        body.insert("id_token".into(), Value::String(state.id_token(id)));
    }
    Ok(Reply::json(200, &Value::Object(body)).no_store())
}

fn refresh(shared: &Shared, p: &Params) -> Result<Reply, Reply> {
    if let Some(transient) = take_transient(shared) {
        return Err(transient);
    }
    if let Some(refusal) = *lock(&shared.refuse_refreshes) {
        return Err(invalid_grant(refusal.description()));
    }
    let token = required(p, "refresh_token")?;
    let mut state = lock(&shared.state);
    let id = match state.lookup_refresh(token) {
        RefreshLookup::Unknown => return Err(invalid_grant("Invalid JWT")),
        // Only reachable with rotation on: the client kept an old token instead of the new
        // one. Tastytrade's wording for this case is unknown.
        RefreshLookup::Replaced => {
            return Err(invalid_grant("Refresh token was replaced by a newer one"))
        }
        RefreshLookup::Found(id) => id,
    };
    let (client_id, revoked) = match state.grant(id) {
        Some(g) => (g.client_id.clone(), g.revoked),
        None => return Err(invalid_grant("Invalid JWT")),
    };
    if p.non_empty("client_id").is_some_and(|c| c != client_id) {
        return Err(invalid_client("client_id does not match the grant"));
    }
    let secret = required(p, "client_secret")?;
    // Tastytrade's answer to a good refresh token with another application's secret
    // (captured 2026-09): an `invalid_grant`, although the grant is fine.
    if state
        .app(&client_id)
        .is_some_and(|app| app.secret != secret)
    {
        return Err(invalid_grant("Client secret mismatch"));
    }
    authenticate(&state, &client_id, secret)?;
    if revoked {
        return Err(invalid_grant("Grant revoked"));
    }
    let mut body = access_response(shared, &mut state, id);
    if shared.config.rotate_refresh_tokens {
        let new = state.new_refresh_token(id);
        body.insert("refresh_token".into(), Value::String(new));
    }
    Ok(Reply::json(200, &Value::Object(body)).no_store())
}

/// The fields every successful token response has.
fn access_response(shared: &Shared, state: &mut State, grant: usize) -> Map<String, Value> {
    let (access_token, expires_in) = state.mint_access(grant);
    let mut body = Map::new();
    body.insert("access_token".into(), json!(access_token));
    body.insert("token_type".into(), json!("Bearer"));
    body.insert("expires_in".into(), json!(expires_in));
    if shared.config.scope_in_response {
        let scope = state.grant(grant).map(|g| g.scope.clone());
        body.insert("scope".into(), json!(scope.unwrap_or_default()));
    }
    body
}

/// PKCE S256: base64url(SHA-256(verifier)) without padding.
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn scopes_are_normalized() {
        assert_eq!(normalize_scope("").as_deref(), Some("read"));
        assert_eq!(
            normalize_scope(" read  trade read ").as_deref(),
            Some("read trade")
        );
        assert_eq!(normalize_scope("openid").as_deref(), Some("openid"));
        assert_eq!(normalize_scope("read write"), None);
    }
}
