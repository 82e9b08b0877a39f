"""Care and home access: the owner's home (its access secrets encrypted at rest), what the booked
walker may read around the walk, and who read it; declarations in `registry`."""
