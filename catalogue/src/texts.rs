//! The interface's texts in one language: plain texts as fields, texts with parameters as
//! methods that take the parameters by name and give the filled-in text.

use crate::fill::fill;

/// The catalogue: every text the interface shows, in one language. A field holding a pattern
/// with placeholders in braces is private to the crate; its method of the same name fills it in.
#[derive(Debug)]
pub struct Texts {
    /// The ICT coordinator's pages.
    pub beheer: &'static crate::beheer::BeheerTexts,
    /// A merger, on the consent page.
    pub mergers: &'static crate::mergers::MergerTexts,
    /// School discovery ("Kies je school") and the reference on refusal pages.
    pub discovery: &'static crate::discovery::DiscoveryTexts,
    /// Levels (niveaus): software of another year group for a group or a pupil.
    pub niveaus: &'static crate::niveaus::NiveauTexts,
    pub staff_login_title: &'static str,
    pub staff_login_intro: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub sign_in: &'static str,
    pub wrong_credentials: &'static str,
    pub throttled: &'static str,
    pub unavailable: &'static str,
    pub busy: &'static str,
    pub page_expired_title: &'static str,
    pub page_expired: &'static str,
    pub bad_request_title: &'static str,
    pub bad_request: &'static str,
    pub not_found_title: &'static str,
    pub not_found: &'static str,
    pub signed_out_title: &'static str,
    pub signed_out: &'static str,
    pub sign_in_again: &'static str,
    pub sign_out: &'static str,
    pub hello: &'static str,
    pub signed_in_at: &'static str,
    /// The start page's heading over the tiles.
    pub lesmateriaal: &'static str,
    /// On the tile of a publisher that has not answered (yet).
    pub tile_unavailable: &'static str,
    /// The link that loads the start page again.
    pub tiles_reload: &'static str,
    pub no_software: &'static str,
    pub ask_coordinator: &'static str,
    pub software_off_title: &'static str,
    pub software_off_hint: &'static str,
    pub(crate) software_off_for_you: &'static str,
    pub home_only_title: &'static str,
    pub home_only: &'static str,
    pub wrong_audience_title: &'static str,
    pub(crate) for_teachers_only: &'static str,
    pub(crate) for_pupils_only: &'static str,
    pub back_to_start: &'static str,
    pub request_missing_client: &'static str,
    pub request_unknown_client: &'static str,
    pub request_missing_redirect: &'static str,
    pub request_unregistered_redirect: &'static str,
    pub request_expired_title: &'static str,
    pub request_expired: &'static str,
    pub logout_confirm_title: &'static str,
    pub logout_confirm: &'static str,
    pub(crate) logout_confirm_from: &'static str,
    pub logout_stay: &'static str,
    pub logout_bad_hint: &'static str,
    pub logout_hint_mismatch: &'static str,
    pub logout_unregistered_redirect: &'static str,
    pub logout_invalid_redirect: &'static str,
    pub back_to_software: &'static str,
    pub unknown_software_title: &'static str,
    pub invalid_request_title: &'static str,
    pub wrong_shortcut_title: &'static str,
    pub wrong_shortcut: &'static str,
    pub school_closed_title: &'static str,
    pub school_closed: &'static str,
    pub not_enabled_title: &'static str,
    pub not_enabled: &'static str,
    pub pick_group: &'static str,
    pub pick_name: &'static str,
    pub type_pin: &'static str,
    pub pin_label: &'static str,
    pub go: &'static str,
    pub wrong_pin: &'static str,
    pub click_pictures: &'static str,
    /// The pattern, `{n}` still in it: the page's script fills it in as pictures are clicked;
    /// [`Texts::pictures_chosen`] fills it in on the server.
    pub pictures_chosen: &'static str,
    pub start_over: &'static str,
    pub pick_pictures_first: &'static str,
    pub wrong_pictures: &'static str,
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
    pub devices_title: &'static str,
    pub devices_intro: &'static str,
    pub devices_none: &'static str,
    pub device_name_label: &'static str,
    pub device_name_example: &'static str,
    pub device_name_needed: &'static str,
    pub device_col_name: &'static str,
    pub device_col_by: &'static str,
    pub device_col_at: &'static str,
    pub device_col_used: &'static str,
    pub device_never_used: &'static str,
    pub device_enroller_gone: &'static str,
    pub device_revoke: &'static str,
    pub(crate) device_revoked: &'static str,
    pub devices_full: &'static str,
    pub device_may_not_enrol: &'static str,
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
    pub password_too_short: &'static str,
    pub password_too_long: &'static str,
    pub password_advice_personal: &'static str,
    pub password_advice_dutch_word: &'static str,
    pub password_advice_common: &'static str,
    pub password_advice_word: &'static str,
    pub password_advice_pattern: &'static str,
    pub password_advice_dates: &'static str,
    pub password_advice_use_words: &'static str,
    pub strength_label: &'static str,
    pub strength_levels: [&'static str; 5],
    pub strength_ok: &'static str,
    pub totp_title: &'static str,
    pub totp_intro: &'static str,
    pub totp_code: &'static str,
    pub totp_wrong: &'static str,
    pub totp_expired: &'static str,
    pub totp_enrol_title: &'static str,
    pub totp_enrol_intro: &'static str,
    pub totp_enrol_required: &'static str,
    pub totp_secret: &'static str,
    pub totp_confirm: &'static str,
    pub totp_enrolled: &'static str,
    pub totp_already: &'static str,
    pub totp_coordinators_only: &'static str,
    pub challenge_needed: &'static str,
    pub challenge_working: &'static str,
    pub home_title: &'static str,
    pub home_intro: &'static str,
    pub home_password: &'static str,
    pub home_two_passwords: &'static str,
    pub home_pick_child: &'static str,
    pub home_child_explain: &'static str,
    pub(crate) home_blocked: &'static str,
    pub home_visit_over: &'static str,
    pub home_forgot_intro: &'static str,
    pub home_forgot_sent: &'static str,
    pub home_password_saved: &'static str,
    pub overview_title: &'static str,
    pub overview_no_groups: &'static str,
    pub overview_teachers: &'static str,
    pub overview_pupils_of: &'static str,
    pub overview_picture: &'static str,
    pub overview_pupil: &'static str,
    pub overview_sign_in: &'static str,
    pub overview_home: &'static str,
    pub overview_change: &'static str,
    pub overview_print: &'static str,
    pub sign_in_pin: &'static str,
    pub sign_in_pictures: &'static str,
    pub change_intro: &'static str,
    pub change_address: &'static str,
    pub change_save: &'static str,
    pub change_saved: &'static str,
    pub change_addresses: &'static str,
    pub change_activated: &'static str,
    pub change_not_activated: &'static str,
    pub change_resend: &'static str,
    pub change_resent: &'static str,
    pub change_unblock: &'static str,
    pub change_unblocked: &'static str,
    pub change_throttled: &'static str,
    pub change_invalid: &'static str,
    pub change_same: &'static str,
    pub secret_show: &'static str,
    pub secret_unknown: &'static str,
    pub secret_column: &'static str,
    pub code_title: &'static str,
    pub code_intro: &'static str,
    pub code_label: &'static str,
    pub code_wrong: &'static str,
    pub code_have: &'static str,
    pub home_parent_login: &'static str,
    pub letter_title: &'static str,
    pub letter_intro: &'static str,
    pub letter_step1: &'static str,
    pub letter_step2: &'static str,
    pub letter_step3: &'static str,
    pub letter_qr: &'static str,
    pub letter_after: &'static str,
    pub letter_keep: &'static str,
    pub letter_print_hint: &'static str,
    pub letters_link: &'static str,
    pub letter_link: &'static str,
    pub print_confirm: &'static str,
    pub letters_confirm: &'static str,
    pub code_renew: &'static str,
    pub code_renewed: &'static str,
    pub saml_redirecting: &'static str,
    pub saml_continue: &'static str,
    pub(crate) network_failed_title: &'static str,
    pub network_unknown: &'static str,
    pub network_unreachable: &'static str,
    pub network_expired: &'static str,
    pub network_unmatched: &'static str,
    pub network_refused: &'static str,
    pub(crate) network_sign_in: &'static str,
    pub network_or: &'static str,
    pub network_unmatched_title: &'static str,
    pub network_role_refused_title: &'static str,
    pub network_role_refused: &'static str,
    pub saml_unknown_sp_title: &'static str,
    pub saml_unknown_sp: &'static str,
    pub saml_invalid_title: &'static str,
    pub saml_unknown_acs: &'static str,
    pub saml_bad_signature: &'static str,
    pub saml_replay_title: &'static str,
    pub saml_replay: &'static str,
    pub saml_expired_title: &'static str,
    pub saml_expired: &'static str,
    pub saml_clock_skew_title: &'static str,
    pub saml_clock_skew: &'static str,
    pub saml_relay_state_unregistered: &'static str,
    pub saml_unavailable_title: &'static str,
    pub saml_unavailable: &'static str,
    pub saml_unreadable: &'static str,
    pub upstream_unknown_title: &'static str,
    pub upstream_unknown: &'static str,
    pub upstream_expired: &'static str,
    pub upstream_not_signed_in_title: &'static str,
    pub upstream_not_signed_in: &'static str,
    pub upstream_untrusted_title: &'static str,
    pub upstream_untrusted: &'static str,
}

impl Texts {
    /// "Your school has not enabled {name} for you."
    pub fn software_off_for_you(&self, name: &str) -> String {
        fill(self.software_off_for_you, &[("name", name)])
    }

