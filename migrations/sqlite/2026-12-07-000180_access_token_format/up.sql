-- The kind of access token an OIDC client receives: `jwt` (RFC 9068, the default) or `opaque`
-- (a reference token, checked by introspection). `leerpoort client access-tokens`.
ALTER TABLE relying_parties ADD COLUMN access_token_format TEXT NOT NULL DEFAULT 'jwt';
