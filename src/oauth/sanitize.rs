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
