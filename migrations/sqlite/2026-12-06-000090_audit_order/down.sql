CREATE TABLE audit_events_unordered (
    id              TEXT PRIMARY KEY NOT NULL,
    at              BIGINT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    school_ref      TEXT,
    subject         TEXT,
    details         TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO audit_events_unordered
    SELECT id, at, actor, action, school_ref, subject, details FROM audit_events ORDER BY seq;
DROP TABLE audit_events;
ALTER TABLE audit_events_unordered RENAME TO audit_events;
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_school ON audit_events (school_ref, at);
