//! `protocol::spreadsheet`: CSV in its encodings and separators, XLSX written here with
//! rust_xlsxwriter, refusals with their rows, and hostile files (a zip bomb, a shared strings
//! count that would reserve terabytes, far-away cells, truncated containers) that are refused
//! before anything large is read.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Cursor, Read, Write};

use protocol::spreadsheet::{
    parse, template_csv, Format, Soort, SpreadsheetError, COLUMNS, MAX_BYTES, MAX_ROWS,
};

const HEADER: &str =
    "Soort;Sleutel;Voornaam;Tussenvoegsel;Achternaam;Groep;Jaargroep;E-mailadres;ECK-iD;Rol";

fn eckid(c: &str) -> String {
    format!("https://ketenid.nl/201703/{}", c.repeat(128))
}

/// A small school: two pupils (one in two groups) and two teachers.
fn school_csv() -> String {
    format!(
        "{HEADER}\r\n\
         leerling;L1;Saar;de;Jong;3A;3;;{};\r\n\
         leerling;L2;Deniz;;Yilmaz;\"3A, Leesclub\";groep 3;;;\r\n\
         \r\n\
         leerkracht;T1;Marloes;;Visser;3A;;marloes@school.example;;IB, ICT\r\n\
         leerkracht;T2;Bram;van;Dijk;;;;;stagiaire\r\n",
        eckid("a")
    )
}

#[track_caller]
fn refused(bytes: impl AsRef<[u8]>) -> SpreadsheetError {
    match parse(bytes.as_ref()) {
        Ok(s) => panic!("accepted: {s:?}"),
        Err(e) => e,
    }
}

#[track_caller]
fn refused_at(bytes: impl AsRef<[u8]>, line: u32, message: &str) {
    let e = refused(bytes);
    assert_eq!(e.line, line, "{e}");
    assert!(e.message.contains(message), "{e}\n(expected: {message})");
}

#[test]
fn a_csv_file_is_read_row_by_row() {
    let sheet = parse(school_csv().as_bytes()).unwrap();
    assert_eq!(sheet.format, Format::Csv);
    let rows = &sheet.rows;
    assert_eq!(rows.len(), 4);
    let saar = &rows[0];
    assert_eq!(
        (saar.line, saar.soort, saar.sleutel.as_str()),
        (2, Soort::Leerling, "L1")
    );
    assert_eq!(
        (
            saar.voornaam.as_str(),
            saar.tussenvoegsel.as_deref(),
            saar.achternaam.as_str()
        ),
        ("Saar", Some("de"), "Jong")
    );
    assert_eq!(saar.jaargroep.as_deref(), Some("3"));
    assert_eq!(saar.eckid, Some(eckid("a")));
    assert_eq!(rows[1].groepen, vec!["3A", "Leesclub"]);
    assert_eq!(rows[1].jaargroep.as_deref(), Some("3"));
    let marloes = &rows[2];
    assert_eq!(marloes.line, 5, "the blank row counts, as Excel numbers it");
    assert_eq!(
        marloes.emailadres.as_deref(),
        Some("marloes@school.example")
    );
    assert_eq!(marloes.rollen, vec!["IB", "ICT"]);
    assert_eq!(rows[3].rollen, vec!["STA"]);
    assert!(rows[3].groepen.is_empty(), "a teacher may have no group");
}

