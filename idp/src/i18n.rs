//! Every string the interface shows, in one catalogue: Dutch (the default) and English,
//! chosen by `ui_locales` or the browser's `Accept-Language`.

/// A supported interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    Nl,
    En,
}

impl Locale {
    /// The first supported language in `ui_locales` (space-separated) or `Accept-Language`
    /// (comma-separated, quality values ignored except order); Dutch otherwise.
    pub fn negotiate(ui_locales: Option<&str>, accept_language: Option<&str>) -> Locale {
        let pick = |tag: &str| {
            let primary = tag
                .trim()
                .split([';', '-', '_'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            match primary.as_str() {
                "nl" => Some(Locale::Nl),
                "en" => Some(Locale::En),
                _ => None,
            }
        };
        ui_locales
            .and_then(|u| u.split_ascii_whitespace().find_map(pick))
            .or_else(|| accept_language.and_then(|a| a.split(',').find_map(pick)))
            .unwrap_or_default()
    }

    pub fn tag(self) -> &'static str {
        match self {
            Locale::Nl => "nl",
            Locale::En => "en",
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Locale::Nl => &NL,
            Locale::En => &EN,
        }
    }
}

/// The catalogue.
#[derive(Debug)]
pub struct Texts {
    pub staff_login_title: &'static str,
    pub staff_login_intro: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub sign_in: &'static str,
    pub wrong_credentials: &'static str,
    pub throttled: &'static str,
    pub unavailable: &'static str,
    pub page_expired_title: &'static str,
    pub page_expired: &'static str,
    pub signed_out_title: &'static str,
    pub signed_out: &'static str,
    pub sign_in_again: &'static str,
    pub sign_out: &'static str,
    pub hello: &'static str,
    pub signed_in_at: &'static str,
    pub no_software: &'static str,
    pub ask_coordinator: &'static str,
    pub software_off_title: &'static str,
    pub software_off_hint: &'static str,
    pub back_to_software: &'static str,
    pub unknown_software_title: &'static str,
    pub invalid_request_title: &'static str,
    pub wrong_shortcut_title: &'static str,
    pub wrong_shortcut: &'static str,
    pub not_enabled_title: &'static str,
    pub not_enabled: &'static str,
    pub pick_group: &'static str,
    pub pick_name: &'static str,
    pub type_pin: &'static str,
    pub pin_label: &'static str,
    pub go: &'static str,
    pub wrong_pin: &'static str,
    pub pupil_locked: &'static str,
    pub i_am_teacher: &'static str,
    pub i_am_pupil: &'static str,
    pub other_group: &'static str,
    pub not_you: &'static str,
    pub outside_network_title: &'static str,
    pub outside_network: &'static str,
    pub home_entrance: &'static str,
    pub enrol_device: &'static str,
    pub device_enrolled: &'static str,
    pub takeover_title: &'static str,
    pub takeover: &'static str,
    pub notice_label: &'static str,
    pub skip_to_content: &'static str,
    pub shortcuts_title: &'static str,
    pub shortcuts_intro: &'static str,
    pub for_pupils: &'static str,
    pub for_teachers: &'static str,
    pub forgot_title: &'static str,
    pub forgot_intro: &'static str,
    pub forgot_sent: &'static str,
    pub send_link: &'static str,
    pub forgot_link: &'static str,
    pub new_password_title: &'static str,
    pub new_password: &'static str,
    pub repeat_password: &'static str,
    pub password_rules: &'static str,
    pub save_password: &'static str,
    pub password_saved: &'static str,
    pub link_expired: &'static str,
    pub passwords_differ: &'static str,
    pub password_weak: &'static str,
    pub challenge_needed: &'static str,
    pub challenge_working: &'static str,
    pub saml_redirecting: &'static str,
    pub saml_continue: &'static str,
}

pub static NL: Texts = Texts {
    staff_login_title: "Inloggen",
    staff_login_intro: "Log in met je e-mailadres en wachtwoord. Dit is hetzelfde op school en thuis.",
    email: "E-mailadres",
    password: "Wachtwoord",
    sign_in: "Inloggen",
    wrong_credentials: "Het e-mailadres of het wachtwoord klopt niet.",
    throttled: "Te veel mislukte pogingen. Probeer het over een kwartier opnieuw.",
    unavailable: "Inloggen lukt nu even niet. Probeer het over een paar minuten opnieuw.",
    page_expired_title: "Pagina verlopen",
    page_expired: "Deze pagina is verlopen. Ga terug en probeer het opnieuw.",
    signed_out_title: "Uitgelogd",
    signed_out: "Je bent uitgelogd bij Leerpoort.",
    sign_in_again: "Opnieuw inloggen",
    sign_out: "Uitloggen",
    hello: "Hallo",
    signed_in_at: "Je bent ingelogd bij",
    no_software: "Je school heeft nog geen software voor je klaargezet.",
    ask_coordinator: "Vraag de ICT-coördinator van je school of de leverancier van de software om hulp.",
    software_off_title: "Deze software staat niet aan",
    software_off_hint: "De ICT-coördinator van je school kan dit aanzetten bij ‘Toestemming uitwisseling schooldata’.",
    back_to_software: "Terug naar de software",
    unknown_software_title: "Onbekende software",
    invalid_request_title: "Ongeldige aanvraag",
    wrong_shortcut_title: "Deze snelkoppeling klopt niet",
    wrong_shortcut: "Deze snelkoppeling hoort niet bij een school die Leerpoort kent. Vraag de ICT-coördinator van je school om de juiste snelkoppeling.",
    not_enabled_title: "Deze software staat niet aan",
    not_enabled: "Je school heeft deze software (nog) niet aangezet in Leerpoort. Vraag de ICT-coördinator van je school om hulp.",
    pick_group: "Kies je groep",
    pick_name: "Kies je naam",
    type_pin: "Typ je geheime code",
    pin_label: "Geheime code (4 cijfers)",
    go: "Verder",
    wrong_pin: "Die code klopt niet. Probeer het nog een keer.",
    pupil_locked: "Je kunt even niet inloggen. Vraag je juf of meester om hulp.",
    i_am_teacher: "Ik ben een leerkracht",
    i_am_pupil: "Ik ben een leerling",
    other_group: "Andere groep",
    not_you: "Ben jij dit niet? Kies een andere naam",
    outside_network_title: "Thuis inloggen?",
    outside_network: "Leerlingen loggen hier alleen op school in. Thuis gebruik je de thuisingang.",
    home_entrance: "Naar de thuisingang",
    enrol_device: "Dit apparaat koppelen aan de school",
    device_enrolled: "Dit apparaat is nu gekoppeld aan de school. Leerlingen kunnen er ook buiten het schoolnetwerk mee inloggen.",
    takeover_title: "Potentiële sessie-overname",
    takeover: "Je bent ingelogd op een ander netwerk dan waar je nu bent. Log voor de zekerheid opnieuw in.",
    notice_label: "Let op",
    skip_to_content: "Naar de inhoud",
    shortcuts_title: "Snelkoppelingen",
    shortcuts_intro: "Zet deze snelkoppelingen op het bureaublad van de computers op school, of geef de link aan je beheertool voor iPads en Chromebooks. De QR-code kun je scannen met een tablet.",
    for_pupils: "Voor leerlingen",
    for_teachers: "Voor leerkrachten",
    forgot_title: "Wachtwoord vergeten",
    forgot_intro: "Vul het e-mailadres in waarmee je inlogt. Je krijgt een e-mail met een link om een nieuw wachtwoord te kiezen.",
    forgot_sent: "Als dit e-mailadres bij Leerpoort bekend is, is er nu een e-mail met een link onderweg. Kijk ook in je map met ongewenste e-mail. Je kunt één keer per kwartier een nieuwe link aanvragen.",
    send_link: "Stuur de link",
    forgot_link: "Wachtwoord vergeten?",
    new_password_title: "Kies een wachtwoord",
    new_password: "Nieuw wachtwoord",
    repeat_password: "Herhaal het wachtwoord",
    password_rules: "8 tot 20 tekens, met minstens één letter en één cijfer. Een zin van een paar woorden met een cijfer is sterk en goed te onthouden.",
    save_password: "Wachtwoord opslaan",
    password_saved: "Je wachtwoord is opgeslagen. Je kunt nu inloggen.",
    link_expired: "Deze link werkt niet meer: hij is verlopen of al gebruikt. Vraag een nieuwe link aan.",
    passwords_differ: "De twee wachtwoorden zijn niet hetzelfde.",
    password_weak: "Dit wachtwoord voldoet niet: 8 tot 20 tekens, met minstens één letter en één cijfer.",
    challenge_needed: "Er is een paar keer verkeerd ingelogd vanaf dit netwerk. Wacht tot de knop weer werkt en probeer het opnieuw.",
    challenge_working: "Na een paar mislukte pogingen doet je browser eerst een korte rekencontrole (geen gegevens gaan naar anderen). Daarvoor is JavaScript nodig.",
    saml_redirecting: "Je gaat nu naar de software. Gebeurt er niets? Klik dan op Doorgaan.",
    saml_continue: "Doorgaan",
};

pub static EN: Texts = Texts {
    staff_login_title: "Sign in",
    staff_login_intro: "Sign in with your e-mail address and password. It is the same at school and at home.",
    email: "E-mail address",
    password: "Password",
    sign_in: "Sign in",
    wrong_credentials: "The e-mail address or the password is not right.",
    throttled: "Too many failed attempts. Try again in a quarter of an hour.",
    unavailable: "Signing in is not possible right now. Try again in a few minutes.",
    page_expired_title: "Page expired",
    page_expired: "This page has expired. Go back and try again.",
    signed_out_title: "Signed out",
    signed_out: "You have signed out of Leerpoort.",
    sign_in_again: "Sign in again",
    sign_out: "Sign out",
    hello: "Hello",
    signed_in_at: "You are signed in at",
    no_software: "Your school has not set up any software for you yet.",
    ask_coordinator: "Ask your school's ICT coordinator or the software's supplier for help.",
    software_off_title: "This software is not enabled",
    software_off_hint: "Your school's ICT coordinator can enable it under ‘Consent to exchange school data’.",
    back_to_software: "Back to the software",
    unknown_software_title: "Unknown software",
    invalid_request_title: "Invalid request",
    wrong_shortcut_title: "This shortcut is not right",
    wrong_shortcut: "This shortcut does not belong to a school Leerpoort knows. Ask your school's ICT coordinator for the right shortcut.",
    not_enabled_title: "This software is not enabled",
    not_enabled: "Your school has not (yet) enabled this software in Leerpoort. Ask your school's ICT coordinator for help.",
    pick_group: "Choose your group",
    pick_name: "Choose your name",
    type_pin: "Type your secret code",
    pin_label: "Secret code (4 digits)",
    go: "Continue",
    wrong_pin: "That code is not right. Try again.",
    pupil_locked: "You cannot sign in right now. Ask your teacher for help.",
    i_am_teacher: "I am a teacher",
    i_am_pupil: "I am a pupil",
    other_group: "Other group",
    not_you: "Not you? Choose another name",
    outside_network_title: "Signing in at home?",
    outside_network: "Pupils sign in here only at school. At home, use the home entrance.",
    home_entrance: "To the home entrance",
    enrol_device: "Link this device to the school",
    device_enrolled: "This device is now linked to the school. Pupils can sign in on it outside the school network too.",
    takeover_title: "Possible session takeover",
    takeover: "You signed in on another network than the one you are on now. To be safe, sign in again.",
    notice_label: "Notice",
    skip_to_content: "Skip to content",
    shortcuts_title: "Shortcuts",
    shortcuts_intro: "Put these shortcuts on the desktops of the school's computers, or give the link to the management tool of your iPads and Chromebooks. Tablets can scan the QR code.",
    for_pupils: "For pupils",
    for_teachers: "For teachers",
    forgot_title: "Forgotten password",
    forgot_intro: "Enter the e-mail address you sign in with. You will receive an e-mail with a link to choose a new password.",
    forgot_sent: "If Leerpoort knows this e-mail address, an e-mail with a link is on its way. Check your junk mail folder too. You can ask for a new link once every quarter of an hour.",
    send_link: "Send the link",
    forgot_link: "Forgotten your password?",
    new_password_title: "Choose a password",
    new_password: "New password",
    repeat_password: "Repeat the password",
    password_rules: "8 to 20 characters, with at least one letter and one digit. A sentence of a few words with a digit is strong and easy to remember.",
    save_password: "Save password",
    password_saved: "Your password is saved. You can sign in now.",
    link_expired: "This link no longer works: it has expired or was used already. Ask for a new link.",
    passwords_differ: "The two passwords are not the same.",
    password_weak: "This password does not meet the rules: 8 to 20 characters, with at least one letter and one digit.",
    challenge_needed: "There were several failed sign-ins from this network. Wait until the button works again and try once more.",
    challenge_working: "After a few failed attempts your browser first does a short calculation (nothing is sent to anyone else). This needs JavaScript.",
    saml_redirecting: "You are going to the software now. Nothing happens? Then click Continue.",
    saml_continue: "Continue",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        assert_eq!(Locale::negotiate(None, None), Locale::Nl);
        assert_eq!(Locale::negotiate(Some("en-GB nl"), None), Locale::En);
        assert_eq!(
            Locale::negotiate(Some("fr"), Some("en-US,en;q=0.9")),
            Locale::En
        );
        assert_eq!(Locale::negotiate(None, Some("de-DE, nl;q=0.8")), Locale::Nl);
        assert_eq!(Locale::negotiate(Some("de"), Some("fr")), Locale::Nl);
    }
}
