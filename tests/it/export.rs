//! `export` in every format, read back by the real shell: values come back byte-identical,
//! whatever bytes they hold.

use crate::common::*;
use std::process::Command;

const AWKWARD: &[&str] = &[
    "plain-token.eyJ.abc",
    "single ' quote",
    "double \" quote",
    "dollar $HOME and ${PATH} and $(id) and `id`",
    "back\\slash \\\\ and \\n literal",
    "new\nline and\r\ncarriage",
    "tab\tand ‘typographic’ quotes",
    "ends with backslash\\",
    "",
];

fn vars(values: &[&str]) -> Vec<ttvault::env::Var> {
    let names: [&'static str; 9] = [
        "TT_ACCESS_TOKEN",
        "TT_API_BASE_URL",
        "TT_API_CLIENT_ID",
        "TT_API_CLIENT_SECRET",
        "TT_REFRESH_TOKEN",
        "TT_SECRET",
        "TT_REFRESH",
        "TASTYTRADE_ACCESS_TOKEN",
        "TASTYTRADE_API_BASE_URL",
    ];
    values
        .iter()
        .zip(names)
        .map(|(v, name)| ttvault::env::Var {
            name,
            value: zeroize::Zeroizing::new(v.to_string()),
            long_lived_secret: false,
        })
        .collect()
}

/// Sources `script` in `shell` and prints each variable's value followed by a NUL.
fn read_back(
    dir: &Dir,
    shell: &str,
    format: ttvault::shell::ExportFormat,
    values: &[&str],
) -> Vec<String> {
    let vars = vars(values);
    let text = ttvault::shell::render(format, &vars).unwrap();
    let file = dir.write("exported", text.as_bytes());
    let names: Vec<&str> = vars.iter().map(|v| v.name).collect();
    let script = match shell {
        "fish" => format!(
            "source {}; for n in {}; printf '%s\\0' $$n; end",
            file.display(),
            names.join(" ")
        ),
        "pwsh" => format!(
            ". '{}'; foreach ($n in @('{}')) {{ [Console]::Out.Write((Get-Item env:$n -ErrorAction SilentlyContinue).Value + [char]0) }}",
            file.display(),
            names.join("','")
        ),
        _ => format!(". '{}'; for n in {}; do eval \"printf '%s\\\\0' \\\"\\${{$n}}\\\"\"; done", file.display(), names.join(" ")),
    };
    let flag = if shell == "pwsh" { "-Command" } else { "-c" };
    let out = Command::new(shell).args([flag, &script]).output().unwrap();
    assert!(
        out.status.success(),
        "{shell}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut parts: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .split('\0')
        .map(str::to_string)
        .collect();
    parts.pop();
    parts
}

#[test]
fn sh_and_bash_read_back_every_byte() {
    let dir = Dir::new();
    for shell in ["sh", "bash"] {
        if !require_tool(shell) {
            continue;
        }
        let got = read_back(&dir, shell, ttvault::shell::ExportFormat::Sh, AWKWARD);
        assert_eq!(got, AWKWARD, "{shell}");
    }
}

#[test]
fn fish_reads_back_every_byte() {
    if !require_tool("fish") {
        return;
    }
    let dir = Dir::new();
    // fish cannot hold an empty variable distinct from an empty list; every other value counts.
    let values = &AWKWARD[..AWKWARD.len() - 1];
    let got = read_back(&dir, "fish", ttvault::shell::ExportFormat::Fish, values);
    assert_eq!(got, values);
}

#[test]
fn powershell_reads_back_every_byte_when_installed() {
    // PowerShell is not a Debian package; it is tested where it is installed.
    let has_pwsh = Command::new("pwsh").arg("-Version").output().is_ok();
    if !has_pwsh {
        eprintln!("skipping: pwsh is not installed (not packaged for Debian)");
        return;
    }
    let dir = Dir::new();
    let values = &AWKWARD[..AWKWARD.len() - 1];
    let got = read_back(
        &dir,
        "pwsh",
        ttvault::shell::ExportFormat::Powershell,
        values,
    );
    assert_eq!(got, values);
}

#[test]
fn dotenv_and_json_round_trip() {
    // Dotenv refuses what sh and python-dotenv would read differently, and carries the rest.
    let vars = vars(AWKWARD);
    assert!(ttvault::shell::render(ttvault::shell::ExportFormat::Dotenv, &vars).is_err());
    let carried: Vec<&str> = AWKWARD
        .iter()
        .copied()
        .filter(|v| !v.contains(['\'', '\\', '\n', '\r', '\t']) && !v.contains("${"))
        .collect();
    let dotenv =
        ttvault::shell::render(ttvault::shell::ExportFormat::Dotenv, &self::vars(&carried))
            .unwrap();
    let parsed = ttvault::dotenv::parse(dotenv.as_bytes()).unwrap();
    let values: Vec<&str> = parsed.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(values, carried);
    let json = ttvault::shell::render(ttvault::shell::ExportFormat::Json, &vars).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    for v in &vars {
        assert_eq!(doc[v.name], *v.value);
    }
}

#[test]
fn cli_export_with_an_awkward_client_secret() {
    let awkward_secret = "cs-SECRET-9b1e-do-not-print'\"$`\\\nx";
    let s = tt_standin::StandIn::start(tt_standin::Config::default()).unwrap();
    s.register_app(CLIENT_ID, awkward_secret, &["http://localhost:8000"]);
    let refresh = s.personal_grant(CLIENT_ID, "read");
    let dir = Dir::new();
    dir.passphrase_files();
    let legacy = ttvault::dotenv::render(&[
        ("TT_API_CLIENT_ID", CLIENT_ID),
        ("TT_API_CLIENT_SECRET", awkward_secret),
        ("TT_REFRESH_TOKEN", &refresh),
    ]);
    dir.write("legacy.env", legacy.as_bytes());
    dir.run_at(&s, &["import", "legacy.env", "--passphrase-file", "pw"])
        .success();
    let out = dir.run_at(&s, &["export", "--long-lived", "--passphrase-file", "pw"]);
    assert_eq!(out.status, Some(0), "{}", out.stderr);
    dir.write("env.sh", &out.stdout);
    let got = Command::new("sh")
        .args(["-c", ". ./env.sh; printf '%s' \"$TT_API_CLIENT_SECRET\""])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(got.stdout).unwrap(), awkward_secret);
    // JSON for scripts.
    let out = dir.run_at(
        &s,
        &["export", "--format", "json", "--passphrase-file", "pw"],
    );
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(doc["TT_ACCESS_TOKEN"].as_str().unwrap().starts_with("eyJ"));
    assert!(doc.get("TT_API_CLIENT_SECRET").is_none());
}

#[test]
fn long_lived_export_to_a_terminal_is_refused() {
    if !require_tool("script") {
        return;
    }
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    // `script` gives ttvault a pseudo-terminal as stdout.
    let bin = env!("CARGO_BIN_EXE_ttvault");
    let cmd = format!("{bin} export --long-lived --passphrase-file pw; echo \"rc=$?\"");
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir.path())
        .env("TTVAULT_API_URL", s.base_url())
        .env("TTVAULT_KDF_TARGET_MS", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("refusing to print"), "{text}");
    assert!(text.contains("rc=2"), "{text}");
    assert!(!text.contains(CLIENT_SECRET));
}
