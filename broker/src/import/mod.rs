//! School data in: one pipeline with several doors (an EDEXML file, later a spreadsheet and the
//! LAS coupling). A door parses its input and maps it onto the school ([`Incoming`]); the
//! pipeline then diffs it against what is stored ([`plan`]) and applies the difference in one
//! transaction, with one audit line that holds the report.
//!
//! Identity follows UWLR 2.3: a person is the same person across imports by ECK-iD when the
//! file has one, else by the LAS key — never by name. Internal ids never change, so neither do
//! the pseudonyms publishers know. People an import brought who are no longer in the file are
//! deactivated, not deleted; people added by hand (Beheer, the command line) or by a network
//! environment are never removed by an import.

use claims::{EckId, InstellingRef, Jaargroep, Role};
use serde::Serialize;

use crate::admin::{AdminError, Credentials, Ctx};
use crate::audit::AuditAction;
use crate::repo::RepoError;

pub mod edexml;
pub mod plan;

/// A group as a door delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingGroup {
    /// The LAS's key: the same group across imports.
    pub key: String,
    pub name: String,
    pub jaargroep: Option<Jaargroep>,
    /// A samengestelde groep (a cluster across stamgroepen).
    pub composite: bool,
}

/// A pupil or teacher as a door delivers them.
#[derive(Clone, PartialEq, Eq)]
pub struct IncomingPerson {
    /// The LAS's key (leerling or leerkracht key).
    pub las_key: String,
    pub eck_id: Option<EckId>,
    pub given_name: String,
    pub family_name: String,
    /// Teachers only.
    pub email: Option<String>,
    /// Keys of the groups they are in.
    pub groups: Vec<String>,
    /// `Leerling`, or `Leerkracht` with the extra roles the file gives (where safe).
    pub roles: Vec<Role>,
    /// Where in the input they were (a line), for warnings.
    pub line: u32,
}

impl std::fmt::Debug for IncomingPerson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncomingPerson")
            .field("line", &self.line)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// What a door delivers for one school.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The door, as the audit trail and the records name it: `edexml`, ...
    pub source: &'static str,
    /// The format's own version (`2.1`), if it has one.
    pub format_version: Option<&'static str>,
    pub school_year: String,
    pub groups: Vec<IncomingGroup>,
    pub pupils: Vec<IncomingPerson>,
    pub teachers: Vec<IncomingPerson>,
    /// What the door noticed and worked around (never a personal value).
    pub warnings: Vec<String>,
}

/// Added, changed and removed, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub groups: usize,
    pub pupils: usize,
    pub teachers: usize,
}

/// What an import did, or would do (a dry run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub source: &'static str,
    pub edexml_version: Option<&'static str>,
    pub school_year: String,
    pub dry_run: bool,
    pub added: Counts,
    pub changed: Counts,
    pub removed: Counts,
    pub warnings: Vec<String>,
}

/// Why an import is refused. Nothing is written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The input is not valid: the first problem, with the line it is on.
    #[error("{line}: {message}")]
    Invalid { line: u32, message: String },
    /// The input is another school's (its BRIN and dependancecode are not the target's).
    #[error("{0}")]
    OtherSchool(String),
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Import `incoming` into `school`: plan, then (unless `dry_run`) apply in one transaction.
/// The report is the same either way; a real run writes it to the school's trail.
pub fn run(
    ctx: Ctx<'_>,
    secrets: &Credentials<'_>,
    school: &InstellingRef,
    incoming: Incoming,
    dry_run: bool,
) -> Result<ImportReport, ImportError> {
    let s = ctx.active_school(school)?;
    let (p, report) = plan::plan(ctx.dir, secrets, &s, incoming, dry_run)?;
    if dry_run || p.is_empty() {
        return Ok(report);
    }
    let audit = ctx.audit(
        AuditAction::ImportApplied,
        Some(*school),
        None,
        serde_json::to_value(&report).unwrap_or_default(),
    );
    ctx.dir.apply_import(school, &p, audit)?;
    Ok(report)
}
