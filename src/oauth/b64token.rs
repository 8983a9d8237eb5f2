//! The shape a token may have when it crosses into ttvault. RFC 6750 §2.1 defines bearer
//! tokens as `b64token`: letters, digits and `-._~+/`, then optional `=` padding. A token
//! outside that set could carry shell syntax into a sourced file, a NUL into an
//! environment, or escape sequences onto a terminal, so it is refused where it arrives
//! (from the network, or pasted) and never repeated.

/// Longer tokens are refused: real ones are well under 2 KiB, and a cap keeps a hostile
/// answer from filling environments and files.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// What is wrong with a token (the token itself is never kept or shown).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    Empty,
    /// Longer than [`MAX_TOKEN_LEN`] bytes.
    TooLong(usize),
    /// A character outside RFC 6750's `b64token` set (or `=` before the end).
    BadCharacter,
}

impl Problem {
    /// For people, never naming the token's content.
    pub fn describe(self) -> String {
        match self {
            Problem::Empty => "it is empty".into(),
            Problem::TooLong(len) => {
                format!("it is {len} bytes long, more than the {MAX_TOKEN_LEN} a token may have")
            }
            Problem::BadCharacter => "it holds characters a token cannot have (RFC 6750 allows \
                                      letters, digits and -._~+/ with = padding)"
                .into(),
        }
    }
}

/// Checks `token` against RFC 6750's `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" /
/// "~" / "+" / "/" ) *"="`.
pub fn check(token: &str) -> Result<(), Problem> {
    if token.is_empty() {
        return Err(Problem::Empty);
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(Problem::TooLong(token.len()));
    }
    let body = token.trim_end_matches('=');
    let body_ok = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    if body_ok {
        Ok(())
    } else {
        Err(Problem::BadCharacter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_token_shapes_pass() {
        for t in [
            "eyJhbGciOiJFZERTQSIsInR5cCI6InJ0K2p3dCJ9.eyJpc3MiOiJ4In0.c2ln",
            "opaque-refresh_token~1",
            "YWJj+/==",
            "a",
        ] {
            assert_eq!(check(t), Ok(()), "{t}");
        }
        assert_eq!(check(&"a".repeat(MAX_TOKEN_LEN)), Ok(()));
    }

    #[test]
    fn hostile_shapes_are_refused() {
        for t in [
            "$(touch pwned)",
            "a'b",
            "a b",
            "a\0b",
            "\x1b[31mred",
            "a\nb",
            "tok;rm",
            "=abc",
            "==",
            "ab=c",
            "é",
        ] {
            assert_eq!(check(t), Err(Problem::BadCharacter), "{t:?}");
        }
        assert_eq!(check(""), Err(Problem::Empty));
        assert_eq!(
            check(&"a".repeat(MAX_TOKEN_LEN + 1)),
            Err(Problem::TooLong(MAX_TOKEN_LEN + 1))
        );
        assert!(!Problem::BadCharacter.describe().contains('$'));
    }
}
