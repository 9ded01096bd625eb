-- Home login codes (thuisinlogcodes): a personal code per pupil, printed in a letter for the
-- family. Entered once on a device, it remembers that device for the child. Stored as its
-- SHA-256 for look-up, and sealed (like PINs) so that the letter can be printed again.
CREATE TABLE thuis_codes (
    user_id         TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash       TEXT NOT NULL,
    sealed          TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX thuis_codes_hash ON thuis_codes (code_hash);
