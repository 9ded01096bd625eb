//! The words of levels (niveaus): a group or a pupil working with the software of a higher or
//! lower year group — the ICT coordinator's page in Beheer (`/beheer/niveaus`) and the
//! teacher's page of their own group (`/groepen/{group}/niveaus`).

use crate::fill::fill;

/// The levels texts in one language; [`crate::Texts::niveaus`] gives them.
#[derive(Debug)]
pub struct NiveauTexts {
    pub title: &'static str,
    /// What levels are (the help page's words).
    pub intro: &'static str,
    /// What the coordinator does on the page, and what the publisher does with it.
    pub how: &'static str,
    /// On the teacher's page: whose levels a teacher sets.
    pub teacher_intro: &'static str,
    pub col_group: &'static str,
    pub col_own: &'static str,
    pub col_levels: &'static str,
    pub col_pupil: &'static str,
    pub col_pupils: &'static str,
    pub col_actions: &'static str,
    /// A group without one year group (a combination group, a club).
    pub no_jaargroep: &'static str,
    /// No levels given.
    pub none: &'static str,
    pub save: &'static str,
    /// The link to a group's pupils, and the link on the group overview.
    pub pupils_link: &'static str,
    pub overview_link: &'static str,
    pub(crate) pupils_title: &'static str,
    pub pupils_intro: &'static str,
    pub no_pupils: &'static str,
    pub set_title: &'static str,
    pub set_none: &'static str,
    pub back: &'static str,
    pub(crate) level: &'static str,
    pub(crate) levels_of: &'static str,
    pub(crate) saved: &'static str,
    pub(crate) cleared: &'static str,
    /// Between the last two of a list ("3, 4 en 5").
    pub(crate) and: &'static str,
}

impl NiveauTexts {
    /// "Groep {n}": a year group, as a level's checkbox says it.
    pub fn level(&self, n: u8) -> String {
        fill(self.level, &[("n", &n.to_string())])
    }

    /// "Niveaus per leerling: {group}".
    pub fn pupils_title(&self, group: &str) -> String {
        fill(self.pupils_title, &[("group", group)])
    }

    /// "Extra niveaus voor {who}": the label of one holder's checkboxes.
    pub fn levels_of(&self, who: &str) -> String {
        fill(self.levels_of, &[("who", who)])
    }

    /// What a change did: `who` (a group or a pupil) has these levels now, or none.
    pub fn saved(&self, who: &str, levels: &[u8]) -> String {
        if levels.is_empty() {
            return fill(self.cleared, &[("who", who)]);
        }
        let mut list = String::new();
        for (i, n) in levels.iter().enumerate() {
            if i + 1 == levels.len() && i > 0 {
                list.push_str(self.and);
            } else if i > 0 {
                list.push_str(", ");
            }
            list.push_str(&n.to_string());
        }
        fill(self.saved, &[("who", who), ("levels", &list)])
    }
}

pub static NIVEAUS_NL: NiveauTexts = NiveauTexts {
    title: "Niveaus",
    intro: "Het is mogelijk om leerlingen uit een bepaalde groep te laten werken met de software voor een hogere of lagere groep. De ICT-coördinator van uw school heeft de bevoegdheid om meerdere niveaus van de oefensoftware aan een bepaalde groep of leerling toe te kennen.",
    how: "Vink bij een groep de niveaus aan die de groep erbij krijgt en kies Opslaan. Via Niveaus per leerling doet u hetzelfde voor één leerling; die niveaus gelden naast die van de groep. Uitgeverijen krijgen bij het inloggen de jaargroep van de groep en de extra niveaus door, zodat zij de software van die groepen openzetten. Per uitgeverij is deze toekenning verschillend ingeregeld: met vragen daarover kunt u rechtstreeks contact opnemen met de uitgeverij.",
    teacher_intro: "Het is mogelijk om leerlingen uit uw groep te laten werken met de software voor een hogere of lagere groep. U kent niveaus toe aan uw eigen groep en aan de leerlingen daarin; de ICT-coördinator van uw school kan dat voor alle groepen. Niveaus van een leerling gelden naast die van de groep.",
    col_group: "Groep",
    col_own: "Eigen jaargroep",
    col_levels: "Extra niveaus",
    col_pupil: "Leerling",
    col_pupils: "Leerlingen",
    col_actions: "Acties",
    no_jaargroep: "geen",
    none: "geen",
    save: "Opslaan",
    pupils_link: "Niveaus per leerling",
    overview_link: "Niveaus",
    pupils_title: "Niveaus per leerling: {group}",
    pupils_intro: "Vink bij een leerling de niveaus aan die hij of zij erbij krijgt en kies Opslaan.",
    no_pupils: "Deze groep heeft (nog) geen leerlingen.",
    set_title: "Leerlingen met eigen niveaus",
    set_none: "Er zijn (nog) geen leerlingen met eigen niveaus.",
    back: "Terug naar alle groepen",
    level: "Groep {n}",
    levels_of: "Extra niveaus voor {who}",
    saved: "{who} werkt nu ook met de software van groep {levels}.",
    cleared: "{who} heeft nu geen extra niveaus.",
    and: " en ",
};

