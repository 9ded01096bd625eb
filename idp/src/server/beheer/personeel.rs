//! Beheer: Personeel — the school's staff, their roles, links, blocking and removal.

#[allow(clippy::wildcard_imports)]
use super::*;

/// One staff member on the staff page.
struct StaffRow {
    id: Uuid,
    name: String,
    email: String,
    roles: String,
    status: &'static str,
    disabled: bool,
    inactive: bool,
    /// The extra roles they could still be given, and those they hold (which can be taken).
    give: Vec<(&'static str, &'static str)>,
    take: Vec<(&'static str, &'static str)>,
}

fn role_name(b: &BeheerTexts, r: Role) -> &'static str {
    match r {
        Role::Leerkracht => b.role_teacher,
        Role::IctCoordinator => b.role_coordinator,
        Role::Ib => b.role_ib,
        Role::Rt => b.role_rt,
        Role::Stagiaire => b.role_trainee,
        Role::Leerling | Role::Invalkracht => "",
    }
}

impl StaffRow {
    fn of(u: &User, b: &BeheerTexts) -> Self {
        let given = |r: &Role| (r.as_str(), role_name(b, *r));
        StaffRow {
            id: u.id,
            name: u.display_name(),
            email: u.email.clone().unwrap_or_default(),
            roles: u
                .roles
                .iter()
                .map(|r| role_name(b, *r))
                .collect::<Vec<_>>()
                .join(", "),
            status: match u.status {
                UserStatus::Active => b.status_active,
                UserStatus::Inactive => b.status_inactive,
                _ => b.status_disabled,
            },
            disabled: u.status == UserStatus::Disabled,
            inactive: u.status == UserStatus::Inactive,
            give: staff::GIVEN_ROLES
                .iter()
                .filter(|r| !u.roles.contains(r))
                .map(given)
                .collect(),
            take: staff::GIVEN_ROLES
                .iter()
                .filter(|r| u.roles.contains(r) && u.roles.len() > 1)
                .map(given)
                .collect(),
        }
    }
}

beheer_template!(StaffPage, "beheer_personeel.html", {
    lists: Vec<(&'static str, Vec<StaffRow>)>,
    roles: Vec<(&'static str, &'static str)>,
});

async fn staff_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    b: Beheerder,
    message: Option<Message>,
) -> Result<HttpResponse, PageError> {
    let list: StaffList = b
        .blocking(state, move |st, coordinator| {
            Ok(staff::list(st.dir.as_ref(), coordinator)?)
        })
        .await?;
    let c = Chrome::of(req, state, None).await;
    let bt = c.t.beheer;
    let rows = |l: &[User]| l.iter().map(|u| StaffRow::of(u, bt)).collect::<Vec<_>>();
    let (outcome, cookie) = Outcome::issue(req, state, message);
    let page = beheer_page!(StaffPage, c, &b.school, "personeel", outcome, {
        lists: vec![
            (bt.coordinators, rows(&list.coordinators)),
            (bt.teachers, rows(&list.teachers)),
            (bt.support, rows(&list.support)),
        ],
        roles: staff::GIVEN_ROLES
            .iter()
            .map(|r| (r.as_str(), role_name(bt, *r)))
            .collect(),
    });
    Ok(respond(&page, cookie))
}

shown_as_is!(
    /// GET `/beheer/personeel`: the school's coordinators, teachers and support staff.
    staff_list => staff_page
);

/// The form that adds a staff member.
#[derive(Debug, Deserialize)]
pub struct AddForm {
    csrf_token: String,
    #[serde(default)]
    voornaam: String,
    #[serde(default)]
    achternaam: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    rol: String,
}

csrf_protected!(AddForm);

