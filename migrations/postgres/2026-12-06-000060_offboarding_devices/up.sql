-- Offboarding: `user disable` sets `offboarded` to 'disabled' (`user enable` clears it, and
-- `status` keeps whether the account was active or inactive); `user remove` sets 'removed'
-- and wipes the personal data, keeping the id. Both set `revoked_at`: every session,
-- authorization code and refresh token from a sign-in at or before that second is void from
-- then on, on every node (checked against these columns at every use).
ALTER TABLE users ADD COLUMN offboarded TEXT CHECK (offboarded IN ('disabled', 'removed'));
ALTER TABLE users ADD COLUMN revoked_at BIGINT;
-- A relying party gets long-lived refresh tokens (`offline_access`) only when the operator
-- allowed it (`client add --offline-access`).
ALTER TABLE relying_parties ADD COLUMN offline_access BOOLEAN NOT NULL DEFAULT FALSE;
-- Devices enrolled for a school: the device cookie carries only the signed id, and every use
-- is checked against this table. Revoking deletes the row.
CREATE TABLE devices (
    id              TEXT PRIMARY KEY NOT NULL,
    school_ref      TEXT NOT NULL REFERENCES schools (instelling_ref) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    enrolled_by     TEXT NOT NULL,
    enrolled_at     BIGINT NOT NULL,
    last_used_at    BIGINT
);
CREATE INDEX devices_school ON devices (school_ref);
