//! `audit`: the findings and exit statuses for the risks a user would want named.

use crate::common::*;
use serde_json::Value;

fn audit_json(dir: &Dir, s: &tt_standin::StandIn, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["audit", "--json", "--passphrase-file", "pw"];
    args.extend_from_slice(extra);
    let run = dir.run_at(s, &args);
    assert_no_secrets(&run);
    let doc: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    // The documented shape.
    for key in [
        "vault",
        "environment",
        "scopes",
        "live",
        "summary",
        "findings",
    ] {
        assert!(doc.get(key).is_some(), "missing {key}: {doc}");
    }
    for f in doc["findings"].as_array().unwrap() {
        assert!(
            ["ok", "warning", "error"].contains(&f["severity"].as_str().unwrap()),
            "{f}"
        );
        assert!(f["check"].is_string() && f["message"].is_string());
        if f["severity"] != "ok" {
            assert!(f["fix"].is_string(), "a problem without a fix: {f}");
        }
    }
    (run.status, doc)
}

fn checks(doc: &Value, severity: &str) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == severity)
        .map(|f| f["check"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_clean_read_only_vault_passes() {
    let s = standin();
    let dir = Dir::new();
    // Made by init: an imported grant is a warning of its own (longlived.rs).
    let rt = s.personal_grant(CLIENT_ID, "read");
    crate::longlived::init_vault(&dir, &s, &rt, &[]).success();
    let (status, doc) = audit_json(&dir, &s, &["--strict"]);
    assert_eq!(status, Some(0), "{doc}");
    assert!(
        checks(&doc, "warning").is_empty() && checks(&doc, "error").is_empty(),
        "{doc}"
    );
    assert_eq!(
        doc["scopes"]["refresh_token_claims"],
        serde_json::json!(["read"])
    );
    assert_eq!(doc["live"]["token_ok"], true);
    // The fresh token is proven by Tastytrade's validate route, the accounts by their list.
    let asked: Vec<String> = s
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    for route in ["POST /sessions/validate", "GET /customers/me/accounts"] {
        assert!(asked.iter().any(|a| a == route), "{route}: {asked:?}");
    }
    let accounts = doc["live"]["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    for a in accounts {
        let shown = a["account"].as_str().unwrap();
        for full in tt_standin::ACCOUNT_NUMBERS {
            assert!(
                !shown.contains(&full[..full.len() - 2]),
                "account numbers are masked: {shown}"
            );
        }
    }
    // The human report: short, and says so.
    let run = dir.run_at(&s, &["audit", "--passphrase-file", "pw"]);
    run.success().stdout_has("No problems found.");
}

#[test]
fn a_trade_scoped_grant_is_a_warning() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read trade");
    let (status, doc) = audit_json(&dir, &s, &[]);
    assert_eq!(status, Some(0));
    assert!(
        checks(&doc, "warning").contains(&"scopes.trade".to_string()),
        "{doc}"
    );
    let (status, _) = audit_json(&dir, &s, &["--strict"]);
    assert_eq!(status, Some(6));
    let run = dir.run_at(&s, &["audit", "--passphrase-file", "pw"]);
    run.success().stdout_has("trade").stdout_has("Read only");
}

#[cfg(unix)]
#[test]
fn a_world_readable_vault_is_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    std::fs::set_permissions(dir.join(".secrets"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let (status, doc) = audit_json(&dir, &s, &["--offline"]);
    assert_eq!(status, Some(1));
    assert!(
        checks(&doc, "error").contains(&"file.permissions".to_string()),
        "{doc}"
    );
    let (status, _) = audit_json(&dir, &s, &["--offline", "--strict"]);
    assert_eq!(status, Some(6));
}

#[test]
fn a_vault_tracked_by_git_is_an_error_and_an_unignored_one_a_warning() {
    if !require_tool("git") {
        return;
    }
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    let (_, doc) = audit_json(&dir, &s, &["--offline"]);
    assert!(
        checks(&doc, "warning").contains(&"git.ignored".to_string()),
        "{doc}"
    );
    git(&["add", "-f", ".secrets"]);
    git(&["commit", "-qm", "oops"]);
    let (status, doc) = audit_json(&dir, &s, &["--offline"]);
    assert_eq!(status, Some(1));
    assert!(
        checks(&doc, "error").contains(&"git.tracked".to_string()),
        "{doc}"
    );
}

#[test]
fn plaintext_leftovers_are_found() {
    let s = standin();
    let dir = Dir::new();
    dir.standin_vault(&s, "read");
    // A .env someone made by hand, holding the secret in plaintext.
    dir.write(".env", format!("OTHER=1\nSECRET={CLIENT_SECRET}\n"));
    let (status, doc) = audit_json(&dir, &s, &["--offline"]);
    assert_eq!(status, Some(1));
    let errors = checks(&doc, "error");
    assert!(errors.contains(&"leftovers.plaintext".to_string()), "{doc}");
    let text = doc.to_string();
    assert!(text.contains(".env"), "the file is named");
}

#[test]
fn a_foreign_plain_http_endpoint_is_an_error() {
    let s = standin();
    let dir = Dir::new();
    // import refuses such an endpoint now (exit 2); an older vault may still hold one.
    crate::endpoints::old_vault_with_api(&dir, "http://api.example.com");
    let (status, doc) = audit_json(&dir, &s, &["--offline"]);
    assert_eq!(status, Some(1));
    assert!(
        checks(&doc, "error").contains(&"endpoints.insecure".to_string()),
        "{doc}"
    );
}

#[test]
fn a_mismatched_audience_is_an_error() {
    let s = standin();
    s.register_app("other-client", CLIENT_SECRET, &["http://localhost:8000"]);
    let other = s.personal_grant("other-client", "read");
    let dir = Dir::new();
    dir.passphrase_files();
    dir.write("legacy.env", format!("TT_API_CLIENT_ID={CLIENT_ID}\nTT_API_CLIENT_SECRET={CLIENT_SECRET}\nTT_REFRESH_TOKEN={other}\n"));
    dir.run_at(&s, &["import", "legacy.env", "--passphrase-file", "pw"])
        .success();
    let (status, doc) = audit_json(&dir, &s, &["--offline"]);
    assert_eq!(status, Some(1));
    assert!(
        checks(&doc, "error").contains(&"grant.audience".to_string()),
        "{doc}"
    );
}
