-- A person an import brought and a later import no longer lists has left the school: no
-- sign-in (offboarded 'disabled'), and `left_at` says it was the import, so that a file that
-- lists them again brings them back. A block by the coordinator or the operator has no left_at.
ALTER TABLE users ADD COLUMN left_at BIGINT;
