-- A group's substitute account in use (invalkracht): who substitutes, until when, and the
-- SHA-256 of their sign-in link. The row exists only while the substitution runs; at its end
-- the row is deleted and the account's name wiped (the audit trail keeps that it happened).
CREATE TABLE substitutions (
    user_id         TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    school_ref      TEXT NOT NULL REFERENCES schools (instelling_ref),
    group_id        TEXT NOT NULL REFERENCES school_groups (id),
    email           TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    days            INTEGER NOT NULL,
    starts_at       BIGINT NOT NULL,
    until_at        BIGINT NOT NULL,
    activated_by    TEXT NOT NULL
);
CREATE INDEX substitutions_school ON substitutions (school_ref);
CREATE INDEX substitutions_until ON substitutions (until_at);
