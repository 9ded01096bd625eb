//! Roles of users ([`Role`]), which users an application is for ([`Audience`]), where a
//! login happens ([`LoginContext`]) and the year group of a class ([`Jaargroep`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{shown, ClaimsError};

/// The role of a user at a school. Wire names are in parentheses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum Role {
    /// A pupil (`leerling`).
    Leerling,
    /// A teacher (`leerkracht`).
    Leerkracht,
    /// The school's ICT coordinator (`ict-coordinator`).
    IctCoordinator,
    /// Intern begeleider, the pupil-care coordinator (`ib`).
    Ib,
    /// Remedial teacher (`rt`).
    Rt,
    /// A student teacher on placement (`stagiaire`).
    Stagiaire,
    /// A supply teacher (`invalkracht`).
    Invalkracht,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: [Self; 7] = [
        Self::Leerling,
        Self::Leerkracht,
        Self::IctCoordinator,
        Self::Ib,
        Self::Rt,
        Self::Stagiaire,
        Self::Invalkracht,
    ];

    /// The wire name, e.g. `ict-coordinator`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Leerling => "leerling",
            Self::Leerkracht => "leerkracht",
            Self::IctCoordinator => "ict-coordinator",
            Self::Ib => "ib",
            Self::Rt => "rt",
            Self::Stagiaire => "stagiaire",
            Self::Invalkracht => "invalkracht",
        }
    }

    /// Whether this is a pupil ([`Role::Leerling`]).
    #[must_use]
    pub const fn is_pupil(self) -> bool {
        matches!(self, Self::Leerling)
    }

    /// Whether this is a member of staff: every role except [`Role::Leerling`], including
    /// student and supply teachers.
    #[must_use]
    pub const fn is_staff(self) -> bool {
        !self.is_pupil()
    }

    /// The eduPerson-style affiliation: `student` for a pupil, `employee` for staff.
    #[must_use]
    pub const fn affiliation(self) -> &'static str {
        if self.is_pupil() {
            "student"
        } else {
            "employee"
        }
    }
}

impl FromStr for Role {
    type Err = ClaimsError;

    /// Accepts exactly the wire names (lowercase).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| ClaimsError::UnknownRole { input: shown(s) })
    }
}

impl TryFrom<String> for Role {
    type Error = ClaimsError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Role> for &'static str {
    fn from(r: Role) -> Self {
        r.as_str()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which users an application (relying party) is meant for. Wire names are in parentheses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum Audience {
    /// Pupil software (`leerling`): only pupils may log in.
    Leerling,
    /// Teacher software (`leerkracht`): every staff role, never pupils.
    Leerkracht,
    /// Software for both (`beide`): everybody.
    Beide,
}

impl Audience {
    /// Every audience, in declaration order.
    pub const ALL: [Self; 3] = [Self::Leerling, Self::Leerkracht, Self::Beide];

    /// The wire name, e.g. `beide`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Leerling => "leerling",
            Self::Leerkracht => "leerkracht",
            Self::Beide => "beide",
        }
    }

    /// Whether a user with `role` may log in to an application for this audience.
    #[must_use]
    pub const fn admits(&self, role: Role) -> bool {
        match self {
            Self::Leerling => role.is_pupil(),
            Self::Leerkracht => role.is_staff(),
            Self::Beide => true,
        }
    }
}

impl FromStr for Audience {
    type Err = ClaimsError;

    /// Accepts exactly the wire names (lowercase).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| ClaimsError::UnknownAudience { input: shown(s) })
    }
}

impl TryFrom<String> for Audience {
    type Error = ClaimsError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Audience> for &'static str {
    fn from(a: Audience) -> Self {
        a.as_str()
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a login takes place. Wire names are in parentheses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum LoginContext {
    /// At school (`school`).
    School,
    /// At home (`thuis`).
    Thuis,
    /// Through a school network or another federated route (`netwerk`).
    Netwerk,
}

impl LoginContext {
    /// Every login context, in declaration order.
    pub const ALL: [Self; 3] = [Self::School, Self::Thuis, Self::Netwerk];

    /// The wire name, e.g. `thuis`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::School => "school",
            Self::Thuis => "thuis",
            Self::Netwerk => "netwerk",
        }
    }
}

impl FromStr for LoginContext {
    type Err = ClaimsError;

    /// Accepts exactly the wire names (lowercase).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| ClaimsError::UnknownLoginContext { input: shown(s) })
    }
}

impl TryFrom<String> for LoginContext {
    type Error = ClaimsError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<LoginContext> for &'static str {
    fn from(c: LoginContext) -> Self {
        c.as_str()
    }
}

impl fmt::Display for LoginContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Dutch primary-school year group (groep), 1 to 8. Serialised as a JSON integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u8")]
pub struct Jaargroep(u8);

