//! DUO's registry file: encodings, RFC 4180 quoting, columns by name, both forms of
//! VESTIGINGSNUMMER, and refusals with their line.
#![allow(clippy::unwrap_used, clippy::panic)]

use protocol::duo::{parse, DuoError, Encoding, MAX_BYTES, MAX_FIELD};

const HEADER: &str = "PROVINCIE;BEVOEGD GEZAG NUMMER;BRIN NUMMER;VESTIGINGSNUMMER;VESTIGINGSNAAM;\
STRAATNAAM;HUISNUMMER-TOEVOEGING;POSTCODE;PLAATSNAAM;GEMEENTENUMMER;GEMEENTENAAM;DENOMINATIE";

fn file(rows: &[&str]) -> String {
    let mut s = String::from(HEADER);
    s.push_str("\r\n");
    for r in rows {
        s.push_str(r);
        s.push_str("\r\n");
    }
    s
}

fn refused(bytes: &[u8]) -> DuoError {
    match parse(bytes) {
        Ok(f) => panic!("accepted: {f:?}"),
        Err(e) => e,
    }
}

const ZONNEBLOEM: &str =
    "Utrecht;41234;12AB;12AB00;De Zonnebloem;Schoolstraat;1;3511 AA;UTRECHT;0344;Utrecht;Openbaar";

#[test]
fn a_row_of_duos_file_is_read_by_its_header() {
    let f = parse(file(&[ZONNEBLOEM]).as_bytes()).unwrap();
    assert_eq!(f.encoding, Encoding::Utf8);
    let v = &f.vestigingen[0];
    assert_eq!(
        (
            v.line,
            v.brin6(),
            v.naam.as_str(),
            v.provincie.as_str(),
            v.bevoegd_gezag_nummer.as_str(),
            v.straatnaam.as_str(),
            v.huisnummer.as_str(),
            v.postcode.as_str(),
            v.plaatsnaam.as_str(),
            v.gemeentenaam.as_str()
        ),
        (
            2,
            "12AB00".to_string(),
            "De Zonnebloem",
            "Utrecht",
            "41234",
            "Schoolstraat",
            "1",
            "3511 AA",
            "UTRECHT",
            "Utrecht"
        )
    );
}

#[test]
fn windows_1252_and_utf8_with_a_byte_order_mark() {
    let mut latin = Vec::new();
    latin.extend_from_slice(HEADER.as_bytes());
    latin.extend_from_slice(
        b"\r\nFriesland;40001;34CD;34CD00;CBS S\xFBnenskyn \x96 M\xFCnster\xE9;Haadstrjitte;3;8901 AA;LJOUWERT;0080;Leeuwarden;PC\r\n",
    );
    let f = parse(&latin).unwrap();
    assert_eq!(f.encoding, Encoding::Windows1252);
    assert_eq!(f.vestigingen[0].naam, "CBS Sûnenskyn – Münsteré");

    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(
        file(&["Friesland;40001;34CD;34CD00;CBS Sûnenskyn – Münsteré;Haadstrjitte;3;8901 AA;LJOUWERT;0080;Leeuwarden;PC"])
            .as_bytes(),
    );
    let g = parse(&bom).unwrap();
    assert_eq!(g.encoding, Encoding::Utf8);
    assert_eq!(g.vestigingen, f.vestigingen);

    // A byte Windows-1252 leaves undefined is a control character: refused by its line.
    let mut bad = latin.clone();
    bad.extend_from_slice(
        b"Friesland;40001;34CD;34CD01;CBS \x81;x;3;8901 AA;LJOUWERT;0080;Leeuwarden;PC\r\n",
    );
    let e = refused(&bad);
    assert_eq!(e.line, 3, "{e}");
    assert!(e.message.contains("U+0081"), "{e}");
    assert!(refused(b"\xFF\xFEP\0").message.contains("UTF-16"));
}

