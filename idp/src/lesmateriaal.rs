//! The start page's tiles ("Lesmateriaal"), from the school's registrations, the release
//! policy, the licences the publishers keep at Leerpoort ([`broker::licences::tiles`]), and the
//! answers of publishers asked live ([`crate::licence_lookup`]).
//!
//! Three steps: [`prepare`] reads the directory (blocking), [`crate::licence_lookup::ask`]
//! waits for the live publishers (async, bounded by the deadline), [`finish`] makes the tiles.

use std::collections::HashMap;
use std::time::Duration;

use broker::licences::{tiles_for, Holder, Licence, TileFilter, Title, TitleKey};
use broker::model::{Group, RelyingParty, RpKind, School, User};
use broker::release::Scopes;
use claims::LoginContext;
use uuid::Uuid;

use crate::app::AppState;
use crate::licence_lookup::{self, Answer, Question};
use crate::session::SsoSession;

/// One tile as the page shows it.
#[derive(Debug, Clone)]
pub struct AppTile {
    pub name: String,
    /// Where it leads: the school's shortcut with TARGET (and PRODUCT). `None` for a
    /// publisher that has not answered (yet).
    pub url: Option<String>,
    /// The icon's URL, if the title has one.
    pub icon: Option<String>,
    /// The first letter, on a coloured tile, when there is no icon.
    pub initial: String,
    /// One of eight colour classes, stable per name.
    pub colour: u8,
    /// A publisher asked live that has not answered: "even niet beschikbaar".
    pub waiting: bool,
}

/// What the directory says, before the live publishers are asked.
#[derive(Debug, Clone)]
pub struct Prepared {
    school: School,
    rps: Vec<RelyingParty>,
    titles: Vec<Title>,
    licences: Vec<Licence>,
    filter: TileFilter,
    /// A pupil of groups 1–2 only: picture tiles.
    pub young: bool,
    user: Uuid,
    /// The publishers to ask live, and what is already known of them.
    pub questions: Vec<Question>,
    pub known: HashMap<Uuid, Answer>,
}

/// Read what the tiles of `user` of `school` (signed in as session `s`) come from. Blocking.
pub fn prepare(
    st: &AppState,
    school: &School,
    user: &User,
    s: &SsoSession,
) -> Result<Prepared, broker::release::ReleaseError> {
    let mut rps = Vec::new();
    for reg in st.dir.registrations_of_school(&school.instelling_ref)? {
        let Some(rp) = st.dir.relying_party(reg.rp_id)? else {
            continue;
        };
        // Lesmateriaal is a publisher's: a network environment is where the user came from.
        if rp.kind == RpKind::Publisher
            && broker::release::decide(school, &rp, Some(&reg), user, s.context).is_ok()
        {
            rps.push(rp);
        }
    }
    let ids: Vec<Uuid> = rps.iter().map(|r| r.id).collect();
    let titles = st.dir.titles_of_many(&ids)?;
    let licences = if titles.is_empty() {
        Vec::new()
    } else {
        st.dir
            .licences_reaching(&school.instelling_ref, user.id, &user.group_ids)?
    };
    let mut questions = Vec::new();
    for (rp_id, url) in st.dir.licence_endpoints(&ids)? {
        let Some(rp) = rps.iter().find(|r| r.id == rp_id) else {
            continue;
        };
        // What the publisher may know of the user: an ID token's claims with scope `groups`.
        let claims = broker::release::release(
            st.dir.as_ref(),
            &st.pseudonyms,
            rp,
            user.id,
            &school.instelling_ref,
            s.context,
            Scopes {
                groups: true,
                ..Scopes::default()
            },
        )?;
        questions.push(Question {
            rp: rp.clone(),
            url,
            user: user.id,
            claims: serde_json::Value::Object(claims.to_json_map()),
        });
    }
    let known = licence_lookup::cached(st, &questions);
    let groups: Vec<Group> = if user.is_pupil() {
        user.group_ids
            .iter()
            .filter_map(|g| st.dir.group(*g).ok().flatten())
            .collect()
    } else {
        Vec::new()
    };
    let young = !groups.is_empty()
        && groups
            .iter()
            .all(|g| g.jaargroep.is_some_and(|j| j.get() <= 2));
    Ok(Prepared {
        school: school.clone(),
        rps,
        titles,
        licences,
        filter: TileFilter {
            staff: !user.is_pupil(),
            home: s.context == LoginContext::Thuis,
        },
        young,
        user: user.id,
        questions,
        known,
    })
}