impl Jaargroep {
    /// Lowest year group.
    pub const MIN: u8 = 1;
    /// Highest year group.
    pub const MAX: u8 = 8;

    /// The year group `n`.
    ///
    /// # Errors
    /// [`ClaimsError::InvalidJaargroep`] unless `1 <= n <= 8`.
    pub fn new(n: u8) -> Result<Self, ClaimsError> {
        if (Self::MIN..=Self::MAX).contains(&n) {
            Ok(Self(n))
        } else {
            Err(ClaimsError::InvalidJaargroep {
                input: n.to_string(),
            })
        }
    }

    /// The number, 1 to 8.
    #[must_use]
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl FromStr for Jaargroep {
    type Err = ClaimsError;

    /// Accepts `1` to `8`, optionally preceded by `groep` in any case (`groep 3`, `Groep 3`,
    /// `groep3`). Surrounding whitespace is ignored. Combined groups such as `1/2` and
    /// leading zeros are refused.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || ClaimsError::InvalidJaargroep { input: shown(s) };
        let trimmed = s.trim();
        let number = match trimmed.get(..5) {
            Some(prefix) if prefix.eq_ignore_ascii_case("groep") => {
                trimmed.get(5..).unwrap_or_default().trim_start()
            }
            _ => trimmed,
        };
        match number.as_bytes() {
            [d @ b'1'..=b'8'] => Ok(Self(d - b'0')),
            _ => Err(invalid()),
        }
    }
}

impl TryFrom<i64> for Jaargroep {
    type Error = ClaimsError;

    fn try_from(n: i64) -> Result<Self, Self::Error> {
        u8::try_from(n)
            .ok()
            .and_then(|n| Self::new(n).ok())
            .ok_or_else(|| ClaimsError::InvalidJaargroep {
                input: n.to_string(),
            })
    }
}

impl TryFrom<u8> for Jaargroep {
    type Error = ClaimsError;

    fn try_from(n: u8) -> Result<Self, Self::Error> {
        Self::new(n)
    }
}

impl From<Jaargroep> for u8 {
    fn from(j: Jaargroep) -> Self {
        j.0
    }
}

