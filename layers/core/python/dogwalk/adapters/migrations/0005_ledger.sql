-- The double-entry ledger: every money movement is one transaction whose entries sum to zero.
-- Balance is checked by the database at commit (a deferred constraint trigger), entries can
-- never be changed or removed (a trigger), and a transaction's reference makes posting it twice
-- impossible (a retried capture posts once).
CREATE TABLE ledger_accounts (
    id         text PRIMARY KEY,                 -- e.g. platform:revenue, walker:<uuid>:payable
    kind       text NOT NULL CHECK (kind IN ('asset', 'liability', 'revenue', 'expense')),
    user_id    uuid REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ledger_transactions (
    id          uuid PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('capture', 'refund', 'tip', 'payout', 'adjustment')),
    reference   text NOT NULL UNIQUE,            -- our own operation id: capture:<booking id>, ...
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ledger_entries (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id uuid NOT NULL REFERENCES ledger_transactions (id),
    account_id     text NOT NULL REFERENCES ledger_accounts (id),
    amount_cents   bigint NOT NULL CHECK (amount_cents <> 0),   -- debit > 0, credit < 0
    currency       text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entries_by_transaction ON ledger_entries (transaction_id);
CREATE INDEX ledger_entries_by_account ON ledger_entries (account_id, created_at);

CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE FUNCTION ledger_transaction_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced record;
BEGIN
    SELECT currency, sum(amount_cents) AS total, count(*) AS entries INTO unbalanced
      FROM ledger_entries WHERE transaction_id = NEW.transaction_id
     GROUP BY currency HAVING sum(amount_cents) <> 0 OR count(*) < 2 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance in % (sum %, % entries)',
            NEW.transaction_id, unbalanced.currency, unbalanced.total, unbalanced.entries
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_entries_balance AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balances();
