//! "Account opheffen": a school that stops using Leerpoort. The coordinator takes the seed's
//! steps in one go — every publisher and network provider is unticked (no data go anywhere
//! from then on) — and the operator is told, by mail when an operator address is configured
//! and always in the audit trail. The operator checks the request with the school board and
//! closes the account (`leerpoort school close`).

use super::{Coordinator, Result};
use crate::admin;
use crate::audit::AuditAction;
use crate::model::{AuditEvent, School};
use crate::ports::{Letter, World};

/// What a closing request did.
#[derive(Debug, Clone)]
pub struct ClosingRequested {
    /// The parties unticked now.
    pub withdrawn: Vec<String>,
    /// The operator was mailed (there is an operator address, and the mail went).
    pub operator_mailed: bool,
}

/// Ask for the school's account to be closed: untick everything, write it down, tell the
/// operator at `operator` (if any).
pub fn request(
    w: &World,
    c: &Coordinator,
    school: &School,
    operator: Option<&str>,
) -> Result<ClosingRequested> {
    let ctx = c.ctx(w.dir, w.clock);
    let withdrawn = admin::withdraw_all(ctx, c.school())?;
    w.dir.append_audit(AuditEvent::record(
        AuditAction::SchoolCloseRequested,
        c.actor(),
        w.now(),
        Some(*c.school()),
        None,
        serde_json::json!({"withdrawn": withdrawn.len()}),
    ))?;
    let operator_mailed = operator.is_some_and(|to| {
        let letter = Letter::ClosingRequested {
            to: to.to_string(),
            school: school.name.clone(),
            instelling_ref: school.instelling_ref.to_string(),
            brin6: school.brin6.to_string(),
            by: c.name(),
        };
        match w.outbox.send(&letter) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "closing request: the operator's mail was not sent");
                false
            }
        }
    });
    Ok(ClosingRequested {
        withdrawn,
        operator_mailed,
    })
}
