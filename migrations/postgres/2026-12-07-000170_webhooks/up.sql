-- Change notifications (webhooks): where a party wants them, and the outbox they leave from.

-- A party's webhook (`client add --webhook-uri`, `client webhook`): where Leerpoort POSTs its
-- Security Event Tokens.
CREATE TABLE webhook_endpoints (
    rp_id        TEXT PRIMARY KEY NOT NULL REFERENCES relying_parties(id) ON DELETE CASCADE,
    url          TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);

-- One event for one party, written in the transaction of the change it announces. The id is
-- the event's `jti`: the same on every attempt. A node claims a row (claimed_by, claimed_until)
-- before it delivers it, so two nodes never send the same event at once.
CREATE TABLE webhook_outbox (
    id               TEXT PRIMARY KEY NOT NULL,
    rp_id            TEXT NOT NULL REFERENCES relying_parties(id) ON DELETE CASCADE,
    event            TEXT NOT NULL,
    school_ref       TEXT,
    details          TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    claimed_by       TEXT,
    claimed_until    BIGINT,
    delivered_at     BIGINT,
    failed_at        BIGINT,
    last_error       TEXT
);

CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX webhook_outbox_rp ON webhook_outbox (rp_id, created_at);
