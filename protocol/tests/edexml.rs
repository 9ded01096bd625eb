//! `protocol::edexml`: the repository's own fixtures (`tests/fixtures/edexml/`), refusals with
//! their lines, hostile input, mutations that must not panic, and the two official examples
//! from `../shared/data/edexml/` when that folder is there (required under `CI`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use protocol::edexml::{
    parse, Edexml, EdexmlError, Groep, Leerkracht, Leerling, Persoon, SamengesteldeGroep, SchoolId,
    Version, Vestiging, MAX_BYTES,
};

mod common;
use common::{line_of, with};

fn fixture(name: &str) -> String {
    common::fixture_in("edexml", name)
}

#[track_caller]
fn refused(xml: impl AsRef<[u8]>) -> EdexmlError {
    match parse(xml.as_ref()) {
        Ok(e) => panic!("accepted: {e:?}"),
        Err(e) => e,
    }
}

#[track_caller]
fn refused_at(xml: &str, line: u32, message: &str) {
    let e = refused(xml);
    assert_eq!(e.line, line, "{e}");
    assert!(e.message.contains(message), "{e}\n(expected: {message})");
}

fn persoon(key: &str, line: u32) -> Persoon {
    Persoon {
        key: key.into(),
        eckid: None,
        achternaam: String::new(),
        voorvoegsel: None,
        roepnaam: None,
        voorletters: None,
        voornamen: None,
        gebruikersnaam: None,
        emailadres: None,
        line,
    }
}

fn leerling(key: &str, line: u32) -> Leerling {
    Leerling {
        persoon: persoon(key, line),
        geboortedatum: None,
        geslacht: None,
        jaargroep: None,
        groep: None,
        samengestelde_groepen: vec![],
        vestiging: None,
        uitstroomdatum: None,
    }
}

fn leerkracht(key: &str, line: u32) -> Leerkracht {
    Leerkracht {
        persoon: persoon(key, line),
        groepen: vec![],
        samengestelde_groepen: vec![],
        rollen: vec![],
        groep_rollen: vec![],
    }
}

fn groep(key: &str, naam: &str, jaargroep: &str, line: u32) -> Groep {
    Groep {
        key: key.into(),
        naam: naam.into(),
        jaargroep: Some(jaargroep.into()),
        vestiging: None,
        line,
    }
}

fn s(v: &str) -> Option<String> {
    Some(v.into())
}

#[test]
fn fixture_1_0_3() {
    let got = parse(fixture("v1.0.3.xml").as_bytes()).unwrap();
    let want = Edexml {
        version: Version::V1_0_3,
        school: SchoolId::Brin {
            brin: "12AB".into(),
            dependance: None,
        },
        schooljaar: "2019-2020".into(),
        vestigingen: vec![],
        groepen: vec![
            groep("g1", "Groep 1/2", "1", 12),
            groep("g8", "Groep 8", "8", 16),
        ],
        samengestelde_groepen: vec![],
        leerlingen: vec![
            Leerling {
                persoon: Persoon {
                    achternaam: "Jansen".into(),
                    voorletters: s("P"),
                    roepnaam: s("Pim"),
                    ..leerling("L1", 23).persoon
                },
                geboortedatum: s("2015-03-14"),
                geslacht: s("1"),
                groep: s("g1"),
                ..leerling("L1", 23)
            },
            Leerling {
                persoon: Persoon {
                    roepnaam: s("Noor"),
                    ..leerling("L2", 39).persoon
                },
                jaargroep: s("S"),
                uitstroomdatum: s("2019-07-12"),
                ..leerling("L2", 39)
            },
        ],
        leerkrachten: vec![Leerkracht {
            persoon: Persoon {
                achternaam: "Dijk".into(),
                voorvoegsel: s("van"),
                roepnaam: s("Anna"),
                ..leerkracht("T1", 46).persoon
            },
            groepen: vec!["g1".into(), "g8".into()],
            ..leerkracht("T1", 46)
        }],
    };
    assert_eq!(got, want);
}

