-- Home login (thuislogin). A teacher enters one or two home e-mail addresses for a pupil; each
-- address is a home account (thuisaccount) that may serve several children of one family.
-- The account is activated when the parent sets a password through the mailed link.
CREATE TABLE thuis_accounts (
    id              TEXT PRIMARY KEY NOT NULL,
    email           TEXT NOT NULL,                   -- lower-case; the user name at home
    password_hash   TEXT,                            -- argon2id, set at activation
    activated_at    BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX thuis_accounts_email ON thuis_accounts (email);

CREATE TABLE thuis_links (
    account_id      TEXT NOT NULL REFERENCES thuis_accounts (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, user_id)
);
CREATE INDEX thuis_links_user ON thuis_links (user_id);

-- Activation and reset links: a 36-character GUID, stored as its SHA-256, tied to the address
-- it was sent to; single use.
CREATE TABLE thuis_tokens (
    token_hash      TEXT PRIMARY KEY NOT NULL,
    account_id      TEXT NOT NULL REFERENCES thuis_accounts (id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    expires_at      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX thuis_tokens_account ON thuis_tokens (account_id);
