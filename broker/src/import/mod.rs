//! School data in: one pipeline with several doors (an EDEXML file, a spreadsheet, later the
//! LAS coupling). DUO's registry of school locations comes in beside it ([`duo`]): it holds
//! official names and addresses, not a school's people. A door parses its input and maps it
//! onto the school ([`Incoming`]); the pipeline then diffs it against what is stored ([`plan`])
//! and applies the difference in one transaction, with one audit line that holds the report.
//!
//! Identity follows UWLR 2.3: a person is the same person across imports by ECK-iD when the
//! file has one, else by the LAS key — never by name. Internal ids never change, so neither do
//! the pseudonyms publishers know. People an import brought who are no longer in the file are
//! deactivated, not deleted; people added by hand (Beheer, the command line) or by a network
//! environment are never removed by an import.

use claims::{EckId, Jaargroep, Role};
use serde::Serialize;

use uuid::Uuid;

use crate::admin::{AdminError, Credentials, Ctx};
use crate::audit::AuditAction;
use crate::login::password;
use crate::model::School;
use crate::ports::World;
use crate::repo::RepoError;

pub mod duo;
pub mod edexml;
pub mod las;
pub mod plan;
pub mod spreadsheet;
pub mod staging;

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
    /// For a file of a later school year: kept until that year begins, not applied now.
    pub staged: Option<staging::StagedYear>,
    /// Teachers the import adds with an e-mail address: after a real run, [`welcome`] mails
    /// each their activation link. Ids only; not part of the report's text.
    #[serde(skip)]
    pub to_welcome: Vec<Uuid>,
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
    /// The source refused to deliver (an LAS's SOAP fault): there is no file.
    #[error("{0}")]
    Fault(String),
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// The doors a file comes in by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// An EDEXML file ([`edexml`]).
    Edexml,
    /// A CSV or XLSX file the school filled in itself ([`spreadsheet`]).
    Spreadsheet,
    /// The answer of an LAS to UWLR's `HaalLeerlinggegevens` (a SOAP envelope holding
    /// EDEXML 2.1), fetched by the automatic coupling ([`las`]). Never told by content: only
    /// the coupling opens it.
    Uwlr,
}

impl Door {
    /// The door's name, as reports, the trail and stored files name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Door::Edexml => "edexml",
            Door::Spreadsheet => "spreadsheet",
            Door::Uwlr => "uwlr",
        }
    }

    /// The door `bytes` fit: EDEXML when they are XML (the first character, after a byte
    /// order mark and white space, is `<`), else the spreadsheet door (CSV, or XLSX when they
    /// are a zip container).
    pub fn of(bytes: &[u8]) -> Door {
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        match text.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'<') => Door::Edexml,
            _ => Door::Spreadsheet,
        }
    }

    /// Read `bytes` and map them onto `school` as of `today` (`YYYY-MM-DD`).
    pub fn read(self, bytes: &[u8], school: &School, today: &str) -> Result<Incoming, ImportError> {
        match self {
            Door::Edexml => {
                let file = protocol::edexml::parse(bytes).map_err(|e| ImportError::Invalid {
                    line: e.line,
                    message: e.message,
                })?;
                edexml::incoming(&file, school, today)
            }
            Door::Spreadsheet => {
                let sheet =
                    protocol::spreadsheet::parse(bytes).map_err(|e| ImportError::Invalid {
                        line: e.line,
                        message: e.message,
                    })?;
                Ok(spreadsheet::incoming(&sheet, today))
            }
            Door::Uwlr => {
                let answer =
                    protocol::uwlr::leerlinggegevens_antwoord(bytes).map_err(|e| match e {
                        protocol::uwlr::UwlrError::Invalid(e) => ImportError::Invalid {
                            line: e.line,
                            message: e.message,
                        },
                        fault @ protocol::uwlr::UwlrError::Fault { .. } => {
                            ImportError::Fault(fault.to_string())
                        }
                        other => ImportError::Invalid {
                            line: other.line().unwrap_or(1),
                            message: other.to_string(),
                        },
                    })?;
                let mut incoming = edexml::incoming(&answer, school, today)?;
                incoming.source = "uwlr";
                Ok(incoming)
            }
        }
    }
}

/// A file for `school` through `door`, as of `today` (`YYYY-MM-DD`): imported, or staged when
/// it is for the next school year ([`staging`]), or only reported with `dry_run`. Each door
/// bounds its input (EDEXML: [`protocol::edexml::MAX_BYTES`], spreadsheets:
/// [`protocol::spreadsheet::MAX_BYTES`]).
pub fn import(
    door: Door,
    ctx: Ctx<'_>,
    secrets: &Credentials<'_>,
    school: &claims::InstellingRef,
    bytes: &[u8],
    today: &str,
    dry_run: bool,
) -> Result<ImportReport, ImportError> {
    let s = ctx.active_school(school)?;
    let incoming = door.read(bytes, &s, today)?;
    staging::run_or_stage(ctx, secrets, &s, incoming, bytes, dry_run)
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

/// A stored file read again by the door named `source`, for `school` as of `today` — for a
/// staged school year when it takes effect.
pub fn read_file(
    source: &str,
    payload: &[u8],
    school: &School,
    today: &str,
) -> Result<Incoming, ImportError> {
    let door = match source {
        "edexml" => Door::Edexml,
        "spreadsheet" => Door::Spreadsheet,
        "uwlr" => Door::Uwlr,
        other => {
            return Err(ImportError::Invalid {
                line: 1,
                message: format!("no door reads files of kind '{other}'"),
            })
        }
    };
    door.read(payload, school, today)
}

/// Mail every teacher an import added (with an e-mail address) their activation link: they
/// stay inactive until they set a password. Run after the import's transaction; a mail that
/// cannot be sent is logged (by user id) and counted out, and the coordinator can send it
/// again from Personeel. Returns how many went out.
pub fn welcome(w: &World, actor: &str, report: &ImportReport) -> usize {
    if report.dry_run {
        return 0;
    }
    let mut sent = 0;
    for id in &report.to_welcome {
        let user = match w.dir.user(*id) {
            Ok(Some(u)) => u,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(user = %id, error = %e, "import: activation link not sent");
                continue;
            }
        };
        match password::send_link(w, &user, actor, w.now()) {
            Ok(()) => sent += 1,
            Err(e) => tracing::warn!(user = %id, error = %e, "import: activation link not sent"),
        }
    }
    sent
}
