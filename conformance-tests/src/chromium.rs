//! A real browser: Debian's headless Chromium, driven through chromedriver (WebDriver) with
//! `fantoccini`. Each [`Chromium`] is its own browser with an empty profile. Pages can be
//! checked with axe-core ([`Chromium::axe`], WCAG 2.1 A and AA) and photographed
//! ([`Chromium::screenshot`]).
//!
//! The calls block: the browser owns a small Tokio runtime, so tests stay plain synchronous
//! code between clicks.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::node;
use crate::server::free_port;

/// Where Debian puts Chromium and its driver (`scripts/install-deps.sh` installs both).
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A headless Chromium with its own profile, and the chromedriver that drives it.
pub struct Chromium {
    rt: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    _profile: TempDir,
}

impl std::fmt::Debug for Chromium {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chromium").finish_non_exhaustive()
    }
}

/// One serious or critical accessibility violation axe-core found.
#[derive(Debug, Clone)]
pub struct Violation {
    pub id: String,
    pub impact: String,
    pub help: String,
    pub targets: Vec<String>,
}

impl Chromium {
    /// Start a browser with a window of `width` × `height` CSS pixels that asks for Dutch
    /// pages. Fails with the install hint when Chromium or chromedriver is missing.
    pub fn start(width: u32, height: u32) -> Self {
        Self::start_in(width, height, "nl-NL,nl")
    }

