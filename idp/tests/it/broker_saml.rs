//! A SAML network environment as upstream identity provider, in process with a fixed clock:
//! Leerpoort's SP metadata, the signed AuthnRequest, the ACS signing a pupil in, and every
//! hostile answer refused (signature wrapping XSW1–XSW8, missing and foreign signatures,
//! wrong Audience/Destination/Recipient, expired or future conditions, replays, unknown
//! `InResponseTo`, unsolicited answers, comment-injected NameIDs, encrypted assertions).
//! The test IdP signs with a key of its own whose certificate is in the upstream's metadata.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use broker::admin::{self, Ctx, UpstreamInput};
use broker::federation::saml::UpstreamSamlError as E;
use idp::saml::upstream_sp;
use openssl::pkey::{PKey, Private};
use protocol::saml::upstream_answer::UpstreamRefusal as R;
use samael::crypto::{Crypto, CryptoProvider};

use crate::server::TestApp;

const ACS: &str = "http://127.0.0.1:8080/broker/saml/acs";
const SP: &str = "http://127.0.0.1:8080/broker/saml/metadata";
const IDP: &str = "https://moo.example/idp";
const IDP_SSO: &str = "https://moo.example/sso";
const IDP_SLO: &str = "https://moo.example/slo";
/// A demo pupil's LAS key, and another pupil's.
const PUPIL: &str = "LL0001";
const OTHER: &str = "LL0002";

/// A key pair and a self-signed certificate.
fn key_and_cert(cn: &str) -> (PKey<Private>, Vec<u8>) {
    let key = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    let mut name = openssl::x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", cn).unwrap();
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
    let serial = openssl::bn::BigNum::from_u32(9)
        .unwrap()
        .to_asn1_integer()
        .unwrap();
    b.set_serial_number(&serial).unwrap();
    b.sign(&key, openssl::hash::MessageDigest::sha256())
        .unwrap();
    (key, b.build().to_der().unwrap())
}

fn now(t: &TestApp) -> i64 {
    broker::clock::Clock::now_secs(t.clock.as_ref())
}

fn instant(secs: i64) -> String {
    idp::saml::xml::instant(secs)
}

fn q(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// The network environment's IdP: its key, and its metadata.
struct TestIdp {
    key: PKey<Private>,
    cert: Vec<u8>,
}

impl TestIdp {
    fn new() -> TestIdp {
        let (key, cert) = key_and_cert("moo.example");
        TestIdp { key, cert }
    }

    fn metadata(&self) -> String {
        format!(
            r#"<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{IDP}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{IDP_SLO}"/><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{IDP_SSO}"/></md:IDPSSODescriptor></md:EntityDescriptor>"#,
            STANDARD.encode(&self.cert)
        )
    }
}

/// Which parts of a Response are signed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Signed {
    Nothing,
    Response,
    Assertion,
    Both,
}

/// A Response as a network environment writes it.
#[derive(Clone)]
struct Resp {
    id: String,
    assertion_id: String,
    in_response_to: Option<String>,
    destination: String,
    recipient: String,
    audience: String,
    issuer: String,
    name_id: String,
    las_key: String,
    issued: i64,
    not_before: i64,
    not_on_or_after: i64,
}

impl Resp {
    fn new(t: &TestApp, in_response_to: &str) -> Resp {
        let n = now(t);
        Resp {
            id: format!("_r{}", uuid::Uuid::new_v4().simple()),
            assertion_id: format!("_a{}", uuid::Uuid::new_v4().simple()),
            in_response_to: Some(in_response_to.into()),
            destination: ACS.into(),
            recipient: ACS.into(),
            audience: SP.into(),
            issuer: IDP.into(),
            name_id: "moo-4711".into(),
            las_key: PUPIL.into(),
            issued: n,
            not_before: n - 10,
            not_on_or_after: n + 300,
        }
    }

