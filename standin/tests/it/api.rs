//! The API routes: bearer checks, scopes, the envelope and the data shapes.

use std::time::Duration;

use crate::common::*;
use serde_json::{json, Value};
use tt_standin::Config;

#[test]
fn every_route_answers_in_the_envelope() {
    let s = standin(Config::default());
    let base = s.base_url();
    let at = s.access_token(&s.personal_grant(CLIENT_ID, "read"));
    for path in [
        "/customers/me",
        "/customers/me/accounts",
        "/accounts/5WT00001/transactions",
        "/option-chains/SPX/nested",
        "/api-quote-tokens",
    ] {
        let r = api_get(&base, path, &at);
        assert_eq!(r.status, 200, "{path}: {r:?}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        let v = r.json();
        assert_eq!(v["context"], path);
        assert!(v["data"].is_object(), "{path}");
    }
}

#[test]
fn customer_and_quote_token() {
    let s = standin(Config::default());
    let base = s.base_url();
    let at = s.access_token(&s.personal_grant(CLIENT_ID, "read"));
    let c = api_get(&base, "/customers/me", &at).json();
    assert_eq!(c["data"]["id"], tt_standin::CUSTOMER_ID);
    for key in ["first-name", "last-name", "email"] {
        assert!(c["data"][key].is_string(), "{key}");
    }
    let q = api_get(&base, "/api-quote-tokens", &at).json();
    assert!(q["data"]["token"].is_string());
    assert!(q["data"]["dxlink-url"]
        .as_str()
        .unwrap()
        .starts_with("wss://"));
    assert_eq!(q["data"]["level"], "api");
}

#[test]
fn accounts_have_tastytrade_shape() {
    let s = standin(Config::default());
    let at = s.access_token(&s.personal_grant(CLIENT_ID, "read"));
    let v = api_get(&s.base_url(), "/customers/me/accounts", &at).json();
    let items = v["data"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let first = &items[0];
    assert_eq!(first["authority-level"], "owner");
    let account = &first["account"];
    assert_eq!(account["account-number"], "5WT00001");
    assert_eq!(account["nickname"], "Individual");
    assert_eq!(account["account-type-name"], "Individual");
    assert_eq!(account["margin-or-cash"], "Margin");
    assert_eq!(account["is-closed"], false);
    let numbers: Vec<&str> = items
        .iter()
        .map(|i| i["account"]["account-number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, tt_standin::ACCOUNT_NUMBERS);
}

#[test]
fn accounts_need_the_read_scope() {
    let s = standin(Config::default());
    let base = s.base_url();
    let trade_only = s.access_token(&s.personal_grant(CLIENT_ID, "trade"));
    let r = api_get(&base, "/customers/me/accounts", &trade_only);
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"]["code"], "not_permitted");
    assert!(r.json()["error"]["message"].is_string());
    // Other routes only need a live token.
    assert_eq!(api_get(&base, "/customers/me", &trade_only).status, 200);
    // And a token obtained through the browser flow with `read` works.
    let v = exchange(&base, &code_for(&base, "read trade")).json();
    let at = v["access_token"].as_str().unwrap();
    assert_eq!(api_get(&base, "/customers/me/accounts", at).status, 200);
}

#[test]
fn spx_chain_has_two_roots() {
    let s = standin(Config::default());
    let at = s.access_token(&s.personal_grant(CLIENT_ID, "read"));
    let v = api_get(&s.base_url(), "/option-chains/SPX/nested", &at).json();
    let items = v["data"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for (item, root, settlement) in [(&items[0], "SPX", "AM"), (&items[1], "SPXW", "PM")] {
        assert_eq!(item["underlying-symbol"], "SPX");
        assert_eq!(item["root-symbol"], root);
        assert_eq!(item["option-chain-type"], "Standard");
        assert_eq!(item["shares-per-contract"], 100);
        let expirations = item["expirations"].as_array().unwrap();
        assert!(expirations.len() >= 2, "{root}");
        let mut last_date = String::new();
        for e in expirations {
            assert_eq!(e["settlement-type"], settlement);
            let date = e["expiration-date"].as_str().unwrap().to_string();
            assert_eq!(date.len(), 10);
            assert!(date > last_date, "dates ascend");
            last_date = date.clone();
            assert!(e["days-to-expiration"].as_i64().unwrap() >= 0);
            let yymmdd = format!("{}{}{}", &date[2..4], &date[5..7], &date[8..10]);
            let strikes = e["strikes"].as_array().unwrap();
            assert!(strikes.len() >= 2);
            for k in strikes {
                let price = k["strike-price"].as_str().unwrap();
                let whole = price.trim_end_matches(".0");
                assert_eq!(
                    k["call-streamer-symbol"],
                    format!(".{root}{yymmdd}C{whole}")
                );
                assert_eq!(k["put-streamer-symbol"], format!(".{root}{yymmdd}P{whole}"));
                let call = k["call"].as_str().unwrap();
                assert_eq!(call.len(), 21, "OCC symbol {call:?}");
                assert!(call.starts_with(&format!("{root:<6}{yymmdd}C")));
            }
        }
        if root == "SPX" {
            assert!(expirations
                .iter()
                .all(|e| e["expiration-type"] == "Regular"));
        }
    }
}

#[test]
fn bearer_token_must_be_live() {
    let s = standin(Config {
        access_token_ttl: Duration::from_millis(1500),
        ..Config::default()
    });
    let base = s.base_url();
    let rt = s.personal_grant(CLIENT_ID, "read");
    let at = s.access_token(&rt);
    let unauthorized = |r: Response| {
        assert_eq!(r.status, 401, "{r:?}");
        let v = r.json();
        assert_eq!(v["error"]["code"], "invalid_credentials");
        assert!(v["error"]["message"].is_string());
    };
    unauthorized(request(
        &base,
        "GET",
        "/customers/me",
        &[("User-Agent", UA)],
        "",
    ));
    unauthorized(api_get(&base, "/customers/me", "not-a-token"));
    unauthorized(api_get(&base, "/customers/me", &rt));
    unauthorized(request(
        &base,
        "GET",
        "/customers/me",
        &[("User-Agent", UA), ("Authorization", &at)],
        "",
    ));
    assert_eq!(api_get(&base, "/customers/me", &at).status, 200);
    std::thread::sleep(Duration::from_millis(1600));
    unauthorized(api_get(&base, "/customers/me", &at));
    // A fresh one works again.
    let fresh = refresh(&base, &rt).json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(api_get(&base, "/customers/me", &fresh).status, 200);
}

#[test]
fn access_tokens_outlive_revocation_until_they_expire() {
    let s = standin(Config::default());
    let rt = s.personal_grant(CLIENT_ID, "read");
    let at = s.access_token(&rt);
    s.revoke(&rt);
    assert_eq!(api_get(&s.base_url(), "/customers/me", &at).status, 200);
}

#[test]
fn accept_version_breaks_routes_on_the_sandbox_only() {
    for (sandbox, status) in [(true, 404), (false, 200)] {
        let s = standin(Config {
            sandbox,
            ..Config::default()
        });
        let at = s.access_token(&s.personal_grant(CLIENT_ID, "read"));
        let bearer = format!("Bearer {at}");
        let r = request(
            &s.base_url(),
            "GET",
            "/customers/me/accounts",
            &[
                ("User-Agent", UA),
                ("Authorization", &bearer),
                ("Accept-Version", "20251101"),
            ],
            "",
        );
        assert_eq!(r.status, status, "sandbox: {sandbox}");
    }
}

#[test]
fn unknown_routes_are_json_404s() {
    let s = standin(Config::default());
    let at = s.access_token(&s.personal_grant(CLIENT_ID, "read"));
    for path in [
        "/",
        "/customers/you",
        "/option-chains/SPY/nested",
        "/customers/me/",
    ] {
        let r = api_get(&s.base_url(), path, &at);
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.json()["error"]["code"], "not_found", "{path}");
    }
    let r = request(
        &s.base_url(),
        "POST",
        "/customers/me",
        &[
            ("User-Agent", UA),
            ("Authorization", &format!("Bearer {at}")),
        ],
        "",
    );
    assert_eq!(r.status, 405);
    assert_eq!(
        r.json()["error"],
        json!({"code": "method_not_allowed", "message": "Method not allowed"})
    );
}

/// Every field tastyware's `Account` model validates is there, with its type.
#[test]
fn accounts_carry_every_field_sdks_validate() {
    let s = standin(Config::default());
    let at = s.access_token(&s.personal_grant(CLIENT_ID, "read"));
    let v = api_get(&s.base_url(), "/customers/me/accounts", &at).json();
    for item in v["data"]["items"].as_array().unwrap() {
        assert_eq!(item["authority-level"], "owner");
        let a = &item["account"];
        for key in [
            "account-number",
            "nickname",
            "account-type-name",
            "margin-or-cash",
            "opened-at",
            "created-at",
            "funding-date",
            "external-id",
            "investment-objective",
            "suitable-options-level",
        ] {
            assert!(a[key].as_str().is_some_and(|s| !s.is_empty()), "{key}: {a}");
        }
        for key in [
            "is-closed",
            "is-foreign",
            "day-trader-status",
            "is-firm-error",
            "is-firm-proprietary",
            "is-futures-approved",
            "is-test-drive",
        ] {
            assert!(a[key].is_boolean(), "{key}: {a}");
        }
    }
}

#[test]
fn spx_strikes_sit_around_one_price() {
    let s = standin(Config::default());
    let at = s.access_token(&s.personal_grant(CLIENT_ID, "read"));
    let v = api_get(&s.base_url(), "/option-chains/SPX/nested", &at).json();
    let mut all = Vec::new();
    for item in v["data"]["items"].as_array().unwrap() {
        for e in item["expirations"].as_array().unwrap() {
            let strikes: Vec<f64> = e["strikes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["strike-price"].as_str().unwrap().parse().unwrap())
                .collect();
            assert!(strikes.len() >= 10, "{}", e["expiration-date"]);
            assert!(strikes.windows(2).all(|w| w[0] < w[1]), "strikes ascend");
            all.extend(strikes);
        }
    }
    let lowest = all.iter().cloned().fold(f64::MAX, f64::min);
    let highest = all.iter().cloned().fold(f64::MIN, f64::max);
    // One underlying price: every strike within a few percent of the middle.
    let middle = (lowest + highest) / 2.0;
    assert!(highest - lowest <= middle * 0.1, "{lowest}..{highest}");
}

fn transactions_page(s: &tt_standin::StandIn, at: &str, query: &str) -> Value {
    let r = api_get(
        &s.base_url(),
        &format!("/accounts/5WT00001/transactions{query}"),
        at,
    );
    assert_eq!(r.status, 200, "{r:?}");
    r.json()
}

#[test]
fn transactions_come_in_pages_each_item_once() {
    let s = standin(Config::default());
    let at = s.access_token(&s.personal_grant(CLIENT_ID, "read"));
    let whole = transactions_page(&s, &at, "");
    let all = whole["data"]["items"].as_array().unwrap().clone();
    assert!(all.len() >= 5, "enough items to page through");
    assert_eq!(whole["pagination"]["total-pages"], 1);
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let v = transactions_page(&s, &at, &format!("?per-page=3&page-offset={offset}"));
        let p = &v["pagination"];
        for key in [
            "per-page",
            "page-offset",
            "item-offset",
            "total-items",
            "total-pages",
            "current-item-count",
            "previous-link",
            "next-link",
            "paging-link-template",
        ] {
            assert!(p.get(key).is_some(), "pagination lacks {key}: {p}");
        }
        assert_eq!(p["per-page"], 3);
        assert_eq!(p["page-offset"], offset);
        assert_eq!(p["item-offset"], offset * 3);
        assert_eq!(p["total-items"], all.len());
        assert_eq!(p["total-pages"], all.len().div_ceil(3));
        let items = v["data"]["items"].as_array().unwrap();
        assert_eq!(p["current-item-count"], items.len());
        assert_eq!(p["previous-link"].is_null(), offset == 0);
        seen.extend(items.iter().cloned());
        offset += 1;
        if p["next-link"].is_null() {
            assert_eq!(offset, all.len().div_ceil(3));
            break;
        }
        assert!(p["next-link"]
            .as_str()
            .unwrap()
            .contains(&format!("page-offset={offset}")));
    }
    assert_eq!(seen, all, "every item once, in order");
    // Past the last page: an empty page, not an error.
    let past = transactions_page(&s, &at, "?per-page=3&page-offset=99");
    assert_eq!(past["data"]["items"], json!([]));
}

#[test]
fn transactions_check_their_parameters_account_and_scope() {
    let s = standin(Config::default());
    let base = s.base_url();
    let at = s.access_token(&s.personal_grant(CLIENT_ID, "read"));
    for query in [
        "?per-page=0",
        "?per-page=x",
        "?page-offset=-1",
        "?per-page=999999",
    ] {
        let r = api_get(
            &base,
            &format!("/accounts/5WT00001/transactions{query}"),
            &at,
        );
        assert_eq!(r.status, 400, "{query}");
        assert_eq!(r.json()["error"]["code"], "invalid_parameter", "{query}");
    }
    let r = api_get(&base, "/accounts/5WT99999/transactions", &at);
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "record_not_found");
    // The second account has its own, fewer transactions.
    let other = api_get(&base, "/accounts/5WT00002/transactions", &at).json();
    assert!(other["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["account-number"] == "5WT00002"));
    let trade_only = s.access_token(&s.personal_grant(CLIENT_ID, "trade"));
    let r = api_get(&base, "/accounts/5WT00001/transactions", &trade_only);
    assert_eq!(r.status, 403);
}

#[test]
fn head_answers_like_get_without_a_body() {
    let s = standin(Config::default());
    let at = s.access_token(&s.personal_grant(CLIENT_ID, "read"));
    let bearer = format!("Bearer {at}");
    let r = request(
        &s.base_url(),
        "HEAD",
        "/customers/me",
        &[("User-Agent", UA), ("Authorization", &bearer)],
        "",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.body, "");
    let r = request(
        &s.base_url(),
        "HEAD",
        "/customers/me",
        &[("User-Agent", UA)],
        "",
    );
    assert_eq!(r.status, 401);
}
