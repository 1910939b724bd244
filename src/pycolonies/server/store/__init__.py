"""Storage: the Store contract and its backends."""

from .base import Store
from .records import ProcessRecord

__all__ = ["ProcessRecord", "Store", "open_store"]


def open_store(url: str, *, sqlite_synchronous: str = "NORMAL") -> Store:
    """Open the store named by ``url``: a SQLite file path (or ``sqlite:///path``)."""
    if url.startswith(("postgres://", "postgresql://")):
        raise ValueError("the PostgreSQL backend is not available yet; use the embedded SQLite store")
    from .sqlite import SQLiteStore

    return SQLiteStore(url.removeprefix("sqlite://"), synchronous=sqlite_synchronous)
