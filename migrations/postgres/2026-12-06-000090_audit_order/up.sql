-- The trail's own order: `seq` grows with every line written, so lines written in the same
-- second keep the order they were written in, and a page of the Logboek starts exactly where
-- the one before ended. Existing lines are numbered by time.
CREATE SEQUENCE audit_events_seq_seq;
ALTER TABLE audit_events ADD COLUMN seq BIGINT;
UPDATE audit_events SET seq = numbered.n
    FROM (SELECT id, row_number() OVER (ORDER BY at, id) AS n FROM audit_events) AS numbered
    WHERE audit_events.id = numbered.id;
SELECT setval('audit_events_seq_seq', COALESCE((SELECT MAX(seq) FROM audit_events), 0) + 1, false);
ALTER TABLE audit_events
    ALTER COLUMN seq SET DEFAULT nextval('audit_events_seq_seq'),
    ALTER COLUMN seq SET NOT NULL;
ALTER SEQUENCE audit_events_seq_seq OWNED BY audit_events.seq;
CREATE UNIQUE INDEX audit_events_seq ON audit_events (seq);
DROP INDEX audit_events_school;
CREATE INDEX audit_events_school ON audit_events (school_ref, seq);
