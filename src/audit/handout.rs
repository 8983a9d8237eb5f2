//! Checks on what leaves the vault: which secrets programs run by `exec` get by default,
//! and whether the grant ever sat in a plaintext file (`import`).

use super::Report;
use crate::vault::GrantInfo;
use crate::vault::Handout;

/// The vault's recorded hand-out: which secrets programs get, and why that matters.
pub fn programs(report: &mut Report, p: &GrantInfo) {
    match p.handout {
        Handout::LongLived => report.warn(
            "exec.handout",
            "the vault records handout long-lived: programs run by `ttvault exec` (and \
             `export`) get the client secret and refresh token by default; they never expire, \
             so a program that leaks its environment (a crash report, a log of `env`, a \
             dependency) leaks the grant itself",
            "`ttvault set handout broker`: ttvault's broker gives the same SDK programs the \
             same results (it answers their token requests) without handing them the secrets",
        ),
        Handout::Broker => report.ok(
            "exec.handout",
            "the vault records handout broker: programs run by `ttvault exec` get an access \
             token and placeholders, and ttvault's broker answers their SDK's token requests",
        ),
        Handout::Tokens => report.ok(
            "exec.handout",
            "the vault records handout tokens: programs run by `ttvault exec` get only a \
             short-lived access token by default",
        ),
    }
}

/// A grant imported from the old plaintext file, and not rotated since, sat unencrypted on
/// disk (SECURITY.md: re-create it and rotate).
pub fn imported(report: &mut Report, p: &GrantInfo) {
    let Some(at) = &p.imported_at else {
        return;
    };
    if p.rotated_at.is_some() {
        report.ok(
            "grant.imported",
            format!("imported from a plaintext file on {at}, and rotated since"),
        );
        return;
    }
    report.warn(
        "grant.imported",
        format!(
            "the grant was imported on {at} from a plaintext file: it sat unencrypted on disk \
             (and in any backup or sync of that folder) before that"
        ),
        "on tastytrade.com create a new grant with only Read ticked, run `ttvault rotate`, \
         then delete the old grant",
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Severity;
    use crate::endpoints::Environment;

    fn info() -> GrantInfo {
        GrantInfo {
            payload_version: 1,
            client_id: "id".into(),
            environment: Environment::Production,
            scopes: vec![],
            redirect_uri: None,
            created_at: "2025-01-01T00:00:00Z".into(),
            rotated_at: None,
            recipients: vec![],
            handout: Handout::Tokens,
            imported_at: None,
        }
    }

    fn severity(report: &Report, check: &str) -> Option<Severity> {
        report
            .findings
            .iter()
            .find(|f| f.check == check)
            .map(|f| f.severity)
    }

    #[test]
    fn long_lived_is_a_warning_that_names_the_broker_the_others_are_not() {
        for handout in Handout::ALL {
            let mut report = Report::default();
            programs(&mut report, &GrantInfo { handout, ..info() });
            let finding = &report.findings[0];
            assert!(
                finding.message.contains(handout.name()),
                "{}",
                finding.message
            );
            if handout == Handout::LongLived {
                assert_eq!(finding.severity, Severity::Warning);
                let advice = finding.fix.as_deref().unwrap_or_default();
                assert!(advice.contains("set handout broker"), "{advice}");
            } else {
                assert_eq!(finding.severity, Severity::Ok);
            }
        }
    }

    #[test]
    fn an_imported_grant_is_a_warning_until_rotated() {
        let mut report = Report::default();
        imported(&mut report, &info());
        assert!(
            report.findings.is_empty(),
            "init's grants were never plaintext"
        );
        let at = Some("2025-02-03T04:05:06Z".to_string());
        let mut report = Report::default();
        imported(
            &mut report,
            &GrantInfo {
                imported_at: at.clone(),
                ..info()
            },
        );
        assert_eq!(severity(&report, "grant.imported"), Some(Severity::Warning));
        assert!(report.findings[0].message.contains("2025-02-03T04:05:06Z"));
        let mut report = Report::default();
        let rotated = Some("2025-03-01T00:00:00Z".to_string());
        imported(
            &mut report,
            &GrantInfo {
                imported_at: at,
                rotated_at: rotated,
                ..info()
            },
        );
        assert_eq!(severity(&report, "grant.imported"), Some(Severity::Ok));
    }
}
