"""The bookings service's handlers: one module per function declared in dogwalk/bookings/registry.py."""
