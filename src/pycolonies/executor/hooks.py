"""Hooks: cross-cutting behaviour around every process an executor runs (timing, metrics, logging,
validation), kept out of the functions themselves.

A hook subclasses :class:`Hook` and overrides what it needs; pass hooks with
``Executor(..., hooks=[...])`` or ``executor.add_hook(hook)``. For each process:

* ``before_process(ctx)`` runs in order of registration; raising fails the process (with the
  error's text), so a hook can refuse work;
* the function runs;
* ``after_process(ctx, output)`` (success) or ``on_error(ctx, error)`` (failure) run in reverse
  order; what they raise is logged and ignored.

Hooks run where the function runs: in its worker thread for a blocking function, in the event loop
for an ``async def`` one (so keep them quick there). ``on_start(executor)`` and
``on_stop(executor)`` run once, in the event loop, when serving starts and ends.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from .context import Context, ProcessLogHandler

if TYPE_CHECKING:
    from .base import Executor

__all__ = ["CaptureLogging", "Hook", "Timing"]


class Hook:
    """The no-op hook: override any of the methods."""

    def on_start(self, executor: Executor) -> None:
        """Serving starts (after registration, before the first assign)."""

    def on_stop(self, executor: Executor) -> None:
        """Serving ended (after the drain, before unregistering)."""

    def before_process(self, ctx: Context) -> None:
        """A process was assigned and is about to run; raise to fail it instead."""

    def after_process(self, ctx: Context, output: list[Any]) -> None:
        """The function returned; ``output`` is what the process will be closed with."""

    def on_error(self, ctx: Context, error: BaseException) -> None:
        """The function (or a ``before_process``) raised; the process will be failed."""


class CaptureLogging(Hook):
    """Sends what functions log with Python's ``logging`` (at ``level`` and above, on ``logger``,
    default the root logger) to the log of the process being run, besides its usual handlers."""

    def __init__(self, logger: str | None = None, level: int = logging.INFO) -> None:
        self.logger = logging.getLogger(logger)
        self.handler = ProcessLogHandler(level)

    def on_start(self, executor: Executor) -> None:
        self.logger.addHandler(self.handler)
        if self.logger.getEffectiveLevel() > self.handler.level:
            self.logger.setLevel(self.handler.level)

    def on_stop(self, executor: Executor) -> None:
        self.logger.removeHandler(self.handler)


class Timing(Hook):
    """Writes ``<funcname> succeeded in <s> s`` (or ``failed``) to the process log and keeps
    totals per function name in ``totals``: ``{funcname: [count, seconds]}``."""

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = {}
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()

    def before_process(self, ctx: Context) -> None:
        with self._lock:
            self._started[ctx.processid] = time.perf_counter()

    def _done(self, ctx: Context, outcome: str) -> None:
        with self._lock:
            started = self._started.pop(ctx.processid, None)
            if started is None:
                return
            seconds = time.perf_counter() - started
            entry = self.totals.setdefault(ctx.process.spec.funcname, [0, 0.0])
            entry[0] += 1
            entry[1] += seconds
        ctx.log.info("%s %s in %.3f s", ctx.process.spec.funcname, outcome, seconds)

    def after_process(self, ctx: Context, output: list[Any]) -> None:
        self._done(ctx, "succeeded")

    def on_error(self, ctx: Context, error: BaseException) -> None:
        self._done(ctx, "failed")