#[test]
fn encodings_separators_and_column_order() {
    // Windows-1252 with commas, columns in another order and spelling, no trailing newline.
    let latin = b"sleutel,SOORT,achternaam,voornaam,groep,e-mail adres\nL1,leerling,M\xFCller,Isma\xEBl,\"3A,3B\",x@y.nl";
    let sheet = parse(latin).unwrap();
    let r = &sheet.rows[0];
    assert_eq!(
        (r.voornaam.as_str(), r.achternaam.as_str()),
        ("Ismaël", "Müller")
    );
    assert_eq!(r.groepen, vec!["3A", "3B"]);
    assert_eq!(r.emailadres, None, "a pupil's e-mail address is not read");
    // UTF-8 with a byte order mark, as the template and Excel's "CSV UTF-8" write it.
    let mut bom = template_csv();
    bom.extend_from_slice("leerling;1;Zoë;;Ça;groep 8;8;;;\r\n".as_bytes());
    let sheet = parse(&bom).unwrap();
    assert_eq!(sheet.rows[0].voornaam, "Zoë");
    // Line breaks and runs of spaces in a value become one space.
    let csv = format!("{HEADER}\nleerling;1;\"Anna\n  Maria\";;Bos;3A;;;;\n");
    assert_eq!(
        parse(csv.as_bytes()).unwrap().rows[0].voornaam,
        "Anna Maria"
    );
}

#[test]
fn the_template_names_every_column() {
    let t = template_csv();
    assert!(t.starts_with(b"\xEF\xBB\xBF"));
    assert_eq!(
        std::str::from_utf8(&t[3..]).unwrap().trim_end(),
        COLUMNS.join(";")
    );
    refused_at(&t, 1, "there is no leerling or leerkracht");
}

#[test]
fn bad_rows_are_refused_with_their_row() {
    let row = |r: &str| format!("{HEADER}\nleerling;L0;Eva;;Smit;3A;;;;\n\n{r}\n");
    refused_at(
        row("leerling;L1;Saar;;;;;;;"),
        4,
        "a leerling needs a group",
    );
    refused_at(
        row("ouder;L1;Saar;;Jong;3A;;;;"),
        4,
        "leerling or leerkracht",
    );
    refused_at(
        row("leerling;;Saar;;Jong;3A;;;;"),
        4,
        "the Sleutel is empty",
    );
    refused_at(
        row("leerling;L1;;;;3A;;;;"),
        4,
        "a Voornaam or an Achternaam",
    );
    refused_at(
        row("leerling;L1;Saar;;Jong;3A;9;;;"),
        4,
        "the Jaargroep must be 1 to 8",
    );
    refused_at(
        row("leerkracht;T1;Piet;;Jong;;;;;directeur"),
        4,
        "a Rol is not one",
    );
    refused_at(
        row("leerling;L1;Sa\u{7}ar;;Jong;3A;;;;"),
        4,
        "control character",
    );
    refused_at(
        row("leerling;L1;\"Saar\"x;;Jong;3A;;;;"),
        4,
        "after a cell's closing quote",
    );
    // Truncated in the middle of a quoted cell.
    refused_at(row("leerling;L1;\"Saar"), 4, "never closed");
    // The same key twice (per Soort), and the same ECK-iD twice: both rows named.
    let e = refused(row("leerling;L0;Eva;;de Wit;3B;;;;"));
    assert_eq!(e.line, 4, "{e}");
    assert!(e.message.contains("row 2"), "{e}");
    assert!(
        !e.message.contains("L0") && !e.message.contains("Wit"),
        "no values: {e}"
    );
    let same_key_other_kind = row("leerkracht;L0;Eva;;Smit;;;;;");
    assert_eq!(parse(same_key_other_kind.as_bytes()).unwrap().rows.len(), 2);
    let e = eckid("b");
    let twice = format!("{HEADER}\nleerling;L1;A;;B;3A;;;{e};\nleerkracht;T1;C;;D;;;;{e};\n");
    refused_at(twice, 3, "the same ECK-iD as row 2");
}

