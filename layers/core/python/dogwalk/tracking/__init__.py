"""Tracking: GPS and walk events from phones (`ingest`: parse, filter, store), the device
authorizer's rule (`device_policy`), the live view over WebSockets (`live`), walk summaries and
routes (`walks`), their geometry (`geometry`), the report card (`report_card`) and the walk
points' partitions (`partitions`); declarations in `registry`."""
