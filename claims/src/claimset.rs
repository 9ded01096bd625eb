//! The claims a relying party may receive ([`ClaimSet`]), and which optional ones a school's
//! registration releases ([`Release`]).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::eckid::EckId;
use crate::pseudonym::PairwiseSubject;
use crate::role::{Jaargroep, LoginContext, Role};
use crate::school::{Brin6, InstellingRef};

/// Every claim name Leerpoort can issue, e.g. for `claims_supported` in OpenID Connect
/// discovery.
pub const CLAIMS_SUPPORTED: &[&str] = &[
    "sub",
    "eckid",
    "instelling_ref",
    "brin6",
    "role",
    "groups",
    "niveau",
    "login_context",
    "given_name",
    "family_name",
    "name",
    "email",
];

/// A group (class) the user belongs to, as released in the `groups` claim.
///
/// Serialised as `{"key": "...", "name": "...", "jaargroep": 3}`; `jaargroep` is `null` for
/// groups without a year group (e.g. a combination group or a club) and may be left out when
/// deserialising.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GroupClaim {
    /// Stable identifier of the group within the school.
    pub key: String,
    /// Display name, e.g. `Groep 5b`.
    pub name: String,
    /// Year group, if the group has exactly one.
    #[serde(default)]
    pub jaargroep: Option<Jaargroep>,
}

impl GroupClaim {
    /// The group as a JSON object, identical to its serde form.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("key".to_owned(), Value::String(self.key.clone()));
        map.insert("name".to_owned(), Value::String(self.name.clone()));
        map.insert(
            "jaargroep".to_owned(),
            self.jaargroep.map_or(Value::Null, |j| Value::from(j.get())),
        );
        Value::Object(map)
    }
}

/// The claim values for one login of one user at one relying party, as plain data.
///
/// Optional claims that are `None` are left out of [`ClaimSet::to_json_map`] and of the serde
/// form. Deciding what to fill in (see [`Release`]) is up to the caller.
///
/// [`Debug`](fmt::Debug) hides names and e-mail address (and the ECK-iD is redacted by its own
/// `Debug`), so a `ClaimSet` can be traced without personal data.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimSet {
    /// Pairwise subject identifier (`sub`).
    pub sub: PairwiseSubject,
    /// ECK-iD (`eckid`), if released and known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eckid: Option<EckId>,
    /// The school's permanent reference (`instelling_ref`).
    pub instelling_ref: InstellingRef,
    /// The school location (`brin6`).
    pub brin6: Brin6,
    /// The user's role (`role`).
    pub role: Role,
    /// The user's groups (`groups`), if released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupClaim>>,
    /// The year groups whose software the user may use (`niveau`): those of their groups and
    /// the levels (niveaus) the school gave, ascending and without repeats. Released with
    /// `groups`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub niveau: Option<Vec<Jaargroep>>,
    /// Where the login took place (`login_context`).
    pub login_context: LoginContext,
    /// Given name (`given_name`), if released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family name including prefixes such as "van" (`family_name`), if released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Full display name (`name`), if released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E-mail address (`email`), if released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl ClaimSet {
    /// The claims as a JSON object map, leaving out every optional claim that is `None`.
    ///
    /// Keys are exactly the names in [`CLAIMS_SUPPORTED`]; the result equals the serde form.
    #[must_use]
    pub fn to_json_map(&self) -> Map<String, Value> {
        let mut map = Map::new();
        let mut put = |name: &str, value: Value| {
            map.insert(name.to_owned(), value);
        };
        let string = |s: &str| Value::String(s.to_owned());

        put("sub", string(self.sub.as_str()));
        if let Some(eckid) = &self.eckid {
            put("eckid", string(eckid.as_str()));
        }
        put(
            "instelling_ref",
            Value::String(self.instelling_ref.to_string()),
        );
        put("brin6", Value::String(self.brin6.to_string()));
        put("role", string(self.role.as_str()));
        if let Some(groups) = &self.groups {
            put(
                "groups",
                Value::Array(groups.iter().map(GroupClaim::to_json).collect()),
            );
        }
        if let Some(levels) = &self.niveau {
            put(
                "niveau",
                Value::Array(levels.iter().map(|j| Value::from(j.get())).collect()),
            );
        }
        put("login_context", string(self.login_context.as_str()));
        for (name, value) in [
            ("given_name", &self.given_name),
            ("family_name", &self.family_name),
            ("name", &self.name),
            ("email", &self.email),
        ] {
            if let Some(v) = value {
                put(name, string(v));
            }
        }
        map
    }
}

/// Stand-in for a personal value in [`ClaimSet`]'s `Debug` output.
struct Hidden<'a, T>(&'a Option<T>);

