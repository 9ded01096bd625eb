//! The automatic LAS coupling's pull side (UWLR 2.3), end to end: Leerpoort fetches a
//! school's leerlinggegevens over HTTPS with its client certificate from a fake LAS written
//! here from the specification (SOAP 1.1, `SOAPAction: "HaalLeerlinggegevens"`, the
//! `autorisatie` header and the `leerlinggegevens_verzoek` body, read with quick-xml's
//! namespace-aware reader, independently of the `protocol` crate), by the command line
//! (`las add`, `las choose`, `las status`, `sync run`) and by the scheduler's nightly pull.
//! A wrong autorisatiesleutel, a missing client certificate, an untrusted server and hostile
//! or broken answers are refused without writing anything, and the key never shows.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use broker::admin::Ctx;
use broker::clock::{Clock, FixedClock};
use broker::import::las;
use broker::repo::{Audit as _, AuditQuery, LasCouplings as _};
use claims::InstellingRef;
use idp::app::AppState;
use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslAcceptor, SslMethod, SslStream, SslVerifyMode};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509Name, X509NameBuilder, X509};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use serde_json::{json, Value};

use crate::cli::Env;
use crate::import::{by_key, c, counts, users, zonnebloem};
use crate::on_both_backends;
use crate::support::TestDb;

/// The autorisatiesleutel the fake LAS issued for De Zonnebloem.
const KEY: &str = "uwlr-7f3a9c2e-d41b-4c55-zonnebloem";
/// Leerpoort's klantcode and klantnaam in the tests.
const KLANTCODE: &str = "lp-test";
const KLANTNAAM: &str = "Leerpoort test";
/// The CN of Leerpoort's client certificate in the tests.
const CLIENT_CN: &str = "leerpoort-test";
/// The fault a wrong key gets.
const REFUSED: &str = "Autorisatie mislukt: onbekende autorisatiesleutel";

const SOAP_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const AUTORISATIE_NS: &str = "http://www.edustandaard.nl/leerresultaten/2/autorisatie";
const LEERLINGGEGEVENS_NS: &str = "http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens";

// ---------------------------------------------------------------------------------------------
// The test PKI: a CA, the LAS's server certificate, Leerpoort's client certificate.
// ---------------------------------------------------------------------------------------------

fn p256() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

fn name(cn: &str) -> X509Name {
    let mut n = X509NameBuilder::new().unwrap();
    n.append_entry_by_nid(Nid::ORGANIZATIONNAME, "Leerpoort tests")
        .unwrap();
    n.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
    n.build()
}

fn serial() -> Asn1Integer {
    let mut s = BigNum::new().unwrap();
    s.rand(127, MsbOption::MAYBE_ZERO, false).unwrap();
    s.to_asn1_integer().unwrap()
}

/// What a certificate is for.
enum Kind {
    Ca,
    Server,
    Client,
}

/// A certificate for `key` named `cn`, signed by `issuer` (self-signed without one), valid
/// from an hour ago (TLS checks the real clock, not the tests' fixed one) for 30 days.
fn certificate(
    cn: &str,
    key: &PKey<Private>,
    kind: Kind,
    issuer: Option<(&X509, &PKey<Private>)>,
) -> X509 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&serial()).unwrap();
    let subject = name(cn);
    b.set_subject_name(&subject).unwrap();
    match issuer {
        Some((ca, _)) => b.set_issuer_name(ca.subject_name()).unwrap(),
        None => b.set_issuer_name(&subject).unwrap(),
    }
    b.set_pubkey(key).unwrap();
    b.set_not_before(&Asn1Time::from_unix(now - 3600).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::from_unix(now + 30 * 86_400).unwrap())
        .unwrap();
    let ski = SubjectKeyIdentifier::new()
        .build(&b.x509v3_context(issuer.map(|(ca, _)| &**ca), None))
        .unwrap();
    b.append_extension(ski).unwrap();
    match kind {
        Kind::Ca => {
            b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
                .unwrap();
            b.append_extension(
                KeyUsage::new()
                    .critical()
                    .key_cert_sign()
                    .crl_sign()
                    .build()
                    .unwrap(),
            )
            .unwrap();
        }
        Kind::Server | Kind::Client => {
            let aki = AuthorityKeyIdentifier::new()
                .keyid(true)
                .build(&b.x509v3_context(issuer.map(|(ca, _)| &**ca), None))
                .unwrap();
            b.append_extension(aki).unwrap();
            b.append_extension(BasicConstraints::new().critical().build().unwrap())
                .unwrap();
            b.append_extension(
                KeyUsage::new()
                    .critical()
                    .digital_signature()
                    .build()
                    .unwrap(),
            )
            .unwrap();
            if let Kind::Server = kind {
                b.append_extension(ExtendedKeyUsage::new().server_auth().build().unwrap())
                    .unwrap();
                let san = SubjectAlternativeName::new()
                    .ip("127.0.0.1")
                    .dns("localhost")
                    .build(&b.x509v3_context(issuer.map(|(ca, _)| &**ca), None))
                    .unwrap();
                b.append_extension(san).unwrap();
            } else {
                b.append_extension(ExtendedKeyUsage::new().client_auth().build().unwrap())
                    .unwrap();
            }
        }
    }
    let signer = issuer.map(|(_, k)| k).unwrap_or(key);
    b.sign(signer, MessageDigest::sha256()).unwrap();
    b.build()
}

