//! Opening the start page in a browser. Failing to is never fatal: the URL is always
//! printed, and the wait goes on (headless servers, SSH sessions).
//!
//! The start address never goes on a command line: on Linux without `hidepid` every
//! local user can read `/proc/PID/cmdline` of the opener (and of a browser it starts),
//! and the start page leads to the state. So ttvault writes a small redirect page, 0600,
//! into its private runtime directory and hands the browser that file's `file://` path;
//! the page is removed when the flow ends ([`StartPage`]'s drop).

use std::path::{Path, PathBuf};
use std::process::Stdio;

/// The redirect page that carries the start address to the browser.
pub struct StartPage {
    path: PathBuf,
}

impl StartPage {
    /// Writes a page that sends the browser on to `url` into `dir` (which must be private:
    /// the agent directory), readable by the user alone, under a fresh random name.
    pub fn write(dir: &Path, url: &str) -> std::io::Result<StartPage> {
        use std::io::Write;
        let name = format!(
            "start-{}.html",
            oauth2::CsrfToken::new_random_len(9).into_secret()
        );
        let path = dir.join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path)?;
        let page = StartPage { path };
        let href = crate::oauth::pages::escape(url);
        // A script goes on at once (before the page's load event, which is when a headless
        // browser's `--dump-dom` is done); the refresh and the link are for browsers
        // without scripts. The URL is ttvault's own (host, port, random path): no `<`.
        let js = serde_json::to_string(url)
            .unwrap_or_default()
            .replace('<', "\\u003c");
        writeln!(
            file,
            "<!doctype html><html><head><meta charset=\"utf-8\">\
             <meta http-equiv=\"refresh\" content=\"0;url={href}\">\
             <script>location.replace({js})</script>\
             <title>ttvault</title></head><body>\
             <p><a href=\"{href}\">Continue to ttvault's sign-in page</a></p></body></html>"
        )?;
        file.sync_all()?;
        Ok(page)
    }

    /// The page's `file://` address: what the browser is given.
    pub fn file_url(&self) -> String {
        url::Url::from_file_path(&self.path)
            .map(String::from)
            .unwrap_or_else(|()| format!("file://{}", self.path.display()))
    }
}

impl Drop for StartPage {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Opens the start address `url` through a [`StartPage`] in the private runtime
/// directory; keep the page until the flow ends. `Err` says why not, for a notice (the
/// address is printed anyway); the address is never passed as an argument.
#[cfg(unix)]
pub fn open_start(url: &str) -> Result<StartPage, String> {
    let dir = crate::agent::paths::socket_dir(true).map_err(|e| e.message)?;
    let page = StartPage::write(&dir, url)
        .map_err(|e| format!("could not write the start page in {}: {e}", dir.display()))?;
    open(&page.file_url())?;
    Ok(page)
}

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
    open_with(crate::settings::get().browser.as_deref(), url)
}

fn open_with(browser_var: Option<&str>, url: &str) -> Result<(), String> {
    let Some(words) = command_for(browser_var, url) else {
        return Err("$BROWSER could not be parsed".into());
    };
    let (program, args) = words.split_first().ok_or("no browser command")?;
    let mut child = crate::spawn::command(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start `{program}`: {e}"))?;
    // The opener (xdg-open returns at once; a browser may run for hours) is waited for
    // on a thread of its own, so it never lingers as a zombie while ttvault waits.
    // Without a thread to spare, the child is reaped when ttvault exits.
    let _ = std::thread::Builder::new()
        .name("ttvault-opener".into())
        .spawn(move || {
            let _ = child.wait();
        });
    Ok(())
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

    /// The opener is reaped once it exits: its process entry goes away while ttvault
    /// still runs (a zombie would keep it, state `Z`, until ttvault exits).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_opener_is_reaped_when_it_exits() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("opener.pid");
        let browser = format!("sh -c 'echo $$ > \"$1\"' sh {}", pid_file.display());
        open_with(Some(&browser), URL).unwrap();
        let pid = wait_for(|| {
            std::fs::read_to_string(&pid_file)
                .ok()
                .filter(|s| s.ends_with('\n'))
                .and_then(|s| s.trim().parse::<u32>().ok())
        });
        wait_for(|| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok();
            // Gone, or the number already reused by a process that is not our child.
            let ours = stat.as_ref().is_some_and(|s| {
                s.rsplit(')')
                    .next()
                    .and_then(|rest| rest.split_whitespace().nth(1))
                    == Some(&std::process::id().to_string())
            });
            (!ours).then_some(())
        });
    }

    /// Polls `probe` until it gives a value; a minute without one fails the test (the
    /// event it waits for never came).
    #[cfg(target_os = "linux")]
    fn wait_for<T>(mut probe: impl FnMut() -> Option<T>) -> T {
        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(v) = probe() {
                return v;
            }
            assert!(
                std::time::Instant::now() < give_up,
                "the awaited event never came"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_start_page_is_private_leads_on_and_goes_away() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let start = "http://localhost:8000/start/AbC-d_9";
        let page = StartPage::write(dir.path(), start).unwrap();
        let url = page.file_url();
        assert!(url.starts_with("file:///"), "{url}");
        assert!(!url.contains("/start/"), "{url}");
        let path = url::Url::parse(&url).unwrap().to_file_path().unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let html = std::fs::read_to_string(&path).unwrap();
        assert!(
            html.contains(&format!("content=\"0;url={start}\"")),
            "{html}"
        );
        assert!(
            html.contains(&format!("location.replace(\"{start}\")")),
            "{html}"
        );
        drop(page);
        assert!(!path.exists());
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
