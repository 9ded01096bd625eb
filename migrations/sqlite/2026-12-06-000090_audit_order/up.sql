-- The trail's own order: `seq` grows with every line written, so lines written in the same
-- second keep the order they were written in, and a page of the Logboek starts exactly where
-- the one before ended. Existing lines are numbered by time.
CREATE TABLE audit_events_ordered (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    at              BIGINT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    school_ref      TEXT,
    subject         TEXT,
    details         TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO audit_events_ordered (id, at, actor, action, school_ref, subject, details)
    SELECT id, at, actor, action, school_ref, subject, details FROM audit_events ORDER BY at, rowid;
DROP TABLE audit_events;
ALTER TABLE audit_events_ordered RENAME TO audit_events;
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_school ON audit_events (school_ref, seq);
