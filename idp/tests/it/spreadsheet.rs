//! The spreadsheet door: `leerpoort import spreadsheet` as a process on both backends (CSV and
//! XLSX, the report, the dry run, idempotence, a pupil who leaves and comes back, a move to
//! another group, bad, truncated and hostile files refused with their row and nothing
//! written), and in Beheer: the upload of a CSV, checked then imported once, and the template,
//! for the coordinator only.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use actix_web::http::StatusCode;
use broker::repo::{Groups as _, Users as _};
use claims::InstellingRef;
use serde_json::{json, Value};

use crate::cli::Env;
use crate::import::{by_key, c, counts, import_by, users, zonnebloem};
use crate::on_both_backends;
use crate::school::demo_app;
use crate::support::browser::Browser;
use crate::support::page::hidden;
use crate::support::TestDb;

const HEADER: &str =
    "Soort;Sleutel;Voornaam;Tussenvoegsel;Achternaam;Groep;Jaargroep;E-mailadres;ECK-iD;Rol";

fn saar_eck() -> String {
    format!("https://ketenid.nl/201703/{}", "5a".repeat(64))
}

/// Three pupils in three groups (Deniz in two, with an old-style ECK-iD that is not valid),
/// a teacher with IB and ICT, and a student teacher without e-mail or group.
fn first_file() -> String {
    format!(
        "{HEADER}\r\n\
         leerling;1001;Saar;de;Jong;Groep 3;3;;{};\r\n\
         leerling;1002;Deniz;;Yilmaz;\"Groep 3, Leesclub\";3;;https://id.school/LL_!@#$%^;\r\n\
         leerling;1003;Eva;;Smit;Groep 4;4;;;\r\n\
         leerkracht;T1;Marloes;;Visser;\"Groep 3, Groep 4\";;marloes.visser@zonnebloem.example;;IB, ICT\r\n\
         leerkracht;T2;Bram;van;Dijk;;;;;stagiaire\r\n",
        saar_eck()
    )
}