/// The certificates, and the PEM files Leerpoort is configured with.
struct Pki {
    _dir: tempfile::TempDir,
    ca: X509,
    server: (X509, PKey<Private>),
    ca_pem: PathBuf,
    client_cert_pem: PathBuf,
    client_key_pem: PathBuf,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let ca_key = p256();
        let ca = certificate("Leerpoort test CA", &ca_key, Kind::Ca, None);
        let server_key = p256();
        let server = certificate("localhost", &server_key, Kind::Server, Some((&ca, &ca_key)));
        let client_key = p256();
        let client = certificate(CLIENT_CN, &client_key, Kind::Client, Some((&ca, &ca_key)));
        let write = |file: &str, pem: Vec<u8>| {
            let p = dir.path().join(file);
            std::fs::write(&p, pem).unwrap();
            p
        };
        let ca_pem = write("ca.pem", ca.to_pem().unwrap());
        let client_cert_pem = write("client.pem", client.to_pem().unwrap());
        let client_key_pem = write(
            "client-key.pem",
            client_key.private_key_to_pem_pkcs8().unwrap(),
        );
        Pki {
            _dir: dir,
            ca,
            server: (server, server_key),
            ca_pem,
            client_cert_pem,
            client_key_pem,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The fake LAS: UWLR 2.3 `HaalLeerlinggegevens` over HTTPS with a required client certificate.
// ---------------------------------------------------------------------------------------------

/// What the fake LAS answers a valid request with the right key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The Zonnebloem fixture, for the school year asked.
    Fixture,
    /// The same with a DOCTYPE declaring an entity (an XXE / entity-expansion attempt).
    Doctype,
    /// The same with a leerling in a groep the answer does not have.
    UnknownGroep,
}

/// One request the fake LAS read, valid by the specification.
#[derive(Debug, Clone, Default)]
struct Seen {
    autorisatiesleutel: String,
    klantcode: String,
    klantnaam: String,
    schooljaar: String,
    brincode: Option<String>,
    dependancecode: Option<String>,
    schoolkey: Option<String>,
    xsdversie: Option<String>,
    laatstontvangengegevens: Option<String>,
    /// The CN of the client certificate it came with.
    client_cn: Option<String>,
}

#[derive(Debug)]
struct Shared {
    mode: Mode,
    /// Every valid request, in order.
    seen: Vec<Seen>,
    /// Requests that are not valid by the specification (what is wrong).
    problems: Vec<String>,
    /// TLS handshakes that failed (why, as OpenSSL says).
    refused: Vec<String>,
}

struct FakeLas {
    pki: Pki,
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

impl FakeLas {
    /// Serve on 127.0.0.1 (a port of its own), in the background, for the rest of the test
    /// binary's life.
    fn start() -> FakeLas {
        let pki = Pki::new();
        let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
        b.set_certificate(&pki.server.0).unwrap();
        b.set_private_key(&pki.server.1).unwrap();
        b.check_private_key().unwrap();
        b.cert_store_mut().add_cert(pki.ca.clone()).unwrap();
        b.add_client_ca(&pki.ca).unwrap();
        b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
        b.set_session_id_context(b"leerpoort-fake-las").unwrap();
        let acceptor = Arc::new(b.build());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Mutex::new(Shared {
            mode: Mode::Fixture,
            seen: Vec::new(),
            problems: Vec::new(),
            refused: Vec::new(),
        }));
        let s = shared.clone();
        std::thread::spawn(move || {
            for tcp in listener.incoming() {
                let Ok(tcp) = tcp else { continue };
                let (acceptor, s) = (acceptor.clone(), s.clone());
                std::thread::spawn(move || connection(&acceptor, tcp, &s));
            }
        });
        FakeLas { pki, addr, shared }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}/uwlr", self.addr.port())
    }

    fn set_mode(&self, mode: Mode) {
        self.shared.lock().unwrap().mode = mode;
    }

    fn seen(&self) -> Vec<Seen> {
        self.shared.lock().unwrap().seen.clone()
    }

    fn refused(&self) -> Vec<String> {
        self.shared.lock().unwrap().refused.clone()
    }

    /// Every request it got was valid by the specification.
    fn assert_no_problems(&self) {
        let problems = self.shared.lock().unwrap().problems.clone();
        assert!(
            problems.is_empty(),
            "requests not valid by UWLR: {problems:?}"
        );
    }

    /// The `LEERPOORT_UWLR_*` settings for this LAS: Leerpoort's client certificate and key,
    /// the test CA, the klantcode and klantnaam.
    fn uwlr_env(&self) -> Vec<(&'static str, String)> {
        let p = |p: &Path| p.display().to_string();
        vec![
            ("LEERPOORT_UWLR_CLIENT_CERT", p(&self.pki.client_cert_pem)),
            ("LEERPOORT_UWLR_CLIENT_KEY", p(&self.pki.client_key_pem)),
            ("LEERPOORT_UWLR_CA", p(&self.pki.ca_pem)),
            ("LEERPOORT_UWLR_KLANTCODE", KLANTCODE.into()),
            ("LEERPOORT_UWLR_KLANTNAAM", KLANTNAAM.into()),
        ]
    }

    /// `env` with [`Self::uwlr_env`], but for the names in `without`.
    fn configure(&self, env: &mut Env, without: &[&str]) {
        for (k, v) in self.uwlr_env() {
            if !without.contains(&k) {
                env.set(k, &v);
            }
        }
    }
}

/// One connection: the TLS handshake (a client certificate signed by the CA required), one
/// HTTP/1.1 request, one answer, closed.
fn connection(acceptor: &SslAcceptor, tcp: TcpStream, shared: &Mutex<Shared>) {
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    tcp.set_write_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut tls = match acceptor.accept(tcp) {
        Ok(t) => t,
        Err(e) => {
            shared.lock().unwrap().refused.push(e.to_string());
            return;
        }
    };
    let client_cn = tls.ssl().peer_certificate().and_then(|c| {
        c.subject_name()
            .entries_by_nid(Nid::COMMONNAME)
            .next()
            .and_then(|e| e.data().to_string().ok())
    });
    let mode = shared.lock().unwrap().mode;
    let (status, body) = match read_request(&mut tls).and_then(|r| check_request(&r)) {
        Err(problem) => {
            shared.lock().unwrap().problems.push(problem.clone());
            (
                500,
                fault("soap:Client", &format!("Ongeldig verzoek: {problem}")),
            )
        }
        Ok(mut seen) => {
            seen.client_cn = client_cn;
            let answer = if seen.autorisatiesleutel == KEY {
                (200, antwoord(&seen.schooljaar, mode))
            } else {
                (500, fault("soap:Client", REFUSED))
            };
            shared.lock().unwrap().seen.push(seen);
            answer
        }
    };
    let reason = if status == 200 {
        "OK"
    } else {
        "Internal Server Error"
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = tls.write_all(head.as_bytes());
    let _ = tls.write_all(body.as_bytes());
    let _ = tls.flush();
    let _ = tls.shutdown();
}

/// An HTTP/1.1 request.
struct Request {
    method: String,
    path: String,
    version: String,
    /// Names in lower case.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Read one request: the head up to the empty line, then `Content-Length` bytes of body.
fn read_request(s: &mut SslStream<TcpStream>) -> Result<Request, String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return Err("the request head is larger than 64 kB".into());
        }
        let n = s
            .read(&mut chunk)
            .map_err(|e| format!("reading the request head: {e}"))?;
        if n == 0 {
            return Err("the connection closed before the request head ended".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..end])
        .map_err(|_| "the request head is not UTF-8".to_string())?
        .to_string();
    let mut lines = head.split("\r\n");
    let start: Vec<&str> = lines.next().unwrap_or("").split(' ').collect();
    let [method, path, version] = start[..] else {
        return Err(format!("not an HTTP request line: {start:?}"));
    };
    let mut headers = Vec::new();
    for line in lines {
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| format!("not a header line: {line:?}"))?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let mut r = Request {
        method: method.into(),
        path: path.into(),
        version: version.into(),
        headers,
        body: buf[end + 4..].to_vec(),
    };
    if r.header("transfer-encoding").is_some() {
        return Err("a SOAP request of known size is sent with Content-Length".into());
    }
    let len: usize = r
        .header("content-length")
        .ok_or("no Content-Length")?
        .parse()
        .map_err(|_| "Content-Length is not a number".to_string())?;
    if len > 1024 * 1024 {
        return Err(format!("a request of {len} bytes"));
    }
    while r.body.len() < len {
        let n = s
            .read(&mut chunk)
            .map_err(|e| format!("reading the request body: {e}"))?;
        if n == 0 {
            return Err("the connection closed before the request body ended".into());
        }
        r.body.extend_from_slice(&chunk[..n]);
    }
    if r.body.len() != len {
        return Err("more bytes than Content-Length".into());
    }
    Ok(r)
}

