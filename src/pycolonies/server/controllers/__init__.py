"""Background loops: deadlines (every second), stale-executor cleanup, crons and generators."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from ..context import ServerContext
from ..handlers.executors import unregister
from ..scheduler import expire_deadlines
from ..triggers import check_crons, check_generators

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
    """Runs each loop as a task; a failing pass is logged and retried on the next tick."""

    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
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
        ]

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
            try:
                await work(self.ctx)
            except Exception:
                log.exception("%s pass failed", name)
