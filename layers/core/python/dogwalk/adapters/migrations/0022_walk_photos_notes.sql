-- Walks for real: the walker's note on the walk, `food` events, photos (uploaded straight to
-- object storage, checked and cleaned by a queue consumer), and late and no-show walks.

ALTER TABLE walks ADD COLUMN note text CHECK (length(note) <= 1000);

-- A photo the walker uploads during the walk: `pending` until the bucket's notification reaches
-- the photo check, then `ready` (re-encoded without metadata, with its thumbnail) or `rejected`.
CREATE TABLE walk_photos (
    id           uuid PRIMARY KEY,
    walk_id      uuid NOT NULL REFERENCES walks (id),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    size_bytes   integer NOT NULL CHECK (size_bytes BETWEEN 1 AND 10485760),
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'rejected')),
    reason       text,
    width        integer,
    height       integer,
    created_at   timestamptz NOT NULL DEFAULT now(),
    checked_at   timestamptz,
    UNIQUE (walk_id, id)
);
CREATE INDEX walk_photos_by_walk ON walk_photos (walk_id, created_at);

ALTER TABLE walk_events DROP CONSTRAINT walk_events_type_check;
ALTER TABLE walk_events
    ADD CONSTRAINT walk_events_type_check CHECK (type IN ('pee', 'poo', 'water', 'food', 'photo', 'note')),
    -- a photo event may name one photo of the same walk
    ADD COLUMN photo_id uuid CHECK (photo_id IS NULL OR type = 'photo'),
    ADD CONSTRAINT walk_events_photo FOREIGN KEY (walk_id, photo_id) REFERENCES walk_photos (walk_id, id);

-- Late and no-show: `walk.late` is sent once (the marker set by the conditional UPDATE that sends
-- it); a walk not started 60 minutes after its start is cancelled and counts on the walker.
ALTER TABLE bookings ADD COLUMN late_notified_at timestamptz;
CREATE INDEX bookings_accepted_by_start ON bookings (start_ts) WHERE status = 'accepted';
ALTER TABLE walker_profiles ADD COLUMN no_shows integer NOT NULL DEFAULT 0 CHECK (no_shows >= 0);
