-- Accounts for real: verified emails, single-use account tokens (email verification, password
-- reset), identities at Apple and Google, and deleted accounts (the row stays, anonymised, for the
-- bookings, reviews and ledger entries that name it).

ALTER TABLE users
    ADD COLUMN email_verified_at timestamptz,
    -- set once, by the deletion that anonymised the row; such a row never signs in again
    ADD COLUMN deleted_at        timestamptz,
    -- an account made with Apple or Google has no password until it sets one through a reset;
    -- NULL never verifies (login verifies a dummy hash instead, in the same time)
    ALTER COLUMN password_hash DROP NOT NULL;

-- The SHA-256 of a normalised (lower-case) address: what a password-reset request carries through
-- the outbox and the queues instead of the address itself, and how its email is found at delivery.
-- IMMUTABLE although convert_to is only STABLE: the database's encoding is UTF-8 and never changes,
-- so the same address always gives the same bytes (the expression index needs it immutable).
CREATE FUNCTION email_digest(address text) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN sha256(convert_to(lower(address), 'UTF8'));
CREATE INDEX users_by_email_digest ON users (email_digest(email::text));

-- Single-use tokens mailed to the user: 256 random bits, only their SHA-256 kept. `email_digest`
-- is the address the token was mailed to: a verification proves that address only, so a changed
-- email makes its pending verification tokens useless.
CREATE TABLE account_tokens (
    token_hash   bytea PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('verify_email', 'reset_password')),
    email_digest bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL CHECK (expires_at > created_at),
    used_at      timestamptz,
    -- a newer reset token, a successful reset or a verification voids the user's other live tokens
    voided_at    timestamptz
);
CREATE INDEX account_tokens_live ON account_tokens (user_id, kind) WHERE used_at IS NULL AND voided_at IS NULL;

-- Who the user is at an identity provider: (provider, subject) is one person there, linked to one
-- of our users; a user may link several (Apple and Google). Removed when the account is deleted.
CREATE TABLE oidc_identities (
    provider     text NOT NULL CHECK (provider IN ('apple', 'google')),
    subject      text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- the address the provider gave (Apple's private relay addresses are real ones), at linking
    email        citext,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, subject)
);
CREATE INDEX oidc_identities_by_user ON oidc_identities (user_id);
