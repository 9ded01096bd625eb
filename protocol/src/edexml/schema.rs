//! The EDEXML content models, written from `EDEXML.structuur.xsd` and `EDEXML.elementen.xsd`
//! of 1.0.3, 2.0 and 2.1, and the simple types of `EDEXML.types.vast.xsd` and
//! `EDEXML.types.variabel.xsd`.
//!
//! Each version is a superset of the one before, in the same order, so one grammar holds all
//! three: every child element carries the version it came with (`since`), and the validator
//! checks that against the version the file declares (or records it to infer the version).
//! Each complex element is a sequence of [`Slot`]s; a slot accepts one of its children
//! (an `xs:choice`), once or repeatedly. The `xs:choice`s between whole sequences (a name given
//! as `<achternaam>…` or as a `<roepnaam>` alone; a school as `<brincode>…`, as
//! `<instellingsnummer>…` or as a `<schoolkey>` alone) are flattened into optional slots, and
//! the validator checks what the flattening loses. [`advance`] matches a child against its
//! parent's model.

use std::borrow::Cow;

use super::decode::short;
use super::model::{EdexmlError, Version};
use Version::{V1_0_3 as V1, V2_0 as V2};

/// What an element is, which decides its children, attributes and what is kept of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// The root, `<EDEX>`.
    Edex,
    /// `<school>`.
    School,
    /// `<vestigingen>` (2.0).
    Vestigingen,
    /// `<vestiging key>` in `<vestigingen>`.
    Vestiging,
    /// `<groepen>` at the top.
    Groepen,
    /// `<groep key>` in `<groepen>`.
    Groep,
    /// `<samengestelde_groep key>` in `<groepen>` (2.0).
    SamGroep,
    /// `<leerlingen>`.
    Leerlingen,
    /// `<leerling key>`.
    Leerling,
    /// `<groep key/>` in a leerling: its stamgroep.
    LlGroep,
    /// `<samengestelde_groepen>` in a leerling (2.0).
    LlSamGroepen,
    /// `<samengestelde_groep key/>` in a leerling's `<samengestelde_groepen>`.
    LlSamGroep,
    /// `<vestiging key/>` in a leerling (2.0).
    LlVestiging,
    /// `<leerkrachten>`.
    Leerkrachten,
    /// `<leerkracht key>`.
    Leerkracht,
    /// `<groepen>` in a leerkracht.
    LkGroepen,
    /// `<groep key>` in a leerkracht's `<groepen>`, with its roles (2.0).
    LkGroep,
    /// `<samengestelde_groep key>` in a leerkracht's `<groepen>` (2.0).
    LkSamGroep,
    /// `<toevoegingen>`: extension blocks.
    Toevoegingen,
    /// `<blok>`: a `<code>`, then the content of its `xsi:type` (vendor-defined, skipped).
    Blok,
    /// Inside a `<blok>` after its `<code>`: anything, skipped (the XML limits still hold).
    Skip,
    /// An element with text content only; its name says which value it is.
    Field,
}

impl Kind {
    /// Whether the element has a required `key` attribute.
    pub(super) fn has_key(self) -> bool {
        matches!(
            self,
            Kind::Vestiging
                | Kind::Groep
                | Kind::SamGroep
                | Kind::Leerling
                | Kind::Leerkracht
                | Kind::LlGroep
                | Kind::LlSamGroep
                | Kind::LlVestiging
                | Kind::LkGroep
                | Kind::LkSamGroep
        )
    }

    /// Whether the element may have an `eckid` attribute (2.1).
    pub(super) fn has_eckid(self) -> bool {
        matches!(self, Kind::Leerling | Kind::Leerkracht)
    }
}

/// A child element a slot accepts.
#[derive(Debug)]
pub(super) struct Child {
    /// Its name.
    pub name: &'static str,
    /// The version it came with.
    pub since: Version,
    /// What it is.
    pub kind: Kind,
}

/// One position in an element's sequence.
#[derive(Debug)]
pub(super) struct Slot {
    /// The children it accepts (one of them each time).
    pub children: &'static [Child],
    /// Whether it must occur at least once.
    pub required: bool,
    /// Whether it may occur more than once.
    pub many: bool,
}