impl<T> fmt::Debug for Hidden<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(_) => f.write_str("Some(<hidden>)"),
            None => f.write_str("None"),
        }
    }
}

impl fmt::Debug for ClaimSet {
    /// Like a derived `Debug`, but names and e-mail address show as `Some(<hidden>)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimSet")
            .field("sub", &self.sub)
            .field("eckid", &self.eckid)
            .field("instelling_ref", &self.instelling_ref)
            .field("brin6", &self.brin6)
            .field("role", &self.role)
            .field("groups", &self.groups)
            .field("niveau", &self.niveau)
            .field("login_context", &self.login_context)
            .field("given_name", &Hidden(&self.given_name))
            .field("family_name", &Hidden(&self.family_name))
            .field("name", &Hidden(&self.name))
            .field("email", &Hidden(&self.email))
            .finish()
    }
}

/// Which optional claims a school's registration of a relying party releases.
///
/// The default releases the ECK-iD and groups but not names: `eckid = true`, `names = false`,
/// `groups = true`. Missing fields take these defaults when deserialising; unknown fields are
/// refused, so a typo in a configuration does not silently release (or withhold) data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Release {
    /// Release the `eckid` claim.
    pub eckid: bool,
    /// Release the name claims `given_name`, `family_name` and `name`.
    pub names: bool,
    /// Release the `groups` claim.
    pub groups: bool,
}

