//! Every route of the server, in one table. To find an endpoint, look here.

use actix_web::web;

use super::{
    api, beheer, broker_saml, devices, discovery, dynamic_ip, groepen, health, invalkracht,
    leerlingen, lesmateriaal, oidc, pages, password, saml, school, thuis, totp, upstreams,
};

/// Register every route.
pub fn config(cfg: &mut web::ServiceConfig) {
    openid_connect(cfg);
    saml_idp(cfg);
    broker_sp(cfg);
    school_entrance(cfg);
    group_overview(cfg);
    school_administration(cfg);
    network_environments(cfg);
    apis(cfg);
    oneroster_api(cfg);
    licence_api(cfg);
    home_entrance(cfg);
    plain_pages(cfg);
    operations(cfg);
}

/// OpenID Connect.
fn openid_connect(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/.well-known/openid-configuration",
        web::get().to(oidc::discovery),
    )
    .route("/oidc/jwks", web::get().to(oidc::jwks))
    .route("/oidc/authorize", web::get().to(oidc::authorize))
    .route("/oidc/authorize", web::post().to(oidc::authorize))
    .route(
        "/oidc/authorize/continue",
        web::get().to(oidc::authorize_continue),
    )
    .route("/oidc/token", web::post().to(oidc::token))
    .route("/oidc/userinfo", web::get().to(oidc::userinfo_get))
    .route("/oidc/userinfo", web::post().to(oidc::userinfo_post))
    .route("/oidc/introspect", web::post().to(oidc::introspect))
    .route("/oidc/revoke", web::post().to(oidc::revoke))
    .route("/oidc/logout", web::get().to(oidc::logout))
    .route("/oidc/logout", web::post().to(oidc::logout));
}

/// SAML 2.0.
fn saml_idp(cfg: &mut web::ServiceConfig) {
    cfg.route("/saml/metadata", web::get().to(saml::metadata))
        .route("/saml/sso", web::get().to(saml::sso_redirect))
        .service(
            web::resource("/saml/sso")
                .app_data(web::PayloadConfig::new(saml::POST_BODY_LIMIT))
                .route(web::post().to(saml::sso_post)),
        )
        .route("/saml/sso/continue", web::get().to(saml::sso_continue))
        .route("/saml/unsolicited", web::get().to(saml::unsolicited))
        .route("/saml/slo", web::get().to(saml::slo))
        .route("/static/saml-post.js", web::get().to(saml::post_script));
}

/// Network environments: Leerpoort as SAML service provider.
fn broker_sp(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/broker/saml/metadata",
        web::get().to(broker_saml::metadata),
    )
    .route("/broker/saml/start", web::get().to(broker_saml::start))
    .route("/broker/saml/slo", web::get().to(broker_saml::slo))
    .service(
        web::resource("/broker/saml/acs")
            .app_data(web::PayloadConfig::new(saml::POST_BODY_LIMIT))
            .route(web::post().to(broker_saml::acs)),
    )
    .route(
        "/broker/saml/acs/continue",
        web::get().to(broker_saml::acs_continue),
    );
}

/// The school entrance.
fn school_entrance(cfg: &mut web::ServiceConfig) {
    cfg.route("/snelkoppeling", web::get().to(school::shortcut))
        .route("/scholen", web::get().to(discovery::search))
        .route("/scholen/kies", web::post().to(discovery::choose))
        .route("/scholen/vergeten", web::post().to(discovery::forget))
        .route(
            "/snelkoppeling/geweigerd",
            web::get().to(school::shortcut_refused),
        )
        .route(
            "/school/{school}/groep/{group}",
            web::get().to(school::group),
        )
        .route(
            "/school/{school}/leerling/{user}",
            web::get().to(school::pupil_form),
        )
        .route(
            "/school/{school}/leerling/{user}",
            web::post().to(school::pupil_submit),
        )
        .route("/school/{school}/apparaat", web::post().to(devices::enrol))
        .route("/school/{school}/apparaten", web::get().to(devices::list))
        .route(
            "/school/{school}/apparaten/{device}/ontkoppelen",
            web::post().to(devices::revoke),
        )
        .route(
            "/school/{school}/snelkoppelingen",
            web::get().to(school::shortcuts),
        )
        .route(
            "/school/{school}/snelkoppelingen/{file}",
            web::get().to(school::shortcut_file),
        );
}