/// Check the HTTP side of `HaalLeerlinggegevens`, then read its envelope.
fn check_request(r: &Request) -> Result<Seen, String> {
    if r.method != "POST" {
        return Err(format!("method {}, not POST", r.method));
    }
    if r.path != "/uwlr" {
        return Err(format!("path {}, not /uwlr", r.path));
    }
    if r.version != "HTTP/1.1" {
        return Err(format!("{}, not HTTP/1.1", r.version));
    }
    match r.header("soapaction") {
        Some("\"HaalLeerlinggegevens\"") => {}
        other => {
            return Err(format!(
                "SOAPAction {other:?}, not \"HaalLeerlinggegevens\" in quotes"
            ))
        }
    }
    let content_type = r.header("content-type").ok_or("no Content-Type")?;
    let mut parts = content_type.split(';').map(str::trim);
    if !parts
        .next()
        .is_some_and(|t| t.eq_ignore_ascii_case("text/xml"))
    {
        return Err(format!(
            "Content-Type {content_type:?}: SOAP 1.1 is text/xml"
        ));
    }
    for p in parts {
        if let Some((k, v)) = p.split_once('=') {
            if k.trim().eq_ignore_ascii_case("charset")
                && !v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
            {
                return Err(format!("charset {v}, not utf-8"));
            }
        }
    }
    let xml = std::str::from_utf8(&r.body).map_err(|_| "the envelope is not UTF-8".to_string())?;
    read_envelope(xml)
}

/// An element the request may hold: its parent, namespace, local name, and whether it holds
/// text. Siblings are listed in the order the specification puts them in.
struct Def {
    parent: &'static str,
    ns: &'static str,
    name: &'static str,
    text: bool,
}

const fn def(parent: &'static str, ns: &'static str, name: &'static str, text: bool) -> Def {
    Def {
        parent,
        ns,
        name,
        text,
    }
}

const REQUEST: &[Def] = &[
    def("", SOAP_NS, "Envelope", false),
    def("Envelope", SOAP_NS, "Header", false),
    def("Envelope", SOAP_NS, "Body", false),
    def("Header", AUTORISATIE_NS, "autorisatie", false),
    def("autorisatie", AUTORISATIE_NS, "autorisatiesleutel", true),
    def("autorisatie", AUTORISATIE_NS, "klantcode", true),
    def("autorisatie", AUTORISATIE_NS, "klantnaam", true),
    def(
        "Body",
        LEERLINGGEGEVENS_NS,
        "leerlinggegevens_verzoek",
        false,
    ),
    def(
        "leerlinggegevens_verzoek",
        LEERLINGGEGEVENS_NS,
        "schooljaar",
        true,
    ),
    def(
        "leerlinggegevens_verzoek",
        LEERLINGGEGEVENS_NS,
        "brincode",
        true,
    ),
    def(
        "leerlinggegevens_verzoek",
        LEERLINGGEGEVENS_NS,
        "dependancecode",
        true,
    ),
    def(
        "leerlinggegevens_verzoek",
        LEERLINGGEGEVENS_NS,
        "schoolkey",
        true,
    ),
    def(
        "leerlinggegevens_verzoek",
        LEERLINGGEGEVENS_NS,
        "xsdversie",
        true,
    ),
    def(
        "leerlinggegevens_verzoek",
        LEERLINGGEGEVENS_NS,
        "gegevenssetid",
        true,
    ),
    def(
        "leerlinggegevens_verzoek",
        LEERLINGGEGEVENS_NS,
        "laatstontvangengegevens",
        true,
    ),
];

/// An open element: its definition's index, and the index of its last child so far.
struct Open {
    def: usize,
    last_child: Option<usize>,
}

