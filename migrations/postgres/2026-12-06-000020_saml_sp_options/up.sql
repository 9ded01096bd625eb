-- A SAML service provider's options besides its metadata: the RelayState URLs an unsolicited
-- response (a school shortcut) may carry, where its metadata is refreshed from and how often,
-- the certificate (PEM) its metadata must be signed with, and how the last refresh went.
CREATE TABLE saml_sp_options (
    rp_id TEXT PRIMARY KEY NOT NULL REFERENCES relying_parties(id),
    relay_states TEXT NOT NULL DEFAULT '[]',
    metadata_url TEXT,
    refresh_hours INTEGER,
    metadata_signing_cert TEXT,
    refreshed_at BIGINT,
    refresh_error TEXT,
    updated_at BIGINT NOT NULL
);
