"""Benchmarks: each module runs on its own (`python -m bench.<name>`); not part of the test suite."""
