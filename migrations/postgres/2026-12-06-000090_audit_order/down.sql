DROP INDEX audit_events_school;
DROP INDEX audit_events_seq;
ALTER TABLE audit_events DROP COLUMN seq;
CREATE INDEX audit_events_school ON audit_events (school_ref, at);
