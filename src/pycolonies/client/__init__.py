"""The ColonyOS clients: ``Colonies`` (blocking) and ``AsyncColonies`` (asyncio), twins over one
request-building core (``core``), plus WebSocket subscriptions."""

from __future__ import annotations

from .aio import AsyncColonies
from .subscriptions import AsyncSubscription, Subscription
from .sync import Colonies, colonies_client

__all__ = ["AsyncColonies", "AsyncSubscription", "Colonies", "Subscription", "colonies_client"]
