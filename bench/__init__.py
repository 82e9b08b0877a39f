"""Benchmarks (`make bench`): numbers to quote, never assertions in the test suite."""
