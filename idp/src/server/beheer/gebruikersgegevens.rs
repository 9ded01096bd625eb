//! Beheer: Gebruikersgegevens invoeren — the import method, and a manual import of an EDEXML
//! file or a spreadsheet (CSV or XLSX, told by the content; the template is `sjabloon.rs`) in two
//! steps: the file is checked (a dry run: what it would add, change and remove), then
//! "Importeren" carries out exactly that file. Between the steps the file waits in the
//! ephemeral store for 30 minutes, under a random token and the coordinator's own school, and
//! is taken (once) by the second step.

use std::time::Duration;

use actix_multipart::Multipart;
use broker::import::las::KeyRefusal;
use broker::import::{Door, ImportError, ImportReport, Warning};
use broker::keyspace::Key;
use broker::repo::StagedImport;
use futures_util::StreamExt;

#[allow(clippy::wildcard_imports)]
use super::*;

/// The largest file a coordinator uploads (a school of 1,500 pupils is about 1 MB).
pub const IMPORT_UPLOAD_LIMIT: usize = 10 * 1024 * 1024;
/// How long a checked file waits for "Importeren".
const PENDING: Duration = Duration::from_secs(30 * 60);

/// The report as the page shows it.
struct ReportView {
    /// (kind, [added, changed, removed]).
    rows: Vec<(&'static str, [usize; 3])>,
    school_year: String,
    version: String,
    warnings: Vec<String>,
    /// For a file of a later school year: that it waits, and until when.
    staged: Option<String>,
}

/// The file that waits for its school year, as the page shows it.
struct WaitingView {
    text: String,
    rows: Vec<(&'static str, [u64; 3])>,
}

impl WaitingView {
    fn of(b: &BeheerTexts, s: &StagedImport) -> Self {
        let date = catalogue::local_time(s.takes_effect, "%-d-%-m-%Y");
        let staged = catalogue::local_time(s.staged_at, "%-d-%-m-%Y %H:%M");
        let n = |col: &str, kind: &str| s.report[col][kind].as_u64().unwrap_or(0);
        let row = |kind| [n("added", kind), n("changed", kind), n("removed", kind)];
        Self {
            text: b.import_staged(b.import_waiting, &s.school_year, &date, &staged),
            rows: vec![
                (b.import_rows[0], row("groups")),
                (b.import_rows[1], row("pupils")),
                (b.import_rows[2], row("teachers")),
            ],
        }
    }
}

/// The date a staged year takes effect, as the page writes it (`2027-08-01` → `1-8-2027`).
fn day(iso: &str) -> String {
    let mut parts = iso.splitn(3, '-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d)) => format!(
            "{}-{}-{y}",
            d.trim_start_matches('0'),
            m.trim_start_matches('0')
        ),
        _ => iso.to_string(),
    }
}

impl ReportView {
    fn of(b: &BeheerTexts, r: &ImportReport) -> Self {
        let (a, c, d) = (r.added, r.changed, r.removed);
        Self {
            rows: vec![
                (b.import_rows[0], [a.groups, c.groups, d.groups]),
                (b.import_rows[1], [a.pupils, c.pupils, d.pupils]),
                (b.import_rows[2], [a.teachers, c.teachers, d.teachers]),
            ],
            school_year: r.school_year.clone(),
            version: match r.edexml_version {
                Some(v) => format!("EDEXML {v}"),
                None => b.import_kind_spreadsheet.to_string(),
            },
            warnings: r.warnings.iter().map(|w| note(b, w)).collect(),
            staged: r.staged.as_ref().map(|s| {
                let date = day(&s.takes_effect);
                b.import_staged(b.import_staged_note, &s.school_year, &date, "")
            }),
        }
    }

    fn changes_nothing(&self) -> bool {
        self.rows.iter().all(|(_, n)| n.iter().all(|n| *n == 0))
    }