#[test]
fn fixture_2_0() {
    let got = parse(fixture("v2.0.xml").as_bytes()).unwrap();
    let want = Edexml {
        version: Version::V2_0,
        school: SchoolId::Brin {
            brin: "12AB".into(),
            dependance: s("01"),
        },
        schooljaar: "2023-2024".into(),
        vestigingen: vec![
            Vestiging {
                key: "HOOFD".into(),
                naam: "Hoofdgebouw".into(),
            },
            Vestiging {
                key: "DEP".into(),
                naam: "Dependance Oost".into(),
            },
        ],
        groepen: vec![
            groep("1A", "Groep 1A", "1", 22),
            groep("5B", "Groep 5B", "5", 29),
        ],
        samengestelde_groepen: vec![SamengesteldeGroep {
            key: "PLUS".into(),
            naam: "Plusklas".into(),
            vestiging: None,
            line: 26,
        }],
        leerlingen: vec![
            Leerling {
                persoon: Persoon {
                    achternaam: "Bakker".into(),
                    voorvoegsel: s("de"),
                    voornamen: s("Sophie Maria"),
                    voorletters: s("SM"),
                    roepnaam: s("Sophie"),
                    gebruikersnaam: s("sophie.b"),
                    emailadres: s("sophie@example.nl"),
                    ..leerling("1001", 36).persoon
                },
                geboortedatum: s("2014-05-01"),
                geslacht: s("2"),
                jaargroep: s("5"),
                groep: s("5B"),
                samengestelde_groepen: vec!["PLUS".into()],
                vestiging: s("HOOFD"),
                ..leerling("1001", 36)
            },
            Leerling {
                persoon: Persoon {
                    achternaam: "Yılmaz".into(),
                    roepnaam: s("Emre"),
                    ..leerling("1002", 54).persoon
                },
                geslacht: s("1"),
                jaargroep: s("1"),
                groep: s("1A"),
                vestiging: s("DEP"),
                ..leerling("1002", 54)
            },
        ],
        leerkrachten: vec![Leerkracht {
            persoon: Persoon {
                achternaam: "Visser".into(),
                roepnaam: s("Mark"),
                emailadres: s("m.visser@example.nl"),
                ..leerkracht("M1", 64).persoon
            },
            rollen: vec!["IB".into(), "ICT".into()],
            groepen: vec!["5B".into()],
            samengestelde_groepen: vec!["PLUS".into()],
            groep_rollen: vec![("5B".into(), "KLA".into())],
        }],
    };
    assert_eq!(got, want);
}

#[test]
fn fixture_2_1() {
    let got = parse(fixture("v2.1.xml").as_bytes()).unwrap();
    assert_eq!(got.version, Version::V2_1);
    assert_eq!(
        got.school,
        SchoolId::Brin {
            brin: "34CD".into(),
            dependance: s("00"),
        }
    );
    assert_eq!(got.schooljaar, "2025-2026");
    assert_eq!(got.groepen, vec![groep("G3", "Groep 3", "3", 16)]);
    assert_eq!(got.samengestelde_groepen.len(), 1);
    assert_eq!(
        got.leerlingen,
        vec![
            Leerling {
                persoon: Persoon {
                    eckid: s("https://ketenid.nl/201703/0123456789abcdef"),
                    achternaam: "Hoek".into(),
                    voorvoegsel: s("van 't"),
                    roepnaam: s("Daan"),
                    ..leerling("A1", 25).persoon
                },
                geboortedatum: s("2018-01-31"),
                geslacht: s("1"),
                jaargroep: s("3"),
                groep: s("G3"),
                samengestelde_groepen: vec!["SG".into()],
                vestiging: s("V1"),
                ..leerling("A1", 25)
            },
            Leerling {
                persoon: Persoon {
                    achternaam: "Müller & Zn".into(),
                    roepnaam: s("Lotte"),
                    ..leerling("A2", 39).persoon
                },
                jaargroep: s("C"),
                uitstroomdatum: s("2025-07-11"),
                ..leerling("A2", 39)
            },
        ]
    );
    assert_eq!(
        got.leerkrachten,
        vec![Leerkracht {
            persoon: Persoon {
                eckid: s("https://ketenid.nl/201703/fedcba9876543210"),
                achternaam: "Smit".into(),
                roepnaam: s("Ilse"),
                ..leerkracht("K1", 47).persoon
            },
            rollen: vec!["TAL".into()],
            groepen: vec!["G3".into()],
            ..leerkracht("K1", 47)
        }]
    );
}

#[test]
fn fixture_flemish() {
    let got = parse(fixture("vlaams.xml").as_bytes()).unwrap();
    // No <xsdversie>: <instellingsnummer> came with 2.0, nothing needs 2.1.
    assert_eq!(got.version, Version::V2_0);
    assert_eq!(got.school, SchoolId::Instellingsnummer("123456".into()));
    assert_eq!(got.schooljaar, "2024-2025");
    assert_eq!(
        got.leerlingen,
        vec![Leerling {
            persoon: Persoon {
                achternaam: "Peeters".into(),
                roepnaam: s("Lucas"),
                ..leerling("B1", 15).persoon
            },
            groep: s("K3"),
            ..leerling("B1", 15)
        }]
    );
    assert!(got.leerkrachten.is_empty() && got.vestigingen.is_empty());
}

