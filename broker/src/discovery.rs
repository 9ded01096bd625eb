//! School discovery ("Kies je school"): finding a school by its name or its place, for a pupil
//! or teacher who did not come through the school's shortcut.
//!
//! - **What is listed:** active schools. A school that merged into another leads to the school
//!   it merged into (following the chain, as a shortcut does), listed once, with its old name
//!   as a hint; a closed school is not listed, nor one that merged into a closed school.
//! - **The place** is DUO's (`DuoLocation::place`) for a school whose BRIN6 DUO's latest file
//!   lists; a school outside the registry is found by its name only.
//! - **Matching** ignores case, accents and punctuation: every word of the query must occur in
//!   the school's name or place (`st jozef den bosch` finds "Basisschool Sint-Jozef" in
//!   'S-HERTOGENBOSCH only if each word occurs, so `sint jozef hertogenbosch` does).
//! - **Bounds:** the query is cut at [`QUERY_MAX`] characters and needs [`QUERY_MIN`] letters
//!   or digits; at most [`RESULTS_MAX`] schools are listed, and the caller is told there were
//!   more. Searches count per client address ([`throttle`]).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use claims::{Brin6, InstellingRef};

use crate::keyspace::{Key, Limit};
use crate::model::{DuoLocation, School, SchoolStatus};
use crate::repo::{Directory, RepoResult};
use crate::store::{EphemeralStore, StoreError};

/// The most characters of a query that are read.
pub const QUERY_MAX: usize = 60;
/// The fewest letters or digits a query needs.
pub const QUERY_MIN: usize = 2;
/// The most schools one search lists.
pub const RESULTS_MAX: usize = 20;
/// Searches one client address (an IPv4 address, or an IPv6 /64) may make per [`WINDOW`]: a
/// whole school behind one address, each pupil searching once or twice, stays well under it.
pub const SEARCHES_PER_WINDOW: u64 = 120;
/// The window [`SEARCHES_PER_WINDOW`] counts in.
pub const WINDOW: Duration = Duration::from_secs(60);

/// A school in the results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub school: InstellingRef,
    pub name: String,
    /// DUO's place of the school's location, written as people write it.
    pub place: Option<String>,
    /// The name of a merged school the query found, when the school listed is the one it
    /// merged into (and that one's own name or place did not match).
    pub formerly: Option<String>,
}

/// The result of a search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    pub listings: Vec<Listing>,
    /// More schools matched than are listed.
    pub more: bool,
}

/// What a query is, once read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// Nothing was asked.
    Empty,
    /// Fewer than [`QUERY_MIN`] letters or digits.
    TooShort,
    /// The words to look for, normalised.
    Words(Vec<String>),
}

impl Query {
    /// Read what someone typed: at most [`QUERY_MAX`] characters, normalised.
    pub fn read(raw: &str) -> Query {
        let cut: String = raw.chars().take(QUERY_MAX).collect();
        let norm = normalise(&cut);
        let words: Vec<String> = norm.split_whitespace().map(str::to_string).collect();
        let letters = norm.chars().filter(|c| c.is_alphanumeric()).count();
        if cut.trim().is_empty() {
            Query::Empty
        } else if letters < QUERY_MIN {
            Query::TooShort
        } else {
            Query::Words(words)
        }
    }
}

/// Find the schools `words` name ([`Query::Words`]).
pub fn search(dir: &dyn Directory, words: &[String]) -> RepoResult<Found> {
    if words.is_empty() {
        return Ok(Found::default());
    }
    let schools = dir.schools()?;
    let places: HashMap<Brin6, String> = dir
        .duo_locations()?
        .into_iter()
        .filter(DuoLocation::listed)
        .map(|l| (l.brin6, l.place))
        .collect();
    Ok(find(&schools, &places, words))
}

