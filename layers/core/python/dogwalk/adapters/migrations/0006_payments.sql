-- Payment methods (only the gateway's ids, brand, last 4 and expiry: the card never touches us)
-- and the idempotency records that make a retried mutating request answer as the first did.
CREATE TABLE payment_customers (
    owner_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    gateway_id  text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE payment_methods (
    id          uuid PRIMARY KEY,
    owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    gateway_id  text NOT NULL UNIQUE,
    brand       text NOT NULL,
    last4       text NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
    exp_month   smallint NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
    exp_year    smallint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_methods_by_owner ON payment_methods (owner_id, created_at, id);

CREATE TABLE idempotency_keys (
    user_id       uuid NOT NULL,
    endpoint      text NOT NULL,
    key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash  bytea NOT NULL,
    status_code   smallint,                    -- NULL while the first request runs
    response      jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, endpoint, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
