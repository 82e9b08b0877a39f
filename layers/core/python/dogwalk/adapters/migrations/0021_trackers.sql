-- A walker's stock tracker app (OwnTracks, Overland): one long-lived credential per walker, made by
-- POST /v1/walkers/me/tracker (a new one replaces it), revoked by DELETE. The username is public
-- (it is in the MQTT topic `owntracks/<username>/<device>`); the password is 256 random bits, kept
-- only as its SHA-256 (a digest of a secret that cannot be guessed needs no slow hash).
CREATE TABLE tracker_credentials (
    walker_id     uuid PRIMARY KEY REFERENCES users (id),
    username      text NOT NULL UNIQUE CHECK (username ~ '^ot[0-9a-f]{20}$'),
    secret_sha256 bytea NOT NULL CHECK (length(secret_sha256) = 32),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz
);
