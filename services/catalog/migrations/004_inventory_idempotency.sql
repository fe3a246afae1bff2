-- Idempotency-Key of stock adjustments (POST /inventory/:productId/adjustments).
--
-- A client that retries an adjustment after a timeout must not move stock
-- twice. The first request with a key claims it (this row, inserted in the
-- adjustment's own transaction, so a concurrent request with the same key
-- waits on the unique index until the first commits or rolls back) and
-- stores its answer; later requests with that key replay the answer. Only
-- successful adjustments are remembered: a refused one (409, 422) rolls back
-- with its claim, and a retry is judged afresh.
--
-- Keys are per caller (the token subject): two callers never see each
-- other's answers. 'fingerprint' is a digest of the product and the body,
-- so a key reused for a different request is refused rather than replayed.
CREATE TABLE inventory_idempotency (
    actor       text NOT NULL CHECK (char_length(actor) BETWEEN 1 AND 64),
    key         text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    fingerprint text NOT NULL,
    response    jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor, key)
);
-- For purging keys past their retention (24 hours).
CREATE INDEX inventory_idempotency_created_idx ON inventory_idempotency (created_at);
