-- Booking changes (API.md, "Booking changes and series"): the owner asks for a new start, duration or
-- dogs. A requested booking changes at once (the change is kept `applied`); an accepted one gets a
-- `proposed` change its walker accepts or declines; a newer proposal supersedes an older one, so a
-- booking has at most one open proposal (the partial unique index, whatever the code does). The new
-- time is guarded by the bookings' own exclusion constraint when it is applied (0007).
CREATE TABLE booking_changes (
    id           uuid PRIMARY KEY,
    booking_id   uuid NOT NULL REFERENCES bookings (id),
    proposed_by  uuid NOT NULL REFERENCES users (id),
    status       text NOT NULL CHECK (status IN ('proposed', 'accepted', 'declined', 'superseded', 'applied')),
    start_ts     timestamptz NOT NULL,
    end_ts       timestamptz NOT NULL CHECK (end_ts > start_ts),
    dog_ids      uuid[] NOT NULL CHECK (cardinality(dog_ids) BETWEEN 1 AND 6),
    price        jsonb NOT NULL,
    -- what the booking was before (start, end, dogs, price): the audit of a change applied
    previous     jsonb,
    -- the hold placed for the new price (its gateway idempotency key is hold:<booking>:change:<id>)
    payment_intent_id text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    decided_at   timestamptz,
    decided_by   uuid REFERENCES users (id)
);
CREATE UNIQUE INDEX booking_changes_one_open ON booking_changes (booking_id) WHERE status = 'proposed';
CREATE INDEX booking_changes_by_booking ON booking_changes (booking_id, created_at);
