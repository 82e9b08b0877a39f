-- What a booking request carries: where to pick the dogs up, the price it was quoted at, the
-- payment hold at the gateway, and the weekly series it belongs to.
ALTER TABLE bookings
    ADD COLUMN pickup_lat        double precision CHECK (pickup_lat BETWEEN -90 AND 90),
    ADD COLUMN pickup_lon        double precision CHECK (pickup_lon BETWEEN -180 AND 180),
    ADD COLUMN pickup_address    text CHECK (length(pickup_address) <= 500),
    ADD COLUMN notes             text CHECK (length(notes) <= 2000),
    ADD COLUMN series_id         uuid,
    ADD COLUMN price             jsonb,
    ADD COLUMN currency          text NOT NULL DEFAULT 'USD',
    ADD COLUMN payment_method_id uuid REFERENCES payment_methods (id),
    ADD COLUMN payment_intent_id text UNIQUE,
    ADD COLUMN payment_status    text CHECK (payment_status IN
        ('authorized', 'captured', 'voided', 'refunded', 'partially_refunded')),
    ADD COLUMN authorized_cents  integer NOT NULL DEFAULT 0,
    ADD COLUMN captured_cents    integer NOT NULL DEFAULT 0,
    ADD COLUMN refunded_cents    integer NOT NULL DEFAULT 0,
    ADD COLUMN tip_cents         integer NOT NULL DEFAULT 0;
CREATE INDEX bookings_by_walker ON bookings (walker_id, start_ts);
CREATE INDEX bookings_by_series ON bookings (series_id) WHERE series_id IS NOT NULL;