/// The next file: Saar has left, Deniz moved up to groep 4, Marloes teaches only groep 4.
fn next_file() -> String {
    format!(
        "{HEADER}\r\n\
         leerling;1002;Deniz;;Yilmaz;\"Groep 4, Leesclub\";4;;;\r\n\
         leerling;1003;Eva;;Smit;Groep 4;4;;;\r\n\
         leerkracht;T1;Marloes;;Visser;Groep 4;;marloes.visser@zonnebloem.example;;IB\r\n\
         leerkracht;T2;Bram;van;Dijk;;;;;stagiaire\r\n"
    )
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn import(env: &Env, file: &Path, school: &str, dry: bool) -> Value {
    import_by(env, "spreadsheet", file, school, dry)
}

/// The school's groups: (key, name, jaargroep, composite), by key.
fn groups(db: &TestDb, school: &str) -> Vec<(String, String, Option<u8>, bool)> {
    let r: InstellingRef = school.parse().unwrap();
    let mut g: Vec<_> = db
        .directory()
        .groups_of_school(&r)
        .unwrap()
        .into_iter()
        .map(|g| (g.key, g.name, g.jaargroep.map(|j| j.get()), g.composite))
        .collect();
    g.sort();
    g
}

/// The keys of the groups user `key` is in.
fn groups_of(db: &TestDb, school: &str, key: &str) -> Vec<String> {
    let r: InstellingRef = school.parse().unwrap();
    let dir = db.directory();
    let all = dir.groups_of_school(&r).unwrap();
    let user = dir
        .users_of_school(&r)
        .unwrap()
        .into_iter()
        .find(|u| u.las_key.as_deref() == Some(key))
        .unwrap();
    let mut keys: Vec<String> = all
        .into_iter()
        .filter(|g| user.group_ids.contains(&g.id))
        .map(|g| g.key)
        .collect();
    keys.sort();
    keys
}

on_both_backends!(
    a_csv_file_is_imported_once_and_people_keep_their_ids,
    |db: &TestDb| {
        let env = Env::on(&db.url);
        let school = zonnebloem(&env);
        let tmp = tempfile::tempdir().unwrap();
        let first = write(tmp.path(), "gebruikers.csv", first_file());

        // A dry run reports and writes nothing.
        let dry = import(&env, &first, &school, true);
        assert_eq!(
            (dry["dry_run"].clone(), dry["format"].clone()),
            (json!(true), json!("csv"))
        );
        assert!(dry.get("edexml_version").is_none(), "{dry}");
        let year = dry["school_year"].as_str().unwrap();
        assert!(year.len() == 9 && year.as_bytes()[4] == b'-', "{year}");
        assert_eq!(counts(&dry), json!([c(3, 3, 2), c(0, 0, 0), c(0, 0, 0)]));
        assert!(users(&env, &school).is_empty());
        assert!(groups(db, &school).is_empty());

        let real = import(&env, &first, &school, false);
        assert_eq!(
            counts(&real),
            counts(&dry),
            "the dry run told what the import did"
        );
        let warnings = real["warnings"].to_string();
        assert!(
            warnings.contains("line 3: the eckid is not a valid ECK-iD"),
            "{warnings}"
        );
        assert!(warnings.contains("ICT"), "{warnings}");
        assert!(
            !warnings.contains("LL_"),
            "the value is never echoed: {warnings}"
        );
        let after = users(&env, &school);
        assert_eq!(after.len(), 5);
        let saar = by_key(&after, "1001").clone();
        assert_eq!(
            (
                saar["given_name"].clone(),
                saar["family_name"].clone(),
                saar["status"].clone()
            ),
            (json!("Saar"), json!("de Jong"), json!("active"))
        );
        assert_eq!(saar["source"], "spreadsheet");
        let marloes = by_key(&after, "T1");
        assert_eq!(
            marloes["status"], "inactive",
            "teachers activate by mail first"
        );
        assert_eq!(marloes["email"], "marloes.visser@zonnebloem.example");
        assert_eq!(
            marloes["roles"],
            json!(["leerkracht", "ib"]),
            "IB given, ICT not"
        );
        let bram = by_key(&after, "T2");
        assert_eq!(
            bram["email"],
            Value::Null,
            "a teacher without e-mail is kept"
        );
        assert_eq!(bram["roles"], json!(["leerkracht", "stagiaire"]));
        assert_eq!(
            groups(db, &school),
            vec![
                ("groep 3".to_string(), "Groep 3".to_string(), Some(3), false),
                ("groep 4".to_string(), "Groep 4".to_string(), Some(4), false),
                (
                    "leesclub".to_string(),
                    "Leesclub".to_string(),
                    Some(3),
                    false
                ),
            ]
        );
        assert_eq!(groups_of(db, &school, "1002"), vec!["groep 3", "leesclub"]);

        // The same file again changes nothing.
        let again = import(&env, &first, &school, false);
        assert_eq!(counts(&again), json!([c(0, 0, 0), c(0, 0, 0), c(0, 0, 0)]));

        // Saar leaves; Deniz moves to groep 4 (a change, not a new pupil); groep 3 goes.
        let next = write(tmp.path(), "volgende.csv", next_file());
        let r = import(&env, &next, &school, false);
        assert_eq!(
            counts(&r),
            json!([c(0, 0, 0), c(1, 1, 1), c(1, 1, 0)]),
            "leesclub's jaargroep, Deniz and Marloes changed; groep 3 and Saar gone: {r}"
        );
        let now = users(&env, &school);
        assert_eq!(by_key(&now, "1001")["status"], "left", "not deleted");
        assert_eq!(
            by_key(&now, "1002")["user_id"],
            by_key(&after, "1002")["user_id"]
        );
        assert_eq!(groups_of(db, &school, "1002"), vec!["groep 4", "leesclub"]);

        // Saar is back in the next file: the same person, by her ECK-iD and key.
        let r = import(&env, &first, &school, false);
        assert_eq!(r["added"]["pupils"], 0, "{r}");
        let back = users(&env, &school);
        let saar_now = by_key(&back, "1001");
        assert_eq!(
            (saar_now["user_id"].clone(), saar_now["status"].clone()),
            (saar["user_id"].clone(), json!("active"))
        );
    }
);

/// The first file's people as an Excel workbook, with the pupils' keys as numbers.
fn first_workbook() -> Vec<u8> {
    let csv = first_file();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Gebruikers").unwrap();
    let mut row = 0u32;
    let mut records = csv.lines();
    let header = records.next().unwrap();
    for (col, name) in (0u16..).zip(header.split(';')) {
        sheet.write_string(row, col, name).unwrap();
    }
    for line in records {
        row += 1;
        // The first file quotes its group lists: split outside quotes.
        let mut cells = Vec::new();
        let mut quoted = false;
        let mut cell = String::new();
        for ch in line.chars() {
            match ch {
                '"' => quoted = !quoted,
                ';' if !quoted => cells.push(std::mem::take(&mut cell)),
                _ => cell.push(ch),
            }
        }
        cells.push(cell);
        for (col, value) in (0u16..).zip(&cells) {
            if value.is_empty() {
                continue;
            }
            match value.parse::<f64>() {
                Ok(n) => sheet.write_number(row, col, n).unwrap(),
                Err(_) => sheet.write_string(row, col, value).unwrap(),
            };
        }
    }
    book.save_to_buffer().unwrap()
}

on_both_backends!(
    an_xlsx_workbook_brings_the_same_people_as_the_csv,
    |db: &TestDb| {
        let env = Env::on(&db.url);
        let school = zonnebloem(&env);
        let tmp = tempfile::tempdir().unwrap();
        let xlsx = write(tmp.path(), "gebruikers.xlsx", first_workbook());
        let r = import(&env, &xlsx, &school, false);
        assert_eq!(r["format"], "xlsx");
        assert_eq!(
            counts(&r),
            json!([c(3, 3, 2), c(0, 0, 0), c(0, 0, 0)]),
            "{r}"
        );
        // The same people as CSV: nothing changes (keys typed as numbers are the same keys).
        let csv = write(tmp.path(), "gebruikers.csv", first_file());
        let r = import(&env, &csv, &school, false);
        assert_eq!(
            counts(&r),
            json!([c(0, 0, 0), c(0, 0, 0), c(0, 0, 0)]),
            "{r}"
        );
        // Detected by content, not by name.
        let renamed = write(tmp.path(), "gebruikers.csv.txt", first_workbook());
        assert_eq!(import(&env, &renamed, &school, true)["format"], "xlsx");
        assert_eq!(groups(db, &school).len(), 3);
    }
);

/// `xlsx` with one more part, deflated.
fn with_part(xlsx: &[u8], name: &str, data: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new_append(Cursor::new(xlsx.to_vec())).unwrap();
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file(name, opts).unwrap();
    zip.write_all(data).unwrap();
    zip.finish().unwrap().into_inner()
}

on_both_backends!(
    bad_truncated_and_hostile_files_are_refused_with_their_row_and_nothing_written,
    |db: &TestDb| {
        let env = Env::on(&db.url);
        let school = zonnebloem(&env);
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let workbook = first_workbook();
        let zeros = vec![0u8; 100 * 1024 * 1024];
        let cases: Vec<(PathBuf, &str)> = vec![
            (
                write(
                    d,
                    "dubbel.csv",
                    format!("{}leerling;1001;Anna;;Bos;Groep 3;3;;;\r\n", first_file()),
                ),
                ":7: the same Sleutel as row 2",
            ),
            (
                write(
                    d,
                    "afgebroken.csv",
                    format!("{}leerling;1004;\"Fen", first_file()),
                ),
                ":7: a cell's opening quote is never closed",
            ),
            (
                write(
                    d,
                    "kolom.csv",
                    first_file().replacen("Rol", "Rol;Geboortedatum", 1),
                ),
                ":1: column K ('Geboortedatum') is not one Leerpoort reads",
            ),
            (
                write(
                    d,
                    "zonder-groep.csv",
                    format!("{HEADER}\nleerling;1;Saar;;Jong;;;;;\n"),
                ),
                ":2: the Groep is empty",
            ),
            (
                write(d, "afgebroken.xlsx", &workbook[..workbook.len() / 2]),
                ":1: the Excel file cannot be read: its zip container is damaged or cut short",
            ),
            (
                write(
                    d,
                    "bom.xlsx",
                    with_part(&workbook, "xl/media/image1.png", &zeros),
                ),
                ":1: the Excel file unpacks to more than 64 MB",
            ),
            (
                write(
                    d,
                    "groot.csv",
                    vec![b' '; protocol::spreadsheet::MAX_BYTES + 1],
                ),
                ":1: the file is larger than 10 MB",
            ),
        ];
        for (file, says) in &cases {
            let e = env.fails(&[
                "import",
                "spreadsheet",
                file.to_str().unwrap(),
                "--school",
                &school,
            ]);
            let e = e.trim_start_matches("leerpoort: ");
            let name = file.display().to_string();
            assert!(
                e.starts_with(&format!("{name}:")),
                "FILE:LINE: message — {e}"
            );
            assert!(e.contains(says), "{says}: {e}");
            assert!(!e.contains("Anna") && !e.contains("Bos"), "no names: {e}");
        }
        assert!(
            std::fs::metadata(&cases[5].0).unwrap().len() < 1024 * 1024,
            "a small bomb"
        );
        assert!(users(&env, &school).is_empty(), "nothing written");
        assert!(groups(db, &school).is_empty(), "nothing written");
    }
);

const SCHOOL: &str = idp::demo::DEMO_SCHOOL_REF;
const COORDINATOR: &str = "sanne.jansen@regenboog.example";
const TEACHER: &str = "anna.devries@regenboog.example";

/// Upload `file` on the Beheer page, as a browser sends a form with a file.
async fn upload<S, B>(b: &mut Browser, app: &S, csrf: &str, file: &[u8]) -> String
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let boundary = "----leerpoort-spreadsheet-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"bestand\"; filename=\"leerlingen.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = actix_web::test::TestRequest::post()
        .uri("/beheer/gebruikersgegevens")
        .insert_header((
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        ))
        .set_payload(body);
    let res = b.send_raw(app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    String::from_utf8(actix_web::test::read_body(res).await.to_vec()).unwrap()
}

/// GET `path`: the status, the content type and the body's bytes.
async fn download<S, B>(b: &mut Browser, app: &S, path: &str) -> (StatusCode, String, Vec<u8>)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let res = b
        .send_raw(app, actix_web::test::TestRequest::get().uri(path))
        .await;
    let status = res.status();
    let kind = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, actix_web::test::read_body(res).await.to_vec())
}