#[test]
fn the_header_is_checked_first() {
    refused_at("", 1, "the file is empty");
    refused_at("\n\n", 1, "the file is empty");
    refused_at(
        "Soort;Sleutel;Voornaam\nleerling;1;A",
        1,
        "lacks the column(s) Achternaam, Groep",
    );
    let e = refused("Jansen;Piet;3A\n");
    assert!(
        !e.message.contains("Jansen"),
        "a data row as header is not echoed: {e}"
    );
    refused_at(
        format!("{HEADER};Geboortedatum\nleerling;1;A;;B;3A;;;;;2019-01-01\n"),
        1,
        "column K ('Geboortedatum') is not one Leerpoort reads",
    );
    refused_at(
        "Soort;Sleutel;Voornaam;Achternaam;Groep;groep\n",
        1,
        "the column Groep appears twice",
    );
    // A column without a name is passed over.
    let csv = "Soort;Sleutel;Voornaam;Achternaam;Groep;;\nleerling;1;A;B;3A;notes;\n";
    assert_eq!(parse(csv.as_bytes()).unwrap().rows.len(), 1);
    // UTF-16 and the old .xls are named as what they are.
    refused_at(b"\xFF\xFES\0o\0", 1, "UTF-16");
    refused_at(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 1, ".xls");
}

#[test]
fn size_and_row_limits() {
    let mut big = HEADER.as_bytes().to_vec();
    big.resize(MAX_BYTES + 1, b' ');
    refused_at(&big, 1, "more than the");
    let mut many = format!("{HEADER}\n");
    for i in 0..=MAX_ROWS {
        many.push_str(&format!("leerling;{i};A;;B;3A;;;;\n"));
    }
    refused_at(&many, MAX_ROWS + 2, "at most 20000 people");
    let cut = many.rsplit_once("leerling").unwrap().0;
    assert_eq!(parse(cut.as_bytes()).unwrap().rows.len(), MAX_ROWS as usize);
}

// ---- XLSX ----

type Cells<'a> = &'a [&'a [&'a str]];

/// A workbook with one sheet of text cells (and the sheet's name).
fn workbook(sheets: &[(&str, Cells<'_>)]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let ws = book.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if !v.is_empty() {
                    ws.write_string(r as u32, c as u16, *v).unwrap();
                }
            }
        }
    }
    book.save_to_buffer().unwrap()
}

const XHEADER: &[&str] = &[
    "Soort",
    "Sleutel",
    "Voornaam",
    "Achternaam",
    "Groep",
    "Jaargroep",
];

#[test]
fn an_xlsx_workbook_is_read_from_its_gebruikers_sheet() {
    let notes: Cells = &[&["Uitleg"], &["vul het blad Gebruikers in"]];
    let people: Cells = &[
        XHEADER,
        &["leerling", "L1", "Saar", "Jong", "3A", "3"],
        &[],
        &["leerkracht", "T1", "Marloes", "Visser", "3A", ""],
    ];
    let bytes = workbook(&[("Uitleg", notes), ("Gebruikers", people)]);
    let sheet = parse(&bytes).unwrap();
    assert_eq!(sheet.format, Format::Xlsx);
    assert_eq!(sheet.rows.len(), 2);
    assert_eq!(
        (sheet.rows[1].line, sheet.rows[1].soort),
        (4, Soort::Leerkracht)
    );
    // Without a sheet of that name: the first one.
    let bytes = workbook(&[("Blad1", people)]);
    assert_eq!(parse(&bytes).unwrap().rows[0].voornaam, "Saar");
}

#[test]
fn numbers_are_text_and_dates_are_refused() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (c, h) in XHEADER.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "leerling").unwrap();
    ws.write_number(1, 1, 1234.0).unwrap();
    ws.write_string(1, 2, "Saar").unwrap();
    ws.write_string(1, 3, "Jong").unwrap();
    ws.write_number(1, 4, 7.0).unwrap();
    ws.write_number(1, 5, 7.0).unwrap();
    let r = &parse(&book.save_to_buffer().unwrap()).unwrap().rows[0];
    assert_eq!((r.sleutel.as_str(), r.groepen[0].as_str()), ("1234", "7"));
    assert_eq!(r.jaargroep.as_deref(), Some("7"));

    let ws = book.worksheet_from_index(0).unwrap();
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2019, 5, 1).unwrap();
    let format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    ws.write_datetime_with_format(2, 1, &date, &format).unwrap();
    ws.write_string(2, 0, "leerling").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    refused_at(&bytes, 3, "a date or a time");
}

