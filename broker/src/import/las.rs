//! The automatic coupling with a school's pupil administration (LAS): the door the seed
//! strongly recommends ("altijd gebruik te maken van de optie 'automatische koppeling'").
//!
//! - **The LAS** is registered by the operator ([`add_las`]): a relying party of kind `las`,
//!   with its own client at `/oidc/token` for the **push** API (`POST
//!   /api/las/v1/scholen/{INSTELLING_REF}/edexml`), and, for **pull**, its UWLR 2.3 endpoint:
//!   Leerpoort then fetches the school's data itself (`HaalLeerlinggegevens`, with the
//!   school's `autorisatiesleutel` in the SOAP header and Leerpoort's client certificate),
//!   nightly and on demand.
//! - **Consent on both sides** (seed 003: "Alleen als u in beide systemen toestemming geeft
//!   voor een koppeling, wordt deze ook daadwerkelijk geactiveerd"). The school's side: its
//!   coordinator chooses the LAS on "Gebruikersgegevens invoeren" ([`choose`]; choosing
//!   "Handmatig importeren" takes it back). The LAS's side: a push LAS turns Leerpoort on as
//!   koppelpartner for the school through the API ([`las_side`]); for a pull LAS it is the
//!   autorisatiesleutel the LAS issued for the school when it was switched on there, which
//!   the coordinator enters with the choice. The coupling is active only when both hold;
//!   [`Status`] says which side is missing.
//! - **What comes in** goes through the one pipeline ([`super::import`]): the same report,
//!   the same identity rules, the same school-year staging, one transaction. Each run is noted
//!   on the coupling (when, and the report or why it failed), and a failed pull writes a line
//!   to the school's trail (never the key).

use claims::InstellingRef;
use serde::Serialize;
use uuid::Uuid;

use super::{import, welcome, Door, ImportError, ImportReport};
use crate::admin::{AdminError, Credentials, Ctx};
use crate::audit::AuditAction;
use crate::model::{JwsAlg, OidcClient, RelyingParty, RpKind, RpProtocol};
use crate::ports::World;
use crate::repo::{CouplingChange, Directory, LasCoupling, LasSupplier, RepoError};

/// The longest autorisatiesleutel accepted (UWLR leaves it open; real keys are tens of
/// characters).
pub const MAX_KEY_LEN: usize = 512;

/// How Leerpoort reaches an LAS's UWLR endpoint: `idp` sends the SOAP envelope over HTTPS
/// with its client certificate and returns the answer's body (also for a SOAP fault), or why
/// there is none.
pub trait UwlrTransport: Send + Sync {
    fn post(&self, url: &str, envelope: &str) -> Result<Vec<u8>, String>;
}

/// Leerpoort as the UWLR consumer (afnemer): the `klantcode` and `klantnaam` of the
/// autorisatie header, from the configuration.
#[derive(Debug, Clone)]
pub struct Afnemer {
    pub klantcode: String,
    pub klantnaam: String,
}

/// Why a coupling could not run.
#[derive(Debug, thiserror::Error)]
pub enum LasError {
    /// The coupling is not active: the side(s) missing.
    #[error("the coupling is not active: {0}")]
    NotActive(Missing),
    /// The LAS could not be reached, or answered with a SOAP fault or something else than
    /// the answer (the message says which; never the key).
    #[error("the LAS did not deliver: {0}")]
    Fetch(String),
    /// The school's LAS sends its data (push); Leerpoort does not fetch from it.
    #[error("{0} sends its data itself (push); Leerpoort does not fetch from it")]
    Push(String),
    #[error(transparent)]
    Import(#[from] ImportError),
}

impl From<AdminError> for LasError {
    fn from(e: AdminError) -> Self {
        LasError::Import(ImportError::Admin(e))
    }
}

impl From<RepoError> for LasError {
    fn from(e: RepoError) -> Self {
        LasError::Import(ImportError::Repo(e))
    }
}

/// Which side of a coupling is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Missing {
    /// The school has not chosen this LAS (it imports by hand, or chose another).
    School,
    /// The LAS has not turned Leerpoort on for the school (push), or there is no
    /// autorisatiesleutel (pull).
    Las,
    Both,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Missing::School => "the school has not chosen this LAS",
            Missing::Las => "the LAS has not switched Leerpoort on for this school",
            Missing::Both => "neither the school nor the LAS has switched it on",
        })
    }
}