macro_rules! ch {
    ($name:literal, $kind:ident) => {
        Child {
            name: $name,
            since: V1,
            kind: Kind::$kind,
        }
    };
    ($name:literal, $kind:ident, $since:ident) => {
        Child {
            name: $name,
            since: $since,
            kind: Kind::$kind,
        }
    };
}

macro_rules! slot {
    (one: $($c:expr),+) => { Slot { children: &[$($c),+], required: true, many: false } };
    (opt: $($c:expr),+) => { Slot { children: &[$($c),+], required: false, many: false } };
    (some: $($c:expr),+) => { Slot { children: &[$($c),+], required: true, many: true } };
    (any: $($c:expr),+) => { Slot { children: &[$($c),+], required: false, many: true } };
}

static EDEX: &[Slot] = &[
    slot!(one: ch!("school", School)),
    slot!(opt: ch!("vestigingen", Vestigingen, V2)),
    slot!(opt: ch!("groepen", Groepen)),
    slot!(one: ch!("leerlingen", Leerlingen)),
    slot!(opt: ch!("leerkrachten", Leerkrachten)),
];

static SCHOOL: &[Slot] = &[
    slot!(one: ch!("schooljaar", Field)),
    slot!(opt: ch!("peildatum", Field, V2)),
    slot!(opt: ch!("brincode", Field), ch!("instellingsnummer", Field, V2)),
    slot!(opt: ch!("dependancecode", Field)),
    slot!(opt: ch!("schoolkey", Field)),
    slot!(opt: ch!("aanmaakdatum", Field)),
    slot!(opt: ch!("auteur", Field)),
    slot!(opt: ch!("xsdversie", Field)),
    slot!(opt: ch!("commentaar", Field)),
    slot!(opt: ch!("toevoegingen", Toevoegingen, V2)),
];

static VESTIGINGEN: &[Slot] = &[slot!(some: ch!("vestiging", Vestiging))];

static VESTIGING: &[Slot] = &[
    slot!(one: ch!("naam", Field)),
    slot!(opt: ch!("omschrijving", Field)),
    slot!(opt: ch!("mutatiedatum", Field)),
];

static GROEPEN: &[Slot] =
    &[slot!(some: ch!("groep", Groep), ch!("samengestelde_groep", SamGroep, V2))];

static GROEP: &[Slot] = &[
    slot!(one: ch!("naam", Field)),
    slot!(one: ch!("jaargroep", Field)),
    slot!(opt: ch!("omschrijving", Field, V2)),
    slot!(opt: ch!("toevoegingen", Toevoegingen, V2)),
    slot!(opt: ch!("mutatiedatum", Field)),
];

static SAMGROEP: &[Slot] = &[
    slot!(one: ch!("naam", Field)),
    slot!(opt: ch!("omschrijving", Field)),
    slot!(opt: ch!("toevoegingen", Toevoegingen)),
    slot!(opt: ch!("mutatiedatum", Field)),
];

static LEERLINGEN: &[Slot] = &[slot!(some: ch!("leerling", Leerling))];

static LEERLING: &[Slot] = &[
    slot!(opt: ch!("achternaam", Field)),
    slot!(opt: ch!("voorvoegsel", Field)),
    slot!(opt: ch!("voornamen", Field, V2)),
    slot!(opt: ch!("voorletters-1", Field)),
    slot!(opt: ch!("roepnaam", Field)),
    slot!(opt: ch!("geboortedatum", Field)),
    slot!(opt: ch!("geslacht", Field)),
    slot!(opt: ch!("start_ondw_jgr3", Field, V2)),
    slot!(opt: ch!("jaargroep", Field)),
    slot!(opt: ch!("groep", LlGroep)),
    slot!(opt: ch!("samengestelde_groepen", LlSamGroepen, V2)),
    slot!(opt: ch!("vestiging", LlVestiging, V2)),
    slot!(opt: ch!("gebruikersnaam", Field, V2)),
    slot!(opt: ch!("emailadres", Field, V2)),
    slot!(opt: ch!("fotourl", Field, V2)),
    slot!(opt: ch!("etniciteit", Field)),
    slot!(opt: ch!("land", Field)),
    slot!(opt: ch!("land_vader", Field)),
    slot!(opt: ch!("land_moeder", Field)),
    slot!(opt:
        ch!("sofinummer", Field),
        ch!("bsn", Field, V2),
        ch!("onderwijsnummer", Field),
        ch!("bsn_ondwnr-4", Field, V2),
        ch!("rijksregisternummer", Field, V2)
    ),
    slot!(opt: ch!("gewicht_nieuw", Field)),
    slot!(opt: ch!("gewicht", Field)),
    slot!(opt: ch!("postcodenl", Field), ch!("postnummerbe", Field, V2), ch!("postcodeoverig", Field)),
    slot!(opt: ch!("instroomdatum", Field)),
    slot!(opt: ch!("uitstroomdatum", Field)),
    slot!(opt: ch!("toevoegingen", Toevoegingen)),
    slot!(opt: ch!("mutatiedatum", Field)),
];

