//! Beheer: Invalkrachten — a group's substitute account, activated for 1, 2 or 5 school days.

#[allow(clippy::wildcard_imports)]
use super::*;

/// One group on the substitutes page.
struct SlotRow {
    group_id: Uuid,
    group: String,
    substitute: Option<String>,
    until: String,
    account: Uuid,
}

beheer_template!(SubstitutesPage, "beheer_invalkrachten.html", {
    slots: Vec<SlotRow>,
    days: Vec<(u8, &'static str)>,
});

/// The last day a substitution runs (it ends at midnight after it).
fn last_day(until: i64) -> String {
    catalogue::local_time(until - 1, "%-d-%-m-%Y")
}

async fn substitutes_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    b: Beheerder,
    message: Option<Message>,
) -> Result<HttpResponse, PageError> {
    use broker::beheer::substitutes;
    let slots = b
        .blocking(state, move |st, coordinator| {
            let ctx = coordinator.ctx(st.dir.as_ref(), st.clock.as_ref());
            Ok(substitutes::slots(ctx, coordinator.school())?)
        })
        .await?;
    let c = Chrome::of(req, state, None).await;
    let bt = c.t.beheer;
    let (outcome, cookie) = Outcome::issue(req, state, message);
    let page = beheer_page!(SubstitutesPage, c, &b.school, "invalkrachten", outcome, {
        slots: slots
            .iter()
            .map(|s| SlotRow {
                group_id: s.group.id,
                group: s.group.name.clone(),
                substitute: s.substitution.as_ref().map(|_| s.account.display_name()),
                until: s
                    .substitution
                    .as_ref()
                    .map(|x| last_day(x.until))
                    .unwrap_or_default(),
                account: s.account.id,
            })
            .collect(),
        days: substitutes::DAYS
            .iter()
            .zip(bt.subs_day_options)
            .map(|(d, label)| (*d, label))
            .collect(),
    });
    Ok(respond(&page, cookie))
}

shown_as_is!(
    /// GET `/beheer/invalkrachten`: every group, who substitutes there and until when.
    substitutes_list => substitutes_page
);

/// The form that activates a group's substitute account.
#[derive(Debug, Deserialize)]
pub struct ActivateForm {
    csrf_token: String,
    groep: String,
    #[serde(default)]
    naam: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    dagen: String,
}

csrf_protected!(ActivateForm);

/// POST `/beheer/invalkrachten`: activate a group's substitute account ("Activeer").
pub async fn substitutes_activate(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    CsrfChecked(form): CsrfChecked<ActivateForm>,
) -> Result<HttpResponse, PageError> {
    use broker::beheer::substitutes::{self, Substitute};
    let group = Uuid::parse_str(&form.groep).map_err(|_| PageError::NotFound)?;
    let who = Substitute {
        name: form.naam,
        email: form.email,
        days: form.dagen.parse().unwrap_or(0),
    };
    let activated = b
        .blocking(&state, move |st, coordinator| {
            let ctx = coordinator.ctx(st.dir.as_ref(), st.clock.as_ref());
            let by = coordinator.user.as_ref().map(|u| u.id);
            Ok(substitutes::activate(
                &st.world(),
                ctx,
                coordinator.school(),
                group,
                who,
                by,
            ))
        })
        .await?;
    let c = Chrome::of(&req, &state, None).await;
    let bt = c.t.beheer;
    let m = outcome(bt, activated, |a| {
        let (name, until) = (a.account.display_name(), last_day(a.until));
        if a.link_sent {
            bt.subs_activated(&name, &a.group.name, &until)
        } else {
            bt.subs_activated_no_mail(&name, &a.group.name, &until)
        }
    })?;
    substitutes_page(&req, &state, b, Some(m)).await
}

/// POST `/beheer/invalkrachten/{user}/beeindigen`: end a substitution before its time.
pub async fn substitutes_end(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    path: web::Path<String>,
    CsrfChecked(_): CsrfChecked<super::pages::CsrfForm>,
) -> Result<HttpResponse, PageError> {
    let account = user_in_path(&path)?;
    b.blocking(&state, move |st, coordinator| {
        let ctx = coordinator.ctx(st.dir.as_ref(), st.clock.as_ref());
        Ok(broker::beheer::substitutes::end(
            ctx,
            coordinator.school(),
            account,
        )?)
    })
    .await?;
    let c = Chrome::of(&req, &state, None).await;
    let m = Message::Done(c.t.beheer.subs_ended.to_string());
    substitutes_page(&req, &state, b, Some(m)).await
}