    /// Nothing to import: the file is not kept for "Importeren".
    fn counts_nothing(r: &ImportReport) -> bool {
        [r.added, r.changed, r.removed] == [broker::import::Counts::default(); 3]
    }
}

/// An import's note in the visitor's words.
fn note(b: &BeheerTexts, w: &Warning) -> String {
    let (text, value) = match w {
        Warning::PupilsLeftSchool { count } => (b.warn_pupils_left, count.to_string()),
        Warning::IctRoleNotGiven => (b.warn_ict, String::new()),
        Warning::EckIdInvalid { line } => (b.warn_eckid_invalid, line.to_string()),
        Warning::EckIdElsewhere { line } => (b.warn_eckid_elsewhere, line.to_string()),
        Warning::EmailInvalid { line } => (b.warn_email_invalid, line.to_string()),
        Warning::EmailTaken { line } => (b.warn_email_taken, line.to_string()),
        Warning::OtherKind { line } => (b.warn_other_kind, line.to_string()),
        Warning::SamePerson { line } => (b.warn_same_person, line.to_string()),
        Warning::GroupKept { key } => (b.warn_group_kept, key.clone()),
    };
    b.import_note(text, &value)
}

/// One choice of import method on the page.
struct MethodOption {
    /// `handmatig`, or the LAS's id.
    value: String,
    label: String,
    /// What kind of coupling it is (fetched nightly, or sent by the LAS).
    hint: String,
    checked: bool,
    /// An LAS Leerpoort fetches from: the page asks for its autorisatiesleutel.
    wants_key: bool,
}

/// The coupling as the page shows it: the options, and what holds or is missing.
struct CouplingView {
    options: Vec<MethodOption>,
    /// The chosen coupling's state (active, or which side is missing).
    state: Option<String>,
    /// Is it active?
    active: bool,
    /// LASes that switched Leerpoort on, which the school has not chosen.
    waiting: Vec<String>,
    /// The last run of the chosen coupling.
    last: Option<String>,
}

impl CouplingView {
    fn of(b: &BeheerTexts, st: &broker::import::las::Status) -> Self {
        use broker::import::las::Missing;
        let chosen = st.chosen();
        let mut options = vec![MethodOption {
            value: "handmatig".into(),
            label: b.las_manual.into(),
            hint: String::new(),
            checked: chosen.is_none(),
            wants_key: false,
        }];
        for o in &st.offers {
            let name = o.las.name();
            options.push(MethodOption {
                value: o.las.id().to_string(),
                label: b.las_text(b.las_automatic, name, "", ""),
                hint: b.las_text(
                    if o.is_pull() { b.las_pull } else { b.las_push },
                    name,
                    "",
                    "",
                ),
                checked: o.chosen,
                wants_key: o.is_pull(),
            });
        }
        let state = chosen.map(|o| {
            let text = match o.missing() {
                None if o.is_pull() => b.las_active_pull,
                None => b.las_active_push,
                Some(_) if o.is_pull() => b.las_missing_key,
                Some(Missing::Las | Missing::Both | Missing::School) => b.las_missing_las,
            };
            b.las_text(text, o.las.name(), "", "")
        });
        let last = chosen.and_then(|o| {
            let when = catalogue::local_time(o.last_run_at?, "%-d-%-m-%Y %H:%M");
            let outcome = o.last_outcome.as_ref()?;
            Some(if outcome["ok"].as_bool() == Some(true) {
                b.las_text(b.las_last_ok, o.las.name(), &when, "")
            } else {
                let error = outcome["error"].as_str().unwrap_or_default();
                b.las_text(b.las_last_failed, o.las.name(), &when, error)
            })
        });
        Self {
            options,
            active: chosen.is_some_and(broker::import::las::Offer::active),
            state,
            waiting: st
                .waiting_for_school()
                .map(|o| b.las_text(b.las_waiting_school, o.las.name(), "", ""))
                .collect(),
            last,
        }
    }

    /// An LAS Leerpoort fetches from is offered: the page asks for the key.
    fn wants_key(&self) -> bool {
        self.options.iter().any(|o| o.wants_key)
    }

