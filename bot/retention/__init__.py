"""Retention: how long each kind of data is kept, and the prune that applies it (`myplan prune`, and the
worker once a day). docs/operations.md has the policy."""
