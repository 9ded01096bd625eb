-- The roles an upstream identity provider may create users with (`upstream add
-- --provision-roles`), space-separated: `leerling` and/or `leerkracht`, never a staff role with
-- more rights. Upstreams that provisioned before keep only pupils.
ALTER TABLE upstreams ADD COLUMN provision_roles TEXT NOT NULL DEFAULT 'leerling';