/// Read the SOAP envelope of `HaalLeerlinggegevens` by the specification: every element in
/// its namespace, in its place and order, once; the values checked.
fn read_envelope(xml: &str) -> Result<Seen, String> {
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Open> = Vec::new();
    let mut root_last: Option<usize> = None;
    let mut values: HashMap<&'static str, String> = HashMap::new();
    let mut text = String::new();
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| format!("not well-formed XML: {e}"))?;
        let ns = match ns {
            ResolveResult::Bound(n) => Some(String::from_utf8_lossy(n.as_ref()).into_owned()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(p) => {
                return Err(format!(
                    "the prefix {} is not declared",
                    String::from_utf8_lossy(&p)
                ))
            }
        };
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let parent = stack.last().map(|o| REQUEST[o.def].name).unwrap_or("");
                if parent.is_empty() && root_last.is_some() {
                    return Err(format!("<{local}> after the root element"));
                }
                let i = REQUEST
                    .iter()
                    .position(|d| d.parent == parent && d.name == local)
                    .ok_or_else(|| format!("<{local}> is not expected in <{parent}>"))?;
                let d = &REQUEST[i];
                if ns.as_deref() != Some(d.ns) {
                    return Err(format!("<{local}> is in namespace {ns:?}, not {:?}", d.ns));
                }
                let last = match stack.last_mut() {
                    Some(o) => &mut o.last_child,
                    None => &mut root_last,
                };
                if last.is_some_and(|l| l >= i) {
                    return Err(format!("<{local}> is repeated or out of order"));
                }
                *last = Some(i);
                stack.push(Open {
                    def: i,
                    last_child: None,
                });
                text.clear();
                if empty {
                    close(&mut stack, &mut values, &mut text)?;
                }
            }
            Event::End(_) => close(&mut stack, &mut values, &mut text)?,
            Event::Text(t) => {
                let s = t
                    .xml10_content()
                    .map_err(|e| format!("text that is not UTF-8: {e}"))?;
                add_text(&stack, &mut text, &s)?;
            }
            Event::CData(t) => {
                let s = t
                    .decode()
                    .map_err(|e| format!("CDATA that is not UTF-8: {e}"))?;
                add_text(&stack, &mut text, &s)?;
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|e| format!("a bad character reference: {e}"))?
                        .ok_or("a bad character reference")?
                } else {
                    let name: &[u8] = &r;
                    match name {
                        b"lt" => '<',
                        b"gt" => '>',
                        b"amp" => '&',
                        b"apos" => '\'',
                        b"quot" => '"',
                        other => {
                            return Err(format!(
                                "the entity &{}; is not one of XML's five",
                                String::from_utf8_lossy(other)
                            ))
                        }
                    }
                };
                add_text(&stack, &mut text, c.encode_utf8(&mut [0; 4]))?;
            }
            Event::DocType(_) => return Err("a DOCTYPE in a SOAP message".into()),
            Event::PI(_) => return Err("a processing instruction in a SOAP message".into()),
            Event::Decl(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err("the envelope ends before its elements are closed".into());
    }
    if root_last.is_none() {
        return Err("no Envelope".into());
    }
    let take = |values: &mut HashMap<&str, String>, name: &str| values.remove(name);
    let mut v = values;
    let required = |v: &mut HashMap<&str, String>, name: &str| {
        take(v, name)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| format!("no <{name}>"))
    };
    let seen = Seen {
        autorisatiesleutel: required(&mut v, "autorisatiesleutel")?,
        klantcode: required(&mut v, "klantcode")?,
        klantnaam: required(&mut v, "klantnaam")?,
        schooljaar: required(&mut v, "schooljaar")?,
        brincode: take(&mut v, "brincode"),
        dependancecode: take(&mut v, "dependancecode"),
        schoolkey: take(&mut v, "schoolkey"),
        xsdversie: take(&mut v, "xsdversie"),
        laatstontvangengegevens: take(&mut v, "laatstontvangengegevens"),
        client_cn: None,
    };
    let year = |s: &str| s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit());
    match seen.schooljaar.split_once('-') {
        Some((a, b))
            if year(a)
                && year(b)
                && b.parse::<u32>().ok() == a.parse::<u32>().ok().map(|a| a + 1) => {}
        _ => return Err(format!("schooljaar {:?} is not YYYY-YYYY", seen.schooljaar)),
    }
    match (&seen.brincode, &seen.schoolkey) {
        (Some(b), None) => {
            let b = b.as_bytes();
            if !(b.len() == 4
                && b[..2].iter().all(u8::is_ascii_digit)
                && b[2..].iter().all(u8::is_ascii_uppercase))
            {
                return Err(format!("brincode {:?} is not 99XX", seen.brincode));
            }
        }
        (None, Some(_)) => {}
        _ => return Err("one of brincode and schoolkey names the school".into()),
    }
    if let Some(d) = &seen.dependancecode {
        if seen.brincode.is_none() || d.len() != 2 || !d.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("dependancecode {d:?}: two digits, with a brincode"));
        }
    }
    if let Some(x) = &seen.xsdversie {
        if x != "2.2" && x != "2.3" {
            return Err(format!("xsdversie {x:?}: this LAS speaks UWLR 2.2 and 2.3"));
        }
    }
    Ok(seen)
}

fn add_text(stack: &[Open], text: &mut String, s: &str) -> Result<(), String> {
    match stack.last() {
        Some(o) if REQUEST[o.def].text => text.push_str(s),
        _ if s.trim().is_empty() => {}
        Some(o) => return Err(format!("text in <{}>", REQUEST[o.def].name)),
        None => return Err("text outside the envelope".into()),
    }
    Ok(())
}

fn close(
    stack: &mut Vec<Open>,
    values: &mut HashMap<&'static str, String>,
    text: &mut String,
) -> Result<(), String> {
    let open = stack.pop().ok_or("an end tag without a start")?;
    let d = &REQUEST[open.def];
    if d.text {
        values.insert(d.name, std::mem::take(text));
    }
    Ok(())
}

/// The fixture, as an EDEXML document.
fn fixture() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/edexml/zonnebloem-2.1.xml");
    std::fs::read_to_string(p).unwrap()
}

/// The Leerlinggegevensantwoordbericht for `schooljaar`: the content of the fixture's
/// `<EDEX>` (without its XML declaration) in `<leerlinggegevens>`, in the leerlinggegevens
/// namespace by default, in an antwoord with a prefix of its own, as a Java LAS writes it.
fn antwoord(schooljaar: &str, mode: Mode) -> String {
    let f = fixture();
    let start = f.find("<EDEX>").unwrap() + "<EDEX>".len();
    let end = f.rfind("</EDEX>").unwrap();
    let mut content = f[start..end].to_string();
    let edits: &[(&str, &str)] = &[
        (
            "<schooljaar>2026-2027</schooljaar>",
            &format!("<schooljaar>{schooljaar}</schooljaar>"),
        ),
        ("<xsdversie>2.1</xsdversie>", "<xsdversie>2.3</xsdversie>"),
    ];
    for (from, to) in edits {
        assert!(content.contains(from), "{from}");
        content = content.replacen(from, to, 1);
    }
    if mode == Mode::UnknownGroep {
        // Deniz's groep: the first reference to G4 from a leerling.
        assert!(content.contains("<groep key=\"G4\"/>"));
        content = content.replacen("<groep key=\"G4\"/>", "<groep key=\"G9\"/>", 1);
    }
    let doctype = if mode == Mode::Doctype {
        "<!DOCTYPE S:Envelope [<!ENTITY naam \"De Zonnebloem\">]>\n"
    } else {
        ""
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{doctype}<S:Envelope xmlns:S=\"{SOAP_NS}\">\n<S:Body>\n<ns2:leerlinggegevens_antwoord xmlns:ns2=\"{LEERLINGGEGEVENS_NS}\">\n<leerlinggegevens xmlns=\"{LEERLINGGEGEVENS_NS}\">{content}</leerlinggegevens>\n</ns2:leerlinggegevens_antwoord>\n</S:Body>\n</S:Envelope>\n"
    )
}

