-- The marketplace: dogs, walker profiles, weekly availability, time off, verification with its
-- audit trail, the domain-event outbox, and the bookings that search must not double-book.
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE dogs (
    id          uuid PRIMARY KEY,
    owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    breed       text CHECK (length(breed) <= 100),
    size        text NOT NULL CHECK (size IN ('small', 'medium', 'large', 'giant')),
    birth_date  date,
    notes       text CHECK (length(notes) <= 2000),
    vaccinated  boolean NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- a deleted dog stays for the bookings that walked it
    deleted_at  timestamptz
);
CREATE INDEX dogs_by_owner ON dogs (owner_id, created_at, id) WHERE deleted_at IS NULL;

CREATE TABLE walker_profiles (
    user_id               uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    bio                   text NOT NULL DEFAULT '' CHECK (length(bio) <= 4000),
    price_cents_per_30min integer NOT NULL CHECK (price_cents_per_30min BETWEEN 100 AND 100000),
    lat                   double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon                   double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    radius_km             double precision NOT NULL CHECK (radius_km > 0 AND radius_km <= 25),
    max_dogs              smallint NOT NULL CHECK (max_dogs BETWEEN 1 AND 6),
    accepted_sizes        text[] NOT NULL
        CHECK (accepted_sizes <@ ARRAY['small', 'medium', 'large', 'giant'] AND cardinality(accepted_sizes) > 0),
    timezone              text NOT NULL,
    verification          text NOT NULL DEFAULT 'unverified'
        CHECK (verification IN ('unverified', 'pending', 'verified', 'rejected')),
    rating_sum            integer NOT NULL DEFAULT 0,
    rating_count          integer NOT NULL DEFAULT 0,
    completed_walks       integer NOT NULL DEFAULT 0,
    updated_at            timestamptz NOT NULL DEFAULT now()
);
-- search: a 25 km earth box around the point finds candidate centres through this index
CREATE INDEX walker_profiles_verified_location ON walker_profiles
    USING gist (ll_to_earth(lat, lon)) WHERE verification = 'verified';

-- weekly windows in the walker's local time; minutes of the day, [start, end)
CREATE TABLE availability_windows (
    walker_id  uuid NOT NULL REFERENCES walker_profiles (user_id) ON DELETE CASCADE,
    weekday    smallint NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    minutes    int4range NOT NULL CHECK (lower(minutes) >= 0 AND upper(minutes) <= 1440 AND NOT isempty(minutes)),
    EXCLUDE USING gist (walker_id WITH =, weekday WITH =, minutes WITH &&)
);

CREATE TABLE time_off (
    id         uuid PRIMARY KEY,
    walker_id  uuid NOT NULL REFERENCES walker_profiles (user_id) ON DELETE CASCADE,
    period     tstzrange NOT NULL CHECK (NOT isempty(period)),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX time_off_by_walker ON time_off USING gist (walker_id, period);

CREATE TABLE verification_submissions (
    id           uuid PRIMARY KEY,
    walker_id    uuid NOT NULL REFERENCES walker_profiles (user_id) ON DELETE CASCADE,
    documents    jsonb NOT NULL,
    submitted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX verification_submissions_by_walker ON verification_submissions (walker_id, submitted_at DESC);

-- the audit trail of admin decisions: rows are added, never changed
CREATE TABLE verification_decisions (
    id         uuid PRIMARY KEY,
    walker_id  uuid NOT NULL REFERENCES walker_profiles (user_id) ON DELETE CASCADE,
    admin_id   uuid NOT NULL REFERENCES users (id),
    decision   text NOT NULL CHECK (decision IN ('approve', 'reject')),
    reason     text CHECK (length(reason) <= 2000),
    decided_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX verification_decisions_by_walker ON verification_decisions (walker_id, decided_at);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER verification_decisions_append_only BEFORE UPDATE OR DELETE ON verification_decisions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- domain events, written in the transaction of the change they describe; a relay publishes them
CREATE TABLE outbox (
    id             uuid PRIMARY KEY,
    event_type     text NOT NULL,
    recipient_id   uuid REFERENCES users (id) ON DELETE CASCADE,
    recipient_role text,
    payload        jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (created_at) WHERE published_at IS NULL;

-- what search needs of bookings; the bookings issue adds money, audit and the state machine
CREATE TABLE bookings (
    id         uuid PRIMARY KEY,
    owner_id   uuid NOT NULL REFERENCES users (id),
    walker_id  uuid NOT NULL REFERENCES walker_profiles (user_id),
    start_ts   timestamptz NOT NULL,
    end_ts     timestamptz NOT NULL CHECK (end_ts > start_ts),
    status     text NOT NULL CHECK (status IN
                   ('requested', 'accepted', 'in_progress', 'completed', 'declined', 'expired', 'cancelled')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bookings_active_by_walker ON bookings USING gist (walker_id, tstzrange(start_ts, end_ts))
    WHERE status IN ('requested', 'accepted', 'in_progress');
CREATE INDEX bookings_by_owner ON bookings (owner_id, start_ts);

CREATE TABLE booking_dogs (
    booking_id uuid NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    dog_id     uuid NOT NULL REFERENCES dogs (id),
    PRIMARY KEY (booking_id, dog_id)
);
CREATE INDEX booking_dogs_by_dog ON booking_dogs (dog_id);