static LL_SAMGROEPEN: &[Slot] = &[slot!(some: ch!("samengestelde_groep", LlSamGroep))];

static LEERKRACHTEN: &[Slot] = &[slot!(some: ch!("leerkracht", Leerkracht))];

static LEERKRACHT: &[Slot] = &[
    slot!(opt: ch!("achternaam", Field)),
    slot!(opt: ch!("voorvoegsel", Field)),
    slot!(opt: ch!("voornamen", Field, V2)),
    slot!(opt: ch!("voorletters-1", Field)),
    slot!(opt: ch!("roepnaam", Field)),
    slot!(opt: ch!("gebruikersnaam", Field, V2)),
    slot!(opt: ch!("emailadres", Field, V2)),
    slot!(any: ch!("rol", Field, V2), ch!("rolomschrijving", Field, V2)),
    slot!(opt: ch!("groepen", LkGroepen)),
    slot!(opt: ch!("toevoegingen", Toevoegingen, V2)),
    slot!(opt: ch!("mutatiedatum", Field)),
];

static LK_GROEPEN: &[Slot] =
    &[slot!(some: ch!("groep", LkGroep), ch!("samengestelde_groep", LkSamGroep, V2))];

static LK_GROEP: &[Slot] = &[slot!(any: ch!("rol", Field, V2), ch!("rolomschrijving", Field, V2))];

static TOEVOEGINGEN: &[Slot] = &[slot!(some: ch!("blok", Blok))];

static BLOK: &[Slot] = &[slot!(one: ch!("code", Field))];

/// The sequence of an element's children.
pub(super) fn model(kind: Kind) -> &'static [Slot] {
    match kind {
        Kind::Edex => EDEX,
        Kind::School => SCHOOL,
        Kind::Vestigingen => VESTIGINGEN,
        Kind::Vestiging => VESTIGING,
        Kind::Groepen => GROEPEN,
        Kind::Groep => GROEP,
        Kind::SamGroep => SAMGROEP,
        Kind::Leerlingen => LEERLINGEN,
        Kind::Leerling => LEERLING,
        Kind::LlSamGroepen => LL_SAMGROEPEN,
        Kind::Leerkrachten => LEERKRACHTEN,
        Kind::Leerkracht => LEERKRACHT,
        Kind::LkGroepen => LK_GROEPEN,
        Kind::LkGroep | Kind::LkSamGroep => LK_GROEP,
        Kind::Toevoegingen => TOEVOEGINGEN,
        Kind::Blok => BLOK,
        Kind::LlGroep | Kind::LlSamGroep | Kind::LlVestiging | Kind::Skip | Kind::Field => &[],
    }
}

/// An open element.
#[derive(Debug)]
pub(super) struct Frame {
    /// What it is.
    pub kind: Kind,
    /// Its name.
    pub name: Cow<'static, str>,
    /// The line of its start tag.
    pub line: u32,
    /// The slot of its model the last child matched.
    pub slot: usize,
    /// How many children matched that slot.
    pub count: u32,
    /// The name of its last child, for "out of order" messages.
    pub last: &'static str,
}

