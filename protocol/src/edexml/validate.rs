//! The validator the reader feeds, element by element: content models ([`super::schema`]),
//! attributes, simple types, versions, key uniqueness and keyref integrity, and the records it
//! builds on the way. The schema puts `<vestigingen>` and `<groepen>` before `<leerlingen>`
//! and `<leerkrachten>`, so every reference is checked when it is read.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::decode::{is_blank, short, xml_trim};
use super::model::{
    Edexml, EdexmlError, Groep, Leerkracht, Leerling, Persoon, SamengesteldeGroep, SchoolId,
    Version, Vestiging,
};
use super::schema::{self, advance, missing, Frame, Kind};
use super::MAX_TEXT;

/// The two kinds of group, which share one key space (`groepKeyUnique` over `groepen/*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GroupKind {
    Groep,
    Samengesteld,
}

impl GroupKind {
    fn noun(self) -> &'static str {
        match self {
            GroupKind::Groep => "groep",
            GroupKind::Samengesteld => "samengestelde groep",
        }
    }
}

/// `<school>`'s values while it is read.
#[derive(Debug, Default)]
struct SchoolValues {
    schooljaar: Option<String>,
    brin: Option<String>,
    dependance: Option<String>,
    instellingsnummer: Option<String>,
}

/// The state of one validation.
#[derive(Debug, Default)]
pub(super) struct Validator {
    frames: Vec<Frame>,
    /// The text of the open text element.
    text: String,
    /// The version `<xsdversie>` declares, and its line.
    declared: Option<(Version, u32)>,
    /// The lowest version that has everything seen so far.
    needed: Option<Version>,
    /// What needs a later version, seen in `<school>` before `<xsdversie>`.
    pending: Vec<(Version, u32, String)>,
    school_done: bool,
    school_values: SchoolValues,
    school: Option<SchoolId>,
    schooljaar: String,
    vestigingen: Vec<Vestiging>,
    groepen: Vec<Groep>,
    samengestelde_groepen: Vec<SamengesteldeGroep>,
    leerlingen: Vec<Leerling>,
    leerkrachten: Vec<Leerkracht>,
    vestiging_keys: HashMap<String, u32>,
    groep_keys: HashMap<String, (GroupKind, u32)>,
    leerling_keys: HashMap<String, u32>,
    leerkracht_keys: HashMap<String, u32>,
    eckids: HashMap<String, (String, u32)>,
    vestiging: Option<Vestiging>,
    groep: Option<Groep>,
    samengestelde_groep: Option<SamengesteldeGroep>,
    leerling: Option<Leerling>,
    leerkracht: Option<Leerkracht>,
    /// The key of the open `<groep>` / `<samengestelde_groep>` in a leerkracht's `<groepen>`.
    leerkracht_groep: Option<String>,
    /// What the open leerling or leerkracht lists.
    listed: HashSet<Listed>,
}

fn err(line: u32, message: impl Into<String>) -> EdexmlError {
    EdexmlError::new(line, message)
}

/// What the open leerling or leerkracht already lists, so that a repeat is left out in
/// constant time (a hostile file can list a groep many times).
#[derive(Debug, PartialEq, Eq, Hash)]
enum Listed {
    Groep(String),
    Samengesteld(String),
    Rol(String),
    GroepRol(String, String),
}

/// Add `item` to `list` unless `seen` has `listed`.
fn push_new<T>(seen: &mut HashSet<Listed>, listed: Listed, list: &mut Vec<T>, item: T) {
    if seen.insert(listed) {
        list.push(item);
    }
}

impl Validator {
    /// A validator before the root element.
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// How many elements are open.
    pub(super) fn depth(&self) -> usize {
        self.frames.len()
    }

    /// The innermost open element and its line.
    pub(super) fn innermost(&self) -> Option<(&str, u32)> {
        self.frames.last().map(|f| (f.name.as_ref(), f.line))
    }

    /// Whether the innermost open element takes text (a text element, or extension content).
    fn takes_text(&self) -> bool {
        matches!(
            self.frames.last().map(|f| f.kind),
            Some(Kind::Field | Kind::Skip | Kind::Blok)
        )
    }

