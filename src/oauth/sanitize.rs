//! Text from the other side (error descriptions, account nicknames, OS messages about a
//! connection), made fit to show on a terminal or a page: the one function every piece of
//! server text passes through before a person sees it.

/// Runs of this many token characters look like a token, code or secret (a server may
/// echo what it was sent), so the word holding one is not repeated.
const TOKEN_RUN: usize = 24;

/// `text` without control characters (escape sequences, NUL, C1 controls, line breaks),
/// invisible formatting (bidirectional overrides, zero-width characters) and token-like
/// words, whitespace collapsed, at most `max` characters (an ellipsis marks a cut).
pub fn sanitize(text: &str, max: usize) -> String {
    let visible: String = text
        .chars()
        .map(|c| if is_hidden(c) { ' ' } else { c })
        .collect();
    let words: Vec<&str> = visible
        .split_whitespace()
        .map(|w| if has_token_run(w) { "[…]" } else { w })
        .collect();
    let mut out = words.join(" ");
    if let Some((cut, _)) = out.char_indices().nth(max) {
        out.truncate(cut);
        out.push('…');
    }
    out
}

/// Any 12 characters in a row of a secret are enough to help a guess; a secret shorter
/// than this is masked wherever it appears whole.
const SECRET_WINDOW: usize = 12;

/// `text` (words from a library ttvault does not control: the OS, TLS, a resolver) with
/// every stretch that repeats part of one of `secrets` replaced by `[…]`: any
/// [`SECRET_WINDOW`] bytes in a row of a secret, and the rest of the word they sit in.
/// A run of [`SECRET_WINDOW`] or more token characters is masked too, whatever it is: a
/// library's words may echo a secret of another request, one this request never carried
/// (the token fuzzer found a resolver error holding 12 characters of a PKCE verifier).
/// What is lost is a long identifier (`UnknownIssuer`); the message still names the kind
/// of failure.
pub fn mask_secrets(text: &str, secrets: &[&str]) -> String {
    mask(text, secrets, |_| true)
}

/// `text` (a server's own words, such as an OAuth error description) with every stretch
/// that repeats [`SECRET_WINDOW`] bytes of one of `secrets` replaced by `[…]`, and every
/// run of [`SECRET_WINDOW`] or more token characters that looks like a token (a digit, or
/// both cases: a server may echo a secret this request never carried, the token fuzzer
/// found). Words of one case without digits stay, so a server's codes (`invalid_grant`,
/// `unauthorized_client`) are still read.
pub fn mask_secret_pieces(text: &str, secrets: &[&str]) -> String {
    mask(text, secrets, |run| {
        let has = |f: fn(&u8) -> bool| run.iter().any(f);
        has(u8::is_ascii_digit) || (has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase))
    })
}

