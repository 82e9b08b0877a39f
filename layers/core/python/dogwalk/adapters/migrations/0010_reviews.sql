-- One review per completed booking, by its owner; the walker's rating aggregate moves with it.
CREATE TABLE reviews (
    booking_id  uuid PRIMARY KEY REFERENCES bookings (id),
    owner_id    uuid NOT NULL REFERENCES users (id),
    walker_id   uuid NOT NULL REFERENCES users (id),
    rating      smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment     text CHECK (length(comment) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reviews_by_walker ON reviews (walker_id, created_at);
