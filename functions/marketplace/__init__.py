"""The marketplace service's handlers: one module per function declared in dogwalk/marketplace/registry.py."""
