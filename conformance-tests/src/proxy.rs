//! A reverse proxy in front of the server, as a school board or hosting party runs one: it
//! passes every request on and appends the address the test says the browser has now to
//! `X-Forwarded-For` (after whatever the browser sent itself, as nginx's
//! `$proxy_add_x_forwarded_for` does). The server believes it only when configured with
//! `LEERPOORT_TRUST_PROXY=true` (the proxy connects from loopback). This is how the browser tests move a browser from the school
//! network to 4G without touching the machine's network.

use std::sync::{Arc, Mutex};

use crate::listener::{Listener, Recorded, Reply};

/// The running proxy; stops on `Drop`.
pub struct ForwardingProxy {
    listener: Listener,
    client_address: Arc<Mutex<String>>,
}

impl std::fmt::Debug for ForwardingProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardingProxy").finish_non_exhaustive()
    }
}

/// Headers that belong to one hop and are not passed on.
const HOP: [&str; 6] = [
    "host",
    "connection",
    "content-length",
    "transfer-encoding",
    "x-forwarded-for",
    "keep-alive",
];

impl ForwardingProxy {
    /// Forward to `upstream` (`http://127.0.0.1:PORT`), saying the browser is at
    /// `client_address`.
    pub fn start(upstream: &str, client_address: &str) -> Self {
        let upstream = upstream.trim_end_matches('/').to_string();
        let client_address = Arc::new(Mutex::new(client_address.to_string()));
        let from = client_address.clone();
        let http = crate::http::client();
        let listener = Listener::start(move |req| {
            let at = from.lock().expect("proxy address").clone();
            forward(&http, &upstream, &at, req)
        });
        Self {
            listener,
            client_address,
        }
    }

    /// From now on the browser is at `ip`.
    pub fn set_client_address(&self, ip: &str) {
        *self.client_address.lock().expect("proxy address") = ip.to_string();
    }

    /// The proxy's own address + `path`.
    pub fn url(&self, path: &str) -> String {
        self.listener.url(path)
    }
}

fn forward(http: &reqwest::blocking::Client, upstream: &str, at: &str, req: &Recorded) -> Reply {
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut out = http.request(method, format!("{upstream}{}", req.target));
    for (k, v) in &req.headers {
        if !HOP.contains(&k.as_str()) {
            out = out.header(k, v);
        }
    }
    let sent: Vec<&str> = req
        .headers
        .iter()
        .filter(|(k, _)| k == "x-forwarded-for")
        .map(|(_, v)| v.as_str())
        .chain([at])
        .collect();
    let res = match out
        .header("x-forwarded-for", sent.join(", "))
        .body(req.body.clone())
        .send()
    {
        Ok(r) => r,
        Err(e) => return Reply::with(502, "text/plain", format!("proxy: {e}")),
    };
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let headers: Vec<(String, String)> = res
        .headers()
        .iter()
        .filter(|(k, _)| !HOP.contains(&k.as_str()) && k.as_str() != "content-type")
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let body = res.bytes().map(|b| b.to_vec()).unwrap_or_default();
    let mut reply = Reply::with(status, &content_type, body);
    reply.headers = headers;
    reply
}