/// The teacher's group overview.
fn group_overview(cfg: &mut web::ServiceConfig) {
    cfg.route("/groepen", web::get().to(groepen::index))
        .route(
            "/groepen/{group}/afdrukken",
            web::get().to(groepen::confirm(|t| t.overview_print, |t| t.print_confirm)),
        )
        .route("/groepen/{group}/afdrukken", web::post().to(groepen::print))
        .route(
            "/groepen/{group}/thuiscodes",
            web::get().to(groepen::confirm(|t| t.letters_link, |t| t.letters_confirm)),
        )
        .route(
            "/groepen/{group}/thuiscodes",
            web::post().to(groepen::letters::<groepen::GroupLetters>),
        )
        .route(
            "/groepen/leerling/{user}/thuiscode",
            web::get().to(groepen::confirm(|t| t.letter_link, |t| t.letters_confirm)),
        )
        .route(
            "/groepen/leerling/{user}/thuiscode",
            web::post().to(groepen::letters::<groepen::Letter>),
        )
        .route(
            "/groepen/leerling/{user}",
            web::get().to(groepen::change_form),
        )
        .route(
            "/groepen/leerling/{user}/inloggen",
            web::post().to(leerlingen::sign_in_submit),
        )
        .route(
            "/groepen/{group}/inlogmethode",
            web::get().to(leerlingen::method_form),
        )
        .route(
            "/groepen/{group}/inlogmethode",
            web::post().to(leerlingen::method_submit),
        )
        .route(
            "/groepen/{group}/niveaus",
            web::get().to(beheer::group_levels_form),
        )
        .route(
            "/groepen/{group}/niveaus",
            web::post().to(beheer::group_levels_submit),
        )
        .route(
            "/groepen/{group}/niveaus/{user}",
            web::post().to(beheer::pupil_levels_submit),
        )
        .route(
            "/groepen/leerling/{user}",
            web::post().to(groepen::change_submit),
        );
}

/// Beheer: the ICT coordinator's pages.
fn school_administration(cfg: &mut web::ServiceConfig) {
    cfg.route("/beheer", web::get().to(beheer::overview))
        .route("/beheer/toestemming", web::get().to(beheer::consent_form))
        .route(
            "/beheer/toestemming",
            web::post().to(beheer::consent_submit),
        )
        .route(
            "/beheer/toestemming/fusie",
            web::post().to(beheer::merger_consent_submit),
        )
        .route("/beheer/netwerken", web::post().to(beheer::networks_submit))
        .route(
            "/beheer/dynamic-ip",
            web::post().to(beheer::dynamic_ip_submit),
        )
        .route(dynamic_ip::UPDATE_PATH, web::post().to(dynamic_ip::report))
        .route("/beheer/logboek", web::get().to(beheer::logbook))
        .route("/beheer/niveaus", web::get().to(beheer::niveaus_form))
        .route(
            "/beheer/niveaus/groep/{group}",
            web::post().to(beheer::niveaus_group_submit),
        )
        .route(
            "/beheer/niveaus/leerling/{user}",
            web::post().to(beheer::niveaus_pupil_submit),
        )
        .route(
            "/beheer/gebruikersgegevens/methode",
            web::post().to(beheer::method_submit),
        )
        .service(
            web::resource("/beheer/gebruikersgegevens")
                .app_data(web::PayloadConfig::new(
                    beheer::IMPORT_UPLOAD_LIMIT + 64 * 1024,
                ))
                .route(web::get().to(beheer::import_form))
                .route(web::post().to(beheer::import_check)),
        )
        .route(
            "/beheer/gebruikersgegevens/importeren",
            web::post().to(beheer::import_confirm),
        )
        .route(
            "/beheer/gebruikersgegevens/sjabloon.csv",
            web::get().to(beheer::template_csv),
        )
        .route(
            "/beheer/gebruikersgegevens/sjabloon.xlsx",
            web::get().to(beheer::template_xlsx),
        )
        .route(
            "/beheer/invalkrachten",
            web::get().to(beheer::substitutes_list),
        )
        .route(
            "/beheer/invalkrachten",
            web::post().to(beheer::substitutes_activate),
        )
        .route(
            "/beheer/invalkrachten/{user}/beeindigen",
            web::post().to(beheer::substitutes_end),
        )
        .route(
            "/invalkracht/{token}",
            web::get().to(invalkracht::link_form),
        )
        .route(
            "/invalkracht/{token}",
            web::post().to(invalkracht::link_submit),
        )
        .route("/beheer/opheffen", web::get().to(beheer::closing_form))
        .route("/beheer/opheffen", web::post().to(beheer::closing_submit))
        .route("/beheer/personeel", web::get().to(beheer::staff_list))
        .route("/beheer/personeel", web::post().to(beheer::staff_add))
        .route(
            "/beheer/personeel/{user}/verwijderen",
            web::get().to(beheer::staff_remove_confirm),
        )
        .route(
            "/beheer/personeel/{user}/{action}",
            web::post().to(beheer::staff_action),
        );
}

