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

use claims::{EckId, Jaargroep, Role};
use serde::Serialize;

use crate::admin::{AdminError, Credentials, Ctx};
use crate::audit::AuditAction;
use crate::model::School;
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
    pub warnings: Vec<Warning>,
}

/// What an import noticed and worked around. It names a line of the input or a group key,
/// never a name, an e-mail address or an ECK-iD. `Display` is the English sentence of the
/// command line; Beheer words it from the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "warning", rename_all = "kebab-case")]
pub enum Warning {
    /// Pupils whose `uitstroomdatum` has passed were left out.
    PupilsLeftSchool { count: usize },
    /// The file gives someone the role ICT, which is never given from a file.
    IctRoleNotGiven,
    /// An `eckid` that is not a valid ECK-iD: matched by key instead.
    EckIdInvalid { line: u32 },
    /// An ECK-iD in use at another school: imported without it.
    EckIdElsewhere { line: u32 },
    /// An `emailadres` that is not a valid address: not kept.
    EmailInvalid { line: u32 },
    /// An e-mail address in use by another account: imported without it.
    EmailTaken { line: u32 },
    /// The ECK-iD or key belongs to a pupil here and the file has a teacher, or the other way
    /// round: left out.
    OtherKind { line: u32 },
    /// The same person as an earlier line: left out.
    SamePerson { line: u32 },
    /// A group no longer in the file where a substitute works now: it stays until the
    /// substitution ends.
    GroupKept { key: String },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::PupilsLeftSchool { count } => write!(
                f,
                "{count} pupil(s) with an uitstroomdatum that has passed are not imported"
            ),
            Warning::IctRoleNotGiven => f.write_str(
                "the role ICT is not given from a file: ICT coordinators are added in Beheer",
            ),
            Warning::EckIdInvalid { line } => write!(
                f,
                "line {line}: the eckid is not a valid ECK-iD; matched by key instead"
            ),
            Warning::EckIdElsewhere { line } => write!(
                f,
                "line {line}: the ECK-iD is in use at another school; imported without it"
            ),
            Warning::EmailInvalid { line } => write!(
                f,
                "line {line}: the emailadres is not a valid address and is not kept"
            ),
            Warning::EmailTaken { line } => write!(
                f,
                "line {line}: the e-mail address is in use by another account; imported without it"
            ),
            Warning::OtherKind { line } => write!(
                f,
                "line {line}: the ECK-iD or key belongs to a person of the other kind (pupil or staff) here; left out"
            ),
            Warning::SamePerson { line } => write!(
                f,
                "line {line}: the same person as an earlier line; left out"
            ),
            Warning::GroupKept { key } => write!(
                f,
                "group '{key}' is no longer in the file but a substitute works there now; it stays until the substitution ends"
            ),
        }
    }
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
    pub warnings: Vec<Warning>,
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

/// Import `incoming` into `school` (active, as the door found it): plan, then (unless
/// `dry_run`) apply in one transaction. The report is the same either way; a real run writes
/// it to the school's trail.
pub fn run(
    ctx: Ctx<'_>,
    secrets: &Credentials<'_>,
    school: &School,
    incoming: Incoming,
    dry_run: bool,
) -> Result<ImportReport, ImportError> {
    let (p, report) = plan::plan(ctx.dir, secrets, school, incoming, dry_run)?;
    if dry_run || p.is_empty() {
        return Ok(report);
    }
    let r = school.instelling_ref;
    let audit = ctx.audit(
        AuditAction::ImportApplied,
        Some(r),
        None,
        serde_json::to_value(&report).unwrap_or_default(),
    );
    ctx.dir.apply_import(&r, &p, audit)?;
    Ok(report)
}
