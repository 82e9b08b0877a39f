"""The payments service's CDK: the payment gateway's secret."""
