//! `exec`, `export` and `token` against the stand-in.

use crate::common::*;
use std::collections::BTreeMap;

/// The variables of every preset a child saw, from `env` output.
fn tt_vars(stdout: &str) -> BTreeMap<String, String> {
    stdout
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| {
            ["TT_", "TASTYTRADE_", "OAUTH_"]
                .iter()
                .any(|p| k.starts_with(p))
                || *k == "API_BASE_URL"
        })
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn keys(vars: &BTreeMap<String, String>) -> Vec<&str> {
    vars.keys().map(String::as_str).collect()
}

#[test]
fn each_preset_hands_over_exactly_its_variables() {
    let s = standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read");
    let cases: &[(&[&str], &[&str])] = &[
        (
            &[],
            &[
                "TT_ACCESS_TOKEN",
                "TT_ACCESS_TOKEN_EXPIRES_AT",
                "TT_API_BASE_URL",
            ],
        ),
        (
            &["--long-lived"],
            &[
                "TT_ACCESS_TOKEN",
                "TT_ACCESS_TOKEN_EXPIRES_AT",
                "TT_API_BASE_URL",
                "TT_API_CLIENT_ID",
                "TT_API_CLIENT_SECRET",
                "TT_REFRESH_TOKEN",
            ],
        ),
        // `--preset tastyware` alone is refused on this short-lived vault (longlived.rs).
        (
            &["--preset", "tastyware", "--long-lived"],
            &[
                "TT_ACCESS_TOKEN",
                "TT_ACCESS_TOKEN_EXPIRES_AT",
                "TT_API_BASE_URL",
                "TT_REFRESH",
                "TT_SECRET",
            ],
        ),
        (
            &["--preset", "tastytrade"],
            &[
                "TASTYTRADE_ACCESS_TOKEN",
                "TASTYTRADE_API_BASE_URL",
                "TASTYTRADE_API_URL",
            ],
        ),
        (
            &["--preset", "tastytrade", "--long-lived"],
            &[
                "TASTYTRADE_ACCESS_TOKEN",
                "TASTYTRADE_API_BASE_URL",
                "TASTYTRADE_API_URL",
                "TASTYTRADE_CLIENT_ID",
                "TASTYTRADE_CLIENT_SECRET",
                "TASTYTRADE_REFRESH_TOKEN",
            ],
        ),
        // Tastytrade's own SDKs: Python, then JavaScript.
        (
            &["--preset", "tastytrade-python", "--long-lived"],
            &[
                "API_BASE_URL",
                "TT_ACCESS_TOKEN",
                "TT_ACCESS_TOKEN_EXPIRES_AT",
                "TT_API_BASE_URL",
                "TT_CLIENT_ID",
                "TT_CLIENT_SECRET",
                "TT_REFRESH_TOKEN",
            ],
        ),
        (
            &["--preset", "tastytrade-js", "--long-lived"],
            &[
                "OAUTH_CLIENT_SECRET",
                "OAUTH_REFRESH_TOKEN",
                "TT_ACCESS_TOKEN",
                "TT_ACCESS_TOKEN_EXPIRES_AT",
                "TT_API_BASE_URL",
            ],
        ),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["exec", "--passphrase-file", "pw"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["--", "env"]);
        // A stale value in ttvault's own environment must be replaced, not inherited.
        let out = dir
            .cmd_at(&s, &args)
            .env("TT_ACCESS_TOKEN", "stale")
            .env("TT_REFRESH_TOKEN", "stale")
            .output()
            .unwrap();
        let run = Run::from(out);
        assert_eq!(run.status, Some(0), "{flags:?}: {}", run.stderr);
        let vars = tt_vars(&run.stdout);
        let mut want: Vec<&str> = expected.to_vec();
        want.sort();
        assert_eq!(keys(&vars), want, "{flags:?}");
        let token = vars
            .get("TT_ACCESS_TOKEN")
            .or(vars.get("TASTYTRADE_ACCESS_TOKEN"))
            .unwrap();
        assert_ne!(token, "stale");
        assert!(token.starts_with("ey"), "an access token JWT: {token}");
        let base = vars
            .get("TT_API_BASE_URL")
            .or(vars.get("TASTYTRADE_API_BASE_URL"))
            .unwrap();
        assert_eq!(base, &s.base_url());
        if let Some(mcp) = vars.get("TASTYTRADE_API_URL") {
            assert_eq!(mcp, base, "the name tastytrade's MCP server reads");
        }
        if flags.contains(&"--long-lived") {
            assert!(vars.values().any(|v| v == CLIENT_SECRET));
            assert!(vars.values().any(|v| *v == refresh));
        } else {
            assert!(!run.stdout.contains(CLIENT_SECRET) && !run.stdout.contains(&refresh));
        }
        if let Some(expires) = vars.get("TT_ACCESS_TOKEN_EXPIRES_AT") {
            let at = humantime::parse_rfc3339(expires).unwrap();
            let left = at
                .duration_since(std::time::SystemTime::now())
                .unwrap()
                .as_secs();
            assert!((800..=900).contains(&left), "expires in {left}s");
        }
    }
    // The passphrase variable never reaches the child.
    let out = dir
        .cmd_at(&s, &["exec", "--", "env"])
        .env("TTVAULT_PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap();
    let run = Run::from(out);
    assert_eq!(run.status, Some(0), "{}", run.stderr);
    assert!(!run.stdout.contains("TTVAULT_PASSPHRASE"));
}

#[test]
fn arguments_and_exit_status_are_the_childs() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let out = dir.run_at(
        &s,
        &[
            "exec",
            "--passphrase-file",
            "pw",
            "--",
            "sh",
            "-c",
            "printf '%s\\n' \"$@\"",
            "sh",
            "--vault",
            "x y",
            "-i",
            "--long-lived",
            "--",
            "",
        ],
    );
    out.success();
    assert_eq!(out.stdout, "--vault\nx y\n-i\n--long-lived\n--\n\n");
    for code in [0, 3, 42] {
        let run = dir.run_at(
            &s,
            &[
                "exec",
                "--passphrase-file",
                "pw",
                "--",
                "sh",
                "-c",
                &format!("exit {code}"),
            ],
        );
        assert_eq!(run.status, Some(code));
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        let status = dir
            .cmd_at(
                &s,
                &[
                    "exec",
                    "--passphrase-file",
                    "pw",
                    "--",
                    "sh",
                    "-c",
                    "kill -TERM $$",
                ],
            )
            .status()
            .unwrap();
        // ttvault became the child, so a shell sees 128+15.
        assert_eq!(status.signal(), Some(15));
    }
}

