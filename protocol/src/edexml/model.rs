//! What [`super::parse`] returns: the school, its vestigingen, groepen, leerlingen and
//! leerkrachten as the file holds them (values trimmed, keys exactly as written), and the
//! error it refuses a file with.

use std::fmt;

/// The EDEXML versions read. They are ordered: each is a superset of the one before
/// (2.0 added vestigingen, samengestelde groepen, roles, e-mail…; 2.1 added only `@eckid`
/// and the role `TAL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// EDEXML 1.0.3 (`<xsdversie>1.03</xsdversie>` or `1.0.3`).
    V1_0_3,
    /// EDEXML 2.0.
    V2_0,
    /// EDEXML 2.1.
    V2_1,
}

impl Version {
    /// The version as it is written: `"1.0.3"`, `"2.0"`, `"2.1"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1_0_3 => "1.0.3",
            Version::V2_0 => "2.0",
            Version::V2_1 => "2.1",
        }
    }

    /// The version a `<xsdversie>` value names, if it is one of the versions read.
    pub fn from_xsdversie(value: &str) -> Option<Version> {
        match value.trim() {
            "1.0.3" | "1.03" => Some(Version::V1_0_3),
            "2.0" | "2.00" => Some(Version::V2_0),
            "2.1" | "2.10" => Some(Version::V2_1),
            _ => None,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the file names its school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchoolId {
    /// A Dutch school: `<brincode>` (`99ZZ`) and the optional `<dependancecode>` (`00`, kept as
    /// written; the schema says `00` means the same as none).
    Brin {
        /// The BRIN code, four characters (two digits, two capitals).
        brin: String,
        /// The two-digit dependance code, when the file has one.
        dependance: Option<String>,
    },
    /// A Flemish school: `<instellingsnummer>` (2 to 6 digits), EDEXML 2.0 and later.
    Instellingsnummer(String),
}

/// One EDEXML file, read and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edexml {
    /// The version the file declares in `<xsdversie>`, or else the lowest version whose
    /// schema accepts it (see the module documentation).
    pub version: Version,
    /// The school the file is about.
    pub school: SchoolId,
    /// The school year, `YYYY-YYYY+1` (`2014-2015`).
    pub schooljaar: String,
    /// The vestigingen (locations); always empty in 1.0.3.
    pub vestigingen: Vec<Vestiging>,
    /// The groepen (classes), in file order.
    pub groepen: Vec<Groep>,
    /// The samengestelde groepen (composed groups), in file order; always empty in 1.0.3.
    pub samengestelde_groepen: Vec<SamengesteldeGroep>,
    /// The leerlingen (pupils), in file order; at least one.
    pub leerlingen: Vec<Leerling>,
    /// The leerkrachten (teachers and other staff), in file order.
    pub leerkrachten: Vec<Leerkracht>,
}

/// A vestiging (a school location), EDEXML 2.0 and later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vestiging {
    /// Its `@key`, unique among the vestigingen.
    pub key: String,
    /// Its `<naam>`.
    pub naam: String,
}

/// A groep (a class).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Groep {
    /// Its `@key`, unique among the groepen and samengestelde groepen.
    pub key: String,
    /// Its `<naam>`.
    pub naam: String,
    /// Its `<jaargroep>` (`0`…`8`, `S`, `H`, …); the schema requires it, so it is always
    /// `Some` for a file that was accepted.
    pub jaargroep: Option<String>,
    /// Always `None`: EDEXML 1.0.3–2.1 link a vestiging to leerlingen, not to groepen (see
    /// [`Leerling::vestiging`]). Kept so that a later version can fill it.
    pub vestiging: Option<String>,
    /// The line of its start tag.
    pub line: u32,
}

/// A samengestelde groep (a group composed across classes), EDEXML 2.0 and later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamengesteldeGroep {
    /// Its `@key`, unique among the groepen and samengestelde groepen.
    pub key: String,
    /// Its `<naam>`.
    pub naam: String,
    /// Always `None`, as for [`Groep::vestiging`].
    pub vestiging: Option<String>,
    /// The line of its start tag.
    pub line: u32,
}