    /// "{name} is software for teachers. Pupils cannot sign in to it."
    pub fn for_teachers_only(&self, name: &str) -> String {
        fill(self.for_teachers_only, &[("name", name)])
    }

    /// "{name} is software for pupils. Teachers cannot sign in to it."
    pub fn for_pupils_only(&self, name: &str) -> String {
        fill(self.for_pupils_only, &[("name", name)])
    }

    /// "{name} asks you to sign out."
    pub fn logout_confirm_from(&self, name: &str) -> String {
        fill(self.logout_confirm_from, &[("name", name)])
    }

    /// "{n} of 4 pictures chosen".
    pub fn pictures_chosen(&self, n: usize) -> String {
        fill(self.pictures_chosen, &[("n", &n.to_string())])
    }

    /// "The device '{name}' has been unlinked. ..."
    pub fn device_revoked(&self, name: &str) -> String {
        fill(self.device_revoked, &[("name", name)])
    }

    /// "... blocked until {until} ({minutes} more minutes). ...": `until` is the local clock time.
    pub fn home_blocked(&self, until: &str, minutes: i64) -> String {
        fill(
            self.home_blocked,
            &[("until", until), ("minutes", &minutes.to_string())],
        )
    }

    /// "Signing in through {name} did not work".
    pub fn network_failed_title(&self, name: &str) -> String {
        fill(self.network_failed_title, &[("name", name)])
    }

