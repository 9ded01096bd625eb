-- Leerpoort's domain: school boards, school locations, groups, users, relying parties,
-- per-school registrations, upstream identity providers and the audit trail.
-- Identifiers are UUIDs stored as text; times are seconds since the Unix epoch (BIGINT),
-- so the same schema serves SQLite and PostgreSQL.

CREATE TABLE school_boards (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    bestuursnummer  TEXT,
    created_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX school_boards_bestuursnummer ON school_boards (bestuursnummer);

-- A school location (vestiging). INSTELLING_REF is permanent; BRIN6 may change (DUO) and
-- must be unique only among active schools.
CREATE TABLE schools (
    instelling_ref  TEXT PRIMARY KEY NOT NULL,
    board_id        TEXT REFERENCES school_boards (id),
    brin6           TEXT NOT NULL,
    name            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'active',      -- active | merged | closed
    merged_into     TEXT REFERENCES schools (instelling_ref),
    networks        TEXT NOT NULL DEFAULT '[]',          -- JSON array of CIDRs
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CHECK (status IN ('active', 'merged', 'closed')),
    CHECK ((status = 'merged') = (merged_into IS NOT NULL))
);
CREATE UNIQUE INDEX schools_active_brin6 ON schools (brin6) WHERE status = 'active';

CREATE TABLE school_groups (
    id              TEXT PRIMARY KEY NOT NULL,
    school_ref      TEXT NOT NULL REFERENCES schools (instelling_ref),
    las_key         TEXT NOT NULL,
    name            TEXT NOT NULL,
    jaargroep       INTEGER,
    composite       BOOLEAN NOT NULL DEFAULT FALSE,      -- combinatiegroep (e.g. 3/4)
    school_year     TEXT NOT NULL,                       -- e.g. 2026-2027
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX school_groups_school_key ON school_groups (school_ref, las_key);

-- Every person: pupils and staff. `id` is permanent and is the only input (besides the
-- relying party's sector) to the pairwise pseudonyms relying parties receive.
CREATE TABLE users (
    id                  TEXT PRIMARY KEY NOT NULL,
    school_ref          TEXT NOT NULL REFERENCES schools (instelling_ref),
    las_key             TEXT,
    eck_id              TEXT,
    given_name          TEXT NOT NULL,
    family_name         TEXT NOT NULL,
    email               TEXT,                            -- staff only, stored lower-case
    status              TEXT NOT NULL DEFAULT 'active',  -- active | inactive
    picture             TEXT,                            -- pupil picture (asset name)
    pupil_auth          TEXT,                            -- pin | picture (pupils only)
    pin_hash            TEXT,
    picture_password_hash TEXT,
    password_hash       TEXT,                            -- staff (argon2id)
    source              TEXT NOT NULL DEFAULT 'manual',  -- manual | edexml | las | upstream:<id>
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    CHECK (status IN ('active', 'inactive')),
    CHECK (pupil_auth IS NULL OR pupil_auth IN ('pin', 'picture'))
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE UNIQUE INDEX users_eck_id ON users (eck_id);
CREATE UNIQUE INDEX users_school_las_key ON users (school_ref, las_key);
CREATE INDEX users_school ON users (school_ref);

CREATE TABLE user_roles (
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE group_members (
    group_id        TEXT NOT NULL REFERENCES school_groups (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

-- Publishers and network environments that receive identities, by OIDC or SAML.
CREATE TABLE relying_parties (
    id                  TEXT PRIMARY KEY NOT NULL,
    name                TEXT NOT NULL,
    kind                TEXT NOT NULL,                   -- publisher | network
    protocol            TEXT NOT NULL,                   -- oidc | saml
    client_id           TEXT,
    client_secret_hash  TEXT,                            -- sha256 hex; NULL for public clients
    redirect_uris       TEXT NOT NULL DEFAULT '[]',
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
    initiate_login_uri  TEXT,
    backchannel_logout_uri TEXT,
    jwks_uri            TEXT,
    jwks                TEXT,
    token_endpoint_auth_method TEXT,
    id_token_alg        TEXT NOT NULL DEFAULT 'RS256',
    sector              TEXT NOT NULL,                   -- pairwise sector identifier
    entity_id           TEXT,
    saml_metadata       TEXT,
    home_allowed        BOOLEAN NOT NULL DEFAULT FALSE,
    audience            TEXT NOT NULL DEFAULT 'beide',   -- leerling | leerkracht | beide
    enabled             BOOLEAN NOT NULL DEFAULT TRUE,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    CHECK (kind IN ('publisher', 'network')),
    CHECK (protocol IN ('oidc', 'saml')),
    CHECK (audience IN ('leerling', 'leerkracht', 'beide'))
);
CREATE UNIQUE INDEX relying_parties_client_id ON relying_parties (client_id);
CREATE UNIQUE INDEX relying_parties_entity_id ON relying_parties (entity_id);

-- Per-school registration (toestemming): the school allows this relying party, and says
-- which claims it releases to it.
CREATE TABLE registrations (
    school_ref      TEXT NOT NULL REFERENCES schools (instelling_ref),
    rp_id           TEXT NOT NULL REFERENCES relying_parties (id) ON DELETE CASCADE,
    allowed         BOOLEAN NOT NULL,
    release_eckid   BOOLEAN NOT NULL DEFAULT TRUE,
    release_names   BOOLEAN NOT NULL DEFAULT FALSE,
    release_groups  BOOLEAN NOT NULL DEFAULT TRUE,
    home_allowed    BOOLEAN NOT NULL DEFAULT TRUE,
    since           BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (school_ref, rp_id)
);
CREATE INDEX registrations_rp ON registrations (rp_id);

-- Network environments (MOO, ZuluConnect, ...) as upstream identity providers.
CREATE TABLE upstreams (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    protocol        TEXT NOT NULL,                       -- oidc | saml
    oidc_issuer     TEXT,
    client_id       TEXT,
    client_secret   TEXT,
    saml_metadata   TEXT,
    match_rule      TEXT NOT NULL,                       -- las-key | eck-id | email
    match_claim     TEXT NOT NULL,
    provision       BOOLEAN NOT NULL DEFAULT FALSE,
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      BIGINT NOT NULL,
    CHECK (protocol IN ('oidc', 'saml')),
    CHECK (match_rule IN ('las-key', 'eck-id', 'email'))
);
CREATE UNIQUE INDEX upstreams_name ON upstreams (name);

CREATE TABLE upstream_schools (
    upstream_id     TEXT NOT NULL REFERENCES upstreams (id) ON DELETE CASCADE,
    school_ref      TEXT NOT NULL REFERENCES schools (instelling_ref),
    PRIMARY KEY (upstream_id, school_ref)
);

-- Who did what, when. Never holds secrets or ECK-iDs in plain text.
CREATE TABLE audit_events (
    id              TEXT PRIMARY KEY NOT NULL,
    at              BIGINT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    school_ref      TEXT,
    subject         TEXT,
    details         TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_school ON audit_events (school_ref, at);