#[test]
fn version_without_xsdversie_is_the_lowest_that_fits() {
    let v1 = with(&fixture("v1.0.3.xml"), "<xsdversie>1.03</xsdversie>", "");
    assert_eq!(parse(v1.as_bytes()).unwrap().version, Version::V1_0_3);
    let v2 = with(&fixture("v2.0.xml"), "<xsdversie>2.0</xsdversie>", "");
    assert_eq!(parse(v2.as_bytes()).unwrap().version, Version::V2_0);
    let v21 = with(&fixture("v2.1.xml"), "<xsdversie>2.1</xsdversie>", "");
    assert_eq!(parse(v21.as_bytes()).unwrap().version, Version::V2_1);
    // Only the role TAL needs 2.1.
    let tal = with(&fixture("v2.0.xml"), "<rol>ICT</rol>", "<rol>TAL</rol>");
    let tal = with(&tal, "<xsdversie>2.0</xsdversie>", "");
    assert_eq!(parse(tal.as_bytes()).unwrap().version, Version::V2_1);
    // A 2.1 file that declares 2.1 but uses nothing of it is still 2.1.
    let plain = with(&fixture("v1.0.3.xml"), ">1.03<", ">2.1<");
    assert_eq!(parse(plain.as_bytes()).unwrap().version, Version::V2_1);
    assert_eq!(Version::V1_0_3.as_str(), "1.0.3");
    assert_eq!(Version::V2_0.as_str(), "2.0");
    assert_eq!(Version::V2_1.as_str(), "2.1");
}

#[test]
fn later_features_are_refused_in_a_declared_earlier_version() {
    let v2 = fixture("v2.0.xml");
    let as_103 = with(&v2, ">2.0<", ">1.0.3<");
    // <peildatum> (2.0) comes before <xsdversie>: refused on its own line.
    refused_at(
        &as_103,
        line_of(&as_103, "<peildatum>"),
        "element <peildatum> in <school> is not allowed in EDEXML 1.0.3",
    );
    let as_103 = with(&as_103, "<peildatum>2023-10-01</peildatum>", "");
    refused_at(
        &as_103,
        line_of(&as_103, "<vestigingen>"),
        "element <vestigingen> in <EDEX> is not allowed in EDEXML 1.0.3",
    );
    let v21 = fixture("v2.1.xml");
    let as_20 = with(&v21, ">2.1<", ">2.0<");
    refused_at(
        &as_20,
        line_of(&as_20, "<leerling key=\"A1\""),
        "attribute eckid on leerling 'A1' is not allowed in EDEXML 2.0",
    );
    let tal = with(&fixture("v2.0.xml"), "<rol>ICT</rol>", "<rol>TAL</rol>");
    refused_at(
        &tal,
        line_of(&tal, "<rol>TAL"),
        "<rol> \"TAL\" is not allowed in EDEXML 2.0",
    );
    let c = with(
        &fixture("v1.0.3.xml"),
        "<jaargroep>S</jaargroep>",
        "<jaargroep>C</jaargroep>",
    );
    refused_at(&c, 41, "<jaargroep> \"C\" is not allowed in EDEXML 1.0.3");
    let bad = with(&fixture("v2.0.xml"), ">2.0<", ">3.0<");
    refused_at(&bad, 10, "<xsdversie> \"3.0\" is not an EDEXML version");
}

#[test]
fn missing_required_elements() {
    let xml = fixture("v2.0.xml");
    let no_naam = with(&xml, "<naam>Groep 5B</naam>", "");
    refused_at(&no_naam, 29, "element <groep> is missing required <naam>");
    let no_jaargroep = with(&xml, "<jaargroep>1</jaargroep>\n    </groep>", "</groep>");
    refused_at(
        &no_jaargroep,
        22,
        "element <groep> is missing required <jaargroep>",
    );
    let no_jaar = with(&xml, "<schooljaar>2023-2024</schooljaar>", "");
    refused_at(
        &no_jaar,
        4,
        "element <school> is missing required <schooljaar>",
    );
    let start = xml.find("<leerlingen>").unwrap();
    let end = xml.find("<leerkrachten>").unwrap();
    let no_leerlingen = format!("{}{}", &xml[..start], &xml[end..]);
    refused_at(
        &no_leerlingen,
        3,
        "element <EDEX> is missing required <leerlingen>",
    );
    let no_name = with(
        &xml,
        "<achternaam>Yılmaz</achternaam>\n      <roepnaam>Emre</roepnaam>",
        "",
    );
    refused_at(
        &no_name,
        54,
        "element <leerling> is missing required <achternaam>",
    );
    let no_key = with(&xml, "<groep key=\"1A\">", "<groep>");
    refused_at(
        &no_key,
        22,
        "element <groep> is missing required attribute key",
    );
    let no_school_id = with(
        &xml,
        "<brincode>12AB</brincode>\n    <dependancecode>01</dependancecode>",
        "",
    );
    refused_at(
        &no_school_id,
        4,
        "neither <brincode> nor <instellingsnummer>",
    );
    let empty_naam = with(&xml, "<naam>Plusklas</naam>", "<naam>  </naam>");
    refused_at(
        &empty_naam,
        27,
        "element <naam> of samengestelde groep 'PLUS' is empty",
    );
}

