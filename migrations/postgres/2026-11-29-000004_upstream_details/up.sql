-- What an upstream identity provider needs besides the first version's columns: the scopes
-- asked of an OIDC upstream, and a SAML upstream's entity ID. `client_secret` holds the secret
-- sealed (AES-256-GCM, the upstream's id as associated data), never in plain text.
ALTER TABLE upstreams ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE upstreams ADD COLUMN saml_entity_id TEXT;
-- A SAML upstream may send unsolicited (IdP-initiated) responses only when this is set.
ALTER TABLE upstreams ADD COLUMN allow_unsolicited BOOLEAN NOT NULL DEFAULT FALSE;
-- How Leerpoort authenticates at an OIDC upstream's token endpoint: client_secret_basic, or
-- private_key_jwt with Leerpoort's own signing keys (its JWKS at /oidc/jwks).
ALTER TABLE upstreams ADD COLUMN client_auth TEXT NOT NULL DEFAULT 'client_secret_basic';