/// OneRoster 1.2 rostering, read, for publishers and network environments
/// (`docs/publisher-api.md`, "OneRoster 1.2"): every route of `api::oneroster::ROUTES`, all GET.
fn oneroster_api(cfg: &mut web::ServiceConfig) {
    use api::oneroster as or;
    use broker::oneroster::BASE_PATH;
    for (path, what) in or::ROUTES {
        let what = *what;
        cfg.route(
            &format!("{BASE_PATH}{path}"),
            web::get().to(move |req, state| or::read(req, state, what)),
        );
    }
}

/// Network environments (upstream identity providers).
fn network_environments(cfg: &mut web::ServiceConfig) {
    cfg.route("/broker/oidc/start", web::get().to(upstreams::oidc_start))
        .route(
            "/broker/oidc/callback",
            web::get().to(upstreams::oidc_callback),
        )
        .route(
            "/broker/oidc/uitgelogd",
            web::get().to(upstreams::signed_out),
        )
        .route(
            "/broker/oidc/backchannel-logout",
            web::post().to(upstreams::oidc_backchannel_logout),
        );
}

/// The home entrance.
fn home_entrance(cfg: &mut web::ServiceConfig) {
    cfg.route("/thuis", web::get().to(thuis::entrance))
        .route("/thuis", web::post().to(thuis::sign_in))
        .route("/thuis/kinderen", web::get().to(thuis::children))
        .route("/thuis/code", web::get().to(thuis::code_form))
        .route("/thuis/code", web::post().to(thuis::code_submit))
        .route("/thuis/kind/{user}", web::get().to(thuis::child_form))
        .route("/thuis/kind/{user}", web::post().to(thuis::child_submit))
        .route(
            "/thuis/wachtwoord-vergeten",
            web::get().to(password::forgot_form::<password::AtHome>),
        )
        .route(
            "/thuis/wachtwoord-vergeten",
            web::post().to(password::forgot_submit::<password::AtHome>),
        )
        .route(
            "/thuis/wachtwoord/{token}",
            web::get().to(password::set_form::<password::AtHome>),
        )
        .route(
            "/thuis/wachtwoord/{token}",
            web::post().to(password::set_submit::<password::AtHome>),
        );
}

/// Pages.
fn plain_pages(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(pages::start))
        .route("/login", web::get().to(pages::login_form))
        .route("/login", web::post().to(pages::login_submit))
        .route("/login/tweede-stap", web::get().to(totp::step_form))
        .route("/login/tweede-stap", web::post().to(totp::step_submit))
        .route("/tweede-stap", web::get().to(totp::enrol_form))
        .route("/tweede-stap", web::post().to(totp::enrol_submit))
        .route("/uitloggen", web::post().to(pages::sign_out))
        .route(
            "/wachtwoord-vergeten",
            web::get().to(password::forgot_form::<password::AtSchool>),
        )
        .route(
            "/wachtwoord-vergeten",
            web::post().to(password::forgot_submit::<password::AtSchool>),
        )
        .route("/wachtwoord/sterkte", web::post().to(password::strength))
        .route(
            "/wachtwoord/{token}",
            web::get().to(password::set_form::<password::AtSchool>),
        )
        .route(
            "/wachtwoord/{token}",
            web::post().to(password::set_submit::<password::AtSchool>),
        )
        .route("/static/leerpoort.css", web::get().to(pages::stylesheet))
        .route("/static/plaatjes.js", web::get().to(pages::pictures_script))
        .route("/static/plaatjes/{file}", web::get().to(pages::picture))
        .route(
            "/static/challenge.js",
            web::get().to(pages::challenge_script),
        )
        .route(
            "/static/wachtwoord.js",
            web::get().to(pages::password_script),
        );
}

/// Operations.
fn operations(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz));
}

/// The licence API's icons, and the titles' tiles.
fn licence_api(cfg: &mut web::ServiceConfig) {
    use api::licenties as l;
    cfg.route(&format!("{}{{hash}}", l::ICON_PATH), web::get().to(l::icon))
        .route("/lesmateriaal/tegels", web::get().to(lesmateriaal::tiles))
        .route(
            "/static/lesmateriaal.js",
            web::get().to(lesmateriaal::script),
        );
}

/// How a route of [`API_ROUTES`] is registered, given its path.
type Register = fn(&mut web::ServiceConfig, &str);