#[test]
fn wrong_order_and_unknown_elements() {
    let xml = fixture("v2.0.xml");
    let order = with(
        &xml,
        "<geboortedatum>2014-05-01</geboortedatum>\n      <geslacht>2</geslacht>",
        "<geslacht>2</geslacht>\n      <geboortedatum>2014-05-01</geboortedatum>",
    );
    refused_at(
        &order,
        43,
        "element <geboortedatum> is out of order in <leerling>: it must come before <geslacht>",
    );
    let top = with(&xml, "<vestigingen>", "<groepen><groep key=\"X\"><naam>x</naam><jaargroep>1</jaargroep></groep></groepen>\n  <vestigingen>");
    refused_at(&top, 13, "element <vestigingen> is out of order in <EDEX>");
    let twice = with(
        &xml,
        "<naam>Hoofdgebouw</naam>",
        "<naam>Hoofdgebouw</naam><naam>Twee</naam>",
    );
    refused_at(
        &twice,
        14,
        "element <naam> appears more than once in <vestiging>",
    );
    let unknown = with(
        &xml,
        "<bsn>123456782</bsn>",
        "<bsn>123456782</bsn>\n      <schoenmaat>31</schoenmaat>",
    );
    refused_at(&unknown, 53, "unknown element <schoenmaat> in <leerling>");
    let voorvoegsel = with(&xml, "<achternaam>Bakker</achternaam>", "");
    refused_at(
        &voorvoegsel,
        38,
        "element <voorvoegsel> in leerling '1001' needs an <achternaam>",
    );
    let dep = with(
        &fixture("vlaams.xml"),
        "<instellingsnummer>123456</instellingsnummer>",
        "<instellingsnummer>123456</instellingsnummer><dependancecode>00</dependancecode>",
    );
    refused_at(&dep, 6, "<dependancecode> is only allowed after <brincode>");
    let in_text = with(
        &xml,
        "<naam>Plusklas</naam>",
        "<naam>Plus<b>klas</b></naam>",
    );
    refused_at(
        &in_text,
        27,
        "element <b> is not allowed in <naam>, which holds text only",
    );
    let text = with(&xml, "<naam>Plusklas</naam>", "<naam>Plusklas</naam> stray");
    refused_at(
        &text,
        27,
        "unexpected text \"stray\" in <samengestelde_groep>",
    );
    let attr = with(
        &xml,
        "<groep key=\"1A\">",
        "<groep key=\"1A\" kleur=\"rood\">",
    );
    refused_at(&attr, 22, "unknown attribute kleur on <groep>");
    let root = with(&xml, "<EDEX ", "<EDEXML ");
    let root = with(&root, "</EDEX>", "</EDEXML>");
    refused_at(&root, 3, "the root element must be <EDEX>");
    let ns = with(&xml, "<EDEX ", "<EDEX xmlns=\"urn:edex\" ");
    refused_at(&ns, 3, "EDEXML has no namespace");
    let blok = with(
        &fixture("v1.0.3.xml"),
        "<code>LVS</code>",
        "<omschrijving>x</omschrijving>",
    );
    refused_at(&blok, 33, "element <blok> is missing required <code>");
}

#[test]
fn duplicate_keys() {
    let xml = fixture("v2.0.xml");
    let leerling = with(&xml, "<leerling key=\"1002\">", "<leerling key=\"1001\">");
    refused_at(
        &leerling,
        54,
        "duplicate key: leerling '1001' is already defined on line 36",
    );
    let sg = with(
        &xml,
        "<samengestelde_groep key=\"PLUS\">",
        "<samengestelde_groep key=\"1A\">",
    );
    refused_at(
        &sg,
        26,
        "duplicate key: samengestelde groep '1A' has the key of the groep on line 22",
    );
    let groep = with(
        &xml,
        "<groep key=\"5B\">\n      <naam>",
        "<groep key=\"1A\">\n      <naam>",
    );
    refused_at(
        &groep,
        29,
        "duplicate key: groep '1A' is already defined on line 22",
    );
    let vestiging = with(&xml, "<vestiging key=\"DEP\">", "<vestiging key=\"HOOFD\">");
    refused_at(
        &vestiging,
        16,
        "duplicate key: vestiging 'HOOFD' is already defined on line 13",
    );
    let lk = with(
        &xml,
        "  </leerkrachten>",
        "    <leerkracht key=\"M1\"><roepnaam>Bo</roepnaam></leerkracht>\n  </leerkrachten>",
    );
    refused_at(
        &lk,
        78,
        "duplicate key: leerkracht 'M1' is already defined on line 64",
    );
}

