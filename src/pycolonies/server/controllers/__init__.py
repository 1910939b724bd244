"""Background loops: deadlines (every second), executor liveness (RUNNING processes of silent
executors back to the queue), stale-executor cleanup, crons and generators, the sweep of
channels no process can use any more, and, when enabled, the retention purge (``retention.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from ..channels import sweep as sweep_channels
from ..context import ServerContext
from ..handlers.executors import unregister
from ..scheduler import expire_deadlines, reclaim_unresponsive
from ..triggers import check_crons, check_generators
from .retention import purge as purge_retention

__all__ = ["Controllers"]

log = logging.getLogger("pycolonies.server.controllers")
NS = 1_000_000_000


async def cleanup_stale_executors(ctx: ServerContext) -> int:
    """Unregister executors not heard from for longer than the stale duration."""
    older_than = ctx.now() - ctx.config.stale_executor_seconds * NS
    stale = await ctx.store.stale_executors(older_than)
    for colonyname, executorname in stale:
        log.info("unregistering stale executor %s in colony %s", executorname, colonyname)
        await unregister(ctx, colonyname, executorname)
    return len(stale)


class Controllers:
    """Runs each loop as a task; a failing pass is logged and retried on the next tick. With
    replicas (``is_leader`` given, see server/bridge.py) a pass runs only on the current leader."""

    def __init__(self, ctx: ServerContext, *, is_leader: Callable[[], bool] | None = None) -> None:
        self.ctx = ctx
        self.is_leader = is_leader
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._every(1.0, expire_deadlines, "deadlines")),
            asyncio.create_task(
                self._every(float(self.ctx.config.cleanup_interval_seconds), cleanup_stale_executors, "cleanup")
            ),
            asyncio.create_task(self._every(self.ctx.config.cron_checker_period_ms / 1000, check_crons, "crons")),
            asyncio.create_task(
                self._every(self.ctx.config.generator_checker_period_ms / 1000, check_generators, "generators")
            ),
            asyncio.create_task(
                self._every(float(self.ctx.config.cleanup_interval_seconds), sweep_channels, "channel sweep")
            ),
        ]
        grace = self.ctx.config.executor_grace_seconds
        if grace > 0:  # look four times per grace (at most every 5 s, at least every 0.25 s)
            period = min(max(grace / 4, 0.25), 5.0)
            self._tasks.append(asyncio.create_task(self._every(period, reclaim_unresponsive, "executor liveness")))
        if self.ctx.config.retention:
            period = self.ctx.config.retention_interval_seconds
            self._tasks.append(asyncio.create_task(self._every(period, purge_retention, "retention")))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _every(self, period: float, work: Callable[[ServerContext], Awaitable[int]], name: str) -> None:
        while True:
            await asyncio.sleep(period)
            if self.is_leader is not None and not self.is_leader():
                continue
            try:
                await work(self.ctx)
            except Exception:
                log.exception("%s pass failed", name)
