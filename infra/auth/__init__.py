"""The auth service's CDK: the JWT signing keys' secret."""
