"""The worker threads that run an executor's blocking functions.

``concurrent.futures.ThreadPoolExecutor`` joins its threads when the interpreter exits, so one
function that never returns would keep a stopped executor alive forever. :class:`DaemonPool` is the
same interface over daemon threads: after a forced stop the executor process can exit while a
function still runs (its process has been handed back to the server by then).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

__all__ = ["DaemonPool"]

T = TypeVar("T")
_Job = tuple[Any, Callable[..., Any], tuple[Any, ...], dict[str, Any]]  # Future or _LoopJob


class DaemonPool(Executor):
    """At most ``size`` daemon threads, started as work arrives, named ``<name>-<n>``."""

    def __init__(self, size: int, name: str = "executor") -> None:
        if size < 1:
            raise ValueError("a pool needs at least one thread")
        self.size = size
        self.name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        self._enqueue((future, fn, args, kwargs))
        return future

    def run(self, loop: asyncio.AbstractEventLoop, fn: Callable[..., T], /, *args: Any) -> asyncio.Future[T]:
        """``fn(*args)`` in a worker thread, as an asyncio future of ``loop``: the lean twin of
        ``loop.run_in_executor(pool, fn, *args)`` (no ``concurrent.futures.Future`` in between,
        whose locks and callback chain cost about as much as a no-op function's whole run)."""
        future: asyncio.Future[T] = loop.create_future()
        self._enqueue((_LoopJob(loop, future), fn, args, {}))
        return future

    def _enqueue(self, job: _Job) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to a pool that was shut down")
            self._jobs.put(job)
            if len(self._threads) < self.size:
                thread = threading.Thread(target=self._work, name=f"{self.name}-{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            future, fn, args, kwargs = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to whoever awaits the future
                future.set_exception(exc)
            else:
                future.set_result(result)
            del job, future, fn, args, kwargs


class _LoopJob:
    """The completion side of :meth:`DaemonPool.run`: resolves an asyncio future from the worker
    thread through ``call_soon_threadsafe`` (dropped when it was cancelled meanwhile)."""

    __slots__ = ("future", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any]) -> None:
        self.loop = loop
        self.future = future

    def set_running_or_notify_cancel(self) -> bool:
        return not self.future.cancelled()

    def set_result(self, result: Any) -> None:
        self._settle(_set_result, result)

    def set_exception(self, exc: BaseException) -> None:
        self._settle(_set_exception, exc)

    def _settle(self, settle: Callable[[asyncio.Future[Any], Any], None], value: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(settle, self.future, value)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass


def _set_result(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _set_exception(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Let the threads end after their current job (``wait``: join them)."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        if cancel_futures:
            while True:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is not None:
                    job[0].cancel()
        for _ in threads:
            self._jobs.put(None)
        if wait:
            for thread in threads:
                thread.join()
