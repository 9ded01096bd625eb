-- A staff member's second factor: a TOTP secret (RFC 6238), sealed like pupils' PINs
-- (AES-256-GCM, key in keys/pupil-secrets.key, the user's id as associated data), and the
-- last time step accepted, so that each code works once.
CREATE TABLE staff_totp (
    user_id         TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sealed          TEXT NOT NULL,
    last_step       BIGINT NOT NULL,
    enrolled_at     BIGINT NOT NULL
);
