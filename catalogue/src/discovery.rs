//! The words of school discovery ("Kies je school", `/scholen`) for pupils and teachers who did
//! not come through their school's shortcut, and the reference a refusal page shows (the error
//! code and the request's kenmerk a helpdesk asks for).

use crate::fill::fill;

/// School discovery in one language; [`crate::Texts::discovery`] gives them.
#[derive(Debug)]
pub struct DiscoveryTexts {
    pub title: &'static str,
    pub intro: &'static str,
    pub search_label: &'static str,
    pub search_button: &'static str,
    pub too_short: &'static str,
    pub(crate) none_found: &'static str,
    pub results_label: &'static str,
    pub choose_hint: &'static str,
    pub more_results: &'static str,
    pub(crate) formerly: &'static str,
    pub(crate) continue_at: &'static str,
    pub(crate) remembered: &'static str,
    pub other_school: &'static str,
    pub forget: &'static str,
    pub throttled: &'static str,
    /// On the sign-in form: the way in for pupils.
    pub pupil_intro: &'static str,
    pub choose_school: &'static str,
    /// On the sign-in form: the staff form's heading when pupils are offered their way too.
    pub staff_heading: &'static str,
    /// A refusal page: the error code's label, the kenmerk's label, what to do with them.
    pub code_label: &'static str,
    pub reference_label: &'static str,
    pub reference_help: &'static str,
}

impl DiscoveryTexts {
    /// "No school found for ‘{query}’. ..."
    pub fn none_found(&self, query: &str) -> String {
        fill(self.none_found, &[("query", query)])
    }

    /// "formerly {name}": a school that merged into the one listed.
    pub fn formerly(&self, name: &str) -> String {
        fill(self.formerly, &[("name", name)])
    }

    /// "Continue at {school}".
    pub fn continue_at(&self, school: &str) -> String {
        fill(self.continue_at, &[("school", school)])
    }

    /// "This device remembers your school: {school}."
    pub fn remembered(&self, school: &str) -> String {
        fill(self.remembered, &[("school", school)])
    }
}

pub static DISCOVERY_NL: DiscoveryTexts = DiscoveryTexts {
    title: "Kies je school",
    intro: "Zoek je school op de naam of op de plaats. Dit apparaat onthoudt daarna je keuze.",
    search_label: "Naam of plaats van je school",
    search_button: "Zoeken",
    too_short: "Typ minstens 2 letters van de naam of de plaats van je school.",
    none_found: "Er is geen school gevonden bij ‘{query}’. Controleer de spelling, of zoek op de plaats van je school.",
    results_label: "Gevonden scholen",
    choose_hint: "Klik op je school.",
    more_results: "Er zijn meer scholen gevonden dan hier staan. Typ meer van de naam, of zet de plaats erbij.",
    formerly: "voorheen {name}",
    continue_at: "Verder bij {school}",
    remembered: "Dit apparaat onthoudt je school: {school}.",
    other_school: "Andere school kiezen",
    forget: "Deze school vergeten",
    throttled: "Er is vanaf dit netwerk heel vaak gezocht. Wacht een minuut en probeer het dan opnieuw.",
    pupil_intro: "Ben je een leerling? Kies je school, dan je groep en je naam, en typ je geheime code.",
    choose_school: "Kies je school",
    staff_heading: "Leerkracht of medewerker",
    code_label: "Foutcode",
    reference_label: "Kenmerk",
    reference_help: "Neem je contact op met de helpdesk van de software of met de ICT-coördinator? Geef dan de foutcode en het kenmerk door.",
};

pub static DISCOVERY_EN: DiscoveryTexts = DiscoveryTexts {
    title: "Choose your school",
    intro: "Search for your school by name or by place. This device then remembers your choice.",
    search_label: "Name or place of your school",
    search_button: "Search",
    too_short: "Type at least 2 letters of your school's name or place.",
    none_found: "No school was found for ‘{query}’. Check the spelling, or search for your school's place.",
    results_label: "Schools found",
    choose_hint: "Click your school.",
    more_results: "More schools were found than are shown here. Type more of the name, or add the place.",
    formerly: "formerly {name}",
    continue_at: "Continue at {school}",
    remembered: "This device remembers your school: {school}.",
    other_school: "Choose another school",
    forget: "Forget this school",
    throttled: "There have been very many searches from this network. Wait a minute and try again.",
    pupil_intro: "Are you a pupil? Choose your school, then your group and your name, and type your secret code.",
    choose_school: "Choose your school",
    staff_heading: "Teacher or staff member",
    code_label: "Error code",
    reference_label: "Reference",
    reference_help: "Contacting the software's helpdesk or your ICT coordinator? Give them the error code and the reference.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parameters_are_filled_in_in_every_language() {
        for t in [&DISCOVERY_NL, &DISCOVERY_EN] {
            for text in [
                t.none_found("«Q»"),
                t.formerly("«Q»"),
                t.continue_at("«Q»"),
                t.remembered("«Q»"),
            ] {
                assert!(text.contains("«Q»") && !text.contains('{'), "{text}");
            }
        }
        assert_eq!(
            DISCOVERY_NL.continue_at("Basisschool De Regenboog"),
            "Verder bij Basisschool De Regenboog"
        );
    }
}