/// POST `/beheer/personeel`: add an ICT coordinator or support-staff member, who receives an
/// activation link.
pub async fn staff_add(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    CsrfChecked(form): CsrfChecked<AddForm>,
) -> Result<HttpResponse, PageError> {
    let role = Role::from_str(&form.rol).map_err(|_| PageError::NotFound)?;
    let new = NewStaff {
        given_name: form.voornaam,
        family_name: form.achternaam,
        email: form.email,
        role,
    };
    let added = b
        .blocking(&state, move |st, coordinator| {
            Ok(staff::add(&st.world(), st.credentials(), coordinator, new))
        })
        .await?;
    let c = Chrome::of(&req, &state, None).await;
    let bt = c.t.beheer;
    let m = outcome(bt, added, |i| {
        if i.link_sent {
            bt.staff_added(&i.user.display_name())
        } else {
            bt.staff_added_no_mail(&i.user.display_name())
        }
    })?;
    staff_page(&req, &state, b, Some(m)).await
}

/// The form of an action on one staff member: its CSRF token (and, to change a role, which
/// and whether to give or take it).
#[derive(Debug, Deserialize)]
pub struct StaffActionForm {
    csrf_token: String,
    #[serde(default)]
    rol: String,
    #[serde(default)]
    geven: String,
}

csrf_protected!(StaffActionForm);

/// What can be done to one staff member.
#[derive(Debug, Clone, Copy)]
pub enum StaffAction {
    Link,
    Disable,
    Enable,
    Remove,
    Role,
}

/// POST `/beheer/personeel/{user}/{action}`: resend the link, block, unblock, remove, or give
/// or take a role. `action` is `link`, `blokkeren`, `deblokkeren`, `verwijderen` or `rol`.
pub async fn staff_action(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    path: web::Path<(String, String)>,
    CsrfChecked(form): CsrfChecked<StaffActionForm>,
) -> Result<HttpResponse, PageError> {
    let (user, action) = path.into_inner();
    let user = user_in_path(&user)?;
    let action = match action.as_str() {
        "link" => StaffAction::Link,
        "blokkeren" => StaffAction::Disable,
        "deblokkeren" => StaffAction::Enable,
        "verwijderen" => StaffAction::Remove,
        "rol" => StaffAction::Role,
        _ => return Err(PageError::NotFound),
    };
    let role = match action {
        StaffAction::Role => Some(Role::from_str(&form.rol).map_err(|_| PageError::NotFound)?),
        _ => None,
    };
    let give = form.geven == "1";
    let done = b
        .blocking(&state, move |st, coordinator| {
            let (dir, clock) = (st.dir.as_ref(), st.clock.as_ref());
            let c = coordinator;
            Ok(match (action, role) {
                (StaffAction::Link, _) => staff::resend_link(&st.world(), c, user),
                (StaffAction::Disable, _) => staff::offboard(dir, clock, c, user, false),
                (StaffAction::Remove, _) => staff::offboard(dir, clock, c, user, true),
                (StaffAction::Enable, _) => staff::enable(dir, clock, c, user),
                (StaffAction::Role, Some(r)) => staff::set_role(dir, clock, c, user, r, give),
                (StaffAction::Role, None) => Err(BeheerError::NotFound),
            })
        })
        .await?;
    let c = Chrome::of(&req, &state, None).await;
    let bt = c.t.beheer;
    let m = outcome(bt, done, |u| match action {
        StaffAction::Link => bt.link_sent(u.email.as_deref().unwrap_or_default()),
        StaffAction::Disable => bt.disabled_done.to_string(),
        StaffAction::Enable => bt.enabled_done.to_string(),
        StaffAction::Remove => bt.removed_done.to_string(),
        StaffAction::Role => bt.roles_done.to_string(),
    })?;
    staff_page(&req, &state, b, Some(m)).await
}

/// GET `/beheer/personeel/{user}/verwijderen`: what removing does, and its button.
pub async fn staff_remove_confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let user = user_in_path(&path)?;
    b.blocking(&state, move |st, coordinator| {
        Ok(coordinator.own_user(st.dir.as_ref(), user)?)
    })
    .await?;
    let c = Chrome::of(&req, &state, None).await;
    let (token, cookie) = state.csrf.issue(&req, state.config.is_https());
    let b = c.t.beheer;
    let words = [b.remove_title, b.remove_confirm, b.remove];
    let page = ConfirmPage::new(
        c,
        req.path().to_string(),
        token,
        words,
        ("/beheer/personeel", b.staff_title),
    );
    Ok(respond(&page, cookie))
}
