//! Opening the authorize page in a browser. Failing to is never fatal: the URL is
//! always printed, and the wait goes on (headless servers, SSH sessions).

use std::process::{Command, Stdio};

/// The command that opens `url`: `$BROWSER` when set (split like a command line; the
/// URL replaces a `%s` or is appended), else the platform's default opener.
pub fn command_for(browser_var: Option<&str>, url: &str) -> Option<Vec<String>> {
    if let Some(var) = browser_var.filter(|v| !v.trim().is_empty()) {
        // `$BROWSER` may list several commands separated by `:` (the xdg convention);
        // the first is used.
        let first = var.split(':').next().unwrap_or(var);
        let mut words = shell_words::split(first).ok()?;
        if words.is_empty() {
            return None;
        }
        if words.iter().any(|w| w.contains("%s")) {
            for w in &mut words {
                *w = w.replace("%s", url);
            }
        } else {
            words.push(url.to_string());
        }
        return Some(words);
    }
    platform_default(url)
}

#[cfg(target_os = "macos")]
fn platform_default(url: &str) -> Option<Vec<String>> {
    Some(vec!["open".into(), url.into()])
}

#[cfg(windows)]
fn platform_default(url: &str) -> Option<Vec<String>> {
    // Not `cmd /c start`: cmd would read the URL's `&`s as command separators.
    // FileProtocolHandler hands the URL to the default browser untouched.
    Some(vec![
        "rundll32".into(),
        "url.dll,FileProtocolHandler".into(),
        url.into(),
    ])
}

#[cfg(not(any(target_os = "macos", windows)))]
fn platform_default(url: &str) -> Option<Vec<String>> {
    Some(vec!["xdg-open".into(), url.into()])
}

/// Tries to open `url`; `Err` says why not, for a one-line notice.
pub fn open(url: &str) -> Result<(), String> {
    open_with(std::env::var("BROWSER").ok().as_deref(), url)
}

fn open_with(browser_var: Option<&str>, url: &str) -> Result<(), String> {
    let Some(words) = command_for(browser_var, url) else {
        return Err("$BROWSER could not be parsed".into());
    };
    let (program, args) = words.split_first().ok_or("no browser command")?;
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_child| ())
        .map_err(|e| format!("could not start `{program}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://my.tastytrade.com/auth.html?client_id=a&state=b";

    #[test]
    fn browser_variable_is_split_and_gets_the_url() {
        assert_eq!(
            command_for(Some("firefox --new-window"), URL).unwrap(),
            vec!["firefox", "--new-window", URL]
        );
        assert_eq!(
            command_for(Some("'/opt/My Browser/bin' -x"), URL).unwrap(),
            vec!["/opt/My Browser/bin", "-x", URL]
        );
        assert_eq!(
            command_for(Some("w3m %s:lynx"), URL).unwrap(),
            vec!["w3m", URL]
        );
        assert_eq!(command_for(Some("'unclosed"), URL), None);
    }

    #[test]
    fn without_browser_variable_the_platform_opener_is_used() {
        let cmd = command_for(None, URL).unwrap();
        assert_eq!(cmd.last().map(String::as_str), Some(URL));
        assert_eq!(command_for(Some("  "), URL), command_for(None, URL));
    }

    #[test]
    fn a_missing_browser_is_a_notice_not_a_failure() {
        let e = open_with(Some("/nonexistent/ttvault-test-browser"), URL).unwrap_err();
        assert!(e.contains("could not start"), "{e}");
        assert!(
            !e.contains("state=b"),
            "the URL is printed separately, not in the notice"
        );
        assert!(open_with(Some("'unclosed"), URL).is_err());
    }
}
