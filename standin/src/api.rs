//! The API routes a client of ttvault needs: who am I, my accounts, the SPX chain and a
//! streaming quote token. Each needs a live bearer token; answers use Tastytrade's
//! `{"data": …, "context": "/path"}` envelope and `{"error":{"code","message"}}` errors.

use serde_json::{json, Value};

use crate::data;
use crate::http::Reply;
use crate::state::AccessCheck;
use crate::{lock, Recorded, Shared};

enum Route {
    Customer,
    Accounts,
    SpxChain,
    QuoteToken,
}

pub fn handle(shared: &Shared, req: &Recorded) -> Reply {
    let route = match req.path.as_str() {
        "/customers/me" => Route::Customer,
        "/customers/me/accounts" => Route::Accounts,
        "/option-chains/SPX/nested" => Route::SpxChain,
        "/api-quote-tokens" => Route::QuoteToken,
        _ => return not_found(),
    };
    if req.method != "GET" {
        return Reply::api_error(405, "method_not_allowed", "Method not allowed");
    }
    // Sending `Accept-Version` breaks routes on the sandbox (production accepts it);
    // reproduce that so clients that send it there fail in tests rather than in the field.
    if shared.config.sandbox && req.header("accept-version").is_some() {
        return not_found();
    }
    let scope = match authenticate(shared, req) {
        Ok(scope) => scope,
        Err(reply) => return reply,
    };
    let data = match route {
        Route::Customer => data::customer(),
        Route::Accounts => {
            if !scope.split(' ').any(|s| s == "read") {
                return Reply::api_error(
                    403,
                    "not_permitted",
                    "The access token's scope does not allow this action",
                );
            }
            data::accounts()
        }
        Route::SpxChain => data::spx_chain(data::today()),
        Route::QuoteToken => data::quote_token(&crate::state::random_id()),
    };
    envelope(data, &req.path)
}

/// The scope of the request's live access token, or the 401 to answer.
fn authenticate(shared: &Shared, req: &Recorded) -> Result<String, Reply> {
    let token = req.header("authorization").and_then(|value| {
        let (scheme, token) = value.trim().split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then_some(token.trim())
    });
    let Some(token) = token else {
        return Err(unauthorized("Missing bearer token"));
    };
    match lock(&shared.state).check_access(token) {
        AccessCheck::Live { scope } => Ok(scope),
        AccessCheck::Expired => Err(unauthorized("Token has expired")),
        AccessCheck::Unknown => Err(unauthorized("Invalid access token")),
    }
}

fn unauthorized(message: &str) -> Reply {
    Reply::api_error(401, "invalid_credentials", message)
}

fn not_found() -> Reply {
    Reply::api_error(404, "not_found", "Route not found")
}

fn envelope(data: Value, context: &str) -> Reply {
    Reply::json(200, &json!({ "data": data, "context": context }))
}
