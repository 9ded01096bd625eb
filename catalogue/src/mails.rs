//! The mails Leerpoort sends, in one language: subjects and intros as fields, the whole bodies
//! as methods that take their parameters by name.

use crate::fill::fill;

/// The mails Leerpoort sends, in one language. The bodies are patterns private to the crate;
/// their methods fill them in.
#[derive(Debug)]
pub struct MailTexts {
    pub staff_activation_subject: &'static str,
    pub staff_activation_intro: &'static str,
    pub staff_reset_subject: &'static str,
    pub staff_reset_intro: &'static str,
    /// The whole staff mail around the intro: `{name}`, `{intro}`, `{link}`.
    pub(crate) staff_body: &'static str,
    pub home_activation_subject: &'static str,
    pub home_activation_intro: &'static str,
    pub home_activation_valid: &'static str,
    pub home_reset_subject: &'static str,
    pub home_reset_intro: &'static str,
    pub home_reset_valid: &'static str,
    /// The whole home-account mail around the intro: `{intro}`, `{link}`, `{valid}`, `{issuer}`.
    pub(crate) home_body: &'static str,
    /// A substitute's sign-in link.
    pub substitute_subject: &'static str,
    /// `{name}`, `{group}`, `{school}`, `{until}`, `{link}`.
    pub(crate) substitute_body: &'static str,
    /// To the operator: a school asks to close its account.
    pub closing_subject: &'static str,
    /// `{school}`, `{brin6}`, `{instelling_ref}`, `{by}`.
    pub(crate) closing_body: &'static str,
}

impl MailTexts {
    /// The whole staff mail (activation or reset) around its `intro`, to `name` with `link`.
    pub fn staff_body(&self, name: &str, intro: &str, link: &str) -> String {
        fill(
            self.staff_body,
            &[("intro", intro), ("link", link), ("name", name)],
        )
    }

    /// A substitute's mail: who, which group at which school, until when, and the link.
    pub fn substitute_body(
        &self,
        name: &str,
        group: &str,
        school: &str,
        until: &str,
        link: &str,
    ) -> String {
        fill(
            self.substitute_body,
            &[
                ("name", name),
                ("group", group),
                ("school", school),
                ("until", until),
                ("link", link),
            ],
        )
    }

    /// The operator's mail about a school that asks to close its account.
    pub fn closing_body(
        &self,
        school: &str,
        brin6: &str,
        instelling_ref: &str,
        by: &str,
    ) -> String {
        fill(
            self.closing_body,
            &[
                ("school", school),
                ("brin6", brin6),
                ("instelling_ref", instelling_ref),
                ("by", by),
            ],
        )
    }

    /// The whole home-account mail around its `intro`, with the link's `valid`ity, the `link`
    /// and the `issuer` whose `/thuis` the parent signs in at.
    pub fn home_body(&self, intro: &str, valid: &str, link: &str, issuer: &str) -> String {
        fill(
            self.home_body,
            &[
                ("intro", intro),
                ("valid", valid),
                ("link", link),
                ("issuer", issuer),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::Locale;

    #[test]
    fn mails_have_their_placeholders_in_both_languages() {
        for l in [Locale::Nl, Locale::En] {
            let m = l.mails();
            for p in ["{name}", "{intro}", "{link}"] {
                assert!(m.staff_body.contains(p), "{l:?} staff mail lacks {p}");
            }
            for p in ["{intro}", "{link}", "{valid}", "{issuer}"] {
                assert!(m.home_body.contains(p), "{l:?} home mail lacks {p}");
            }
            for text in [
                m.staff_activation_intro,
                m.staff_reset_intro,
                m.home_activation_intro,
                m.home_reset_intro,
            ] {
                assert!(!text.contains('{'), "{l:?}: {text}");
            }
        }
    }

    #[test]
    fn bodies_filled_in() {
        let m = Locale::Nl.mails();
        let staff = m.staff_body("Anna", m.staff_activation_intro, "https://idp/x");
        assert!(staff.starts_with("Beste Anna,\n\nEr is een Leerpoort-account"));
        assert!(staff.contains("\n\nhttps://idp/x\n\n"));
        let home = m.home_body(
            m.home_reset_intro,
            m.home_reset_valid,
            "https://idp/y",
            "https://idp",
        );
        assert!(home.contains("\n\nhttps://idp/y\n\nDe link werkt 24 uur en één keer. Kies"));
        assert!(home.contains("via https://idp/thuis:"));
        for body in [staff, home] {
            assert!(!body.contains('{'), "{body}");
        }
    }
}