    /// "Sign in through {name}".
    pub fn network_sign_in(&self, name: &str) -> String {
        fill(self.network_sign_in, &[("name", name)])
    }
}

#[cfg(test)]
mod tests {
    use crate::Locale;

    #[test]
    fn every_text_with_parameters_has_its_placeholders_in_every_language() {
        for l in [Locale::Nl, Locale::En] {
            let t = l.texts();
            let one_name = [
                t.software_off_for_you("«N»"),
                t.for_teachers_only("«N»"),
                t.for_pupils_only("«N»"),
                t.logout_confirm_from("«N»"),
                t.device_revoked("«N»"),
                t.network_failed_title("«N»"),
                t.network_sign_in("«N»"),
            ];
            for text in one_name {
                assert!(text.contains("«N»"), "{l:?}: {text}");
                assert!(!text.contains('{'), "{l:?}: {text}");
            }
            let chosen = t.pictures_chosen(3);
            assert!(
                chosen.contains('3') && !chosen.contains('{'),
                "{l:?}: {chosen}"
            );
            // The page's script fills the pattern in itself.
            assert!(t.pictures_chosen.contains("{n}"), "{l:?}");
            let blocked = t.home_blocked("14:35", 52);
            assert!(
                blocked.contains("14:35") && blocked.contains("52"),
                "{l:?}: {blocked}"
            );
            assert!(!blocked.contains('{'), "{l:?}: {blocked}");
        }
    }

    #[test]
    fn filled_in_as_before() {
        let nl = Locale::Nl.texts();
        assert_eq!(
            nl.home_blocked("14:35", 52),
            "Er is te vaak een verkeerd wachtwoord of een verkeerde pincode ingevuld. Thuis inloggen is geblokkeerd tot 14:35 (nog 52 minuten). De leerkracht kan de blokkade eerder opheffen."
        );
        assert_eq!(nl.pictures_chosen(2), "2 van 4 plaatjes gekozen");
        assert_eq!(nl.network_sign_in("Moo"), "Inloggen via Moo");
        assert_eq!(
            Locale::En.texts().device_revoked("iPad 3"),
            "The device ‘iPad 3’ has been unlinked. Pupils can no longer sign in on it outside the school network."
        );
    }
}
