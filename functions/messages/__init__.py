"""The messages service's handlers: one module per function declared in dogwalk/messages/registry.py."""
