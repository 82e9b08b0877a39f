"""Bookings: a walk from quote and request to answer, start, completion, cancellation and review
(`lifecycle`, the state machine with its audit rows), the price and the cancellation policy
(`pricing`), and the gateway's events that reconcile them (`reconciliation`); declarations in
`registry`."""
