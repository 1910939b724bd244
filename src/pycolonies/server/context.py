"""The running server's shared state: configuration, store and event hub."""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, field

from ..timefmt import format_ns, now_ns
from .config import ServerConfig
from .events import EventHub
from .ratelimit import TokenBucket
from .store import Store

__all__ = ["ServerContext", "new_id"]


def new_id() -> str:
    """A fresh object id: SHA3-256 hex of a random UUIDv4's text, as upstream makes them."""
    return hashlib.sha3_256(str(uuid.uuid4()).encode()).hexdigest()


@dataclass(slots=True)
class ServerContext:
    config: ServerConfig
    store: Store
    hub: EventHub = field(default_factory=EventHub)
    started: int = field(default_factory=now_ns)
    # When each executor's lastheardfromtime was last written: assign long-polls refresh it at most
    # once a second instead of writing on every attempt.
    heard: dict[str, int] = field(default_factory=dict)
    # Per-process append rate limiters of channels (in memory, per server, as upstream).
    channel_rates: dict[str, TokenBucket] = field(default_factory=dict)

    @staticmethod
    def now() -> int:
        return time.time_ns()

    @property
    def build_time(self) -> str:
        return self.config.build_time or format_ns(self.started)
