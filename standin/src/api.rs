//! The API routes a client of ttvault needs: who am I, my accounts, an account's
//! transactions (paginated), the SPX chain and a streaming quote token. Each needs a live
//! bearer token; answers use Tastytrade's `{"data": …, "context": "/path"}` envelope and
//! `{"error":{"code","message"}}` errors. HEAD is answered like GET, without the body.

use serde_json::{json, Value};

use crate::data;
use crate::http::Reply;
use crate::state::AccessCheck;
use crate::{lock, Recorded, Shared};

/// `per-page` when a list request gives none, and the most it may ask for.
const DEFAULT_PER_PAGE: usize = 250;
const MAX_PER_PAGE: usize = 2000;

enum Route {
    Customer,
    Accounts,
    Transactions(String),
    SpxChain,
    QuoteToken,
    /// `POST /sessions/validate`: whether the bearer token works; no scope needed.
    Validate,
}

pub fn handle(shared: &Shared, req: &Recorded) -> Reply {
    let route = match req.path.as_str() {
        "/customers/me" => Route::Customer,
        "/customers/me/accounts" => Route::Accounts,
        "/option-chains/SPX/nested" => Route::SpxChain,
        "/api-quote-tokens" => Route::QuoteToken,
        "/sessions/validate" => Route::Validate,
        path => match transactions_of(path) {
            Some(account) => Route::Transactions(account),
            None => return not_found(),
        },
    };
    let allowed: &[&str] = match route {
        Route::Validate => &["POST"],
        _ => &["GET", "HEAD"],
    };
    if !allowed.contains(&req.method.as_str()) {
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
    let needs_read = matches!(route, Route::Accounts | Route::Transactions(_));
    if needs_read && !scope.split(' ').any(|s| s == "read") {
        return Reply::api_error(
            403,
            "not_permitted",
            "The access token's scope does not allow this action",
        );
    }
    match route {
        Route::Customer => envelope(data::customer(), &req.path),
        Route::Accounts => envelope(data::accounts(), &req.path),
        Route::Transactions(account) => transactions(req, &account),
        Route::SpxChain => envelope(data::spx_chain(data::today()), &req.path),
        Route::QuoteToken => envelope(data::quote_token(&crate::state::random_id()), &req.path),
        // Tastytrade answers 201 with the user it knows the token by.
        Route::Validate => Reply::json(
            201,
            &json!({ "data": data::session_user(), "context": req.path }),
        ),
    }
}

/// The account number of `/accounts/{n}/transactions`.
fn transactions_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/accounts/")?;
    let (account, tail) = rest.split_once('/')?;
    (tail == "transactions" && !account.is_empty()).then(|| account.to_string())
}

/// One page of an account's transactions, with Tastytrade's `pagination` object.
fn transactions(req: &Recorded, account: &str) -> Reply {
    let Some(all) = data::transactions(account) else {
        return Reply::api_error(
            404,
            "record_not_found",
            &format!("Account {account} not found"),
        );
    };
    let params = req.query_params();
    let number = |name: &str, default: usize| -> Result<usize, Reply> {
        match params.iter().rev().find(|(k, _)| k == name) {
            None => Ok(default),
            Some((_, v)) => v.trim().parse().map_err(|_| {
                Reply::api_error(
                    400,
                    "invalid_parameter",
                    &format!("{name} must be a non-negative integer"),
                )
            }),
        }
    };
    let per_page = match number("per-page", DEFAULT_PER_PAGE) {
        Ok(n) if (1..=MAX_PER_PAGE).contains(&n) => n,
        Ok(_) => {
            return Reply::api_error(
                400,
                "invalid_parameter",
                &format!("per-page must be between 1 and {MAX_PER_PAGE}"),
            )
        }
        Err(reply) => return reply,
    };
    let offset = match number("page-offset", 0) {
        Ok(n) => n,
        Err(reply) => return reply,
    };
    let total = all.len();
    let total_pages = total.div_ceil(per_page);
    let start = offset.saturating_mul(per_page).min(total);
    let items: Vec<Value> = all.into_iter().skip(start).take(per_page).collect();
    let link = |page: usize| format!("{}?per-page={per_page}&page-offset={page}", req.path);
    let pagination = json!({
        "per-page": per_page,
        "page-offset": offset,
        "item-offset": start,
        "total-items": total,
        "total-pages": total_pages,
        "current-item-count": items.len(),
        "previous-link": (offset > 0 && offset <= total_pages).then(|| link(offset - 1)),
        "next-link": (offset + 1 < total_pages).then(|| link(offset + 1)),
        "paging-link-template": format!("{}?per-page={per_page}&page-offset={{{{page-offset}}}}", req.path),
    });
    Reply::json(
        200,
        &json!({
            "context": req.path,
            "data": { "items": items },
            "pagination": pagination,
        }),
    )
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

#[cfg(test)]
mod tests {
    use super::transactions_of;

    #[test]
    fn transaction_paths() {
        assert_eq!(
            transactions_of("/accounts/5WT00001/transactions").as_deref(),
            Some("5WT00001")
        );
        assert_eq!(transactions_of("/accounts//transactions"), None);
        assert_eq!(transactions_of("/accounts/5WT00001/positions"), None);
        assert_eq!(transactions_of("/accounts/5WT00001/transactions/1"), None);
        assert_eq!(transactions_of("/accounts/5WT00001"), None);
    }
}