    fn assertion(&self, sig: &str) -> String {
        let irt = self
            .in_response_to
            .as_ref()
            .map(|i| format!(r#" InResponseTo="{i}""#))
            .unwrap_or_default();
        format!(
            concat!(
                r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{aid}" Version="2.0" IssueInstant="{at}">"#,
                r#"<saml:Issuer>{issuer}</saml:Issuer>{sig}"#,
                r#"<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{name_id}</saml:NameID>"#,
                r#"<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData{irt} NotOnOrAfter="{until}" Recipient="{recipient}"/></saml:SubjectConfirmation></saml:Subject>"#,
                r#"<saml:Conditions NotBefore="{nb}" NotOnOrAfter="{until}"><saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>"#,
                r#"<saml:AuthnStatement AuthnInstant="{at}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"#,
                r#"<saml:AttributeStatement><saml:Attribute Name="lasKey"><saml:AttributeValue>{las}</saml:AttributeValue></saml:Attribute>"#,
                r#"<saml:Attribute Name="eduPersonAffiliation"><saml:AttributeValue>student</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>"#,
                r#"</saml:Assertion>"#
            ),
            aid = self.assertion_id,
            at = instant(self.issued),
            issuer = self.issuer,
            sig = sig,
            name_id = self.name_id,
            irt = irt,
            until = instant(self.not_on_or_after),
            recipient = self.recipient,
            nb = instant(self.not_before),
            audience = self.audience,
            las = self.las_key,
        )
    }

    fn response(&self, sig: &str, assertion: &str) -> String {
        let irt = self
            .in_response_to
            .as_ref()
            .map(|i| format!(r#" InResponseTo="{i}""#))
            .unwrap_or_default();
        format!(
            concat!(
                r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{at}" Destination="{dest}"{irt}>"#,
                r#"<saml:Issuer>{issuer}</saml:Issuer>{sig}"#,
                r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>"#,
                "{assertion}</samlp:Response>"
            ),
            id = self.id,
            at = instant(self.issued),
            dest = self.destination,
            irt = irt,
            issuer = self.issuer,
            sig = sig,
            assertion = assertion,
        )
    }

    /// The Response, signed as `how` with `key` (its certificate in the KeyInfo).
    fn signed(&self, how: Signed, key: &PKey<Private>, cert: &[u8]) -> String {
        let der = key.private_key_to_der().unwrap();
        let cert = STANDARD.encode(cert);
        let template = |id: &str| idp::saml::xml::signature_template(id, &cert);
        let assertion = match how {
            Signed::Assertion | Signed::Both => {
                let signed =
                    Crypto::sign_xml(self.assertion(&template(&self.assertion_id)), &der).unwrap();
                idp::saml::xml::without_declaration(&signed).to_string()
            }
            _ => self.assertion(""),
        };
        match how {
            Signed::Response | Signed::Both => {
                let xml = self.response(&template(&self.id), &assertion);
                let signed = Crypto::sign_xml(xml, &der).unwrap();
                idp::saml::xml::without_declaration(&signed).to_string()
            }
            _ => self.response("", &assertion),
        }
    }
}

struct Env {
    t: TestApp,
    idp: TestIdp,
    /// The browser's binding cookies (name, value), as `/broker/saml/start` set them.
    jar: std::cell::RefCell<Vec<(String, String)>>,
}

fn ctx(t: &TestApp) -> Ctx<'_> {
    Ctx {
        dir: t.state.dir.as_ref(),
        clock: t.state.clock.as_ref(),
        actor: "test",
    }
}

/// The demo school, and a SAML network environment serving it that matches on `lasKey`.
fn env() -> Env {
    env_with(false)
}

/// As [`env`]; `allow_unsolicited`: the upstream may send IdP-initiated responses.
fn env_with(allow_unsolicited: bool) -> Env {
    let t = TestApp::init();
    idp::demo::seed(&t.state).unwrap();
    let idp = TestIdp::new();
    admin::add_upstream(
        ctx(&t),
        &t.state.sealer,
        UpstreamInput {
            name: "moo".into(),
            schools: vec![idp::demo::DEMO_SCHOOL_REF.into()],
            saml_metadata: Some(idp.metadata()),
            match_rule: "las-key".into(),
            match_claim: "lasKey".into(),
            allow_unsolicited,
            ..Default::default()
        },
    )
    .unwrap();
    Env {
        t,
        idp,
        jar: Default::default(),
    }
}

fn location<B>(res: &ServiceResponse<B>) -> String {
    res.headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location ({})", res.status()))
        .to_str()
        .unwrap()
        .to_string()
}

async fn body<B: MessageBody>(res: ServiceResponse<B>) -> String {
    String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
}

/// Start at `/broker/saml/start`: the AuthnRequest's ID, and its XML.
async fn start<S, B>(e: &Env, app: &S, extra: &str) -> (String, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(
        app,
        test::TestRequest::get()
            .uri(&format!("/broker/saml/start?upstream=moo{extra}"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    for c in res.response().cookies() {
        if c.name().starts_with("lp_netwerk_") {
            e.jar
                .borrow_mut()
                .push((c.name().to_string(), c.value().to_string()));
        }
    }
    let to = location(&res);
    assert!(to.starts_with(&format!("{IDP_SSO}?SAMLRequest=")), "{to}");
    // Signed with Leerpoort's SAML key, over the query as sent.
    let query = to.split_once('?').unwrap().1;
    let cert = e.t.state.keys.active_saml_certificate(now(&e.t)).unwrap();
    idp::saml::binding::verify_query(query, "SAMLRequest", &[cert]).unwrap();
    let value = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "SAMLRequest")
        .unwrap()
        .1
        .into_owned();
    let xml = idp::saml::binding::decode_redirect(&value).unwrap();
    let id = xml
        .split(" ID=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    (id, xml)
}

/// POST `xml` to the ACS as the network environment's page makes the browser do it: a
/// cross-site POST, without the browser's `SameSite=Lax` cookies. When the ACS sends the
/// browser on to its same-site step, follow it with the browser's binding cookies.
async fn post<S, B>(e: &Env, app: &S, xml: &str) -> ServiceResponse<B>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(
        app,
        test::TestRequest::post()
            .uri("/broker/saml/acs")
            .set_form([("SAMLResponse", STANDARD.encode(xml))])
            .to_request(),
    )
    .await;
    let next = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .filter(|l| l.starts_with("/broker/saml/acs/continue?"))
        .map(str::to_string);
    let Some(next) = next else {
        return res;
    };
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        res.response().cookies().next().is_none(),
        "nobody is signed in before the same-site step"
    );
    let mut req = test::TestRequest::get().uri(&next);
    for (name, value) in e.jar.borrow().iter() {
        req = req.cookie(actix_web::cookie::Cookie::new(name.clone(), value.clone()));
    }
    test::call_service(app, req.to_request()).await
}

/// The session the ACS started, if any: its user's LAS key and its login context.
fn signed_in<B>(e: &Env, res: &ServiceResponse<B>) -> Option<(String, claims::LoginContext)> {
    let sid = res
        .response()
        .cookies()
        .find(|c| !c.value().is_empty())?
        .value()
        .to_string();
    let s = idp::session::load(e.t.state.store.as_ref(), &sid, now(&e.t))
        .unwrap()
        .unwrap();
    let u = e.t.state.dir.user(s.user_id).unwrap().unwrap();
    Some((u.las_key.unwrap_or_default(), s.context))
}

#[actix_web::test]
async fn sp_metadata_is_signed_and_names_the_acs() {
    let e = env();
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/broker/saml/metadata")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let xml = body(res).await;
    assert!(xml.contains(&format!(r#"entityID="{SP}""#)), "{xml}");
    assert!(xml.contains(&format!(r#"Location="{ACS}""#)), "{xml}");
    assert!(xml.contains("AuthnRequestsSigned=\"true\""));
    assert!(xml.contains(r#"Location="http://127.0.0.1:8080/broker/saml/slo""#));
    let certs: Vec<_> =
        e.t.state
            .keys
            .saml_certificates(now(&e.t))
            .into_iter()
            .map(|(_, d)| samael::crypto::CertificateDer::from(d))
            .collect();
    Crypto::reduce_xml_to_signed(&xml, &certs, samael::crypto::ReduceMode::PreDigest)
        .unwrap_or_else(|err| panic!("metadata signature: {err}"));
}

#[actix_web::test]
async fn a_pupil_signs_in_through_the_network_environment() {
    let e = env();
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    let target = idp::demo::DEMO_SAML_ENTITY_ID;
    let (id, request) = start(
        &e,
        &app,
        &format!(
            "&INSTELLING_REF={}&TARGET={}",
            idp::demo::DEMO_SCHOOL_REF,
            q(target)
        ),
    )
    .await;
    assert!(request.contains(&format!(r#"AssertionConsumerServiceURL="{ACS}""#)));
    assert!(request.contains(&format!("<saml:Issuer>{SP}</saml:Issuer>")));
    assert!(request.contains(&format!(r#"Destination="{IDP_SSO}""#)));
    assert!(!request.contains("IsPassive"));

    for how in [Signed::Both, Signed::Response, Signed::Assertion] {
        let (id, _) = if how == Signed::Both {
            (id.clone(), String::new())
        } else {
            start(&e, &app, &format!("&TARGET={}", q(target))).await
        };
        let xml = Resp::new(&e.t, &id).signed(how, &e.idp.key, &e.idp.cert);
        let res = post(&e, &app, &xml).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{how:?}");
        // On to the shortcut's TARGET: the demo SAML SP, entered with an unsolicited response.
        assert!(
            location(&res).starts_with("/saml/unsolicited?sp="),
            "{how:?}: {}",
            location(&res)
        );
        assert_eq!(
            signed_in(&e, &res),
            Some((PUPIL.to_string(), claims::LoginContext::Netwerk)),
            "{how:?}"
        );
    }
}

#[actix_web::test]
async fn an_unknown_pupil_gets_a_clear_page_and_no_session() {
    let e = env();
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    let (id, _) = start(&e, &app, "").await;
    let mut r = Resp::new(&e.t, &id);
    r.las_key = "LL9999".into();
    let res = post(&e, &app, &r.signed(Signed::Both, &e.idp.key, &e.idp.cert)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(signed_in(&e, &res).is_none());
    assert!(body(res).await.contains("Niet gevonden in Leerpoort"));
}

/// `xml` is refused for the reason `expected`, before anything is changed.
fn refused(e: &Env, xml: &str, expected: E, why: &str) {
    let got = upstream_sp::consume(&e.t.state, Some(&STANDARD.encode(xml)), None, now(&e.t)).err();
    assert_eq!(got, Some(expected), "{why}");
}

/// A fresh request and a legitimate answer to it, before it is tampered with.
async fn fresh<S, B>(e: &Env, app: &S) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (id, _) = start(e, app, "").await;
    Resp::new(&e.t, &id)
}

/// After a refusal, the same request still signs in with an honest answer: refusals change
/// nothing (the pending request is only used up by an answer that verified).
async fn still_works<S, B>(e: &Env, app: &S, r: &Resp)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut honest = r.clone();
    honest.id = format!("_r{}", uuid::Uuid::new_v4().simple());
    honest.assertion_id = format!("_a{}", uuid::Uuid::new_v4().simple());
    let res = post(
        e,
        app,
        &honest.signed(Signed::Both, &e.idp.key, &e.idp.cert),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn an_answer_signs_in_only_the_browser_that_sent_the_request() {
    let e = env();
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    // The binding cookie: HttpOnly, SameSite=Lax, only for /broker/, as long as a sign-in.
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/broker/saml/start?upstream=moo")
            .to_request(),
    )
    .await;
    let cookie = res
        .response()
        .cookies()
        .find(|c| c.name().starts_with("lp_netwerk_"))
        .expect("a binding cookie")
        .into_owned();
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(actix_web::cookie::SameSite::Lax));
    assert_eq!(cookie.path(), Some("/broker/"));
    assert_eq!(
        cookie.max_age(),
        Some(actix_web::cookie::time::Duration::seconds(600))
    );

    // Someone signs in at the network environment as themselves (OTHER), and makes another
    // browser post the answer: that browser shows no binding cookie, a binding cookie of its
    // own sign-in, or a made-up value under the right name. Each is refused, nobody is signed
    // in, and the answer is used up.
    for case in ["no cookie", "its own sign-in's cookie", "a made-up value"] {
        let (id, _) = start(&e, &app, "").await;
        let mut r = Resp::new(&e.t, &id);
        r.las_key = OTHER.into();
        let theirs = e.jar.take();
        match case {
            "no cookie" => {}
            "its own sign-in's cookie" => {
                start(&e, &app, "").await;
            }
            _ => e
                .jar
                .borrow_mut()
                .push((theirs[0].0.clone(), "verzonnen".into())),
        }
        let res = post(&e, &app, &r.signed(Signed::Both, &e.idp.key, &e.idp.cert)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{case}");
        assert!(signed_in(&e, &res).is_none(), "{case}");
        assert!(
            body(res).await.contains("niet hier begonnen"),
            "{case}: the page says why"
        );
        e.jar.take();
    }
    // The browser that started the sign-in: signed in.
    let r = fresh(&e, &app).await;
    let res = post(&e, &app, &r.signed(Signed::Both, &e.idp.key, &e.idp.cert)).await;
    assert_eq!(
        signed_in(&e, &res),
        Some((PUPIL.to_string(), claims::LoginContext::Netwerk))
    );
    // Its binding cookie is removed; the same-site step cannot be used twice.
    let removed = res
        .response()
        .cookies()
        .find(|c| c.name().starts_with("lp_netwerk_"))
        .expect("the binding cookie is removed");
    assert!(removed.value().is_empty());
}

#[actix_web::test]
async fn a_refused_answer_is_a_page_without_a_session() {
    let e = env();
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    let r = fresh(&e, &app).await;
    let res = post(
        &e,
        &app,
        &r.signed(Signed::Nothing, &e.idp.key, &e.idp.cert),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(signed_in(&e, &res).is_none());
    assert!(body(res).await.contains("Er is niemand aangemeld"));
    still_works(&e, &app, &r).await;
}

#[actix_web::test]
async fn missing_and_foreign_signatures_are_refused() {
    let e = env();
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    let r = fresh(&e, &app).await;
    refused(
        &e,
        &r.signed(Signed::Nothing, &e.idp.key, &e.idp.cert),
        E::Refused(R::SignatureMissing),
        "unsigned",
    );
    let (key, cert) = key_and_cert("evil.example");
    refused(
        &e,
        &r.signed(Signed::Both, &key, &cert),
        E::Refused(R::BadSignature),
        "foreign key",
    );
    // A foreign key with the upstream's certificate in the KeyInfo does not help.
    refused(
        &e,
        &r.signed(Signed::Both, &key, &e.idp.cert),
        E::Refused(R::BadSignature),
        "foreign key, copied cert",
    );
    // Signed, then changed.
    let tampered = r
        .signed(Signed::Both, &e.idp.key, &e.idp.cert)
        .replace(PUPIL, OTHER);
    refused(&e, &tampered, E::Refused(R::BadSignature), "tampered");
    still_works(&e, &app, &r).await;
}

/// A name, a change to an honest answer, and the refusal it earns.
type Case = (&'static str, fn(&mut Resp), E);

#[actix_web::test]
async fn wrong_audience_destination_recipient_and_issuer_are_refused() {
    let e = env();
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    let r = fresh(&e, &app).await;
    let cases: [Case; 4] = [
        (
            "audience",
            |r| r.audience = "https://other-sp.example".into(),
            E::Refused(R::WrongAudience),
        ),
        (
            "destination",
            |r| r.destination = "https://other-sp.example/acs".into(),
            E::Refused(R::WrongDestination),
        ),
        (
            "recipient",
            |r| r.recipient = "https://other-sp.example/acs".into(),
            E::Refused(R::WrongRecipient),
        ),
        (
            "issuer",
            |r| r.issuer = "https://other-idp.example".into(),
            E::UnknownUpstream,
        ),
    ];
    for (why, change, expected) in cases {
        let mut bad = r.clone();
        change(&mut bad);
        for how in [Signed::Both, Signed::Assertion] {
            refused(
                &e,
                &bad.signed(how, &e.idp.key, &e.idp.cert),
                expected.clone(),
                why,
            );
        }
    }
    still_works(&e, &app, &r).await;
}

#[actix_web::test]
async fn expired_and_future_conditions_are_refused() {
    let e = env();
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    let r = fresh(&e, &app).await;
    let n = now(&e.t);
    let mut expired = r.clone();
    expired.not_on_or_after = n - 120;
    refused(
        &e,
        &expired.signed(Signed::Both, &e.idp.key, &e.idp.cert),
        E::Refused(R::Expired),
        "expired",
    );
    let mut future = r.clone();
    future.not_before = n + 600;
    refused(
        &e,
        &future.signed(Signed::Both, &e.idp.key, &e.idp.cert),
        E::Refused(R::Expired),
        "future",
    );
    // Within the small skew: accepted.
    let mut skewed = r.clone();
    skewed.not_before = n + 30;
    let res = post(
        &e,
        &app,
        &skewed.signed(Signed::Both, &e.idp.key, &e.idp.cert),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn replayed_responses_are_refused() {
    let e = env();
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    let r = fresh(&e, &app).await;
    let xml = r.signed(Signed::Both, &e.idp.key, &e.idp.cert);
    assert_eq!(post(&e, &app, &xml).await.status(), StatusCode::SEE_OTHER);
    refused(&e, &xml, E::Replay, "replayed");
    // The same assertion for a new request (the IDs were seen): refused too.
    let (id, _) = start(&e, &app, "").await;
    let mut again = r.clone();
    again.in_response_to = Some(id);
    refused(
        &e,
        &again.signed(Signed::Both, &e.idp.key, &e.idp.cert),
        E::Replay,
        "replayed ids",
    );
}

#[actix_web::test]
async fn in_response_to_mismatches_and_unsolicited_answers_are_refused() {
    let e = env();
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    let r = fresh(&e, &app).await;
    let mut unknown = r.clone();
    unknown.in_response_to = Some("_never-sent".into());
    refused(
        &e,
        &unknown.signed(Signed::Both, &e.idp.key, &e.idp.cert),
        E::Refused(R::InResponseToMismatch),
        "unknown request",
    );
    let mut unsolicited = r.clone();
    unsolicited.in_response_to = None;
    refused(
        &e,
        &unsolicited.signed(Signed::Both, &e.idp.key, &e.idp.cert),
        E::Refused(R::Unsolicited),
        "unsolicited",
    );
    // The Response answers one request, its assertion another.
    let signed = r.signed(Signed::Assertion, &e.idp.key, &e.idp.cert);
    let (other, _) = start(&e, &app, "").await;
    let mixed = signed.replacen(
        &format!(r#"InResponseTo="{}""#, r.in_response_to.as_deref().unwrap()),
        &format!(r#"InResponseTo="{other}""#),
        1,
    );
    refused(
        &e,
        &mixed,
        E::Refused(R::InResponseToMismatch),
        "mixed InResponseTo",
    );
    still_works(&e, &app, &r).await;
}

#[actix_web::test]
async fn comment_injected_name_ids_are_refused() {
    let e = env();
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    let r = fresh(&e, &app).await;
    // The upstream signed LL00011 (nobody); a comment makes a naive reader see LL0001.
    let mut own = r.clone();
    own.las_key = format!("{PUPIL}1");
    own.name_id = format!("{PUPIL}1");
    let signed = own.signed(Signed::Both, &e.idp.key, &e.idp.cert);
    let injected = signed.replace(&format!("{PUPIL}1<"), &format!("{PUPIL}<!---->1<"));
    assert_ne!(injected, signed);
    refused(
        &e,
        &injected,
        E::Refused(R::Comments),
        "comment in NameID and attribute",
    );
    still_works(&e, &app, &r).await;
}

#[actix_web::test]
async fn encrypted_assertions_are_refused() {
    let e = env();
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    let r = fresh(&e, &app).await;
    let signed = r.signed(Signed::Response, &e.idp.key, &e.idp.cert);
    let start = signed.find("<saml:Assertion").unwrap();
    let end = signed.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    let encrypted = format!(
        "{}<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\"/></saml:EncryptedAssertion>{}",
        &signed[..start],
        &signed[end..]
    );
    refused(&e, &encrypted, E::Refused(R::Encrypted), "encrypted");
}

/// The `ds:Signature` element in `xml` (the first one).
fn signature_of(xml: &str) -> String {
    let s = xml.find("<ds:Signature").unwrap();
    let e = xml.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    xml[s..e].to_string()
}

fn assertion_of(xml: &str) -> String {
    let s = xml.find("<saml:Assertion").unwrap();
    let e = xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    xml[s..e].to_string()
}

/// The evil twin of an assertion: another pupil, another ID, no signature.
fn evil(assertion: &str, id: &str) -> String {
    let sig = signature_of(assertion);
    assertion
        .replace(&sig, "")
        .replace(PUPIL, OTHER)
        .replace(id, "_evil")
}

/// The XSW1–XSW8 signature wrapping attacks (as SAML Raider names them), each made from a
/// genuinely signed answer for `PUPIL` and trying to sign in `OTHER`.
fn wrapped(r: &Resp, e: &Env) -> Vec<(&'static str, String)> {
    let by_response = r.signed(Signed::Response, &e.idp.key, &e.idp.cert);
    let resp_sig = signature_of(&by_response);
    let original = by_response.replace(&resp_sig, "");
    let evil_response = original
        .replace(PUPIL, OTHER)
        .replace(&r.id, "_evilresponse");
    let after_issuer = |xml: &str, insert: &str| {
        xml.replacen("</saml:Issuer>", &format!("</saml:Issuer>{insert}"), 1)
    };
    // XSW1: the evil Response carries the signature, the original Response inside it.
    let xsw1 = after_issuer(
        &evil_response,
        &resp_sig.replace("</ds:Signature>", &format!("{original}</ds:Signature>")),
    );
    // XSW2: the original Response beside the signature, detached.
    let xsw2 = after_issuer(&evil_response, &format!("{original}{resp_sig}"));

    let by_assertion = r.signed(Signed::Assertion, &e.idp.key, &e.idp.cert);
    let signed_a = assertion_of(&by_assertion);
    let a_sig = signature_of(&signed_a);
    let bare_a = signed_a.replace(&a_sig, "");
    let evil_a = evil(&signed_a, &r.assertion_id);
    let evil_with_sig = |inner: &str| {
        let s = a_sig.replace("</ds:Signature>", &format!("{inner}</ds:Signature>"));
        after_issuer(&evil_a, &s)
    };
    // XSW3: an evil assertion before the signed one.
    let xsw3 = by_assertion.replace(&signed_a, &format!("{evil_a}{signed_a}"));
    // XSW4: the signed assertion inside the evil one.
    let xsw4 = by_assertion.replace(
        &signed_a,
        &evil_a.replace("</saml:Assertion>", &format!("{signed_a}</saml:Assertion>")),
    );
    // XSW5: the evil assertion carries the copied signature; the original, unsigned, after.
    let xsw5 = by_assertion.replace(&signed_a, &format!("{}{bare_a}", evil_with_sig("")));
    // XSW6: the original inside the copied signature of the evil assertion.
    let xsw6 = by_assertion.replace(&signed_a, &evil_with_sig(&bare_a));
    // XSW7: the signed assertion hidden in an Extensions element, the evil one after.
    let xsw7 = by_assertion.replace(
        &signed_a,
        &format!("<samlp:Extensions>{signed_a}</samlp:Extensions>{evil_a}"),
    );
    // XSW8: the original inside a ds:Object in the evil assertion's copied signature.
    let xsw8 = by_assertion.replace(
        &signed_a,
        &evil_with_sig(&format!("<ds:Object>{bare_a}</ds:Object>")),
    );
    vec![
        ("XSW1", xsw1),
        ("XSW2", xsw2),
        ("XSW3", xsw3),
        ("XSW4", xsw4),
        ("XSW5", xsw5),
        ("XSW6", xsw6),
        ("XSW7", xsw7),
        ("XSW8", xsw8),
    ]
}

#[actix_web::test]
async fn signature_wrapping_xsw1_to_xsw8_is_refused() {
    let e = env();
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    let r = fresh(&e, &app).await;
    for (name, xml) in wrapped(&r, &e) {
        assert!(xml.contains(OTHER), "{name} carries the evil pupil");
        refused(&e, &xml, E::Refused(R::BadSignature), name);
    }
    still_works(&e, &app, &r).await;
}

#[actix_web::test]
async fn only_the_signed_node_is_read() {
    // The verified node itself, whatever the structure check says: xmlsec's pre-digest
    // content of a genuinely signed answer names the signed pupil, never the evil one.
    let e = env();
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    let r = fresh(&e, &app).await;
    let certs = [e.idp.cert.clone()];
    let mut verified = Vec::new();
    for (name, xml) in wrapped(&r, &e) {
        if let Ok(signed) = idp::saml::sso::verified_xml(&xml, &certs) {
            assert!(
                !signed.contains(OTHER),
                "{name}: the signed node is the evil one"
            );
            assert!(signed.contains(PUPIL), "{name}");
            verified.push(name);
        }
    }
    // Some of them do verify: the signature alone does not refuse them.
    eprintln!("signatures that verify despite wrapping: {verified:?}");
    assert!(!verified.is_empty());
}

#[actix_web::test]
async fn a_failure_status_signs_nobody_in_and_changes_nothing() {
    let e = env();
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    let r = fresh(&e, &app).await;
    let failed = r.response("", "").replace(
        r#"<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>"#,
        r#"<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:NoPassive"/></samlp:StatusCode>"#,
    );
    refused(
        &e,
        &failed,
        E::Refused(R::Status("Responder".into())),
        "failure status",
    );
    let res = post(&e, &app, &failed).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(signed_in(&e, &res).is_none());
    assert!(body(res)
        .await
        .contains("De netwerkomgeving heeft je niet aangemeld"));
    still_works(&e, &app, &r).await;
}

#[actix_web::test]
async fn upstream_metadata_without_what_signing_in_needs_is_refused() {
    let t = TestApp::init();
    idp::demo::seed(&t.state).unwrap();
    let idp = TestIdp::new();
    let without_sso = idp.metadata().replace("HTTP-Redirect", "SOAP");
    let (_, cert) = key_and_cert("x");
    let without_key = idp
        .metadata()
        .replace(&STANDARD.encode(&idp.cert), &STANDARD.encode(cert))
        .replace(r#"use="signing""#, r#"use="encryption""#);
    for (why, metadata) in [("no SSO", without_sso), ("no signing key", without_key)] {
        let err = admin::add_upstream(
            ctx(&t),
            &t.state.sealer,
            UpstreamInput {
                name: "moo".into(),
                schools: vec![idp::demo::DEMO_SCHOOL_REF.into()],
                saml_metadata: Some(metadata),
                match_rule: "las-key".into(),
                match_claim: "lasKey".into(),
                ..Default::default()
            },
        )
        .err()
        .unwrap_or_else(|| panic!("{why}: accepted"));
        assert!(err.to_string().contains("--saml-metadata"), "{why}: {err}");
    }
    assert!(
        t.state.dir.upstream_by_name("moo").unwrap().is_none(),
        "nothing was written"
    );
}

impl TestIdp {
    /// A LogoutRequest for `name_id` over HTTP-Redirect, its query signed with `key`.
    fn logout_query(&self, t: &TestApp, name_id: &str, key: Option<&PKey<Private>>) -> String {
        let xml = format!(
            concat!(
                r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_l{}" Version="2.0" IssueInstant="{}" Destination="http://127.0.0.1:8080/broker/saml/slo">"#,
                "<saml:Issuer>{}</saml:Issuer><saml:NameID>{}</saml:NameID></samlp:LogoutRequest>"
            ),
            uuid::Uuid::new_v4().simple(),
            instant(now(t)),
            IDP,
            name_id
        );
        idp::saml::binding::encode_redirect(
            "/broker/saml/slo",
            "SAMLRequest",
            &xml,
            Some("terug"),
            |d| {
                let mut s = openssl::sign::Signer::new(
                    openssl::hash::MessageDigest::sha256(),
                    key.unwrap_or(&self.key),
                )
                .unwrap();
                s.update(d).unwrap();
                Some(s.sign_to_vec().unwrap())
            },
        )
        .unwrap()
    }
}

#[actix_web::test]
async fn the_network_environment_signs_the_pupil_out() {
    let e = env();
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    let r = fresh(&e, &app).await;
    let res = post(&e, &app, &r.signed(Signed::Both, &e.idp.key, &e.idp.cert)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let sid = res
        .response()
        .cookies()
        .find(|c| !c.value().is_empty())
        .unwrap()
        .value()
        .to_string();
    let alive = || {
        idp::session::load(e.t.state.store.as_ref(), &sid, now(&e.t))
            .unwrap()
            .is_some()
    };
    assert!(alive());

    // Signed with another key, or not signed: refused, the session lives on.
    let (other, _) = key_and_cert("evil.example");
    let forged = e.idp.logout_query(&e.t, &r.name_id, Some(&other));
    let res = test::call_service(&app, test::TestRequest::get().uri(&forged).to_request()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let honest = e.idp.logout_query(&e.t, &r.name_id, None);
    let unsigned = honest.split("&SigAlg=").next().unwrap().to_string();
    let res = test::call_service(&app, test::TestRequest::get().uri(&unsigned).to_request()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(alive());

    // Signed by the network environment: the session ends, a signed LogoutResponse goes back.
    let res = test::call_service(&app, test::TestRequest::get().uri(&honest).to_request()).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert!(!alive());
    let to = location(&res);
    assert!(to.starts_with(&format!("{IDP_SLO}?SAMLResponse=")), "{to}");
    let query = to.split_once('?').unwrap().1;
    let cert = e.t.state.keys.active_saml_certificate(now(&e.t)).unwrap();
    idp::saml::binding::verify_query(query, "SAMLResponse", &[cert]).unwrap();
    let value = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "SAMLResponse")
        .unwrap()
        .1
        .into_owned();
    let xml = idp::saml::binding::decode_redirect(&value).unwrap();
    assert!(
        xml.contains("urn:oasis:names:tc:SAML:2.0:status:Success"),
        "{xml}"
    );
    assert!(
        xml.contains(&format!("<saml:Issuer>{SP}</saml:Issuer>")),
        "{xml}"
    );
    let request_id = url::form_urlencoded::parse(honest.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "SAMLRequest")
        .map(|(_, v)| idp::saml::binding::decode_redirect(&v).unwrap())
        .unwrap()
        .split(" ID=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert!(
        xml.contains(&format!(r#"InResponseTo="{request_id}""#)),
        "{xml}"
    );
    assert!(query.contains("RelayState=terug"));

    // The same request again: a replay.
    let res = test::call_service(&app, test::TestRequest::get().uri(&honest).to_request()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn an_upstream_allowed_to_send_unsolicited_answers_signs_in_and_goes_to_the_relay_state() {
    let e = env_with(true);
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    let mut r = Resp::new(&e.t, "unused");
    r.in_response_to = None;
    let xml = r.signed(Signed::Both, &e.idp.key, &e.idp.cert);
    let res = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/broker/saml/acs")
            .set_form([
                ("SAMLResponse", STANDARD.encode(&xml)),
                ("RelayState", idp::demo::DEMO_CLIENT_ID.to_string()),
            ])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&res).starts_with("http://127.0.0.1:8081/login?iss="),
        "on to the RelayState's relying party: {}",
        location(&res)
    );
    assert_eq!(
        signed_in(&e, &res),
        Some((PUPIL.to_string(), claims::LoginContext::Netwerk))
    );
    // Still once only, still checked for audience and time.
    refused(&e, &xml, E::Replay, "a replayed unsolicited answer");
    let mut late = Resp::new(&e.t, "unused");
    late.in_response_to = None;
    late.audience = "https://someone-else.example".into();
    refused(
        &e,
        &late.signed(Signed::Both, &e.idp.key, &e.idp.cert),
        E::Refused(R::WrongAudience),
        "an unsolicited answer for someone else",
    );
}

#[actix_web::test]
async fn a_passive_request_the_upstream_cannot_answer_ends_as_login_required() {
    let e = env();
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    // A publisher asks with prompt=none and idp_hint: to the upstream, passively.
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/oidc/authorize?client_id=demo-uitgeverij&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback&response_type=code&scope=openid&state=s1&prompt=none&idp_hint=moo")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let to = location(&res);
    assert!(to.starts_with(&format!("{IDP_SSO}?SAMLRequest=")), "{to}");
    let value = url::form_urlencoded::parse(to.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "SAMLRequest")
        .unwrap()
        .1
        .into_owned();
    let xml = idp::saml::binding::decode_redirect(&value).unwrap();
    assert!(xml.contains(r#"IsPassive="true""#), "{xml}");
    let id = xml
        .split(" ID=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    // The upstream cannot: NoPassive. Back to the publisher's request, which answers
    // login_required — without a second trip to the upstream.
    let failed = Resp::new(&e.t, &id).response("", "").replace(
        r#"<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>"#,
        r#"<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:NoPassive"/></samlp:StatusCode>"#,
    );
    let res = post(&e, &app, &failed).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let resume = location(&res);
    assert!(resume.starts_with("/oidc/authorize/continue"), "{resume}");
    let res = test::call_service(&app, test::TestRequest::get().uri(&resume).to_request()).await;
    let to = location(&res);
    assert!(
        to.starts_with("http://127.0.0.1:8081/callback?") && to.contains("error=login_required"),
        "{to}"
    );
}

#[actix_web::test]
async fn the_network_environments_logout_tells_the_sessions_saml_service_providers_first() {
    let e = env();
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    // Signed in through the network environment, on to the demo SAML service provider.
    let target = idp::demo::DEMO_SAML_ENTITY_ID;
    let (id, _) = start(&e, &app, &format!("&TARGET={}", q(target))).await;
    let r = Resp::new(&e.t, &id);
    let res = post(&e, &app, &r.signed(Signed::Both, &e.idp.key, &e.idp.cert)).await;
    let cookie = res
        .response()
        .cookies()
        .find(|c| !c.value().is_empty())
        .unwrap()
        .into_owned();
    let unsolicited = location(&res);
    assert!(
        unsolicited.starts_with("/saml/unsolicited?sp="),
        "{unsolicited}"
    );
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri(&unsolicited)
            .cookie(cookie)
            .to_request(),
    )
    .await;
    assert!(res.status().is_success(), "{}", res.status());
    // The assertion for the SP names the network environment as authenticating authority.
    let page = body(res).await;
    let encoded = page
        .split(r#"name="SAMLResponse" value=""#)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a SAMLResponse in the page");
    let xml = String::from_utf8(STANDARD.decode(encoded).unwrap()).unwrap();
    assert!(
        xml.contains(&format!(
            "<saml:AuthenticatingAuthority>{IDP}</saml:AuthenticatingAuthority>"
        )),
        "{xml}"
    );
    // The network environment logs the pupil out: first the SP's LogoutRequest, and the
    // chain ends with the answer to the network environment.
    let honest = e.idp.logout_query(&e.t, &r.name_id, None);
    let res = test::call_service(&app, test::TestRequest::get().uri(&honest).to_request()).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let to = location(&res);
    assert!(
        to.starts_with("http://127.0.0.1:8082/saml/slo?SAMLRequest="),
        "the SAML service provider first: {to}"
    );
}

impl TestIdp {
    /// The IdP's LogoutResponse to Leerpoort's LogoutRequest `in_response_to`, as a signed
    /// HTTP-Redirect query to `/broker/saml/slo`.
    fn logout_response_query(&self, t: &TestApp, in_response_to: &str) -> String {
        let xml = format!(
            concat!(
                r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_lr{}" Version="2.0" IssueInstant="{}" Destination="http://127.0.0.1:8080/broker/saml/slo" InResponseTo="{}">"#,
                "<saml:Issuer>{}</saml:Issuer>",
                r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>"#,
                "</samlp:LogoutResponse>"
            ),
            uuid::Uuid::new_v4().simple(),
            instant(now(t)),
            in_response_to,
            IDP,
        );
        idp::saml::binding::encode_redirect("/broker/saml/slo", "SAMLResponse", &xml, None, |d| {
            let mut s =
                openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &self.key)
                    .unwrap();
            s.update(d).unwrap();
            Some(s.sign_to_vec().unwrap())
        })
        .unwrap()
    }
}

#[actix_web::test]
async fn signing_out_at_leerpoort_sends_a_logout_request_to_the_network_environment() {
    let e = env();
    let app = test::init_service(idp::server::app(e.t.state.clone())).await;
    let r = fresh(&e, &app).await;
    let res = post(&e, &app, &r.signed(Signed::Both, &e.idp.key, &e.idp.cert)).await;
    let sid = res
        .response()
        .cookies()
        .find(|c| !c.value().is_empty())
        .unwrap()
        .value()
        .to_string();
    let s = idp::session::load(e.t.state.store.as_ref(), &sid, now(&e.t))
        .unwrap()
        .unwrap();
    let url = idp::saml::upstream_sp::logout_request_url(&e.t.state, &s, now(&e.t))
        .expect("the network environment offers Single Logout");
    assert!(url.starts_with(&format!("{IDP_SLO}?SAMLRequest=")), "{url}");
    let query = url.split_once('?').unwrap().1;
    let cert = e.t.state.keys.active_saml_certificate(now(&e.t)).unwrap();
    idp::saml::binding::verify_query(query, "SAMLRequest", &[cert]).unwrap();
    let value = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "SAMLRequest")
        .unwrap()
        .1
        .into_owned();
    let xml = idp::saml::binding::decode_redirect(&value).unwrap();
    assert!(
        xml.contains(&format!("<saml:NameID>{}</saml:NameID>", r.name_id)),
        "{xml}"
    );
    assert!(
        xml.contains(&format!("<saml:Issuer>{SP}</saml:Issuer>")),
        "{xml}"
    );
    let id = xml
        .split(" ID=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    // Its answer, signed: the sign-out is complete — once.
    let answer = e.idp.logout_response_query(&e.t, &id);
    let res = test::call_service(&app, test::TestRequest::get().uri(&answer).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(body(res).await.contains("uitgelogd"));
    let res = test::call_service(&app, test::TestRequest::get().uri(&answer).to_request()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "a replayed answer");
    // An answer to a request Leerpoort never sent.
    let made_up = e.idp.logout_response_query(&e.t, "_never-sent");
    let res = test::call_service(&app, test::TestRequest::get().uri(&made_up).to_request()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}
