//! A publisher's web application as a browser meets it: a relying party built on the
//! `openidconnect` crate, with an `initiate_login_uri` (`/login`, third-party-initiated login,
//! OIDC Core §4) and a redirect URI (`/callback`). It runs the authorization code flow with
//! PKCE, state and nonce, checks the RFC 9207 `iss` parameter, exchanges the code, verifies the
//! ID token (signature from the JWKS, issuer, audience, nonce) and shows a welcome page — on
//! the product a `target_link_uri` of its own named, if one did. What it verified is kept for
//! the test to read ([`Publisher::signed_in`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{
    AuthorizationCode, CsrfToken, Nonce, PkceCodeChallenge, PkceCodeVerifier, Scope,
};
use serde_json::Value;

use crate::http;
use crate::jwt;
use crate::listener::{Listener, Recorded, Reply};
use crate::oidc::{ClientAuth, DiscoveredClient, Rp};
use crate::server::Server;

/// A code flow waiting for its callback: the PKCE verifier, the nonce, and where to land.
type Waiting = (PkceCodeVerifier, Nonce, Option<String>);

struct Inner {
    issuer: String,
    client: OnceLock<DiscoveredClient>,
    /// Its own origin: a `target_link_uri` elsewhere is ignored (no open redirect).
    origin: OnceLock<String>,
    pending: Mutex<HashMap<String, Waiting>>,
    signed_in: Mutex<Vec<Value>>,
}

/// The running publisher; stops on `Drop`.
pub struct Publisher {
    listener: Listener,
    inner: Arc<Inner>,
    client_id: String,
    client_secret: Option<String>,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl Publisher {
    /// Start the application, register it with `server` as an OIDC client named `name` (with
    /// `extra` arguments for `client add`) and have the demo school enable it.
    pub fn start(server: &Server, name: &str, extra: &[&str]) -> Self {
        let inner = Arc::new(Inner {
            issuer: server.issuer.clone(),
            client: OnceLock::new(),
            origin: OnceLock::new(),
            pending: Mutex::new(HashMap::new()),
            signed_in: Mutex::new(Vec::new()),
        });
        let handler_inner = inner.clone();
        let listener = Listener::start(move |req| handle(&handler_inner, req));
        let _ = inner.origin.set(listener.url(""));
        let redirect_uri = listener.url("/callback");
        let login_uri = listener.url("/login");
        let mut args = vec!["--initiate-login-uri", &login_uri];
        args.extend_from_slice(extra);
        let (out, client_id) = server.register_publisher(name, &redirect_uri, &args);
        let client_secret = out["client_secret"].as_str().map(str::to_string);
        let rp = Rp {
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            redirect_uri,
            auth: ClientAuth::SecretBasic,
            id_token_alg: "RS256".into(),
        };
        let _ = inner.client.set(server.openid_client(&rp));
        Self {
            listener,
            inner,
            client_id,
            client_secret,
        }
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Its client secret (for its back end's calls to Leerpoort's APIs).
    pub fn client_secret(&self) -> Option<&str> {
        self.client_secret.as_deref()
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        self.listener.url(path)
    }

    /// The verified ID-token claims of everyone who arrived, in order.
    pub fn signed_in(&self) -> Vec<Value> {
        self.inner
            .signed_in
            .lock()
            .expect("publisher state")
            .clone()
    }
}

fn query(req: &Recorded) -> HashMap<String, String> {
    let q = req.target.split_once('?').map(|(_, q)| q).unwrap_or("");
    url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect()
}

fn page(status: u16, title: &str, body: &str) -> Reply {
    Reply::with(
        status,
        "text/html; charset=utf-8",
        format!(
            "<!doctype html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>{title}</title>\
             </head><body><main><h1>{title}</h1>{body}</main></body></html>"
        ),
    )
}

fn handle(inner: &Inner, req: &Recorded) -> Reply {
    let path = req.target.split('?').next().unwrap_or("");
    let Some(client) = inner.client.get() else {
        return page(503, "Nog niet klaar", "");
    };
    let q = query(req);
    match path {
        // Third-party-initiated login: only from our own identity provider.
        "/login" => {
            if q.get("iss") != Some(&inner.issuer) {
                return page(400, "Onbekende uitgever van de login", "");
            }
            // Where to land afterwards: a page of our own only.
            let target = q
                .get("target_link_uri")
                .filter(|t| {
                    inner
                        .origin
                        .get()
                        .is_some_and(|o| t.starts_with(&format!("{o}/")))
                })
                .cloned();
            let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
            let (url, state, nonce) = client
                .authorize_url(
                    CoreAuthenticationFlow::AuthorizationCode,
                    CsrfToken::new_random,
                    Nonce::new_random,
                )
                .add_scope(Scope::new("groups".into()))
                .set_pkce_challenge(challenge)
                .url();
            inner
                .pending
                .lock()
                .expect("publisher state")
                .insert(state.secret().clone(), (verifier, nonce, target));
            Reply::redirect(url.as_str())
        }
        "/callback" => {
            let Some((verifier, nonce, target)) = q
                .get("state")
                .and_then(|s| inner.pending.lock().expect("publisher state").remove(s))
            else {
                return page(400, "Onbekende state", "");
            };
            if let Some(e) = q.get("error") {
                return page(400, "Inloggen mislukt", e);
            }
            if q.get("iss") != Some(&inner.issuer) {
                return page(400, "Verkeerde iss in het antwoord (RFC 9207)", "");
            }
            let Some(code) = q.get("code") else {
                return page(400, "Geen code", "");
            };
            let http = http::client();
            let exchange = match client.exchange_code(AuthorizationCode::new(code.clone())) {
                Ok(r) => r.set_pkce_verifier(verifier).request(&http),
                Err(e) => return page(500, "Geen token endpoint", &e.to_string()),
            };
            let tokens = match exchange {
                Ok(t) => t,
                Err(e) => return page(502, "Tokenaanvraag mislukt", &format!("{e:?}")),
            };
            let Some(id_token) = openidconnect::TokenResponse::id_token(&tokens) else {
                return page(502, "Geen ID-token", "");
            };
            if let Err(e) = id_token.claims(&client.id_token_verifier(), &nonce) {
                return page(502, "ID-token afgekeurd", &format!("{e:?}"));
            }
            // Verified: read Leerpoort's own claims from the payload.
            let claims = jwt::payload(&id_token.to_string());
            inner
                .signed_in
                .lock()
                .expect("publisher state")
                .push(claims.clone());
            let product = target
                .and_then(|t| url::Url::parse(&t).ok())
                .map(|u| format!("<p>Product: <span id=\"product\">{}</span></p>", u.path()))
                .unwrap_or_default();
            page(
                200,
                "Welkom bij de Demo-uitgeverij",
                &format!(
                    "<p>Je bent ingelogd als <strong id=\"role\">{}</strong> \
                     van <span id=\"school\">{}</span>.</p>{product}",
                    claims["role"].as_str().unwrap_or("?"),
                    claims["brin6"].as_str().unwrap_or("?"),
                ),
            )
        }
        _ => page(404, "Niet gevonden", ""),
    }
}
