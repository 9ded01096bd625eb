-- A pupil's PIN or picture password, sealed (AES-256-GCM, key in keys/pupil-secrets.key, the
-- pupil's id as associated data), so that their teacher can show it on request in the group
-- overview. The hash in `users` is what sign-in checks; this is only for showing.
CREATE TABLE pupil_secrets (
    user_id         TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sealed          TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);
