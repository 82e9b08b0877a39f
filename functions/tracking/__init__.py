"""The tracking service's handlers: one module per function declared in dogwalk/tracking/registry.py."""
