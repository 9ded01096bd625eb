ALTER TABLE upstreams DROP COLUMN provision_roles;