/// `<a>`, or `<a> or <b>` for a choice.
fn slot_names(slot: &Slot) -> String {
    slot.children
        .iter()
        .map(|c| format!("<{}>", c.name))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The error for `frame` missing the required `slot`.
pub(super) fn missing(frame: &Frame, slot: &Slot) -> EdexmlError {
    EdexmlError::new(
        frame.line,
        format!(
            "element <{}> is missing required {}",
            frame.name,
            slot_names(slot)
        ),
    )
}

/// Match child `name` of `frame` against its model: the child, or why it does not fit.
pub(super) fn advance(
    frame: &mut Frame,
    name: &str,
    line: u32,
) -> Result<&'static Child, EdexmlError> {
    let slots = model(frame.kind);
    let found = slots
        .iter()
        .enumerate()
        .skip(frame.slot)
        .find_map(|(i, s)| {
            let child = s.children.iter().find(|c| c.name == name)?;
            (i > frame.slot || frame.count == 0 || s.many).then_some((i, child))
        });
    let Some((i, child)) = found else {
        let known = slots
            .iter()
            .position(|s| s.children.iter().any(|c| c.name == name));
        let message = match known {
            Some(k) if k == frame.slot => {
                format!(
                    "element <{name}> appears more than once in <{}>",
                    frame.name
                )
            }
            Some(_) => format!(
                "element <{name}> is out of order in <{}>: it must come before <{}>",
                frame.name, frame.last
            ),
            None => format!("unknown element <{}> in <{}>", short(name), frame.name),
        };
        return Err(EdexmlError::new(line, message));
    };
    for (j, slot) in slots.iter().enumerate().take(i).skip(frame.slot) {
        if slot.required && !(j == frame.slot && frame.count > 0) {
            return Err(missing(frame, slot));
        }
    }
    frame.count = if i == frame.slot {
        frame.count.saturating_add(1)
    } else {
        1
    };
    frame.slot = i;
    frame.last = child.name;
    Ok(child)
}

/// `EDEXJaargroepType` in 1.0.3.
const JAARGROEP_1: &[&str] = &[
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "11", "12", "13", "S", "H",
];
/// What `EDEXJaargroepType` added in 2.0.
const JAARGROEP_2: &[&str] = &["B", "D", "14", "15", "16", "V", "C", "N"];
/// `EDEXLeerkrachtRolType` in 2.0.
const ROL_2: &[&str] = &[
    "ADJ", "ADM", "CON", "DIR", "ICT", "IB", "KLA", "LRK", "LOS", "LOC", "OWA", "OUD", "RT", "SMW",
    "STA", "VAK",
];
/// What `EDEXLeerkrachtRolType` added in 2.1.
const ROL_21: &[&str] = &["TAL"];

/// The simple type of a text element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Value {
    /// A string of `min..=max` characters (after trimming).
    Str(usize, usize),
    /// `xs:string`: anything.
    Any,
    /// `xs:date`.
    Date,
    /// `xs:dateTime`.
    DateTime,
    /// `min..=max` ASCII digits.
    Digits(usize, usize),
    /// Two digits, two capitals (`EDEXBrincodeType`).
    Brin,
    /// Four digits, two capitals (`EDEXPostcodeNlType`).
    PostcodeNl,
    /// `?` or a two-capital ISO 3166 code (`EDEXLandType`; its long enumeration is not
    /// repeated here, only its form).
    Land,
    /// `YYYY-YYYY+1` (`EDEXSchooljaarType`, whose enumeration stops at a fixed year).
    Schooljaar,
    /// One of an enumeration.
    Enum(&'static [&'static str]),
    /// `EDEXJaargroepType` (the 2.0 values need 2.0).
    Jaargroep,
    /// `EDEXLeerkrachtRolType` (`TAL` needs 2.1).
    Rol,
}

/// The simple type of the text element `name`.
pub(super) fn value_type(name: &str) -> Value {
    match name {
        "schooljaar" => Value::Schooljaar,
        "peildatum" | "geboortedatum" | "start_ondw_jgr3" | "instroomdatum" | "uitstroomdatum" => {
            Value::Date
        }
        "aanmaakdatum" | "mutatiedatum" => Value::DateTime,
        "brincode" => Value::Brin,
        "dependancecode" => Value::Digits(2, 2),
        "instellingsnummer" => Value::Digits(2, 6),
        "schoolkey" => Value::Str(1, 256),
        "auteur" => Value::Str(1, 128),
        "xsdversie" | "postcodeoverig" => Value::Str(1, 32),
        "commentaar" => Value::Any,
        "naam" | "roepnaam" | "gebruikersnaam" | "rolomschrijving" | "code" => Value::Str(1, 64),
        "omschrijving" | "emailadres" | "fotourl" => Value::Str(1, 256),
        "achternaam" | "voornamen" => Value::Str(1, 200),
        "voorvoegsel" => Value::Str(1, 10),
        "voorletters-1" => Value::Str(1, 6),
        "jaargroep" => Value::Jaargroep,
        "geslacht" => Value::Enum(&["0", "1", "2", "9"]),
        "etniciteit" => Value::Enum(&["9", "0", "1"]),
        "land" | "land_vader" | "land_moeder" => Value::Land,
        "sofinummer" | "bsn" | "onderwijsnummer" => Value::Digits(9, 9),
        "bsn_ondwnr-4" | "postnummerbe" => Value::Digits(4, 4),
        "rijksregisternummer" => Value::Digits(11, 11),
        "gewicht_nieuw" => Value::Enum(&["?", "0", "0,3", "1,2"]),
        "gewicht" => Value::Enum(&["?", "0.00", "0.25", "0.40", "0.70", "0.90"]),
        "postcodenl" => Value::PostcodeNl,
        "rol" => Value::Rol,
        _ => Value::Any,
    }
}