#[test]
fn dangling_keyrefs() {
    let xml = fixture("v2.0.xml");
    let groep = with(&xml, "<groep key=\"1A\"/>", "<groep key=\"G9\"/>");
    refused_at(
        &groep,
        59,
        "keyref: leerling '1002' refers to unknown groep 'G9'",
    );
    let wrong_kind = with(&xml, "<groep key=\"1A\"/>", "<groep key=\"PLUS\"/>");
    refused_at(
        &wrong_kind,
        59,
        "keyref: leerling '1002' refers to unknown groep 'PLUS' (that key is the samengestelde groep on line 26)",
    );
    let sg = with(
        &xml,
        "<samengestelde_groep key=\"PLUS\"/>\n      </samengestelde_groepen>",
        "<samengestelde_groep key=\"NOPE\"/>\n      </samengestelde_groepen>",
    );
    refused_at(
        &sg,
        47,
        "keyref: leerling '1001' refers to unknown samengestelde groep 'NOPE'",
    );
    let vestiging = with(
        &xml,
        "<vestiging key=\"DEP\"/>",
        "<vestiging key=\"WEST\"/>",
    );
    refused_at(
        &vestiging,
        60,
        "keyref: leerling '1002' refers to unknown vestiging 'WEST'",
    );
    let lk = with(
        &xml,
        "<groep key=\"5B\">\n          <rol>",
        "<groep key=\"8C\">\n          <rol>",
    );
    refused_at(
        &lk,
        72,
        "keyref: leerkracht 'M1' refers to unknown groep '8C'",
    );
    let lk_sg = with(
        &xml,
        "<samengestelde_groep key=\"PLUS\"/>\n      </groepen>",
        "<samengestelde_groep key=\"5B\"/>\n      </groepen>",
    );
    refused_at(
        &lk_sg,
        75,
        "keyref: leerkracht 'M1' refers to unknown samengestelde groep '5B'",
    );
}

#[test]
fn eckid_unique_across_the_file_and_kept_as_written() {
    let xml = fixture("v2.1.xml");
    let dup = with(
        &xml,
        "eckid=\"https://ketenid.nl/201703/fedcba9876543210\"",
        "eckid=\"https://ketenid.nl/201703/0123456789abcdef\"",
    );
    refused_at(
        &dup,
        47,
        "duplicate eckid: leerkracht 'K1' has the eckid of leerling 'A1' (line 25)",
    );
    let same_list = with(
        &xml,
        "<leerling key=\"A2\">",
        "<leerling key=\"A2\" eckid=\"https://ketenid.nl/201703/0123456789abcdef\">",
    );
    refused_at(
        &same_list,
        39,
        "duplicate eckid: leerling 'A2' has the eckid of leerling 'A1'",
    );
    let empty = with(
        &xml,
        "<leerling key=\"A2\">",
        "<leerling key=\"A2\" eckid=\" \">",
    );
    refused_at(&empty, 39, "attribute eckid of leerling 'A2' is empty");
    // Old-style values with odd characters are kept (trimmed): the importer decides.
    let odd = with(
        &xml,
        "<leerling key=\"A2\">",
        "<leerling key=\"A2\" eckid=\"https://id.school/LL_abc!@#$%^_-\">",
    );
    let got = parse(odd.as_bytes()).unwrap();
    assert_eq!(
        got.leerlingen[1].persoon.eckid.as_deref(),
        Some("https://id.school/LL_abc!@#$%^_-")
    );
}

