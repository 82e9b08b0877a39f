-- Credentials' details: TOTP, and refresh tokens in families (rotation with reuse detection).
ALTER TABLE users
    ADD COLUMN totp_secret         text,
    ADD COLUMN totp_pending_secret text,
    -- the last TOTP time step accepted: a code is good once, even within its window
    ADD COLUMN totp_last_step      bigint,
    ADD COLUMN password_changed_at timestamptz NOT NULL DEFAULT now();

CREATE TABLE refresh_families (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    revoked_why text
);
CREATE INDEX refresh_families_live_by_user ON refresh_families (user_id) WHERE revoked_at IS NULL;

-- Only a SHA-256 of each token is stored; the token itself (256 random bits) is never kept.
CREATE TABLE refresh_tokens (
    token_hash  bytea PRIMARY KEY,
    family_id   uuid NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    spent_at    timestamptz
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
