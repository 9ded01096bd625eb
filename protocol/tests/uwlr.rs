//! `protocol::uwlr`: the request `HaalLeerlinggegevens` (well-formed, namespaced, escaped) and
//! reading the answer (`tests/fixtures/uwlr/`): a default namespace and prefixes alike, SOAP
//! faults, envelopes of another shape, hostile input, truncation, and EDEXML errors on the
//! answer's lines.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use protocol::edexml::{self, Edexml, Leerling, SchoolId, Version, MAX_BYTES};
use protocol::uwlr::{
    haal_leerlinggegevens, leerlinggegevens_antwoord, Autorisatie, SchoolRef, UwlrError, Verzoek,
    AUTORISATIE_NS, CONTENT_TYPE, LEERLINGGEGEVENS_NS, SOAP_ACTION, SOAP_ENVELOPE_NS,
};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

mod common;
use common::{line_of, with};

fn fixture(name: &str) -> String {
    common::fixture_in("uwlr", name)
}

#[track_caller]
fn refused(xml: impl AsRef<[u8]>) -> UwlrError {
    match leerlinggegevens_antwoord(xml.as_ref()) {
        Ok(e) => panic!("accepted: {e:?}"),
        Err(e) => e,
    }
}

/// Refused as XML or as EDEXML, on `line`, with `message` in its text.
#[track_caller]
fn invalid_at(xml: impl AsRef<[u8]>, line: u32, message: &str) {
    match refused(xml) {
        UwlrError::Invalid(e) => {
            assert_eq!(e.line, line, "{e}");
            assert!(e.message.contains(message), "{e}\n(expected: {message})");
        }
        e => panic!("not Invalid: {e}"),
    }
}

/// Refused as not the expected SOAP shape, on `line`, with `message` in its text.
#[track_caller]
fn not_soap_at(xml: &str, line: u32, message: &str) {
    match refused(xml) {
        UwlrError::NotSoap {
            line: l,
            message: m,
        } => {
            assert_eq!(l, line, "{m}");
            assert!(m.contains(message), "{m}\n(expected: {message})");
        }
        e => panic!("not NotSoap: {e}"),
    }
}

/// An answer around `gegevens` (the content of `<leerlinggegevens>`), on line 4 and on.
fn answer(gegevens: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<s:Envelope xmlns:s=\"{SOAP_ENVELOPE_NS}\"><s:Body>\n<leerlinggegevens_antwoord xmlns=\"{LEERLINGGEGEVENS_NS}\">\n<leerlinggegevens>\n{gegevens}\n</leerlinggegevens>\n</leerlinggegevens_antwoord>\n</s:Body></s:Envelope>\n"
    )
}

const SMALL: &str = "<school><schooljaar>2026-2027</schooljaar><brincode>12AB</brincode><xsdversie>2.2</xsdversie></school>\n<groepen><groep key=\"G1\"><naam>1</naam><jaargroep>1</jaargroep></groep></groepen>\n<leerlingen><leerling key=\"L1\"><achternaam>A</achternaam><groep key=\"G1\"/></leerling></leerlingen>";

// ---------------------------------------------------------------------------------------
// The request
// ---------------------------------------------------------------------------------------

fn autorisatie() -> Autorisatie {
    Autorisatie {
        autorisatiesleutel: "k<e&y\"'>".into(),
        klantcode: "LP01".into(),
        klantnaam: "Leerpoort".into(),
    }
}

