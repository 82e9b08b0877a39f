"""The dog-walking platform's shared Lambda layer: configuration, adapters and domain logic."""