#[test]
fn enumerations_and_simple_types() {
    let xml = fixture("v2.0.xml");
    let geslacht = with(&xml, "<geslacht>2</geslacht>", "<geslacht>3</geslacht>");
    refused_at(
        &geslacht,
        43,
        "<geslacht> \"3\" of leerling '1001' is not one of 0, 1, 2, 9",
    );
    let jaargroep = with(
        &xml,
        "<jaargroep>5</jaargroep>\n      <omschrijving>",
        "<jaargroep>9</jaargroep>\n      <omschrijving>",
    );
    refused_at(
        &jaargroep,
        31,
        "<jaargroep> \"9\" of groep '5B' is not a jaargroep",
    );
    let rol = with(&xml, "<rol>KLA</rol>", "<rol>BAAS</rol>");
    refused_at(&rol, 73, "<rol> \"BAAS\" of leerkracht 'M1' is not a role");
    let date = with(&xml, "2014-05-01", "2014-02-30");
    refused_at(
        &date,
        42,
        "<geboortedatum> \"2014-02-30\" of leerling '1001' is not a date",
    );
    let brin = with(
        &xml,
        "<brincode>12AB</brincode>",
        "<brincode>12ab</brincode>",
    );
    refused_at(&brin, 7, "is not a BRIN code");
    let bsn = with(&xml, "<bsn>123456782</bsn>", "<bsn>12345</bsn>");
    refused_at(
        &bsn,
        52,
        "<bsn> \"12345\" of leerling '1001' is not 9 digits",
    );
    let long = with(
        &xml,
        "<voorletters-1>SM</voorletters-1>",
        "<voorletters-1>ABCDEFG</voorletters-1>",
    );
    refused_at(&long, 40, "is longer than 6 characters");
    // The special jaargroepen are accepted.
    for j in ["S", "H", "C", "V", "N", "B", "D", "0", "16"] {
        let ok = with(
            &xml,
            "<jaargroep>1</jaargroep>\n      <groep",
            &format!("<jaargroep>{j}</jaargroep>\n      <groep"),
        );
        assert_eq!(
            parse(ok.as_bytes()).unwrap().leerlingen[1]
                .jaargroep
                .as_deref(),
            Some(j)
        );
    }
}

#[test]
fn schooljaar_follows_the_pattern_not_the_enumeration() {
    let xml = fixture("v2.1.xml");
    let later = with(&xml, "2025-2026", "2031-2032");
    assert_eq!(parse(later.as_bytes()).unwrap().schooljaar, "2031-2032");
    let bad = with(&xml, "2025-2026", "2031-2040");
    refused_at(
        &bad,
        5,
        "<schooljaar> \"2031-2040\" of <school> is not a school year YYYY-YYYY+1",
    );
    let bad = with(&xml, "2025-2026", "2031/2032");
    refused_at(&bad, 5, "is not a school year");
}

#[test]
fn encodings() {
    // ISO-8859-1, declared: decoded.
    let xml = with(
        &fixture("v2.1.xml"),
        "encoding=\"UTF-8\"",
        "encoding=\"ISO-8859-1\"",
    );
    let xml = with(&xml, "M&#252;ller", "M\u{FC}ller");
    let latin1: Vec<u8> = xml
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    let got = parse(&latin1).unwrap();
    assert_eq!(got.leerlingen[1].persoon.achternaam, "Müller & Zn");
    // The same bytes declared UTF-8 (or undeclared) are invalid UTF-8, with their line.
    let undeclared = String::from_utf8_lossy(&latin1).replace("encoding=\"ISO-8859-1\"", "");
    assert!(undeclared.contains('\u{FFFD}'));
    let mut bytes = latin1.clone();
    let decl_end = bytes.iter().position(|&b| b == b'>').unwrap();
    bytes.splice(
        ..=decl_end,
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
            .iter()
            .copied(),
    );
    let e = refused(&bytes);
    assert_eq!(e.line, 40, "{e}");
    assert!(e.message.contains("invalid UTF-8"), "{e}");
    // A byte order mark is fine; UTF-16 and unknown encodings are not.
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(fixture("v2.1.xml").as_bytes());
    assert!(parse(&bom).is_ok());
    let utf16 = with(&fixture("v2.1.xml"), "UTF-8", "UTF-16");
    refused_at(&utf16, 1, "unsupported encoding \"UTF-16\"");
    let e = refused([0xFF, 0xFE, b'<', 0]);
    assert!(e.message.contains("UTF-16"), "{e}");
    let control = with(
        &fixture("v2.1.xml"),
        "<roepnaam>Daan",
        "<roepnaam>Da\u{1}an",
    );
    refused_at(&control, 28, "character U+0001 is not allowed");
}

#[test]
fn truncated_files_are_refused_with_a_line() {
    let xml = fixture("v2.0.xml");
    for cut in [
        xml.len() - 2,
        xml.len() - 9,
        xml.find("<leerling key=\"1002\"").unwrap() + 10,
        xml.find("</leerlingen>").unwrap(),
    ] {
        let part = &xml[..cut];
        let e = refused(part);
        assert_eq!(e.line, line_of(&format!("{part}\u{0}"), "\u{0}"), "{e}");
    }
    let e = refused(&xml[..xml.find("</leerlingen>").unwrap()]);
    assert!(
        e.message
            .contains("the file ends before <leerlingen> (opened on line 35) is closed"),
        "{e}"
    );
    refused_at("", 1, "no <EDEX> element");
    refused_at("<?xml version=\"1.0\"?>\n", 2, "no <EDEX> element");
}

