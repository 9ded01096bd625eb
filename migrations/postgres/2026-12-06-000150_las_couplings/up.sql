-- An LAS is a relying party of its own kind (`las`).
ALTER TABLE relying_parties DROP CONSTRAINT relying_parties_kind_check;
ALTER TABLE relying_parties ADD CONSTRAINT relying_parties_kind_check
    CHECK (kind IN ('publisher', 'network', 'las'));

-- The automatic coupling with a school's pupil administration (LAS).
--
-- `las_suppliers`: an LAS vendor's system, registered by the operator. It is a relying party
-- of kind `las` (its own client at /oidc/token, for the push API); `uwlr_url` is its UWLR 2.3
-- endpoint when Leerpoort fetches (pull) instead of, or beside, being sent (push).
CREATE TABLE las_suppliers (
    rp_id TEXT PRIMARY KEY NOT NULL REFERENCES relying_parties (id),
    uwlr_url TEXT
);

-- One row per school and LAS, with the two sides of consent apart: the school's choice in
-- Beheer ("Gebruikersgegevens invoeren": automatic with this LAS) and the LAS's (a push LAS
-- turned Leerpoort on as koppelpartner through the API; for a pull LAS, the
-- autorisatiesleutel it issued for the school is on file, sealed). A coupling is active only
-- when both hold. A school chooses at most one LAS at a time.
CREATE TABLE las_couplings (
    school_ref TEXT NOT NULL REFERENCES schools (instelling_ref),
    las_id TEXT NOT NULL REFERENCES las_suppliers (rp_id),
    school_chose_at BIGINT,
    las_granted_at BIGINT,
    autorisatiesleutel TEXT,
    last_run_at BIGINT,
    last_outcome TEXT,
    PRIMARY KEY (school_ref, las_id)
);
CREATE UNIQUE INDEX las_couplings_one_choice ON las_couplings (school_ref)
    WHERE school_chose_at IS NOT NULL;
