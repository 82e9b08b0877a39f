"""The auth service's handlers: one module per function declared in dogwalk/auth/registry.py."""