/// Every element of `xml` as (path of local names, namespace, text), in document order; the
/// document must be well-formed and every prefix declared.
fn elements(xml: &str) -> Vec<(String, String, String)> {
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut path: Vec<String> = Vec::new();
    let mut out: Vec<(String, String, String)> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    loop {
        let (ns, event) = reader.read_resolved_event().unwrap();
        let ns = match ns {
            ResolveResult::Bound(ns) => String::from_utf8(ns.0.to_vec()).unwrap(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(p) => panic!("undeclared prefix {p:?}"),
        };
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) => {
                path.push(String::from_utf8(e.local_name().as_ref().to_vec()).unwrap());
                out.push((path.join("/"), ns, String::new()));
                if empty {
                    path.pop();
                } else {
                    open.push(out.len() - 1);
                }
            }
            Event::End(_) => {
                path.pop();
                open.pop();
            }
            Event::Text(t) => {
                if let Some(&i) = open.last() {
                    out[i].2.push_str(&t.xml10_content().unwrap());
                }
            }
            Event::GeneralRef(r) => {
                let c = match &*r {
                    b"lt" => "<",
                    b"gt" => ">",
                    b"amp" => "&",
                    b"quot" => "\"",
                    b"apos" => "'",
                    other => panic!("reference {other:?}"),
                };
                if let Some(&i) = open.last() {
                    out[i].2.push_str(c);
                }
            }
            Event::Eof => break,
            Event::DocType(_) | Event::PI(_) | Event::CData(_) => panic!("unexpected {event:?}"),
            _ => {}
        }
    }
    assert!(path.is_empty());
    out
}

