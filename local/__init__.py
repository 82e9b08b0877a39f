"""The local platform: the deployed handlers, unchanged, on real PostgreSQL, Redis and MQTT
and on moto for the AWS APIs, with no AWS account and no Docker (`make run`)."""
