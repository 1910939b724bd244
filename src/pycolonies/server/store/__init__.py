"""Storage: the Store contract and its backends."""

from .base import Store
from .records import ProcessRecord

__all__ = ["ProcessRecord", "Store", "connect_store", "is_postgres_url", "open_store"]


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def open_store(url: str, *, sqlite_synchronous: str = "NORMAL", pool_size: int = 10) -> Store:
    """The store named by ``url``: a SQLite file path (or ``sqlite:///path``), or a PostgreSQL URL
    (``postgresql://user:password@host:port/database``; not connected yet: see ``connect_store``)."""
    if is_postgres_url(url):
        from .postgres import PostgresStore

        return PostgresStore(url, pool_size=pool_size)
    from .sqlite import SQLiteStore

    return SQLiteStore(url.removeprefix("sqlite://"), synchronous=sqlite_synchronous)


async def connect_store(url: str, *, sqlite_synchronous: str = "NORMAL", pool_size: int = 10) -> Store:
    """``open_store``, ready to use: a PostgreSQL store opens its pool and migrates its schema here."""
    store = open_store(url, sqlite_synchronous=sqlite_synchronous, pool_size=pool_size)
    if is_postgres_url(url):
        from .postgres import PostgresStore

        assert isinstance(store, PostgresStore)
        await store.connect()
    return store
