"""The embedded SQLite backend of the store."""

from .store import SQLiteStore, StoreInUseError, ensure_available

__all__ = ["SQLiteStore", "StoreInUseError", "ensure_available"]
