"""The notifications service's handlers: one module per function declared in dogwalk/notifications/registry.py."""
