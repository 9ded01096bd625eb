-- Operator settings that every node reads, such as the outage notice on login pages.
CREATE TABLE settings (
    key             TEXT PRIMARY KEY NOT NULL,
    value           TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);
