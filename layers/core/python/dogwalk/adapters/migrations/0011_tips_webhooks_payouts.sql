-- The rest of the money: one tip per completed walk, charged at once; the gateway's events,
-- each processed once; weekly payouts to walkers; refunds made at the gateway.
CREATE TABLE tips (
    booking_id        uuid PRIMARY KEY REFERENCES bookings (id),
    owner_id          uuid NOT NULL REFERENCES users (id),
    walker_id         uuid NOT NULL REFERENCES users (id),
    amount_cents      integer NOT NULL CHECK (amount_cents > 0),
    currency          text NOT NULL,
    status            text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempt           uuid NOT NULL,               -- the gateway idempotency key of this charge
    payment_intent_id text UNIQUE,
    refunded_cents    integer NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- what the gateway's charge of a booking has refunded (cumulative, as its charge.refunded says)
ALTER TABLE bookings ADD COLUMN charge_refunded_cents integer NOT NULL DEFAULT 0;

CREATE TABLE webhook_events (
    id          text PRIMARY KEY,                -- the gateway's event id: processed once
    type        text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE payouts (
    id           uuid PRIMARY KEY,
    walker_id    uuid NOT NULL REFERENCES users (id),
    period       text NOT NULL,                  -- the ISO week it pays, e.g. 2026-W48
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    currency     text NOT NULL,
    status       text NOT NULL CHECK (status IN ('recorded', 'paid')),
    gateway_id   text,                           -- the transfer, where the gateway made one
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (walker_id, period)
);
CREATE INDEX payouts_by_walker ON payouts (walker_id, created_at DESC);
CREATE TRIGGER payouts_append_only BEFORE UPDATE OR DELETE ON payouts
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