    /// Only "Handmatig importeren": no LAS is connected.
    fn no_las(&self) -> bool {
        self.options.len() == 1
    }
}

beheer_template!(ImportPage, "beheer_gebruikersgegevens.html", {
    coupling: CouplingView,
    report: Option<ReportView>,
    /// The token of a checked file, for "Importeren".
    pending: Option<String>,
    /// A file waiting for its school year.
    waiting: Option<WaitingView>,
});

async fn import_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    c: &Chrome,
    b: &Beheerder,
    (report, pending): (Option<ReportView>, Option<String>),
    message: Option<Message>,
) -> Result<HttpResponse, PageError> {
    let (staged, coupling) = b
        .blocking(state, |st, coordinator| {
            let school = coordinator.school();
            let coupling = broker::import::las::status(st.dir.as_ref(), school)?;
            Ok((st.dir.staged_import(school)?, coupling))
        })
        .await?;
    let waiting = staged.map(|s| WaitingView::of(c.t.beheer, &s));
    let coupling = CouplingView::of(c.t.beheer, &coupling);
    let (outcome, cookie) = Outcome::issue(req, state, message);
    let page = beheer_page!(ImportPage, c, &b.school, "gebruikersgegevens", outcome, {
        coupling,
        report,
        pending,
        waiting,
    });
    Ok(respond(&page, cookie))
}

/// GET `/beheer/gebruikersgegevens`: the import method and the upload form.
pub async fn import_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
) -> Result<HttpResponse, PageError> {
    let c = Chrome::of(&req, &state, None).await;
    import_page(&req, &state, &c, &b, (None, None), None).await
}

/// `bytes` into the coordinator's school through the door they fit, as the coordinator: the
/// check (`dry_run`) or the import.
fn import(
    st: &AppState,
    coordinator: &Coordinator,
    bytes: &[u8],
    dry_run: bool,
) -> Result<ImportReport, ImportError> {
    let ctx = coordinator.ctx(st.dir.as_ref(), st.clock.as_ref());
    let today = catalogue::local_time(st.clock.now_secs(), "%Y-%m-%d");
    let secrets = st.credentials();
    let (door, school) = (Door::of(bytes), coordinator.school());
    broker::import::import(door, ctx, &secrets, school, bytes, &today, dry_run)
}

/// What the upload form sent.
enum Upload {
    File { csrf: String, bytes: Vec<u8> },
    NoFile { csrf: String },
    TooLarge,
}

/// Read the multipart form: `csrf_token` and `bestand`, each at most once; the file no larger
/// than [`IMPORT_UPLOAD_LIMIT`]. A malformed form, another field, or a field twice is answered
/// as an expired form (400: "pagina verlopen"), and nothing is read further.
async fn read_upload(mut form: Multipart) -> Result<Upload, PageError> {
    let (mut csrf, mut file): (Option<String>, Option<Vec<u8>>) = (None, None);
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|_| PageError::Expired)?;
        let name = field
            .content_disposition()
            .and_then(|d| d.get_name())
            .unwrap_or_default()
            .to_string();
        let cap = if name == "bestand" {
            IMPORT_UPLOAD_LIMIT
        } else {
            4096
        };
        let mut buf = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| PageError::Expired)?;
            if buf.len() + chunk.len() > cap {
                return Ok(Upload::TooLarge);
            }
            buf.extend_from_slice(&chunk);
        }
        let twice = match name.as_str() {
            "csrf_token" => csrf
                .replace(String::from_utf8(buf).map_err(|_| PageError::Expired)?)
                .is_some(),
            "bestand" => file.replace(buf).is_some(),
            _ => return Err(PageError::Expired),
        };
        if twice {
            return Err(PageError::Expired);
        }
    }
    let csrf = csrf.ok_or(PageError::Expired)?;
    Ok(match file.filter(|f| !f.is_empty()) {
        Some(bytes) => Upload::File { csrf, bytes },
        None => Upload::NoFile { csrf },
    })
}