#[test]
fn dtds_entities_and_processing_instructions_are_refused() {
    let xml = fixture("v2.1.xml");
    let laughs = with(
        &xml,
        "<EDEX>",
        "<!DOCTYPE EDEX [\n <!ENTITY lol \"lol\">\n <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n]>\n<EDEX>",
    );
    let laughs = with(
        &laughs,
        "<roepnaam>Daan</roepnaam>",
        "<roepnaam>&lol2;</roepnaam>",
    );
    refused_at(&laughs, 3, "a DOCTYPE is not allowed");
    let xxe = with(
        &xml,
        "<EDEX>",
        "<!DOCTYPE EDEX [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<EDEX>",
    );
    let xxe = with(
        &xxe,
        "<roepnaam>Daan</roepnaam>",
        "<roepnaam>&xxe;</roepnaam>",
    );
    refused_at(&xxe, 3, "a DOCTYPE is not allowed");
    // Without its declaration, the reference alone is refused, not expanded.
    let undeclared = with(
        &xml,
        "<roepnaam>Daan</roepnaam>",
        "<roepnaam>&xxe;</roepnaam>",
    );
    refused_at(&undeclared, 28, "unknown entity reference &xxe;");
    let in_attr = with(&xml, "<groep key=\"G3\">", "<groep key=\"&xxe;\">");
    refused_at(&in_attr, 16, "attribute key of <groep>: an unknown entity");
    let char_ref = with(
        &xml,
        "<roepnaam>Daan</roepnaam>",
        "<roepnaam>&#1;</roepnaam>",
    );
    refused_at(&char_ref, 28, "&#1; is U+0001");
    let pi = with(&xml, "<EDEX>", "<?xml-stylesheet href=\"x.xsl\"?>\n<EDEX>");
    refused_at(&pi, 3, "processing instructions are not allowed");
    let late_decl = format!("\n{xml}");
    refused_at(
        &late_decl,
        2,
        "the XML declaration must be at the very start",
    );
    let two_roots = format!("{xml}<EDEX/>");
    refused(&two_roots);
    let after = format!("{xml}tail");
    refused(&after);
    let dup_attr = with(&xml, "<groep key=\"G3\">", "<groep key=\"G3\" key=\"G4\">");
    refused_at(&dup_attr, 16, "malformed");
}

#[test]
fn limits() {
    let xml = fixture("v1.0.3.xml");
    let nested = with(
        &xml,
        "<asielzoeker>false</asielzoeker>",
        &format!("{}{}", "<x>".repeat(40), "</x>".repeat(40)),
    );
    refused_at(&nested, 35, "nested more than 32 deep");
    // Vendor content in a blok is skipped, within the limits.
    let shallow = with(
        &xml,
        "<asielzoeker>false</asielzoeker>",
        &format!("{}tekst{}", "<x a=\"1\">".repeat(10), "</x>".repeat(10)),
    );
    assert!(parse(shallow.as_bytes()).is_ok());
    let long = with(
        &xml,
        "<naam>Groep 8</naam>",
        &format!("<naam>{}</naam>", "a".repeat(70 * 1024)),
    );
    refused_at(&long, 17, "longer than 65536 bytes");
    let split = with(
        &xml,
        "<naam>Groep 8</naam>",
        &format!(
            "<naam>{}&amp;{}</naam>",
            "a".repeat(40 * 1024),
            "b".repeat(40 * 1024)
        ),
    );
    refused_at(&split, 17, "the text of <naam> is longer than 65536 bytes");
    let long_attr = with(
        &xml,
        "<groep key=\"g8\">",
        &format!("<groep key=\"{}\">", "k".repeat(70 * 1024)),
    );
    refused_at(&long_attr, 16, "longer than 65536 bytes");
    let long_key = with(
        &xml,
        "<groep key=\"g8\">",
        &format!("<groep key=\"{}\">", "k".repeat(65)),
    );
    refused_at(
        &long_key,
        16,
        "a key of more than 64 characters on <groep> is not allowed in EDEXML 1.0.3",
    );
    // One allocation of just over MAX_BYTES: refused before it is read.
    let mut big = vec![b' '; MAX_BYTES + 1];
    big[..6].copy_from_slice(b"<EDEX>");
    let e = refused(&big);
    assert_eq!(e.line, 1);
    assert!(
        e.message.contains("more than the 52428800 bytes accepted"),
        "{e}"
    );
}