impl Default for Release {
    fn default() -> Self {
        Self {
            eckid: true,
            names: false,
            groups: true,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::pseudonym::{pairwise_subject, PseudonymKey, Sector};
    use serde_json::json;
    use uuid::Uuid;

    const ECKID_CODE: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\
                              0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn minimal() -> ClaimSet {
        let key = PseudonymKey::new(&[1; 32]).unwrap();
        ClaimSet {
            sub: pairwise_subject(&key, &Sector::new("app.example.nl").unwrap(), &Uuid::nil()),
            eckid: None,
            instelling_ref: "3f2b8c4e-1d2a-4b6c-9e8f-0a1b2c3d4e5f".parse().unwrap(),
            brin6: "12AB00".parse().unwrap(),
            role: Role::IctCoordinator,
            groups: None,
            niveau: None,
            login_context: LoginContext::Thuis,
            given_name: None,
            family_name: None,
            name: None,
            email: None,
        }
    }

    fn full() -> ClaimSet {
        ClaimSet {
            eckid: Some(EckId::parse(&format!("https://ketenid.nl/201703/{ECKID_CODE}")).unwrap()),
            groups: Some(vec![
                GroupClaim {
                    key: "g-5b".into(),
                    name: "Groep 5b".into(),
                    jaargroep: Some(Jaargroep::new(5).unwrap()),
                },
                GroupClaim {
                    key: "g-78".into(),
                    name: "Groep 7/8".into(),
                    jaargroep: None,
                },
            ]),
            niveau: Some(vec![Jaargroep::new(4).unwrap(), Jaargroep::new(5).unwrap()]),
            given_name: Some("Fatima".into()),
            family_name: Some("de Vries".into()),
            name: Some("Fatima de Vries".into()),
            email: Some("f.devries@school.example.nl".into()),
            ..minimal()
        }
    }

    #[test]
    fn minimal_map_omits_none() {
        let c = minimal();
        let map = c.to_json_map();
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        let mut expected = vec!["sub", "instelling_ref", "brin6", "role", "login_context"];
        expected.sort_unstable();
        let mut got = keys.clone();
        got.sort_unstable();
        assert_eq!(got, expected);
        assert_eq!(
            Value::Object(map),
            json!({
                "sub": c.sub.as_str(),
                "instelling_ref": "3f2b8c4e-1d2a-4b6c-9e8f-0a1b2c3d4e5f",
                "brin6": "12AB00",
                "role": "ict-coordinator",
                "login_context": "thuis",
            })
        );
    }

    #[test]
    fn full_map_has_every_claim() {
        let c = full();
        let map = c.to_json_map();
        let mut got: Vec<&str> = map.keys().map(String::as_str).collect();
        got.sort_unstable();
        let mut all = CLAIMS_SUPPORTED.to_vec();
        all.sort_unstable();
        assert_eq!(got, all);
        assert_eq!(
            map["eckid"],
            json!(format!("https://ketenid.nl/201703/{ECKID_CODE}"))
        );
        assert_eq!(
            map["groups"],
            json!([
                {"key": "g-5b", "name": "Groep 5b", "jaargroep": 5},
                {"key": "g-78", "name": "Groep 7/8", "jaargroep": null},
            ])
        );
        assert_eq!(map["niveau"], json!([4, 5]));
        assert_eq!(map["family_name"], json!("de Vries"));
        assert_eq!(map["email"], json!("f.devries@school.example.nl"));
    }

    #[test]
    fn map_equals_serde_form_and_roundtrips() {
        for c in [minimal(), full()] {
            let via_serde = serde_json::to_value(&c).unwrap();
            assert_eq!(via_serde, Value::Object(c.to_json_map()));
            let back: ClaimSet = serde_json::from_value(via_serde).unwrap();
            assert_eq!(back, c);
        }
    }

    #[test]
    fn empty_groups_are_released_as_empty_list() {
        let c = ClaimSet {
            groups: Some(Vec::new()),
            ..minimal()
        };
        assert_eq!(c.to_json_map()["groups"], json!([]));
    }

    #[test]
    fn claims_supported_is_complete_and_unique() {
        assert_eq!(CLAIMS_SUPPORTED.len(), 12);
        let mut v = CLAIMS_SUPPORTED.to_vec();
        v.sort_unstable();
        v.dedup();
        assert_eq!(v.len(), CLAIMS_SUPPORTED.len());
    }

    #[test]
    fn niveau_is_a_list_of_numbers_and_refuses_other_year_groups() {
        let c = ClaimSet {
            niveau: Some(vec![Jaargroep::new(3).unwrap(), Jaargroep::new(4).unwrap()]),
            ..minimal()
        };
        assert_eq!(c.to_json_map()["niveau"], json!([3, 4]));
        assert_eq!(serde_json::to_value(&c).unwrap()["niveau"], json!([3, 4]));
        assert!(format!("{c:?}").contains("niveau: Some("));
        assert!(!minimal().to_json_map().contains_key("niveau"));
        let mut v = serde_json::to_value(minimal()).unwrap();
        v["niveau"] = json!([3, 9]);
        assert!(serde_json::from_value::<ClaimSet>(v).is_err());
        let mut v = serde_json::to_value(minimal()).unwrap();
        v["niveau"] = json!([]);
        let back: ClaimSet = serde_json::from_value(v).unwrap();
        assert_eq!(back.niveau, Some(Vec::new()));
        assert_eq!(back.to_json_map()["niveau"], json!([]));
    }

    #[test]
    fn debug_hides_personal_data() {
        let c = full();
        let dbg = format!("{c:?}");
        for secret in ["Fatima", "Vries", "f.devries", &ECKID_CODE[..16]] {
            assert!(!dbg.contains(secret), "{secret} in {dbg}");
        }
        assert!(dbg.contains("given_name: Some(<hidden>)"));
        assert!(dbg.contains("email: Some(<hidden>)"));
        assert!(format!("{:?}", minimal()).contains("name: None"));
        assert!(dbg.contains("12AB00"));
    }

    #[test]
    fn group_claim_serde() {
        let g = GroupClaim {
            key: "k".into(),
            name: "Groep 3".into(),
            jaargroep: Some(Jaargroep::new(3).unwrap()),
        };
        assert_eq!(
            serde_json::to_value(&g).unwrap(),
            json!({"key": "k", "name": "Groep 3", "jaargroep": 3})
        );
        assert_eq!(serde_json::to_value(&g).unwrap(), g.to_json());
        let no_year: GroupClaim =
            serde_json::from_value(json!({"key": "k", "name": "Club"})).unwrap();
        assert_eq!(no_year.jaargroep, None);
        assert!(serde_json::from_value::<GroupClaim>(
            json!({"key": "k", "name": "x", "jaargroep": 9})
        )
        .is_err());
    }

    #[test]
    fn release_defaults_and_serde() {
        let d = Release::default();
        assert!(d.eckid);
        assert!(!d.names);
        assert!(d.groups);
        assert_eq!(
            serde_json::to_value(d).unwrap(),
            json!({"eckid": true, "names": false, "groups": true})
        );
        assert_eq!(serde_json::from_value::<Release>(json!({})).unwrap(), d);
        assert_eq!(
            serde_json::from_value::<Release>(json!({"names": true})).unwrap(),
            Release { names: true, ..d }
        );
        assert!(serde_json::from_value::<Release>(json!({"name": true})).is_err());
    }

    #[test]
    fn deserialising_rejects_bad_values() {
        let mut v = serde_json::to_value(minimal()).unwrap();
        v["brin6"] = json!("12ab00");
        assert!(serde_json::from_value::<ClaimSet>(v).is_err());
        let mut v = serde_json::to_value(minimal()).unwrap();
        v["role"] = json!("teacher");
        assert!(serde_json::from_value::<ClaimSet>(v).is_err());
    }
}
