"""The retention purge (upstream's ``COLONIES_RETENTION``; protocol core/30-semantics.md section 10,
ext/40-logs.md section 3): with a policy of P seconds, each pass removes what is older than now - P:

* successful graphs, each with all its processes and their attributes, except a graph a cron still
  names as its previous one (its outputs feed the cron's next run);
* successful processes outside workflows, with their attributes (a successful process of a graph
  that stays is kept: removing it would leave the graph with a hole);
* every log line, whatever its process's state.

Failed and cancelled processes and graphs, files and snapshots are kept. The store removes one
bounded batch per call; the pass yields to the event loop between batches so that a large purge
never holds the store (or the loop) for long. Like the other leader-only loops it runs on one
replica only (``Controllers``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from ..context import ServerContext

__all__ = ["BATCH", "GRAPH_BATCH", "purge"]

log = logging.getLogger("pycolonies.server.retention")
NS = 1_000_000_000

BATCH = 1000
"""Processes or log lines removed per store call (one transaction or statement)."""
GRAPH_BATCH = 100
"""Graphs removed per store call: each takes all its processes along."""


async def _drain(remove: Callable[[int, int], Awaitable[int]], before: int, batch: int) -> int:
    total = 0
    while True:
        removed = await remove(before, batch)
        total += removed
        if removed < batch:
            return total
        await asyncio.sleep(0)  # let requests in between batches


async def purge(ctx: ServerContext) -> int:
    """One retention pass; returns how many graphs, processes and log lines it removed."""
    before = ctx.now() - ctx.config.retention_policy_seconds * NS
    store = ctx.store
    graphs = await _drain(store.remove_succeeded_graphs, before, GRAPH_BATCH)
    processes = await _drain(store.remove_succeeded_processes, before, BATCH)
    lines = await _drain(store.remove_logs_before, before, BATCH)
    if graphs or processes or lines:
        log.info(
            "retention removed %d successful graphs, %d successful processes and %d log lines older than %d s",
            graphs,
            processes,
            lines,
            ctx.config.retention_policy_seconds,
        )
    return graphs + processes + lines
