-- Search reads walkers in the order it answers (nearest, cheapest or best rated first) and stops
-- once it has a page, instead of filtering every walker within 25 km and sorting them: the centre
-- and the service area are stored (not computed per row) and each order has its index.
ALTER TABLE walker_profiles
    ADD COLUMN location    earth GENERATED ALWAYS AS (ll_to_earth(lat, lon)) STORED,
    ADD COLUMN area        cube GENERATED ALWAYS AS (earth_box(ll_to_earth(lat, lon), radius_km * 1000)) STORED,
    ADD COLUMN rating_rank double precision GENERATED ALWAYS AS
        (CASE WHEN rating_count > 0 THEN -(rating_sum::double precision / rating_count) ELSE 0 END) STORED;

DROP INDEX walker_profiles_verified_location;
CREATE INDEX walker_profiles_verified_location ON walker_profiles USING gist (location)
    WHERE verification = 'verified';
CREATE INDEX walker_profiles_verified_price ON walker_profiles (price_cents_per_30min, user_id)
    WHERE verification = 'verified';
CREATE INDEX walker_profiles_verified_rating ON walker_profiles (rating_rank, user_id)
    WHERE verification = 'verified';
