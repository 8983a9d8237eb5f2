//! Checks on what leaves the vault: which secrets programs run by `exec` get by default,
//! and whether the grant ever sat in a plaintext file (`import`).

use super::Report;
use crate::vault::GrantInfo;

/// The vault's long-lived choice: which secrets programs get, and why that matters.
pub fn programs(report: &mut Report, p: &GrantInfo) {
    if p.long_lived {
        report.warn(
            "exec.long_lived",
            "programs run by `ttvault exec` (and `export`) get the client secret and refresh \
             token by default: they never expire, so a program that leaks its environment \
             (a crash report, a log of `env`, a child process) leaks the grant itself",
            "keep it for SDK programs that refresh tokens themselves (they need it); if your \
             programs take an access token, `ttvault set long-lived off`",
        );
    } else {
        report.ok(
            "exec.long_lived",
            "programs run by `ttvault exec` get only a short-lived access token by default",
        );
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
            long_lived: false,
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
    fn long_lived_is_a_warning_short_lived_is_not() {
        let mut report = Report::default();
        programs(&mut report, &info());
        assert_eq!(severity(&report, "exec.long_lived"), Some(Severity::Ok));
        let mut report = Report::default();
        programs(
            &mut report,
            &GrantInfo {
                long_lived: true,
                ..info()
            },
        );
        assert_eq!(
            severity(&report, "exec.long_lived"),
            Some(Severity::Warning)
        );
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
