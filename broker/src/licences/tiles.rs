//! The start page's tiles ("Lesmateriaal"): what a signed-in user opens.
//!
//! Per relying party the school registered and the release policy lets this user into (the
//! caller decides that with [`crate::release::decide`]):
//! - a publisher that keeps no titles at Leerpoort is one tile, the software itself;
//! - a publisher that does shows the titles the user holds a licence for — their own, one of
//!   their groups', or the whole school's — a methode as the methode, a product as the product,
//!   each opening where it says;
//! - a pupil never sees a teacher application (`leerkrachtApplicatie`) or a test
//!   (`toetsApplicatie`); at home only what the publisher allows at home. A product carries its
//!   methode's tags and home rule too.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use uuid::Uuid;

use super::{Licence, Title, TitleKey};
use crate::model::{RelyingParty, RpKind};

/// Who looks, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileFilter {
    /// Staff see teacher applications and tests.
    pub staff: bool,
    /// Signed in at home: only what may be used at home.
    pub home: bool,
}

/// One tile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tile {
    pub rp: Uuid,
    /// What it is called: the title's name, or the software's.
    pub name: String,
    /// The icon's hash (a product without one shows its methode's).
    pub icon: Option<String>,
    /// The `PRODUCT=` code that opens the title; `None` for the software itself.
    pub product: Option<String>,
}

/// The tiles for a user who may enter each of `rps`, holding `licences`, under `filter`;
/// `titles` are the titles of (at least) those publishers. By name.
pub fn tiles_for(
    rps: &[RelyingParty],
    titles: &[Title],
    licences: &[Licence],
    filter: TileFilter,
) -> Vec<Tile> {
    let held: HashSet<&TitleKey> = licences.iter().map(|l| &l.title).collect();
    let methodes: BTreeMap<(Uuid, &str), &Title> = titles
        .iter()
        .filter(|t| t.key.product.is_none())
        .map(|t| ((t.key.rp, t.key.methode.as_str()), t))
        .collect();
    let mut tiles = Vec::new();
    for rp in rps {
        let own: Vec<&Title> = titles.iter().filter(|t| t.key.rp == rp.id).collect();
        if own.is_empty() {
            tiles.push(Tile {
                rp: rp.id,
                name: rp.name.clone(),
                icon: None,
                product: None,
            });
            continue;
        }
        for t in own.into_iter().filter(|t| held.contains(&t.key)) {
            let methode = t
                .key
                .product
                .as_ref()
                .and_then(|_| methodes.get(&(t.key.rp, t.key.methode.as_str())).copied());
            let teacher = t.teacher_app || methode.is_some_and(|m| m.teacher_app);
            let test = t.test_app || methode.is_some_and(|m| m.test_app);
            let home = t.home_allowed && methode.is_none_or(|m| m.home_allowed);
            if (!filter.staff && (teacher || test)) || (filter.home && !home) {
                continue;
            }
            tiles.push(Tile {
                rp: rp.id,
                name: t.name.clone(),
                icon: t
                    .icon
                    .clone()
                    .or_else(|| methode.and_then(|m| m.icon.clone())),
                product: Some(t.product_code().to_string()),
            });
        }
    }
    tiles.sort_by_key(|t| t.name.to_lowercase());
    tiles
}

/// The relying parties whose titles `rp` opens: `rp` itself and the other publishers of its
/// sector. A publisher that signs users in by SAML keeps its titles through the licence API
/// with an OIDC client for its back end, which has the service provider's sector (so that its
/// pseudonyms are the NameIDs): those titles are the service provider's too.
pub fn same_publisher(all: &[RelyingParty], rp: &RelyingParty) -> Vec<Uuid> {
    let mut ids = vec![rp.id];
    if rp.kind == RpKind::Publisher {
        ids.extend(
            all.iter()
                .filter(|o| o.id != rp.id && o.kind == RpKind::Publisher && o.sector == rp.sector)
                .map(|o| o.id),
        );
    }
    ids
}

