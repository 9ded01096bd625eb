//! Just enough HTML handling to get through a sign-in: find the page's POST form, fill in the
//! user name and password (or submit a consent form as it is), and summarise a page for error
//! messages. `scraper` does the parsing, so entities and odd markup are handled like a browser.

use anyhow::anyhow;
use scraper::{ElementRef, Html, Selector};

/// Field names taken as the user-name field of a login form.
const IDENTIFIER_NAMES: [&str; 3] = ["email", "login", "username"];

/// A `<form method="post">` as found on a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    /// The `action` attribute, unresolved (`None` or empty: the page's own URL).
    pub action: Option<String>,
    /// The successful controls, in document order, before filling in.
    pub fields: Vec<Field>,
    /// The first named submit button (`name`, `value`), sent as if pressed.
    pub submit: Option<(String, String)>,
}

/// One form control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// The lowercased `type` (`text` when absent); `textarea` and `select` for those elements.
    pub kind: String,
    pub value: String,
}

impl Form {
    /// Does the form ask for a password (a login form rather than a consent form)?
    pub fn has_password(&self) -> bool {
        self.fields.iter().any(|f| f.kind == "password")
    }

    /// Does the form have a control named `name`?
    pub fn has_field(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f.name == name)
    }

    /// The fields to POST: the control named `name` set to `value` (whatever its type: the
    /// PIN field at home is a masked text field, not a password field), everything else as
    /// the page set it, and the submit button pressed.
    pub fn fill_named(&self, name: &str, value: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .fields
            .iter()
            .map(|f| {
                let v = if f.name == name { value } else { &f.value };
                (f.name.clone(), v.to_string())
            })
            .collect();
        if let Some((n, v)) = &self.submit {
            out.push((n.clone(), v.clone()));
        }
        out
    }

    /// The fields to POST: user name and password filled in, everything else as the page set
    /// it, and the submit button pressed.
    pub fn fill(&self, identifier: &str, password: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .fields
            .iter()
            .map(|f| {
                let value = match f.kind.as_str() {
                    "password" => password.to_string(),
                    "text" | "email"
                        if IDENTIFIER_NAMES
                            .iter()
                            .any(|n| n.eq_ignore_ascii_case(&f.name)) =>
                    {
                        identifier.to_string()
                    }
                    _ => f.value.clone(),
                };
                (f.name.clone(), value)
            })
            .collect();
        if let Some((n, v)) = &self.submit {
            out.push((n.clone(), v.clone()));
        }
        out
    }
}

fn selector(s: &str) -> anyhow::Result<Selector> {
    Selector::parse(s).map_err(|e| anyhow!("selector {s}: {e:?}"))
}

/// Every `<form method="post">` on the page, in document order.
pub fn post_forms(html: &str) -> anyhow::Result<Vec<Form>> {
    let doc = Html::parse_document(html);
    let forms = selector("form")?;
    let controls = selector("input, button, select, textarea")?;
    let options = selector("option")?;
    let mut out = Vec::new();
    for form in doc.select(&forms) {
        let method = form.value().attr("method").unwrap_or("get");
        if !method.trim().eq_ignore_ascii_case("post") {
            continue;
        }
        let mut found = Form {
            action: form.value().attr("action").map(|a| a.trim().to_string()),
            ..Form::default()
        };
        for c in form.select(&controls) {
            if let Some(field) = control(c, &options, &mut found.submit) {
                found.fields.push(field);
            }
        }
        out.push(found);
    }
    Ok(out)
}

/// A control's contribution to the form data set (HTML §4.10.21.4, the parts sign-in pages use).
fn control(
    c: ElementRef<'_>,
    options: &Selector,
    submit: &mut Option<(String, String)>,
) -> Option<Field> {
    let el = c.value();
    if el.attr("disabled").is_some() {
        return None;
    }
    let name = el.attr("name").unwrap_or("");
    let value = el.attr("value").unwrap_or("").to_string();
    let tag = el.name();
    let kind = match tag {
        "input" => el
            .attr("type")
            .unwrap_or("text")
            .trim()
            .to_ascii_lowercase(),
        "button" => el
            .attr("type")
            .unwrap_or("submit")
            .trim()
            .to_ascii_lowercase(),
        other => other.to_string(),
    };
    match (tag, kind.as_str()) {
        ("input" | "button", "submit" | "image") => {
            if submit.is_none() && !name.is_empty() {
                *submit = Some((name.to_string(), value));
            }
            None
        }
        ("input" | "button", "button" | "reset" | "file") | ("button", _) => None,
        _ if name.is_empty() => None,
        ("input", "checkbox" | "radio") => el.attr("checked").map(|_| Field {
            name: name.to_string(),
            kind: kind.clone(),
            value: if value.is_empty() { "on".into() } else { value },
        }),
        ("textarea", _) => Some(Field {
            name: name.to_string(),
            kind,
            value: c.text().collect(),
        }),
        ("select", _) => {
            let opts: Vec<ElementRef<'_>> = c.select(options).collect();
            let chosen = opts
                .iter()
                .find(|o| o.value().attr("selected").is_some())
                .or_else(|| opts.first())?;
            let v = chosen
                .value()
                .attr("value")
                .map(str::to_string)
                .unwrap_or_else(|| chosen.text().collect::<String>().trim().to_string());
            Some(Field {
                name: name.to_string(),
                kind,
                value: v,
            })
        }
        _ => Some(Field {
            name: name.to_string(),
            kind,
            value,
        }),
    }
}

