"""Errors the store raises; the bot maps them to messages for people."""


class StoreError(Exception):
    """Base class of the store's own errors."""


class StoreUnavailable(StoreError):
    """The database cannot be reached right now; retrying later may succeed."""


class DatabaseMissing(StoreUnavailable):
    """The server answers but the database named in the URL does not exist (or, for SQLite, its folder)."""


class SchemaNotCurrent(StoreError):
    """The database's schema is not the one the code needs (never migrated, or behind); says which."""


class NotFound(StoreError):
    """The thing asked for does not exist (or belongs to another account)."""


class Conflict(StoreError):
    """Someone else changed the record after it was read: the write was refused, nothing was overwritten."""


class ImportConflict(StoreError):
    """Another import created the same version at the same moment; running it again will work."""