impl fmt::Display for Jaargroep {
    /// Just the number, e.g. `3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn role_wire_names() {
        let expected = [
            (Role::Leerling, "leerling"),
            (Role::Leerkracht, "leerkracht"),
            (Role::IctCoordinator, "ict-coordinator"),
            (Role::Ib, "ib"),
            (Role::Rt, "rt"),
            (Role::Stagiaire, "stagiaire"),
            (Role::Invalkracht, "invalkracht"),
        ];
        for (role, name) in expected {
            assert_eq!(role.to_string(), name);
            assert_eq!(name.parse::<Role>().unwrap(), role);
            assert_eq!(serde_json::to_string(&role).unwrap(), format!("\"{name}\""));
            assert_eq!(
                serde_json::from_str::<Role>(&format!("\"{name}\"")).unwrap(),
                role
            );
        }
        assert_eq!(Role::ALL.len(), expected.len());
    }

    #[test]
    fn role_rejects_unknown_names() {
        for bad in [
            "",
            "Leerling",
            "LEERKRACHT",
            "ict_coordinator",
            "IctCoordinator",
            "teacher",
            " ib",
        ] {
            assert_eq!(
                bad.parse::<Role>(),
                Err(ClaimsError::UnknownRole { input: shown(bad) }),
                "{bad:?}"
            );
        }
        let msg = "teacher".parse::<Role>().unwrap_err().to_string();
        for r in Role::ALL {
            assert!(msg.contains(r.as_str()), "{msg}");
        }
        assert!(serde_json::from_str::<Role>("\"teacher\"").is_err());
    }

    #[test]
    fn role_classification() {
        assert!(Role::Leerling.is_pupil());
        assert!(!Role::Leerling.is_staff());
        assert_eq!(Role::Leerling.affiliation(), "student");
        for r in Role::ALL.into_iter().filter(|r| *r != Role::Leerling) {
            assert!(r.is_staff(), "{r}");
            assert!(!r.is_pupil(), "{r}");
            assert_eq!(r.affiliation(), "employee");
        }
    }

    #[test]
    fn audience_admits() {
        for r in Role::ALL {
            assert_eq!(Audience::Leerling.admits(r), r == Role::Leerling, "{r}");
            assert_eq!(Audience::Leerkracht.admits(r), r != Role::Leerling, "{r}");
            assert!(Audience::Beide.admits(r), "{r}");
        }
    }

    #[test]
    fn audience_wire_names() {
        for (a, name) in [
            (Audience::Leerling, "leerling"),
            (Audience::Leerkracht, "leerkracht"),
            (Audience::Beide, "beide"),
        ] {
            assert_eq!(a.to_string(), name);
            assert_eq!(name.parse::<Audience>().unwrap(), a);
            assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{name}\""));
            assert_eq!(
                serde_json::from_str::<Audience>(&format!("\"{name}\"")).unwrap(),
                a
            );
        }
        for bad in ["", "both", "Beide", "leerlingen"] {
            assert_eq!(
                bad.parse::<Audience>(),
                Err(ClaimsError::UnknownAudience { input: shown(bad) })
            );
        }
    }

    #[test]
    fn login_context_wire_names() {
        for (c, name) in [
            (LoginContext::School, "school"),
            (LoginContext::Thuis, "thuis"),
            (LoginContext::Netwerk, "netwerk"),
        ] {
            assert_eq!(c.to_string(), name);
            assert_eq!(name.parse::<LoginContext>().unwrap(), c);
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{name}\""));
            assert_eq!(
                serde_json::from_str::<LoginContext>(&format!("\"{name}\"")).unwrap(),
                c
            );
        }
        for bad in ["", "home", "School", "network"] {
            assert_eq!(
                bad.parse::<LoginContext>(),
                Err(ClaimsError::UnknownLoginContext { input: shown(bad) })
            );
        }
    }

    #[test]
    fn jaargroep_accepts() {
        for (input, n) in [
            ("1", 1),
            ("8", 8),
            ("groep 3", 3),
            ("Groep 3", 3),
            ("GROEP 7", 7),
            ("groep3", 3),
            (" groep  5 ", 5),
            ("4\n", 4),
        ] {
            assert_eq!(input.parse::<Jaargroep>().unwrap().get(), n, "{input:?}");
        }
        assert_eq!(Jaargroep::new(5).unwrap().to_string(), "5");
        assert_eq!(u8::from(Jaargroep::new(6).unwrap()), 6);
    }

    #[test]
    fn jaargroep_rejects() {
        for bad in [
            "",
            "0",
            "9",
            "10",
            "01",
            "groep",
            "groep 0",
            "groep 9",
            "groep 1/2",
            "1-2",
            "drie",
            "groepen 3",
            "gr 3",
            "3e",
            "-1",
            "+3",
            "groep groep 3",
            "groe",
            "grøep 3",
            "３",
        ] {
            assert_eq!(
                bad.parse::<Jaargroep>(),
                Err(ClaimsError::InvalidJaargroep { input: shown(bad) }),
                "{bad:?}"
            );
        }
        for n in [0u8, 9, 255] {
            assert_eq!(
                Jaargroep::new(n),
                Err(ClaimsError::InvalidJaargroep {
                    input: n.to_string()
                })
            );
        }
        assert_eq!(
            Jaargroep::try_from(-1i64),
            Err(ClaimsError::InvalidJaargroep { input: "-1".into() })
        );
        assert_eq!(
            Jaargroep::try_from(300i64),
            Err(ClaimsError::InvalidJaargroep {
                input: "300".into()
            })
        );
    }

    #[test]
    fn jaargroep_serde_is_an_integer() {
        let j = Jaargroep::new(3).unwrap();
        assert_eq!(serde_json::to_string(&j).unwrap(), "3");
        assert_eq!(serde_json::from_str::<Jaargroep>("3").unwrap(), j);
        for bad in ["0", "9", "-1", "300", "\"3\"", "3.0", "null"] {
            assert!(serde_json::from_str::<Jaargroep>(bad).is_err(), "{bad}");
        }
        let msg = serde_json::from_str::<Jaargroep>("9")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("1 to 8"), "{msg}");
    }

    proptest! {
        #[test]
        fn prop_jaargroep_range(n in any::<u8>()) {
            prop_assert_eq!(Jaargroep::new(n).is_ok(), (1..=8).contains(&n));
            prop_assert_eq!(n.to_string().parse::<Jaargroep>().is_ok(), (1..=8).contains(&n));
            if let Ok(j) = Jaargroep::new(n) {
                prop_assert_eq!(j.to_string().parse::<Jaargroep>().unwrap(), j);
                prop_assert_eq!(format!("groep {j}").parse::<Jaargroep>().unwrap(), j);
                let json = serde_json::to_string(&j).unwrap();
                prop_assert_eq!(serde_json::from_str::<Jaargroep>(&json).unwrap(), j);
            }
        }

        #[test]
        fn prop_role_parse_is_exact(s in "[a-z-]{0,16}") {
            let known = Role::ALL.iter().any(|r| r.as_str() == s);
            prop_assert_eq!(s.parse::<Role>().is_ok(), known);
        }
    }
}
