//! The console's pages: every school, and a merger or a split — chosen in a form, shown as a
//! preview that writes nothing (`admin::preview_merge`, `admin::preview_split`), carried out
//! when confirmed (`admin::merge`, `admin::split`) as the actor `operator`. The confirmed
//! operation checks and plans again from the schools as they are then; its own report is
//! shown afterwards.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use broker::admin::{self, AdminError, Ctx, MergerReport, Moved, People, SplitInput, SplitReport};
use broker::model::{School, SchoolStatus};
use broker::repo::RepoError;
use serde::Deserialize;

use super::access::{Checked, Fields, Operator};
use super::{OperatorError, ACTOR};
use crate::app::AppState;
use crate::server::pages;

/// The broker's context for what the console does.
fn ctx(state: &AppState) -> Ctx<'_> {
    Ctx {
        dir: state.dir.as_ref(),
        clock: state.clock.as_ref(),
        actor: ACTOR,
    }
}

/// A refusal the page shows (the broker's words; the page says that nothing was changed), or
/// an outage.
fn refusal(e: AdminError) -> Result<String, OperatorError> {
    let words = match e {
        AdminError::Invalid(m) => m,
        AdminError::Repo(RepoError::Conflict(m) | RepoError::NotFound(m)) => m,
        AdminError::Repo(e) => return Err(e.into()),
        other => return Err(OperatorError::Unavailable(other.to_string())),
    };
    Ok(words
        .strip_suffix("; nothing was changed")
        .unwrap_or(&words)
        .to_string())
}

/// A school as the pages name it.
fn label(s: &School) -> String {
    format!("{} ({})", s.name, s.brin6)
}

/// One row of the school list.
struct SchoolRow {
    instelling_ref: String,
    name: String,
    brin6: String,
    status: String,
    active: bool,
}

impl SchoolRow {
    fn of(s: &School) -> Self {
        SchoolRow {
            instelling_ref: s.instelling_ref.to_string(),
            name: s.name.clone(),
            brin6: s.brin6.to_string(),
            status: match &s.status {
                SchoolStatus::Merged(into) => format!("merged into {into}"),
                other => other.as_str().to_string(),
            },
            active: s.status == SchoolStatus::Active,
        }
    }
}

#[derive(Template)]
#[template(path = "operator_schools.html")]
struct SchoolsPage {
    csrf_token: String,
    schools: Vec<SchoolRow>,
}

/// Every school, by name.
fn sorted(mut schools: Vec<School>) -> Vec<School> {
    schools.sort_by(|a, b| {
        (a.name.to_lowercase(), a.brin6.to_string())
            .cmp(&(b.name.to_lowercase(), b.brin6.to_string()))
    });
    schools
}

/// GET `/operator`: every school (name, BRIN6, status, INSTELLING_REF), with links to merge
/// or split the active ones.
pub(super) async fn schools(
    state: web::Data<AppState>,
    op: Operator,
) -> Result<HttpResponse, OperatorError> {
    let st = state.clone();
    let schools = web::block(move || st.dir.schools()).await??;
    let page = SchoolsPage {
        csrf_token: op.csrf,
        schools: sorted(schools).iter().map(SchoolRow::of).collect(),
    };
    Ok(pages::html(StatusCode::OK, page.render()))
}

/// An option of a select list of active schools.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

fn choices(schools: &[School], selected: &str) -> Vec<Choice> {
    schools
        .iter()
        .filter(|s| s.status == SchoolStatus::Active)
        .map(|s| {
            let value = s.instelling_ref.to_string();
            Choice {
                selected: value == selected.trim(),
                label: label(s),
                value,
            }
        })
        .collect()
}

/// The name of the school `r` among `schools`, or `r` itself.
fn name_of(schools: &[School], r: &str) -> String {
    schools
        .iter()
        .find(|s| s.instelling_ref.to_string() == r)
        .map(label)
        .unwrap_or_else(|| r.to_string())
}

