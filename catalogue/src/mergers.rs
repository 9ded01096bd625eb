//! The words of a merger (fusie) on the ICT coordinator's consent page: taking over the
//! consents the merged school gave ("Toestemming van de gefuseerde school overnemen").

use crate::fill::fill;

/// The merger texts in one language; [`crate::Texts::mergers`] gives them.
#[derive(Debug)]
pub struct MergerTexts {
    pub offer_title: &'static str,
    pub(crate) offer_intro: &'static str,
    pub offer_parties: &'static str,
    pub offer_networks: &'static str,
    pub offer_button: &'static str,
    pub(crate) offer_done: &'static str,
}

impl MergerTexts {
    /// What taking over the merged school `school`'s consents means.
    pub fn offer_intro(&self, school: &str) -> String {
        fill(self.offer_intro, &[("school", school)])
    }

    /// "The consent of {school} has been taken over."
    pub fn offer_done(&self, school: &str) -> String {
        fill(self.offer_done, &[("school", school)])
    }
}

pub static MERGERS_NL: MergerTexts = MergerTexts {
    offer_title: "Toestemming van de gefuseerde school overnemen",
    offer_intro: "{school} is gefuseerd met uw school: de leerlingen en leerkrachten van die school horen nu bij uw school. {school} had toestemming gegeven aan uitgeverijen en/of netwerkaanbieders die hieronder staan en die uw school (nog) niet heeft aangevinkt. Neemt u die toestemming over, dan mogen zij vanaf dan de school-, groeps- en leerling-gegevens van uw school ontvangen, zoals {school} dat had ingesteld. Zolang u dat niet doet, krijgen zij via Leerpoort niets.",
    offer_parties: "Uitgeverijen en netwerkaanbieders",
    offer_networks: "Netwerkomgevingen waarmee leerlingen en leerkrachten inloggen",
    offer_button: "Toestemming overnemen",
    offer_done: "De toestemming van {school} is overgenomen.",
};

pub static MERGERS_EN: MergerTexts = MergerTexts {
    offer_title: "Take over the consent of the merged school",
    offer_intro: "{school} has merged with your school: its pupils and teachers now belong to your school. {school} had given consent to the publishers and/or network providers listed below, which your school has not ticked (yet). If you take that consent over, from then on they may receive your school's school, group and pupil data, as {school} had set it. As long as you do not, they receive nothing through Leerpoort.",
    offer_parties: "Publishers and network providers",
    offer_networks: "Network environments pupils and teachers sign in with",
    offer_button: "Take consent over",
    offer_done: "The consent of {school} has been taken over.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_school_is_named_in_every_language() {
        for t in [&MERGERS_NL, &MERGERS_EN] {
            for text in [t.offer_intro("«S»"), t.offer_done("«S»")] {
                assert!(text.contains("«S»") && !text.contains('{'), "{text}");
            }
        }
        assert_eq!(
            MERGERS_NL.offer_done("OBS De Linde"),
            "De toestemming van OBS De Linde is overgenomen."
        );
    }
}
