"""Benchmarks: run `python -m bench` (see README, Performance). Not part of the test suite."""