/// Every route under `/api/`, in the order they are registered: the methods, the path as
/// actix matches it, and its registration. Register an `/api/` route here and nowhere else:
/// the tests check this list against the OpenAPI document, `docs/api/openapi.json` (served at
/// `/api/openapi.json`), in both directions (a `{…}` there may have another name), and call
/// every operation it describes. OneRoster's routes are `api::oneroster::ROUTES`.
pub const API_ROUTES: &[(&[&str], &str, Register)] = &[
    // The LAS API.
    (
        &["GET", "PUT", "DELETE"],
        "/api/las/v1/scholen/{school}/koppeling",
        |cfg, p| {
            cfg.service(
                web::resource(p)
                    .route(web::get().to(api::las::koppeling))
                    .route(web::put().to(api::las::koppeling))
                    .route(web::delete().to(api::las::koppeling)),
            );
        },
    ),
    (
        &["POST"],
        "/api/las/v1/scholen/{school}/edexml",
        |cfg, p| {
            cfg.route(p, web::post().to(api::las::push));
        },
    ),
    // The school-data API, for publishers and network environments.
    (&["GET"], "/api/schooldata/v1/scholen", |cfg, p| {
        cfg.route(p, web::get().to(api::schooldata::scholen));
    }),
    (&["GET"], "/api/schooldata/v1/scholen/{school}", |cfg, p| {
        cfg.route(p, web::get().to(api::schooldata::school));
    }),
    (
        &["GET"],
        "/api/schooldata/v1/scholen/{school}/groepen",
        |cfg, p| {
            cfg.route(p, web::get().to(api::schooldata::groepen));
        },
    ),
    (
        &["GET"],
        "/api/schooldata/v1/scholen/{school}/leerlingen",
        |cfg, p| {
            cfg.route(p, web::get().to(api::schooldata::leerlingen));
        },
    ),
    (
        &["GET"],
        "/api/schooldata/v1/scholen/{school}/medewerkers",
        |cfg, p| {
            cfg.route(p, web::get().to(api::schooldata::medewerkers));
        },
    ),
    (&["POST"], "/api/schooldata/v1/personen/zoeken", |cfg, p| {
        cfg.route(p, web::post().to(api::schooldata::zoeken));
    }),
    (&["GET"], "/api/schooldata/v1/toestemmingen", |cfg, p| {
        cfg.route(p, web::get().to(api::schooldata::toestemmingen));
    }),
    // The licence API: a publisher's titles and who holds them.
    (&["GET", "POST"], "/api/licenties/v1/methodes", |cfg, p| {
        cfg.route(p, web::get().to(api::licenties::methodes))
            .route(p, web::post().to(api::licenties::create));
    }),
    (
        &["GET", "POST"],
        "/api/licenties/v1/methodes/{methode}/producten",
        |cfg, p| {
            cfg.route(p, web::get().to(api::licenties::producten))
                .route(p, web::post().to(api::licenties::create));
        },
    ),
    (
        &["GET", "PUT", "DELETE"],
        "/api/licenties/v1/methodes/{methode}/producten/{product}",
        |cfg, p| {
            cfg.route(p, title_route());
        },
    ),
    (
        &["GET", "PUT", "DELETE"],
        "/api/licenties/v1/methodes/{methode}/producten/{product}/{kind}",
        |cfg, p| {
            cfg.route(p, web::route().to(api::licenties::holder_list));
        },
    ),
    (
        &["POST"],
        "/api/licenties/v1/methodes/{methode}/producten/{product}/{kind}/{op}",
        |cfg, p| {
            cfg.route(p, web::post().to(api::licenties::holder_list));
        },
    ),
    (
        &["GET", "PUT", "DELETE"],
        "/api/licenties/v1/methodes/{methode}",
        |cfg, p| {
            cfg.route(p, title_route());
        },
    ),
    (
        &["GET", "PUT", "DELETE"],
        "/api/licenties/v1/methodes/{methode}/{kind}",
        |cfg, p| {
            cfg.route(p, web::route().to(api::licenties::holder_list));
        },
    ),
    (
        &["POST"],
        "/api/licenties/v1/methodes/{methode}/{kind}/{op}",
        |cfg, p| {
            cfg.route(p, web::post().to(api::licenties::holder_list));
        },
    ),
    (
        &["POST"],
        "/api/licenties/v1/permissions/{action}",
        |cfg, p| {
            cfg.route(p, web::post().to(api::licenties::bulk));
        },
    ),
    // Their description.
    (&["GET"], api::openapi::PATH, |cfg, p| {
        cfg.route(p, web::get().to(api::openapi::serve));
    }),
];

/// One title of the licence API: read, replaced, removed.
fn title_route() -> actix_web::Route {
    web::route()
        .guard(
            actix_web::guard::Any(actix_web::guard::Get())
                .or(actix_web::guard::Put())
                .or(actix_web::guard::Delete()),
        )
        .to(api::licenties::title)
}

/// Every route of [`API_ROUTES`].
fn apis(cfg: &mut web::ServiceConfig) {
    for (_, path, register) in API_ROUTES {
        register(cfg, path);
    }
}
