"""The auth service: accounts and passwords (`accounts`, `passwords`, `users`), refresh-token
families (`sessions`), TOTP (`totp`), access tokens and their signing keys (`tokens`,
`signing_keys`, `jwks`), suspension (`suspensions`), the principal behind a token for the
authorizers (`principals`), and its declarations (`registry`)."""
