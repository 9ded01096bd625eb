DROP TABLE devices;
ALTER TABLE relying_parties DROP COLUMN offline_access;
ALTER TABLE users DROP COLUMN revoked_at;
ALTER TABLE users DROP COLUMN offboarded;
