"""Benchmarks, runnable from the repository root: `python -m bench.<name>`."""
