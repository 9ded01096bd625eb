//! Niveaus — a group or a pupil works with the software of a higher or lower year group. The
//! ICT coordinator sets them for every group and pupil in Beheer (`/beheer/niveaus`); a
//! teacher for their own group and its pupils from the group overview
//! (`/groepen/{group}/niveaus`). Both pages draw the same forms (`niveaus_formulier.html`): one
//! per group or pupil, a checkbox per year group, a POST with the CSRF token. Who may do what
//! is `broker::beheer::niveaus`'s.

use broker::beheer::niveaus::{self, GroupLevels, PupilLevels};
use claims::Jaargroep;

#[allow(clippy::wildcard_imports)]
use super::*;

/// One checkbox: the year group, its label, and whether it is given.
struct LevelBox {
    n: u8,
    label: String,
    checked: bool,
}

/// One holder's row (a group or a pupil): what it is, what it has, and its form.
struct LevelsRow {
    name: String,
    /// A group's own year group ("Groep 3"), or the words for none.
    own: String,
    /// Where the form posts.
    action: String,
    /// The group to come back to after a pupil's form (Beheer).
    back_group: Option<Uuid>,
    legend: String,
    boxes: Vec<LevelBox>,
    /// The group's pupils (Beheer, a group's row).
    pupils_link: Option<String>,
}

