"""A token bucket: ``capacity`` tokens, refilled at ``rate`` per second, starting full."""

from __future__ import annotations

import time

__all__ = ["TokenBucket"]


class TokenBucket:
    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, capacity: float, rate: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.updated = time.monotonic()

    def take(self) -> bool:
        """Spend one token; False (nothing spent) when the bucket is empty."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
