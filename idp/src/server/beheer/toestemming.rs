//! Beheer: Toestemming uitwisseling schooldata — consent per publisher and network
//! environment.

#[allow(clippy::wildcard_imports)]
use super::*;

/// One party on the consent page.
struct PartyRow {
    field: String,
    name: String,
    kind: &'static str,
    at_home: &'static str,
    receives: String,
    ticked: bool,
}

impl PartyRow {
    fn of(p: &Party, b: &BeheerTexts) -> Self {
        let mut receives = vec![b.receives_always];
        for (on, what) in [
            (p.release.names, b.receives_names),
            (p.release.eckid, b.receives_eckid),
            (p.release.groups, b.receives_groups),
        ] {
            if on {
                receives.push(what);
            }
        }
        PartyRow {
            field: format!("rp-{}", p.rp.id),
            name: p.rp.name.clone(),
            kind: match p.rp.kind {
                RpKind::Publisher => b.kind_publisher,
                RpKind::Network | RpKind::Las => b.kind_network,
            },
            at_home: if p.at_home() { b.yes } else { b.no },
            receives: receives.join(", "),
            ticked: p.ticked,
        }
    }
}

beheer_template!(ConsentPage, "beheer_toestemming.html", {
    parties: Vec<PartyRow>,
    offers: Vec<super::fusie::OfferRow>,
});

pub(super) async fn consent_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    b: Beheerder,
    message: Option<Message>,
) -> Result<HttpResponse, PageError> {
    let (parties, offers) = b
        .blocking(state, move |st, coordinator| {
            Ok((
                consent::parties(st.dir.as_ref(), coordinator)?,
                broker::beheer::merger_consent::offers(st.dir.as_ref(), coordinator)?,
            ))
        })
        .await?;
    let c = Chrome::of(req, state, None).await;
    let (outcome, cookie) = Outcome::issue(req, state, message);
    let page = beheer_page!(ConsentPage, c, &b.school, "toestemming", outcome, {
        parties: parties
            .iter()
            .map(|p| PartyRow::of(p, c.t.beheer))
            .collect(),
        offers: super::fusie::offer_rows(&offers, c.t),
    });
    Ok(respond(&page, cookie))
}

shown_as_is!(
    /// GET `/beheer/toestemming`: every connected publisher and network provider, ticked or not.
    consent_form => consent_page
);

/// The consent form: the CSRF token and one `rp-<id>` field per ticked party.
#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    csrf_token: String,
    #[serde(flatten)]
    ticks: HashMap<String, String>,
}

csrf_protected!(ConsentForm);

/// POST `/beheer/toestemming`: exactly the ticked parties are allowed from now on.
pub async fn consent_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    CsrfChecked(form): CsrfChecked<ConsentForm>,
) -> Result<HttpResponse, PageError> {
    let mut ticked = BTreeSet::new();
    for key in form.ticks.keys() {
        let id = key
            .strip_prefix("rp-")
            .and_then(|id| Uuid::parse_str(id).ok())
            .ok_or(PageError::NotFound)?;
        ticked.insert(id);
    }
    let saved = b
        .blocking(&state, move |st, coordinator| {
            Ok(consent::save(
                st.dir.as_ref(),
                st.clock.as_ref(),
                coordinator,
                &ticked,
            )?)
        })
        .await?;
    let c = Chrome::of(&req, &state, None).await;
    let text = if saved == consent::Saved::default() {
        c.t.beheer.consent_unchanged
    } else {
        c.t.beheer.consent_saved
    };
    consent_page(&req, &state, b, Some(Message::Done(text.to_string()))).await
}