    /// Note that something on `line` (`what`) needs version `v`: refused when the file declares
    /// an earlier one, else remembered for the version inferred.
    fn need(
        &mut self,
        v: Version,
        line: u32,
        what: impl FnOnce() -> String,
    ) -> Result<(), EdexmlError> {
        if v == Version::V1_0_3 {
            return Ok(());
        }
        match self.declared {
            Some((declared, at)) if v > declared => Err(err(
                line,
                format!(
                    "{} is not allowed in EDEXML {declared} (declared by <xsdversie> on line {at}); it came with EDEXML {v}",
                    what()
                ),
            )),
            Some(_) => Ok(()),
            None => {
                self.needed = self.needed.max(Some(v));
                if !self.school_done {
                    self.pending.push((v, line, what()));
                }
                Ok(())
            }
        }
    }

    /// `<xsdversie>` read: the version is declared, and what came before it is checked.
    fn declare(&mut self, value: &str, line: u32) -> Result<(), EdexmlError> {
        let Some(v) = Version::from_xsdversie(value) else {
            return Err(err(
                line,
                format!(
                    "<xsdversie> {:?} is not an EDEXML version read here (1.0.3, 2.0, 2.1)",
                    short(value)
                ),
            ));
        };
        self.declared = Some((v, line));
        for (needs, at, what) in std::mem::take(&mut self.pending) {
            self.need(needs, at, || what)?;
        }
        Ok(())
    }

    /// Who the open record is, for messages: `leerling '00001'`.
    fn owner(&self) -> String {
        if let Some(l) = &self.leerling {
            format!("leerling '{}'", short(&l.persoon.key))
        } else if let Some(l) = &self.leerkracht {
            format!("leerkracht '{}'", short(&l.persoon.key))
        } else if let Some(g) = &self.groep {
            format!("groep '{}'", short(&g.key))
        } else if let Some(g) = &self.samengestelde_groep {
            format!("samengestelde groep '{}'", short(&g.key))
        } else if let Some(v) = &self.vestiging {
            format!("vestiging '{}'", short(&v.key))
        } else {
            "<school>".into()
        }
    }

    /// A `key` attribute's value, checked as `EDEXKeyType` (1 to 64 characters, 256 in 2.1).
    fn key(&mut self, element: &str, value: &str, line: u32) -> Result<String, EdexmlError> {
        let n = value.chars().count();
        if n == 0 {
            return Err(err(line, format!("attribute key of <{element}> is empty")));
        }
        if n > 256 {
            return Err(err(
                line,
                format!("attribute key of <{element}> is longer than 256 characters"),
            ));
        }
        if n > 64 {
            self.need(Version::V2_1, line, || {
                format!("a key of more than 64 characters on <{element}>")
            })?;
        }
        Ok(value.to_owned())
    }

    /// A key defined on `line`, unique among `keys`.
    fn unique(
        keys: &mut HashMap<String, u32>,
        noun: &str,
        key: &str,
        line: u32,
    ) -> Result<(), EdexmlError> {
        if let Some(first) = keys.get(key) {
            return Err(err(
                line,
                format!(
                    "duplicate key: {noun} '{}' is already defined on line {first}",
                    short(key)
                ),
            ));
        }
        keys.insert(key.to_owned(), line);
        Ok(())
    }

    /// A groep or samengestelde groep key, unique among both.
    fn unique_group(&mut self, kind: GroupKind, key: &str, line: u32) -> Result<(), EdexmlError> {
        if let Some((other, first)) = self.groep_keys.get(key) {
            let message = if *other == kind {
                format!(
                    "duplicate key: {} '{}' is already defined on line {first}",
                    kind.noun(),
                    short(key)
                )
            } else {
                format!(
                    "duplicate key: {} '{}' has the key of the {} on line {first}",
                    kind.noun(),
                    short(key),
                    other.noun()
                )
            };
            return Err(err(line, message));
        }
        self.groep_keys.insert(key.to_owned(), (kind, line));
        Ok(())
    }

    /// A reference from the open record to a groep or samengestelde groep.
    fn group_ref(&self, want: GroupKind, key: &str, line: u32) -> Result<(), EdexmlError> {
        let base = format!(
            "keyref: {} refers to unknown {} '{}'",
            self.owner(),
            want.noun(),
            short(key)
        );
        match self.groep_keys.get(key) {
            Some((kind, _)) if *kind == want => Ok(()),
            Some((kind, at)) => Err(err(
                line,
                format!("{base} (that key is the {} on line {at})", kind.noun()),
            )),
            None => Err(err(line, base)),
        }
    }

