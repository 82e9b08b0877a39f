"""Payments: the payment gateway adapter (`gateway`, Stripe), the double-entry `ledger`, tips
(`tips`), walkers' payouts and earnings (`payouts`) and the gateway's signed events (`webhooks`);
declarations in `registry`."""