/// One LAS as the school sees it.
#[derive(Debug, Clone)]
pub struct Offer {
    pub las: LasSupplier,
    /// The school chose it.
    pub chosen: bool,
    /// The LAS's side holds.
    pub granted: bool,
    pub last_run_at: Option<i64>,
    pub last_outcome: Option<serde_json::Value>,
}

impl Offer {
    /// It delivers: both sides hold.
    pub fn active(&self) -> bool {
        self.chosen && self.granted
    }

    /// Fetched by Leerpoort (UWLR), not sent by the LAS.
    pub fn is_pull(&self) -> bool {
        self.las.uwlr_url.is_some()
    }

    /// What is missing for it to deliver, if anything.
    pub fn missing(&self) -> Option<Missing> {
        match (self.chosen, self.granted) {
            (true, true) => None,
            (true, false) => Some(Missing::Las),
            (false, true) => Some(Missing::School),
            (false, false) => Some(Missing::Both),
        }
    }
}

/// The school's import method: every registered LAS with both sides, the chosen one (if any)
/// first.
#[derive(Debug, Clone)]
pub struct Status {
    pub offers: Vec<Offer>,
}

impl Status {
    /// The LAS the school chose; `None`: "Handmatig importeren".
    pub fn chosen(&self) -> Option<&Offer> {
        self.offers.iter().find(|o| o.chosen)
    }

    /// LASes that switched Leerpoort on for the school, which it has not chosen.
    pub fn waiting_for_school(&self) -> impl Iterator<Item = &Offer> {
        self.offers.iter().filter(|o| o.granted && !o.chosen)
    }

    pub fn offer(&self, las: Uuid) -> Option<&Offer> {
        self.offers.iter().find(|o| o.las.id() == las)
    }
}

/// The school's import method, both sides of every coupling.
pub fn status(dir: &dyn Directory, school: &InstellingRef) -> Result<Status, RepoError> {
    let couplings = dir.couplings_of(school)?;
    let mut offers: Vec<Offer> = dir
        .las_suppliers()?
        .into_iter()
        .filter(|l| l.rp.enabled)
        .map(|las| {
            let c = couplings.iter().find(|c| c.las == las.id());
            // For an LAS Leerpoort fetches from, its side is the key it issued.
            let granted = c.is_some_and(|c| {
                c.las_granted_at.is_some() && (las.uwlr_url.is_none() || c.sealed_key.is_some())
            });
            Offer {
                chosen: c.is_some_and(|c| c.school_chose_at.is_some()),
                granted,
                last_run_at: c.and_then(|c| c.last_run_at),
                last_outcome: c.and_then(|c| c.last_outcome.clone()),
                las,
            }
        })
        .collect();
    offers.sort_by_key(|o| !o.chosen);
    Ok(Status { offers })
}

/// What [`add_las`] made; the client secret is shown once.
#[derive(Debug)]
pub struct AddedLas {
    pub las: LasSupplier,
    pub client_secret: String,
}

