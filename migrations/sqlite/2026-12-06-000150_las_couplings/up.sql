-- An LAS is a relying party of its own kind (`las`): the kind's CHECK constraint is widened.
-- SQLite cannot alter a constraint, so the table is rebuilt the documented way (foreign keys
-- off, outside a transaction of diesel's: see metadata.toml), with the same columns, rows and
-- indexes.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE relying_parties_new (
    id                  TEXT PRIMARY KEY NOT NULL,
    name                TEXT NOT NULL,
    kind                TEXT NOT NULL,                   -- publisher | network | las
    protocol            TEXT NOT NULL,                   -- oidc | saml
    client_id           TEXT,
    client_secret_hash  TEXT,
    redirect_uris       TEXT NOT NULL DEFAULT '[]',
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
    initiate_login_uri  TEXT,
    backchannel_logout_uri TEXT,
    jwks_uri            TEXT,
    jwks                TEXT,
    token_endpoint_auth_method TEXT,
    id_token_alg        TEXT NOT NULL DEFAULT 'RS256',
    sector              TEXT NOT NULL,
    entity_id           TEXT,
    saml_metadata       TEXT,
    home_allowed        BOOLEAN NOT NULL DEFAULT FALSE,
    audience            TEXT NOT NULL DEFAULT 'beide',
    enabled             BOOLEAN NOT NULL DEFAULT TRUE,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    offline_access      BOOLEAN NOT NULL DEFAULT FALSE,
    CHECK (kind IN ('publisher', 'network', 'las')),
    CHECK (protocol IN ('oidc', 'saml')),
    CHECK (audience IN ('leerling', 'leerkracht', 'beide'))
);
INSERT INTO relying_parties_new (id, name, kind, protocol, client_id, client_secret_hash,
    redirect_uris, post_logout_redirect_uris, initiate_login_uri, backchannel_logout_uri,
    jwks_uri, jwks, token_endpoint_auth_method, id_token_alg, sector, entity_id, saml_metadata,
    home_allowed, audience, enabled, created_at, updated_at, offline_access)
SELECT id, name, kind, protocol, client_id, client_secret_hash,
    redirect_uris, post_logout_redirect_uris, initiate_login_uri, backchannel_logout_uri,
    jwks_uri, jwks, token_endpoint_auth_method, id_token_alg, sector, entity_id, saml_metadata,
    home_allowed, audience, enabled, created_at, updated_at, offline_access
FROM relying_parties;
DROP TABLE relying_parties;
ALTER TABLE relying_parties_new RENAME TO relying_parties;
CREATE UNIQUE INDEX relying_parties_client_id ON relying_parties (client_id);
CREATE UNIQUE INDEX relying_parties_entity_id ON relying_parties (entity_id);

-- The automatic coupling with a school's pupil administration (LAS).
--
-- `las_suppliers`: an LAS vendor's system, registered by the operator. It is a relying party
-- of kind `las` (its own client at /oidc/token, for the push API); `uwlr_url` is its UWLR 2.3
-- endpoint when Leerpoort fetches (pull) instead of, or beside, being sent (push).
CREATE TABLE las_suppliers (
    rp_id TEXT PRIMARY KEY NOT NULL REFERENCES relying_parties (id),
    uwlr_url TEXT
);

-- One row per school and LAS, with the two sides of consent apart: the school's choice in
-- Beheer ("Gebruikersgegevens invoeren": automatic with this LAS) and the LAS's (a push LAS
-- turned Leerpoort on as koppelpartner through the API; for a pull LAS, the
-- autorisatiesleutel it issued for the school is on file, sealed). A coupling is active only
-- when both hold. A school chooses at most one LAS at a time.
CREATE TABLE las_couplings (
    school_ref TEXT NOT NULL REFERENCES schools (instelling_ref),
    las_id TEXT NOT NULL REFERENCES las_suppliers (rp_id),
    school_chose_at BIGINT,
    las_granted_at BIGINT,
    autorisatiesleutel TEXT,
    last_run_at BIGINT,
    last_outcome TEXT,
    PRIMARY KEY (school_ref, las_id)
);
CREATE UNIQUE INDEX las_couplings_one_choice ON las_couplings (school_ref)
    WHERE school_chose_at IS NOT NULL;

COMMIT;
PRAGMA foreign_keys = ON;
