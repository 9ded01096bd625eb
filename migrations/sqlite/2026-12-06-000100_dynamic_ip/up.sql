-- Verbindingstype "Dynamic IP": a school whose address changes runs a small agent that
-- reports it with the school's update token (only its SHA-256 is kept). The reported address
-- is the school's dynamic network, next to the networks the coordinator typed; every change
-- of it is kept in the history.
ALTER TABLE schools ADD COLUMN dynamic_network TEXT;
CREATE TABLE dynamic_ip (
    school_ref      TEXT PRIMARY KEY NOT NULL REFERENCES schools (instelling_ref),
    token_hash      TEXT NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL,
    seen_at         BIGINT
);
CREATE TABLE dynamic_ip_history (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    school_ref      TEXT NOT NULL REFERENCES schools (instelling_ref),
    network         TEXT NOT NULL,
    at              BIGINT NOT NULL
);
CREATE INDEX dynamic_ip_history_school ON dynamic_ip_history (school_ref, seq);
