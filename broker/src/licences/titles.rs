//! A title as the publisher sends it ([`TitleInput`], Hosted Lika's `MethodDetails` /
//! `ProductDetails` with Leerpoort's additions), checked into a [`Title`].

use serde::Deserialize;
use uuid::Uuid;

use super::{Title, TitleKey};

/// The longest id or code.
pub const MAX_ID: usize = 64;
/// The longest name.
pub const MAX_NAME: usize = 120;
/// The longest URL.
pub const MAX_URL: usize = 2048;

/// A methode or product in the API's words.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TitleInput {
    pub id: String,
    #[serde(default)]
    pub code: Option<String>,
    pub naam: String,
    /// `"image/svg+xml,<base64>"` or `"image/png,<base64>"` (or a `data:` URL of either).
    #[serde(default)]
    pub icon: Option<String>,
    /// Not used: icons are served from Leerpoort, never fetched from elsewhere.
    #[serde(default)]
    pub icon_url: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    /// `leerkrachtApplicatie`, `toetsApplicatie`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// May it be used at home (default: yes)?
    #[serde(default)]
    pub thuis_toegestaan: Option<bool>,
}

/// Why a title is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TitleError {
    #[error("{0}")]
    Invalid(String),
    #[error("icon: {0}")]
    Icon(#[from] protocol::icon::IconError),
}

fn invalid(m: impl Into<String>) -> TitleError {
    TitleError::Invalid(m.into())
}

/// Is `s` an id or code: 1 to 64 of letters, digits, `-`, `_`, `.`?
pub fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// Check a title for the publisher `rp`: a methode (`methode` is `None`: the id is the
/// methode's) or a product of `methode`. `path_id`, when the request's path names the title,
/// must equal the body's id. The icon comes back checked and made safe, to be stored.
pub fn check_title(
    rp: Uuid,
    methode: Option<&str>,
    path_id: Option<&str>,
    input: TitleInput,
    now: i64,
) -> Result<(Title, Option<protocol::icon::Icon>), TitleError> {
    if !valid_id(&input.id) {
        return Err(invalid("id: 1 to 64 letters, digits, '-', '_' or '.'"));
    }
    if path_id.is_some_and(|p| p != input.id) {
        return Err(invalid("id: the body's id differs from the path's"));
    }
    if let Some(code) = &input.code {
        if !valid_id(code) {
            return Err(invalid("code: 1 to 64 letters, digits, '-', '_' or '.'"));
        }
    }
    let name = input.naam.trim().to_string();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(invalid(format!("naam: 1 to {MAX_NAME} characters")));
    }
    let url = match input
        .url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        Some(u) if u.len() > MAX_URL => return Err(invalid("url: too long")),
        Some(u) => {
            crate::admin::check_https_or_local(u).map_err(|e| invalid(format!("url: {e}")))?;
            Some(u.to_string())
        }
        None => None,
    };
    if methode.is_some() && url.is_none() {
        return Err(invalid("url: a product needs the URL it opens at"));
    }
    let (mut teacher_app, mut test_app) = (false, false);
    for t in &input.tags {
        match t.as_str() {
            "leerkrachtApplicatie" => teacher_app = true,
            "toetsApplicatie" => test_app = true,
            other => {
                return Err(invalid(format!(
                    "tags: '{other}' is not one of leerkrachtApplicatie, toetsApplicatie"
                )))
            }
        }
    }
    let icon = input
        .icon
        .as_deref()
        .filter(|i| !i.trim().is_empty())
        .map(protocol::icon::sanitise)
        .transpose()?;
    let key = match methode {
        None => TitleKey {
            rp,
            methode: input.id,
            product: None,
        },
        Some(m) => TitleKey {
            rp,
            methode: m.to_string(),
            product: Some(input.id),
        },
    };
    Ok((
        Title {
            key,
            code: input.code,
            name,
            icon: icon.as_ref().map(protocol::icon::Icon::hash),
            url,
            teacher_app,
            test_app,
            home_allowed: input.thuis_toegestaan.unwrap_or(true),
            updated_at: now,
        },
        icon,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> TitleInput {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_methode_and_a_product() {
        let rp = Uuid::new_v4();
        let (m, icon) = check_title(
            rp,
            None,
            Some("rekenrijk"),
            input(serde_json::json!({"id": "rekenrijk", "naam": " Rekenrijk ",
                "url": "https://uitgeverij.example/rr", "tags": ["leerkrachtApplicatie"],
                "thuisToegestaan": false})),
            7,
        )
        .unwrap();
        assert_eq!(m.key.methode, "rekenrijk");
        assert_eq!(m.key.product, None);
        assert_eq!(m.name, "Rekenrijk");
        assert!(m.teacher_app && !m.test_app && !m.home_allowed);
        assert!(icon.is_none());
        assert_eq!(m.product_code(), "rekenrijk");

        let (p, _) = check_title(
            rp,
            Some("rekenrijk"),
            None,
            input(
                serde_json::json!({"id": "rr-g5", "code": "RR5", "naam": "Rekenrijk groep 5",
                "url": "https://uitgeverij.example/rr/5"}),
            ),
            7,
        )
        .unwrap();
        assert_eq!(p.key.product.as_deref(), Some("rr-g5"));
        assert_eq!(p.product_code(), "RR5");
        assert!(p.home_allowed);
    }

    #[test]
    fn bad_titles_are_refused_with_the_field() {
        let rp = Uuid::new_v4();
        let check = |m: Option<&str>, v: serde_json::Value| {
            check_title(rp, m, None, input(v), 0)
                .unwrap_err()
                .to_string()
        };
        assert!(check(None, serde_json::json!({"id": "a/b", "naam": "x"})).starts_with("id:"));
        assert!(check(None, serde_json::json!({"id": "a", "naam": ""})).starts_with("naam:"));
        assert!(check(
            None,
            serde_json::json!({"id": "a", "naam": "x", "url": "javascript:alert(1)"})
        )
        .starts_with("url:"));
        assert!(check(
            None,
            serde_json::json!({"id": "a", "naam": "x", "url": "http://uitgeverij.example/"})
        )
        .starts_with("url:"));
        assert!(check(Some("m"), serde_json::json!({"id": "a", "naam": "x"})).starts_with("url:"));
        assert!(check(
            None,
            serde_json::json!({"id": "a", "naam": "x", "tags": ["admin"]})
        )
        .starts_with("tags:"));
        assert!(check(
            None,
            serde_json::json!({"id": "a", "naam": "x", "icon": "image/gif,AA"})
        )
        .starts_with("icon:"));
        let err = check_title(
            rp,
            None,
            Some("b"),
            input(serde_json::json!({"id": "a", "naam": "x"})),
            0,
        )
        .unwrap_err();
        assert!(err.to_string().contains("differs"));
        assert!(serde_json::from_value::<TitleInput>(
            serde_json::json!({"id": "a", "naam": "x", "extra": 1})
        )
        .is_err());
    }
}