/// Check `v` (trimmed) against its type: `Ok(since)`, the version the value needs, or why it
/// is not valid (to follow `<x> "value" of …`).
pub(super) fn check_value(ty: Value, v: &str) -> Result<Version, String> {
    let chars = v.chars().count();
    match ty {
        Value::Str(min, max) => {
            if chars < min {
                Err("is empty".into())
            } else if chars > max {
                Err(format!("is longer than {max} characters"))
            } else {
                Ok(V1)
            }
        }
        Value::Any => Ok(V1),
        Value::Date => date(v)
            .then_some(V1)
            .ok_or_else(|| "is not a date (YYYY-MM-DD)".into()),
        Value::DateTime => date_time(v)
            .then_some(V1)
            .ok_or_else(|| "is not a date and time (YYYY-MM-DDThh:mm:ss)".into()),
        Value::Digits(min, max) => {
            let ok = (min..=max).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit());
            if ok {
                Ok(V1)
            } else if min == max {
                Err(format!("is not {min} digits"))
            } else {
                Err(format!("is not {min} to {max} digits"))
            }
        }
        Value::Brin => shape(v, 2, 2)
            .then_some(V1)
            .ok_or_else(|| "is not a BRIN code (two digits, two capitals: 99ZZ)".into()),
        Value::PostcodeNl => shape(v, 4, 2)
            .then_some(V1)
            .ok_or_else(|| "is not a Dutch postcode (9999XX)".into()),
        Value::Land => {
            let ok = v == "?" || (v.len() == 2 && v.bytes().all(|b| b.is_ascii_uppercase()));
            ok.then_some(V1)
                .ok_or_else(|| "is not a country code (two capitals, or ?)".into())
        }
        Value::Schooljaar => schooljaar(v)
            .then_some(V1)
            .ok_or_else(|| "is not a school year YYYY-YYYY+1 (2014-2015)".into()),
        Value::Enum(values) => {
            if values.contains(&v) {
                Ok(V1)
            } else {
                Err(format!("is not one of {}", values.join(", ")))
            }
        }
        Value::Jaargroep => {
            if JAARGROEP_1.contains(&v) {
                Ok(V1)
            } else if JAARGROEP_2.contains(&v) {
                Ok(V2)
            } else {
                Err(format!(
                    "is not a jaargroep ({}, {})",
                    JAARGROEP_1.join(", "),
                    JAARGROEP_2.join(", ")
                ))
            }
        }
        Value::Rol => {
            if ROL_2.contains(&v) {
                Ok(V2)
            } else if ROL_21.contains(&v) {
                Ok(Version::V2_1)
            } else {
                Err(format!(
                    "is not a role ({}, {})",
                    ROL_2.join(", "),
                    ROL_21.join(", ")
                ))
            }
        }
    }
}

/// `digits` ASCII digits then `capitals` ASCII capitals.
fn shape(v: &str, digits: usize, capitals: usize) -> bool {
    let b = v.as_bytes();
    b.len() == digits + capitals
        && b.iter().take(digits).all(u8::is_ascii_digit)
        && b.iter().skip(digits).all(u8::is_ascii_uppercase)
}

/// `YYYY-YYYY+1`.
fn schooljaar(v: &str) -> bool {
    let b = v.as_bytes();
    if b.len() != 9 || b.get(4) != Some(&b'-') {
        return false;
    }
    let year = |s: &[u8]| -> Option<u32> {
        if s.len() == 4 && s.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(s).ok()?.parse().ok()
        } else {
            None
        }
    };
    match (b.get(..4).and_then(year), b.get(5..).and_then(year)) {
        (Some(from), Some(to)) => to == from + 1,
        _ => false,
    }
}