/// Register an LAS: its client (client_credentials only, no redirect URIs, no users) and, for
/// pull, its UWLR endpoint (`https://` only: the client certificate needs TLS).
pub fn add_las(ctx: Ctx<'_>, name: &str, uwlr_url: Option<&str>) -> Result<AddedLas, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AdminError::Invalid(
            "an LAS needs a name of 1 to 100 characters".into(),
        ));
    }
    if ctx.dir.las_suppliers()?.iter().any(|l| l.name() == name) {
        return Err(AdminError::Invalid(format!(
            "an LAS named '{name}' is registered already"
        )));
    }
    let uwlr_url = match uwlr_url {
        None => None,
        Some(u) => {
            let parsed = url::Url::parse(u)
                .map_err(|e| AdminError::Invalid(format!("'{u}' is not a URL: {e}")))?;
            if parsed.scheme() != "https" || parsed.host_str().is_none() {
                return Err(AdminError::Invalid(format!(
                    "'{u}' is not valid: a UWLR endpoint is an https URL"
                )));
            }
            Some(parsed.to_string())
        }
    };
    let secret = crate::random::random_token()?;
    let client_id = Uuid::new_v4().to_string();
    let client = OidcClient {
        client_id: client_id.clone(),
        client_secret_hash: Some(crate::secrets::hash_client_secret(&secret)),
        redirect_uris: Vec::new(),
        post_logout_redirect_uris: Vec::new(),
        initiate_login_uri: None,
        backchannel_logout_uri: None,
        jwks_uri: None,
        jwks: None,
        token_endpoint_auth_method: "client_secret_basic".into(),
        id_token_alg: JwsAlg::ES256,
        access_token_format: Default::default(),
    };
    let rp = RelyingParty {
        id: Uuid::new_v4(),
        name: name.to_string(),
        kind: RpKind::Las,
        protocol: RpProtocol::Oidc(client),
        sector: format!("las:{client_id}"),
        home_allowed: false,
        audience: claims::Audience::Beide,
        enabled: true,
        offline_access: false,
        created_at: ctx.now(),
    };
    let audit = ctx.audit(
        AuditAction::LasAdd,
        None,
        Some(client_id),
        serde_json::json!({"name": name, "uwlr_url": uwlr_url}),
    );
    let las = ctx.dir.insert_las(LasSupplier { rp, uwlr_url }, audit)?;
    Ok(AddedLas {
        las,
        client_secret: secret,
    })
}

/// The LAS named `name` (or with that relying-party id or client id).
pub fn find_las(dir: &dyn Directory, name: &str) -> Result<LasSupplier, AdminError> {
    dir.las_suppliers()?
        .into_iter()
        .find(|l| l.name() == name || l.id().to_string() == name || l.rp.public_id() == name)
        .ok_or_else(|| AdminError::Invalid(format!("no LAS named '{name}'")))
}

/// "Handmatig importeren": the school's side of its coupling is taken back, and the key of an
/// LAS Leerpoort fetched from is forgotten (choosing it again asks for the key again). Nothing
/// changes when the school imports by hand already. Also the first step of closing a school.
pub fn manual(ctx: Ctx<'_>, school: &InstellingRef) -> Result<(), AdminError> {
    let before = status(ctx.dir, school)?;
    let Some(o) = before.chosen() else {
        return Ok(());
    };
    let audit = ctx.audit(
        AuditAction::LasChosen,
        Some(*school),
        None,
        serde_json::json!({"las": null}),
    );
    let change = CouplingChange::SchoolChoice {
        las: None,
        at: ctx.now(),
    };
    ctx.dir.change_coupling(school, change, audit)?;
    if o.is_pull() && o.granted {
        let audit = ctx.audit(
            AuditAction::LasWithdrawn,
            Some(*school),
            Some(o.las.rp.public_id().to_string()),
            serde_json::json!({"las": o.las.name(), "autorisatiesleutel": "forgotten"}),
        );
        let change = CouplingChange::LasSide {
            las: o.las.id(),
            granted: None,
        };
        ctx.dir.change_coupling(school, change, audit)?;
    }
    Ok(())
}

/// Why an autorisatiesleutel is not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyRefusal {
    /// Given with "Handmatig importeren" or for an LAS that sends.
    #[error("an autorisatiesleutel is only for an LAS Leerpoort fetches from (UWLR)")]
    NotFetched,
    #[error("an autorisatiesleutel is 1 to {MAX_KEY_LEN} printable characters")]
    Malformed,
}

