-- A merger (fusie): the consents of the school that merged wait here for the ICT coordinator
-- of the school it merged into, who takes them over on the consent page (or not). The
-- consents themselves are read from the merged school's registrations when shown.
CREATE TABLE merger_offers (
    school_ref      TEXT NOT NULL REFERENCES schools (instelling_ref),
    merged_ref      TEXT NOT NULL REFERENCES schools (instelling_ref),
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (school_ref, merged_ref)
);