    /// An `eckid` attribute: trimmed, 1 to 256 characters, unique across the file.
    fn eckid(&mut self, who: String, value: &str, line: u32) -> Result<String, EdexmlError> {
        let value = xml_trim(value);
        if value.is_empty() {
            return Err(err(line, format!("attribute eckid of {who} is empty")));
        }
        if value.chars().count() > 256 {
            return Err(err(
                line,
                format!("attribute eckid of {who} is longer than 256 characters"),
            ));
        }
        self.need(Version::V2_1, line, || format!("attribute eckid on {who}"))?;
        if let Some((first, at)) = self.eckids.get(value) {
            return Err(err(
                line,
                format!("duplicate eckid: {who} has the eckid of {first} (line {at})"),
            ));
        }
        self.eckids.insert(value.to_owned(), (who, line));
        Ok(value.to_owned())
    }

    /// A start tag on `line`: `name` and its unprefixed attributes (no `xmlns`).
    pub(super) fn start(
        &mut self,
        name: &str,
        attrs: &[(String, String)],
        line: u32,
    ) -> Result<(), EdexmlError> {
        let (kind, name): (Kind, Cow<'static, str>) = match self.frames.last_mut() {
            None if name == "EDEX" => (Kind::Edex, Cow::Borrowed("EDEX")),
            None => {
                return Err(err(
                    line,
                    format!("the root element must be <EDEX>, not <{}>", short(name)),
                ))
            }
            Some(parent) => match parent.kind {
                Kind::Skip => (Kind::Skip, Cow::Owned(name.to_owned())),
                Kind::Blok if parent.count == 0 && name != "code" => {
                    return Err(err(
                        parent.line,
                        "element <blok> is missing required <code>",
                    ))
                }
                Kind::Blok if parent.count > 0 => (Kind::Skip, Cow::Owned(name.to_owned())),
                Kind::Field => {
                    return Err(err(
                        line,
                        format!(
                            "element <{}> is not allowed in <{}>, which holds text only",
                            short(name),
                            parent.name
                        ),
                    ))
                }
                _ => {
                    let parent_name = parent.name.clone();
                    let child = advance(parent, name, line)?;
                    self.need(child.since, line, || {
                        format!("element <{}> in <{parent_name}>", child.name)
                    })?;
                    (child.kind, Cow::Borrowed(child.name))
                }
            },
        };
        let mut key = None;
        let mut eckid = None;
        for (attr, value) in attrs {
            match attr.as_str() {
                "key" if kind.has_key() => key = Some(self.key(&name, value, line)?),
                "eckid" if kind.has_eckid() => eckid = Some(value.as_str()),
                _ if kind == Kind::Skip => {}
                _ => {
                    return Err(err(
                        line,
                        format!("unknown attribute {} on <{name}>", short(attr)),
                    ))
                }
            }
        }
        let key = match (kind.has_key(), key) {
            (true, None) => {
                return Err(err(
                    line,
                    format!("element <{name}> is missing required attribute key"),
                ))
            }
            (_, key) => key.unwrap_or_default(),
        };
        self.open(kind, &name, key, eckid, line)?;
        self.frames.push(Frame {
            kind,
            name,
            line,
            slot: 0,
            count: 0,
            last: "",
        });
        Ok(())
    }