/// `xlsx` with each part passed through `edit` (name, content) and any `extra` parts added.
fn repack(
    xlsx: &[u8],
    edit: impl Fn(&str, Vec<u8>) -> Vec<u8>,
    extra: &[(&str, &[u8])],
) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..zip.len() {
        let mut part = zip.by_index(i).unwrap();
        let name = part.name().unwrap().to_string();
        let mut data = Vec::new();
        part.read_to_end(&mut data).unwrap();
        out.start_file(name.as_str(), opts).unwrap();
        out.write_all(&edit(&name, data)).unwrap();
    }
    for (name, data) in extra {
        out.start_file(*name, opts).unwrap();
        out.write_all(data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

fn small_workbook() -> Vec<u8> {
    workbook(&[(
        "Gebruikers",
        &[XHEADER, &["leerling", "L1", "Saar", "Jong", "3A", "3"]],
    )])
}

#[test]
fn a_zip_bomb_is_refused_before_calamine_reads_it() {
    // 100 MB of zeros pack into about 100 KB.
    let zeros = vec![0u8; 100 * 1024 * 1024];
    let bomb = repack(
        &small_workbook(),
        |_, d| d,
        &[("xl/media/image1.png", &zeros)],
    );
    assert!(bomb.len() < 1024 * 1024, "{}", bomb.len());
    refused_at(&bomb, 1, "unpacks to more than 64 MB");
    // The same size hidden in the sheet itself.
    let sheet_bomb = repack(
        &small_workbook(),
        |name, d| {
            if name.ends_with("sheet1.xml") {
                let mut d = String::from_utf8(d).unwrap();
                let at = d.find("<sheetData>").unwrap();
                d.insert_str(at, &" ".repeat(70 * 1024 * 1024));
                d.into_bytes()
            } else {
                d
            }
        },
        &[],
    );
    refused_at(&sheet_bomb, 1, "unpacks to more than 64 MB");
}

#[test]
fn a_shared_strings_count_that_would_reserve_terabytes_is_refused() {
    let huge = repack(
        &small_workbook(),
        |name, d| {
            if name.ends_with("sharedStrings.xml") {
                let d = String::from_utf8(d).unwrap();
                let at = d.find("uniqueCount=\"").unwrap() + "uniqueCount=\"".len();
                let end = at + d[at..].find('"').unwrap();
                format!("{}100000000000{}", &d[..at], &d[end..]).into_bytes()
            } else {
                d
            }
        },
        &[],
    );
    refused_at(&huge, 1, "declares more shared strings");
}

#[test]
fn far_away_cells_truncated_and_foreign_containers_are_refused() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (c, h) in XHEADER.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1_048_575, 0, "x").unwrap();
    refused_at(
        book.save_to_buffer().unwrap(),
        1_048_576,
        "values beyond row 20001",
    );
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.write_string(0, 16_383, "x").unwrap();
    refused_at(book.save_to_buffer().unwrap(), 1, "a value in column XFD");

    let whole = small_workbook();
    refused_at(&whole[..whole.len() / 2], 1, "damaged or cut short");
    refused_at(&whole[..whole.len() - 10], 1, "damaged or cut short");
    // A zip file that is no workbook.
    let other = repack(&small_workbook(), |_, d| d, &[]);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("readme.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"hello").unwrap();
    let plain = zip.finish().unwrap().into_inner();
    refused_at(&plain, 1, "the Excel file cannot be read");
    assert!(parse(&other).is_ok(), "repacking keeps a workbook readable");
}

#[test]
fn mutated_files_never_panic() {
    let csv = school_csv().into_bytes();
    let xlsx = small_workbook();
    for base in [&csv, &xlsx] {
        for i in (0..base.len()).step_by(7) {
            let mut m = base.clone();
            m[i] = m[i].wrapping_add(0x5A);
            let _ = parse(&m);
            let _ = parse(&base[..i]);
        }
    }
}
