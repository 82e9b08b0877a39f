"""Shared adapters every service builds on: settings-driven clients for PostgreSQL (`db`), Redis
(`cache`) and the AWS APIs (`aws`), logging and metrics (`observability`), keyset pages
(`pagination`), Redis rate limits (`ratelimit`) and the SQL migrations (`migrations`).

Adapters import nothing of the services, the events ring or the HTTP edge."""