/// An import's refusal in the visitor's words, or a page error.
fn refused(b: &BeheerTexts, e: ImportError) -> Result<Message, PageError> {
    match e {
        ImportError::Invalid { line, message } => {
            Ok(Message::Refused(b.import_refused(line, &message)))
        }
        ImportError::OtherSchool(m) => Ok(Message::Refused(b.import_other_school(&m))),
        other => Err(PageError::Unavailable(other.to_string())),
    }
}

/// POST `/beheer/gebruikersgegevens` (multipart): check the file — what it would change — and
/// keep it for "Importeren".
pub async fn import_check(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    form: Multipart,
) -> Result<HttpResponse, PageError> {
    let upload = read_upload(form).await?;
    let c = Chrome::of(&req, &state, None).await;
    let bt = c.t.beheer;
    let refused_with = match upload {
        Upload::TooLarge => Some(bt.import_too_large),
        Upload::NoFile { ref csrf } | Upload::File { ref csrf, .. }
            if !state.csrf.verify(&req, state.config.is_https(), csrf) =>
        {
            return Err(PageError::Expired)
        }
        Upload::NoFile { .. } => Some(bt.import_no_file),
        Upload::File { .. } => None,
    };
    if let Some(m) = refused_with {
        let m = Some(Message::Refused(m.to_string()));
        return import_page(&req, &state, &c, &b, (None, None), m).await;
    }
    let (csrf, bytes) = match upload {
        Upload::File { csrf, bytes } => (csrf, bytes),
        Upload::TooLarge | Upload::NoFile { .. } => return Err(PageError::Expired),
    };
    drop(csrf);
    let checked = b
        .blocking(&state, move |st, coordinator| {
            let school = coordinator.school();
            let report = import(st, coordinator, &bytes, true);
            let Ok(report) = report else {
                return Ok(report.map(|r| (r, None)));
            };
            if ReportView::counts_nothing(&report) {
                return Ok(Ok((report, None)));
            }
            let token = broker::secrets::random_token()
                .map_err(|e| PageError::Unavailable(e.to_string()))?;
            let key = Key::PendingImport {
                school: &school.to_string(),
                token: &token,
            };
            st.store
                .put(&key, &bytes, PENDING)
                .map_err(|e| PageError::Unavailable(e.to_string()))?;
            Ok(Ok((report, Some(token))))
        })
        .await?;
    let (view, message) = match checked {
        Ok((report, token)) => {
            let text = if token.is_some() {
                bt.import_checked
            } else {
                bt.import_nothing
            };
            (
                (Some(ReportView::of(bt, &report)), token),
                Message::Done(text.to_string()),
            )
        }
        Err(e) => ((None, None), refused(bt, e)?),
    };
    import_page(&req, &state, &c, &b, view, Some(message)).await
}

/// The second step: the CSRF token and the checked file's token.
#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    csrf_token: String,
    controle: String,
}

csrf_protected!(ConfirmForm);