fn in_words(t: &'static Texts, levels: &[Jaargroep]) -> String {
    if levels.is_empty() {
        return t.niveaus.none.to_string();
    }
    levels
        .iter()
        .map(|j| t.niveaus.level(j.get()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn row(t: &'static Texts, name: String, levels: &[Jaargroep], action: String) -> LevelsRow {
    LevelsRow {
        own: String::new(),
        legend: t.niveaus.levels_of(&name),
        boxes: (Jaargroep::MIN..=Jaargroep::MAX)
            .map(|n| LevelBox {
                n,
                label: t.niveaus.level(n),
                checked: levels.iter().any(|j| j.get() == n),
            })
            .collect(),
        name,
        action,
        back_group: None,
        pupils_link: None,
    }
}

fn group_row(t: &'static Texts, g: &GroupLevels, action: String) -> LevelsRow {
    LevelsRow {
        own: g.group.jaargroep.map_or_else(
            || t.niveaus.no_jaargroep.to_string(),
            |j| t.niveaus.level(j.get()),
        ),
        ..row(t, g.group.name.clone(), &g.levels, action)
    }
}

fn pupil_row(t: &'static Texts, p: &PupilLevels, action: String) -> LevelsRow {
    row(t, p.pupil.display_name(), &p.levels, action)
}

/// The levels a form ticked: every `niveau-<n>` field (anything but a year group counts as
/// one the broker refuses).
#[derive(Debug, Deserialize)]
pub struct LevelsForm {
    csrf_token: String,
    /// Beheer: the group whose pupils the page shows again after a pupil's form.
    #[serde(default)]
    groep: Option<String>,
    #[serde(flatten)]
    fields: HashMap<String, String>,
}

csrf_protected!(LevelsForm);

impl LevelsForm {
    fn asked(&self) -> Vec<u8> {
        self.fields
            .keys()
            .filter_map(|k| k.strip_prefix("niveau-"))
            .map(|n| n.parse().unwrap_or(0))
            .collect()
    }

    fn back_group(&self) -> Result<Option<Uuid>, PageError> {
        match self.groep.as_deref() {
            None | Some("") => Ok(None),
            Some(g) => Uuid::parse_str(g)
                .map(Some)
                .map_err(|_| PageError::NotFound),
        }
    }
}

/// The year groups of `levels` as numbers, for the message.
fn numbers(levels: &[Jaargroep]) -> Vec<u8> {
    levels.iter().map(|j| j.get()).collect()
}

/// The group chosen on the Beheer page, with its pupils' rows.
struct Chosen {
    title: String,
    pupils: Vec<LevelsRow>,
}

beheer_template!(NiveausPage, "beheer_niveaus.html", {
    groups: Vec<LevelsRow>,
    chosen: Option<Chosen>,
    /// Pupils with levels of their own: (name, levels in words).
    set: Vec<(String, String)>,
});

/// The coordinator as a user (Beheer's pages are for signed-in coordinators).
fn coordinator_user(b: &Beheerder) -> Result<User, PageError> {
    b.coordinator.user.clone().ok_or(PageError::NotFound)
}

async fn niveaus_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    b: Beheerder,
    chosen: Option<Uuid>,
    message: Option<Message>,
) -> Result<HttpResponse, PageError> {
    let staff = coordinator_user(&b)?;
    let (groups, chosen, set) = b
        .blocking(state, move |st, _| {
            let dir = st.dir.as_ref();
            let groups = niveaus::groups(dir, &staff)?;
            let chosen = match chosen {
                Some(g) => Some(niveaus::group_with_pupils(dir, &staff, g)?),
                None => None,
            };
            Ok((groups, chosen, niveaus::pupils_with_levels(dir, &staff)?))
        })
        .await?;
    let c = Chrome::of(req, state, None).await;
    let t = c.t;
    let (outcome, cookie) = Outcome::issue(req, state, message);
    let page = beheer_page!(NiveausPage, c, &b.school, "niveaus", outcome, {
        groups: groups
            .iter()
            .map(|g| LevelsRow {
                pupils_link: Some(format!("/beheer/niveaus?groep={}#leerlingen", g.group.id)),
                ..group_row(t, g, format!("/beheer/niveaus/groep/{}", g.group.id))
            })
            .collect(),
        chosen: chosen.map(|(g, pupils)| Chosen {
            title: t.niveaus.pupils_title(&g.group.name),
            pupils: pupils
                .iter()
                .map(|p| LevelsRow {
                    back_group: Some(g.group.id),
                    ..pupil_row(t, p, format!("/beheer/niveaus/leerling/{}", p.pupil.id))
                })
                .collect(),
        }),
        set: set
            .iter()
            .map(|p| (p.pupil.display_name(), in_words(t, &p.levels)))
            .collect(),
    });
    Ok(respond(&page, cookie))
}

/// The Beheer page's query: `groep`, the group whose pupils it shows.
#[derive(Debug, Deserialize)]
pub struct NiveausQuery {
    #[serde(default)]
    groep: String,
}

/// GET `/beheer/niveaus[?groep=…]`: every group with its year group and levels, the pupils
/// with levels of their own, and (with `groep`) that group's pupils.
pub async fn niveaus_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    q: web::Query<NiveausQuery>,
) -> Result<HttpResponse, PageError> {
    let chosen = match q.groep.as_str() {
        "" => None,
        g => Some(Uuid::parse_str(g).map_err(|_| PageError::NotFound)?),
    };
    niveaus_page(&req, &state, b, chosen, None).await
}

/// POST `/beheer/niveaus/groep/{group}`: the group's levels become the ticked ones.
pub async fn niveaus_group_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    path: web::Path<String>,
    CsrfChecked(form): CsrfChecked<LevelsForm>,
) -> Result<HttpResponse, PageError> {
    let group = Uuid::parse_str(&path).map_err(|_| PageError::NotFound)?;
    let (staff, asked) = (coordinator_user(&b)?, form.asked());
    let given = b
        .blocking(&state, move |st, _| {
            Ok(niveaus::give_group(&st.world(), &staff, group, &asked))
        })
        .await?;
    let c = Chrome::of(&req, &state, None).await;
    let m = outcome(c.t.beheer, given, |(g, levels)| {
        c.t.niveaus.saved(&g.name, &numbers(&levels))
    })?;
    niveaus_page(&req, &state, b, None, Some(m)).await
}

/// POST `/beheer/niveaus/leerling/{user}`: the pupil's own levels become the ticked ones; the
/// page shows the group of `groep` again.
pub async fn niveaus_pupil_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    path: web::Path<String>,
    CsrfChecked(form): CsrfChecked<LevelsForm>,
) -> Result<HttpResponse, PageError> {
    let pupil = user_in_path(&path)?;
    let back = form.back_group()?;
    let (staff, asked) = (coordinator_user(&b)?, form.asked());
    let given = b
        .blocking(&state, move |st, _| {
            if let Some(g) = back {
                niveaus::group_with_pupils(st.dir.as_ref(), &staff, g)?;
            }
            Ok(niveaus::give_pupil(&st.world(), &staff, pupil, &asked))
        })
        .await?;
    let c = Chrome::of(&req, &state, None).await;
    let m = outcome(c.t.beheer, given, |(p, levels)| {
        c.t.niveaus.saved(&p.display_name(), &numbers(&levels))
    })?;
    niveaus_page(&req, &state, b, back, Some(m)).await
}

