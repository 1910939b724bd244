"""The PostgreSQL backend of the store: one database shared by one server or several replicas."""

from .notify import ReplicaLink
from .store import PostgresStore

__all__ = ["PostgresStore", "ReplicaLink"]