pub static NIVEAUS_EN: NiveauTexts = NiveauTexts {
    title: "Levels",
    intro: "Pupils of a group can work with the software of a higher or lower year group. Your school's ICT coordinator may give a group or a pupil several levels of the practice software.",
    how: "Tick the levels a group gets in addition and choose Save. Levels per pupil does the same for one pupil; those levels come on top of the group's. Publishers receive the group's year group and the extra levels when someone signs in, and open the software of those year groups. Each publisher arranges this in its own way: ask the publisher directly about it.",
    teacher_intro: "Pupils of your group can work with the software of a higher or lower year group. You give levels to your own group and the pupils in it; your school's ICT coordinator can do so for every group. A pupil's levels come on top of the group's.",
    col_group: "Group",
    col_own: "Own year group",
    col_levels: "Extra levels",
    col_pupil: "Pupil",
    col_pupils: "Pupils",
    col_actions: "Actions",
    no_jaargroep: "none",
    none: "none",
    save: "Save",
    pupils_link: "Levels per pupil",
    overview_link: "Levels",
    pupils_title: "Levels per pupil: {group}",
    pupils_intro: "Tick the levels a pupil gets in addition and choose Save.",
    no_pupils: "This group has no pupils (yet).",
    set_title: "Pupils with levels of their own",
    set_none: "No pupil has levels of their own (yet).",
    back: "Back to all groups",
    level: "Year group {n}",
    levels_of: "Extra levels for {who}",
    saved: "{who} now also works with the software of year group {levels}.",
    cleared: "{who} has no extra levels now.",
    and: " and ",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_filled_in_every_language() {
        for t in [&NIVEAUS_NL, &NIVEAUS_EN] {
            for text in [
                t.level(3),
                t.pupils_title("«G»"),
                t.levels_of("«W»"),
                t.saved("«W»", &[3, 4]),
                t.saved("«W»", &[]),
            ] {
                assert!(!text.contains('{'), "{text}");
            }
        }
        assert_eq!(NIVEAUS_NL.level(3), "Groep 3");
        assert_eq!(
            NIVEAUS_NL.saved("Groep 3A", &[4, 5]),
            "Groep 3A werkt nu ook met de software van groep 4 en 5."
        );
        assert_eq!(
            NIVEAUS_NL.saved("Groep 3A", &[2, 4, 5]),
            "Groep 3A werkt nu ook met de software van groep 2, 4 en 5."
        );
        assert_eq!(
            NIVEAUS_EN.saved("Group 3A", &[4]),
            "Group 3A now also works with the software of year group 4."
        );
        assert_eq!(
            NIVEAUS_NL.saved("Emma de Jong", &[]),
            "Emma de Jong heeft nu geen extra niveaus."
        );
    }

    #[test]
    fn the_dutch_explanation_is_the_help_pages_sentence() {
        assert!(NIVEAUS_NL.intro.contains(
            "De ICT-coördinator van uw school heeft de bevoegdheid om meerdere niveaus van de oefensoftware aan een bepaalde groep of leerling toe te kennen."
        ));
    }
}