/// The teacher's page of one group's levels (from the group overview).
#[derive(Template)]
#[template(path = "groep_niveaus.html")]
struct GroupLevelsPage {
    t: &'static Texts,
    lang: &'static str,
    notice: Option<String>,
    school_name: String,
    heading: String,
    outcome: Outcome,
    group: LevelsRow,
    pupils: Vec<LevelsRow>,
}

async fn group_levels_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    Staff { user, school }: Staff,
    group: Uuid,
    message: Option<Message>,
) -> Result<HttpResponse, PageError> {
    let st = state.clone();
    let (g, pupils) =
        failure::blocking(move || Ok(niveaus::group_with_pupils(st.dir.as_ref(), &user, group)?))
            .await?;
    let c = Chrome::of(req, state, None).await;
    let t = c.t;
    let (outcome, cookie) = Outcome::issue(req, state, message);
    let base = format!("/groepen/{}/niveaus", g.group.id);
    let page = GroupLevelsPage {
        t,
        lang: c.lang,
        notice: c.notice.clone(),
        school_name: school.name,
        heading: format!("{}: {}", t.niveaus.title, g.group.name),
        outcome,
        pupils: pupils
            .iter()
            .map(|p| pupil_row(t, p, format!("{base}/{}", p.pupil.id)))
            .collect(),
        group: group_row(t, &g, base),
    };
    Ok(respond(&page, cookie))
}

/// The group of a `/groepen/{group}/niveaus…` path.
fn group_in_path(path: &str) -> Result<Uuid, PageError> {
    Uuid::parse_str(path).map_err(|_| PageError::NotFound)
}

/// GET `/groepen/{group}/niveaus`: the group's levels and its pupils', for a teacher of the
/// group (or an ICT coordinator).
pub async fn group_levels_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let group = group_in_path(&path)?;
    group_levels_page(&req, &state, staff, group, None).await
}

/// POST `/groepen/{group}/niveaus`: the group's levels become the ticked ones.
pub async fn group_levels_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    CsrfChecked(form): CsrfChecked<LevelsForm>,
) -> Result<HttpResponse, PageError> {
    let group = group_in_path(&path)?;
    let (st, user, asked) = (state.clone(), staff.user.clone(), form.asked());
    let given =
        failure::blocking(move || Ok(niveaus::give_group(&st.world(), &user, group, &asked)))
            .await?;
    let c = Chrome::of(&req, &state, None).await;
    let m = outcome(c.t.beheer, given, |(g, levels)| {
        c.t.niveaus.saved(&g.name, &numbers(&levels))
    })?;
    group_levels_page(&req, &state, staff, group, Some(m)).await
}

/// The path of a pupil's form on the teacher's page: the group and the pupil.
#[derive(Debug, Deserialize)]
pub struct PupilPath {
    group: String,
    user: String,
}

/// POST `/groepen/{group}/niveaus/{user}`: a pupil of the group gets the ticked levels as
/// their own.
pub async fn pupil_levels_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<PupilPath>,
    CsrfChecked(form): CsrfChecked<LevelsForm>,
) -> Result<HttpResponse, PageError> {
    let group = group_in_path(&path.group)?;
    let pupil = user_in_path(&path.user)?;
    let (st, user, asked) = (state.clone(), staff.user.clone(), form.asked());
    let given = failure::blocking(move || {
        // Only a pupil of this group, on this group's page.
        let (_, pupils) = niveaus::group_with_pupils(st.dir.as_ref(), &user, group)?;
        if !pupils.iter().any(|p| p.pupil.id == pupil) {
            return Err(PageError::NotFound);
        }
        Ok(niveaus::give_pupil(&st.world(), &user, pupil, &asked))
    })
    .await?;
    let c = Chrome::of(&req, &state, None).await;
    let m = outcome(c.t.beheer, given, |(p, levels)| {
        c.t.niveaus.saved(&p.display_name(), &numbers(&levels))
    })?;
    group_levels_page(&req, &state, staff, group, Some(m)).await
}
