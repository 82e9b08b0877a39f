-- Users of every role; the auth issue adds credentials' details, later issues their profiles.
CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         citext NOT NULL UNIQUE,
    role          text NOT NULL CHECK (role IN ('owner', 'walker', 'admin')),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    phone         text,
    password_hash text NOT NULL,
    mfa_enabled   boolean NOT NULL DEFAULT false,
    suspended_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