#[actix_web::test]
async fn a_coordinator_downloads_the_template_checks_a_csv_then_imports_it_once() {
    let (t, _) = demo_app();
    let app = actix_web::test::init_service(idp::server::app(t.state.clone())).await;
    let school: InstellingRef = SCHOOL.parse().unwrap();
    let before = t.state.dir.users_of_school(&school).unwrap().len();
    let csv = "\u{FEFF}Soort;Sleutel;Voornaam;Tussenvoegsel;Achternaam;Groep\r\n\
               leerling;5001;Fenna;;Bakker;Groep 5\r\n\
               leerling;5002;Sem;van;Leeuwen;Groep 5\r\n\
               leerkracht;5100;Ilse;;Mulder;Groep 5\r\n";

    // The template: the coordinator's only.
    let mut nobody = Browser::new();
    let (status, _, _) =
        download(&mut nobody, &app, "/beheer/gebruikersgegevens/sjabloon.csv").await;
    assert_eq!(status, StatusCode::FOUND, "to the sign-in form");
    let mut teacher = Browser::new();
    teacher.sign_in(&app, TEACHER).await;
    for path in ["sjabloon.csv", "sjabloon.xlsx"] {
        let (status, _, _) = download(
            &mut teacher,
            &app,
            &format!("/beheer/gebruikersgegevens/{path}"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "a teacher: {path}");
    }
    let mut b = Browser::new();
    b.sign_in(&app, COORDINATOR).await;
    let (status, kind, body) =
        download(&mut b, &app, "/beheer/gebruikersgegevens/sjabloon.csv").await;
    assert_eq!(
        (status, kind.as_str()),
        (StatusCode::OK, "text/csv; charset=utf-8")
    );
    assert!(body.starts_with(b"\xEF\xBB\xBFSoort;Sleutel;Voornaam;Tussenvoegsel;Achternaam;Groep;"));
    let (status, kind, body) =
        download(&mut b, &app, "/beheer/gebruikersgegevens/sjabloon.xlsx").await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.contains("spreadsheetml"), "{kind}");
    let empty = protocol::spreadsheet::parse(&body).unwrap_err();
    assert!(
        empty.message.contains("no leerling or leerkracht"),
        "the columns are right: {empty}"
    );

    let (_, _, page) = b.get(&app, "/beheer/gebruikersgegevens").await;
    assert!(
        page.contains("Sjabloon downloaden (Excel)") && page.contains("Geen LAS?"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf_token");

    // A broken file: refused with its row, nothing changed.
    let twice = format!("{csv}leerling;5001;Noor;;Bos;Groep 5\r\n");
    let page = upload(&mut b, &app, &csrf, twice.as_bytes()).await;
    assert!(
        page.contains("Regel 5:") && page.contains("niets veranderd"),
        "{page}"
    );
    assert!(!page.contains("Noor"), "no names in the refusal: {page}");

    // The check: what would change, nothing written yet.
    let page = upload(&mut b, &app, &csrf, csv.as_bytes()).await;
    assert!(page.contains("Er is nog niets veranderd"), "{page}");
    assert!(page.contains("· spreadsheet"), "{page}");
    assert_eq!(t.state.dir.users_of_school(&school).unwrap().len(), before);
    let token = hidden(&page, "controle");

    // Importeren: done, once.
    let confirm = [("csrf_token", csrf.as_str()), ("controle", token.as_str())];
    let (status, _, page) = b
        .post(&app, "/beheer/gebruikersgegevens/importeren", &confirm)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("De gegevens zijn geïmporteerd."), "{page}");
    let now = t.state.dir.users_of_school(&school).unwrap();
    assert_eq!(now.len(), before + 3);
    assert!(now.iter().filter(|u| u.source == "spreadsheet").count() == 3);
    let (_, _, page) = b
        .post(&app, "/beheer/gebruikersgegevens/importeren", &confirm)
        .await;
    assert!(
        page.contains("De controle is verlopen"),
        "used once: {page}"
    );
    let line = t
        .state
        .dir
        .audit_events(Some(&school), 5)
        .unwrap()
        .into_iter()
        .find(|e| e.action == "import.applied")
        .unwrap();
    assert_eq!(line.details["source"], "spreadsheet");
    assert_eq!(line.details["added"]["pupils"], 2);
}
