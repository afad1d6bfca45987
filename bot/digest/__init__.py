"""The weekly digest's rules (posting it is the Slack layer's `handlers.digest`).

- ``schedule``: when a digest is due, on the account's own clock (DST-safe), and the week it covers
- ``changes``: what changed in that week, from the store (usage added, features, requests, rates)
"""
