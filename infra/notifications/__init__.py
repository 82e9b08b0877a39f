"""The notifications service's CDK: the events topic's fan-out to the channel queues, SES and push (`fanout`)."""
