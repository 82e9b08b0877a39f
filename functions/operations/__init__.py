"""The operations service's handlers: one module per function declared in dogwalk/operations/registry.py."""
