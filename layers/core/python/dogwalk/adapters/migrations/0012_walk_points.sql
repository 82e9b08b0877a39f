-- GPS points and walk events, time-partitioned. A point is (walk, ts): redelivery inserts nothing.
-- Where the timescaledb extension is loaded (self-hosted, Timescale Cloud) the points are a
-- hypertable with 7-day chunks; elsewhere (Aurora/RDS, the embedded PostgreSQL) native monthly
-- range partitions, made ahead and dropped after the retention period by
-- `walk_points_maintain`, which the daily `maintain_walk_points` function calls.
DO $$
BEGIN
    IF current_setting('shared_preload_libraries', true) LIKE '%timescaledb%'
       AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
        CREATE TABLE walk_points (
            walk_id  uuid NOT NULL,
            ts       timestamptz NOT NULL,
            lat      double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
            lon      double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
            accuracy real,
            speed    real,
            battery  smallint,
            PRIMARY KEY (walk_id, ts)
        );
        PERFORM create_hypertable('walk_points', 'ts', chunk_time_interval => interval '7 days');
    ELSE
        CREATE TABLE walk_points (
            walk_id  uuid NOT NULL,
            ts       timestamptz NOT NULL,
            lat      double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
            lon      double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
            accuracy real,
            speed    real,
            battery  smallint,
            PRIMARY KEY (walk_id, ts)
        ) PARTITION BY RANGE (ts);
    END IF;
END $$;

-- Make the monthly partitions from this month to `months_ahead` ahead, and drop those wholly
-- older than `retention`; what it made and dropped. A no-op for a hypertable (TimescaleDB's
-- own retention policy applies there: add_retention_policy).
CREATE FUNCTION walk_points_maintain(months_ahead integer DEFAULT 3, retention interval DEFAULT '400 days')
RETURNS TABLE (made text[], dropped text[]) LANGUAGE plpgsql AS $$
DECLARE
    month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
    name text;
    old record;
BEGIN
    made := '{}'; dropped := '{}';
    IF NOT EXISTS (SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
                    WHERE c.relname = 'walk_points') THEN
        RETURN NEXT; RETURN;
    END IF;
    FOR i IN 0 .. months_ahead LOOP
        name := format('walk_points_%s', to_char(month + make_interval(months => i), 'YYYY_MM'));
        IF to_regclass(name) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF walk_points FOR VALUES FROM (%L) TO (%L)', name,
                           (month + make_interval(months => i))::timestamp AT TIME ZONE 'UTC',
                           (month + make_interval(months => i + 1))::timestamp AT TIME ZONE 'UTC');
            made := made || name;
        END IF;
    END LOOP;
    FOR old IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'walk_points'::regclass AND c.relname ~ '^walk_points_\d{4}_\d{2}$'
                  AND to_date(substring(c.relname from '\d{4}_\d{2}$'), 'YYYY_MM') + interval '1 month'
                      <= now() - retention LOOP
        EXECUTE format('DROP TABLE %I', old.relname);
        dropped := dropped || old.relname::text;
    END LOOP;
    RETURN NEXT;
END $$;
SELECT walk_points_maintain();

CREATE TABLE walk_events (
    walk_id uuid NOT NULL REFERENCES walks (id),
    ts      timestamptz NOT NULL,
    type    text NOT NULL CHECK (type IN ('pee', 'poo', 'water', 'photo', 'note')),
    lat     double precision CHECK (lat BETWEEN -90 AND 90),
    lon     double precision CHECK (lon BETWEEN -180 AND 180),
    note    text CHECK (length(note) <= 2000),
    PRIMARY KEY (walk_id, ts, type)
);

-- The walk's summary, kept up to date on ingest (never by rescanning the points) and frozen at
-- completion: distance over the accepted points in time order, counts, the last position.
ALTER TABLE walks
    ADD COLUMN distance_m double precision NOT NULL DEFAULT 0,
    ADD COLUMN points     integer NOT NULL DEFAULT 0,
    ADD COLUMN dropped    jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN events     jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN first_ts   timestamptz,
    ADD COLUMN last_ts    timestamptz,
    ADD COLUMN last_lat   double precision,
    ADD COLUMN last_lon   double precision;
