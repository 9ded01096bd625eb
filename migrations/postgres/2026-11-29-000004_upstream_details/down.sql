ALTER TABLE upstreams DROP COLUMN client_auth;
ALTER TABLE upstreams DROP COLUMN allow_unsolicited;
ALTER TABLE upstreams DROP COLUMN saml_entity_id;
ALTER TABLE upstreams DROP COLUMN scopes;