/// A SOAP 1.1 fault.
fn fault(code: &str, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap:Envelope xmlns:soap=\"{SOAP_NS}\"><soap:Body><soap:Fault><faultcode>{code}</faultcode><faultstring>{}</faultstring></soap:Fault></soap:Body></soap:Envelope>\n",
        quick_xml::escape::escape(message)
    )
}

/// The line of the answer (1-based) where `needle` first occurs.
fn line_of(answer: &str, needle: &str) -> u32 {
    let i = answer.find(needle).unwrap();
    1 + answer[..i].bytes().filter(|&b| b == b'\n').count() as u32
}

/// A request envelope written by hand (not by Leerpoort), with prefixes of its own.
fn envelope(header: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{SOAP_NS}\" xmlns:aut=\"{AUTORISATIE_NS}\">\n<SOAP-ENV:Header>{header}</SOAP-ENV:Header>\n<SOAP-ENV:Body>{body}</SOAP-ENV:Body>\n</SOAP-ENV:Envelope>"
    )
}

const HEADER: &str = "<aut:autorisatie><aut:autorisatiesleutel>a&amp;b&#x43;</aut:autorisatiesleutel><aut:klantcode>k</aut:klantcode><aut:klantnaam>n</aut:klantnaam></aut:autorisatie>";

fn verzoek(content: &str) -> String {
    format!("<v:leerlinggegevens_verzoek xmlns:v=\"{LEERLINGGEGEVENS_NS}\">{content}</v:leerlinggegevens_verzoek>")
}

const VERZOEK: &str = "<v:schooljaar>2026-2027</v:schooljaar><v:brincode>12AB</v:brincode><v:dependancecode>00</v:dependancecode><v:xsdversie>2.3</v:xsdversie>";