/// The form to submit: a login form when there is one, else the first POST form.
pub fn choose(forms: Vec<Form>) -> Option<Form> {
    let i = forms.iter().position(Form::has_password).unwrap_or(0);
    forms.into_iter().nth(i)
}

/// A link on a page: its `href` (unresolved) and its text, as the pieces it is made of
/// (each text node, whitespace collapsed) and as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub href: String,
    pub texts: Vec<String>,
}

impl Link {
    /// Is this the tile of `want` (a name or a key)? One of its text pieces, or its whole text,
    /// equals `want` ignoring case, or has the same slug ("Groep 3A" and `groep-3a` both match
    /// the tile "Groep 3A").
    pub fn is_tile_of(&self, want: &str) -> bool {
        let want_slug = slug(want);
        !want_slug.is_empty()
            && self
                .texts
                .iter()
                .any(|t| t.eq_ignore_ascii_case(want.trim()) || slug(t) == want_slug)
    }

    /// The link's text, for error reports.
    pub fn label(&self) -> String {
        self.texts.last().cloned().unwrap_or_default()
    }
}

/// Lowercase letters and digits, every other run of characters one `-`: `Groep 1/2` → `groep-1-2`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// The links of a page's tiles (`.tiles a[href]`); a page without tiles gives all its links.
pub fn tile_links(html: &str) -> anyhow::Result<Vec<Link>> {
    let doc = Html::parse_document(html);
    let collect = |sel: &Selector| -> Vec<Link> {
        doc.select(sel)
            .filter_map(|a| {
                let href = a.value().attr("href")?.trim().to_string();
                let mut texts: Vec<String> = a
                    .text()
                    .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
                    .filter(|t| !t.is_empty())
                    .collect();
                if texts.len() > 1 {
                    texts.push(texts.join(" "));
                }
                Some(Link { href, texts })
            })
            .collect()
    };
    let tiles = collect(&selector(".tiles a[href]")?);
    if tiles.is_empty() {
        Ok(collect(&selector("a[href]")?))
    } else {
        Ok(tiles)
    }
}

/// The text of a page's first alert (`.error` or `[role=alert]`), whitespace collapsed.
pub fn alert(html: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let sel = selector(".error, [role=alert]").ok()?;
    doc.select(&sel)
        .map(|el| el.text().collect::<Vec<_>>().join(" "))
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .find(|t| !t.is_empty())
}

/// A short, readable account of a page for error reports: its title, headings and alerts.
pub fn summary(html: &str) -> String {
    let doc = Html::parse_document(html);
    let mut parts = Vec::new();
    let Ok(sel) = selector("title, h1, h2, .error, [role=alert], p") else {
        return excerpt(html, 300);
    };
    for el in doc.select(&sel) {
        let text = el.text().collect::<Vec<_>>().join(" ");
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if !text.is_empty() && !parts.contains(&text) {
            parts.push(text);
        }
        if parts.len() >= 6 {
            break;
        }
    }
    if parts.is_empty() {
        excerpt(html, 300)
    } else {
        excerpt(&parts.join(" | "), 400)
    }
}

