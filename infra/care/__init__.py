"""The care service's CDK: the key that seals the owners' home access."""
