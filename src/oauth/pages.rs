//! The local server's pages: self-contained HTML (no scripts, no external assets: nothing
//! for a Referer to leak the callback's code to), and never a secret. Every piece of
//! text put in a page is HTML-escaped.

/// The headers every page is served with: no caching (the callback URL carries the
/// code), no framing, nothing loaded from anywhere, and no referrer to other sites.
/// `same-origin` rather than `no-referrer`: under `no-referrer` browsers send the form's
/// POST with `Origin: null`, which the Origin check must refuse (found with Chromium).
/// No `form-action`: browsers apply it to the redirect after the form too, which would
/// block the way on to the authorize page; with no scripts, the form's fixed `action`
/// cannot be changed anyway.
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    ),
];

const STYLE: &str = "body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:36em;\
margin:3em auto;padding:0 1em;color:#222;line-height:1.5}h1{font-size:1.4em}\
.ok{color:#1a7f37}.bad{color:#b42318}label{display:block;margin-top:1em;font-weight:600}\
input[type=text],input[type=password]{width:100%;padding:.5em;font:inherit;box-sizing:border-box}\
button{margin-top:1.5em;padding:.6em 1.5em;font:inherit}code{background:#f2f2f2;padding:0 .2em}";

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A message for a page: escaped, with its code spans (text between backticks, as the
/// terminal shows them) set as `<code>`; a backtick without a partner is left out.
fn prose(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    let mut out = String::with_capacity(text.len());
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 1 && i + 1 < parts.len() {
            out.push_str("<code>");
            out.push_str(&escape(part));
            out.push_str("</code>");
        } else {
            out.push_str(&escape(part));
        }
    }
    out
}

fn page(title: &str, class: &str, body_html: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>ttvault: {t}</title><style>{STYLE}</style></head>\
         <body><h1 class=\"{class}\">{t}</h1>{body_html}</body></html>\n",
        t = escape(title)
    )
}

/// Asks for the client id and secret. The
/// CSRF token is this page's own per-run value, not a credential.
pub fn credentials_form(csrf: &str, client_id: Option<&str>, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"bad\">{}</p>", escape(e)))
        .unwrap_or_default();
    page(
        "Connect ttvault to Tastytrade",
        "",
        &format!(
            "{error}<p>Enter the <b>Client ID</b> and <b>Client Secret</b> of your OAuth application \
             (tastytrade.com → Manage → My Profile → API). They go only to ttvault on this computer, \
             which sends them to Tastytrade and stores them encrypted.</p>\
             <form method=\"post\" action=\"/credentials\" autocomplete=\"off\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label for=\"client_id\">Client ID</label>\
             <input type=\"text\" id=\"client_id\" name=\"client_id\" value=\"{client_id}\" required spellcheck=\"false\">\
             <label for=\"client_secret\">Client Secret</label>\
             <input type=\"password\" id=\"client_secret\" name=\"client_secret\" required>\
             <button type=\"submit\">Continue to Tastytrade</button></form>",
            csrf = escape(csrf),
            client_id = escape(client_id.unwrap_or_default()),
        ),
    )
}

/// After the grant was verified and the vault written.
pub fn success(detail: &str) -> String {
    page(
        "ttvault is connected",
        "ok",
        &format!(
            "<p>{}</p><p>You can close this tab and return to the terminal.</p>",
            prose(detail)
        ),
    )
}

/// The flow failed; the terminal has the details and what to do.
pub fn failure(message: &str) -> String {
    page(
        "ttvault could not finish",
        "bad",
        &format!(
            "<p>{}</p><p>Nothing was saved. The terminal says what to do next.</p>",
            prose(message)
        ),
    )
}

/// A request the server refuses but keeps waiting after.
pub fn refused(title: &str, message: &str) -> String {
    page(
        title,
        "bad",
        &format!(
            "<p>{}</p><p>ttvault is still waiting for Tastytrade's answer; the terminal shows the \
             address to open.</p>",
            prose(message)
        ),
    )
}

/// A callback that came after the real one.
pub fn already_used() -> String {
    page(
        "This sign-in was already used",
        "bad",
        "<p>ttvault has already received Tastytrade's answer for this run. \
         Look at the terminal; to start over, run the command again.</p>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let p = failure("<script>alert(1)</script>");
        assert!(!p.contains("<script>"));
    }

    #[test]
    fn code_spans_become_code_and_no_backtick_is_shown() {
        let p = failure("Tastytrade refused the client (`invalid_client`: bad `x<y`)");
        assert!(p.contains("(<code>invalid_client</code>: bad <code>x&lt;y</code>)"));
        assert!(!p.contains('`'));
        let p = refused("t", "a lone ` backtick");
        assert!(p.contains("a lone  backtick"));
        assert!(!p.contains('`'));
        assert!(!success("done `ok`").contains('`'));
    }

    #[test]
    fn pages_are_self_contained() {
        for p in [
            credentials_form("csrf", Some("cid"), Some("wrong")),
            success("done"),
            failure("x"),
            refused("t", "m"),
            already_used(),
        ] {
            assert!(p.starts_with("<!doctype html>"));
            for external in [
                "http://", "https://", "src=", "<script", "<link", "@import", "url(",
            ] {
                assert!(!p.contains(external), "{external} in {p}");
            }
        }
    }

    #[test]
    fn the_form_posts_to_credentials_with_its_csrf_token() {
        let p = credentials_form("tok&1", Some("a\"b"), None);
        assert!(p.contains("value=\"a&quot;b\""));
        assert!(p.contains("action=\"/credentials\""));
        assert!(p.contains("method=\"post\""));
        assert!(p.contains("name=\"csrf\" value=\"tok&amp;1\""));
        assert!(p.contains("type=\"password\""));
    }
}