/// Masks the runs of [`SECRET_WINDOW`] or more token characters that `long_run` picks,
/// and every piece of `secrets`, each widened to its whole word.
fn mask(text: &str, secrets: &[&str], long_run: impl Fn(&[u8]) -> bool) -> String {
    let bytes = text.as_bytes();
    let mut hidden = vec![false; bytes.len()];
    let token = |b: u8| b.is_ascii_alphanumeric() || b"-_~+/=".contains(&b);
    let mut start = 0;
    while start < bytes.len() {
        let end = start + bytes[start..].iter().take_while(|&&b| token(b)).count();
        if end - start >= SECRET_WINDOW && long_run(&bytes[start..end]) {
            hidden[start..end].fill(true);
        }
        start = end + 1;
    }
    for secret in secrets
        .iter()
        .map(|s| s.as_bytes())
        .filter(|s| !s.is_empty())
    {
        let window = secret.len().min(SECRET_WINDOW);
        for piece in secret.windows(window) {
            for start in 0..bytes.len().saturating_sub(window - 1) {
                if &bytes[start..start + window] == piece {
                    hidden[start..start + window].fill(true);
                }
            }
        }
    }
    if !hidden.contains(&true) {
        return text.to_string();
    }
    // Widen to whole words, so no fragment of a secret is left beside the mask.
    let word = |b: u8| !b.is_ascii_whitespace();
    for i in 1..bytes.len() {
        if hidden[i - 1] && word(bytes[i]) {
            hidden[i] = true;
        }
    }
    for i in (0..bytes.len().saturating_sub(1)).rev() {
        if hidden[i + 1] && word(bytes[i]) {
            hidden[i] = true;
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut in_mask = false;
    for (i, c) in text.char_indices() {
        if hidden[i] {
            if !in_mask {
                out.push_str("[…]");
            }
            in_mask = true;
        } else {
            in_mask = false;
            out.push(c);
        }
    }
    out
}

/// `text` for a terminal with every hidden character (see [`is_hidden`]) but line breaks
/// and tabs shown escaped (`\u{202e}`), nothing removed: for data a person asked for
/// (`api` bodies and `-i` headers at a terminal), where what was sent must stay visible.
pub fn escape_hidden(text: &str) -> std::borrow::Cow<'_, str> {
    let escaped = |c: char| is_hidden(c) && c != '\n' && c != '\t';
    if !text.chars().any(escaped) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if escaped(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Characters that move the cursor, change colours, reorder or hide text: C0 and C1
/// controls, bidirectional controls (embeddings, overrides, isolates, LRM, RLM and the
/// Arabic letter mark), zero-width characters. The one list for all server text.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061c}' // Arabic letter mark (a bidi control)
            | '\u{180e}' // Mongolian vowel separator (zero width)
            | '\u{200b}'..='\u{200f}' // zero-width spaces and joiners, LRM, RLM
            | '\u{2028}'..='\u{202e}' // line/paragraph separators, bidi embeddings, overrides
            | '\u{2060}'..='\u{206f}' // word joiner, invisible operators, bidi isolates
            | '\u{feff}' // zero-width no-break space
            | '\u{fff9}'..='\u{fffb}' // interlinear annotations
        )
}

fn has_token_run(word: &str) -> bool {
    let mut run = 0;
    for c in word.chars() {
        // `.` counts: a JWT's parts may each be short, the whole is not.
        if c.is_ascii_alphanumeric() || "-_~+/=.".contains(c) {
            run += 1;
            if run >= TOKEN_RUN {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_servers_codes_stay_and_token_like_runs_go() {
        let said = mask_secret_pieces("`invalid_grant`: in9ndXNTaWduYXr and s3cr3tpiece12", &[]);
        assert!(said.starts_with("`invalid_grant`: "), "{said}");
        assert!(
            !said.contains("in9ndXNTaWduYXr") && !said.contains("s3cr3t"),
            "{said}"
        );
        let kept = mask_secret_pieces("unauthorized_client: Client secret mismatch", &[]);
        assert_eq!(kept, "unauthorized_client: Client secret mismatch");
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let s = sanitize("Main\x1b[2J\x1b]0;pwned\x07 IRA\r\nline\u{9b}31m\0end", 200);
        assert!(!s.chars().any(|c| c.is_control()), "{s:?}");
        assert_eq!(s, "Main [2J ]0;pwned IRA line 31m end");
    }

    #[test]
    fn invisible_reordering_is_removed_but_text_is_kept() {
        let s = sanitize("Roth \u{202e}AEI\u{202c} — Ma’s \u{200b}account", 200);
        assert_eq!(s, "Roth AEI — Ma’s account");
    }

    #[test]
    fn escaping_keeps_text_and_shows_every_hidden_character() {
        assert_eq!(escape_hidden("plain\ttext\n"), "plain\ttext\n");
        for c in [
            '\u{1b}', '\u{9b}', '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{200e}',
            '\u{200f}', '\u{061c}', '\u{200b}', '\u{2060}', '\u{feff}',
        ] {
            let shown = escape_hidden(&format!("a{c}b")).into_owned();
            assert_eq!(shown, format!("a{}b", c.escape_unicode()));
            assert_eq!(sanitize(&format!("a{c}b"), 10), "a b");
        }
    }

    #[test]
    fn secrets_the_request_carried_are_masked_in_any_words() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        // The fuzzer's find: a resolver's words holding 12 characters of the verifier.
        let said = "its host name does not resolve (0 \u{fffd}1r_wW1gFWFOE./)";
        let masked = mask_secrets(said, &[verifier, "hunter2"]);
        assert_eq!(masked, "its host name does not resolve (0 […]");
        assert_eq!(mask_secrets("no hunter2 here", &["hunter2"]), "no […] here");
        assert_eq!(
            mask_secrets("Connection refused (os error 111)", &[verifier, ""]),
            "Connection refused (os error 111)"
        );
        // Long runs go whoever's they are; the sentence around them stays.
        assert_eq!(
            mask_secrets("invalid peer certificate: UnknownIssuer", &[]),
            "invalid peer certificate: […]"
        );
    }

    #[test]
    fn token_like_words_are_not_repeated() {
        let s = sanitize(
            "bad token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc here x=aaaaaaaaaaaaaaaaaaaaaaaaaaaa,",
            200,
        );
        assert_eq!(s, "bad token […] here […]");
        assert_eq!(
            sanitize("api.cert.tastyworks.com is fine", 200),
            "api.cert.tastyworks.com is fine"
        );
        assert_eq!(sanitize("a.b.c-d_e~f+g/h=i.j.k.l.mm", 200), "[…]");
    }

    #[test]
    fn length_is_bounded_in_characters() {
        assert_eq!(sanitize(&"word ".repeat(100), 20).chars().count(), 21);
        assert_eq!(
            sanitize(&"é".repeat(30), 10),
            format!("{}…", "é".repeat(10))
        );
        assert_eq!(sanitize("short", 10), "short");
        assert_eq!(sanitize("", 10), "");
    }
}
