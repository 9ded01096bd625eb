-- A file for the next school year, imported ahead: it takes effect on 1 August (00:00
-- Europe/Amsterdam), when the scheduler applies it through the same pipeline. One per school;
-- a newer file replaces it. `payload` is the file as it came (base64), `report` the report
-- of the check made when it was staged (JSON).
CREATE TABLE staged_imports (
    school_ref TEXT PRIMARY KEY NOT NULL,
    school_year TEXT NOT NULL,
    source TEXT NOT NULL,
    payload TEXT NOT NULL,
    report TEXT NOT NULL,
    takes_effect BIGINT NOT NULL,
    staged_at BIGINT NOT NULL
);
CREATE INDEX staged_imports_due ON staged_imports (takes_effect);
