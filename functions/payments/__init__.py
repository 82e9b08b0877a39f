"""The payments service's handlers: one module per function declared in dogwalk/payments/registry.py."""
