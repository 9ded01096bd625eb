//! The school year. A school year runs from 1 August to 31 July (`2026-2027`); the LAS
//! exports the next one ahead of time, with the new groups dated 1 August. A file for a later
//! school year than today's is not applied: it is checked against what is stored, kept with
//! its report, and takes effect at 00:00 Europe/Amsterdam on 1 August of its year, when the
//! scheduler ([`switch_due`]) runs it through the same pipeline. Until then the current year
//! stays in force, and the nightly files of the current year keep coming in. A newer file for
//! the next year replaces the staged one; an operator can withdraw it.

use claims::InstellingRef;
use serde::Serialize;

use super::{run, welcome, ImportError, ImportReport, Incoming};
use crate::admin::{Credentials, Ctx};
use crate::audit::AuditAction;
use crate::model::School;
use crate::ports::World;
use crate::repo::StagedImport;

const ZONE: &str = "Europe/Amsterdam";

/// The school year a report's file is kept for, and the day it takes effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StagedYear {
    pub school_year: String,
    /// `YYYY-MM-DD` (1 August).
    pub takes_effect: String,
}

/// The school year `now` falls in, in the Netherlands: `2026-2027` from 1 August 2026 up to
/// and including 31 July 2027.
pub fn current_school_year(now: i64) -> String {
    let year: i32 = catalogue::local_time(now, "%Y").parse().unwrap_or(1970);
    let month: u8 = catalogue::local_time(now, "%m").parse().unwrap_or(1);
    let first = if month >= 8 { year } else { year - 1 };
    format!("{first}-{}", first + 1)
}

/// When `school_year` (`YYYY-YYYY`, consecutive years) begins: 1 August of its first year,
/// 00:00 Europe/Amsterdam, in seconds. `None` when it is not a school year.
pub fn begins(school_year: &str) -> Option<i64> {
    let (a, b) = school_year.split_once('-')?;
    let (a, b): (i16, i16) = (a.parse().ok()?, b.parse().ok()?);
    if b != a + 1 || a.to_string().len() != 4 {
        return None;
    }
    let tz = jiff::tz::TimeZone::get(ZONE).ok()?;
    let start = jiff::civil::date(a, 8, 1).to_zoned(tz).ok()?;
    Some(start.timestamp().as_second())
}

/// Whether a file for `school_year` is ahead of the year in force at `now`.
pub fn is_ahead(school_year: &str, now: i64) -> bool {
    begins(school_year).is_some_and(|b| b > now)
}

/// Import `incoming` (read from `payload` by the door `incoming.source`) into `school`: at
/// once when it is for the current (or an earlier) school year, otherwise staged until its
/// year begins. The report says which (`staged`); with `dry_run` nothing is written either way.
pub fn run_or_stage(
    ctx: Ctx<'_>,
    secrets: &Credentials<'_>,
    school: &School,
    incoming: Incoming,
    payload: &[u8],
    dry_run: bool,
) -> Result<ImportReport, ImportError> {
    let now = ctx.now();
    if !is_ahead(&incoming.school_year, now) {
        return run(ctx, secrets, school, incoming, dry_run);
    }
    let (source, school_year) = (incoming.source, incoming.school_year.clone());
    let takes_effect = begins(&school_year).unwrap_or(now);
    let mut report = run(ctx, secrets, school, incoming, true)?;
    report.dry_run = dry_run;
    report.to_welcome.clear();
    report.staged = Some(StagedYear {
        school_year: school_year.clone(),
        takes_effect: catalogue::local_time(takes_effect, "%Y-%m-%d"),
    });
    if dry_run {
        return Ok(report);
    }
    let details = serde_json::to_value(&report).unwrap_or_default();
    let staged = StagedImport {
        school: school.instelling_ref,
        school_year,
        source: source.to_string(),
        payload: payload.to_vec(),
        report: details.clone(),
        takes_effect,
        staged_at: now,
    };
    let audit = ctx.audit(
        AuditAction::ImportStaged,
        Some(school.instelling_ref),
        None,
        details,
    );
    ctx.dir.stage_import(&staged, audit)?;
    Ok(report)
}

/// Withdraw the school's staged file; whether there was one.
pub fn withdraw(ctx: Ctx<'_>, school: &InstellingRef) -> Result<bool, ImportError> {
    let Some(staged) = ctx.dir.staged_import(school)? else {
        return Ok(false);
    };
    let audit = ctx.audit(
        AuditAction::ImportUnstaged,
        Some(*school),
        None,
        serde_json::json!({ "school_year": staged.school_year }),
    );
    Ok(ctx.dir.drop_staged(school, Some(audit))?)
}

/// Reads a staged file again at the moment it takes effect: the door named `source`, for
/// `school`, as of `today` (`YYYY-MM-DD`).
pub type Reader<'a> = &'a dyn Fn(&str, &[u8], &School, &str) -> Result<Incoming, ImportError>;

/// How one staged file went when its year began.
#[derive(Debug)]
pub struct Switched {
    pub school: InstellingRef,
    pub result: Result<ImportReport, ImportError>,
}

/// Apply every staged file whose school year has begun (at `w`'s now): read it again with
/// `read`, run it through the pipeline as `actor`, mail new teachers, and forget it. A file
/// that fails now (the school closed, a conflict) is forgotten too, and the failure is
/// reported and logged: the LAS's next file is the way forward, not a retry every minute.
pub fn switch_due(
    w: &World,
    secrets: &Credentials<'_>,
    actor: &str,
    read: Reader<'_>,
) -> Result<Vec<Switched>, ImportError> {
    let now = w.now();
    let today = catalogue::local_time(now, "%Y-%m-%d");
    let mut done = Vec::new();
    for school in w.dir.staged_due(now)? {
        let Some(staged) = w.dir.staged_import(&school)? else {
            continue;
        };
        let ctx = Ctx {
            dir: w.dir,
            clock: w.clock,
            actor,
        };
        let result = ctx
            .active_school(&school)
            .map_err(ImportError::from)
            .and_then(|s| {
                let incoming = read(&staged.source, &staged.payload, &s, &today)?;
                run(ctx, secrets, &s, incoming, false)
            });
        if let Ok(report) = &result {
            welcome(w, actor, report);
        }
        if let Err(e) = &result {
            tracing::warn!(school = %school, error = %e, "staged school year not applied");
        }
        w.dir.drop_staged(&school, None)?;
        done.push(Switched { school, result });
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// 2026-12-06 12:00 UTC.
    const DEC_2026: i64 = 1_796_558_400;

    #[test]
    fn the_school_year_turns_on_the_first_of_august_in_amsterdam() {
        assert_eq!(current_school_year(DEC_2026), "2026-2027");
        let aug = begins("2027-2028").unwrap();
        // 1 August 2027 00:00 CEST is 31 July 22:00 UTC.
        assert_eq!(aug, 1_817_071_200);
        assert_eq!(current_school_year(aug - 1), "2026-2027");
        assert_eq!(current_school_year(aug), "2027-2028");
        assert!(is_ahead("2027-2028", aug - 1));
        assert!(!is_ahead("2027-2028", aug));
        assert!(!is_ahead("2026-2027", DEC_2026));
        assert!(!is_ahead("2019-2020", DEC_2026));
    }

    #[test]
    fn only_consecutive_years_are_a_school_year() {
        for bad in ["2027", "2027-2029", "27-28", "2027-2027", "abcd-efgh", ""] {
            assert_eq!(begins(bad), None, "{bad}");
            assert!(!is_ahead(bad, DEC_2026), "{bad}");
        }
    }
}