/// [`search`] on what has been loaded: `places` by BRIN6, DUO's spelling.
pub fn find(schools: &[School], places: &HashMap<Brin6, String>, words: &[String]) -> Found {
    let by_ref: HashMap<InstellingRef, &School> =
        schools.iter().map(|s| (s.instelling_ref, s)).collect();
    let place_of = |s: &School| places.get(&s.brin6).map(String::as_str);
    let matches = |s: &School| {
        let hay = format!(
            "{} {}",
            normalise(&s.name),
            normalise(place_of(s).unwrap_or(""))
        );
        words.iter().all(|w| hay.contains(w.as_str()))
    };
    // The schools that matched themselves, then those found through a merged school.
    let mut direct: Vec<&School> = Vec::new();
    let mut through: Vec<(&School, &School)> = Vec::new();
    for s in schools.iter().filter(|s| matches(s)) {
        match successor(s, &by_ref) {
            Some(active) if active.instelling_ref == s.instelling_ref => direct.push(active),
            Some(active) => through.push((active, s)),
            None => {}
        }
    }
    let mut seen: HashSet<InstellingRef> = HashSet::new();
    let mut listed: Vec<(u8, String, Listing)> = Vec::new();
    let entries = direct.into_iter().map(|s| (s, None)).chain(
        through
            .into_iter()
            .map(|(s, old)| (s, Some(old.name.clone()))),
    );
    for (s, formerly) in entries {
        if !seen.insert(s.instelling_ref) {
            continue;
        }
        let name = normalise(&s.name);
        let rank = rank(&name, words);
        listed.push((
            rank,
            name,
            Listing {
                school: s.instelling_ref,
                name: s.name.clone(),
                place: place_of(s).map(display_place),
                formerly,
            },
        ));
    }
    listed.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let more = listed.len() > RESULTS_MAX;
    Found {
        listings: listed
            .into_iter()
            .take(RESULTS_MAX)
            .map(|(_, _, l)| l)
            .collect(),
        more,
    }
}

/// Better matches first: the name starts with the first word (0), a word of the name does (1),
/// or the words are elsewhere (2).
fn rank(name: &str, words: &[String]) -> u8 {
    let first = words.first().map(String::as_str).unwrap_or("");
    if name.starts_with(first) {
        0
    } else if name.split_whitespace().any(|w| w.starts_with(first)) {
        1
    } else {
        2
    }
}

/// The active school `s` is or leads to (through mergers, at most eight steps); `None` for a
/// closed one, or one that leads to a closed or unknown school.
fn successor<'a>(s: &'a School, by_ref: &HashMap<InstellingRef, &'a School>) -> Option<&'a School> {
    let mut at = s;
    for _ in 0..8 {
        match at.status {
            SchoolStatus::Active => return Some(at),
            SchoolStatus::Closed => return None,
            SchoolStatus::Merged(into) => at = by_ref.get(&into)?,
        }
    }
    None
}

/// Lower case, accents off (`é` → `e`, `ß` → `ss`), apostrophes dropped, every other character
/// that is not a letter or digit a space, and single spaces.
pub fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match fold(c) {
            Some(f) => out.push_str(f),
            None if c.is_alphanumeric() => out.push(c),
            None if matches!(c, '\'' | '’' | '‘' | '`' | '´') => {}
            None => out.push(' '),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The plain letters of an accented lower-case Latin letter.
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ī' => "i",
        'ñ' | 'ń' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => "o",
        'œ' => "oe",
        'ß' => "ss",
        'š' | 'ś' => "s",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' => "u",
        'ý' | 'ÿ' => "y",
        'ž' | 'ź' | 'ż' => "z",
        _ => return None,
    })
}

/// DUO writes places in capitals (`'S-HERTOGENBOSCH`, `ALPHEN AAN DEN RIJN`): written as people
/// write them (`'s-Hertogenbosch`, `Alphen aan den Rijn`, `Capelle aan den IJssel`).
pub fn display_place(place: &str) -> String {
    const SMALL: [&str; 12] = [
        "aan", "de", "den", "der", "en", "in", "op", "over", "ter", "ten", "van", "bij",
    ];
    let lower = place.trim().to_lowercase();
    let mut out = String::with_capacity(lower.len());
    for (i, word) in lower.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if i > 0 && SMALL.contains(&word) {
            out.push_str(word);
            continue;
        }
        // Each part of a hyphenated word is capitalised, except the article of `'s-` / `'t-`.
        let parts: Vec<String> = word
            .split('-')
            .map(|p| {
                if matches!(p, "'s" | "'t") {
                    p.to_string()
                } else {
                    capitalise(p)
                }
            })
            .collect();
        out.push_str(&parts.join("-"));
    }
    out
}

