"""The care service's handlers: one module per function declared in dogwalk/care/registry.py."""
