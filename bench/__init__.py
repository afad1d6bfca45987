"""Benchmarks: `python -m bench.alerts`."""
