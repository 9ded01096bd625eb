//! Beheer: after a merger, the consents of the school that merged into this one wait on the
//! consent page ("Toestemming van de gefuseerde school overnemen") until the coordinator takes
//! them over (`broker::beheer::merger_consent`).

#[allow(clippy::wildcard_imports)]
use super::*;
use broker::beheer::merger_consent::{self, Offer};
use claims::InstellingRef;

/// One merged school's offer on the consent page.
pub(super) struct OfferRow {
    pub school_ref: String,
    pub intro: String,
    pub parties: Vec<String>,
    pub networks: Vec<String>,
}

impl OfferRow {
    fn of(o: &Offer, t: &'static Texts) -> Self {
        OfferRow {
            school_ref: o.from.instelling_ref.to_string(),
            intro: t.mergers.offer_intro(&o.from.name),
            parties: o.parties.iter().map(|(rp, _)| rp.name.clone()).collect(),
            networks: o.networks.iter().map(|u| u.name.clone()).collect(),
        }
    }
}

/// The offers waiting for the coordinator's school (`merger_consent::offers`), as the page
/// shows them.
pub(super) fn offer_rows(offers: &[Offer], t: &'static Texts) -> Vec<OfferRow> {
    offers.iter().map(|o| OfferRow::of(o, t)).collect()
}

/// The form of one offer: the CSRF token and the merged school's INSTELLING_REF.
#[derive(Debug, Deserialize)]
pub struct MergerConsentForm {
    csrf_token: String,
    school: String,
}

csrf_protected!(MergerConsentForm);

/// POST `/beheer/toestemming/fusie`: take over the consents of the merged school `school`.
/// A school that offers nothing (any more) changes nothing.
pub async fn merger_consent_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    CsrfChecked(form): CsrfChecked<MergerConsentForm>,
) -> Result<HttpResponse, PageError> {
    let from = InstellingRef::from_str(form.school.trim()).map_err(|_| PageError::NotFound)?;
    let united = b
        .blocking(&state, move |st, coordinator| {
            Ok(merger_consent::accept(
                st.dir.as_ref(),
                st.clock.as_ref(),
                coordinator,
                &from,
            )?)
        })
        .await?;
    let c = Chrome::of(&req, &state, None).await;
    let text = match united {
        Some(u) => c.t.mergers.offer_done(&u.school),
        None => c.t.beheer.consent_unchanged.to_string(),
    };
    super::toestemming::consent_page(&req, &state, b, Some(Message::Done(text))).await
}