#[test]
fn rfc_4180_quoting() {
    let f = parse(
        file(&[
            "Utrecht;41234;12AB;12AB01;\"Basisschool \"\"De Brug\"\"; locatie Oost\";\"Brug\r\nweg\";12 a;3512 BB;UTRECHT;0344;Utrecht;Openbaar",
            ZONNEBLOEM,
        ])
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(
        f.vestigingen[0].naam,
        "Basisschool \"De Brug\"; locatie Oost"
    );
    assert_eq!(
        f.vestigingen[0].straatnaam, "Brug weg",
        "white space becomes one space"
    );
    assert_eq!(
        f.vestigingen[1].line, 4,
        "the line break inside the quotes counts"
    );
}

#[test]
fn columns_in_any_order_and_the_two_digit_location_number() {
    let text = "vestigingsnaam ; Plaatsnaam;EXTRA;brin_nummer;VESTIGINGSNUMMER\n\
                OBS Zuid;GOUDA;;56EF;01\n\n\
                OBS Noord;GOUDA;x;56EF;02\n";
    let f = parse(text.as_bytes()).unwrap();
    let codes: Vec<String> = f.vestigingen.iter().map(|v| v.brin6()).collect();
    assert_eq!(codes, ["56EF01", "56EF02"]);
    assert_eq!(f.vestigingen[1].line, 4, "a blank line is passed over");
    assert_eq!(f.vestigingen[0].provincie, "", "an absent column is empty");
    // The newer names of the code columns.
    let newer = "INSTELLINGSCODE;VESTIGINGSCODE;VESTIGINGSNAAM\r\n56EF;56EF03;Het Anker\r\n";
    assert_eq!(
        parse(newer.as_bytes()).unwrap().vestigingen[0].brin6(),
        "56EF03"
    );
}

#[test]
fn broken_files_are_refused_with_their_line() {
    let cases: Vec<(String, u32, &str)> = vec![
        (
            file(&[
                ZONNEBLOEM,
                "Utrecht;41234;12AB;12AB01;\"De Brug;x;1;3511 AA;UTRECHT;0344;Utrecht;Openbaar",
            ]),
            3,
            "never closed",
        ),
        (
            file(&[
                ZONNEBLOEM,
                "Utrecht;41234;12AB;12AB01;\"De\" Brug;x;1;3511 AA;UTRECHT;0344;Utrecht;Openbaar",
            ]),
            3,
            "after the closing quote",
        ),
        (
            file(&[
                ZONNEBLOEM,
                "Utrecht;41234;12AB;12AB01;De Brug;x;1;3511 AA;UTRECHT;0344;Utrecht",
            ]),
            3,
            "11 fields, but the header has 12",
        ),
        (
            file(&[ZONNEBLOEM, ZONNEBLOEM]),
            3,
            "12AB00 appears twice (also on line 2)",
        ),
        (
            file(&[&ZONNEBLOEM.replace("12AB;12AB00", "12AB;34CD00")]),
            2,
            "34CD00 does not belong to BRIN NUMMER 12AB",
        ),
        (
            file(&[&ZONNEBLOEM.replace("12AB;12AB00", "12AB;0")]),
            2,
            "VESTIGINGSNUMMER '0'",
        ),
        (
            file(&[&ZONNEBLOEM.replace("12AB;12AB00", "12ab;12ab00")]),
            2,
            "BRIN NUMMER '12ab' is not a BRIN",
        ),
        (
            file(&[&ZONNEBLOEM.replace("De Zonnebloem", " ")]),
            2,
            "VESTIGINGSNAAM is empty",
        ),
        (file(&[]), 1, "no locations"),
        (String::new(), 1, "empty"),
        (
            "A,B,C\n1,2,3\n".into(),
            1,
            "no column BRIN NUMMER, VESTIGINGSNUMMER, VESTIGINGSNAAM",
        ),
        (
            "BRIN NUMMER;INSTELLINGSCODE;VESTIGINGSNUMMER;VESTIGINGSNAAM\n".into(),
            1,
            "BRIN NUMMER appears twice",
        ),
        (
            file(&[&ZONNEBLOEM.replace("De Zonnebloem", &"x".repeat(MAX_FIELD + 1))]),
            2,
            "longer than",
        ),
    ];
    for (text, line, says) in cases {
        let e = refused(text.as_bytes());
        assert_eq!(e.line, line, "{says}: {e}");
        assert!(e.message.contains(says), "{says}: {e}");
        assert_eq!(e.to_string(), format!("{line}: {}", e.message));
    }
    let big = vec![b'a'; MAX_BYTES + 1];
    assert!(refused(&big).message.contains("bytes accepted"));
}

#[test]
fn a_whole_file_of_6500_rows() {
    let mut rows = Vec::new();
    for i in 0..6_500u32 {
        let brin = format!(
            "{:02}{}{}",
            i % 100,
            (b'A' + (i / 100 % 26) as u8) as char,
            (b'A' + (i / 2600) as u8) as char
        );
        rows.push(format!(
            "Noord-Holland;{};{brin};{brin}00;\"School {i}; \"\"de Linde\"\"\";Laan;{};1011 AB;AMSTERDAM;0363;Amsterdam;RK",
            40_000 + i,
            i % 200 + 1
        ));
    }
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let text = file(&refs);
    let started = std::time::Instant::now();
    let f = parse(text.as_bytes()).unwrap();
    assert_eq!(f.vestigingen.len(), 6_500);
    assert_eq!(f.vestigingen[6_499].line, 6_501);
    assert!(started.elapsed().as_secs() < 5);
}

/// Arbitrary bytes never panic, and what is accepted is consistent.
#[test]
fn arbitrary_input_never_panics() {
    use proptest::prelude::*;
    let mut runner = proptest::test_runner::TestRunner::default();
    let bytes = proptest::collection::vec(
        prop_oneof![
            Just(b';'),
            Just(b'"'),
            Just(b'\r'),
            Just(b'\n'),
            Just(0xE9u8),
            Just(b'1'),
            Just(b'A'),
            any::<u8>()
        ],
        0..300,
    );
    runner
        .run(&bytes, |data| {
            let mut with_header = file(&[]).into_bytes();
            with_header.extend_from_slice(&data);
            for input in [&data[..], &with_header[..]] {
                if let Ok(f) = parse(input) {
                    prop_assert!(!f.vestigingen.is_empty());
                    for v in &f.vestigingen {
                        prop_assert_eq!(v.brin6().len(), 6);
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}