#[test]
fn missing_and_non_executable_programs() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    dir.run_at(
        &s,
        &[
            "exec",
            "--passphrase-file",
            "pw",
            "--",
            "no-such-program-ttv",
        ],
    )
    .code(127)
    .stderr_has("no such program");
    dir.write("not-exec.sh", "#!/bin/sh\necho hi\n");
    dir.run_at(
        &s,
        &["exec", "--passphrase-file", "pw", "--", "./not-exec.sh"],
    )
    .code(126)
    .stderr_has("cannot run");
}

#[test]
fn verbose_exec_names_variables_but_never_values() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let run = dir.run_at(
        &s,
        &[
            "-v",
            "exec",
            "--long-lived",
            "--passphrase-file",
            "pw",
            "--",
            "true",
        ],
    );
    run.success()
        .stderr_has("TT_API_CLIENT_SECRET")
        .stderr_has("TT_ACCESS_TOKEN");
    assert!(!run.stderr.contains("eyJ"), "{}", run.stderr);
}

#[cfg(target_os = "linux")]
#[test]
fn no_secret_on_any_command_line() {
    let s = standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read");
    let mut child = dir
        .cmd_at(
            &s,
            &[
                "exec",
                "--long-lived",
                "--passphrase-file",
                "pw",
                "--",
                "sleep",
                "5",
            ],
        )
        .spawn()
        .unwrap();
    let pid = child.id();
    // Sample ttvault's and then the child's (the same pid after exec) command line.
    let mut seen = Vec::new();
    for _ in 0..40 {
        if let Ok(c) = std::fs::read(format!("/proc/{pid}/cmdline")) {
            seen.push(String::from_utf8_lossy(&c).replace('\0', " "));
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(seen.iter().any(|c| c.contains("sleep 5")), "{seen:?}");
    for c in &seen {
        assert!(
            !c.contains(CLIENT_SECRET) && !c.contains(&refresh) && !c.contains(PASSPHRASE),
            "{c}"
        );
    }
}

#[test]
fn token_prints_one_token_and_nothing_else() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let run = dir.run_at(&s, &["token", "--passphrase-file", "pw"]);
    run.success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1);
    // The token works against the API.
    let requests_before = s.requests().len();
    let client = std::process::Command::new("curl").arg("--version").output();
    if client.is_ok() {
        let out = std::process::Command::new("curl")
            .args([
                "-sf",
                "-A",
                "test/1",
                "-H",
                &format!("Authorization: Bearer {}", lines[0]),
            ])
            .arg(format!("{}/customers/me/accounts", s.base_url()))
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(s.requests().len() > requests_before);
    }
    // The token request had the quirks right: form body, User-Agent, no Authorization.
    let req = s.token_requests().pop().unwrap();
    assert!(req.header("user-agent").unwrap().starts_with("ttvault/"));
    assert!(req.header("authorization").is_none());
    let form: BTreeMap<String, String> = req.form().into_iter().collect();
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["client_secret"], CLIENT_SECRET);
}

