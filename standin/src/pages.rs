//! The HTML of the authorize flow: the consent page and the error page. Self-contained (no
//! external assets) so it renders the same offline, in a browser or in a test's HTTP client.

use crate::http::Reply;

/// The hidden fields a consent form carries back to `POST /auth.html`, in order.
pub struct ConsentForm<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scope: &'a str,
    pub state: Option<&'a str>,
    pub code_challenge: Option<&'a str>,
    pub code_challenge_method: Option<&'a str>,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;\
padding:0 1rem;color:#222}h1{font-size:1.4rem}code{background:#f2f2f2;padding:0 .2rem}\
.note{color:#666;font-size:.9rem}button{font-size:1rem;padding:.5rem 1.5rem;margin-right:1rem}";

pub fn consent(form: &ConsentForm<'_>) -> Reply {
    let mut hidden = String::new();
    let mut field = |name: &str, value: Option<&str>| {
        if let Some(v) = value {
            hidden.push_str(&format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">\n",
                escape(v)
            ));
        }
    };
    field("client_id", Some(form.client_id));
    field("redirect_uri", Some(form.redirect_uri));
    field("response_type", Some("code"));
    field("scope", Some(form.scope));
    field("state", form.state);
    field("code_challenge", form.code_challenge);
    field("code_challenge_method", form.code_challenge_method);

    let scopes: String = form
        .scope
        .split(' ')
        .map(|s| format!("<li><code>{}</code>: {}</li>\n", escape(s), describe(s)))
        .collect();
    Reply::html(
        200,
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
             <title>Authorize application - Tastytrade stand-in</title>\
             <style>{STYLE}</style></head>\n<body>\n\
             <h1>Authorize <code>{client}</code></h1>\n\
             <p>This application asks for access to your account with these scopes:</p>\n\
             <ul>\n{scopes}</ul>\n\
             <p class=\"note\">You will be sent back to <code>{redirect}</code>.</p>\n\
             <form method=\"post\" action=\"/auth.html\">\n{hidden}\
             <button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\n\
             <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\n\
             </form>\n\
             <p class=\"note\">This is a local stand-in for Tastytrade, not my.tastytrade.com.</p>\n\
             </body>\n</html>\n",
            client = escape(form.client_id),
            redirect = escape(form.redirect_uri),
        ),
    )
}

pub fn error(status: u16, message: &str) -> Reply {
    Reply::html(
        status,
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
             <title>Authorization error - Tastytrade stand-in</title>\
             <style>{STYLE}</style></head>\n<body>\n\
             <h1>Authorization error</h1>\n<p>{}</p>\n</body>\n</html>\n",
            escape(message)
        ),
    )
}

fn describe(scope: &str) -> &'static str {
    match scope {
        "read" => "view accounts, positions, balances and market data",
        "trade" => "place and cancel orders",
        "openid" => "confirm who you are (OpenID Connect)",
        _ => "unknown scope",
    }
}

/// Escapes text for HTML content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
