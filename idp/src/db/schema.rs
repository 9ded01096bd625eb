//! The one schema both backends share. Maintained by hand (see `diesel.toml`): only types
//! that SQLite and PostgreSQL both support — `Text`, `BigInt`, `Integer`, `Bool`.

diesel::table! {
    school_boards (id) {
        id -> Text,
        name -> Text,
        bestuursnummer -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    schools (instelling_ref) {
        instelling_ref -> Text,
        board_id -> Nullable<Text>,
        brin6 -> Text,
        name -> Text,
        status -> Text,
        merged_into -> Nullable<Text>,
        networks -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        dynamic_network -> Nullable<Text>,
    }
}

diesel::table! {
    dynamic_ip (school_ref) {
        school_ref -> Text,
        token_hash -> Text,
        created_at -> BigInt,
        seen_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    dynamic_ip_history (seq) {
        seq -> BigInt,
        school_ref -> Text,
        network -> Text,
        at -> BigInt,
    }
}

diesel::table! {
    school_groups (id) {
        id -> Text,
        school_ref -> Text,
        las_key -> Text,
        name -> Text,
        jaargroep -> Nullable<Integer>,
        composite -> Bool,
        school_year -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        school_ref -> Text,
        las_key -> Nullable<Text>,
        eck_id -> Nullable<Text>,
        given_name -> Text,
        family_name -> Text,
        email -> Nullable<Text>,
        status -> Text,
        picture -> Nullable<Text>,
        pupil_auth -> Nullable<Text>,
        pin_hash -> Nullable<Text>,
        picture_password_hash -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        source -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        offboarded -> Nullable<Text>,
        revoked_at -> Nullable<BigInt>,
        left_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    user_roles (user_id, role) {
        user_id -> Text,
        role -> Text,
    }
}

diesel::table! {
    group_members (group_id, user_id) {
        group_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    relying_parties (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        protocol -> Text,
        client_id -> Nullable<Text>,
        client_secret_hash -> Nullable<Text>,
        redirect_uris -> Text,
        post_logout_redirect_uris -> Text,
        initiate_login_uri -> Nullable<Text>,
        backchannel_logout_uri -> Nullable<Text>,
        jwks_uri -> Nullable<Text>,
        jwks -> Nullable<Text>,
        token_endpoint_auth_method -> Nullable<Text>,
        id_token_alg -> Text,
        sector -> Text,
        entity_id -> Nullable<Text>,
        saml_metadata -> Nullable<Text>,
        home_allowed -> Bool,
        audience -> Text,
        enabled -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
        offline_access -> Bool,
        access_token_format -> Text,
    }
}

diesel::table! {
    registrations (school_ref, rp_id) {
        school_ref -> Text,
        rp_id -> Text,
        allowed -> Bool,
        release_eckid -> Bool,
        release_names -> Bool,
        release_groups -> Bool,
        home_allowed -> Bool,
        since -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    upstreams (id) {
        id -> Text,
        name -> Text,
        protocol -> Text,
        oidc_issuer -> Nullable<Text>,
        client_id -> Nullable<Text>,
        client_secret -> Nullable<Text>,
        saml_metadata -> Nullable<Text>,
        match_rule -> Text,
        match_claim -> Text,
        provision -> Bool,
        enabled -> Bool,
        created_at -> BigInt,
        scopes -> Text,
        saml_entity_id -> Nullable<Text>,
        allow_unsolicited -> Bool,
        client_auth -> Text,
        provision_roles -> Text,
    }
}

diesel::table! {
    upstream_schools (upstream_id, school_ref) {
        upstream_id -> Text,
        school_ref -> Text,
    }
}

diesel::table! {
    audit_events (id) {
        seq -> BigInt,
        id -> Text,
        at -> BigInt,
        actor -> Text,
        action -> Text,
        school_ref -> Nullable<Text>,
        subject -> Nullable<Text>,
        details -> Text,
    }
}

diesel::table! {
    saml_sp_options (rp_id) {
        rp_id -> Text,
        relay_states -> Text,
        metadata_url -> Nullable<Text>,
        refresh_hours -> Nullable<Integer>,
        metadata_signing_cert -> Nullable<Text>,
        refreshed_at -> Nullable<BigInt>,
        refresh_error -> Nullable<Text>,
        updated_at -> BigInt,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    thuis_accounts (id) {
        id -> Text,
        email -> Text,
        password_hash -> Nullable<Text>,
        activated_at -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    thuis_links (account_id, user_id) {
        account_id -> Text,
        user_id -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    thuis_tokens (token_hash) {
        token_hash -> Text,
        account_id -> Text,
        email -> Text,
        expires_at -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    thuis_codes (user_id) {
        user_id -> Text,
        code_hash -> Text,
        sealed -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    pupil_secrets (user_id) {
        user_id -> Text,
        sealed -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    devices (id) {
        id -> Text,
        school_ref -> Text,
        name -> Text,
        enrolled_by -> Text,
        enrolled_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    staff_totp (user_id) {
        user_id -> Text,
        sealed -> Text,
        last_step -> BigInt,
        enrolled_at -> BigInt,
    }
}

diesel::table! {
    substitutions (user_id) {
        user_id -> Text,
        school_ref -> Text,
        group_id -> Text,
        email -> Text,
        token_hash -> Text,
        days -> Integer,
        starts_at -> BigInt,
        until_at -> BigInt,
        activated_by -> Text,
    }
}

diesel::table! {
    merger_offers (school_ref, merged_ref) {
        school_ref -> Text,
        merged_ref -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    duo_locations (brin6) {
        brin6 -> Text,
        name -> Text,
        street -> Text,
        house_number -> Text,
        postcode -> Text,
        place -> Text,
        municipality -> Text,
        province -> Text,
        board_number -> Text,
        first_seen_at -> BigInt,
        seen_at -> BigInt,
        gone_at -> Nullable<BigInt>,
    }
}

diesel::joinable!(schools -> school_boards (board_id));
diesel::joinable!(school_groups -> schools (school_ref));
diesel::joinable!(users -> schools (school_ref));
diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(group_members -> school_groups (group_id));
diesel::joinable!(group_members -> users (user_id));
diesel::joinable!(registrations -> relying_parties (rp_id));
diesel::joinable!(registrations -> schools (school_ref));
diesel::joinable!(saml_sp_options -> relying_parties (rp_id));
diesel::joinable!(upstream_schools -> upstreams (upstream_id));
diesel::joinable!(thuis_links -> thuis_accounts (account_id));
diesel::joinable!(thuis_links -> users (user_id));
diesel::joinable!(thuis_tokens -> thuis_accounts (account_id));
diesel::joinable!(pupil_secrets -> users (user_id));
diesel::joinable!(thuis_codes -> users (user_id));
diesel::joinable!(devices -> schools (school_ref));
diesel::joinable!(staff_totp -> users (user_id));
diesel::joinable!(substitutions -> users (user_id));
diesel::joinable!(dynamic_ip -> schools (school_ref));

diesel::table! {
    staged_imports (school_ref) {
        school_ref -> Text,
        school_year -> Text,
        source -> Text,
        payload -> Text,
        report -> Text,
        takes_effect -> BigInt,
        staged_at -> BigInt,
    }
}

diesel::table! {
    las_suppliers (rp_id) {
        rp_id -> Text,
        uwlr_url -> Nullable<Text>,
    }
}

diesel::table! {
    las_couplings (school_ref, las_id) {
        school_ref -> Text,
        las_id -> Text,
        school_chose_at -> Nullable<BigInt>,
        las_granted_at -> Nullable<BigInt>,
        autorisatiesleutel -> Nullable<Text>,
        last_run_at -> Nullable<BigInt>,
        last_outcome -> Nullable<Text>,
    }
}

diesel::table! {
    title_icons (hash) {
        hash -> Text,
        content_type -> Text,
        data -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    licence_titles (rp_id, methode_id, product_id) {
        rp_id -> Text,
        methode_id -> Text,
        product_id -> Text,
        code -> Nullable<Text>,
        name -> Text,
        icon_hash -> Nullable<Text>,
        url -> Nullable<Text>,
        teacher_app -> Bool,
        test_app -> Bool,
        home_allowed -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    licence_endpoints (rp_id) {
        rp_id -> Text,
        url -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    licences (rp_id, methode_id, product_id, school_ref, holder_kind, holder) {
        rp_id -> Text,
        methode_id -> Text,
        product_id -> Text,
        school_ref -> Text,
        holder_kind -> Text,
        holder -> Text,
        granted_at -> BigInt,
    }
}

diesel::table! {
    niveaus (school_ref, holder_kind, holder, jaargroep) {
        school_ref -> Text,
        holder_kind -> Text,
        holder -> Text,
        jaargroep -> Integer,
    }
}

diesel::table! {
    webhook_endpoints (rp_id) {
        rp_id -> Text,
        url -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    webhook_outbox (id) {
        id -> Text,
        rp_id -> Text,
        event -> Text,
        school_ref -> Nullable<Text>,
        details -> Text,
        created_at -> BigInt,
        attempts -> Integer,
        next_attempt_at -> BigInt,
        claimed_by -> Nullable<Text>,
        claimed_until -> Nullable<BigInt>,
        delivered_at -> Nullable<BigInt>,
        failed_at -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
    }
}

diesel::joinable!(las_suppliers -> relying_parties (rp_id));
diesel::joinable!(webhook_endpoints -> relying_parties (rp_id));
diesel::joinable!(webhook_outbox -> relying_parties (rp_id));
diesel::joinable!(las_couplings -> las_suppliers (las_id));

diesel::allow_tables_to_appear_in_same_query!(
    school_boards,
    schools,
    school_groups,
    users,
    user_roles,
    group_members,
    relying_parties,
    registrations,
    upstreams,
    upstream_schools,
    audit_events,
    merger_offers,
    saml_sp_options,
    settings,
    thuis_accounts,
    thuis_links,
    thuis_tokens,
    pupil_secrets,
    thuis_codes,
    devices,
    staff_totp,
    substitutions,
    dynamic_ip,
    dynamic_ip_history,
    duo_locations,
    staged_imports,
    las_suppliers,
    las_couplings,
    title_icons,
    licence_titles,
    licence_endpoints,
    licences,
    niveaus,
    webhook_endpoints,
    webhook_outbox,
);
