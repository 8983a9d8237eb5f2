//! `ttvault audit [--offline] [--strict] [--json]`.
//! Exit: 0 nothing wrong (warnings allowed), 1 an error finding, 4/5 the live checks'
//! grant refusal / unreachable endpoint, 6 under --strict when any warning or error.

use crate::audit::{files, grant, Report, Severity};
use crate::cli::{AuditArgs, Global};
use crate::error::{Code, Error, Result};
use crate::{oauth, vault};
use serde_json::json;

pub fn run(global: &Global, args: &AuditArgs) -> Result<i32> {
    // With an agent up, the grant and its token come from it (one shared refresh).
    let from_agent = crate::agent::from_agent(global, true)?;
    let (opened, agent_token) = match from_agent {
        Some(m) => (m.opened, Some((m.access_token, m.expires_at))),
        None => (vault::open_despite_permissions(global)?, None),
    };
    let mut report = Report::default();
    files::permissions(&mut report, &opened.path);
    files::git(&mut report, &opened.path);
    files::leftovers(&mut report, &opened);
    files::slots(&mut report, &opened);
    grant::endpoints(&mut report, &opened.payload.environment);
    let scopes = grant::scopes(&mut report, &opened);
    grant::age(&mut report, &opened);
    let vault_path = opened.path.display().to_string();
    let environment = opened.payload.environment.name();
    let (live, live_error) = if args.offline {
        report.ok("live", "skipped (--offline)");
        (grant::Live::default(), None)
    } else {
        let http = oauth::Client::new()?;
        match agent_token {
            Some((access_token, expires_at)) => {
                let api_url = opened.payload.environment.api_url().to_string();
                let minted = crate::mint::Minted {
                    opened,
                    access_token,
                    expires_at,
                };
                grant::live_minted(&mut report, &http, &api_url, Ok(minted))
            }
            None => grant::live(&mut report, global, &http, opened),
        }
    };

    if global.json {
        let doc = json!({
            "vault": vault_path,
            "environment": environment,
            "scopes": { "requested": scopes.requested, "refresh_token_claims": scopes.in_token },
            "live": if args.offline { serde_json::Value::Null } else { json!(live) },
            "summary": {
                "errors": report.count(Severity::Error),
                "warnings": report.count(Severity::Warning),
            },
            "findings": report.findings,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print_human(&report);
    }

    if let Some(e) = live_error {
        return Err(Error {
            message: format!("audit: {}", e.message),
            ..e
        });
    }
    let worst = report.worst();
    Ok(match worst {
        Severity::Ok => 0,
        _ if args.strict => Code::AuditWarning as i32,
        Severity::Error => Code::Failure as i32,
        Severity::Warning => 0,
    })
}

fn print_human(report: &Report) {
    for f in &report.findings {
        let mark = match f.severity {
            Severity::Ok => "  ok   ",
            Severity::Warning => "  WARN ",
            Severity::Error => "  ERROR",
        };
        println!("{mark} {}", f.message);
        if let Some(fix) = &f.fix {
            if f.severity != Severity::Ok {
                println!("          fix: {fix}");
            }
        }
    }
    let (e, w) = (
        report.count(Severity::Error),
        report.count(Severity::Warning),
    );
    println!();
    match (e, w) {
        (0, 0) => println!("No problems found."),
        _ => println!("{e} error(s), {w} warning(s)."),
    }
}