/// A number of exactly `len` ASCII digits.
fn num(s: &str, len: usize) -> Option<u32> {
    if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// An `xs:date` (`YYYY-MM-DD`, optionally with a time zone), a real calendar date.
fn date(v: &str) -> bool {
    let (Some(day), Some(rest)) = (v.get(..10), v.get(10..)) else {
        return false;
    };
    calendar_date(day) && time_zone(rest)
}

/// `YYYY-MM-DD`.
fn calendar_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return false;
    }
    let parts = (
        s.get(..4).and_then(|y| num(y, 4)),
        s.get(5..7).and_then(|m| num(m, 2)),
        s.get(8..).and_then(|d| num(d, 2)),
    );
    match parts {
        (Some(y), Some(m), Some(d)) => {
            i32::try_from(y).is_ok_and(|y| chrono::NaiveDate::from_ymd_opt(y, m, d).is_some())
        }
        _ => false,
    }
}

/// Nothing, `Z`, or `+hh:mm` / `-hh:mm`.
fn time_zone(s: &str) -> bool {
    if s.is_empty() || s == "Z" {
        return true;
    }
    let b = s.as_bytes();
    b.len() == 6
        && matches!(b.first(), Some(b'+' | b'-'))
        && b.get(3) == Some(&b':')
        && s.get(1..3).and_then(|h| num(h, 2)).is_some_and(|h| h <= 14)
        && s.get(4..).and_then(|m| num(m, 2)).is_some_and(|m| m <= 59)
}

/// An `xs:dateTime`: `YYYY-MM-DDThh:mm:ss`, optional fraction, optional time zone.
fn date_time(v: &str) -> bool {
    let (Some(day), Some(t), Some(time)) = (v.get(..10), v.get(10..11), v.get(11..)) else {
        return false;
    };
    if !calendar_date(day) || t != "T" {
        return false;
    }
    let (Some(hms), Some(mut rest)) = (time.get(..8), time.get(8..)) else {
        return false;
    };
    let b = hms.as_bytes();
    let ok = b.get(2) == Some(&b':')
        && b.get(5) == Some(&b':')
        && hms
            .get(..2)
            .and_then(|h| num(h, 2))
            .is_some_and(|h| h <= 23)
        && hms
            .get(3..5)
            .and_then(|m| num(m, 2))
            .is_some_and(|m| m <= 59)
        && hms
            .get(6..)
            .and_then(|s| num(s, 2))
            .is_some_and(|s| s <= 60);
    if !ok {
        return false;
    }
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = frac.get(digits..).unwrap_or_default();
    }
    time_zone(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_types() {
        assert_eq!(check_value(Value::Schooljaar, "2031-2032"), Ok(V1));
        assert!(check_value(Value::Schooljaar, "2031-2040").is_err());
        assert!(check_value(Value::Schooljaar, "2031/2032").is_err());
        assert!(check_value(Value::Date, "2006-06-21").is_ok());
        assert!(check_value(Value::Date, "2006-06-21Z").is_ok());
        assert!(check_value(Value::Date, "2006-02-30").is_err());
        assert!(check_value(Value::Date, "21-06-2006").is_err());
        assert!(check_value(Value::DateTime, "2014-11-25T14:33:33").is_ok());
        assert!(check_value(Value::DateTime, "2014-11-25T14:33:33.125+01:00").is_ok());
        assert!(check_value(Value::DateTime, "2014-11-25 14:33:33").is_err());
        assert!(check_value(Value::Brin, "99ZZ").is_ok());
        assert!(check_value(Value::Brin, "99zz").is_err());
        assert_eq!(check_value(Value::Jaargroep, "H"), Ok(V1));
        assert_eq!(check_value(Value::Jaargroep, "C"), Ok(V2));
        assert!(check_value(Value::Jaargroep, "9").is_err());
        assert_eq!(check_value(Value::Rol, "TAL"), Ok(Version::V2_1));
        assert!(check_value(Value::Rol, "XYZ").is_err());
        assert!(check_value(Value::Str(1, 6), "ABCDEFG").is_err());
        assert!(check_value(Value::Str(1, 6), "ÄÖÜÉÈÊ").is_ok());
    }
}