/// Ask the live publishers (at most `deadline`), then make the tiles.
pub async fn tiles(st: &AppState, p: Prepared, deadline: Duration) -> (Vec<AppTile>, bool, bool) {
    let answers = licence_lookup::ask(st, p.questions.clone(), p.known.clone(), deadline).await;
    finish(st, p, &answers)
}

/// The tiles, whether they are picture tiles, and whether a publisher is still being waited
/// for.
pub fn finish(
    st: &AppState,
    p: Prepared,
    answers: &HashMap<Uuid, Answer>,
) -> (Vec<AppTile>, bool, bool) {
    let mut licences = p.licences;
    let mut silent: Vec<(&RelyingParty, bool)> = Vec::new();
    for q in &p.questions {
        match answers.get(&q.rp.id) {
            Some(Answer::Held(held)) => {
                licences.extend(held.iter().map(|(methode, product)| Licence {
                    title: TitleKey {
                        rp: q.rp.id,
                        methode: methode.clone(),
                        product: product.clone(),
                    },
                    school: p.school.instelling_ref,
                    holder: Holder::User(p.user),
                }));
            }
            Some(Answer::Waiting) | None => silent.push((&q.rp, true)),
            Some(Answer::Unavailable) => silent.push((&q.rp, false)),
        }
    }
    // A publisher that has not answered shows one tile that says so, not its whole software.
    let answered: Vec<RelyingParty> = p
        .rps
        .iter()
        .filter(|rp| !silent.iter().any(|(s, _)| s.id == rp.id))
        .cloned()
        .collect();
    let mut tiles: Vec<AppTile> = tiles_for(&answered, &p.titles, &licences, p.filter)
        .into_iter()
        .filter_map(|t| {
            let owner = p.rps.iter().find(|r| r.id == t.rp)?;
            // The way in: the title's own client, or else (a back-end client without an
            // initiate_login_uri) the publisher's SAML service provider at this school. With
            // none, no tile.
            let has_way_in = |rp: &RelyingParty| {
                crate::shortcut::destination(st, Some(&crate::shortcut::Target::of(rp.clone())))
                    != "/"
            };
            let rp =
                std::iter::once(owner)
                    .chain(p.rps.iter().filter(|r| {
                        r.id != owner.id && r.sector == owner.sector && r.oidc().is_none()
                    }))
                    .find(|r| has_way_in(r))?;
            let target = crate::shortcut::with_product(
                Some(rp.public_id().to_string()),
                t.product.as_deref(),
            )?;
            Some(AppTile {
                initial: initial(&t.name),
                colour: colour_of(&t.name),
                icon: t
                    .icon
                    .map(|h| format!("{}{h}", crate::server::api::licenties::ICON_PATH)),
                url: Some(crate::shortcut::url(
                    &p.school.instelling_ref,
                    Some(&target),
                    None,
                )),
                name: t.name,
                waiting: false,
            })
        })
        .collect();
    let mut waiting = false;
    for (rp, still) in silent {
        waiting |= still;
        tiles.push(AppTile {
            name: rp.name.clone(),
            url: None,
            icon: None,
            initial: initial(&rp.name),
            colour: colour_of(&rp.name),
            waiting: true,
        });
    }
    (tiles, p.young, waiting)
}

fn initial(name: &str) -> String {
    name.chars()
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default()
}

fn colour_of(name: &str) -> u8 {
    (name
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 8) as u8
}