    /// As [`Chromium::start`], asking for pages in `languages` (`Accept-Language`).
    pub fn start_in(width: u32, height: u32, languages: &str) -> Self {
        for (what, path) in [("Chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)] {
            assert!(
                Path::new(path).exists(),
                "{what} is not installed at {path}: run scripts/install-deps.sh \
                 (Debian packages chromium and chromium-driver)"
            );
        }
        let profile = tempfile::Builder::new()
            .prefix("leerpoort-chromium-")
            .tempdir()
            .expect("a temp dir for the browser profile");
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a Tokio runtime for the WebDriver client");
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-extensions",
                    "--hide-scrollbars",
                    format!("--lang={}", languages.split(',').next().unwrap_or("nl")),
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": {"intl.accept_languages": languages},
            }),
        );
        let webdriver = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let attempt = rt.block_on(
                ClientBuilder::native()
                    .capabilities(caps.clone())
                    .connect(&webdriver),
            );
            match attempt {
                Ok(c) => break c,
                // chromedriver may not listen yet.
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("could not start Chromium through chromedriver: {e}"),
            }
        };
        let browser = Self {
            rt,
            client: Some(client),
            driver,
            _profile: profile,
        };
        // The viewport, not the window, is what a tablet has.
        browser.set_viewport(width, height);
        browser
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("the browser is open")
    }

    fn block<T>(
        &self,
        f: impl std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
        what: &str,
    ) -> T {
        self.rt
            .block_on(f)
            .unwrap_or_else(|e| panic!("browser: {what}: {e}"))
    }

    /// Resize the window so that the page area is `width` × `height`.
    pub fn set_viewport(&self, width: u32, height: u32) {
        let inner = self.execute("return [window.innerWidth, window.innerHeight];", vec![]);
        let (iw, ih) = (
            inner[0].as_u64().unwrap_or(width as u64) as u32,
            inner[1].as_u64().unwrap_or(height as u64) as u32,
        );
        let (ow, oh) = self.block(self.client().get_window_size(), "window size");
        let (w, h) = (
            (ow as u32).saturating_sub(iw) + width,
            (oh as u32).saturating_sub(ih) + height,
        );
        self.block(self.client().set_window_size(w, h), "resizing");
    }

    /// Open `url` and wait for the page.
    pub fn goto(&self, url: &str) {
        self.block(self.client().goto(url), &format!("opening {url}"));
    }

    /// The address of the page now shown.
    pub fn url(&self) -> url::Url {
        self.block(self.client().current_url(), "current URL")
    }

    /// The page's visible text.
    pub fn text(&self) -> String {
        let body = self.find("body");
        self.block(body.text(), "page text")
    }

    /// The first element matching `css`; fails when there is none.
    pub fn find(&self, css: &str) -> Element {
        self.block(
            self.client().find(Locator::Css(css)),
            &format!("finding {css}"),
        )
    }

    /// Every element matching `css`.
    pub fn find_all(&self, css: &str) -> Vec<Element> {
        self.block(
            self.client().find_all(Locator::Css(css)),
            &format!("finding {css}"),
        )
    }

    /// Click the element matching `css`, which leads to another page, and wait until that
    /// page has loaded.
    pub fn click(&self, css: &str) {
        let e = self.find(css);
        self.navigating(|| self.block(e.click(), &format!("clicking {css}")), css);
    }

    /// Click the element matching `css`, which changes the page in place (no navigation).
    pub fn click_in_page(&self, css: &str) {
        let e = self.find(css);
        self.block(e.click(), &format!("clicking {css}"));
    }

    /// Click the link or button whose visible text contains `text`, and wait for the page it
    /// leads to.
    pub fn click_text(&self, text: &str) {
        let xpath = format!(
            "//*[self::a or self::button][contains(normalize-space(.), {})]",
            xpath_literal(text)
        );
        let e = self.block(
            self.client().find(Locator::XPath(&xpath)),
            &format!("finding a link or button with {text:?}"),
        );
        self.navigating(
            || self.block(e.click(), &format!("clicking {text:?}")),
            text,
        );
    }

    /// At the school's group tiles, a pupil picks `group`, then `name`, and types `pin`.
    pub fn pupil_signs_in(&self, group: &str, name: &str, pin: &str) {
        let text = self.text();
        assert!(
            text.contains("Kies je groep"),
            "not at the group tiles: {text}"
        );
        self.click_text(group);
        self.click_text(name);
        self.type_into("#pin", pin);
        self.click("form.pin button[type=submit]");
    }

    /// Do `act`, which makes the browser load another document, and wait until it has: the
    /// old document carried a mark the new one does not.
    fn navigating(&self, act: impl FnOnce(), what: &str) {
        self.execute("window.__leerpoortOldPage = true;", vec![]);
        act();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let done = self
                .rt
                .block_on(self.client().execute(
                    "return window.__leerpoortOldPage !== true && document.readyState === 'complete';",
                    vec![],
                ))
                .ok();
            if done == Some(json!(true)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "clicking {what} did not lead to a new page within 20 s"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Type `text` into the field matching `css`.
    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.block(e.send_keys(text), &format!("typing into {css}"));
    }

    /// The visible text of an element.
    pub fn text_of(&self, e: &Element) -> String {
        self.block(e.text(), "element text")
    }

    /// An attribute of the element matching `css`.
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        let e = self.find(css);
        self.block(e.attr(name), &format!("attribute {name} of {css}"))
    }

    /// Run `script` (a function body) in the page.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.block(self.client().execute(script, args), "running a script")
    }

    /// A PNG of the viewport.
    pub fn screenshot_png(&self) -> Vec<u8> {
        self.block(self.client().screenshot(), "screenshot")
    }

    /// Save a screenshot as `name.png` in the screenshot folder ([`screenshot_dir`]).
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("creating the screenshot folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, self.screenshot_png()).expect("writing a screenshot");
        path
    }

    /// Run axe-core on the page (WCAG 2.0/2.1 A and AA rules) and return the violations of
    /// impact serious or critical.
    pub fn axe(&self) -> Vec<Violation> {
        let loaded = self.execute(
            &format!("{}\n;return typeof window.axe;", axe_source()),
            vec![],
        );
        assert_eq!(loaded, json!("object"), "axe-core did not load");
        let result = self.block(
            self.client().execute_async(
                r#"const done = arguments[arguments.length - 1];
                   window.axe.run(document, {runOnly: {type: 'tag',
                       values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
                     .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact || '',
                       help: v.help, targets: v.nodes.map(n => n.target.join(' '))}))))
                     .catch(e => done({error: String(e)}));"#,
                vec![],
            ),
            "running axe-core",
        );
        if let Some(e) = result.get("error") {
            panic!("axe-core failed: {e}");
        }
        result
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| Violation {
                id: v["id"].as_str().unwrap_or("").into(),
                impact: v["impact"].as_str().unwrap_or("").into(),
                help: v["help"].as_str().unwrap_or("").into(),
                targets: v["targets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect(),
            })
            .filter(|v| v.impact == "serious" || v.impact == "critical")
            .collect()
    }

    /// Fail when axe-core finds a serious or critical violation on the page (`what` names it).
    pub fn assert_accessible(&self, what: &str) {
        let found = self.axe();
        assert!(
            found.is_empty(),
            "{what} ({}) has serious or critical accessibility violations:\n{}",
            self.url(),
            found
                .iter()
                .map(|v| format!("- {} [{}]: {} at {:?}", v.id, v.impact, v.help, v.targets))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = self.rt.block_on(c.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else {
        format!("\"{s}\"")
    }
}

/// axe-core's browser bundle, from npm (`conformance-tests/node`).
fn axe_source() -> &'static str {
    static SRC: OnceLock<String> = OnceLock::new();
    SRC.get_or_init(|| {
        let path = node::install().join("node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
    })
}

/// Where screenshots go: `docs/screenshots/` when `LEERPOORT_SCREENSHOTS=docs` (to refresh
/// the pictures in the documentation), else `target/screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf();
    if std::env::var("LEERPOORT_SCREENSHOTS").as_deref() == Ok("docs") {
        root.join("docs/screenshots")
    } else {
        root.join("target/screenshots")
    }
}
