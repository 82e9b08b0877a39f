-- Walker payouts through Stripe Connect: each walker's connected account (our copy of it, kept
-- current by the gateway's account.updated events), and the weekly payout as a transfer to it.

CREATE TABLE connected_accounts (
    walker_id         uuid PRIMARY KEY REFERENCES users (id),
    account_id        text NOT NULL UNIQUE,          -- the gateway's acct_...
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'enabled', 'restricted')),
    details_submitted boolean NOT NULL DEFAULT false,
    charges_enabled   boolean NOT NULL DEFAULT false,
    payouts_enabled   boolean NOT NULL DEFAULT false,
    transfers         text,                          -- the transfers capability: active, inactive, pending
    disabled_reason   text,
    requirements      jsonb NOT NULL DEFAULT '{}',   -- the account's `requirements` hash, as the gateway said
    -- when the gateway described the account so (an event's `created`, or the moment we read it):
    -- an older event arriving late changes nothing
    synced_at         timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- A payout is now a transfer to the walker's connected account, one per walker and ISO week
-- (UNIQUE (walker_id, period) since 0011; `payout:<walker>:<week>` is its idempotency key at the
-- gateway and its ledger reference). Its row changes as the transfer goes:
--   awaiting_onboarding  no enabled account: nothing sent, nothing posted, the balance kept; the
--                        row moves on to the week of the next run (one such row per walker)
--   pending              the transfer is being made (or its maker died: the next run replays it)
--   failed               the gateway refused or could not be reached; the next run retries it as is
--   paid                 the gateway made the transfer (transfer_id) and the ledger posted it
--   reversed             the transfer was reversed (in part: reversed_cents), posted back
-- `recorded` is a payout of before Connect (posted, no transfer).
ALTER TABLE payouts RENAME COLUMN gateway_id TO transfer_id;
ALTER TABLE payouts ADD CONSTRAINT payouts_transfer_id_key UNIQUE (transfer_id);
ALTER TABLE payouts DROP CONSTRAINT payouts_status_check;
ALTER TABLE payouts ADD CONSTRAINT payouts_status_check
    CHECK (status IN ('recorded', 'awaiting_onboarding', 'pending', 'failed', 'paid', 'reversed'));
ALTER TABLE payouts
    ADD COLUMN account_id      text,                          -- the destination, once a transfer is tried
    ADD COLUMN earned_until    timestamptz,                   -- pays what the walker earned up to here
    ADD COLUMN booking_ids     uuid[] NOT NULL DEFAULT '{}',  -- the walks (and tips) earned since the last payout
    ADD COLUMN attempts        integer NOT NULL DEFAULT 0,
    ADD COLUMN first_attempt_at timestamptz,
    ADD COLUMN last_error      text,
    ADD COLUMN reversed_cents  bigint NOT NULL DEFAULT 0 CHECK (reversed_cents >= 0),
    ADD COLUMN paid_at         timestamptz,
    ADD COLUMN updated_at      timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT payouts_transfer_when_paid
        CHECK ((status IN ('paid', 'reversed')) = (transfer_id IS NOT NULL)),
    ADD CONSTRAINT payouts_reversed_within CHECK (reversed_cents <= amount_cents);
CREATE INDEX payouts_unpaid ON payouts (walker_id) WHERE status IN ('awaiting_onboarding', 'pending', 'failed');

-- no longer append-only, but never deleted, and what was tried or paid stays as it was
DROP TRIGGER payouts_append_only ON payouts;
CREATE FUNCTION payout_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'payouts are never deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.id <> OLD.id OR NEW.walker_id <> OLD.walker_id OR NEW.created_at <> OLD.created_at THEN
        RAISE EXCEPTION 'a payout keeps its id, walker and creation' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.status IN ('recorded', 'paid', 'reversed') AND (
        NEW.status NOT IN (OLD.status, 'reversed') OR NEW.amount_cents <> OLD.amount_cents
        OR NEW.period <> OLD.period OR NEW.transfer_id IS DISTINCT FROM OLD.transfer_id
        OR NEW.reversed_cents < OLD.reversed_cents) THEN
        RAISE EXCEPTION 'payout % was paid: only a reversal changes it', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- once a transfer was tried, its retries must send the same transfer (the same idempotency key)
    IF OLD.status IN ('pending', 'failed') AND (
        NEW.status = 'awaiting_onboarding' OR NEW.amount_cents <> OLD.amount_cents OR NEW.period <> OLD.period
        OR NEW.account_id IS DISTINCT FROM OLD.account_id OR NEW.booking_ids <> OLD.booking_ids) THEN
        RAISE EXCEPTION 'payout % was tried: its transfer cannot change', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER payouts_changes BEFORE UPDATE OR DELETE ON payouts
    FOR EACH ROW EXECUTE FUNCTION payout_changes();
