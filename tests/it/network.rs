//! Hostile answers from the network: a fake Tastytrade inside the test (endless bodies,
//! tokens with shell syntax, escape sequences in server text), and the dotenv export read
//! by sh and python-dotenv. Each runs the real binary. (Endpoints: `endpoints.rs`;
//! Tastytrade's unknowns: `unknowns.rs`.)

use crate::common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tt_standin::{Config, StandIn};

/// What the hostile server answers.
enum Answer {
    /// A whole HTTP response: status, content type, body.
    Fixed(u16, &'static str, String),
    /// A 200 whose body never ends (no Content-Length, up to 3000 MiB of `x`).
    Endless,
}

/// A fake endpoint on loopback: answers every request by its path; counts requests and
/// the body bytes it managed to write.
struct Hostile {
    url: String,
    requests: Arc<AtomicUsize>,
    written: Arc<AtomicU64>,
}

impl Hostile {
    fn start(answer: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let written = Arc::new(AtomicU64::new(0));
        let (r, w) = (Arc::clone(&requests), Arc::clone(&written));
        let answer = Arc::new(answer);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (r, w, answer) = (Arc::clone(&r), Arc::clone(&w), Arc::clone(&answer));
                std::thread::spawn(move || serve(stream, &r, &w, &*answer));
            }
        });
        Hostile {
            url,
            requests,
            written,
        }
    }
}

fn serve(
    stream: std::net::TcpStream,
    requests: &AtomicUsize,
    written: &AtomicU64,
    answer: &dyn Fn(&str) -> Answer,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        let mut first = String::new();
        if reader.read_line(&mut first).unwrap_or(0) == 0 {
            return;
        }
        let path = first.split(' ').nth(1).unwrap_or("/").to_string();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        let _ = reader.read_exact(&mut body);
        requests.fetch_add(1, Ordering::SeqCst);
        let mut out = &stream;
        match answer(&path) {
            Answer::Fixed(status, ct, body) => {
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                if out.write_all(head.as_bytes()).is_err()
                    || out.write_all(body.as_bytes()).is_err()
                {
                    return;
                }
            }
            Answer::Endless => {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"access_token\":\"";
                if out.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = vec![b'x'; 64 * 1024];
                while written.load(Ordering::SeqCst) < 3000 * 1024 * 1024 {
                    match out.write(&chunk) {
                        Ok(n) if n > 0 => {
                            written.fetch_add(n as u64, Ordering::SeqCst);
                        }
                        _ => return,
                    }
                }
                return;
            }
        }
    }
}

/// A vault whose stored endpoints are `api_url` (imported, so nothing was asked of it).
fn vault_at(dir: &Dir, api_url: &str) {
    dir.passphrase_files();
    dir.legacy_secrets("legacy.env");
    let run = Run::from(
        dir.cmd(&["import", "legacy.env", "--passphrase-file", "pw"])
            .env("TTVAULT_API_URL", api_url)
            .output()
            .unwrap(),
    );
    run.success();
}

#[test]
fn a_3000_mib_answer_is_cut_at_1_mib_and_exits_5() {
    let hostile = Hostile::start(|_| Answer::Endless);
    let dir = Dir::new();
    vault_at(&dir, &hostile.url);
    let run = dir.run(&["token", "--passphrase-file", "pw"]);
    run.code(5).stderr_has("more than 1024 KiB");
    assert!(run.stdout.is_empty());
    // ttvault hung up after about 1 MiB (plus what the sockets buffer): it never took in
    // the 3000 MiB, so its memory could not grow with them.
    let taken = hostile.written.load(Ordering::SeqCst);
    assert!(taken < 256 * 1024 * 1024, "{taken} bytes were taken");
    assert_eq!(
        hostile.requests.load(Ordering::SeqCst),
        1,
        "no retry of a hostile answer"
    );
}

