//! What a failed API call tells the person: the API's own error message
//! (`{"error":{"code","message"}}`), made fit for a terminal, with account numbers
//! masked as everywhere else in ttvault (`••••0001`).

use crate::oauth::mask;
use crate::oauth::sanitize::sanitize;
use serde_json::Value;

/// `error.code` and `error.message` of an API error body, each sanitized (printable,
/// bounded, no token-like words); None when the body is not that shape.
pub fn api_error(body: &[u8]) -> Option<(Option<String>, Option<String>)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let error = value.get("error")?;
    let text = |key: &str| {
        error
            .get(key)
            .and_then(Value::as_str)
            .map(|s| sanitize(s, 200))
            .filter(|s| !s.is_empty())
    };
    let (code, message) = (text("code"), text("message"));
    (code.is_some() || message.is_some()).then_some((code, message))
}

/// A URL path as messages show it: printable ASCII only (a path is percent-encoded, so
/// nothing is lost), cut at `max` characters. Unlike `sanitize`, long words stay: paths
/// hold no tokens, and `/accounts/5WT00001/transactions` is one long word.
pub fn shown_path(path: &str, max: usize) -> String {
    let mut out: String = path
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .take(max)
        .collect();
    if path.chars().count() > max {
        out.push('…');
    }
    out
}

/// The account numbers a URL path names: the segment after each `accounts` segment
/// (`/accounts/5WT00001/transactions`).
pub fn accounts_in_path(path: &str) -> Vec<String> {
    let segments: Vec<&str> = path.split('/').collect();
    segments
        .windows(2)
        .filter(|w| w[0] == "accounts" && !w[1].is_empty())
        .map(|w| w[1].to_string())
        .collect()
}

/// `text` with every account number masked: those in `known` wherever they appear, and
/// any word shaped like a Tastytrade account number (a digit, two letters or digits,
/// five digits: `5WT00001`).
pub fn mask_accounts(text: &str, known: &[String]) -> String {
    let mut out = text.to_string();
    for number in known.iter().filter(|n| !n.is_empty()) {
        out = out.replace(number.as_str(), &mask(number));
    }
    let mut masked = String::with_capacity(out.len());
    let mut word = String::new();
    let flush = |word: &mut String, masked: &mut String| {
        if looks_like_account_number(word) {
            masked.push_str(&mask(word));
        } else {
            masked.push_str(word);
        }
        word.clear();
    };
    for c in out.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut masked);
            masked.push(c);
        }
    }
    flush(&mut word, &mut masked);
    masked
}

fn looks_like_account_number(word: &str) -> bool {
    let b = word.as_bytes();
    b.len() == 8
        && b[0].is_ascii_digit()
        && b[1..3]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && b[3..].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_api_error_shape() {
        let (code, message) =
            api_error(br#"{"error":{"code":"not_found","message":"Route not found"}}"#).unwrap();
        assert_eq!(code.as_deref(), Some("not_found"));
        assert_eq!(message.as_deref(), Some("Route not found"));
        assert_eq!(api_error(br#"{"error":{}}"#), None);
        assert_eq!(api_error(b"<html>"), None);
        let (_, message) = api_error(
            "{\"error\":{\"message\":\"bad \\u001b[31m eyJhbGciOiJIUzI1NiJ9.eyJzdWIi.sig\"}}"
                .as_bytes(),
        )
        .unwrap();
        let message = message.unwrap();
        assert!(
            !message.contains('\x1b') && !message.contains("eyJ"),
            "{message}"
        );
    }

    #[test]
    fn paths_are_shown_whole_but_printable() {
        assert_eq!(
            shown_path("/accounts/5WT00001/transactions", 120),
            "/accounts/5WT00001/transactions"
        );
        assert_eq!(shown_path("/a\x1bb", 120), "/a?b");
        assert_eq!(shown_path("/abcdef", 3), "/ab…");
    }

    #[test]
    fn finds_account_numbers_in_paths() {
        assert_eq!(
            accounts_in_path("/accounts/5WT00001/transactions"),
            ["5WT00001"]
        );
        assert!(accounts_in_path("/customers/me/accounts").is_empty());
        assert_eq!(accounts_in_path("/accounts/abc/positions"), ["abc"]);
    }

    #[test]
    fn masks_known_and_shaped_numbers() {
        let known = vec!["ABC".to_string()];
        assert_eq!(
            mask_accounts("Account 5WT00001 and ABC not found", &known),
            "Account ••••0001 and •••• not found"
        );
        assert_eq!(
            mask_accounts("GET /accounts/5YZ12345/transactions", &[]),
            "GET /accounts/••••2345/transactions"
        );
        // Other words are left alone: symbols, dates, longer numbers.
        let plain = "SPXW 251219 5WT000012 2025-12-19 not_found";
        assert_eq!(mask_accounts(plain, &[]), plain);
    }
}