/// The key given with a choice of `las`, trimmed (`None` when none was given), or why it is
/// refused.
pub fn check_key<'k>(
    las: Option<&LasSupplier>,
    key: Option<&'k str>,
) -> Result<Option<&'k str>, KeyRefusal> {
    match key.map(str::trim).filter(|k| !k.is_empty()) {
        None => Ok(None),
        Some(_) if las.is_none_or(|l| l.uwlr_url.is_none()) => Err(KeyRefusal::NotFetched),
        Some(k) if k.chars().count() > MAX_KEY_LEN || k.chars().any(char::is_control) => {
            Err(KeyRefusal::Malformed)
        }
        Some(k) => Ok(Some(k)),
    }
}

/// The school's side: its coordinator chooses `las` (or "Handmatig importeren" with `None`).
/// For a pull LAS, `key` is the autorisatiesleutel the LAS issued for the school: given, it
/// puts the LAS's side on file too (sealed); not given, a key on file stays. Choosing another
/// LAS takes the school's side from the one before.
pub fn choose(
    ctx: Ctx<'_>,
    secrets: &Credentials<'_>,
    school: &InstellingRef,
    las: Option<&LasSupplier>,
    key: Option<&str>,
) -> Result<Status, AdminError> {
    ctx.active_school(school)?;
    let key = check_key(las, key).map_err(|r| AdminError::Invalid(r.to_string()))?;
    let Some(las) = las else {
        manual(ctx, school)?;
        return Ok(status(ctx.dir, school)?);
    };
    let before = status(ctx.dir, school)?;
    if before.chosen().map(|o| o.las.id()) != Some(las.id()) {
        let audit = ctx.audit(
            AuditAction::LasChosen,
            Some(*school),
            Some(las.rp.public_id().to_string()),
            serde_json::json!({"las": las.name()}),
        );
        let change = CouplingChange::SchoolChoice {
            las: Some(las.id()),
            at: ctx.now(),
        };
        ctx.dir.change_coupling(school, change, audit)?;
    }
    if let (l, Some(k)) = (las, key) {
        let sealed = secrets.seal(*school.as_uuid(), k)?;
        let audit = ctx.audit(
            AuditAction::LasGranted,
            Some(*school),
            Some(l.rp.public_id().to_string()),
            serde_json::json!({"las": l.name(), "autorisatiesleutel": "on file"}),
        );
        let change = CouplingChange::LasSide {
            las: l.id(),
            granted: Some((ctx.now(), Some(sealed))),
        };
        ctx.dir.change_coupling(school, change, audit)?;
    }
    Ok(status(ctx.dir, school)?)
}

/// The LAS's side for a push LAS (the API): it switched Leerpoort on as koppelpartner for the
/// school (`on`), or off. Idempotent: switching on what is on changes nothing.
pub fn las_side(
    ctx: Ctx<'_>,
    school: &InstellingRef,
    las: &LasSupplier,
    on: bool,
) -> Result<Offer, AdminError> {
    ctx.active_school(school)?;
    let before = status(ctx.dir, school)?;
    let granted = before.offer(las.id()).is_some_and(|o| o.granted);
    if granted != on {
        let (action, granted) = if on {
            (AuditAction::LasGranted, Some((ctx.now(), None)))
        } else {
            (AuditAction::LasWithdrawn, None)
        };
        let audit = ctx.audit(
            action,
            Some(*school),
            Some(las.rp.public_id().to_string()),
            serde_json::json!({"las": las.name()}),
        );
        let change = CouplingChange::LasSide {
            las: las.id(),
            granted,
        };
        ctx.dir.change_coupling(school, change, audit)?;
    }
    status(ctx.dir, school)?
        .offer(las.id())
        .cloned()
        .ok_or_else(|| AdminError::Invalid(format!("the LAS '{}' is switched off", las.name())))
}

/// The outcome noted on a coupling.
fn outcome(result: &Result<ImportReport, LasError>) -> serde_json::Value {
    match result {
        Ok(r) => serde_json::json!({"ok": true, "report": r}),
        Err(e) => serde_json::json!({"ok": false, "error": e.to_string()}),
    }
}

