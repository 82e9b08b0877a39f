"""The HTTP edge every endpoint shares: the Powertools resolver per function with problem+json
errors and roles (`api`), the request and response models (`schemas`, `views`) and the
`Idempotency-Key` store (`idempotency`). It may import any service; no service imports it."""
