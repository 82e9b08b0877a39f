"""The platform's own CDK: the migrations run on every deploy (`migrations`)."""
