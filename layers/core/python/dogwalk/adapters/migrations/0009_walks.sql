-- A walk exists once its booking starts; the tracking issue fills in its points and summary.
CREATE TABLE walks (
    id          uuid PRIMARY KEY,
    booking_id  uuid NOT NULL UNIQUE REFERENCES bookings (id),
    started_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz,
    summary     jsonb
);
