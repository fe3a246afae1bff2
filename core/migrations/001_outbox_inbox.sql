-- Transactional outbox and consumer inbox, shared by every service (scope "core",
-- applied before the service's own migrations). See core/include/core/events.h.

-- Events written in the same transaction as the change they describe; the relay
-- publishes unsent rows and sets published_at once RabbitMQ confirmed them.
CREATE TABLE outbox (
    id           uuid PRIMARY KEY,
    routing_key  text NOT NULL,
    payload      jsonb NOT NULL,            -- the full envelope, published as-is
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    attempts     int NOT NULL DEFAULT 0,    -- failed publish attempts
    last_error   text
);

-- The relay's query: unsent rows, oldest first. Partial, so it stays as small as
-- the backlog however many published rows accumulate.
CREATE INDEX outbox_unpublished_idx ON outbox (created_at) WHERE published_at IS NULL;

-- Events a consumer has processed: a redelivery finds its row and has no effect.
CREATE TABLE inbox (
    consumer     text NOT NULL,             -- "<service>.<subscription>"
    event_id     uuid NOT NULL,
    routing_key  text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
