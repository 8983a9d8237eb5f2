//! `ttvault audit [--offline] [--strict] [--json]`.
//! Exit: 0 nothing wrong (warnings allowed), 1 an error finding, 4/5 the live checks'
//! grant refusal / unreachable endpoint, 6 under --strict when any warning or error.

use super::Context;
use crate::audit::{files, grant_checks, handout, Report, Severity};
use crate::cli::AuditArgs;
use crate::error::{Code, Error, Result};
use crate::outln;
use crate::session::Source;
use crate::want::{Freshness, Secrets};
use crate::{oauth, output};
use serde_json::json;

pub fn run(ctx: &Context, args: &AuditArgs) -> Result<i32> {
    let vault = &ctx.vault;
    let http = oauth::Client::new()?;
    // With an agent up, the grant and its token come from it (one shared refresh); a
    // tokens-only agent's withheld secrets come from the vault opened here when the
    // passphrase or an identity is at hand.
    let mut grant = ctx.grant(&http).despite_permissions();
    let fields = match grant.fields(Secrets::Included) {
        // Nothing here opens the vault: the report says what was skipped without them.
        Err(_) if grant.agent_withholds_secrets() => grant.fields(Secrets::Withheld)?,
        fields => fields?,
    };
    let slots = grant.slots()?;
    let (info, secrets) = (fields.info, fields.secrets);
    let mut report = Report::default();
    files::permissions(&mut report, &vault.path);
    files::git(&mut report, &vault.path);
    if let Some(secrets) = &secrets {
        files::leftovers(&mut report, &vault.path, secrets);
    } else {
        report.warn(
            "secrets",
            "the agent withholds the client secret and refresh token, so the checks for plaintext copies and the refresh token's scopes were skipped",
            "run audit with the passphrase (--passphrase-file F, or at a terminal) or -i KEY, or unlock with `ttvault unlock --long-lived`",
        );
    }
    files::slots(&mut report, &slots, &info);
    grant_checks::endpoints(&mut report, &info.environment);
    let scopes = secrets
        .as_ref()
        .map(|s| grant_checks::scopes(&mut report, &info, &s.refresh_token));
    grant_checks::age(&mut report, &info);
    handout::imported(&mut report, &info);
    handout::programs(&mut report, &info);
    let (live, live_error) = if args.offline {
        report.ok("live", "skipped (--offline)");
        (grant_checks::Live::default(), None)
    } else {
        let api_url = info.environment.api_url();
        // Refreshed for this audit: the live checks must see a revoked grant.
        let session = grant.session(Secrets::Withheld, Freshness::fresh());
        if session.as_ref().is_ok_and(|s| s.source() == Source::Agent) {
            report.ok(
                "live.fresh",
                "the agent refreshed the grant just now for this audit (not a cached token)",
            );
        }
        grant_checks::live(&mut report, &http, api_url, session)
    };

    if ctx.json {
        let (requested, in_token) = match scopes {
            Some(s) => (s.requested, s.in_token),
            None => (info.scopes.clone(), None),
        };
        let doc = json!({
            "vault": vault.path.display().to_string(),
            "environment": info.environment.name(),
            "scopes": { "requested": requested, "refresh_token_claims": in_token },
            "live": if args.offline { serde_json::Value::Null } else { json!(live) },
            "summary": {
                "errors": report.count(Severity::Error),
                "warnings": report.count(Severity::Warning),
            },
            "findings": report.findings,
        });
        output::json(&doc)?;
    } else {
        print_human(&report)?;
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

fn print_human(report: &Report) -> Result<()> {
    for f in &report.findings {
        let mark = match f.severity {
            Severity::Ok => output::paint(output::OK_STYLE, "  ok   "),
            Severity::Warning => output::paint(output::WARNING_STYLE, "  WARN "),
            Severity::Error => output::paint(output::ERROR_STYLE, "  ERROR"),
        };
        output::stdout_styled(&format!("{mark} {}\n", f.message))?;
        if let Some(fix) = &f.fix {
            if f.severity != Severity::Ok {
                let fix = output::paint(output::HINT_STYLE, &format!("          fix: {fix}"));
                output::stdout_styled(&format!("{fix}\n"))?;
            }
        }
    }
    let (e, w) = (
        report.count(Severity::Error),
        report.count(Severity::Warning),
    );
    outln!()?;
    match (e, w) {
        (0, 0) => outln!("No problems found.")?,
        _ => outln!("{e} error(s), {w} warning(s).")?,
    }
    Ok(())
}