    /// What a start tag does: a new record, a key, a reference.
    fn open(
        &mut self,
        kind: Kind,
        name: &str,
        key: String,
        eckid: Option<&str>,
        line: u32,
    ) -> Result<(), EdexmlError> {
        match kind {
            Kind::Vestiging => {
                Self::unique(&mut self.vestiging_keys, "vestiging", &key, line)?;
                self.vestiging = Some(Vestiging {
                    key,
                    naam: String::new(),
                });
            }
            Kind::Groep => {
                self.unique_group(GroupKind::Groep, &key, line)?;
                self.groep = Some(Groep {
                    key,
                    naam: String::new(),
                    jaargroep: None,
                    vestiging: None,
                    line,
                });
            }
            Kind::SamGroep => {
                self.unique_group(GroupKind::Samengesteld, &key, line)?;
                self.samengestelde_groep = Some(SamengesteldeGroep {
                    key,
                    naam: String::new(),
                    vestiging: None,
                    line,
                });
            }
            Kind::Leerling => {
                Self::unique(&mut self.leerling_keys, "leerling", &key, line)?;
                self.listed.clear();
                let who = format!("leerling '{}'", short(&key));
                let eckid = eckid.map(|e| self.eckid(who, e, line)).transpose()?;
                self.leerling = Some(Leerling {
                    persoon: Persoon {
                        key,
                        eckid,
                        line,
                        ..Persoon::default()
                    },
                    ..Leerling::default()
                });
            }
            Kind::Leerkracht => {
                Self::unique(&mut self.leerkracht_keys, "leerkracht", &key, line)?;
                self.listed.clear();
                let who = format!("leerkracht '{}'", short(&key));
                let eckid = eckid.map(|e| self.eckid(who, e, line)).transpose()?;
                self.leerkracht = Some(Leerkracht {
                    persoon: Persoon {
                        key,
                        eckid,
                        line,
                        ..Persoon::default()
                    },
                    ..Leerkracht::default()
                });
            }
            Kind::LlGroep => {
                self.group_ref(GroupKind::Groep, &key, line)?;
                if self
                    .leerling
                    .as_ref()
                    .is_some_and(|l| l.jaargroep.is_some())
                {
                    self.need(Version::V2_0, line, || {
                        "a leerling with both <jaargroep> and <groep>".into()
                    })?;
                }
                if let Some(l) = &mut self.leerling {
                    l.groep = Some(key);
                }
            }
            Kind::LlSamGroep => {
                self.group_ref(GroupKind::Samengesteld, &key, line)?;
                if let Some(l) = &mut self.leerling {
                    let listed = Listed::Samengesteld(key.clone());
                    push_new(&mut self.listed, listed, &mut l.samengestelde_groepen, key);
                }
            }
            Kind::LlVestiging => {
                if !self.vestiging_keys.contains_key(&key) {
                    return Err(err(
                        line,
                        format!(
                            "keyref: {} refers to unknown vestiging '{}'",
                            self.owner(),
                            short(&key)
                        ),
                    ));
                }
                if let Some(l) = &mut self.leerling {
                    l.vestiging = Some(key);
                }
            }
            Kind::LkGroep | Kind::LkSamGroep => {
                let group = if kind == Kind::LkGroep {
                    GroupKind::Groep
                } else {
                    GroupKind::Samengesteld
                };
                self.group_ref(group, &key, line)?;
                if let Some(l) = &mut self.leerkracht {
                    let (listed, list) = match group {
                        GroupKind::Groep => (Listed::Groep(key.clone()), &mut l.groepen),
                        GroupKind::Samengesteld => (
                            Listed::Samengesteld(key.clone()),
                            &mut l.samengestelde_groepen,
                        ),
                    };
                    push_new(&mut self.listed, listed, list, key.clone());
                }
                self.leerkracht_groep = Some(key);
            }
            Kind::Field => {
                self.text.clear();
                self.before_field(name, line)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// What the flattened `xs:choice`s need before a text element.
    fn before_field(&self, name: &str, line: u32) -> Result<(), EdexmlError> {
        let parent = self.frames.last().map(|f| f.kind);
        let no_achternaam = match parent {
            Some(Kind::Leerling) => self
                .leerling
                .as_ref()
                .is_some_and(|l| l.persoon.achternaam.is_empty()),
            Some(Kind::Leerkracht) => self
                .leerkracht
                .as_ref()
                .is_some_and(|l| l.persoon.achternaam.is_empty()),
            _ => false,
        };
        if no_achternaam && matches!(name, "voorvoegsel" | "voornamen" | "voorletters-1") {
            return Err(err(
                line,
                format!("element <{name}> in {} needs an <achternaam> before it (only a <roepnaam> may stand alone)", self.owner()),
            ));
        }
        if parent == Some(Kind::School)
            && name == "dependancecode"
            && self.school_values.brin.is_none()
        {
            return Err(err(
                line,
                "element <dependancecode> is only allowed after <brincode>",
            ));
        }
        Ok(())
    }

    /// Text (already unescaped) in the innermost element, from `line`.
    pub(super) fn text(&mut self, s: &str, line: u32) -> Result<(), EdexmlError> {
        match self.frames.last() {
            None if is_blank(s) => Ok(()),
            None => Err(err(line, "text outside the root element <EDEX>")),
            Some(f) if f.kind == Kind::Field => {
                if self.text.len() + s.len() > MAX_TEXT {
                    return Err(err(
                        f.line,
                        format!("the text of <{}> is longer than {MAX_TEXT} bytes", f.name),
                    ));
                }
                self.text.push_str(s);
                Ok(())
            }
            Some(_) if self.takes_text() || is_blank(s) => Ok(()),
            Some(f) => Err(err(
                line,
                format!(
                    "unexpected text {:?} in <{}>, which holds elements only",
                    short(xml_trim(s)),
                    f.name
                ),
            )),
        }
    }

    /// An end tag on `line`.
    pub(super) fn end(&mut self, line: u32) -> Result<(), EdexmlError> {
        let Some(frame) = self.frames.pop() else {
            return Err(err(line, "end tag without a start tag"));
        };
        match frame.kind {
            Kind::Skip => Ok(()),
            Kind::Field => self.field(&frame),
            _ => {
                let slots = schema::model(frame.kind);
                for (j, slot) in slots.iter().enumerate().skip(frame.slot) {
                    if slot.required && !(j == frame.slot && frame.count > 0) {
                        return Err(missing(&frame, slot));
                    }
                }
                self.close(&frame)
            }
        }
    }

    /// A complex element closed: its record is complete.
    fn close(&mut self, frame: &Frame) -> Result<(), EdexmlError> {
        let no_name = |achternaam: &str, roepnaam: &Option<String>| {
            achternaam.is_empty() && roepnaam.is_none()
        };
        let missing_name = || {
            err(
                frame.line,
                format!(
                    "element <{}> is missing required <achternaam> (or a <roepnaam> alone)",
                    frame.name
                ),
            )
        };
        match frame.kind {
            Kind::School => {
                let values = std::mem::take(&mut self.school_values);
                self.schooljaar = values.schooljaar.unwrap_or_default();
                self.school = Some(match (values.brin, values.instellingsnummer) {
                    (Some(brin), _) => SchoolId::Brin {
                        brin,
                        dependance: values.dependance,
                    },
                    (None, Some(nummer)) => SchoolId::Instellingsnummer(nummer),
                    (None, None) => {
                        return Err(err(
                            frame.line,
                            "element <school> has neither <brincode> nor <instellingsnummer>: the school cannot be identified",
                        ))
                    }
                });
                self.school_done = true;
                self.pending.clear();
            }
            Kind::Vestiging => self.vestigingen.extend(self.vestiging.take()),
            Kind::Groep => self.groepen.extend(self.groep.take()),
            Kind::SamGroep => self
                .samengestelde_groepen
                .extend(self.samengestelde_groep.take()),
            Kind::Leerling => {
                if let Some(l) = self.leerling.take() {
                    if no_name(&l.persoon.achternaam, &l.persoon.roepnaam) {
                        return Err(missing_name());
                    }
                    self.leerlingen.push(l);
                }
            }
            Kind::Leerkracht => {
                if let Some(l) = self.leerkracht.take() {
                    if no_name(&l.persoon.achternaam, &l.persoon.roepnaam) {
                        return Err(missing_name());
                    }
                    self.leerkrachten.push(l);
                }
            }
            Kind::LkGroep | Kind::LkSamGroep => self.leerkracht_groep = None,
            _ => {}
        }
        Ok(())
    }

    /// A text element closed: its value checked and kept.
    fn field(&mut self, frame: &Frame) -> Result<(), EdexmlError> {
        let value = xml_trim(&self.text).to_owned();
        let name: &str = &frame.name;
        let ty = schema::value_type(name);
        let needs = match schema::check_value(ty, &value) {
            Ok(needs) => needs,
            Err(_) if value.is_empty() => {
                return Err(err(
                    frame.line,
                    format!("element <{name}> of {} is empty", self.owner()),
                ))
            }
            Err(why) => {
                return Err(err(
                    frame.line,
                    format!("<{name}> {:?} of {} {why}", short(&value), self.owner()),
                ))
            }
        };
        self.need(needs, frame.line, || {
            format!("<{name}> {:?}", short(&value))
        })?;
        if name == "achternaam" && value.chars().count() > 70 {
            self.need(Version::V2_0, frame.line, || {
                "an <achternaam> of more than 70 characters".into()
            })?;
        }
        if name == "schoolkey" && value.chars().count() > 64 {
            self.need(Version::V2_1, frame.line, || {
                "a <schoolkey> of more than 64 characters".into()
            })?;
        }
        let parent = self.frames.last().map(|f| f.kind);
        match parent {
            Some(Kind::School) => {
                let s = &mut self.school_values;
                match name {
                    "schooljaar" => s.schooljaar = Some(value),
                    "brincode" => s.brin = Some(value),
                    "dependancecode" => s.dependance = Some(value),
                    "instellingsnummer" => s.instellingsnummer = Some(value),
                    "xsdversie" => self.declare(&value, frame.line)?,
                    _ => {}
                }
            }
            Some(Kind::Vestiging) if name == "naam" => {
                if let Some(v) = &mut self.vestiging {
                    v.naam = value;
                }
            }
            Some(Kind::Groep) => {
                if let Some(g) = &mut self.groep {
                    match name {
                        "naam" => g.naam = value,
                        "jaargroep" => g.jaargroep = Some(value),
                        _ => {}
                    }
                }
            }
            Some(Kind::SamGroep) if name == "naam" => {
                if let Some(g) = &mut self.samengestelde_groep {
                    g.naam = value;
                }
            }
            Some(Kind::Leerling) => {
                if let Some(l) = &mut self.leerling {
                    let slot = match name {
                        "geboortedatum" => &mut l.geboortedatum,
                        "geslacht" => &mut l.geslacht,
                        "jaargroep" => &mut l.jaargroep,
                        "uitstroomdatum" => &mut l.uitstroomdatum,
                        _ => {
                            persoon_field(&mut l.persoon, name, value);
                            return Ok(());
                        }
                    };
                    *slot = Some(value);
                }
            }
            Some(Kind::Leerkracht) => {
                if let Some(l) = &mut self.leerkracht {
                    if name == "rol" {
                        let listed = Listed::Rol(value.clone());
                        push_new(&mut self.listed, listed, &mut l.rollen, value);
                    } else {
                        persoon_field(&mut l.persoon, name, value);
                    }
                }
            }
            Some(Kind::LkGroep | Kind::LkSamGroep) if name == "rol" => {
                if let (Some(l), Some(key)) = (&mut self.leerkracht, &self.leerkracht_groep) {
                    let listed = Listed::GroepRol(key.clone(), value.clone());
                    push_new(
                        &mut self.listed,
                        listed,
                        &mut l.groep_rollen,
                        (key.clone(), value),
                    );
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The end of the document (on `line`): the file, validated.
    pub(super) fn finish(self, line: u32) -> Result<Edexml, EdexmlError> {
        let Some(school) = self.school else {
            return Err(err(line, "the file has no <school>"));
        };
        let version = match self.declared {
            Some((v, _)) => v,
            None => self.needed.unwrap_or(Version::V1_0_3),
        };
        Ok(Edexml {
            version,
            school,
            schooljaar: self.schooljaar,
            vestigingen: self.vestigingen,
            groepen: self.groepen,
            samengestelde_groepen: self.samengestelde_groepen,
            leerlingen: self.leerlingen,
            leerkrachten: self.leerkrachten,
        })
    }
}

/// A text element of a leerling or leerkracht that both have (a name, the login name, the
/// e-mail address); other elements are left alone.
fn persoon_field(p: &mut Persoon, name: &str, value: String) {
    let slot = match name {
        "achternaam" => {
            p.achternaam = value;
            return;
        }
        "voorvoegsel" => &mut p.voorvoegsel,
        "roepnaam" => &mut p.roepnaam,
        "voorletters-1" => &mut p.voorletters,
        "voornamen" => &mut p.voornamen,
        "gebruikersnaam" => &mut p.gebruikersnaam,
        "emailadres" => &mut p.emailadres,
        _ => return,
    };
    *slot = Some(value);
}
