//! A browser as far as a login needs one: a cookie jar, redirects followed by hand, and a
//! login driver that fills whatever staff login form the server shows.
//!
//! The driver is generic on purpose: when a page holds a form with an `email` field it fills
//! `email` and `password`, copies every other field the form carries (hidden CSRF fields and
//! the like) and submits it to the form's `action`, resolved against the page's URL. It knows
//! nothing else about Leerpoort's pages.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder};
use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::http::truncate;

/// Someone who can sign in with the staff form.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

/// A browser with its own cookie jar. Cheap to keep around; one per simulated user agent.
pub struct Browser {
    client: Client,
    /// The server's origin: redirects elsewhere are where the browser stops (a relying
    /// party's redirect URI, which nothing in the tests listens on).
    origin: url::Origin,
    credentials: Option<Credentials>,
    logins: AtomicUsize,
}

impl fmt::Debug for Browser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Browser")
            .field("origin", &self.origin)
            .field("user", &self.credentials.as_ref().map(|c| &c.email))
            .finish_non_exhaustive()
    }
}

/// Where a navigation ended.
#[derive(Debug, Clone)]
pub struct Landing {
    /// The last URL: a page of the server, or where the server sent the browser away to.
    pub url: Url,
    /// True when the server redirected the browser away from itself (to `url`).
    pub left_server: bool,
    /// The status of the last response (the redirect's, when `left_server`).
    pub status: u16,
    /// The last page's body (empty when `left_server`).
    pub body: String,
    /// The last page's `Content-Type`.
    pub content_type: String,
    /// How many times the login form was shown in this navigation.
    pub login_forms: usize,
    /// The navigation stopped at a login form that it did not (or could not) fill.
    pub stopped_at_login: bool,
    /// Every URL visited, for messages.
    pub trail: Vec<String>,
}

impl Landing {
    /// The query and fragment parameters of the URL the browser was sent to.
    pub fn params(&self) -> HashMap<String, String> {
        let mut p: HashMap<String, String> = self.url.query_pairs().into_owned().collect();
        if let Some(frag) = self.url.fragment() {
            for (k, v) in url::form_urlencoded::parse(frag.as_bytes()).into_owned() {
                p.insert(k, v);
            }
        }
        p
    }

    /// For messages: where the navigation went and where it ended.
    pub fn describe(&self) -> String {
        if self.left_server {
            format!(
                "redirected away to {} (after {})",
                self.url,
                self.trail.join(" -> ")
            )
        } else {
            format!(
                "stopped on a page: status {} {} at {} (after {}){}: {:?}",
                self.status,
                self.content_type,
                self.url,
                self.trail.join(" -> "),
                if self.stopped_at_login {
                    " showing the login form"
                } else {
                    ""
                },
                truncate(&visible_text(&self.body))
            )
        }
    }
}

/// A request the browser makes.
#[derive(Debug, Clone)]
pub enum Nav {
    Get(Url),
    /// A form post (`application/x-www-form-urlencoded`).
    Post(Url, Vec<(String, String)>),
}

impl Browser {
    /// A browser for the server at `issuer`, signed in as nobody. With no credentials it stops
    /// at the login form.
    pub fn new(issuer: &str) -> Self {
        let origin = Url::parse(issuer).expect("issuer URL").origin();
        let client = Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .user_agent("leerpoort-conformance-tests")
            .build()
            .expect("building the browser's HTTP client");
        Self {
            client,
            origin,
            credentials: None,
            logins: AtomicUsize::new(0),
        }
    }

