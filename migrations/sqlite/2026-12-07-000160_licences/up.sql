-- Lesmateriaal: a publisher's titles (methodes and their products), their icons, who holds a
-- licence for each, and the extra year-group levels (niveaus) a school gives.

-- Icons, sanitised, by the SHA-256 of their bytes: served from Leerpoort, cached for ever.
CREATE TABLE title_icons (
    hash         TEXT PRIMARY KEY NOT NULL,
    content_type TEXT NOT NULL,                  -- image/svg+xml | image/png
    data         TEXT NOT NULL,                  -- base64
    created_at   BIGINT NOT NULL,
    CHECK (content_type IN ('image/svg+xml', 'image/png'))
);

-- A methode (product_id '') or one of its products, as its publisher describes it.
CREATE TABLE licence_titles (
    rp_id        TEXT NOT NULL REFERENCES relying_parties(id) ON DELETE CASCADE,
    methode_id   TEXT NOT NULL,
    product_id   TEXT NOT NULL DEFAULT '',
    code         TEXT,
    name         TEXT NOT NULL,
    icon_hash    TEXT REFERENCES title_icons(hash),
    url          TEXT,
    teacher_app  BOOLEAN NOT NULL DEFAULT FALSE,  -- leerkrachtApplicatie
    test_app     BOOLEAN NOT NULL DEFAULT FALSE,  -- toetsApplicatie
    home_allowed BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (rp_id, methode_id, product_id)
);

-- A publisher that answers who holds what at sign-in (the live lookup): where Leerpoort asks.
CREATE TABLE licence_endpoints (
    rp_id        TEXT PRIMARY KEY NOT NULL REFERENCES relying_parties(id) ON DELETE CASCADE,
    url          TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);

-- Who holds a title: a user, a group, or the whole school (holder '').
CREATE TABLE licences (
    rp_id        TEXT NOT NULL,
    methode_id   TEXT NOT NULL,
    product_id   TEXT NOT NULL DEFAULT '',
    school_ref   TEXT NOT NULL REFERENCES schools(instelling_ref) ON DELETE CASCADE,
    holder_kind  TEXT NOT NULL,
    holder       TEXT NOT NULL DEFAULT '',
    granted_at   BIGINT NOT NULL,
    PRIMARY KEY (rp_id, methode_id, product_id, school_ref, holder_kind, holder),
    FOREIGN KEY (rp_id, methode_id, product_id)
        REFERENCES licence_titles (rp_id, methode_id, product_id) ON DELETE CASCADE,
    CHECK (holder_kind IN ('user', 'group', 'school'))
);
CREATE INDEX licences_by_holder ON licences (holder_kind, holder);
CREATE INDEX licences_by_school ON licences (school_ref, holder_kind);

-- A group's or a pupil's extra levels: software of another year group (seed: "niveaus").
CREATE TABLE niveaus (
    school_ref   TEXT NOT NULL REFERENCES schools(instelling_ref) ON DELETE CASCADE,
    holder_kind  TEXT NOT NULL,
    holder       TEXT NOT NULL,
    jaargroep    INTEGER NOT NULL,
    PRIMARY KEY (school_ref, holder_kind, holder, jaargroep),
    CHECK (holder_kind IN ('user', 'group')),
    CHECK (jaargroep BETWEEN 1 AND 8)
);