#[test]
fn revoked_grant_gives_4_and_names_rotate() {
    let s = standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read");
    s.revoke(&refresh);
    for args in [
        &["exec", "--passphrase-file", "pw", "--", "true"][..],
        &["token", "--passphrase-file", "pw"][..],
        &["audit", "--passphrase-file", "pw"][..],
    ] {
        dir.run_at(&s, args).code(4).stderr_has("ttvault rotate");
    }
}

#[test]
fn unreachable_endpoint_gives_5_after_bounded_retries() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let base = s.base_url();
    drop(s); // nothing listens there any more
             // It ends (the retries are bounded; oauth/retry.rs's unit tests count them).
    let out = Run::from(
        dir.cmd(&["token", "--passphrase-file", "pw"])
            .output()
            .unwrap(),
    );
    out.code(5);
    let port = base.rsplit(':').next().unwrap();
    assert!(
        out.stderr.contains(port),
        "the endpoint is named: {}",
        out.stderr
    );
}

#[test]
fn transient_failures_are_retried() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    s.clear_requests();
    s.fail_next(503, 2);
    // Each pause is said (a plain line when stderr is not a terminal, as in a log).
    dir.run_at(&s, &["token", "--passphrase-file", "pw"])
        .success()
        .stderr_has("retrying (1/3) in ")
        .stderr_has("retrying (2/3) in ");
    assert_eq!(s.token_requests().len(), 3);
}

#[test]
fn a_python_program_reads_the_tastyware_names() {
    if !require_tool("python3") {
        return;
    }
    let s = standin();
    let dir = Dir::new();
    let refresh = dir.standin_vault(&s, "read");
    dir.write(
        "fetch.py",
        "import os\n\
         secret, refresh = os.environ['TT_SECRET'], os.environ['TT_REFRESH']\n\
         token = os.environ['TT_ACCESS_TOKEN']\n\
         print(len(secret), len(refresh), token.count('.'), os.environ['TT_API_BASE_URL'])\n",
    );
    let run = dir.run_at(
        &s,
        &[
            "exec",
            "--preset",
            "tastyware",
            "--long-lived",
            "--passphrase-file",
            "pw",
            "--",
            "python3",
            "fetch.py",
        ],
    );
    run.success();
    assert_eq!(
        run.stdout.trim(),
        format!(
            "{} {} 2 {}",
            CLIENT_SECRET.len(),
            refresh.len(),
            s.base_url()
        )
    );
}