#[test]
fn the_request_is_a_soap_envelope_with_the_autorisatie_and_the_verzoek() {
    let verzoek = Verzoek {
        schooljaar: "2026-2027".into(),
        school: SchoolRef::Brin {
            brin4: "99ZZ".into(),
            dependance: Some("00".into()),
        },
        laatst_ontvangen: Some("2026-11-11T00:05:46".into()),
    };
    let xml = haal_leerlinggegevens(&autorisatie(), &verzoek);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"));
    assert!(xml.contains("<autorisatiesleutel>k&lt;e&amp;y&quot;&apos;&gt;</autorisatiesleutel>"));
    let a = AUTORISATIE_NS;
    let l = LEERLINGGEGEVENS_NS;
    let s = SOAP_ENVELOPE_NS;
    let expected: Vec<(&str, &str, &str)> = vec![
        ("Envelope", s, ""),
        ("Envelope/Header", s, ""),
        ("Envelope/Header/autorisatie", a, ""),
        (
            "Envelope/Header/autorisatie/autorisatiesleutel",
            a,
            "k<e&y\"'>",
        ),
        ("Envelope/Header/autorisatie/klantcode", a, "LP01"),
        ("Envelope/Header/autorisatie/klantnaam", a, "Leerpoort"),
        ("Envelope/Body", s, ""),
        ("Envelope/Body/leerlinggegevens_verzoek", l, ""),
        (
            "Envelope/Body/leerlinggegevens_verzoek/schooljaar",
            l,
            "2026-2027",
        ),
        ("Envelope/Body/leerlinggegevens_verzoek/brincode", l, "99ZZ"),
        (
            "Envelope/Body/leerlinggegevens_verzoek/dependancecode",
            l,
            "00",
        ),
        ("Envelope/Body/leerlinggegevens_verzoek/xsdversie", l, "2.3"),
        (
            "Envelope/Body/leerlinggegevens_verzoek/laatstontvangengegevens",
            l,
            "2026-11-11T00:05:46",
        ),
    ];
    let got = elements(&xml);
    let got: Vec<(&str, &str, &str)> = got
        .iter()
        .map(|(p, n, t)| (p.as_str(), n.as_str(), t.trim()))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn the_request_with_a_schoolkey_and_without_a_date() {
    let verzoek = Verzoek {
        schooljaar: "2026-2027".into(),
        school: SchoolRef::Schoolkey("S&1".into()),
        laatst_ontvangen: None,
    };
    let xml = haal_leerlinggegevens(&autorisatie(), &verzoek);
    let names: Vec<String> = elements(&xml)
        .into_iter()
        .filter_map(|(p, _, t)| {
            p.strip_prefix("Envelope/Body/leerlinggegevens_verzoek/")
                .map(|n| format!("{n}={t}"))
        })
        .collect();
    assert_eq!(
        names,
        ["schooljaar=2026-2027", "schoolkey=S&1", "xsdversie=2.3"]
    );
    let no_dependance = Verzoek {
        school: SchoolRef::Brin {
            brin4: "99ZZ".into(),
            dependance: None,
        },
        ..verzoek
    };
    let xml = haal_leerlinggegevens(&autorisatie(), &no_dependance);
    assert!(xml.contains("<brincode>99ZZ</brincode><xsdversie>"));
}

#[test]
fn the_request_stays_well_formed_with_control_characters() {
    let mut a = autorisatie();
    a.klantnaam = "Leer\u{1}poort\u{FFFF}".into();
    let verzoek = Verzoek {
        schooljaar: "2026-2027".into(),
        school: SchoolRef::Schoolkey("1".into()),
        laatst_ontvangen: None,
    };
    let xml = haal_leerlinggegevens(&a, &verzoek);
    let klantnaam = elements(&xml)
        .into_iter()
        .find(|(p, _, _)| p.ends_with("/klantnaam"))
        .unwrap();
    assert_eq!(klantnaam.2, "Leer\u{FFFD}poort\u{FFFD}");
}

#[test]
fn http_constants_and_the_key_is_not_shown() {
    assert_eq!(SOAP_ACTION, "\"HaalLeerlinggegevens\"");
    assert_eq!(CONTENT_TYPE, "text/xml; charset=utf-8");
    let shown = format!("{:?}", autorisatie());
    assert!(!shown.contains("k<e"), "{shown}");
    assert!(shown.contains("LP01"), "{shown}");
}

// ---------------------------------------------------------------------------------------
// The answer
// ---------------------------------------------------------------------------------------

fn s(v: &str) -> Option<String> {
    Some(v.into())
}

#[test]
fn a_default_namespace_and_a_prefix_give_the_same_leerlinggegevens() {
    let default_ns = fixture("antwoord-default-ns.xml");
    let prefix = fixture("antwoord-prefix.xml");
    let a = leerlinggegevens_antwoord(default_ns.as_bytes()).unwrap();
    let b = leerlinggegevens_antwoord(prefix.as_bytes()).unwrap();
    assert_eq!(a, b);

    assert_eq!(a.version, Version::V2_1);
    assert_eq!(
        a.school,
        SchoolId::Brin {
            brin: "99ZZ".into(),
            dependance: s("00"),
        }
    );
    assert_eq!(a.schooljaar, "2026-2027");
    assert_eq!(a.vestigingen.len(), 1);
    assert_eq!(a.vestigingen[0].naam, "De Esch");

    let groepen: Vec<(&str, &str, Option<&str>, u32)> = a
        .groepen
        .iter()
        .map(|g| {
            (
                g.key.as_str(),
                g.naam.as_str(),
                g.jaargroep.as_deref(),
                g.line,
            )
        })
        .collect();
    assert_eq!(
        groepen,
        [
            ("G5A", "Groep 5a", Some("5"), 22),
            ("G8", "Groep 8", Some("8"), 26)
        ]
    );
    assert_eq!(a.samengestelde_groepen.len(), 1);
    assert_eq!(a.samengestelde_groepen[0].key, "SG1");
    assert_eq!(a.samengestelde_groepen[0].line, 30);

    let l1: &Leerling = &a.leerlingen[0];
    assert_eq!(l1.persoon.key, "L1");
    assert_eq!(
        l1.persoon.eckid.as_deref(),
        Some("https://ketenid.nl/201703/00aa11bb22cc33dd")
    );
    assert_eq!(l1.persoon.achternaam, "Jong");
    assert_eq!(l1.persoon.voorvoegsel, s("de"));
    assert_eq!(l1.persoon.roepnaam, s("Sanne"));
    assert_eq!(l1.persoon.line, 35);
    assert_eq!(l1.geboortedatum, s("2017-03-04"));
    assert_eq!(l1.groep, s("G5A"));
    assert_eq!(l1.samengestelde_groepen, ["SG1"]);
    assert_eq!(l1.vestiging, s("V1"));
    let l2 = &a.leerlingen[1];
    assert_eq!(l2.persoon.achternaam, "Yilmaz & Koç");
    assert_eq!(
        l2.persoon.eckid.as_deref(),
        Some("https://ketenid.nl/201703/44ee55ff66007711")
    );
    assert_eq!(l2.groep, s("G8"));
    assert_eq!(l2.persoon.line, 54);

    assert_eq!(a.leerkrachten.len(), 1);
    let k = &a.leerkrachten[0];
    assert_eq!(k.persoon.key, "K1");
    assert_eq!(
        k.persoon.eckid.as_deref(),
        Some("https://ketenid.nl/201703/8899aabbccddeeff")
    );
    assert_eq!(k.groepen, ["G5A", "G8"]);
    assert_eq!(k.rollen, ["IB"]);
    assert_eq!(k.persoon.line, 62);
}

#[test]
fn versions_2_2_2_3_and_none_are_read_as_edexml_2_1() {
    let two_two = leerlinggegevens_antwoord(answer(SMALL).as_bytes()).unwrap();
    assert_eq!(two_two.version, Version::V2_1);
    let none = answer(&with(SMALL, "<xsdversie>2.2</xsdversie>", ""));
    let none = leerlinggegevens_antwoord(none.as_bytes()).unwrap();
    assert_eq!(none.version, Version::V2_1);
    assert_eq!(none.leerlingen, two_two.leerlingen);
    let spaced = answer(&with(SMALL, "<xsdversie>2.2<", "<xsdversie>\n 2.3\n<"));
    assert!(leerlinggegevens_antwoord(spaced.as_bytes()).is_ok());
}

#[test]
fn other_versions_are_refused() {
    let xml = with(
        &fixture("antwoord-default-ns.xml"),
        "<xsdversie>2.3</xsdversie>",
        "<xsdversie>9.9</xsdversie>",
    );
    invalid_at(
        &xml,
        14,
        "<xsdversie> \"9.9\" is not a UWLR version read here (2.2, 2.3)",
    );
    for v in ["2.1", "", "2.3.1"] {
        let xml = answer(&with(SMALL, "2.2", v));
        invalid_at(&xml, 5, "is not a UWLR version");
    }
}

#[test]
fn a_fault_gives_its_code_and_message() {
    let e = refused(fixture("fault-autorisatie.xml"));
    assert_eq!(
        e,
        UwlrError::Fault {
            code: "soap:Client".into(),
            message: "De autorisatiesleutel is onbekend of ingetrokken.".into(),
        }
    );
    assert!(e.refuses_autorisatie());
    assert_eq!(e.line(), None);
    assert_eq!(
        e.to_string(),
        "the LAS answered with a SOAP fault soap:Client: De autorisatiesleutel is onbekend of ingetrokken."
    );

    let long = format!(
        "<e:Envelope xmlns:e=\"{SOAP_ENVELOPE_NS}\"><e:Body><e:Fault><faultcode>e:Server</faultcode><faultstring>{}</faultstring></e:Fault></e:Body></e:Envelope>",
        "x".repeat(5000)
    );
    match refused(&long) {
        UwlrError::Fault { code, message } => {
            assert_eq!(code, "e:Server");
            assert_eq!(message.chars().count(), 301);
            assert!(message.ends_with('…'));
        }
        e => panic!("{e}"),
    }
    let bare = format!(
        "<e:Envelope xmlns:e=\"{SOAP_ENVELOPE_NS}\"><e:Body><e:Fault/></e:Body></e:Envelope>"
    );
    let e = refused(&bare);
    assert!(!e.refuses_autorisatie());
    assert_eq!(
        e.to_string(),
        "the LAS answered with a SOAP fault (no faultcode): (no faultstring)"
    );
}

#[test]
fn envelopes_of_another_shape() {
    let xml = fixture("antwoord-default-ns.xml");
    let other = with(
        &xml,
        "<leerlinggegevens_antwoord xmlns=",
        "<leerlinggegevens_verzoek xmlns=",
    );
    let other = with(
        &other,
        "</leerlinggegevens_antwoord>",
        "</leerlinggegevens_verzoek>",
    );
    not_soap_at(&other, 6, "the SOAP Body holds <leerlinggegevens_verzoek>");

    let wrong_ns = with(
        &xml,
        "<leerlinggegevens_antwoord xmlns=\"http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens\"",
        "<leerlinggegevens_antwoord xmlns=\"http://www.edustandaard.nl/leerresultaten/3/leerlinggegevens\"",
    );
    not_soap_at(&wrong_ns, 6, "leerresultaten/3/leerlinggegevens");

    not_soap_at("<html><body/></html>", 1, "the root element is <html>");
    not_soap_at(
        "<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\"><e:Body/></e:Envelope>",
        1,
        "SOAP 1.2",
    );
    let no_body =
        format!("<e:Envelope xmlns:e=\"{SOAP_ENVELOPE_NS}\">\n<e:Header/>\n</e:Envelope>");
    not_soap_at(&no_body, 1, "no Body");
    let empty =
        format!("<e:Envelope xmlns:e=\"{SOAP_ENVELOPE_NS}\">\n<e:Body>\n</e:Body></e:Envelope>");
    not_soap_at(&empty, 2, "the SOAP Body is empty");
    let two = answer(SMALL).replace(
        "</leerlinggegevens_antwoord>\n",
        "</leerlinggegevens_antwoord>\n<leerlinggegevens_antwoord xmlns=\"http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens\"/>",
    );
    not_soap_at(&two, 10, "holds one element");
    let no_gegevens = format!(
        "<e:Envelope xmlns:e=\"{SOAP_ENVELOPE_NS}\"><e:Body>\n<a:leerlinggegevens_antwoord xmlns:a=\"{LEERLINGGEGEVENS_NS}\"/></e:Body></e:Envelope>"
    );
    not_soap_at(&no_gegevens, 2, "holds no <leerlinggegevens>");
    let after_body = answer(SMALL).replace("</s:Body>", "</s:Body><s:Body/>");
    not_soap_at(&after_body, 10, "after the SOAP Body");
    let text = answer(SMALL).replace("<s:Body>", "<s:Body>hallo");
    not_soap_at(&text, 2, "unexpected text \"hallo\"");
    not_soap_at("<!-- nothing -->\n", 2, "no SOAP Envelope");
}

#[test]
fn elements_in_another_namespace_or_an_undeclared_prefix() {
    let foreign = answer(&with(
        SMALL,
        "<naam>1</naam>",
        "<x:naam xmlns:x=\"urn:x\">1</x:naam>",
    ));
    invalid_at(
        &foreign,
        6,
        "element <x:naam> (namespace \"urn:x\") is not in UWLR's leerlinggegevens namespace",
    );
    let undeclared = answer(&with(SMALL, "<naam>1</naam>", "<y:naam>1</y:naam>"));
    invalid_at(
        &undeclared,
        6,
        "the namespace prefix y of <y:naam> is not declared",
    );
    // Unqualified elements (an XSD with elementFormDefault="unqualified") are read.
    let unqualified = answer(&with(SMALL, "<school>", "<school xmlns=\"\">"));
    assert!(leerlinggegevens_antwoord(unqualified.as_bytes()).is_ok());
}

#[test]
fn edexml_errors_are_on_the_answers_lines() {
    for name in ["antwoord-default-ns.xml", "antwoord-prefix.xml"] {
        let xml = fixture(name);
        let (from, to) = if name.contains("prefix") {
            (
                "<ns2:groep key=\"G8\"/>\n          </ns2:leerling>",
                "<ns2:groep key=\"G9\"/>\n          </ns2:leerling>",
            )
        } else {
            (
                "<groep key=\"G8\"/>\n          </leerling>",
                "<groep key=\"G9\"/>\n          </leerling>",
            )
        };
        let dangling = with(&xml, from, to);
        assert_eq!(line_of(&dangling, "\"G9\""), 58);
        invalid_at(
            &dangling,
            58,
            "keyref: leerling 'L2' refers to unknown groep 'G9'",
        );
        let e = refused(&dangling);
        assert_eq!(e.line(), Some(58));
        assert_eq!(
            e.to_string(),
            "line 58: keyref: leerling 'L2' refers to unknown groep 'G9'"
        );
    }
    let xml = fixture("antwoord-default-ns.xml");
    // A start tag over several lines, then an error after it.
    let multiline = with(
        &xml,
        "<leerling key=\"L2\" eckid=",
        "<leerling\n   key=\"L2\"\n   eckid=",
    );
    let multiline = with(
        &multiline,
        "<roepnaam>Emre</roepnaam>",
        "<roepnaam>Emre</roepnaam><geslacht>7</geslacht>",
    );
    invalid_at(&multiline, 58, "geslacht");
    let unknown = with(&xml, "<auteur>LAS</auteur>", "<auteur>LAS</auteur><foo/>");
    invalid_at(&unknown, 13, "<foo>");
    let attr = with(
        &xml,
        "<vestiging key=\"V1\">",
        "<vestiging key=\"V1\" kleur=\"rood\">",
    );
    invalid_at(&attr, 17, "unknown attribute kleur on <vestiging>");
    let duplicate_eckid = with(&xml, "44ee55ff66007711", "00aa11bb22cc33dd");
    invalid_at(&duplicate_eckid, 54, "duplicate eckid");
}

#[test]
fn dtds_entities_and_processing_instructions_are_refused() {
    let xml = fixture("antwoord-default-ns.xml");
    let doctype = with(
        &xml,
        "<soap:Envelope",
        "<!DOCTYPE soap:Envelope [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<soap:Envelope",
    );
    invalid_at(&doctype, 3, "DOCTYPE");
    let laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE e [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\"><!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>\n<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\"><e:Body><e:Fault><faultstring>&lol3;</faultstring></e:Fault></e:Body></e:Envelope>";
    invalid_at(laughs, 2, "DOCTYPE");
    let entity = with(
        &xml,
        "<roepnaam>Emre</roepnaam>",
        "<roepnaam>&xxe;</roepnaam>",
    );
    invalid_at(&entity, 56, "unknown entity reference &xxe;");
    let in_header = with(
        &xml,
        "<soap:Header/>",
        "<soap:Header><a b=\"&c;\"/></soap:Header>",
    );
    invalid_at(&in_header, 4, "unknown entity");
    let pi = with(&xml, "<soap:Body>", "<soap:Body><?php echo 1; ?>");
    invalid_at(&pi, 5, "processing instructions are not allowed");
    let late_decl = format!("\n{xml}");
    invalid_at(&late_decl, 2, "XML declaration");
    let control = with(&xml, "<auteur>LAS", "<auteur>L&#1;AS");
    invalid_at(&control, 13, "U+0001");
}

#[test]
fn limits() {
    // 60 MB: refused before it is read.
    let big = vec![b' '; 60 * 1024 * 1024];
    assert!(big.len() > MAX_BYTES);
    invalid_at(&big, 1, "more than the 52428800 bytes accepted");

    let nest = format!(
        "{}{}",
        "<x:a xmlns:x=\"urn:x\">".repeat(40),
        "</x:a>".repeat(40)
    );
    let deep = with(
        &fixture("antwoord-default-ns.xml"),
        "<soap:Header/>",
        &format!("<soap:Header>{nest}</soap:Header>"),
    );
    invalid_at(&deep, 4, "nested more than 32 deep");
    let long = answer(&with(
        SMALL,
        "<achternaam>A<",
        &format!("<achternaam>{}<", "a".repeat(70_000)),
    ));
    invalid_at(&long, 7, "longer than 65536 bytes");
}

#[test]
fn truncated_answers_are_refused_with_their_last_line() {
    let xml = fixture("antwoord-default-ns.xml");
    for cut in [
        xml.len() - 2,
        xml.find("<leerling key=\"L2\"").unwrap() + 10,
        xml.find("</leerlingen>").unwrap(),
        xml.find("<soap:Body>").unwrap(),
    ] {
        let part = &xml[..cut];
        let e = refused(part);
        assert_eq!(
            e.line(),
            Some(line_of(&format!("{part}\u{0}"), "\u{0}")),
            "{e}"
        );
    }
    invalid_at(
        &xml[..xml.find("</leerlingen>").unwrap()],
        60,
        "the answer ends before <leerlingen> (opened on line 34) is closed",
    );
    // Every prefix is refused, never accepted in part.
    let end = xml.trim_end().len();
    for cut in 0..end {
        assert!(
            leerlinggegevens_antwoord(&xml.as_bytes()[..cut]).is_err(),
            "prefix of {cut} bytes accepted"
        );
    }
    assert!(leerlinggegevens_antwoord(&xml.as_bytes()[..end]).is_ok());
}

#[test]
fn latin1_answers_are_read() {
    let xml = answer(&with(SMALL, "<achternaam>A<", "<achternaam>Isma\u{EB}l<")).replace(
        "<?xml version=\"1.0\"?>",
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
    );
    let bytes: Vec<u8> = xml
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    let file = leerlinggegevens_antwoord(&bytes).unwrap();
    assert_eq!(file.leerlingen[0].persoon.achternaam, "Ismaël");
}

/// The official EDEXML 2.1 example from the shared development data, put into an envelope on
/// the same lines (its `<xsdversie>` made UWLR's `2.3`): the same [`Edexml`] as the file
/// itself. Skipped when the folder is missing, except under `CI`.
#[test]
fn the_official_example_in_an_envelope() {
    let path = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/edexml/EDEXML.Voorbeeld.2.1.xml"
    ));
    if !path.is_file() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but {} is missing",
            path.display()
        );
        eprintln!("skipped: {} is missing", path.display());
        return;
    }
    let original = std::fs::read_to_string(path).unwrap();
    let file: Edexml = edexml::parse(original.as_bytes()).unwrap();
    let wrapped = with(
        &original,
        "<EDEX ",
        &format!("<s:Envelope xmlns:s=\"{SOAP_ENVELOPE_NS}\"><s:Body><a:leerlinggegevens_antwoord xmlns:a=\"{LEERLINGGEGEVENS_NS}\"><leerlinggegevens xmlns=\"{LEERLINGGEGEVENS_NS}\" "),
    );
    let wrapped = with(
        &wrapped,
        "</EDEX>",
        "</leerlinggegevens></a:leerlinggegevens_antwoord></s:Body></s:Envelope>",
    );
    let wrapped = with(&wrapped, "<xsdversie>2.1<", "<xsdversie>2.3<");
    assert_eq!(leerlinggegevens_antwoord(wrapped.as_bytes()).unwrap(), file);
}

/// Random mutations of the fixtures: the reader returns, it never panics.
mod mutations {
    use super::*;
    use proptest::prelude::*;

    fn fixtures() -> Vec<Vec<u8>> {
        [
            "antwoord-default-ns.xml",
            "antwoord-prefix.xml",
            "fault-autorisatie.xml",
        ]
        .iter()
        .map(|f| fixture(f).into_bytes())
        .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, .. ProptestConfig::default() })]
        #[test]
        fn never_panics(
            which in 0usize..3,
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
            let _ = leerlinggegevens_antwoord(&bytes);
        }
    }
}