/// Note a run on the coupling; a failure also writes a line to the school's trail.
fn note(
    ctx: Ctx<'_>,
    school: &InstellingRef,
    las: &LasSupplier,
    result: &Result<ImportReport, LasError>,
) {
    let value = outcome(result);
    let audit = result.as_ref().err().map(|e| {
        ctx.audit(
            AuditAction::LasSyncFailed,
            Some(*school),
            Some(las.rp.public_id().to_string()),
            serde_json::json!({"las": las.name(), "error": e.to_string()}),
        )
    });
    if let Err(e) = ctx
        .dir
        .note_las_run(school, las.id(), ctx.now(), &value, audit)
    {
        tracing::warn!(school = %school, error = %e, "the coupling's last run was not noted");
    }
}

/// The active coupling of `school` with `las`, or which side is missing.
fn active(dir: &dyn Directory, school: &InstellingRef, las: &LasSupplier) -> Result<(), LasError> {
    let st = status(dir, school)?;
    match st.offer(las.id()).map(Offer::missing) {
        Some(None) => Ok(()),
        Some(Some(m)) => Err(LasError::NotActive(m)),
        None => Err(LasError::NotActive(Missing::Both)),
    }
}

/// Push: an EDEXML file the LAS sent for `school`, through the pipeline (a dry run with
/// `dry_run`). Refused unless the coupling with this LAS is active. A real run mails new
/// teachers their activation link and is noted on the coupling.
pub fn push(
    w: &World,
    secrets: &Credentials<'_>,
    las: &LasSupplier,
    school: &InstellingRef,
    bytes: &[u8],
    dry_run: bool,
) -> Result<(ImportReport, usize), LasError> {
    let actor = format!("las:{}", las.rp.public_id());
    let ctx = Ctx {
        dir: w.dir,
        clock: w.clock,
        actor: &actor,
    };
    active(w.dir, school, las)?;
    let today = catalogue::local_time(w.now(), "%Y-%m-%d");
    let result =
        import(Door::Edexml, ctx, secrets, school, bytes, &today, dry_run).map_err(LasError::from);
    finish(w, ctx, school, las, result, dry_run)
}

/// After a run: mail new teachers and note it on the coupling (not for a dry run). The report
/// and how many activation mails went out.
fn finish(
    w: &World,
    ctx: Ctx<'_>,
    school: &InstellingRef,
    las: &LasSupplier,
    result: Result<ImportReport, LasError>,
    dry_run: bool,
) -> Result<(ImportReport, usize), LasError> {
    if dry_run || matches!(result, Err(LasError::NotActive(_) | LasError::Push(_))) {
        return result.map(|r| (r, 0));
    }
    note(ctx, school, las, &result);
    result.map(|r| {
        let welcomed = welcome(w, ctx.actor, &r);
        (r, welcomed)
    })
}

/// Pull: fetch `school`'s data from the LAS it chose (UWLR `HaalLeerlinggegevens` for the
/// school year in force) and run it through the pipeline. Refused unless the coupling is
/// active and the LAS is fetched from. Each run is noted on the coupling.
pub fn pull(
    w: &World,
    secrets: &Credentials<'_>,
    transport: &dyn UwlrTransport,
    afnemer: &Afnemer,
    school: &InstellingRef,
    dry_run: bool,
) -> Result<(ImportReport, usize), LasError> {
    let st = status(w.dir, school)?;
    let offer = st.chosen().ok_or(LasError::NotActive(Missing::School))?;
    if offer.las.uwlr_url.is_none() {
        return Err(LasError::Push(offer.las.name().to_string()));
    }
    let las = offer.las.clone();
    let actor = format!("las:{}", las.rp.public_id());
    let ctx = Ctx {
        dir: w.dir,
        clock: w.clock,
        actor: &actor,
    };
    let result = fetch_and_import(ctx, secrets, transport, afnemer, school, offer, dry_run);
    finish(w, ctx, school, &las, result, dry_run)
}

