//! Nothing leaks to children (README "What children get"): the `--passphrase-fd`
//! descriptor is read from itself and closed, so no child can read it, and no program
//! ttvault starts (exec's, the browser, git) inherits ttvault's secret variables.

use crate::common::*;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ttvault")
}

/// `--passphrase-fd 3` is read from the descriptor itself and closed: a child of exec
/// reading descriptor 3 gets nothing. Before, `/dev/fd/3` was reopened and the child
/// printed the passphrase.
#[test]
fn the_passphrase_descriptor_never_reaches_exec_s_program() {
    let dir = Dir::new();
    let standin = standin();
    dir.standin_vault(&standin, "read");
    let shell = format!(
        "exec {} --no-agent --passphrase-fd 3 exec -- sh -c 'cat <&3; echo child-ran' 3<pw",
        bin()
    );
    let template = dir.cmd_at(&standin, &[]);
    let run = Run::from(
        Command::new("sh")
            .args(["-c", &shell])
            .current_dir(dir.path())
            .envs(template.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
            .stdin(Stdio::null())
            .output()
            .unwrap(),
    );
    run.success().stdout_has("child-ran");
    assert_no_secrets(&run);
}

/// A socket works as the passphrase descriptor (before: "No such device or address").
#[cfg(unix)]
#[test]
fn a_socket_works_as_the_passphrase_descriptor() {
    let dir = Dir::new();
    dir.vault();
    let (mut ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    ours.write_all(format!("{PASSPHRASE}\n").as_bytes())
        .unwrap();
    // Our end stays open: ttvault must stop at the newline, not wait for the end.
    let template = dir.cmd(&[]);
    let shell = format!(
        "exec {} --no-agent --passphrase-fd 3 show 3<&0 0</dev/null",
        bin()
    );
    let run = Run::from(
        Command::new("sh")
            .args(["-c", &shell])
            .current_dir(dir.path())
            .envs(template.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
            .stdin(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
            .output()
            .unwrap(),
    );
    drop(ours);
    run.success().stdout_has(CLIENT_ID);
}

/// A fake `git` on PATH records the environment audit gives it: none of ttvault's secret
/// inputs are there. Before, git inherited TTVAULT_PASSPHRASE and the others.
#[test]
fn git_in_audit_never_sees_the_secret_variables() {
    let dir = Dir::new();
    dir.vault();
    let bin_dir = dir.join("fakebin");
    std::fs::create_dir(&bin_dir).unwrap();
    let record = dir.join("git-env");
    write_recorder(&bin_dir.join("git"), &record);
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = Run::from(
        dir.cmd(&["--no-agent", "audit", "--offline"])
            .env("PATH", path)
            .env("TTVAULT_PASSPHRASE", PASSPHRASE)
            .env("TTVAULT_NEW_PASSPHRASE", NEW_PASSPHRASE)
            .env("TTVAULT_CLIENT_SECRET", CLIENT_SECRET)
            .env("TTVAULT_REFRESH_TOKEN", REFRESH_TOKEN)
            .output()
            .unwrap(),
    );
    let env = std::fs::read_to_string(&record)
        .unwrap_or_else(|_| panic!("audit never ran git:\n{}", run.stderr));
    assert_clean_environment(&env);
}

/// The browser opener ($BROWSER) gets none of the secret variables either.
#[test]
fn the_browser_never_sees_the_secret_variables() {
    let dir = Dir::new();
    let standin = standin();
    let record = dir.join("browser-env");
    let browser = dir.join("browser.sh");
    write_recorder(&browser, &record);
    let port = crate::flow::free_port();
    let redirect = crate::flow::redirect_for(port);
    let flow = crate::flow::start_with_browser(
        &dir,
        &standin,
        &[
            "init",
            "--client-id",
            CLIENT_ID,
            "--redirect-uri",
            &redirect,
        ],
        &[
            ("BROWSER", &browser.display().to_string()),
            ("TTVAULT_PASSPHRASE", PASSPHRASE),
            ("TTVAULT_NEW_PASSPHRASE", NEW_PASSPHRASE),
            ("TTVAULT_CLIENT_SECRET", CLIENT_SECRET),
            ("TTVAULT_REFRESH_TOKEN", REFRESH_TOKEN),
        ],
    );
    let _ = flow.url();
    // The recorder writes its file in one rename: wait for it.
    let env = loop {
        if let Ok(env) = std::fs::read_to_string(&record) {
            break env;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(flow);
    assert_clean_environment(&env);
    assert!(
        env.contains("TTVAULT_API_URL="),
        "the recorder saw no environment: {env}"
    );
}

/// A program that writes its environment to `record` (complete when it appears).
fn write_recorder(path: &std::path::Path, record: &std::path::Path) {
    std::fs::write(
        path,
        format!(
            "#!/bin/sh\nenv > '{0}.tmp' && mv '{0}.tmp' '{0}'\nexit 1\n",
            record.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[track_caller]
fn assert_clean_environment(env: &str) {
    for name in [
        "TTVAULT_PASSPHRASE=",
        "TTVAULT_NEW_PASSPHRASE=",
        "TTVAULT_CLIENT_SECRET=",
        "TTVAULT_REFRESH_TOKEN=",
    ] {
        assert!(!env.contains(name), "a child inherited {name}");
    }
    for secret in [PASSPHRASE, NEW_PASSPHRASE, CLIENT_SECRET, REFRESH_TOKEN] {
        assert!(
            !env.contains(secret),
            "a child's environment holds a secret"
        );
    }
}
