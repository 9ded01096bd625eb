//! Operator settings: the outage notice.

use crate::audit::AuditAction;

use super::{non_empty_long, Ctx, Result, NOTICE_KEY};

/// The operator's outage notice on every login page: set (`Some`) or cleared (`None`).
pub fn set_notice(ctx: Ctx<'_>, text: Option<&str>) -> Result<()> {
    let text = text.map(|t| non_empty_long("notice", t)).transpose()?;
    let audit = ctx.audit(
        AuditAction::NoticeSet,
        None,
        None,
        serde_json::json!({"notice": text}),
    );
    Ok(ctx.dir.put_setting(NOTICE_KEY, text.as_deref(), audit)?)
}