/// The title of one of `rps` (see [`same_publisher`]) a shortcut's `PRODUCT=` names: by code,
/// else by id (a product before a methode).
pub fn title_by_code<'a>(titles: &'a [Title], rps: &[Uuid], code: &str) -> Option<&'a Title> {
    let mine = || titles.iter().filter(move |t| rps.contains(&t.key.rp));
    mine()
        .find(|t| t.code.as_deref() == Some(code))
        .or_else(|| mine().find(|t| t.key.product.as_deref() == Some(code)))
        .or_else(|| mine().find(|t| t.key.product.is_none() && t.key.methode == code))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::licences::Holder;
    use crate::model::{OidcClient, RpKind, RpProtocol};

    fn rp(name: &str) -> RelyingParty {
        RelyingParty {
            id: Uuid::new_v4(),
            name: name.into(),
            kind: RpKind::Publisher,
            protocol: RpProtocol::Oidc(OidcClient {
                client_id: name.into(),
                client_secret_hash: None,
                redirect_uris: vec![],
                post_logout_redirect_uris: vec![],
                initiate_login_uri: None,
                backchannel_logout_uri: None,
                jwks_uri: None,
                jwks: None,
                token_endpoint_auth_method: "none".into(),
                id_token_alg: crate::model::JwsAlg::RS256,
                access_token_format: Default::default(),
            }),
            sector: "s".into(),
            home_allowed: true,
            audience: claims::Audience::Beide,
            enabled: true,
            offline_access: false,
            created_at: 0,
        }
    }

    fn title(rp: &RelyingParty, m: &str, p: Option<&str>, f: impl Fn(&mut Title)) -> Title {
        let mut t = Title {
            key: TitleKey {
                rp: rp.id,
                methode: m.into(),
                product: p.map(Into::into),
            },
            code: None,
            name: p.unwrap_or(m).into(),
            icon: Some(format!("icon-{m}")),
            url: Some("https://x.example/".into()),
            teacher_app: false,
            test_app: false,
            home_allowed: true,
            updated_at: 0,
        };
        f(&mut t);
        t
    }

    fn held(t: &Title) -> Licence {
        Licence {
            title: t.key.clone(),
            school: "3f2b8c4e-1d2a-4b6c-9e8f-0a1b2c3d4e5f".parse().unwrap(),
            holder: Holder::School,
        }
    }

    fn names(tiles: &[Tile]) -> Vec<&str> {
        tiles.iter().map(|t| t.name.as_str()).collect()
    }

    #[test]
    fn licensed_titles_by_who_looks_and_where() {
        let a = rp("Uitgeverij A");
        let b = rp("Zonder titels");
        let reken = title(&a, "reken", None, |_| {});
        let reken5 = title(&a, "reken", Some("reken5"), |t| t.icon = None);
        let docent = title(&a, "docent", None, |t| t.teacher_app = true);
        let toets = title(&a, "toets", None, |t| t.test_app = true);
        let school_only = title(&a, "klas", None, |t| t.home_allowed = false);
        let not_held = title(&a, "taal", None, |_| {});
        let titles = vec![
            reken.clone(),
            reken5.clone(),
            docent.clone(),
            toets.clone(),
            school_only.clone(),
            not_held,
        ];
        let lic: Vec<Licence> = [&reken, &reken5, &docent, &toets, &school_only]
            .into_iter()
            .map(held)
            .collect();
        let rps = [a.clone(), b.clone()];
        let pupil = tiles_for(
            &rps,
            &titles,
            &lic,
            TileFilter {
                staff: false,
                home: false,
            },
        );
        assert_eq!(names(&pupil), ["klas", "reken", "reken5", "Zonder titels"]);
        // The product shows its methode's icon; the software without titles has none.
        assert_eq!(pupil[2].icon.as_deref(), Some("icon-reken"));
        assert_eq!(pupil[2].product.as_deref(), Some("reken5"));
        assert_eq!(pupil[3].product, None);
        let staff = tiles_for(
            &rps,
            &titles,
            &lic,
            TileFilter {
                staff: true,
                home: false,
            },
        );
        assert_eq!(
            names(&staff),
            [
                "docent",
                "klas",
                "reken",
                "reken5",
                "toets",
                "Zonder titels"
            ]
        );
        let home = tiles_for(
            &rps,
            &titles,
            &lic,
            TileFilter {
                staff: false,
                home: true,
            },
        );
        assert_eq!(names(&home), ["reken", "reken5", "Zonder titels"]);
        // Nothing held: nothing of that publisher.
        let none = tiles_for(
            &[a],
            &titles,
            &[],
            TileFilter {
                staff: true,
                home: false,
            },
        );
        assert!(none.is_empty());
    }

    #[test]
    fn a_product_carries_its_methodes_rules() {
        let a = rp("A");
        let m = title(&a, "m", None, |t| {
            t.teacher_app = true;
            t.home_allowed = false;
        });
        let p = title(&a, "m", Some("p"), |_| {});
        let titles = vec![m, p.clone()];
        let lic = vec![held(&p)];
        let rps = [a];
        assert!(tiles_for(
            &rps,
            &titles,
            &lic,
            TileFilter {
                staff: false,
                home: false
            }
        )
        .is_empty());
        assert!(tiles_for(
            &rps,
            &titles,
            &lic,
            TileFilter {
                staff: true,
                home: true
            }
        )
        .is_empty());
        assert_eq!(
            tiles_for(
                &rps,
                &titles,
                &lic,
                TileFilter {
                    staff: true,
                    home: false
                }
            )
            .len(),
            1
        );
    }

    #[test]
    fn product_codes_find_titles() {
        let a = rp("A");
        let m = title(&a, "m", None, |_| {});
        let p = title(&a, "m", Some("p"), |t| t.code = Some("P-1".into()));
        let titles = vec![m, p];
        assert_eq!(
            title_by_code(&titles, &[a.id], "P-1")
                .unwrap()
                .key
                .product
                .as_deref(),
            Some("p")
        );
        assert_eq!(title_by_code(&titles, &[a.id], "p").unwrap().name, "p");
        assert_eq!(
            title_by_code(&titles, &[a.id], "m").unwrap().key.product,
            None
        );
        assert!(title_by_code(&titles, &[Uuid::new_v4()], "m").is_none());
        assert!(title_by_code(&titles, &[a.id], "x").is_none());
    }
}