/// One join of a merger report.
struct JoinRow {
    keeper: String,
    joined: String,
    by: &'static str,
    pupil: bool,
}

/// A merger report as the page shows it (a preview or what was done).
struct MergeView {
    from: String,
    into: String,
    from_label: String,
    into_label: String,
    moved: Moved,
    joined: People,
    joins: Vec<JoinRow>,
    consents_offered: bool,
    warnings: Vec<String>,
}

impl MergeView {
    fn of(r: &MergerReport, schools: &[School]) -> Self {
        MergeView {
            from: r.from.to_string(),
            into: r.into.to_string(),
            from_label: name_of(schools, &r.from.to_string()),
            into_label: name_of(schools, &r.into.to_string()),
            moved: r.moved,
            joined: r.joined,
            joins: r
                .joins
                .iter()
                .map(|j| JoinRow {
                    keeper: j.keeper.to_string(),
                    joined: j.joined.to_string(),
                    by: match j.by {
                        admin::JoinedBy::EckId => "ECK-iD",
                        admin::JoinedBy::LasKey => "LAS key and role",
                    },
                    pupil: j.pupil,
                })
                .collect(),
            consents_offered: r.consents_offered,
            warnings: r.warnings.iter().map(ToString::to_string).collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "operator_merge.html")]
struct MergePage {
    csrf_token: String,
    from: Vec<Choice>,
    into: Vec<Choice>,
    refused: Option<String>,
    preview: Option<MergeView>,
    done: Option<MergeView>,
}

/// What a merge page does besides showing the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Form,
    Preview,
    Confirm,
}

/// The query of the merge form (`?from=&into=`: preselected schools).
#[derive(Debug, Default, Deserialize)]
pub(super) struct MergeQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    into: String,
}

/// GET `/operator/fusie`: choose the school that merges and the school it merges into.
pub(super) async fn merge_form(
    state: web::Data<AppState>,
    op: Operator,
    query: web::Query<MergeQuery>,
) -> Result<HttpResponse, OperatorError> {
    let q = query.into_inner();
    merge_page(state, op, q.from, q.into, Step::Form).await
}

/// POST `/operator/fusie/voorbeeld`: what the merger would do; nothing is written.
pub(super) async fn merge_preview(
    state: web::Data<AppState>,
    form: Checked,
) -> Result<HttpResponse, OperatorError> {
    let (from, into) = merge_fields(&form.fields);
    merge_page(state, form.operator, from, into, Step::Preview).await
}

/// POST `/operator/fusie`: the merger, confirmed.
pub(super) async fn merge_confirm(
    state: web::Data<AppState>,
    form: Checked,
) -> Result<HttpResponse, OperatorError> {
    let (from, into) = merge_fields(&form.fields);
    merge_page(state, form.operator, from, into, Step::Confirm).await
}

fn merge_fields(f: &Fields) -> (String, String) {
    (
        f.get("from").trim().to_string(),
        f.get("into").trim().to_string(),
    )
}

