-- The booking state machine's guarantees in the schema: two accepted (or in-progress) bookings
-- of one walker can never overlap, whatever the application does; every transition is audited.
ALTER TABLE bookings
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT bookings_no_double_booking
        EXCLUDE USING gist (walker_id WITH =, tstzrange(start_ts, end_ts) WITH &&)
        WHERE (status IN ('accepted', 'in_progress'));

CREATE TABLE booking_transitions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    booking_id  uuid NOT NULL REFERENCES bookings (id),
    from_status text NOT NULL,
    to_status   text NOT NULL,
    actor_id    uuid REFERENCES users (id),      -- NULL: the platform (expiry)
    reason      text CHECK (length(reason) <= 2000),
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX booking_transitions_by_booking ON booking_transitions (booking_id, at);
CREATE TRIGGER booking_transitions_append_only BEFORE UPDATE OR DELETE ON booking_transitions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