/// The fake LAS is strict: what it accepts is a UWLR request, and it says what is wrong with
/// one that is not (so that the tests above would notice a request off the specification).
#[test]
fn the_fake_las_reads_requests_by_the_specification() {
    let ok = read_envelope(&envelope(HEADER, &verzoek(VERZOEK))).unwrap();
    assert_eq!(ok.autorisatiesleutel, "a&bC", "references resolved");
    assert_eq!((ok.klantcode.as_str(), ok.klantnaam.as_str()), ("k", "n"));
    assert_eq!(ok.schooljaar, "2026-2027");
    assert_eq!(ok.brincode.as_deref(), Some("12AB"));
    assert_eq!(ok.dependancecode.as_deref(), Some("00"));
    assert_eq!(ok.xsdversie.as_deref(), Some("2.3"));

    let refused = |xml: String, why: &str| {
        let e = read_envelope(&xml).expect_err(why);
        assert!(e.contains(why), "{e} (expected: {why})");
    };
    // The autorisatie in no namespace, or the verzoek's fields in the autorisatie's.
    refused(
        envelope(&HEADER.replace("aut:", ""), &verzoek(VERZOEK)),
        "<autorisatie> is in namespace None",
    );
    refused(
        envelope(
            HEADER,
            &verzoek(&VERZOEK.replace("v:brincode", "aut:brincode")),
        ),
        "<brincode> is in namespace",
    );
    // SOAP 1.2's envelope.
    refused(
        envelope(HEADER, &verzoek(VERZOEK))
            .replace(SOAP_NS, "http://www.w3.org/2003/05/soap-envelope"),
        "<Envelope> is in namespace",
    );
    // Out of order, twice, missing, malformed.
    refused(
        envelope(
            HEADER,
            &verzoek("<v:brincode>12AB</v:brincode><v:schooljaar>2026-2027</v:schooljaar>"),
        ),
        "out of order",
    );
    refused(
        envelope(
            HEADER,
            &verzoek(&format!("{VERZOEK}<v:xsdversie>2.3</v:xsdversie>")),
        ),
        "repeated",
    );
    refused(
        envelope(
            &HEADER.replace("<aut:klantcode>k</aut:klantcode>", ""),
            &verzoek(VERZOEK),
        ),
        "no <klantcode>",
    );
    refused(envelope("", &verzoek(VERZOEK)), "no <autorisatiesleutel>");
    refused(
        envelope(HEADER, &verzoek(&VERZOEK.replace("2026-2027", "2026-2028"))),
        "schooljaar",
    );
    refused(
        envelope(HEADER, &verzoek(&VERZOEK.replace("12AB", "12ab"))),
        "brincode",
    );
    refused(
        envelope(
            HEADER,
            &verzoek(&VERZOEK.replace("<v:xsdversie>2.3", "<v:xsdversie>2.1")),
        ),
        "xsdversie",
    );
    refused(
        format!("<!DOCTYPE x>{}", envelope(HEADER, &verzoek(VERZOEK))).replacen(
            "<!DOCTYPE x><?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
            "<!DOCTYPE x>",
            1,
        ),
        "DOCTYPE",
    );

    // The HTTP side.
    let request = |method: &str, headers: &[(&str, &str)]| Request {
        method: method.into(),
        path: "/uwlr".into(),
        version: "HTTP/1.1".into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: envelope(HEADER, &verzoek(VERZOEK)).into_bytes(),
    };
    let good = [
        ("content-type", "text/xml; charset=utf-8"),
        ("soapaction", "\"HaalLeerlinggegevens\""),
    ];
    assert!(check_request(&request("POST", &good)).is_ok());
    let e = check_request(&request("GET", &good)).unwrap_err();
    assert!(e.contains("POST"), "{e}");
    let e = check_request(&request(
        "POST",
        &[good[0], ("soapaction", "HaalLeerlinggegevens")],
    ))
    .unwrap_err();
    assert!(e.contains("SOAPAction"), "{e}");
    let e = check_request(&request(
        "POST",
        &[("content-type", "application/soap+xml"), good[1]],
    ))
    .unwrap_err();
    assert!(e.contains("Content-Type"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------------

/// The school year in force now (the command line runs on the real clock).
fn this_school_year() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    broker::import::staging::current_school_year(now)
}

/// `las choose --school S --las ParnasSys --autorisatiesleutel-stdin` with `key` (and the
/// newline `echo` adds) on standard input: its JSON.
fn choose_with_key(env: &Env, school: &str, key: &str) -> Value {
    let out = env.run_with_stdin(
        &[
            "las",
            "choose",
            "--school",
            school,
            "--las",
            "ParnasSys",
            "--autorisatiesleutel-stdin",
        ],
        format!("{key}\n").as_bytes(),
    );
    assert!(
        out.status.success(),
        "las choose: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `las add --name ParnasSys --uwlr-url URL` for `fake`: its JSON.
fn add_parnassys(env: &Env, fake: &FakeLas) -> Value {
    env.ok(&[
        "las",
        "add",
        "--name",
        "ParnasSys",
        "--uwlr-url",
        &fake.url(),
    ])
}

fn status(env: &Env, school: &str) -> Value {
    env.ok(&["las", "status", "--school", school])
}

/// The school's audit trail, straight from the database.
fn trail(db: &TestDb, school: &str) -> Vec<broker::model::AuditEvent> {
    let r: InstellingRef = school.parse().unwrap();
    db.directory()
        .audit_trail(&AuditQuery {
            school: Some(&r),
            actions: &[],
            before: None,
            limit: 1000,
        })
        .unwrap()
}

/// Nothing of the school's is written: no users, no groups.
fn nothing_written(env: &Env, school: &str) {
    assert!(users(env, school).is_empty());
    let groups = env.ok(&["group", "list", "--school", school]);
    assert_eq!(groups["groups"], json!([]), "{groups}");
}

/// The key is nowhere in the school's trail: not in `audit list`, not in any line's details.
fn key_not_in_trail(env: &Env, db: &TestDb, school: &str, key: &str) {
    let listed = env.ok(&["audit", "list", "--school", school]).to_string();
    assert!(!listed.contains(key), "audit list shows the key: {listed}");
    for e in trail(db, school) {
        let line = format!("{} {:?} {}", e.action, e.subject, e.details);
        assert!(!line.contains(key), "the trail holds the key: {line}");
    }
}

// ---------------------------------------------------------------------------------------------
// The command line.
// ---------------------------------------------------------------------------------------------

on_both_backends!(
    the_command_line_couples_a_school_and_pulls_its_data,
    |db: &TestDb| {
        let fake = FakeLas::start();
        let mut env = Env::on(&db.url);
        fake.configure(&mut env, &[]);
        let school = zonnebloem(&env);
        let year = this_school_year();

        // The operator registers the LAS; its endpoint must be https.
        let refused = env.fails(&[
            "las",
            "add",
            "--name",
            "ParnasSys",
            "--uwlr-url",
            &fake.url().replace("https:", "http:"),
        ]);
        assert!(refused.contains("https"), "{refused}");
        let added = add_parnassys(&env, &fake);
        assert_eq!(added["name"], "ParnasSys");
        assert_eq!(added["uwlr_url"], json!(fake.url()));
        for field in ["las_id", "client_id", "client_secret"] {
            assert!(
                added[field].as_str().is_some_and(|s| !s.is_empty()),
                "{field}: {added}"
            );
        }
        let listed = env.ok(&["las", "list"]);
        assert_eq!(listed["las"][0]["uwlr_url"], json!(fake.url()), "{listed}");

        // Before the school chooses: manual.
        let st = status(&env, &school);
        assert_eq!(st["method"], "manual", "{st}");
        assert_eq!(st["active"], false);
        assert_eq!(st["offers"][0]["mode"], "pull", "{st}");

        // The school chooses it, without a key: the LAS's side is missing.
        let st = env.ok(&["las", "choose", "--school", &school, "--las", "ParnasSys"]);
        assert_eq!(st["method"], "automatic", "{st}");
        assert_eq!(st["las"], "ParnasSys");
        assert_eq!(st["active"], false);
        assert_eq!(st["missing"], "las");
        let not_active = env.fails(&["sync", "run", "--school", &school]);
        assert!(not_active.contains("not active"), "{not_active}");
        assert!(fake.seen().is_empty(), "nothing was fetched");

        // With the key the LAS issued, it is active.
        let st = choose_with_key(&env, &school, KEY);
        assert_eq!(st["active"], true, "{st}");
        assert_eq!(st["missing"], Value::Null);
        assert_eq!(st["offers"][0]["granted_by_las"], true);
        assert!(!st.to_string().contains(KEY), "the key is not shown: {st}");

        // A dry run fetches and reports, and writes nothing.
        let dry = env.ok(&["sync", "run", "--school", &school, "--dry-run"]);
        assert_eq!(dry["dry_run"], true, "{dry}");
        assert_eq!(dry["las"], "ParnasSys");
        assert_eq!(dry["school_year"], json!(year));
        assert_eq!(counts(&dry), json!([c(3, 2, 2), c(0, 0, 0), c(0, 0, 0)]));
        assert_eq!(dry["activation_mails"], 0);
        assert!(users(&env, &school).is_empty());
        assert_eq!(
            status(&env, &school)["offers"][0]["last_run_at"],
            Value::Null,
            "a dry run is not noted on the coupling"
        );

        // The real run.
        let run = env.ok(&["sync", "run", "--school", &school]);
        assert_eq!(run["dry_run"], false, "{run}");
        assert_eq!(counts(&run), json!([c(3, 2, 2), c(0, 0, 0), c(0, 0, 0)]));
        assert_eq!(run["activation_mails"], 1, "Marloes is invited");
        let now = users(&env, &school);
        assert_eq!(now.len(), 4, "{now:?}");
        for key in ["L1", "L2", "T1", "T2"] {
            by_key(&now, key);
        }
        assert_eq!(by_key(&now, "L1")["given_name"], "Saar");
        assert_eq!(
            by_key(&now, "T1")["email"],
            "marloes.visser@zonnebloem.example"
        );

        // Again: nothing changes, the same people keep their ids.
        let again = env.ok(&["sync", "run", "--school", &school]);
        assert_eq!(counts(&again), json!([c(0, 0, 0), c(0, 0, 0), c(0, 0, 0)]));
        assert_eq!(again["activation_mails"], 0);
        let after = users(&env, &school);
        assert_eq!(
            by_key(&after, "L1")["user_id"],
            by_key(&now, "L1")["user_id"]
        );

        // What the LAS was asked, three times.
        fake.assert_no_problems();
        let seen = fake.seen();
        assert_eq!(seen.len(), 3, "{seen:?}");
        for s in &seen {
            assert_eq!(s.autorisatiesleutel, KEY);
            assert_eq!(
                (s.klantcode.as_str(), s.klantnaam.as_str()),
                (KLANTCODE, KLANTNAAM)
            );
            assert_eq!(s.brincode.as_deref(), Some("12AB"));
            assert_eq!(s.dependancecode.as_deref(), Some("00"));
            assert_eq!(s.schoolkey, None);
            assert_eq!(s.schooljaar, year);
            assert_eq!(s.xsdversie.as_deref(), Some("2.3"));
            assert_eq!(s.laatstontvangengegevens, None);
            assert_eq!(s.client_cn.as_deref(), Some(CLIENT_CN));
        }

        // The last run is noted on the coupling.
        let st = status(&env, &school);
        let offer = &st["offers"][0];
        assert_eq!(offer["last_outcome"]["ok"], true, "{st}");
        assert!(offer["last_run_at"].as_i64().is_some(), "{st}");
        assert_eq!(offer["last_outcome"]["report"]["added"], c(0, 0, 0));

        // The key is nowhere to be read: not in the trail, not in the database unsealed.
        key_not_in_trail(&env, db, &school, KEY);
        let actions: Vec<String> = trail(db, &school).into_iter().map(|e| e.action).collect();
        assert!(
            actions.iter().any(|a| a == "las.chosen") && actions.iter().any(|a| a == "las.granted"),
            "{actions:?}"
        );
        let r: InstellingRef = school.parse().unwrap();
        let couplings = db.directory().couplings_of(&r).unwrap();
        let sealed = couplings[0].sealed_key.clone().expect("a key on file");
        assert!(!sealed.contains(KEY), "the key is sealed");
    }
);

on_both_backends!(
    a_wrong_key_is_refused_by_the_las_and_nothing_is_written,
    |db: &TestDb| {
        let fake = FakeLas::start();
        let mut env = Env::on(&db.url);
        fake.configure(&mut env, &[]);
        let school = zonnebloem(&env);
        add_parnassys(&env, &fake);
        let wrong = "een-verkeerde-sleutel-3141592653";
        assert_eq!(choose_with_key(&env, &school, wrong)["active"], true);

        let line = env.fails(&["sync", "run", "--school", &school]);
        assert!(line.contains("SOAP fault"), "{line}");
        assert!(line.contains(REFUSED), "{line}");
        assert!(!line.contains(wrong), "{line}");
        nothing_written(&env, &school);

        let st = status(&env, &school);
        let outcome = &st["offers"][0]["last_outcome"];
        assert_eq!(outcome["ok"], false, "{st}");
        assert!(
            outcome["error"]
                .as_str()
                .is_some_and(|e| e.contains(REFUSED)),
            "{st}"
        );
        assert!(st["offers"][0]["last_run_at"].as_i64().is_some());

        let failed: Vec<_> = trail(db, &school)
            .into_iter()
            .filter(|e| e.action == "las.sync-failed")
            .collect();
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert!(
            failed[0].details.to_string().contains(REFUSED),
            "{failed:?}"
        );
        key_not_in_trail(&env, db, &school, wrong);

        // The LAS did get the (wrong) key, valid as a request.
        fake.assert_no_problems();
        let seen = fake.seen();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].autorisatiesleutel, wrong);
    }
);

on_both_backends!(
    without_a_client_certificate_or_trust_in_the_server_nothing_is_fetched,
    |db: &TestDb| {
        let fake = FakeLas::start();
        let mut env = Env::on(&db.url);
        // No client certificate: the LAS refuses the TLS handshake.
        fake.configure(
            &mut env,
            &["LEERPOORT_UWLR_CLIENT_CERT", "LEERPOORT_UWLR_CLIENT_KEY"],
        );
        let school = zonnebloem(&env);
        add_parnassys(&env, &fake);
        choose_with_key(&env, &school, KEY);
        let line = env.fails(&["sync", "run", "--school", &school]);
        assert!(line.contains("did not deliver"), "{line}");
        assert!(line.contains(&fake.url()), "it says which LAS: {line}");
        assert!(fake.seen().is_empty(), "no request got through");
        assert!(
            line.to_lowercase().contains("alert"),
            "the TLS refusal: {line}"
        );
        let refused = fake.refused();
        assert_eq!(
            refused.len(),
            1,
            "the LAS refused the handshake: {refused:?}"
        );
        assert!(refused[0].contains("certificate"), "{refused:?}");
        nothing_written(&env, &school);
        let st = status(&env, &school);
        assert_eq!(st["offers"][0]["last_outcome"]["ok"], false, "{st}");

        // With the certificate, but without the CA: the LAS's server certificate is not
        // trusted (an empty setting is no setting).
        for (k, v) in fake.uwlr_env() {
            env.set(k, if k == "LEERPOORT_UWLR_CA" { "" } else { &v });
        }
        let line = env.fails(&["sync", "run", "--school", &school]);
        assert!(line.contains("did not deliver"), "{line}");
        assert!(line.to_lowercase().contains("certificate"), "{line}");
        assert!(fake.seen().is_empty(), "no request got through");
        assert_eq!(fake.refused().len(), 2, "{:?}", fake.refused());
        nothing_written(&env, &school);

        // With both, it works.
        fake.configure(&mut env, &[]);
        let run = env.ok(&["sync", "run", "--school", &school]);
        assert_eq!(counts(&run), json!([c(3, 2, 2), c(0, 0, 0), c(0, 0, 0)]));
        fake.assert_no_problems();
        assert_eq!(fake.seen().len(), 1);
    }
);

on_both_backends!(
    a_hostile_or_broken_answer_is_refused_at_its_line,
    |db: &TestDb| {
        let fake = FakeLas::start();
        let mut env = Env::on(&db.url);
        fake.configure(&mut env, &[]);
        let school = zonnebloem(&env);
        add_parnassys(&env, &fake);
        choose_with_key(&env, &school, KEY);
        let year = this_school_year();

        // A DOCTYPE (an entity declaration): refused at its line, before anything is read.
        fake.set_mode(Mode::Doctype);
        let at = line_of(&antwoord(&year, Mode::Doctype), "<!DOCTYPE");
        assert_eq!(at, 2);
        let line = env.fails(&["sync", "run", "--school", &school]);
        assert!(line.contains(&format!("the LAS's answer:{at}:")), "{line}");
        assert!(line.contains("DOCTYPE"), "{line}");
        nothing_written(&env, &school);

        // A leerling in a groep the answer does not have: refused at the reference.
        fake.set_mode(Mode::UnknownGroep);
        let at = line_of(&antwoord(&year, Mode::UnknownGroep), "<groep key=\"G9\"/>");
        let line = env.fails(&["sync", "run", "--school", &school]);
        assert!(line.contains(&format!("the LAS's answer:{at}:")), "{line}");
        assert!(line.contains("G9"), "{line}");
        nothing_written(&env, &school);
        let st = status(&env, &school);
        assert_eq!(st["offers"][0]["last_outcome"]["ok"], false, "{st}");
        let failed = trail(db, &school)
            .into_iter()
            .filter(|e| e.action == "las.sync-failed")
            .count();
        assert_eq!(failed, 2);

        // The LAS mended: the same coupling delivers.
        fake.set_mode(Mode::Fixture);
        let run = env.ok(&["sync", "run", "--school", &school]);
        assert_eq!(counts(&run), json!([c(3, 2, 2), c(0, 0, 0), c(0, 0, 0)]));
        fake.assert_no_problems();
        assert_eq!(fake.seen().len(), 3);
    }
);

// ---------------------------------------------------------------------------------------------
// The nightly pull.
// ---------------------------------------------------------------------------------------------

/// The application on `db` with the UWLR settings for `fake`, with a clock that moves only
/// when told to (Monday 2026-11-23 08:30 UTC).
fn state_on(db: &TestDb, dir: &Path, fake: &FakeLas) -> (AppState, Arc<FixedClock>) {
    crate::school_year::state_with(db, dir, fake.uwlr_env())
}

#[test]
fn the_night_starts_at_two_in_amsterdam() {
    use idp::scheduler::night_start;
    // Winter (CET, UTC+1): Monday 2026-11-23 08:30 UTC is 09:30 in Amsterdam; the night
    // began at 02:00 CET, 01:00 UTC.
    assert_eq!(night_start(1_795_422_600), 1_795_422_600 - 7 * 3600 - 1800);
    assert_eq!(night_start(1_795_422_600), 1_795_395_600);
    assert_eq!(night_start(1_795_395_600), 1_795_395_600, "02:00 itself");
    // At 01:59 CET (00:59 UTC) it is still the night before.
    assert_eq!(night_start(1_795_395_600 - 60), 1_795_395_600 - 86_400);
    // Summer (CEST, UTC+2): Wednesday 2026-07-15 12:00 UTC; 02:00 CEST is 00:00 UTC.
    assert_eq!(night_start(1_784_116_800), 1_784_116_800 - 12 * 3600);
    assert_eq!(night_start(1_784_073_600), 1_784_073_600);
    assert_eq!(night_start(1_784_073_599), 1_783_987_200);
    // Once a night on the nights the clocks change: 29 March 2026 has no 02:00 (the clock
    // jumps to 03:00 CEST, 01:00 UTC); 25 October 2026 has two (the first, CEST, 00:00 UTC).
    assert_eq!(night_start(1_774_760_400), 1_774_746_000);
    assert_eq!(night_start(1_792_904_400), 1_792_886_400);
}

on_both_backends!(
    the_nightly_pull_fetches_each_active_coupling_once_a_night,
    |db: &TestDb| {
        let fake = FakeLas::start();
        let tmp = tempfile::tempdir().unwrap();
        let (state, clock) = state_on(db, tmp.path(), &fake);
        let env = Env::on(&db.url);
        let zon: InstellingRef = zonnebloem(&env).parse().unwrap();
        let linde: InstellingRef = env.add_school("34CD", "OBS De Linde").parse().unwrap();
        let dir = state.dir.as_ref();
        let ctx = Ctx {
            dir,
            clock: state.clock.as_ref(),
            actor: "test",
        };
        let secrets = state.credentials();
        let parnassys = las::add_las(ctx, "ParnasSys", Some(&fake.url()))
            .unwrap()
            .las;
        // De Linde had chosen it too, then went back to "Handmatig importeren".
        las::choose(ctx, &secrets, &linde, Some(&parnassys), Some(KEY)).unwrap();
        let st = las::choose(ctx, &secrets, &linde, None, None).unwrap();
        assert!(st.chosen().is_none());
        let st = las::choose(ctx, &secrets, &zon, Some(&parnassys), Some(KEY)).unwrap();
        assert!(st.chosen().is_some_and(las::Offer::active));

        // Never fetched: fetched at once.
        assert_eq!(idp::scheduler::nightly_pull(&state, "node-a"), Ok(1));
        assert_eq!(dir.users_of_school(&zon).unwrap().len(), 4);
        assert_eq!(dir.groups_of_school(&zon).unwrap().len(), 3);
        assert!(dir.users_of_school(&linde).unwrap().is_empty());
        let seen = fake.seen();
        assert_eq!(seen.len(), 1, "De Linde is not fetched: {seen:?}");
        assert_eq!(seen[0].brincode.as_deref(), Some("12AB"));
        assert_eq!(seen[0].schooljaar, "2026-2027", "the year of the clock");
        assert_eq!(seen[0].client_cn.as_deref(), Some(CLIENT_CN));
        assert_eq!(seen[0].klantcode, KLANTCODE);
        let offer = las::status(dir, &zon).unwrap();
        let offer = offer.chosen().unwrap();
        assert_eq!(offer.last_run_at, Some(clock.now_secs()));
        assert_eq!(offer.last_outcome.as_ref().unwrap()["ok"], true);

        // Fetched this night: not again; another node waits for the lease.
        assert_eq!(idp::scheduler::nightly_pull(&state, "node-a"), Ok(0));
        assert_eq!(
            idp::scheduler::nightly_pull(&state, "node-b"),
            Ok(0),
            "node-a holds the lease"
        );
        assert_eq!(fake.seen().len(), 1);

        // The next night begins at 02:00 Amsterdam.
        let tuesday = idp::scheduler::night_start(clock.now_secs() + 86_400);
        assert_eq!(tuesday, 1_795_395_600 + 86_400, "01:00 UTC");
        clock.set_secs(tuesday - 60);
        assert_eq!(idp::scheduler::nightly_pull(&state, "node-a"), Ok(0));
        clock.set_secs(tuesday);
        assert_eq!(idp::scheduler::nightly_pull(&state, "node-a"), Ok(1));
        assert_eq!(fake.seen().len(), 2);
        assert_eq!(
            dir.users_of_school(&zon).unwrap().len(),
            4,
            "the same people"
        );

        // The coordinator takes it back: the next night nothing is fetched.
        las::choose(ctx, &secrets, &zon, None, None).unwrap();
        clock.set_secs(tuesday + 86_400);
        assert_eq!(idp::scheduler::nightly_pull(&state, "node-a"), Ok(0));
        assert_eq!(fake.seen().len(), 2);
        fake.assert_no_problems();
        assert!(fake.refused().is_empty(), "{:?}", fake.refused());

        // No line of the trail holds the key.
        for school in [&zon, &linde] {
            let lines = dir
                .audit_trail(&AuditQuery {
                    school: Some(school),
                    actions: &[],
                    before: None,
                    limit: 1000,
                })
                .unwrap();
            for e in lines {
                assert!(!e.details.to_string().contains(KEY), "{e:?}");
            }
        }
    }
);