/// POST `/beheer/gebruikersgegevens/importeren`: import the file checked before, once.
pub async fn import_confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    CsrfChecked(form): CsrfChecked<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let done = b
        .blocking(&state, move |st, coordinator| {
            let school = coordinator.school();
            let key = Key::PendingImport {
                school: &school.to_string(),
                token: &form.controle,
            };
            let Some(bytes) = st
                .store
                .take(&key)
                .map_err(|e| PageError::Unavailable(e.to_string()))?
            else {
                return Ok(None);
            };
            let done = import(st, coordinator, &bytes, false);
            let welcomed = match &done {
                Ok(r) => broker::import::welcome(&st.world(), coordinator.actor(), r),
                Err(_) => 0,
            };
            Ok(Some(done.map(|r| (r, welcomed))))
        })
        .await?;
    let c = Chrome::of(&req, &state, None).await;
    let bt = c.t.beheer;
    let (view, message) = match done {
        None => (None, Message::Refused(bt.import_expired.to_string())),
        Some(Ok((report, _))) if report.staged.is_some() => {
            let view = ReportView::of(bt, &report);
            let s = report
                .staged
                .as_ref()
                .map(|s| (s.school_year.as_str(), day(&s.takes_effect)));
            let (year, date) = s.unwrap_or_default();
            let text = bt.import_staged(bt.import_staged_done, year, &date, "");
            (Some(view), Message::Done(text))
        }
        Some(Ok((report, welcomed))) => {
            let view = ReportView::of(bt, &report);
            let mut text = if view.changes_nothing() {
                bt.import_nothing
            } else {
                bt.import_done
            }
            .to_string();
            if welcomed > 0 {
                text = format!("{text} {}", bt.import_welcomed(welcomed));
            }
            (Some(view), Message::Done(text))
        }
        Some(Err(e)) => (None, refused(bt, e)?),
    };
    let shown = (view, None);
    import_page(&req, &state, &c, &b, shown, Some(message)).await
}

/// The import method form: `methode` (`handmatig` or an LAS's id) and, for an LAS Leerpoort
/// fetches from, its `autorisatiesleutel`.
#[derive(Deserialize)]
pub struct MethodForm {
    csrf_token: String,
    methode: String,
    #[serde(default)]
    autorisatiesleutel: String,
}

impl std::fmt::Debug for MethodForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MethodForm")
            .field("methode", &self.methode)
            .finish_non_exhaustive()
    }
}

csrf_protected!(MethodForm);

/// POST `/beheer/gebruikersgegevens/methode`: the school's side of the coupling — automatic
/// with an LAS (with its autorisatiesleutel when Leerpoort fetches from it), or "Handmatig
/// importeren". An LAS id that is not offered is 404, and nothing changes.
pub async fn method_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    CsrfChecked(form): CsrfChecked<MethodForm>,
) -> Result<HttpResponse, PageError> {
    let manual = form.methode == "handmatig";
    let chosen = if manual {
        None
    } else {
        Some(
            form.methode
                .parse::<uuid::Uuid>()
                .map_err(|_| PageError::NotFound)?,
        )
    };
    let key = form.autorisatiesleutel;
    let saved = b
        .blocking(&state, move |st, coordinator| {
            let las = match chosen {
                None => None,
                Some(id) => Some(
                    st.dir
                        .las_suppliers()?
                        .into_iter()
                        .find(|l| l.id() == id && l.rp.enabled)
                        .ok_or(PageError::NotFound)?,
                ),
            };
            // The broker's own rule, told here in the coordinator's words. With "Handmatig
            // importeren" the key field is not read.
            let given = las.as_ref().map(|_| key.as_str());
            let key = match broker::import::las::check_key(las.as_ref(), given) {
                Ok(k) => k,
                Err(refusal) => return Ok(Err((refusal, las.map(|l| l.name().to_string())))),
            };
            let ctx = coordinator.ctx(st.dir.as_ref(), st.clock.as_ref());
            let secrets = st.credentials();
            broker::import::las::choose(ctx, &secrets, coordinator.school(), las.as_ref(), key)
                .map_err(|e| PageError::Unavailable(e.to_string()))?;
            Ok(Ok(()))
        })
        .await?;
    let c = Chrome::of(&req, &state, None).await;
    let bt = c.t.beheer;
    let message = match saved {
        Ok(()) if manual => Message::Done(bt.las_saved_manual.into()),
        Ok(()) => Message::Done(bt.las_saved.into()),
        Err((KeyRefusal::Malformed, _)) => Message::Refused(bt.las_key_invalid.into()),
        Err((KeyRefusal::NotFetched, las)) => Message::Refused(bt.las_text(
            bt.las_key_not_needed,
            las.as_deref().unwrap_or_default(),
            "",
            "",
        )),
    };
    import_page(&req, &state, &c, &b, (None, None), Some(message)).await
}
