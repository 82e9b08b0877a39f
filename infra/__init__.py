"""The CDK app's constructs and stacks: AWS resources derived from `dogwalk.registry`."""
