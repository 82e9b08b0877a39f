-- Disputes (chargebacks) of our charges, as the gateway's charge.dispute.* events describe them,
-- and refunds made by support through the API (POST /v1/admin/bookings/{id}/refund).
-- (`disputed` as a booking's payment status is 0014's.)

-- One row per gateway dispute; the booking it concerns, or that booking's tip when the tip's
-- charge is the one disputed. Every event carries the whole dispute, so the row is the latest
-- state an event described; a closed dispute never reopens.
CREATE TABLE disputes (
    id                   uuid PRIMARY KEY,
    gateway_id           text NOT NULL UNIQUE,          -- the gateway's dp_...
    booking_id           uuid NOT NULL REFERENCES bookings (id),
    of_tip               boolean NOT NULL DEFAULT false, -- the tip's charge, not the walk's
    payment_intent_id    text NOT NULL,
    charge_id            text,
    amount_cents         integer NOT NULL CHECK (amount_cents > 0),
    currency             text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    reason               text NOT NULL,
    status               text NOT NULL CHECK (status IN (
        'warning_needs_response', 'warning_under_review', 'warning_closed',
        'needs_response', 'under_review', 'won', 'lost', 'prevented')),
    -- the booking's payment status when the dispute opened: given back when it is won
    prior_payment_status text,
    opened_at            timestamptz NOT NULL,          -- the dispute's `created` at the gateway
    closed_at            timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK ((closed_at IS NOT NULL) = (status IN ('warning_closed', 'won', 'lost', 'prevented')))
);
-- the admin list: newest first, all or by status (keyset on created_at, id)
CREATE INDEX disputes_newest ON disputes (created_at DESC, id DESC);
CREATE INDEX disputes_by_status ON disputes (status, created_at DESC, id DESC);
CREATE INDEX disputes_by_booking ON disputes (booking_id);

-- A refund by support is written `pending` before the gateway is called: its id is the gateway's
-- idempotency key (refund:<booking>:<id>), so a retry after a crash refunds once. `request_key`
-- is the request's Idempotency-Key, so that its retry finds the refund it already made.
CREATE TABLE support_refunds (
    id           uuid PRIMARY KEY,
    booking_id   uuid NOT NULL REFERENCES bookings (id),
    admin_id     uuid NOT NULL REFERENCES users (id),
    amount_cents integer NOT NULL CHECK (amount_cents > 0),
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    reason       text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    request_key  text CHECK (length(request_key) BETWEEN 1 AND 255),
    status       text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    gateway_id   text UNIQUE,                           -- the gateway's re_..., once known
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (booking_id, admin_id, request_key)
);
-- one refund of a booking in flight at a time: a retry (or a double tap) takes it up again
CREATE UNIQUE INDEX support_refunds_one_pending ON support_refunds (booking_id) WHERE status = 'pending';
