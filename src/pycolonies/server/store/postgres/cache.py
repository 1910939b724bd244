"""A short-lived cache of the lookups made on nearly every request (the signer as an executor or a
user of the colony, an executor's functions), for a store that several replicas write.

It is exact for this replica's own writes (each write drops the kind of record it changed, as the
SQLite store's caches are), it learns of the other replicas' writes from their notifications
(``!<kinds>`` messages on the replica link), and no entry outlives ``ttl`` seconds, so a lost
notification costs at most that much staleness. A lookup that raced a write is not kept: each kind
has a generation, bumped by every write, that a lookup must still see when it stores its result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["EXECUTORS", "FUNCTIONS", "USERS", "LookupCache"]

EXECUTORS, USERS, FUNCTIONS = "e", "u", "f"
_MAX_ENTRIES = 10_000


class LookupCache:
    def __init__(self, ttl: float = 1.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, dict[Hashable, tuple[float, Any]]] = {EXECUTORS: {}, USERS: {}, FUNCTIONS: {}}
        self._generation = dict.fromkeys(self._entries, 0)
        # Set when the store is linked to other replicas: tells them which kinds changed.
        self.announce: Callable[[str], None] | None = None

    def get(self, kind: str, key: Hashable) -> tuple[bool, Any, int]:
        """(found, value, generation): pass the generation back to ``put`` after a miss."""
        entry = self._entries[kind].get(key)
        if entry is not None and entry[0] > time.monotonic():
            return True, entry[1], 0
        return False, None, self._generation[kind]

    def put(self, kind: str, key: Hashable, value: Any, generation: int) -> None:
        if generation != self._generation[kind]:
            return  # a write came in while the lookup ran: its result may predate it
        entries = self._entries[kind]
        if len(entries) >= _MAX_ENTRIES:
            entries.clear()
        entries[key] = (time.monotonic() + self.ttl, value)

    def changed(self, kinds: str, *, announce: bool = True) -> None:
        """This replica wrote records of ``kinds``: drop them, and tell the other replicas."""
        self.forget(kinds)
        if announce and self.announce is not None:
            self.announce(kinds)

    def forget(self, kinds: str = EXECUTORS + USERS + FUNCTIONS) -> None:
        """Records of ``kinds`` changed (here or on another replica)."""
        for kind in kinds:
            if kind in self._entries:
                self._entries[kind].clear()
                self._generation[kind] += 1
