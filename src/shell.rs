//! Quoting for `ttvault export`: each format reads back every byte of every value exactly
//! (quotes, `$`, backslashes, newlines). Dotenv is the exception that refuses: see
//! [`crate::dotenv::render_sourceable`].

use crate::env::Var;
use zeroize::Zeroizing;

/// The forms `export` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportFormat {
    /// POSIX sh, bash, zsh: `export NAME='value'`.
    #[default]
    Sh,
    /// fish: `set -gx NAME 'value'`.
    Fish,
    /// PowerShell: `$env:NAME = 'value'`.
    Powershell,
    /// A dotenv file.
    Dotenv,
    /// One JSON object.
    Json,
}

/// The whole export text in `format`. Fails only for a dotenv value that no single-quoted
/// dotenv line can carry exactly.
pub fn render(format: ExportFormat, vars: &[Var]) -> crate::Result<Zeroizing<String>> {
    let mut out = Zeroizing::new(String::new());
    match format {
        ExportFormat::Sh => {
            for v in vars {
                out.push_str(&format!("export {}={}\n", v.name, *sh_quote(&v.value)));
            }
        }
        ExportFormat::Fish => {
            for v in vars {
                out.push_str(&format!("set -gx {} {}\n", v.name, *fish_quote(&v.value)));
            }
        }
        ExportFormat::Powershell => {
            for v in vars {
                out.push_str(&format!(
                    "$env:{} = {}\n",
                    v.name,
                    *powershell_quote(&v.value)
                ));
            }
        }
        ExportFormat::Dotenv => {
            let pairs: Vec<(&str, &str)> =
                vars.iter().map(|v| (v.name, v.value.as_str())).collect();
            out.push_str(&crate::dotenv::render_sourceable(&pairs)?);
        }
        ExportFormat::Json => {
            let map: serde_json::Map<String, serde_json::Value> = vars
                .iter()
                .map(|v| {
                    (
                        v.name.to_string(),
                        serde_json::Value::String(v.value.to_string()),
                    )
                })
                .collect();
            out.push_str(&serde_json::to_string_pretty(&map).unwrap_or_default());
            out.push('\n');
        }
    }
    Ok(out)
}

/// POSIX sh: single quotes keep every byte literally; a `'` closes, escapes, reopens.
pub fn sh_quote(value: &str) -> Zeroizing<String> {
    Zeroizing::new(format!("'{}'", value.replace('\'', r"'\''")))
}

/// fish: inside single quotes only `\\` and `\'` are escapes.
pub fn fish_quote(value: &str) -> Zeroizing<String> {
    Zeroizing::new(format!(
        "'{}'",
        value.replace('\\', r"\\").replace('\'', r"\'")
    ))
}

/// PowerShell: single-quoted strings are verbatim; `'` doubles. PowerShell also treats the
/// typographic quotes ‘ ’ ‚ ‛ as single quotes, so they double too.
pub fn powershell_quote(value: &str) -> Zeroizing<String> {
    let mut out = String::from("'");
    for c in value.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    Zeroizing::new(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_what_each_shell_needs() {
        assert_eq!(*sh_quote("a'b"), r"'a'\''b'");
        assert_eq!(*fish_quote(r"a'b\c"), r"'a\'b\\c'");
        assert_eq!(*powershell_quote("a'b"), "'a''b'");
        assert_eq!(*sh_quote("$HOME `x`"), "'$HOME `x`'");
    }
}