async fn merge_page(
    state: web::Data<AppState>,
    op: Operator,
    from: String,
    into: String,
    step: Step,
) -> Result<HttpResponse, OperatorError> {
    let st = state.clone();
    let (from, into, schools, outcome) = web::block(move || {
        let outcome = match step {
            Step::Form => None,
            _ if from.is_empty() || into.is_empty() => Some(Err(AdminError::Invalid(
                "choose the school that merges and the school it merges into".into(),
            ))),
            _ => Some(
                admin::parse_school_ref(&from)
                    .and_then(|f| Ok((f, admin::parse_school_ref(&into)?)))
                    .and_then(|(f, i)| match step {
                        Step::Confirm => admin::merge(ctx(&st), &f, &i),
                        _ => admin::preview_merge(ctx(&st), &f, &i),
                    }),
            ),
        };
        // Read after a merger: the lists show the schools as they are now.
        let schools = st.dir.schools().map(sorted);
        (from, into, schools, outcome)
    })
    .await?;
    let schools = schools?;
    let mut page = MergePage {
        csrf_token: op.csrf,
        from: choices(&schools, &from),
        into: choices(&schools, &into),
        refused: None,
        preview: None,
        done: None,
    };
    let status = match outcome {
        None => StatusCode::OK,
        Some(Ok(report)) => {
            let view = MergeView::of(&report, &schools);
            if step == Step::Confirm {
                tracing::info!(from = %report.from, into = %report.into, "operator console: schools merged");
                page.done = Some(view);
            } else {
                page.preview = Some(view);
            }
            StatusCode::OK
        }
        Some(Err(e)) => {
            page.refused = Some(refusal(e)?);
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    Ok(pages::html(status, page.render()))
}

/// A group of the school that splits, as a checkbox.
struct GroupBox {
    key: String,
    name: String,
    people: usize,
    checked: bool,
}

/// The split form of one school, as the operator filled it in.
struct SplitForm {
    school: String,
    school_label: String,
    groups: Vec<GroupBox>,
    brin: String,
    vestiging: String,
    name: String,
    networks: Vec<String>,
}

/// A split report as the page shows it (a preview or what was done).
struct SplitView {
    from_label: String,
    instelling_ref: String,
    brin6: String,
    name: String,
    moved: Moved,
    stayed: usize,
    consents_copied: usize,
    networks_copied: usize,
    warnings: Vec<String>,
}

impl SplitView {
    fn of(r: &SplitReport, schools: &[School]) -> Self {
        SplitView {
            from_label: name_of(schools, &r.from.to_string()),
            instelling_ref: r.instelling_ref.to_string(),
            brin6: r.brin6.clone(),
            name: r.name.clone(),
            moved: r.moved,
            stayed: r.stayed,
            consents_copied: r.consents_copied,
            networks_copied: r.networks_copied,
            warnings: r.warnings.iter().map(ToString::to_string).collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "operator_split.html")]
struct SplitPage {
    csrf_token: String,
    /// The active schools, to choose the one that splits.
    schools: Vec<Choice>,
    form: Option<SplitForm>,
    refused: Option<String>,
    preview: Option<SplitView>,
    done: Option<SplitView>,
}

/// The query of the split page (`?school=`: the school that splits).
#[derive(Debug, Default, Deserialize)]
pub(super) struct SplitQuery {
    #[serde(default)]
    school: String,
}

/// GET `/operator/splitsen`: choose the school; with `?school=`, its split form.
pub(super) async fn split_form(
    state: web::Data<AppState>,
    op: Operator,
    query: web::Query<SplitQuery>,
) -> Result<HttpResponse, OperatorError> {
    let input = SplitInput {
        from: query.into_inner().school.trim().to_string(),
        ..SplitInput::default()
    };
    split_page(state, op, input, Step::Form).await
}

/// POST `/operator/splitsen/voorbeeld`: what the split would do; nothing is written.
pub(super) async fn split_preview(
    state: web::Data<AppState>,
    form: Checked,
) -> Result<HttpResponse, OperatorError> {
    let input = split_fields(&form.fields);
    split_page(state, form.operator, input, Step::Preview).await
}

/// POST `/operator/splitsen`: the split, confirmed.
pub(super) async fn split_confirm(
    state: web::Data<AppState>,
    form: Checked,
) -> Result<HttpResponse, OperatorError> {
    let input = split_fields(&form.fields);
    split_page(state, form.operator, input, Step::Confirm).await
}

/// The split form's fields: `school`, `group` (each checked group), `brin`, `vestiging`,
/// `name` (empty: none), `networks` (one per line; commas and spaces separate too).
fn split_fields(f: &Fields) -> SplitInput {
    let name = f.get("name").trim();
    SplitInput {
        from: f.get("school").trim().to_string(),
        brin: f.get("brin").trim().to_string(),
        vestiging: f.get("vestiging").trim().to_string(),
        name: (!name.is_empty()).then(|| name.to_string()),
        networks: f
            .all("networks")
            .iter()
            .flat_map(|n| {
                n.split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect(),
        groups: f
            .all("group")
            .into_iter()
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .collect(),
    }
}

async fn split_page(
    state: web::Data<AppState>,
    op: Operator,
    input: SplitInput,
    step: Step,
) -> Result<HttpResponse, OperatorError> {
    let st = state.clone();
    let (input, read, outcome) = web::block(move || {
        let outcome = match step {
            Step::Form => None,
            _ if input.groups.is_empty() => Some(Err(AdminError::Invalid(
                "choose the groups that move".into(),
            ))),
            Step::Confirm => Some(admin::split(ctx(&st), input.clone())),
            Step::Preview => Some(admin::preview_split(ctx(&st), &input)),
        };
        let read = read_school(&st, &input.from);
        (input, read, outcome)
    })
    .await?;
    let (schools, school) = read?;
    let mut page = SplitPage {
        csrf_token: op.csrf,
        schools: choices(&schools, &input.from),
        form: None,
        refused: None,
        preview: None,
        done: None,
    };
    let mut status = StatusCode::OK;
    match outcome {
        None => {}
        Some(Ok(report)) => {
            let view = SplitView::of(&report, &schools);
            if step == Step::Confirm {
                tracing::info!(from = %report.from, new = %report.instelling_ref, "operator console: school split");
                page.done = Some(view);
            } else {
                page.preview = Some(view);
            }
        }
        Some(Err(e)) => {
            page.refused = Some(refusal(e)?);
            status = StatusCode::UNPROCESSABLE_ENTITY;
        }
    }
    if page.done.is_none() {
        page.form = school.map(|(s, groups)| SplitForm {
            school: s.instelling_ref.to_string(),
            school_label: label(&s),
            groups: groups
                .into_iter()
                .map(|(key, name, people)| GroupBox {
                    checked: input.groups.contains(&key),
                    key,
                    name,
                    people,
                })
                .collect(),
            brin: input.brin.clone(),
            vestiging: input.vestiging.clone(),
            name: input.name.clone().unwrap_or_default(),
            networks: input.networks.clone(),
        });
        if page.form.is_none() && !input.from.is_empty() && page.refused.is_none() {
            page.refused = Some("choose an active school".into());
            status = StatusCode::UNPROCESSABLE_ENTITY;
        }
    }
    Ok(pages::html(status, page.render()))
}

/// A group's key, name, and how many people are in it.
type GroupLine = (String, String, usize);

/// Every school, and the school `r` when it is an active one, with its groups.
#[allow(clippy::type_complexity)]
fn read_school(
    state: &AppState,
    r: &str,
) -> Result<(Vec<School>, Option<(School, Vec<GroupLine>)>), OperatorError> {
    let schools = sorted(state.dir.schools()?);
    let Some(school) = schools
        .iter()
        .find(|s| s.status == SchoolStatus::Active && s.instelling_ref.to_string() == r)
        .cloned()
    else {
        return Ok((schools, None));
    };
    let mut groups = state.dir.groups_of_school(&school.instelling_ref)?;
    groups.sort_by(|a, b| a.key.cmp(&b.key));
    let mut people: HashMap<uuid::Uuid, usize> = HashMap::new();
    for u in state.dir.users_of_school(&school.instelling_ref)? {
        if u.status == broker::model::UserStatus::Removed {
            continue;
        }
        for g in &u.group_ids {
            *people.entry(*g).or_default() += 1;
        }
    }
    let lines = groups
        .into_iter()
        .map(|g| {
            let n = people.get(&g.id).copied().unwrap_or_default();
            (g.key, g.name, n)
        })
        .collect();
    Ok((schools, Some((school, lines))))
}