/// The first `max` characters of `s`, whitespace collapsed.
pub fn excerpt(s: &str, max: usize) -> String {
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        let cut: String = flat.chars().take(max).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const LOGIN: &str = r#"<html><body><form method="get" action="/search"><input name="q"></form>
        <form method="POST" action="/login?x=1&amp;y=2" class="card">
        <input type="hidden" name="csrf_token" value="abc&amp;d">
        <input type="hidden" name="auth" value="42">
        <input id="email" name="email" type="email" required value="">
        <input name="password" type="password">
        <input type="checkbox" name="remember" checked>
        <input type="checkbox" name="spam">
        <input type="text" name="other" value="keep" disabled>
        <button type="submit">Inloggen</button>
        </form></body></html>"#;

    #[test]
    fn fills_a_named_field_whatever_its_type() {
        let html = r#"<form method="post" action="/thuis/kind/1">
            <input type="hidden" name="csrf_token" value="t">
            <input type="text" class="masked" name="pin">
            <button type="submit" name="go" value="1">Inloggen</button></form>"#;
        let f = choose(post_forms(html).unwrap()).unwrap();
        assert!(f.has_field("pin") && !f.has_password());
        assert_eq!(
            f.fill_named("pin", "5678"),
            [
                ("csrf_token".to_string(), "t".to_string()),
                ("pin".into(), "5678".into()),
                ("go".into(), "1".into())
            ]
        );
    }

    #[test]
    fn finds_and_fills_a_login_form() {
        let forms = post_forms(LOGIN).unwrap();
        assert_eq!(forms.len(), 1);
        let f = choose(forms).unwrap();
        assert_eq!(f.action.as_deref(), Some("/login?x=1&y=2"));
        assert!(f.has_password());
        let data = f.fill("anna@example", "geheim");
        assert_eq!(
            data,
            vec![
                ("csrf_token".to_string(), "abc&d".to_string()),
                ("auth".into(), "42".into()),
                ("email".into(), "anna@example".into()),
                ("password".into(), "geheim".into()),
                ("remember".into(), "on".into()),
            ]
        );
    }

    #[test]
    fn a_consent_form_is_submitted_as_is() {
        let html = r#"<form method="post" action="">
            <input type="hidden" name="prompt" value="consent">
            <button type="submit" name="decision" value="allow">Ja</button>
            <button type="submit" name="decision" value="deny">Nee</button></form>"#;
        let f = choose(post_forms(html).unwrap()).unwrap();
        assert!(!f.has_password());
        assert_eq!(f.action.as_deref(), Some(""));
        assert_eq!(
            f.fill("x", "y"),
            vec![
                ("prompt".to_string(), "consent".to_string()),
                ("decision".into(), "allow".into())
            ]
        );
    }

    #[test]
    fn login_and_username_names_are_identifier_fields() {
        let html = r#"<form method=post><input name=login><input name=Username type=text>
            <input name=pwd type=password></form>"#;
        let f = choose(post_forms(html).unwrap()).unwrap();
        assert_eq!(
            f.fill("me", "pw"),
            vec![
                ("login".to_string(), "me".to_string()),
                ("Username".into(), "me".into()),
                ("pwd".into(), "pw".into())
            ]
        );
    }

    #[test]
    fn a_password_form_is_preferred_over_an_earlier_post_form() {
        let html = r#"<form method=post action=/logout><input type=hidden name=t value=1></form>
            <form method=post action=/login><input name=email><input type=password name=password></form>"#;
        let f = choose(post_forms(html).unwrap()).unwrap();
        assert_eq!(f.action.as_deref(), Some("/login"));
    }

    const GROUPS: &str = r#"<main><h1>Kies je groep</h1><ul class="tiles groups">
        <li><a href="/school/s/groep/g12?TARGET=c"><span class="big">2</span><span>Groep 1/2</span></a></li>
        <li><a href="/school/s/groep/g3a?TARGET=c"><span class="big">3</span><span>Groep 3A</span></a></li>
        </ul><p class="aside"><a href="/snelkoppeling?ROL=leerkracht">Ik ben een leerkracht</a></p></main>"#;

    #[test]
    fn finds_tiles_by_name_or_key() {
        let links = tile_links(GROUPS).unwrap();
        assert_eq!(links.len(), 2, "only the tiles: {links:?}");
        let find = |want: &str| {
            links
                .iter()
                .find(|l| l.is_tile_of(want))
                .map(|l| l.href.clone())
        };
        assert_eq!(
            find("Groep 3A").as_deref(),
            Some("/school/s/groep/g3a?TARGET=c")
        );
        assert_eq!(
            find("groep-3a").as_deref(),
            Some("/school/s/groep/g3a?TARGET=c")
        );
        assert_eq!(
            find("groep-1-2").as_deref(),
            Some("/school/s/groep/g12?TARGET=c")
        );
        assert_eq!(find("Groep 7B"), None);
        assert_eq!(find(""), None);
        assert_eq!(links[1].label(), "3 Groep 3A");
        let names = r#"<ul class="tiles names"><li><a href="/l/1"><img alt="" src="x.svg"><span>Emma</span></a></li></ul>"#;
        let links = tile_links(names).unwrap();
        assert!(links[0].is_tile_of("emma"));
        assert!(!links[0].is_tile_of("Em"));
        assert_eq!(slug(" Groep 1/2 "), "groep-1-2");
    }

    #[test]
    fn reads_the_alert() {
        let html = r#"<main><h1>Emma</h1><p class="error" role="alert">Die code klopt niet.
            Probeer het nog eens.</p><form method="post"></form></main>"#;
        assert_eq!(
            alert(html).as_deref(),
            Some("Die code klopt niet. Probeer het nog eens.")
        );
        assert_eq!(alert("<p>ok</p>"), None);
    }

    #[test]
    fn summary_names_title_and_alerts() {
        let html = r#"<html><head><title>Inloggen</title></head><body><h1>Inloggen</h1>
            <p class="error" role="alert">Het wachtwoord klopt niet.</p></body></html>"#;
        assert_eq!(summary(html), "Inloggen | Het wachtwoord klopt niet.");
    }
}