#[test]
fn tokens_with_shell_syntax_nul_or_escapes_are_refused_unrepeated() {
    for token in [
        r#"$(touch pwned)"#,
        r#"x\u0000y"#,
        r#"\u001b]0;owned\u0007\u001b[2J"#,
        r#"a'; touch pwned; '"#,
    ] {
        let body = format!(r#"{{"access_token":"{token}","expires_in":900}}"#);
        let hostile = Hostile::start(move |_| Answer::Fixed(200, "application/json", body.clone()));
        let dir = Dir::new();
        vault_at(&dir, &hostile.url);
        for args in [
            &["token", "--passphrase-file", "pw"][..],
            &["export", "--format", "dotenv", "--passphrase-file", "pw"][..],
            &[
                "exec",
                "--passphrase-file",
                "pw",
                "--",
                "sh",
                "-c",
                "touch ran",
            ][..],
        ] {
            let run = dir.run(args);
            run.code(5).stderr_has("will not use");
            assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
            for shown in ["touch", "owned", "\u{1b}", "\0"] {
                assert!(!run.stderr.contains(shown), "{args:?}: {:?}", run.stderr);
            }
            assert!(!dir.join("ran").exists(), "the program must not start");
        }
        assert!(!dir.join("pwned").exists());
    }
}

#[test]
fn server_text_reaches_the_terminal_without_control_characters() {
    // An error description with escape sequences.
    let hostile = Hostile::start(|_| {
        Answer::Fixed(
            400,
            "application/json",
            r#"{"error_code":"invalid_grant","error_description":"Grant \u001b[2J\u001b]0;owned\u0007revoked\u202e"}"#.into(),
        )
    });
    let dir = Dir::new();
    vault_at(&dir, &hostile.url);
    let run = dir.run(&["token", "--passphrase-file", "pw"]);
    run.code(4).stderr_has("Grant [2J ]0;owned revoked");
    assert!(
        !run.stderr.chars().any(|c| c.is_control() && c != '\n'),
        "{:?}",
        run.stderr
    );
    assert!(!run.stderr.contains('\u{202e}'));

    // An account nickname with escape sequences, shown by init.
    let hostile = Hostile::start(|path| {
        if path.starts_with("/oauth/token") {
            Answer::Fixed(
                200,
                "application/json",
                r#"{"access_token":"at-1","expires_in":900}"#.into(),
            )
        } else {
            Answer::Fixed(
                200,
                "application/json",
                r#"{"data":{"items":[{"account":{"account-number":"5WT00001","nickname":"Main\u001b[31m\u001b]8;;http://evil\u0007IRA"},"authority-level":"owner"}]}}"#.into(),
            )
        }
    });
    let dir = Dir::new();
    dir.passphrase_files();
    let run = Run::from(
        dir.cmd(&[
            "init",
            "--paste",
            "--client-id",
            CLIENT_ID,
            "--passphrase-file",
            "pw",
        ])
        .env("TTVAULT_API_URL", &hostile.url)
        .env("TTVAULT_CLIENT_SECRET", CLIENT_SECRET)
        .env("TTVAULT_REFRESH_TOKEN", REFRESH_TOKEN)
        .output()
        .unwrap(),
    );
    run.success().stdout_has("Main [31m ]8;;http://evil IRA");
    assert!(
        !run.stdout.chars().any(|c| c.is_control() && c != '\n'),
        "{:?}",
        run.stdout
    );
}

#[test]
fn a_dotenv_export_is_read_byte_exact_by_sh_and_python_dotenv() {
    let s = standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read");
    let out = dir.run_at(
        &s,
        &[
            "export",
            "--format",
            "dotenv",
            "--long-lived",
            "--passphrase-file",
            "pw",
        ],
    );
    // The output holds the long-lived secrets by request: not `code(0)`, which forbids them.
    assert_eq!(out.status, Some(0), "{}", out.stderr);
    dir.write("exported.env", &out.stdout);
    for line in out.stdout.lines() {
        let (_, value) = line.split_once('=').unwrap();
        assert!(value.starts_with('\'') && value.ends_with('\''), "{line}");
    }
    let names = [
        "TT_ACCESS_TOKEN",
        "TT_API_BASE_URL",
        "TT_API_CLIENT_ID",
        "TT_API_CLIENT_SECRET",
        "TT_REFRESH_TOKEN",
    ];
    // sh, the way the README says to load it.
    let script = format!(
        "set -a; . ./exported.env; for n in {}; do eval \"printf '%s\\\\0' \\\"\\${{$n}}\\\"\"; done",
        names.join(" ")
    );
    let sh = Command::new("sh")
        .args(["-c", &script])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(sh.status.success());
    let from_sh: Vec<String> = String::from_utf8(sh.stdout)
        .unwrap()
        .split('\0')
        .map(str::to_string)
        .collect();
    assert_eq!(from_sh[2], CLIENT_ID);
    assert!(from_sh[3] == CLIENT_SECRET && from_sh[4] == refresh);
    assert_eq!(from_sh[1], s.base_url());
    assert!(from_sh[0].starts_with("eyJ"));

    let Some(python) = python_with("dotenv") else {
        return;
    };
    let py = Command::new(python)
        .args([
            "-c",
            "import sys, dotenv\nv = dotenv.dotenv_values('exported.env')\nsys.stdout.write('\\0'.join(v[n] for n in sys.argv[1:]) + '\\0')",
        ])
        .args(names)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let from_python: Vec<String> = String::from_utf8(py.stdout)
        .unwrap()
        .split('\0')
        .map(str::to_string)
        .collect();
    assert!(
        from_python == from_sh,
        "python-dotenv and sh read the same bytes"
    );
}

#[test]
fn a_dotenv_export_refuses_a_secret_the_readers_would_disagree_on() {
    let awkward = "cs-SECRET-9b1e-do-not-print${HOME}";
    let s = StandIn::start(Config::default()).unwrap();
    s.register_app(CLIENT_ID, awkward, &["http://localhost:8000"]);
    let refresh = s.personal_grant(CLIENT_ID, "read");
    let dir = Dir::new();
    dir.passphrase_files();
    dir.write(
        "legacy.env",
        format!("TT_API_CLIENT_ID={CLIENT_ID}\nTT_API_CLIENT_SECRET='{awkward}'\nTT_REFRESH_TOKEN={refresh}\n"),
    );
    dir.run_at(&s, &["import", "legacy.env", "--passphrase-file", "pw"])
        .success();
    let run = dir.run_at(
        &s,
        &[
            "export",
            "--format",
            "dotenv",
            "--long-lived",
            "--passphrase-file",
            "pw",
        ],
    );
    run.code(1)
        .stderr_has("TT_API_CLIENT_SECRET")
        .stderr_has("--format sh");
    assert!(run.stdout.is_empty());
    assert!(!run.stderr.contains("${HOME}"));
}

/// An API answer with bidirectional and zero-width characters: escaped at a terminal
/// (they could reorder what the screen shows), the bytes as received when piped.
#[test]
fn api_bidi_and_zero_width_characters_are_escaped_at_a_terminal_only() {
    if !require_tool("script") {
        return;
    }
    const BODY: &str = "{\"data\":{\"nickname\":\"Roth \u{202e}AEI\u{202c} x\u{2066}y\u{2069}\u{200f}\u{061c}z\u{200b}!\"}}";
    let hostile = Hostile::start(|path| {
        if path.starts_with("/oauth/token") {
            Answer::Fixed(
                200,
                "application/json",
                r#"{"access_token":"at-1","expires_in":900}"#.into(),
            )
        } else {
            Answer::Fixed(200, "application/json", BODY.into())
        }
    });
    let dir = Dir::new();
    vault_at(&dir, &hostile.url);
    let piped = dir.run(&["api", "/customers/me", "--passphrase-file", "pw"]);
    piped.success();
    assert_eq!(
        piped.stdout.as_bytes(),
        BODY.as_bytes(),
        "piped output is exact"
    );

    let line = format!(
        "{} api /customers/me --passphrase-file pw",
        env!("CARGO_BIN_EXE_ttvault")
    );
    let run = Run::from(
        Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("XDG_RUNTIME_DIR", dir.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap(),
    );
    run.success()
        .stdout_has(r"Roth \u{202e}AEI\u{202c} x\u{2066}y\u{2069}\u{200f}\u{61c}z\u{200b}!");
    for c in [
        '\u{202e}', '\u{202c}', '\u{2066}', '\u{2069}', '\u{200f}', '\u{61c}', '\u{200b}',
    ] {
        assert!(!run.stdout.contains(c), "{c:?} reached the terminal");
    }
}