#[test]
fn errors_display_their_line() {
    let e = refused("<EDEX>\n<leerlingen/>\n</EDEX>");
    assert_eq!(e.line, 1);
    assert_eq!(e.message, "element <EDEX> is missing required <school>");
    assert_eq!(
        e.to_string(),
        "1: element <EDEX> is missing required <school>"
    );
}

/// Random mutations of every fixture: `parse` returns, it never panics.
mod mutations {
    use super::*;
    use proptest::prelude::*;

    fn fixtures() -> Vec<Vec<u8>> {
        ["v1.0.3.xml", "v2.0.xml", "v2.1.xml", "vlaams.xml"]
            .iter()
            .map(|f| fixture(f).into_bytes())
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]
        #[test]
        fn parse_never_panics(
            which in 0usize..4,
            edits in prop::collection::vec((any::<u16>(), any::<u8>(), 0u8..4), 1..8),
        ) {
            let mut bytes = fixtures().swap_remove(which);
            for (at, byte, op) in edits {
                if bytes.is_empty() {
                    break;
                }
                let at = usize::from(at) % bytes.len();
                match op {
                    0 => bytes[at] = byte,
                    1 => { bytes.remove(at); }
                    2 => bytes.insert(at, byte),
                    _ => { bytes.truncate(at); }
                }
            }
            let _ = parse(&bytes);
        }
    }

    /// Every prefix of a fixture (a truncated file) is refused, never accepted in part.
    #[test]
    fn every_prefix_is_refused() {
        for xml in fixtures() {
            let end = xml.len() - 1; // the final newline is not part of the document
            for cut in 0..end - "</EDEX>".len() + 1 {
                assert!(
                    parse(&xml[..cut]).is_err(),
                    "prefix of {cut} bytes accepted"
                );
            }
            assert!(parse(&xml[..end]).is_ok());
        }
    }

    /// Every fixture with one line deleted: no panic.
    #[test]
    fn every_line_deleted() {
        for xml in fixtures() {
            let text = String::from_utf8(xml).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for skip in 0..lines.len() {
                let without: Vec<&str> = lines
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| i != skip)
                    .map(|(_, l)| *l)
                    .collect();
                let _ = parse(without.join("\n").as_bytes());
            }
        }
    }
}

/// The official examples (`EDEXML.Voorbeeld.2.0.xml`, `EDEXML.Voorbeeld.2.1.xml`) from the
/// shared development data, which are not in the repository: skipped when the folder is
/// missing, except under `CI`, where it must be there.
#[test]
fn official_examples() {
    let dir = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/edexml"
    ));
    if !dir.is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but {} is missing",
            dir.display()
        );
        eprintln!("skipped: {} is missing", dir.display());
        return;
    }
    let v20 = parse(&std::fs::read(dir.join("EDEXML.Voorbeeld.2.0.xml")).unwrap()).unwrap();
    assert_eq!(v20.version, Version::V2_0);
    let v21 = parse(&std::fs::read(dir.join("EDEXML.Voorbeeld.2.1.xml")).unwrap()).unwrap();
    for e in [&v20, &v21] {
        assert_eq!(
            e.school,
            SchoolId::Brin {
                brin: "99ZZ".into(),
                dependance: s("00"),
            }
        );
        assert_eq!(e.schooljaar, "2014-2015");
        let vestigingen: Vec<&str> = e.vestigingen.iter().map(|v| v.key.as_str()).collect();
        assert_eq!(vestigingen, ["VH", "VB"]);
        assert_eq!(e.groepen.len(), 5);
        assert_eq!(e.samengestelde_groepen.len(), 3);
        assert_eq!(e.leerlingen.len(), 3);
        assert_eq!(e.leerkrachten.len(), 3);
    }
    assert_eq!(v21.version, Version::V2_1);
    let with_eckid: Vec<&Leerling> = v21
        .leerlingen
        .iter()
        .filter(|l| l.persoon.eckid.is_some())
        .collect();
    assert_eq!(with_eckid.len(), 1);
    assert!(with_eckid[0]
        .persoon
        .eckid
        .as_deref()
        .unwrap()
        .starts_with("https://id.school/LL_"));
    let h: Vec<&Leerling> = v21
        .leerlingen
        .iter()
        .filter(|l| l.jaargroep.as_deref() == Some("H"))
        .collect();
    assert_eq!(h.len(), 1);
    assert!(h[0].uitstroomdatum.is_some());
    assert_eq!(
        v21.leerkrachten
            .iter()
            .filter(|l| l.persoon.eckid.is_some())
            .count(),
        2
    );
    assert!(v21.leerkrachten.iter().any(|l| l.rollen == ["TAL"]));
    assert!(v20.leerlingen.iter().all(|l| l.persoon.eckid.is_none()));
}
