//! `ttvault audit`: every risk ttvault can see, as findings a person reads in ten seconds
//! and a JSON document a script reads. Each check lives in its own module and only adds
//! findings; `cmd/audit.rs` prints them and picks the exit status.

pub mod files;
pub mod grant_checks;
pub mod handout;

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A fact worth knowing; nothing to do.
    Ok,
    /// Something to fix; `--strict` fails on it.
    Warning,
    /// Something wrong: credentials at risk or a grant that cannot work.
    Error,
}

#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// A stable dotted name, e.g. `scopes.trade`, for scripts.
    pub check: &'static str,
    pub message: String,
    /// What to do, when there is something to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[derive(Default, Debug, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn ok(&mut self, check: &'static str, message: impl Into<String>) {
        self.push(Severity::Ok, check, message.into(), None);
    }
    pub fn warn(
        &mut self,
        check: &'static str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.push(Severity::Warning, check, message.into(), Some(fix.into()));
    }
    pub fn error(
        &mut self,
        check: &'static str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.push(Severity::Error, check, message.into(), Some(fix.into()));
    }
    fn push(
        &mut self,
        severity: Severity,
        check: &'static str,
        message: String,
        fix: Option<String>,
    ) {
        self.findings.push(Finding {
            severity,
            check,
            message,
            fix,
        });
    }
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
    pub fn worst(&self) -> Severity {
        self.findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Ok)
    }
}