fn fetch_and_import(
    ctx: Ctx<'_>,
    secrets: &Credentials<'_>,
    transport: &dyn UwlrTransport,
    afnemer: &Afnemer,
    school: &InstellingRef,
    offer: &Offer,
    dry_run: bool,
) -> Result<ImportReport, LasError> {
    let Some(url) = offer.las.uwlr_url.as_deref() else {
        return Err(LasError::Push(offer.las.name().to_string()));
    };
    if let Some(m) = offer.missing() {
        return Err(LasError::NotActive(m));
    }
    let s = ctx.active_school(school)?;
    let coupling = ctx
        .dir
        .couplings_of(school)?
        .into_iter()
        .find(|c: &LasCoupling| c.las == offer.las.id());
    let sealed = coupling
        .and_then(|c| c.sealed_key)
        .ok_or(LasError::NotActive(Missing::Las))?;
    let key = secrets
        .secrets
        .sealer
        .open(*school.as_uuid(), &sealed)
        .ok_or_else(|| {
            LasError::Fetch(
                "the autorisatiesleutel on file cannot be opened (was the sealing key replaced?): enter it again"
                    .into(),
            )
        })?;
    let now = ctx.now();
    let verzoek = protocol::uwlr::Verzoek {
        schooljaar: super::staging::current_school_year(now),
        school: protocol::uwlr::SchoolRef::Brin {
            brin4: s.brin6.brin4().to_string(),
            dependance: Some(s.brin6.vestiging().to_string()),
        },
        laatst_ontvangen: None,
    };
    let autorisatie = protocol::uwlr::Autorisatie {
        autorisatiesleutel: key,
        klantcode: afnemer.klantcode.clone(),
        klantnaam: afnemer.klantnaam.clone(),
    };
    let envelope = protocol::uwlr::haal_leerlinggegevens(&autorisatie, &verzoek);
    // What the LAS says back is noted and shown: never with the key in it, should it repeat it.
    let key = autorisatie.autorisatiesleutel;
    let redact = |m: String| m.replace(key.as_str(), "…");
    let answer = transport
        .post(url, &envelope)
        .map_err(|m| LasError::Fetch(redact(m)))?;
    let today = catalogue::local_time(now, "%Y-%m-%d");
    import(Door::Uwlr, ctx, secrets, school, &answer, &today, dry_run).map_err(|e| match e {
        // The LAS refused (a SOAP fault): there was no answer to import.
        ImportError::Fault(m) => LasError::Fetch(redact(m)),
        ImportError::Invalid { line, message } => LasError::Import(ImportError::Invalid {
            line,
            message: redact(message),
        }),
        other => LasError::Import(other),
    })
}

/// How long after a failed pull the nightly round tries that school again.
pub const RETRY_AFTER_FAILURE_SECS: i64 = 60 * 60;

/// One round of the nightly pull: every active pull coupling not fetched since `since` (the
/// night's start) — or whose fetch since then failed more than
/// [`RETRY_AFTER_FAILURE_SECS`] ago — one school at a time, for as long as `still_mine` says the round may go
/// on (the scheduler renews its lease there). Returns (school, result) per school.
#[allow(clippy::type_complexity)]
pub fn pull_due(
    w: &World,
    secrets: &Credentials<'_>,
    transport: &dyn UwlrTransport,
    afnemer: &Afnemer,
    since: i64,
    still_mine: &dyn Fn() -> bool,
) -> Result<Vec<(InstellingRef, Result<(ImportReport, usize), LasError>)>, RepoError> {
    let mut done = Vec::new();
    for c in w.dir.active_pulls()? {
        // Fetched tonight already: done when it went well, else again an hour after it failed.
        let ok = c.last_outcome.as_ref().is_some_and(|o| o["ok"] == true);
        let now = w.now();
        if c.last_run_at
            .is_some_and(|t| t >= since && (ok || t > now - RETRY_AFTER_FAILURE_SECS))
        {
            continue;
        }
        if !still_mine() {
            break;
        }
        let result = pull(w, secrets, transport, afnemer, &c.school, false);
        if let Err(e) = &result {
            tracing::warn!(school = %c.school, error = %e, "nightly LAS pull failed");
        }
        done.push((c.school, result));
    }
    Ok(done)
}
