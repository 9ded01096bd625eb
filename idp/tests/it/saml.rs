//! The SAML identity provider in process, with a fixed clock: metadata, SP-initiated SSO over
//! both bindings, unsolicited responses, Single Logout, encryption, and every refusal.
//! (A service provider nobody here wrote, pysaml2, drives the real binary in
//! `conformance-tests`.)

use std::io::Write as _;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use broker::admin::{self, Ctx, SamlSpInput};
use openssl::pkey::{PKey, Private};
use samael::crypto::{CertificateDer, Crypto, CryptoProvider, ReduceMode};

use crate::server::TestApp;
use crate::support::jar::Browser;
use crate::support::page::{hidden, location};

const IDP: &str = "http://127.0.0.1:8080";
const SSO: &str = "http://127.0.0.1:8080/saml/sso";
const DEMO_SP: &str = "http://127.0.0.1:8082/saml/metadata";
const DEMO_ACS: &str = "http://127.0.0.1:8082/saml/acs";
const ANNA: (&str, &str) = ("anna.devries@regenboog.example", "paarse-giraf-fietst");

async fn body<B: MessageBody>(res: ServiceResponse<B>) -> String {
    String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
}

fn html_unescape(s: &str) -> String {
    s.replace("&#x2b;", "+")
        .replace("&#x2f;", "/")
        .replace("&#x3d;", "=")
        .replace("&#43;", "+")
        .replace("&#47;", "/")
        .replace("&#61;", "=")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// What the browser is asked to POST to an ACS.
#[derive(Debug)]
struct Posted {
    acs: String,
    xml: String,
    relay_state: Option<String>,
}

fn posted(page: &str) -> Posted {
    let action = page
        .split("action=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(html_unescape)
        .unwrap_or_else(|| panic!("no form on {page}"));
    let response = html_unescape(&hidden(page, "SAMLResponse"));
    let xml = String::from_utf8(STANDARD.decode(response).unwrap()).unwrap();
    let relay_state = page
        .contains("name=\"RelayState\"")
        .then(|| html_unescape(&hidden(page, "RelayState")));
    Posted {
        acs: action,
        xml,
        relay_state,
    }
}

fn deflate_b64(xml: &str) -> String {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(xml.as_bytes()).unwrap();
    STANDARD.encode(enc.finish().unwrap())
}

fn q(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

fn instant(secs: i64) -> String {
    idp::saml::xml::instant(secs)
}

/// An AuthnRequest as SPs write them.
#[derive(Clone)]
struct Req {
    id: String,
    issuer: String,
    acs: Option<String>,
    destination: Option<String>,
    issue_instant: i64,
    extra_attrs: String,
    name_id_format: Option<String>,
}

impl Req {
    fn new(t: &TestApp, issuer: &str) -> Req {
        Req {
            id: format!("_{}", uuid::Uuid::new_v4().simple()),
            issuer: issuer.into(),
            acs: None,
            destination: Some(SSO.into()),
            issue_instant: now(t),
            extra_attrs: String::new(),
            name_id_format: None,
        }
    }

    fn xml(&self) -> String {
        let acs = self
            .acs
            .as_ref()
            .map(|a| format!(r#" AssertionConsumerServiceURL="{a}""#))
            .unwrap_or_default();
        let dest = self
            .destination
            .as_ref()
            .map(|d| format!(r#" Destination="{d}""#))
            .unwrap_or_default();
        let policy = self
            .name_id_format
            .as_ref()
            .map(|f| format!(r#"<samlp:NameIDPolicy Format="{f}" AllowCreate="true"/>"#))
            .unwrap_or_default();
        format!(
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{}" Version="2.0" IssueInstant="{}"{dest}{acs} ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"{}><saml:Issuer>{}</saml:Issuer>{policy}</samlp:AuthnRequest>"#,
            self.id,
            instant(self.issue_instant),
            self.extra_attrs,
            self.issuer
        )
    }

    fn redirect(&self, relay_state: Option<&str>) -> String {
        let mut u = format!("/saml/sso?SAMLRequest={}", q(&deflate_b64(&self.xml())));
        if let Some(rs) = relay_state {
            u.push_str(&format!("&RelayState={}", q(rs)));
        }
        u
    }
}

fn now(t: &TestApp) -> i64 {
    broker::clock::Clock::now_secs(t.clock.as_ref())
}

fn ctx(t: &TestApp) -> Ctx<'_> {
    Ctx {
        dir: t.state.dir.as_ref(),
        clock: t.state.clock.as_ref(),
        actor: "test",
    }
}

fn school() -> claims::InstellingRef {
    idp::demo::DEMO_SCHOOL_REF.parse().unwrap()
}

/// A service provider of the tests' own, with a key pair.
struct TestSp {
    entity_id: String,
    key: PKey<Private>,
    cert_der: Vec<u8>,
}

impl TestSp {
    fn new(entity_id: &str) -> TestSp {
        let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
        let key = PKey::from_rsa(rsa).unwrap();
        let mut name = openssl::x509::X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "sp.test").unwrap();
        let name = name.build();
        let mut b = openssl::x509::X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&openssl::asn1::Asn1Time::days_from_now(3650).unwrap())
            .unwrap();
        let serial = openssl::bn::BigNum::from_u32(7)
            .unwrap()
            .to_asn1_integer()
            .unwrap();
        b.set_serial_number(&serial).unwrap();
        b.sign(&key, openssl::hash::MessageDigest::sha256())
            .unwrap();
        let cert_der = b.build().to_der().unwrap();
        TestSp {
            entity_id: entity_id.into(),
            key,
            cert_der,
        }
    }

    fn metadata(&self, signed_requests: bool, encryption: bool) -> String {
        let cert = STANDARD.encode(&self.cert_der);
        let key = |use_: &str| {
            format!(
                r#"<md:KeyDescriptor use="{use_}"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#
            )
        };
        format!(
            r#"<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{e}"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" AuthnRequestsSigned="{signed_requests}">{sig}{enc}<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://sp.test/slo"/><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.test/acs" index="1"/></md:SPSSODescriptor></md:EntityDescriptor>"#,
            e = self.entity_id,
            sig = key("signing"),
            enc = if encryption {
                key("encryption")
            } else {
                String::new()
            },
        )
    }

    fn add(&self, t: &TestApp, signed_requests: bool, encryption: bool) {
        admin::add_saml_sp(
            ctx(t),
            SamlSpInput {
                metadata: self.metadata(signed_requests, encryption),
                name: Some("Test SP".into()),
                kind: "publisher".into(),
                home_allowed: true,
                audience: "beide".into(),
                sector: None,
                ..Default::default()
            },
        )
        .unwrap();
        admin::register(ctx(t), &school(), &self.entity_id, Default::default()).unwrap();
    }

    /// Sign a Redirect-binding query (`SAMLRequest=…[&RelayState=…]`).
    fn sign_query(&self, query: &str) -> String {
        let query = format!(
            "{query}&SigAlg={}",
            q("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
        );
        let mut s =
            openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &self.key).unwrap();
        s.update(query.as_bytes()).unwrap();
        let sig = s.sign_to_vec().unwrap();
        format!("{query}&Signature={}", q(&STANDARD.encode(sig)))
    }

    /// Sign an AuthnRequest's XML (enveloped signature, for the POST binding).
    fn sign_xml(&self, xml: &str, id: &str) -> String {
        let template = idp::saml::xml::signature_template(id, &STANDARD.encode(&self.cert_der));
        let with = xml.replacen("</saml:Issuer>", &format!("</saml:Issuer>{template}"), 1);
        Crypto::sign_xml(with, &self.key.private_key_to_der().unwrap()).unwrap()
    }
}

/// The IdP's signing certificates.
fn idp_certs(t: &TestApp) -> Vec<CertificateDer> {
    t.state
        .keys
        .saml_certificates(now(t))
        .into_iter()
        .map(|(_, d)| CertificateDer::from(d))
        .collect()
}

/// Verify every signature in `xml` with the IdP's certificates.
fn verify_all(t: &TestApp, xml: &str) {
    Crypto::reduce_xml_to_signed(xml, &idp_certs(t), ReduceMode::ValidateAndMarkNoAncestors)
        .unwrap_or_else(|e| panic!("signature does not verify ({e}): {xml}"));
}

/// Sign Anna in at the login form the SSO endpoint sent the browser to, and follow on.
async fn login_and_continue<S, B>(app: &S, b: &mut Browser, login: &str) -> ServiceResponse<B>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    assert!(login.starts_with("/login?auth=saml-"), "{login}");
    let page = body(b.get(app, login).await).await;
    let csrf = hidden(&page, "csrf_token");
    let auth = hidden(&page, "auth");
    let res = b
        .post(
            app,
            "/login",
            &[
                ("csrf_token", &csrf),
                ("auth", &auth),
                ("email", ANNA.0),
                ("password", ANNA.1),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let cont = location(&res);
    assert!(cont.starts_with("/saml/sso/continue?auth=saml-"), "{cont}");
    b.get(app, &cont).await
}

/// A demo app, an in-process service, and a browser signed in through one SSO.
fn demo() -> TestApp {
    demo_with_json().0
}

fn demo_with_json() -> (TestApp, serde_json::Value) {
    let t = TestApp::init();
    let d = idp::demo::seed(&t.state).unwrap();
    (t, d)
}

fn attr<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let needle = format!(r#"<saml:Attribute Name="{name}""#);
    let Some(start) = xml.find(&needle) else {
        return Vec::new();
    };
    let rest = &xml[start..];
    let end = rest.find("</saml:Attribute>").unwrap();
    rest[..end]
        .split("<saml:AttributeValue>")
        .skip(1)
        .map(|v| v.split("</saml:AttributeValue>").next().unwrap())
        .collect()
}

fn between<'a>(xml: &'a str, open: &str, close: &str) -> &'a str {
    let s = xml
        .find(open)
        .unwrap_or_else(|| panic!("no {open} in {xml}"))
        + open.len();
    let rest = &xml[s..];
    let rest = &rest[rest.find('>').unwrap() + 1..];
    &rest[..rest.find(close).unwrap()]
}

#[actix_web::test]
async fn metadata_is_signed_and_names_every_endpoint() {
    let t = TestApp::init();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let res = test::call_service(
        &app,
        test::TestRequest::get().uri("/saml/metadata").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers().get("content-type").unwrap(),
        "application/samlmetadata+xml"
    );
    let xml = body(res).await;
    // Signed by the metadata-signing key: the certificate an SP pins.
    let pinned = t.state.keys.saml_metadata_certificate().unwrap();
    verify_metadata(&xml, &pinned);
    assert!(xml.contains(&format!(r#"entityID="{IDP}/saml/metadata""#)));
    for binding in ["HTTP-Redirect", "HTTP-POST"] {
        assert!(xml.contains(&format!(
            r#"<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:{binding}" Location="{SSO}"/>"#
        )));
    }
    assert!(xml.contains(&format!(r#"Location="{IDP}/saml/slo""#)));
    assert!(xml.contains("nameid-format:persistent"));
    assert!(xml.contains("nameid-format:transient"));
    assert!(xml.contains(&format!(
        r#"validUntil="{}""#,
        instant(now(&t) + 7 * 24 * 3600)
    )));
    assert!(xml.contains("xmldsig-more#rsa-sha256"));
    assert!(xml.contains("xmlenc#sha256"));
    assert_eq!(xml.matches("<md:KeyDescriptor use=\"signing\">").count(), 1);
    let shape = redact(&xml);
    insta::assert_snapshot!("idp_metadata", shape);

    // After `keys rotate` the next certificate is published as well, one rotation before it
    // signs; the metadata is still signed by the key the SP pinned, and verifies with it.
    let first_signing = t.state.keys.active_saml_certificate(now(&t)).unwrap();
    let rotate = || {
        idp::keys::rotate(
            &t.state.config.keys_dir,
            t.state.config.issuer_host(),
            now(&t),
        )
        .unwrap();
        t.state.keys.reload(now(&t)).unwrap();
    };
    rotate();
    let res = test::call_service(
        &app,
        test::TestRequest::get().uri("/saml/metadata").to_request(),
    )
    .await;
    let xml = body(res).await;
    assert_eq!(
        xml.matches("<md:KeyDescriptor use=\"signing\">").count(),
        2,
        "{xml}"
    );
    verify_metadata(&xml, &pinned);
    // The second rotation: another key signs messages, the metadata's signer stays.
    rotate();
    assert_ne!(
        t.state.keys.active_saml_certificate(now(&t)).unwrap(),
        first_signing
    );
    let res = test::call_service(
        &app,
        test::TestRequest::get().uri("/saml/metadata").to_request(),
    )
    .await;
    let xml = body(res).await;
    verify_metadata(&xml, &pinned);
    assert!(
        !between(&xml, "<md:IDPSSODescriptor", "</md:IDPSSODescriptor>")
            .contains(&STANDARD.encode(pinned)),
        "the metadata-signing certificate is not a message-signing KeyDescriptor"
    );
}

/// Verify the metadata's signature with the one certificate an SP pinned, as Shibboleth's
/// `Signature` metadata filter and SimpleSAMLphp's metarefresh `certificates` do.
fn verify_metadata(xml: &str, pinned: &[u8]) {
    Crypto::reduce_xml_to_signed(
        xml,
        &[CertificateDer::from(pinned.to_vec())],
        ReduceMode::ValidateAndMarkNoAncestors,
    )
    .unwrap_or_else(|e| {
        panic!("the metadata does not verify with the pinned certificate ({e}): {xml}")
    });
}

/// Times, IDs, certificates and signature values out, for snapshots.
fn redact(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    let redact_attrs = [
        "ID=\"",
        "IssueInstant=\"",
        "validUntil=\"",
        "InResponseTo=\"",
        "NotBefore=\"",
        "NotOnOrAfter=\"",
        "AuthnInstant=\"",
        "SessionIndex=\"",
        "SessionNotOnOrAfter=\"",
        "URI=\"#",
    ];
    let redact_elems = [
        "<ds:X509Certificate>",
        "<ds:DigestValue>",
        "<ds:SignatureValue>",
        "<saml:NameID ",
        "<xenc:CipherValue>",
    ];
    'outer: while !rest.is_empty() {
        for a in redact_attrs {
            if rest.starts_with(a) {
                out.push_str(a);
                out.push_str("[redacted]");
                let end = rest[a.len()..].find('"').unwrap();
                rest = &rest[a.len() + end..];
                continue 'outer;
            }
        }
        for e in redact_elems {
            if rest.starts_with(e) {
                let gt = rest.find('>').unwrap();
                out.push_str(&rest[..=gt]);
                out.push_str("[redacted]");
                let lt = rest[gt..].find('<').unwrap();
                rest = &rest[gt + lt..];
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap();
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.replace("><", ">\n<")
}

#[actix_web::test]
async fn sp_initiated_redirect_flow_signs_response_and_assertion() {
    let t = demo();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::default();
    let req = Req::new(&t, DEMO_SP);
    let res = b.get(&app, &req.redirect(Some("terug-naar-les-3"))).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let res = login_and_continue(&app, &mut b, &location(&res)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = body(res).await;
    assert!(page.contains("/static/saml-post.js"), "{page}");
    let p = posted(&page);
    assert_eq!(p.acs, DEMO_ACS);
    assert_eq!(p.relay_state.as_deref(), Some("terug-naar-les-3"));
    let xml = &p.xml;
    verify_all(&t, xml);
    assert_eq!(xml.matches("<ds:Signature xmlns").count(), 2, "{xml}");
    assert!(xml.contains(&format!(r#"Destination="{DEMO_ACS}""#)));
    assert_eq!(
        xml.matches(&format!(r#"InResponseTo="{}""#, req.id))
            .count(),
        2
    );
    assert!(xml.contains(&format!(r#"Recipient="{DEMO_ACS}""#)));
    assert!(xml.contains(&format!("<saml:Audience>{DEMO_SP}</saml:Audience>")));
    assert!(xml.contains("urn:oasis:names:tc:SAML:2.0:status:Success"));
    assert!(xml.contains(r#"NotOnOrAfter=""#) && xml.contains(&instant(now(&t) + 300)));
    assert!(xml.contains("<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef>"));
    assert!(xml.contains("SessionIndex=\""));
    assert!(xml.contains("nameid-format:persistent"));
    assert_eq!(attr(xml, "eduPersonAffiliation"), ["employee"]);
    assert_eq!(attr(xml, "role"), ["leerkracht"]);
    assert_eq!(attr(xml, "instellingRef"), [idp::demo::DEMO_SCHOOL_REF]);
    assert_eq!(attr(xml, "nlEduPersonHomeOrganizationBranchId").len(), 1);
    assert_eq!(attr(xml, "nlEduPersonHomeOrganizationId").len(), 1);
    assert_eq!(
        attr(xml, "eckId").len(),
        1,
        "the registration releases the ECK-iD"
    );
    assert!(
        attr(xml, "givenName").is_empty(),
        "names are not released by default"
    );
    assert!(!xml.contains("pairwise-id"));
    insta::assert_snapshot!("sp_initiated_response", redact(xml));

    // A second SSO in the same session needs no sign-in.
    let res = b.get(&app, &Req::new(&t, DEMO_SP).redirect(None)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(posted(&body(res).await).relay_state.is_none());
}

/// The same user gets the same pseudonym from the OIDC and the SAML side of one publisher.
#[actix_web::test]
async fn nameid_equals_the_oidc_sub_of_the_same_publisher() {
    let (t, d) = demo_with_json();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::default();
    let res = b.get(&app, &Req::new(&t, DEMO_SP).redirect(None)).await;
    let res = login_and_continue(&app, &mut b, &location(&res)).await;
    let xml = posted(&body(res).await).xml;
    let name_id = between(&xml, "<saml:NameID ", "</saml:NameID>").to_string();

    // The OIDC side, in the same session.
    let authz = "/oidc/authorize?client_id=demo-uitgeverij&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback&response_type=code&scope=openid&state=s";
    let res = b.get(&app, authz).await;
    let cb = location(&res);
    let code = url::Url::parse(&cb)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let demo_secret = d["oidc_client"]["client_secret"].as_str().unwrap();
    let req = test::TestRequest::post()
        .uri("/oidc/token")
        .insert_header((
            "authorization",
            format!(
                "Basic {}",
                STANDARD.encode(format!("demo-uitgeverij:{demo_secret}"))
            ),
        ))
        .set_form([
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://127.0.0.1:8081/callback"),
        ])
        .to_request();
    let tokens: serde_json::Value = test::read_body_json(test::call_service(&app, req).await).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let payload = id_token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["sub"].as_str().unwrap(), name_id);
}

/// A page that refuses and sends nothing: no form to any ACS.
async fn assert_refused<B: MessageBody>(res: ServiceResponse<B>, words: &str) {
    let status = res.status();
    let page = body(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(!page.contains("SAMLResponse"), "{page}");
    assert!(page.contains(words), "expected {words:?} in {page}");
}

/// The status an SP is told (after the user signed in, or at once).
fn status_of(xml: &str) -> Vec<String> {
    xml.split("<samlp:StatusCode Value=\"")
        .skip(1)
        .map(|r| {
            r.split('"')
                .next()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[actix_web::test]
async fn unknown_and_removed_service_providers_are_refused() {
    let t = demo();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::default();
    let res = b
        .get(
            &app,
            &Req::new(&t, "https://onbekend.example/sp").redirect(None),
        )
        .await;
    assert_refused(res, "Onbekende software").await;

    admin::remove_saml_sp(ctx(&t), DEMO_SP, true).unwrap();
    let res = b.get(&app, &Req::new(&t, DEMO_SP).redirect(None)).await;
    assert_refused(res, "Onbekende software").await;
    // An OIDC client id is not a SAML SP.
    let res = b
        .get(&app, &Req::new(&t, "demo-uitgeverij").redirect(None))
        .await;
    assert_refused(res, "Onbekende software").await;
}

#[actix_web::test]
async fn an_acs_url_not_in_the_metadata_gets_nothing() {
    let t = demo();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::default();
    let mut req = Req::new(&t, DEMO_SP);
    req.acs = Some("https://aanvaller.example/acs".into());
    assert_refused(b.get(&app, &req.redirect(None)).await, "terugkeeradres").await;
    let mut req = Req::new(&t, DEMO_SP);
    req.extra_attrs = r#" AssertionConsumerServiceIndex="9""#.into();
    assert_refused(b.get(&app, &req.redirect(None)).await, "terugkeeradres").await;
}

#[actix_web::test]
async fn replayed_stale_and_misdirected_requests_are_refused() {
    let t = demo();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::default();
    let req = Req::new(&t, DEMO_SP);
    let first = b.get(&app, &req.redirect(None)).await;
    assert_eq!(first.status(), StatusCode::FOUND);
    assert_refused(b.get(&app, &req.redirect(None)).await, "al eens gebruikt").await;

    let mut old = Req::new(&t, DEMO_SP);
    old.issue_instant -= 11 * 60;
    assert_refused(b.get(&app, &old.redirect(None)).await, "verlopen").await;
    // An SP whose clock runs ahead: up to 180 s is allowed, more is refused as clock skew
    // (its own page, not "verlopen").
    let mut ahead = Req::new(&t, DEMO_SP);
    ahead.issue_instant += 180;
    assert_eq!(
        b.get(&app, &ahead.redirect(None)).await.status(),
        StatusCode::FOUND
    );
    let mut future = Req::new(&t, DEMO_SP);
    future.issue_instant += 181;
    let res = b.get(&app, &future.redirect(None)).await;
    let page = body(res).await;
    assert!(page.contains("Klok loopt niet gelijk"), "{page}");
    assert!(
        !page.contains("verlopen") && !page.contains("SAMLResponse"),
        "{page}"
    );
    // Old: 10 minutes is the limit.
    let mut old_ok = Req::new(&t, DEMO_SP);
    old_ok.issue_instant -= 10 * 60;
    assert_eq!(
        b.get(&app, &old_ok.redirect(None)).await.status(),
        StatusCode::FOUND
    );

    let mut elsewhere = Req::new(&t, DEMO_SP);
    elsewhere.destination = Some("https://andere-idp.example/sso".into());
    assert_refused(
        b.get(&app, &elsewhere.redirect(None)).await,
        "Ongeldige aanvraag",
    )
    .await;
}

#[actix_web::test]
async fn hostile_xml_and_encodings_are_refused() {
    let t = demo();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::default();
    let req = Req::new(&t, DEMO_SP);
    // An entity declaration (billion laughs, XXE) in front of a valid request.
    let dtd = format!(
        r#"<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>{}"#,
        req.xml().replace("</saml:Issuer>", "&b;</saml:Issuer>")
    );
    let res = b
        .get(
            &app,
            &format!("/saml/sso?SAMLRequest={}", q(&deflate_b64(&dtd))),
        )
        .await;
    assert_refused(res, "Ongeldige aanvraag").await;
    let xxe = format!(
        r#"<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>{}"#,
        req.xml()
    );
    let res = b
        .post(&app, "/saml/sso", &[("SAMLRequest", &STANDARD.encode(xxe))])
        .await;
    assert_refused(res, "Ongeldige aanvraag").await;
    // A deflate bomb: small on the wire, huge inflated.
    let bomb = format!("{}<!--{}-->", req.xml(), "a".repeat(4 * 1024 * 1024));
    let res = b
        .get(
            &app,
            &format!("/saml/sso?SAMLRequest={}", q(&deflate_b64(&bomb))),
        )
        .await;
    assert_refused(res, "Ongeldige aanvraag").await;
    // Not base64, not deflate, not XML, missing.
    for bad in ["%%%", "AAAA", &q(&deflate_b64("not xml"))] {
        let res = b.get(&app, &format!("/saml/sso?SAMLRequest={bad}")).await;
        assert_refused(res, "Ongeldige aanvraag").await;
    }
    assert_refused(b.get(&app, "/saml/sso").await, "Ongeldige aanvraag").await;
    // A POST body over the limit.
    let big = "A".repeat(idp::saml::ENCODED_MAX + 4096);
    let res = b.post(&app, "/saml/sso", &[("SAMLRequest", &big)]).await;
    assert!(res.status().is_client_error(), "{}", res.status());
}

#[actix_web::test]
async fn relay_state_longer_than_80_bytes_is_refused() {
    let t = demo();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::default();
    let ok = "r".repeat(80);
    let res = b
        .get(&app, &Req::new(&t, DEMO_SP).redirect(Some(&ok)))
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let long = "r".repeat(81);
    assert_refused(
        b.get(&app, &Req::new(&t, DEMO_SP).redirect(Some(&long)))
            .await,
        "Ongeldige aanvraag",
    )
    .await;
}

#[actix_web::test]
async fn signed_requests_are_verified_and_required_when_the_sp_says_so() {
    let t = demo();
    let sp = TestSp::new("https://sp.test/metadata");
    sp.add(&t, true, false);
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::default();

    // Unsigned: refused, over both bindings.
    let req = Req::new(&t, &sp.entity_id);
    assert_refused(b.get(&app, &req.redirect(None)).await, "ondertekend").await;
    let req = Req::new(&t, &sp.entity_id);
    let res = b
        .post(
            &app,
            "/saml/sso",
            &[("SAMLRequest", &STANDARD.encode(req.xml()))],
        )
        .await;
    assert_refused(res, "ondertekend").await;

    // Signed by another key: refused.
    let other = TestSp::new(&sp.entity_id);
    let req = Req::new(&t, &sp.entity_id);
    let query = other.sign_query(&format!(
        "SAMLRequest={}&RelayState=x",
        q(&deflate_b64(&req.xml()))
    ));
    assert_refused(
        b.get(&app, &format!("/saml/sso?{query}")).await,
        "ondertekend",
    )
    .await;
    let req = Req::new(&t, &sp.entity_id);
    let signed = other.sign_xml(&req.xml(), &req.id);
    let res = b
        .post(
            &app,
            "/saml/sso",
            &[("SAMLRequest", &STANDARD.encode(signed))],
        )
        .await;
    assert_refused(res, "ondertekend").await;

    // Signed, then altered: refused.
    let req = Req::new(&t, &sp.entity_id);
    let signed = sp.sign_xml(&req.xml(), &req.id);
    let tampered = signed.replacen("Version=\"2.0\"", "Version=\"2.0\" ForceAuthn=\"true\"", 1);
    let res = b
        .post(
            &app,
            "/saml/sso",
            &[("SAMLRequest", &STANDARD.encode(tampered))],
        )
        .await;
    assert_refused(res, "ondertekend").await;

    // Signed properly: Redirect (query signature) and POST (enveloped), both accepted.
    let req = Req::new(&t, &sp.entity_id);
    let query = sp.sign_query(&format!(
        "SAMLRequest={}&RelayState=x",
        q(&deflate_b64(&req.xml()))
    ));
    let res = b.get(&app, &format!("/saml/sso?{query}")).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let res = login_and_continue(&app, &mut b, &location(&res)).await;
    let p = posted(&body(res).await);
    assert_eq!(p.acs, "https://sp.test/acs");
    assert_eq!(p.relay_state.as_deref(), Some("x"));
    verify_all(&t, &p.xml);

    let req = Req::new(&t, &sp.entity_id);
    let signed = sp.sign_xml(&req.xml(), &req.id);
    let res = b
        .post(
            &app,
            "/saml/sso",
            &[
                ("SAMLRequest", &STANDARD.encode(signed)),
                ("RelayState", "y"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let p = posted(&body(res).await);
    assert!(p.xml.contains(&format!("InResponseTo=\"{}\"", req.id)));
}

#[actix_web::test]
async fn is_passive_force_authn_and_name_id_policy() {
    let t = demo();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::default();
    // IsPassive without a session: NoPassive, told to the SP.
    let mut req = Req::new(&t, DEMO_SP);
    req.extra_attrs = r#" IsPassive="true""#.into();
    let res = b.get(&app, &req.redirect(None)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let p = posted(&body(res).await);
    verify_all(&t, &p.xml);
    assert_eq!(status_of(&p.xml), ["Responder", "NoPassive"]);
    assert!(!p.xml.contains("<saml:Assertion"));

    // Sign in once.
    let res = b.get(&app, &Req::new(&t, DEMO_SP).redirect(None)).await;
    login_and_continue(&app, &mut b, &location(&res)).await;
    // IsPassive with a session: a response.
    let mut req = Req::new(&t, DEMO_SP);
    req.extra_attrs = r#" IsPassive="true""#.into();
    let p = posted(&body(b.get(&app, &req.redirect(None)).await).await);
    assert_eq!(status_of(&p.xml), ["Success"]);
    // ForceAuthn: the login form again, even with a session.
    t.clock.advance(std::time::Duration::from_secs(5));
    let mut req = Req::new(&t, DEMO_SP);
    req.extra_attrs = r#" ForceAuthn="true""#.into();
    let res = b.get(&app, &req.redirect(None)).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let res = login_and_continue(&app, &mut b, &location(&res)).await;
    let p = posted(&body(res).await);
    assert!(p
        .xml
        .contains(&format!("AuthnInstant=\"{}\"", instant(now(&t)))));

    // A NameID format Leerpoort does not issue.
    let mut req = Req::new(&t, DEMO_SP);
    req.name_id_format = Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into());
    let p = posted(&body(b.get(&app, &req.redirect(None)).await).await);
    assert_eq!(status_of(&p.xml), ["Requester", "InvalidNameIDPolicy"]);
    // Transient on request: a random NameID, the pseudonym as pairwise-id.
    let persistent = {
        let p = posted(&body(b.get(&app, &Req::new(&t, DEMO_SP).redirect(None)).await).await);
        between(&p.xml, "<saml:NameID ", "</saml:NameID>").to_string()
    };
    let mut req = Req::new(&t, DEMO_SP);
    req.name_id_format = Some("urn:oasis:names:tc:SAML:2.0:nameid-format:transient".into());
    let p = posted(&body(b.get(&app, &req.redirect(None)).await).await);
    assert!(p.xml.contains("nameid-format:transient"));
    let transient = between(&p.xml, "<saml:NameID ", "</saml:NameID>");
    assert_ne!(transient, persistent);
    assert_eq!(
        attr(&p.xml, "urn:oasis:names:tc:SAML:attribute:pairwise-id"),
        [format!("{persistent}@127.0.0.1")]
    );
    // Its scope is the one the metadata names, or Shibboleth drops it ("invalid scope").
    let md = body(
        test::call_service(
            &app,
            test::TestRequest::get().uri("/saml/metadata").to_request(),
        )
        .await,
    )
    .await;
    assert_eq!(
        between(&md, "<shibmd:Scope ", "</shibmd:Scope>"),
        "127.0.0.1"
    );
}

#[actix_web::test]
async fn deregistration_stops_saml_sign_ins_at_once_and_reregistration_restores_them() {
    let t = demo();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::default();
    let res = b.get(&app, &Req::new(&t, DEMO_SP).redirect(None)).await;
    let res = login_and_continue(&app, &mut b, &location(&res)).await;
    assert_eq!(status_of(&posted(&body(res).await).xml), ["Success"]);

    admin::deregister(ctx(&t), &school(), DEMO_SP).unwrap();
    // The open session gets no assertion: a page naming the setting, and RequestDenied.
    let res = b.get(&app, &Req::new(&t, DEMO_SP).redirect(None)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let page = body(res).await;
    assert!(page.contains("niet voor jou aangezet"), "{page}");
    assert!(!page.contains("saml-post.js"), "no automatic post: {page}");
    let p = posted(&page);
    assert_eq!(status_of(&p.xml), ["Responder", "RequestDenied"]);
    assert!(!p.xml.contains("<saml:Assertion"));
    // Nor through the shortcut.
    let res = b
        .get(&app, &format!("/saml/unsolicited?sp={}", q(DEMO_SP)))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // The audit trail has it.
    let events = t.state.dir.audit_events(Some(&school()), 500).unwrap();
    assert!(events
        .iter()
        .any(|e| e.action == "registration.deregister" && e.subject.as_deref() == Some(DEMO_SP)));

    admin::register(ctx(&t), &school(), DEMO_SP, Default::default()).unwrap();
    let res = b.get(&app, &Req::new(&t, DEMO_SP).redirect(None)).await;
    assert_eq!(status_of(&posted(&body(res).await).xml), ["Success"]);
}

#[actix_web::test]
async fn school_shortcut_sends_an_unsolicited_response() {
    let t = demo();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::default();
    // Sign in through the shortcut's staff form.
    let shortcut = format!(
        "/snelkoppeling?INSTELLING_REF={}&ROL=leerkracht&TARGET={}",
        idp::demo::DEMO_SCHOOL_REF,
        q(DEMO_SP)
    );
    let page = body(b.get(&app, &shortcut).await).await;
    let csrf = hidden(&page, "csrf_token");
    let target = html_unescape(&hidden(&page, "target"));
    let res = b
        .post(
            &app,
            "/login",
            &[
                ("csrf_token", &csrf),
                ("target", &target),
                ("email", ANNA.0),
                ("password", ANNA.1),
            ],
        )
        .await;
    let to = location(&res);
    assert!(to.starts_with("/saml/unsolicited?sp="), "{to}");
    let res = b.get(&app, &to).await;
    assert_eq!(res.status(), StatusCode::OK);
    let p = posted(&body(res).await);
    assert_eq!(p.acs, DEMO_ACS);
    verify_all(&t, &p.xml);
    assert!(!p.xml.contains("InResponseTo"), "unsolicited: {}", p.xml);
    assert_eq!(status_of(&p.xml), ["Success"]);
    // Signed in already: the shortcut goes straight on.
    let res = b.get(&app, &shortcut).await;
    assert!(location(&res).starts_with("/saml/unsolicited?sp="));
    // Unknown SP on the unsolicited endpoint: refused.
    assert_refused(
        b.get(&app, "/saml/unsolicited?sp=https%3A%2F%2Fx.example")
            .await,
        "Onbekende software",
    )
    .await;
}

#[actix_web::test]
async fn assertions_are_encrypted_for_sps_with_an_encryption_key() {
    let t = demo();
    let sp = TestSp::new("https://sp.test/metadata");
    sp.add(&t, false, true);
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::default();
    let res = b
        .get(&app, &Req::new(&t, &sp.entity_id).redirect(None))
        .await;
    let res = login_and_continue(&app, &mut b, &location(&res)).await;
    let p = posted(&body(res).await);
    assert!(p.xml.contains("<saml:EncryptedAssertion>"));
    assert!(!p.xml.contains("<saml:Assertion"));
    assert!(p.xml.contains("xmlenc11#aes128-gcm") && p.xml.contains("rsa-oaep-mgf1p"));
    verify_all(&t, &p.xml);
    // Decrypt as the SP does: RSA-OAEP for the key, AES-128-GCM for the assertion.
    let values: Vec<&str> = p
        .xml
        .split("<xenc:CipherValue>")
        .skip(1)
        .map(|v| v.split("</xenc:CipherValue>").next().unwrap())
        .collect();
    let wrapped = STANDARD.decode(values[0]).unwrap();
    let data = STANDARD.decode(values[1]).unwrap();
    let rsa = sp.key.rsa().unwrap();
    let mut key = vec![0u8; rsa.size() as usize];
    let n = rsa
        .private_decrypt(&wrapped, &mut key, openssl::rsa::Padding::PKCS1_OAEP)
        .unwrap();
    let (iv, rest) = data.split_at(12);
    let (ct, tag) = rest.split_at(rest.len() - 16);
    let plain = openssl::symm::decrypt_aead(
        openssl::symm::Cipher::aes_128_gcm(),
        &key[..n],
        Some(iv),
        &[],
        ct,
        tag,
    )
    .unwrap();
    let assertion = String::from_utf8(plain).unwrap();
    assert!(assertion.starts_with("<saml:Assertion"), "{assertion}");
    assert!(assertion.ends_with("</saml:Assertion>"), "{assertion:?}");
    verify_all(&t, &assertion);
}

fn logout_request(
    t: &TestApp,
    sp: &TestSp,
    name_id: &str,
    session_index: Option<&str>,
) -> (String, String) {
    let id = format!("_{}", uuid::Uuid::new_v4().simple());
    let si = session_index
        .map(|s| format!("<samlp:SessionIndex>{s}</samlp:SessionIndex>"))
        .unwrap_or_default();
    let xml = format!(
        r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{}" Destination="{IDP}/saml/slo"><saml:Issuer>{}</saml:Issuer><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{name_id}</saml:NameID>{si}</samlp:LogoutRequest>"#,
        instant(now(t)),
        sp.entity_id
    );
    (id, xml)
}

fn redirect_message(url: &str, param: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    let v = u
        .query_pairs()
        .find(|(k, _)| k == param)
        .unwrap()
        .1
        .into_owned();
    idp::saml::binding::decode_redirect(&v).unwrap()
}

#[actix_web::test]
async fn single_logout_from_the_sp_ends_the_sso_session() {
    let t = demo();
    let sp = TestSp::new("https://sp.test/metadata");
    sp.add(&t, true, false);
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::default();
    let req = Req::new(&t, &sp.entity_id);
    let query = sp.sign_query(&format!("SAMLRequest={}", q(&deflate_b64(&req.xml()))));
    let res = b.get(&app, &format!("/saml/sso?{query}")).await;
    let res = login_and_continue(&app, &mut b, &location(&res)).await;
    let xml = posted(&body(res).await).xml;
    let name_id = between(&xml, "<saml:NameID ", "</saml:NameID>").to_string();
    let session_index = xml
        .split("SessionIndex=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    // The demo SP is in the same session too (it has an SLO endpoint, so it is told).
    let res = b.get(&app, &Req::new(&t, DEMO_SP).redirect(None)).await;
    assert_eq!(res.status(), StatusCode::OK);

    // Unsigned: refused, the session stays.
    let (_, lr) = logout_request(&t, &sp, &name_id, Some(&session_index));
    let res = b
        .get(
            &app,
            &format!("/saml/slo?SAMLRequest={}", q(&deflate_b64(&lr))),
        )
        .await;
    assert_refused(res, "ondertekend").await;
    let res = b
        .get(&app, &Req::new(&t, &sp.entity_id).redirect(None))
        .await;
    assert_refused(res, "ondertekend").await; // (unsigned AuthnRequest, but not a login form)

    // Signed: the other SP gets a LogoutRequest, then this SP its LogoutResponse.
    let (id, lr) = logout_request(&t, &sp, &name_id, Some(&session_index));
    let query = sp.sign_query(&format!(
        "SAMLRequest={}&RelayState=weg",
        q(&deflate_b64(&lr))
    ));
    let res = b.get(&app, &format!("/saml/slo?{query}")).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let to_demo = location(&res);
    assert!(
        to_demo.starts_with("http://127.0.0.1:8082/saml/slo?SAMLRequest="),
        "{to_demo}"
    );
    assert!(to_demo.contains("&SigAlg=") && to_demo.contains("&Signature="));
    let demo_lr = redirect_message(&to_demo, "SAMLRequest");
    assert!(demo_lr.contains(&format!(
        "<samlp:SessionIndex>{session_index}</samlp:SessionIndex>"
    )));
    // The session is gone already: a new SSO asks for a login.
    let mut b2 = Browser::default();
    b2.cookies = b.cookies.clone();
    let res = b2.get(&app, &Req::new(&t, DEMO_SP).redirect(None)).await;
    assert!(location(&res).starts_with("/login?auth=saml-"));

    // The demo SP cannot sign its answer (no key in its metadata): the chain waits; the
    // SP that asked is answered when the demo SP's answer comes. Here: replay and unsigned
    // messages are refused.
    let res = b.get(&app, &format!("/saml/slo?{query}")).await;
    assert_refused(res, "al eens gebruikt").await;
    let _ = id;
}

#[actix_web::test]
async fn single_logout_answers_the_sp_when_it_is_the_only_one() {
    let t = demo();
    let sp = TestSp::new("https://sp.test/metadata");
    sp.add(&t, true, false);
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::default();
    let req = Req::new(&t, &sp.entity_id);
    let query = sp.sign_query(&format!("SAMLRequest={}", q(&deflate_b64(&req.xml()))));
    let res = b.get(&app, &format!("/saml/sso?{query}")).await;
    let res = login_and_continue(&app, &mut b, &location(&res)).await;
    let xml = posted(&body(res).await).xml;
    let name_id = between(&xml, "<saml:NameID ", "</saml:NameID>").to_string();

    // Another user's NameID, no SessionIndex: UnknownPrincipal, and the session stays.
    let (_, lr) = logout_request(&t, &sp, "0000", None);
    let query = sp.sign_query(&format!("SAMLRequest={}", q(&deflate_b64(&lr))));
    let res = b.get(&app, &format!("/saml/slo?{query}")).await;
    let answer = redirect_message(&location(&res), "SAMLResponse");
    assert_eq!(status_of(&answer), ["Requester", "UnknownPrincipal"]);

    let (id, lr) = logout_request(&t, &sp, &name_id, None);
    let query = sp.sign_query(&format!(
        "SAMLRequest={}&RelayState=weg",
        q(&deflate_b64(&lr))
    ));
    let res = b.get(&app, &format!("/saml/slo?{query}")).await;
    let to = location(&res);
    assert!(to.starts_with("https://sp.test/slo?SAMLResponse="), "{to}");
    assert!(to.contains("&RelayState=weg&SigAlg="));
    let answer = redirect_message(&to, "SAMLResponse");
    assert!(answer.contains(&format!("InResponseTo=\"{id}\"")));
    assert_eq!(status_of(&answer), ["Success"]);
    // The query signature verifies with the IdP's certificate.
    let certs: Vec<Vec<u8>> = idp_certs(&t)
        .iter()
        .map(|c| c.der_data().to_vec())
        .collect();
    idp::saml::binding::verify_query(to.split_once('?').unwrap().1, "SAMLResponse", &certs)
        .unwrap();
    // Signed out: SSO asks for a login again.
    let res = b
        .get(&app, &Req::new(&t, &sp.entity_id).redirect(None))
        .await;
    assert_refused(res, "ondertekend").await;
    let res = b.get(&app, &Req::new(&t, DEMO_SP).redirect(None)).await;
    assert!(location(&res).starts_with("/login?auth=saml-"));
}

#[actix_web::test]
async fn saml_sp_add_refuses_bad_metadata_and_changes_nothing() {
    let t = demo();
    let sp = TestSp::new("https://sp.test/metadata");
    let good = sp.metadata(false, false);
    let cases: Vec<(String, &str)> = vec![
        (format!("<!DOCTYPE x [<!ENTITY a \"b\">]>{}", without_decl(&good)), "not safe XML"),
        (
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>"#.into(),
            "SPSSODescriptor",
        ),
        (good.replace("entityID=\"https://sp.test/metadata\"", ""), "entityID"),
        (good.replace("HTTP-POST", "HTTP-Artifact"), "HTTP-POST"),
        (good.replace("https://sp.test/acs", "http://sp.test/acs"), "https"),
        (good.replace("<ds:X509Certificate>", "<ds:X509Certificate>AAAA"), "certificate"),
        (sp.metadata(true, false).replace("use=\"signing\"", "use=\"encryption\""), "signing certificate"),
        (DEMO_METADATA_DUPLICATE.into(), "already exists"),
    ];
    let before = t.state.dir.relying_parties().unwrap().len();
    for (metadata, words) in cases {
        let err = admin::add_saml_sp(
            ctx(&t),
            SamlSpInput {
                metadata,
                kind: "publisher".into(),
                audience: "beide".into(),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains(words), "expected {words:?} in {err:?}");
    }
    assert_eq!(t.state.dir.relying_parties().unwrap().len(), before);
    // The default sector is the ACS host: the same as an OIDC client on that host.
    admin::add_saml_sp(
        ctx(&t),
        SamlSpInput {
            metadata: good,
            kind: "publisher".into(),
            audience: "beide".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let rp = t
        .state
        .dir
        .relying_party_by_public_id("https://sp.test/metadata")
        .unwrap()
        .unwrap();
    assert_eq!(rp.sector, "sp.test");
}

const DEMO_METADATA_DUPLICATE: &str = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="http://127.0.0.1:8082/saml/metadata"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="http://127.0.0.1:8082/acs" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>"#;

fn without_decl(xml: &str) -> &str {
    idp::saml::xml::without_declaration(xml)
}

#[actix_web::test]
async fn signing_out_at_leerpoort_sends_logout_requests_to_saml_sps() {
    let t = demo();
    let sp = TestSp::new("https://sp.test/metadata");
    sp.add(&t, true, false);
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::default();
    let req = Req::new(&t, &sp.entity_id);
    let query = sp.sign_query(&format!("SAMLRequest={}", q(&deflate_b64(&req.xml()))));
    let res = b.get(&app, &format!("/saml/sso?{query}")).await;
    let res = login_and_continue(&app, &mut b, &location(&res)).await;
    let xml = posted(&body(res).await).xml;
    let name_id = between(&xml, "<saml:NameID ", "</saml:NameID>").to_string();

    // Sign out from Leerpoort's own page.
    let start = body(b.get(&app, "/").await).await;
    let csrf = hidden(&start, "csrf_token");
    let res = b.post(&app, "/uitloggen", &[("csrf_token", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let to = location(&res);
    assert!(to.starts_with("https://sp.test/slo?SAMLRequest="), "{to}");
    let certs: Vec<Vec<u8>> = idp_certs(&t)
        .iter()
        .map(|c| c.der_data().to_vec())
        .collect();
    idp::saml::binding::verify_query(to.split_once('?').unwrap().1, "SAMLRequest", &certs).unwrap();
    let lr = redirect_message(&to, "SAMLRequest");
    assert!(lr.contains(&format!(">{name_id}</saml:NameID>")), "{lr}");
    let lr_id = lr.split("ID=\"").nth(1).unwrap().split('"').next().unwrap();

    // The SP answers; the chain ends on the signed-out page.
    let answer = format!(
        r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="{}" InResponseTo="{lr_id}"><saml:Issuer>{}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>"#,
        instant(now(&t)),
        sp.entity_id
    );
    // Unsigned: refused.
    let res = b
        .get(
            &app,
            &format!("/saml/slo?SAMLResponse={}", q(&deflate_b64(&answer))),
        )
        .await;
    assert_refused(res, "ondertekend").await;
    let query = sp.sign_query(&format!("SAMLResponse={}", q(&deflate_b64(&answer))));
    let res = b.get(&app, &format!("/saml/slo?{query}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(body(res).await.contains("uitgelogd"));
    // The chain was used once.
    let res = b.get(&app, &format!("/saml/slo?{query}")).await;
    assert_refused(res, "verlopen").await;
}

#[actix_web::test]
async fn oidc_logout_tells_the_saml_sps_then_returns_to_the_client() {
    let t = demo();
    let sp = TestSp::new("https://sp.test/metadata");
    sp.add(&t, true, false);
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::default();
    let req = Req::new(&t, &sp.entity_id);
    let query = sp.sign_query(&format!("SAMLRequest={}", q(&deflate_b64(&req.xml()))));
    let res = b.get(&app, &format!("/saml/sso?{query}")).await;
    login_and_continue(&app, &mut b, &location(&res)).await;

    // Without an ID token of this session the user confirms first (a bare GET ends nothing).
    let res = b
        .get(
            &app,
            "/oidc/logout?client_id=demo-uitgeverij&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2F&state=st",
        )
        .await;
    let page = body(res).await;
    assert!(page.contains("Uitloggen?"), "{page}");
    let csrf = hidden(&page, "csrf_token");
    let res = b
        .post(
            &app,
            "/oidc/logout",
            &[
                ("confirm", "ja"),
                ("csrf_token", &csrf),
                ("client_id", "demo-uitgeverij"),
                ("post_logout_redirect_uri", "http://127.0.0.1:8081/"),
                ("state", "st"),
            ],
        )
        .await;
    let to = location(&res);
    assert!(to.starts_with("https://sp.test/slo?SAMLRequest="), "{to}");
    let lr = redirect_message(&to, "SAMLRequest");
    let lr_id = lr.split("ID=\"").nth(1).unwrap().split('"').next().unwrap();
    let answer = format!(
        r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r2" Version="2.0" IssueInstant="{}" InResponseTo="{lr_id}"><saml:Issuer>{}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>"#,
        instant(now(&t)),
        sp.entity_id
    );
    let query = sp.sign_query(&format!("SAMLResponse={}", q(&deflate_b64(&answer))));
    let res = b.get(&app, &format!("/saml/slo?{query}")).await;
    assert_eq!(location(&res), "http://127.0.0.1:8081/?state=st");
    // Signed out: SSO asks for a login again.
    let res = b.get(&app, &Req::new(&t, DEMO_SP).redirect(None)).await;
    assert!(location(&res).starts_with("/login?auth=saml-"));
}

#[actix_web::test]
async fn disabled_service_providers_are_refused() {
    let t = demo();
    let sp = TestSp::new("https://sp.test/metadata");
    sp.add(&t, false, false);
    // The operator switches the SP off for everyone.
    let pool = idp::db::connect(&t.state.config.database_url, 2).unwrap();
    {
        use diesel::RunQueryDsl as _;
        let mut c = pool.get().unwrap();
        diesel::sql_query(
            "UPDATE relying_parties SET enabled = FALSE WHERE entity_id = 'https://sp.test/metadata'",
        )
        .execute(&mut *c)
        .unwrap();
    }
    // A node that has not seen the SP before (no cached copy).
    let state = idp::app::AppState::with_directory(
        (*t.state.config).clone(),
        t.state.clock.clone(),
        std::sync::Arc::new(idp::db::DieselDirectory::new(pool, t.state.clock.clone())),
    )
    .unwrap();
    let app = test::init_service(idp::server::app(state)).await;
    let mut b = Browser::default();
    assert_refused(
        b.get(&app, &Req::new(&t, &sp.entity_id).redirect(None))
            .await,
        "Onbekende software",
    )
    .await;
    assert_refused(
        b.get(&app, &format!("/saml/unsolicited?sp={}", q(&sp.entity_id)))
            .await,
        "Onbekende software",
    )
    .await;
    // The demo SP, still enabled, is served.
    let res = b.get(&app, &Req::new(&t, DEMO_SP).redirect(None)).await;
    assert!(location(&res).starts_with("/login?auth=saml-"));
}

#[actix_web::test]
async fn single_logout_tells_every_other_sp_then_answers_the_one_that_asked() {
    let t = demo();
    let sp1 = TestSp::new("https://sp.test/one");
    let sp2 = TestSp::new("https://sp.test/two");
    sp1.add(&t, true, false);
    sp2.add(&t, true, false);
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::default();
    let sso = |sp: &TestSp| {
        let req = Req::new(&t, &sp.entity_id);
        format!(
            "/saml/sso?{}",
            sp.sign_query(&format!("SAMLRequest={}", q(&deflate_b64(&req.xml()))))
        )
    };
    let res = b.get(&app, &sso(&sp1)).await;
    let res = login_and_continue(&app, &mut b, &location(&res)).await;
    let xml = posted(&body(res).await).xml;
    let name_id = between(&xml, "<saml:NameID ", "</saml:NameID>").to_string();
    let res = b.get(&app, &sso(&sp2)).await;
    assert_eq!(res.status(), StatusCode::OK);

    let (id, lr) = logout_request(&t, &sp1, &name_id, None);
    let query = sp1.sign_query(&format!(
        "SAMLRequest={}&RelayState=terug",
        q(&deflate_b64(&lr))
    ));
    let res = b.get(&app, &format!("/saml/slo?{query}")).await;
    let to_two = location(&res);
    let lr2 = redirect_message(&to_two, "SAMLRequest");
    assert!(
        lr2.contains("SPNameQualifier=\"https://sp.test/two\""),
        "{lr2}"
    );
    let lr2_id = lr2
        .split("ID=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    // sp2 answers, signed.
    let answer = format!(
        r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r3" Version="2.0" IssueInstant="{}" InResponseTo="{lr2_id}"><saml:Issuer>{}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>"#,
        instant(now(&t)),
        sp2.entity_id
    );
    // An answer from the wrong SP does not move the chain.
    let wrong = sp1.sign_query(&format!(
        "SAMLResponse={}",
        q(&deflate_b64(
            &answer.replace("https://sp.test/two", "https://sp.test/one")
        ))
    ));
    assert_refused(b.get(&app, &format!("/saml/slo?{wrong}")).await, "verlopen").await;
    // The right one does: sp1, which asked, gets its LogoutResponse with its RelayState.
    let right = sp2.sign_query(&format!("SAMLResponse={}", q(&deflate_b64(&answer))));
    let res = b.get(&app, &format!("/saml/slo?{right}")).await;
    let to_one = location(&res);
    assert!(
        to_one.starts_with("https://sp.test/slo?SAMLResponse="),
        "{to_one}"
    );
    assert!(to_one.contains("&RelayState=terug&"), "{to_one}");
    let final_answer = redirect_message(&to_one, "SAMLResponse");
    assert!(final_answer.contains(&format!("InResponseTo=\"{id}\"")));
    assert_eq!(status_of(&final_answer), ["Success"]);
    // Once.
    assert_refused(b.get(&app, &format!("/saml/slo?{right}")).await, "verlopen").await;
}

/// The Redirect binding's query is parsed once: a parameter name that is repeated or
/// percent-encoded is refused, so a signature cannot cover one value while another is used.
#[actix_web::test]
async fn redirect_queries_with_repeated_or_encoded_names_are_refused() {
    let t = demo();
    let sp = TestSp::new("https://sp.test/metadata");
    sp.add(&t, true, false);
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::default();

    // /saml/sso: a signed request with something added next to what the signature covers.
    let signed_sso = |relay: Option<&str>| {
        let req = Req::new(&t, &sp.entity_id);
        let mut query = format!("SAMLRequest={}", q(&deflate_b64(&req.xml())));
        if let Some(rs) = relay {
            query.push_str(&format!("&RelayState={rs}"));
        }
        sp.sign_query(&query)
    };
    let other = Req::new(&t, &sp.entity_id);
    let other_request = q(&deflate_b64(&other.xml()));
    let variants = [
        // An unsigned RelayState under an encoded name.
        format!(
            "{}&Relay%53tate=https%3A%2F%2Faanvaller.example",
            signed_sso(None)
        ),
        format!("Relay%53tate=evil&{}", signed_sso(None)),
        // RelayState twice: the signed one and another.
        format!("{}&RelayState=evil", signed_sso(Some("x"))),
        // The request twice, or under an encoded name.
        format!("SAML%52equest={other_request}&{}", signed_sso(None)),
        format!("SAMLRequest={other_request}&{}", signed_sso(None)),
        // SigAlg or Signature twice, or encoded.
        format!("{}&SigAlg=x", signed_sso(None)),
        format!("{}&Signature=AAAA", signed_sso(None)),
        format!("{}&Sig%41lg=x", signed_sso(None)),
        signed_sso(None).replace("&Signature=", "&Sig%6Eature="),
        // A name with '+' (decodes to a space).
        format!("{}&Relay+State=x", signed_sso(None)),
        // Both messages at once.
        format!("{}&SAMLResponse={other_request}", signed_sso(None)),
    ];
    for query in &variants {
        let res = b.get(&app, &format!("/saml/sso?{query}")).await;
        assert_refused(res, "Ongeldige aanvraag").await;
    }
    // The same requests without the addition are accepted.
    let res = b
        .get(&app, &format!("/saml/sso?{}", signed_sso(Some("x"))))
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let res = login_and_continue(&app, &mut b, &location(&res)).await;
    let xml = posted(&body(res).await).xml;
    let name_id = between(&xml, "<saml:NameID ", "</saml:NameID>").to_string();

    // /saml/slo: a LogoutRequest the signature does not cover, next to one it does.
    let (_, signed_lr) = logout_request(&t, &sp, "someone-else", None);
    let signed = sp.sign_query(&format!("SAMLRequest={}", q(&deflate_b64(&signed_lr))));
    let (_, forged) = logout_request(&t, &sp, &name_id, None);
    let forged = q(&deflate_b64(&forged));
    let variants = [
        format!("SAML%52equest={forged}&{signed}"),
        format!("SAMLRequest={forged}&{signed}"),
        format!("{signed}&SAMLRequest={forged}"),
        format!("{signed}&Relay%53tate=https%3A%2F%2Faanvaller.example"),
        format!("{signed}&SigAlg=x"),
        format!("{signed}&Signature=AAAA"),
        signed.replace("SAMLRequest=", "SAML%52equest="),
    ];
    for query in &variants {
        let res = b.get(&app, &format!("/saml/slo?{query}")).await;
        assert_refused(res, "Ongeldige aanvraag").await;
    }
    // The session is still there: an SSO for the demo SP goes straight through.
    let res = b.get(&app, &Req::new(&t, DEMO_SP).redirect(None)).await;
    assert_eq!(res.status(), StatusCode::OK);
    // A LogoutRequest signed as it is processed ends it.
    let (_, lr) = logout_request(&t, &sp, &name_id, None);
    let query = sp.sign_query(&format!("SAMLRequest={}", q(&deflate_b64(&lr))));
    let res = b.get(&app, &format!("/saml/slo?{query}")).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let res = b.get(&app, &Req::new(&t, DEMO_SP).redirect(None)).await;
    assert!(location(&res).starts_with("/login?auth=saml-"));
}

/// An unsolicited response (a school shortcut) carries only a RelayState registered for the
/// SP (`saml-sp add/update --relay-state`), or none.
#[actix_web::test]
async fn unsolicited_responses_carry_only_registered_relay_states() {
    let t = demo();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let mut b = Browser::default();
    let res = b.get(&app, &Req::new(&t, DEMO_SP).redirect(None)).await;
    login_and_continue(&app, &mut b, &location(&res)).await;
    let unsolicited =
        |rs: &str| format!("/saml/unsolicited?sp={}&RelayState={}", q(DEMO_SP), q(rs));

    // Nothing registered: any RelayState is refused, none is fine.
    let res = b
        .get(&app, &unsolicited("https://aanvaller.example/"))
        .await;
    assert_refused(res, "niet voor deze software").await;
    let res = b
        .get(&app, &format!("/saml/unsolicited?sp={}", q(DEMO_SP)))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(posted(&body(res).await).relay_state, None);

    // Registered: that URL, exactly, goes along; others are still refused.
    let lesson = "http://127.0.0.1:8082/les/3";
    admin::update_saml_sp(
        ctx(&t),
        admin::SamlSpUpdate {
            entity_id: DEMO_SP.into(),
            relay_states: Some(vec![lesson.into()]),
            ..Default::default()
        },
    )
    .unwrap();
    let res = b.get(&app, &unsolicited(lesson)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let p = posted(&body(res).await);
    assert_eq!(p.relay_state.as_deref(), Some(lesson));
    assert_eq!(status_of(&p.xml), ["Success"]);
    for other in [
        "http://127.0.0.1:8082/les/3/../../evil",
        "http://127.0.0.1:8082/les/",
        "https://aanvaller.example/",
    ] {
        assert_refused(
            b.get(&app, &unsolicited(other)).await,
            "niet voor deze software",
        )
        .await;
    }
    // Registering refuses what could never be a RelayState.
    for bad in [
        "http://aanvaller.example/",
        "javascript:alert(1)",
        &format!("https://sp.test/{}", "x".repeat(80)),
    ] {
        let e = admin::update_saml_sp(
            ctx(&t),
            admin::SamlSpUpdate {
                entity_id: DEMO_SP.into(),
                relay_states: Some(vec![bad.into()]),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("--relay-state"), "{e}");
    }
}

impl TestSp {
    /// The metadata with an ID, signed (enveloped, over the EntityDescriptor) by `signer`.
    fn signed_metadata(&self, signer: &TestSp, encryption: bool) -> String {
        let md = without_decl(&self.metadata(false, encryption)).replacen(
            "<md:EntityDescriptor ",
            r#"<md:EntityDescriptor ID="_md1" "#,
            1,
        );
        let template =
            idp::saml::xml::signature_template("_md1", &STANDARD.encode(&signer.cert_der));
        let end = md.find('>').unwrap() + 1;
        let with = format!("{}{template}{}", &md[..end], &md[end..]);
        Crypto::sign_xml(with, &signer.key.private_key_to_der().unwrap()).unwrap()
    }

    fn cert_pem(&self) -> String {
        String::from_utf8(
            openssl::x509::X509::from_der(&self.cert_der)
                .unwrap()
                .to_pem()
                .unwrap(),
        )
        .unwrap()
    }
}

/// Metadata served over HTTP on loopback, changeable while it runs.
struct MetadataServer {
    url: String,
    document: std::sync::Arc<std::sync::Mutex<String>>,
}

impl MetadataServer {
    fn start(document: &str) -> MetadataServer {
        use std::io::{BufRead as _, BufReader};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/metadata.xml", listener.local_addr().unwrap());
        let shared = std::sync::Arc::new(std::sync::Mutex::new(document.to_string()));
        let doc = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok() && line != "\r\n" && !line.is_empty() {
                    line.clear();
                }
                let body = doc.lock().unwrap().clone();
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/samlmetadata+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        MetadataServer {
            url,
            document: shared,
        }
    }

    fn serve(&self, document: &str) {
        *self.document.lock().unwrap() = document.to_string();
    }
}

fn stored_metadata(t: &TestApp, entity_id: &str) -> idp::saml::sp::SpMetadata {
    let rp = t
        .state
        .dir
        .relying_party_by_public_id(entity_id)
        .unwrap()
        .unwrap();
    let broker::model::RpProtocol::Saml(s) = rp.protocol else {
        panic!("not SAML")
    };
    idp::saml::sp::parse(&s.metadata).unwrap()
}

/// The running server refreshes an SP's metadata from its URL every `refresh_hours`: new
/// metadata is taken (the registrations stay), a failed refresh keeps the old metadata and
/// records why, and with a metadata signing certificate only metadata signed with it is
/// taken.
#[core::prelude::v1::test]
fn metadata_refresh_takes_new_metadata_and_keeps_the_old_on_failure() {
    use idp::saml::sp_refresh::refresh_due;
    let t = demo();
    let sp = TestSp::new("https://sp.test/metadata");
    let server = MetadataServer::start(&sp.metadata(false, false));
    admin::add_saml_sp(
        ctx(&t),
        SamlSpInput {
            metadata: idp::saml::sp_refresh::fetch(&server.url).unwrap(),
            kind: "publisher".into(),
            audience: "beide".into(),
            metadata_url: Some(server.url.clone()),
            refresh_hours: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    admin::register(ctx(&t), &school(), &sp.entity_id, Default::default()).unwrap();
    let rp = t
        .state
        .dir
        .relying_party_by_public_id(&sp.entity_id)
        .unwrap()
        .unwrap();
    assert!(stored_metadata(&t, &sp.entity_id)
        .encryption_certs
        .is_empty());

    // The SP adds an encryption key. Not due yet; an hour later it is.
    server.serve(&sp.metadata(false, true));
    assert!(refresh_due(&t.state, now(&t)).is_empty());
    t.clock.advance(std::time::Duration::from_secs(3600));
    let done = refresh_due(&t.state, now(&t));
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].result, Ok(true));
    assert_eq!(stored_metadata(&t, &sp.entity_id).encryption_certs.len(), 1);
    assert!(t
        .state
        .dir
        .registration(&school(), rp.id)
        .unwrap()
        .is_some());

    // Broken, or another SP's metadata: the old stays, the reason is kept; tried again at
    // the next check.
    t.clock.advance(std::time::Duration::from_secs(3600));
    let before = stored_metadata(&t, &sp.entity_id);
    let other = TestSp::new("https://ander.example/metadata");
    for (bad, words) in [
        ("<md:EntityDescriptor".to_string(), "not"),
        (other.metadata(false, false), "is for entity ID"),
    ] {
        server.serve(&bad);
        let done = refresh_due(&t.state, now(&t));
        let err = done[0].result.clone().unwrap_err();
        assert!(err.contains(words), "{err}");
        assert_eq!(stored_metadata(&t, &sp.entity_id), before);
        let o = t.state.dir.saml_sp_options(rp.id).unwrap();
        assert_eq!(o.refresh_error.as_deref(), Some(err.as_str()));
    }

    // With a metadata signing certificate: unsigned metadata and metadata signed by another
    // key are refused; metadata signed with it is taken (only what the signature covers).
    let signer = TestSp::new("signer");
    admin::update_saml_sp(
        ctx(&t),
        admin::SamlSpUpdate {
            entity_id: sp.entity_id.clone(),
            metadata: Some(sp.signed_metadata(&signer, true)),
            metadata_signing_cert: Some(Some(signer.cert_pem())),
            ..Default::default()
        },
    )
    .unwrap();
    t.clock.advance(std::time::Duration::from_secs(3600));
    let impostor = TestSp::new("impostor");
    for (bad, words) in [
        (sp.metadata(false, false), "not signed"),
        (sp.signed_metadata(&impostor, false), "does not verify"),
        (
            sp.signed_metadata(&signer, false)
                .replace("https://sp.test/acs", "https://aanvaller.example/acs"),
            "does not verify",
        ),
    ] {
        server.serve(&bad);
        let err = refresh_due(&t.state, now(&t))[0]
            .result
            .clone()
            .unwrap_err();
        assert!(err.contains(words), "{err}");
        assert_eq!(stored_metadata(&t, &sp.entity_id).encryption_certs.len(), 1);
    }
    server.serve(&sp.signed_metadata(&signer, false));
    assert_eq!(refresh_due(&t.state, now(&t))[0].result, Ok(true));
    assert!(stored_metadata(&t, &sp.entity_id)
        .encryption_certs
        .is_empty());
    assert!(t
        .state
        .dir
        .registration(&school(), rp.id)
        .unwrap()
        .is_some());
    // Signed metadata without a configured certificate cannot be verified: refused.
    let e = admin::add_saml_sp(
        ctx(&t),
        SamlSpInput {
            metadata: TestSp::new("https://nog.example/metadata").signed_metadata(&signer, false),
            kind: "publisher".into(),
            audience: "beide".into(),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("--metadata-signing-cert"), "{e}");
}

/// Leerpoort's SP metadata towards network environments (`/broker/saml/metadata`), with the
/// values that change from run to run redacted: the document an upstream's operator loads.
#[actix_web::test]
async fn the_broker_sp_metadata_keeps_its_shape() {
    let t = TestApp::init();
    let app = test::init_service(idp::server::app(t.state.clone())).await;
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/broker/saml/metadata")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let xml = body(res).await;
    assert!(
        xml.contains(&format!(r#"entityID="{IDP}/broker/saml/metadata""#)),
        "{xml}"
    );
    insta::assert_snapshot!("broker_sp_metadata", redact(&xml));
}
