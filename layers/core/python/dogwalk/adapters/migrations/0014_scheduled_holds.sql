-- Holds placed at most 5 days before the walk (API.md, "When the hold is placed"): a booking further
-- ahead waits with its payment `scheduled` until a job places the hold; a hold that fails is
-- `failed` until the owner fixes it or its deadline cancels the booking. Every payment status of
-- the contract, `disputed` included (the disputes work relies on this constraint).
ALTER TABLE bookings DROP CONSTRAINT bookings_payment_status_check;
ALTER TABLE bookings
    ADD CONSTRAINT bookings_payment_status_check CHECK (payment_status IN
        ('scheduled', 'authorized', 'failed', 'captured', 'voided', 'refunded', 'partially_refunded', 'disputed')),
    -- the attempts made to hold (or charge) the price; attempt n's gateway idempotency key is
    -- hold:<booking>:<n>, so a retry after a lost answer finds attempt n, and a new attempt is new
    ADD COLUMN hold_attempts    integer NOT NULL DEFAULT 0 CHECK (hold_attempts >= 0),
    -- a failed payment's deadline: the booking is cancelled then, unless the owner fixed it
    ADD COLUMN payment_deadline timestamptz,
    ADD CONSTRAINT bookings_failed_payment_has_a_deadline
        CHECK (payment_status IS DISTINCT FROM 'failed' OR payment_deadline IS NOT NULL);

-- the holds placed so far were each the booking's first attempt (key authorize:<booking>)
UPDATE bookings SET hold_attempts = 1 WHERE payment_intent_id IS NOT NULL;

-- the job's two questions: which holds are due (by the walk's start: due 5 days before it, a rule
-- of the start that a column would only repeat), and which failed payments ran out of time
CREATE INDEX bookings_holds_to_place ON bookings (start_ts)
    WHERE payment_status = 'scheduled' AND status IN ('requested', 'accepted');
CREATE INDEX bookings_payment_deadlines ON bookings (payment_deadline)
    WHERE payment_status = 'failed';