fn capitalise(word: &str) -> String {
    if let Some(rest) = word.strip_prefix("ij") {
        return format!("IJ{rest}");
    }
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Count a search from `ip` (its /64 for IPv6): `Ok(true)` while the address stays within
/// [`SEARCHES_PER_WINDOW`] per [`WINDOW`].
pub fn throttle(store: &dyn EphemeralStore, ip: Option<&str>) -> Result<bool, StoreError> {
    let bucket = crate::login::limit_bucket(ip);
    let n = store.incr(&Key::Limit(Limit::SchoolSearch(&bucket)), WINDOW)?;
    Ok(n <= SEARCHES_PER_WINDOW)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn school(n: u8, name: &str, brin6: &str, status: SchoolStatus) -> School {
        School {
            instelling_ref: InstellingRef::from_str(&format!(
                "8f0c7a2e-4b1d-4c3e-9a5f-6d2b1e0c9a{n:02}"
            ))
            .unwrap(),
            board_id: None,
            brin6: Brin6::from_str(brin6).unwrap(),
            name: name.into(),
            status,
            networks: vec![],
            dynamic_network: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn words(q: &str) -> Vec<String> {
        match Query::read(q) {
            Query::Words(w) => w,
            other => panic!("{q}: {other:?}"),
        }
    }

    #[test]
    fn queries_are_read_within_bounds() {
        assert_eq!(Query::read("   "), Query::Empty);
        assert_eq!(Query::read("a"), Query::TooShort);
        assert_eq!(Query::read("'-"), Query::TooShort);
        assert_eq!(
            Query::read("Sint-Joséph  ’s-Hertogenbosch"),
            Query::Words(vec![
                "sint".into(),
                "joseph".into(),
                "s".into(),
                "hertogenbosch".into()
            ])
        );
        let long = "x".repeat(10_000);
        assert_eq!(
            Query::read(&long),
            Query::Words(vec!["x".repeat(QUERY_MAX)])
        );
    }

    #[test]
    fn names_and_places_are_found_and_merged_schools_lead_on() {
        let linde = school(1, "OBS De Linde", "12AB00", SchoolStatus::Active);
        let eik = school(
            2,
            "CBS De Eik",
            "12AC00",
            SchoolStatus::Merged(linde.instelling_ref),
        );
        let dicht = school(3, "De Dichte Deur", "12AD00", SchoolStatus::Closed);
        let jozef = school(4, "Basisschool Sint-Jozef", "12AE00", SchoolStatus::Active);
        let schools = vec![linde.clone(), eik, dicht, jozef.clone()];
        let places: HashMap<Brin6, String> = [
            (linde.brin6.clone(), "'S-HERTOGENBOSCH".to_string()),
            (jozef.brin6.clone(), "CAPELLE AAN DEN IJSSEL".to_string()),
        ]
        .into_iter()
        .collect();
        let found = find(&schools, &places, &words("linde"));
        assert_eq!(found.listings.len(), 1);
        assert_eq!(found.listings[0].place.as_deref(), Some("'s-Hertogenbosch"));
        // By place, accents and case aside.
        let found = find(&schools, &places, &words("Hertogenbosch"));
        assert_eq!(found.listings[0].school, linde.instelling_ref);
        let found = find(&schools, &places, &words("sint jozef ijssel"));
        assert_eq!(found.listings[0].school, jozef.instelling_ref);
        assert_eq!(
            found.listings[0].place.as_deref(),
            Some("Capelle aan den IJssel")
        );
        // The merged school leads to the school it merged into, with its old name.
        let found = find(&schools, &places, &words("eik"));
        assert_eq!(found.listings.len(), 1);
        assert_eq!(found.listings[0].school, linde.instelling_ref);
        assert_eq!(found.listings[0].formerly.as_deref(), Some("CBS De Eik"));
        // Both match: listed once, as itself.
        let found = find(&schools, &places, &words("de"));
        assert_eq!(
            found
                .listings
                .iter()
                .filter(|l| l.school == linde.instelling_ref)
                .count(),
            1
        );
        assert!(found.listings.iter().all(|l| l.formerly.is_none()));
        // Closed: not listed.
        assert!(find(&schools, &places, &words("dichte"))
            .listings
            .is_empty());
    }

    #[test]
    fn results_are_bounded_and_ranked() {
        let schools: Vec<School> = (0..30)
            .map(|i| {
                school(
                    i,
                    &format!("School {i:02} Noord"),
                    &format!("{:02}ZZ00", i),
                    SchoolStatus::Active,
                )
            })
            .chain(std::iter::once(school(
                99,
                "Noorderlicht",
                "99AA00",
                SchoolStatus::Active,
            )))
            .collect();
        let found = find(&schools, &HashMap::new(), &words("noord"));
        assert_eq!(found.listings.len(), RESULTS_MAX);
        assert!(found.more);
        assert_eq!(
            found.listings[0].name, "Noorderlicht",
            "a name that starts with it first"
        );
    }
}
