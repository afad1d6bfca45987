"""Errors the store raises; the bot maps them to messages for people."""


class StoreError(Exception):
    """Base class of the store's own errors."""


class StoreUnavailable(StoreError):
    """The database cannot be reached right now; retrying later may succeed."""


class NotFound(StoreError):
    """The thing asked for does not exist (or belongs to another account)."""


class Conflict(StoreError):
    """Someone else changed the record after it was read: the write was refused, nothing was overwritten."""