    /// The same browser, that fills the login form with `credentials`.
    pub fn with_login(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// How many login forms this browser has submitted in all.
    pub fn logins(&self) -> usize {
        self.logins.load(Ordering::SeqCst)
    }

    /// GET `url` and follow the server's redirects and login form until the server sends the
    /// browser away or shows a page.
    pub fn get(&self, url: &str) -> Landing {
        self.navigate(Nav::Get(Url::parse(url).expect("a URL to navigate to")))
    }

    /// POST a form to `url` and go on as [`Browser::get`] does.
    pub fn post_form(&self, url: &str, fields: Vec<(String, String)>) -> Landing {
        self.navigate(Nav::Post(
            Url::parse(url).expect("a URL to navigate to"),
            fields,
        ))
    }

    /// Follow `nav` to its end.
    pub fn navigate(&self, nav: Nav) -> Landing {
        let mut next = nav;
        let mut trail = Vec::new();
        let mut login_forms = 0;
        let mut just_submitted_login = false;
        for _hop in 0..30 {
            let (url, req) = match &next {
                Nav::Get(u) => (u.clone(), self.client.get(u.clone())),
                Nav::Post(u, fields) => (u.clone(), self.client.post(u.clone()).form(fields)),
            };
            trail.push(match &next {
                Nav::Get(u) => format!("GET {u}"),
                Nav::Post(u, _) => format!("POST {u}"),
            });
            let res = send(req, &url);
            let status = res.status().as_u16();
            let content_type = res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            if (300..400).contains(&status) {
                if let Some(loc) = res.headers().get("location") {
                    let loc = loc.to_str().unwrap_or_else(|_| {
                        panic!("{url}: a Location header that is not text: {loc:?}")
                    });
                    let target = url
                        .join(loc)
                        .unwrap_or_else(|e| panic!("{url}: bad Location {loc:?}: {e}"));
                    if target.origin() != self.origin {
                        return Landing {
                            url: target,
                            left_server: true,
                            status,
                            body: String::new(),
                            content_type,
                            login_forms,
                            stopped_at_login: false,
                            trail,
                        };
                    }
                    // Redirects (303 and 302 in practice) continue as GET.
                    next = Nav::Get(target);
                    just_submitted_login = false;
                    continue;
                }
            }
            let body = res
                .text()
                .unwrap_or_else(|e| panic!("{url}: reading the body: {e}"));
            let login = if content_type.contains("html") {
                login_form(&body, &url)
            } else {
                None
            };
            let Some(form) = login else {
                return Landing {
                    url,
                    left_server: false,
                    status,
                    body,
                    content_type,
                    login_forms,
                    stopped_at_login: false,
                    trail,
                };
            };
            login_forms += 1;
            let stop = |login_forms| Landing {
                url: url.clone(),
                left_server: false,
                status,
                body: body.clone(),
                content_type: content_type.clone(),
                login_forms,
                stopped_at_login: true,
                trail: trail.clone(),
            };
            // The form again right after submitting it: the login failed. Stop and show it.
            if just_submitted_login {
                return stop(login_forms);
            }
            let Some(creds) = &self.credentials else {
                return stop(login_forms);
            };
            next = form.submission(creds);
            just_submitted_login = true;
            self.logins.fetch_add(1, Ordering::SeqCst);
        }
        panic!(
            "more than 30 hops without reaching an end: {}",
            trail.join(" -> ")
        );
    }

    /// The underlying HTTP client (shares the cookie jar).
    pub fn client(&self) -> &Client {
        &self.client
    }
}

fn send(req: RequestBuilder, url: &Url) -> reqwest::blocking::Response {
    req.send()
        .unwrap_or_else(|e| panic!("{url}: no response: {e}"))
}

/// A login form on a page.
#[derive(Debug, Clone)]
pub struct LoginForm {
    pub action: Url,
    pub method: String,
    /// Every named field with its value as the page gives it.
    pub fields: Vec<(String, String)>,
}

impl LoginForm {
    fn submission(&self, creds: &Credentials) -> Nav {
        let fields: Vec<(String, String)> = self
            .fields
            .iter()
            .map(|(k, v)| match k.as_str() {
                "email" => (k.clone(), creds.email.clone()),
                "password" => (k.clone(), creds.password.clone()),
                _ => (k.clone(), v.clone()),
            })
            .collect();
        if self.method == "get" {
            let mut u = self.action.clone();
            u.query_pairs_mut().clear().extend_pairs(fields);
            Nav::Get(u)
        } else {
            Nav::Post(self.action.clone(), fields)
        }
    }
}

/// The first form on the page that has an `email` field, if any.
pub fn login_form(body: &str, page: &Url) -> Option<LoginForm> {
    forms(body, page)
        .into_iter()
        .find(|f| f.fields.iter().any(|(k, _)| k == "email"))
}

/// Every form on the page, with the fields a browser would submit (the first submit button
/// included, as if it were clicked).
pub fn forms(body: &str, page: &Url) -> Vec<LoginForm> {
    let doc = Html::parse_document(body);
    let form_sel = Selector::parse("form").expect("selector");
    let field_sel = Selector::parse("input, select, textarea, button").expect("selector");
    let option_sel = Selector::parse("option").expect("selector");
    let mut out = Vec::new();
    for form in doc.select(&form_sel) {
        let action = form
            .value()
            .attr("action")
            .filter(|a| !a.trim().is_empty())
            .map_or_else(|| Ok(page.clone()), |a| page.join(a.trim()));
        let Ok(action) = action else { continue };
        let method = form
            .value()
            .attr("method")
            .unwrap_or("get")
            .to_ascii_lowercase();
        let mut fields = Vec::new();
        let mut submit_taken = false;
        for el in form.select(&field_sel) {
            let v = el.value();
            let Some(name) = v.attr("name").filter(|n| !n.is_empty()) else {
                continue;
            };
            if v.attr("disabled").is_some() {
                continue;
            }
            let value = v.attr("value").unwrap_or("").to_string();
            match v.name() {
                "input" => {
                    let ty = v.attr("type").unwrap_or("text").to_ascii_lowercase();
                    match ty.as_str() {
                        "submit" | "image" => {
                            if !submit_taken {
                                submit_taken = true;
                                fields.push((name.to_string(), value));
                            }
                        }
                        "button" | "reset" | "file" => {}
                        "checkbox" | "radio" => {
                            if v.attr("checked").is_some() {
                                let value = if value.is_empty() { "on".into() } else { value };
                                fields.push((name.to_string(), value));
                            }
                        }
                        _ => fields.push((name.to_string(), value)),
                    }
                }
                "button" => {
                    let ty = v.attr("type").unwrap_or("submit").to_ascii_lowercase();
                    if ty == "submit" && !submit_taken {
                        submit_taken = true;
                        fields.push((name.to_string(), value));
                    }
                }
                "select" => {
                    let options: Vec<ElementRef<'_>> = el.select(&option_sel).collect();
                    let chosen = options
                        .iter()
                        .find(|o| o.value().attr("selected").is_some())
                        .or(options.first());
                    if let Some(o) = chosen {
                        let val = o
                            .value()
                            .attr("value")
                            .map(str::to_string)
                            .unwrap_or_else(|| o.text().collect::<String>().trim().to_string());
                        fields.push((name.to_string(), val));
                    }
                }
                "textarea" => fields.push((name.to_string(), el.text().collect())),
                _ => {}
            }
        }
        out.push(LoginForm {
            action,
            method,
            fields,
        });
    }
    out
}

/// The text a person would read on a page (for messages).
pub fn visible_text(body: &str) -> String {
    if !body.contains('<') {
        return body.to_string();
    }
    let doc = Html::parse_document(body);
    let sel = Selector::parse("body").expect("selector");
    let text: String = doc
        .select(&sel)
        .next()
        .map(|b| b.text().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