/// What a leerling and a leerkracht have alike: their key, ECK-iD, names, login name and
/// e-mail address, and where they are in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Persoon {
    /// Its `@key`, unique among the leerlingen (or the leerkrachten).
    pub key: String,
    /// Its `@eckid` (2.1), trimmed and otherwise as written (not checked against the
    /// ECK-iD format: the importer decides); unique across the whole file.
    pub eckid: Option<String>,
    /// Its `<achternaam>`; empty when the file gives only a `<roepnaam>` (the schema
    /// allows a person with a roepnaam alone).
    pub achternaam: String,
    /// Its `<voorvoegsel>` (`van`, `de`, `van 't`).
    pub voorvoegsel: Option<String>,
    /// Its `<roepnaam>` (the first name used).
    pub roepnaam: Option<String>,
    /// Its `<voorletters-1>` (initials).
    pub voorletters: Option<String>,
    /// Its `<voornamen>` (all first names, 2.0).
    pub voornamen: Option<String>,
    /// Its `<gebruikersnaam>` (the login name the school gave it, 2.0).
    pub gebruikersnaam: Option<String>,
    /// Its `<emailadres>` (2.0), as written (not checked).
    pub emailadres: Option<String>,
    /// The line of its start tag.
    pub line: u32,
}

/// A leerling (a pupil).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leerling {
    pub persoon: Persoon,
    /// Its `<geboortedatum>`, `YYYY-MM-DD` (a checked calendar date).
    pub geboortedatum: Option<String>,
    /// Its `<geslacht>`: `0` unknown, `1` male, `2` female, `9` not specified.
    pub geslacht: Option<String>,
    /// Its `<jaargroep>`. In 1.0.3 a leerling has either a jaargroep or a groep.
    pub jaargroep: Option<String>,
    /// The key of its stamgroep (`<groep key>`); it refers to a groep in the file.
    pub groep: Option<String>,
    /// The keys of its samengestelde groepen (2.0), each referring to one in the file,
    /// without repeats.
    pub samengestelde_groepen: Vec<String>,
    /// The key of its vestiging (`<vestiging key>`, 2.0); it refers to a vestiging in the file.
    pub vestiging: Option<String>,
    /// Its `<uitstroomdatum>` (the date it leaves or left), `YYYY-MM-DD`.
    pub uitstroomdatum: Option<String>,
}

/// A leerkracht (a teacher, or other staff with a role).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leerkracht {
    pub persoon: Persoon,
    /// The keys of its groepen (`<groepen><groep key>`), without repeats.
    pub groepen: Vec<String>,
    /// The keys of its samengestelde groepen (`<groepen><samengestelde_groep key>`, 2.0),
    /// without repeats.
    pub samengestelde_groepen: Vec<String>,
    /// Its roles for the school (`<rol>` directly in `<leerkracht>`, 2.0): `IB`, `RT`, `ICT`,
    /// `TAL` (2.1), … as written, without repeats. The free-text `<rolomschrijving>` is not kept.
    pub rollen: Vec<String>,
    /// Its roles for one groep or samengestelde groep (`<groepen><groep key="G"><rol>STA</rol>`,
    /// 2.0): `(key, rol)` pairs in file order, without repeats.
    pub groep_rollen: Vec<(String, String)>,
}

/// Why a file is refused: the first error found, with its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}: {message}")]
pub struct EdexmlError {
    /// The 1-based line the error is on: the start tag of the element at fault, or where the
    /// XML stops being readable. A refusal of the whole file (too large, not decodable at
    /// all) is on line 1.
    pub line: u32,
    /// What is wrong, in English (`element <groep> is missing required <naam>`).
    pub message: String,
}

impl EdexmlError {
    /// An error on `line`.
    pub fn new(line: u32, message: impl Into<String>) -> Self {
        EdexmlError {
            line,
            message: message.into(),
        }
    }
}
