//! Plain HTTP as a relying party's back end does it: no redirects followed, no cookies kept.

use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::HeaderMap;
use serde_json::Value;

/// A client for back-channel calls (token, userinfo, introspection, ...).
pub fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("building an HTTP client")
}

/// A response read to the end, kept for assertions.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
    /// What was asked, for messages: `METHOD URL`.
    pub request: String,
}

impl Response {
    /// Send `req` and read the whole response. Panics only when no response came at all.
    pub fn send(req: RequestBuilder) -> Self {
        let built = req.build().expect("building a request");
        let request = format!("{} {}", built.method(), built.url());
        let res = client()
            .execute(built)
            .unwrap_or_else(|e| panic!("{request}: no response: {e}"));
        Self::read(res, request)
    }

    pub(crate) fn read(res: reqwest::blocking::Response, request: String) -> Self {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res
            .text()
            .unwrap_or_else(|e| panic!("{request}: reading the body: {e}"));
        Self {
            status,
            headers,
            body,
            request,
        }
    }

    /// A header's value (the first, when repeated).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The media type without parameters, lower case (`application/json`).
    pub fn media_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }

    /// The body as JSON; panics (naming the request) when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "{}: expected a JSON body, got status {} with {:?}: {e}",
                self.request,
                self.status,
                truncate(&self.body)
            )
        })
    }

    /// Asserts the status and returns the JSON body.
    pub fn expect_json(&self, status: u16) -> Value {
        assert_eq!(
            self.status,
            status,
            "{}: expected status {status}, got {} with body {:?}",
            self.request,
            self.status,
            truncate(&self.body)
        );
        assert_eq!(
            self.media_type(),
            "application/json",
            "{}: expected Content-Type application/json, got {:?}",
            self.request,
            self.header("content-type")
        );
        self.json()
    }

    /// Asserts an OAuth error response (RFC 6749 §5.2): one of `statuses`, JSON, and `error`
    /// equal to `error`. Returns the JSON body.
    pub fn expect_oauth_error(&self, statuses: &[u16], error: &str) -> Value {
        assert!(
            statuses.contains(&self.status),
            "{}: expected status {statuses:?} with error {error:?}, got {} with body {:?}",
            self.request,
            self.status,
            truncate(&self.body)
        );
        assert_eq!(
            self.media_type(),
            "application/json",
            "{}: an OAuth error response is JSON (RFC 6749 §5.2); got Content-Type {:?}",
            self.request,
            self.header("content-type")
        );
        let body = self.json();
        assert_eq!(
            body["error"].as_str(),
            Some(error),
            "{}: expected error {error:?}, got {body}",
            self.request
        );
        if let Some(desc) = body.get("error_description") {
            let d = desc
                .as_str()
                .unwrap_or_else(|| panic!("{}: error_description must be a string", self.request));
            // RFC 6749 §5.2: %x20-21 / %x23-5B / %x5D-7E.
            assert!(
                d.chars()
                    .all(|c| matches!(c as u32, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E)),
                "{}: error_description has characters RFC 6749 §5.2 does not allow: {d:?}",
                self.request
            );
        }
        body
    }
}

/// At most 600 characters of `s`, for messages.
pub fn truncate(s: &str) -> String {
    if s.chars().count() <= 600 {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(600).collect::<String>())
    }
}
