"""The executor framework: take an identity, long-poll ``assign``, run functions, close or fail,
stop cleanly (protocol core/40-sdk.md section 3.1; docs/executors.md).

Write functions and register them; the executor does the rest::

    executor = Executor.from_env(executortype="math", concurrency=8)

    @executor.function
    def add(a, b):
        return a + b

    @executor.function(name="fetch")
    async def fetch_page(url, ctx):
        ctx.log.info("fetching %s", url)
        ...

    executor.run()

1. identity: with the colony key it registers and approves a fresh executor (and unregisters it on
   exit, which also puts a process it could not finish back in the queue); without, it uses the
   key of an executor that is already registered and approved;
2. ``add_function`` for each function;
3. until :meth:`Executor.stop` (or SIGINT/SIGTERM): up to ``concurrency`` processes at once, each
   taken with a long-poll ``assign`` and dispatched by ``funcname``. A blocking function runs in a
   worker thread, an ``async def`` one in the event loop. Its return value closes the process, an
   exception fails it with the error text and the traceback. Lines written to ``ctx.log`` go to
   the process log. Hooks (:mod:`.hooks`) run around every process;
4. while functions run it sends a cheap request every ``heartbeat`` seconds, so the server (which
   reclaims the processes of executors it has not heard from, docs/compatibility.md "Executor
   liveness") knows it is alive. A lost server is retried with a back-off, without losing the
   results of functions that finished meanwhile;
5. stop: no more assigns; running functions finish (at most ``drain_timeout`` seconds, or until a
   second signal), unfinished ones are handed back; then it unregisters if it registered itself.

Subclasses may override :meth:`Executor.handle` (``process -> output list``, blocking or
``async def``) instead of registering functions: the built-in executors do.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import random
import reprlib
import secrets
import signal
import threading
import traceback
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar, overload

from ..client import AsyncColonies, Colonies
from ..crypto import generate_prvkey, id_of
from ..errors import ColoniesError, ServerError, TransportError
from ..models import Process
from .context import Context, ProcessLog, _current
from .hooks import Hook
from .pool import DaemonPool
from .settings import ExecutorConfigError, Settings, default_fs_root
from .transport import lean_client

__all__ = ["Executor", "ExecutorError", "accepts_ctx", "format_error", "to_output"]

log = logging.getLogger("pycolonies.executor")

F = TypeVar("F", bound=Callable[..., Any])

_HERE = os.path.dirname(os.path.abspath(__file__))
_SHORT = reprlib.Repr()
_SHORT.maxstring = 80
_SHORT.maxother = 80
_SHORT.maxlist = 8

MAX_POLLERS = 4
"""Long polls one executor keeps open at most (each takes one process; more add nothing)."""
LOG_INTERVAL = 0.5
"""Seconds between batches of process-log lines sent while functions run."""
RETRY_FOR = 600.0
"""Seconds a close or fail is retried while the server cannot be reached."""


class ExecutorError(ColoniesError):
    """An executor-side failure: registration refused, or a process it cannot run."""


def format_error(exc: BaseException) -> list[str]:
    """The ``errors`` a failed process is closed with: the error text, then the traceback without
    the executor's own frames (so it starts at the user's function)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_HERE)]
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if not frames:
        return [text]
    return [text, "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames)) + text]


def to_output(result: Any) -> list[Any]:
    """Upstream's rule for a function's return value: None -> [], a tuple -> its items, anything
    else -> [result]."""
    if result is None:
        return []
    if isinstance(result, tuple):
        return list(result)
    return [result]


def accepts_ctx(function: Callable[..., Any]) -> bool:
    """True when ``function`` can be called with a ``ctx=`` keyword."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    for p in parameters:
        if p.kind is p.VAR_KEYWORD:
            return True
        if p.name == "ctx" and p.kind is not p.POSITIONAL_ONLY:
            return True
    return False


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (it is with the server's dependencies)."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop  # type: ignore[no-any-return]


def _retryable(exc: ColoniesError) -> bool:
    """The server is away (not reachable, restarting, or a proxy in front of it says so)."""
    return isinstance(exc, TransportError) or (isinstance(exc, ServerError) and exc.status in (502, 503, 504))


class Executor:
    """An executor: register functions with :meth:`function` (or override :meth:`handle`), then
    :meth:`run` (blocking) or ``await`` :meth:`serve`.

    ``client`` gives the server address (and, with ``colony_prvkey``, registers the executor); the
    executor talks to the server through clients bound to its own key (:attr:`colonies`, and
    :attr:`aclient` while serving). ``concurrency``: processes run at once (worker threads for
    blocking functions). ``poll_timeout``: seconds per assign long poll. ``heartbeat``: seconds
    between liveness requests while functions run (None: never). ``drain_timeout``: seconds a stop
    waits for running functions before handing them back (None: until they finish or a second
    signal). ``functions``: names to register with ``add_function`` besides the decorated ones.
    ``fs_root``: where the ColonyFS directories of processes with ``fs`` directives go (default
    ``COLONIES_FS_ROOT``, else ``./cfs``); ``fs_storage``: the object store for them (default: from
    the environment, see :func:`pycolonies.fs.storage_from_env`); ``fs_upload_on_failure``: sync the
    ``fs.dirs`` back also when the function failed (default: only after a success). See
    :mod:`pycolonies.executor.fs`.
    """

    executortype: ClassVar[str] = ""
    functions: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        client: Colonies,
        colonyname: str,
        *,
        colony_prvkey: str | None = None,
        prvkey: str | None = None,
        executorname: str | None = None,
        executortype: str | None = None,
        functions: Iterable[str] | None = None,
        poll_timeout: float = 10.0,
        concurrency: int = 1,
        heartbeat: float | None = 10.0,
        drain_timeout: float | None = None,
        hooks: Iterable[Hook] = (),
        fs_root: str | os.PathLike[str] | None = None,
        fs_storage: Any = None,
        fs_upload_on_failure: bool = False,
    ) -> None:
        if not colony_prvkey and not prvkey:
            raise ExecutorConfigError(
                "An executor needs colony_prvkey (to register itself) or prvkey (a registered executor's key)"
            )
        if concurrency < 1:
            raise ExecutorConfigError(f"concurrency must be at least 1, got {concurrency}")
        self.client = client
        self.colonyname = colonyname
        self.colony_prvkey = colony_prvkey or None
        self.registers_itself = self.colony_prvkey is not None
        self.executortype = executortype or type(self).executortype
        if self.registers_itself and not self.executortype:
            raise ExecutorConfigError("An executor that registers itself needs an executortype")
        self.prvkey = prvkey or generate_prvkey()
        self.executorid = id_of(self.prvkey)
        self.executorname = executorname or (
            f"{self.executortype}-{secrets.token_hex(4)}" if self.registers_itself else ""
        )
        self.function_names = tuple(type(self).functions if functions is None else functions)
        self.poll_timeout = poll_timeout
        self.concurrency = concurrency
        self.heartbeat = heartbeat or None
        self.drain_timeout = drain_timeout
        self.hooks: list[Hook] = list(hooks)
        self.fs_root = Path(fs_root).expanduser().absolute() if fs_root else default_fs_root()
        self.fs_storage = fs_storage
        self.fs_upload_on_failure = fs_upload_on_failure
        self._colonyfs: Any = None
        self._colonyfs_lock = threading.Lock()
        self.colonies = Colonies(
            client.host, client.port, client.tls, prvkey=self.prvkey, timeout=client.timeout, verify=client.ssl_context
        )
        self.aclient: AsyncColonies | None = None
        self.stats = {"assigned": 0, "succeeded": 0, "failed": 0}
        self._registry: dict[str, Callable[..., Any]] = {}
        self._stop = threading.Event()
        self._started = False
        self._registered = False
        # while serving (all touched from the event loop only)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._stopped: asyncio.Future[None] | None = None  # done with _stop_event, for asyncio.wait
        self._force_event: asyncio.Event | None = None
        self._slots: asyncio.Semaphore | None = None
        self._pool: DaemonPool | None = None
        self._tasks: dict[asyncio.Task[None], Process] = {}
        self._logs: dict[str, ProcessLog] = {}
        self._log_locks: dict[str, asyncio.Lock] = {}
        self._away_since: float | None = None
        self._failures = 0
        self._fatal: ColoniesError | None = None
        self._forced = False

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> Self:
        """An executor for ``settings`` (see :meth:`Settings.from_env`)."""
        if settings.fs_root:
            kwargs.setdefault("fs_root", settings.fs_root)
        return cls(
            settings.client(),
            settings.colonyname,
            colony_prvkey=settings.colony_prvkey,
            prvkey=settings.prvkey,
            executorname=settings.executorname,
            executortype=settings.executortype,
            **kwargs,
        )

    @classmethod
    def from_env(cls, executortype: str = "", **kwargs: Any) -> Self:
        """An executor configured by the ``COLONIES_*`` environment variables (those
        ``colonies dev`` prints; see :meth:`Settings.from_env`); ``executortype`` is the default
        for ``COLONIES_EXECUTOR_TYPE``."""
        return cls.from_settings(Settings.from_env(executortype=executortype or cls.executortype), **kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.executorname or self.executorid[:12]!r}, colony={self.colonyname!r})"

    # functions -------------------------------------------------------------------------------

    @overload
    def function(self, fn: F, /) -> F: ...

    @overload
    def function(self, fn: str | None = None, /, *, name: str | None = None) -> Callable[[F], F]: ...

    def function(self, fn: Any = None, /, *, name: str | None = None) -> Any:
        """Decorator: ``@executor.function`` registers the function under its own name,
        ``@executor.function("name")`` or ``@executor.function(name="name")`` under another."""
        if isinstance(fn, str):
            name, fn = fn, None

        def register(f: F) -> F:
            self.register(f, name=name)
            return f

        return register(fn) if fn is not None else register

    def register(self, fn: Callable[..., Any], *, name: str | None = None) -> Callable[..., Any]:
        """Register ``fn`` for processes whose ``funcname`` is ``name`` (default: its own name)."""
        funcname = name or getattr(fn, "__name__", "")
        if not funcname:
            raise ValueError(f"{fn!r} has no __name__: pass name=")
        existing = self._registry.get(funcname)
        if existing is not None and existing is not fn:
            raise ValueError(f"a function named {funcname!r} is already registered")
        self._registry[funcname] = fn
        if funcname not in self.function_names:
            self.function_names += (funcname,)
            if self._started:
                self.add_function(funcname)
        return fn

    def add_hook(self, hook: Hook) -> None:
        self.hooks.append(hook)

    # lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Take the identity (register it, or look it up) and add the functions; idempotent."""
        if self._started:
            return
        if self.registers_itself:
            self._register()
        else:
            self._adopt()
        for funcname in self.function_names:
            self.add_function(funcname)
        self._started = True

    def stop(self) -> None:
        """Ask the executor to stop: no more assigns, then the drain (thread-safe)."""
        self._stop.set()
        loop = self._loop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self._set_stopped)
            except RuntimeError:  # the loop has just closed
                pass

    def _set_stopped(self) -> None:
        if self._stop_event is not None:
            self._stop_event.set()
        if self._stopped is not None and not self._stopped.done():
            self._stopped.set_result(None)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def running(self) -> list[Process]:
        """The processes being run now."""
        return list(self._tasks.values())

    def shutdown(self) -> None:
        """Unregister (when this executor registered itself) and close the connections."""
        if self._registered and self.colony_prvkey:
            try:
                self.client.remove_executor(self.colonyname, self.executorname, self.colony_prvkey)
                log.info("Executor %s unregistered", self.executorname)
            except ColoniesError as exc:
                log.warning("Executor %s: could not unregister: %s", self.executorname, exc)
            self._registered = False
        self._started = False
        self.colonies.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        self.shutdown()

    def _register(self) -> None:
        assert self.colony_prvkey is not None
        executor = {
            "executorname": self.executorname,
            "executorid": self.executorid,
            "colonyname": self.colonyname,
            "executortype": self.executortype,
        }
        try:
            self.client.add_executor(executor, self.colony_prvkey)
            self._registered = True
            self.client.approve_executor(self.colonyname, self.executorname, self.colony_prvkey)
        except ColoniesError as exc:
            if self._registered:
                self.shutdown()
            raise ExecutorError(f"Cannot register executor {self.executorname}: {exc}", exc.status) from exc
        log.info(
            "Executor %s (type %s) registered in colony %s at %s",
            self.executorname,
            self.executortype,
            self.colonyname,
            self.colonies.url,
        )

    def _adopt(self) -> None:
        try:
            found = self.colonies.get_executor_by_id(self.colonyname, self.executorid)
        except ColoniesError as exc:
            raise ExecutorError(
                f"Executor {self.executorid} is not a registered executor of colony {self.colonyname}: {exc}",
                exc.status,
            ) from exc
        name, kind = str(found.get("executorname", "")), str(found.get("executortype", ""))
        if self.executorname and self.executorname != name:
            raise ExecutorError(f"The key belongs to executor {name}, not {self.executorname}")
        if self.executortype and kind != self.executortype:
            log.warning(
                "Executor %s has type %s (not %s): it will get %s processes", name, kind, self.executortype, kind
            )
        self.executorname, self.executortype = name, kind
        log.info(
            "Executor %s (type %s) serving colony %s at %s", self.executorname, kind, self.colonyname, self.colonies.url
        )

    def add_function(self, funcname: str) -> None:
        """Tell the server this executor offers ``funcname`` (logged, not raised, on failure)."""
        try:
            self.colonies.add_function(self.colonyname, self.executorname, funcname)
        except ColoniesError as exc:
            log.warning("Executor %s: could not add function %s: %s", self.executorname, funcname, exc)

    # serving ----------------------------------------------------------------------------------

    def run(self, *, handle_signals: bool | None = None) -> None:
        """Serve until :meth:`stop`, then unregister (if registered here) and close.

        In the main thread (or with ``handle_signals=True``) SIGINT and SIGTERM stop it: long polls
        end at once and running functions finish and are closed; a second signal hands them back
        and raises KeyboardInterrupt. Raises ExecutorError when the server refuses the executor
        (not approved, unregistered)."""
        if handle_signals is None:
            handle_signals = threading.current_thread() is threading.main_thread()
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(self.serve(handle_signals=handle_signals))

    async def serve(self, *, handle_signals: bool = False) -> None:
        """:meth:`run` for a program that already has an event loop."""
        loop = asyncio.get_running_loop()
        self._stop_event, self._force_event = asyncio.Event(), asyncio.Event()
        self._stopped = loop.create_future()
        self._fatal, self._forced = None, False
        self._loop = loop
        if self._stop.is_set():
            self._set_stopped()
        restore = self._install_signal_handlers(loop) if handle_signals else None
        try:
            if await self._start():
                await self._serve()
        finally:
            if restore is not None:
                restore()
            await asyncio.to_thread(self.shutdown)
            self._loop = None
        if self._fatal is not None:
            raise self._fatal
        if self._forced:
            raise KeyboardInterrupt

    async def _start(self) -> bool:
        """:meth:`start`, retried with a back-off while the server cannot be reached (an executor
        may come up before its server); False when stopped meanwhile."""
        assert self._stopped is not None
        delay = 0.5
        while not self._stopped.done():
            try:
                await asyncio.to_thread(self.start)
                return True
            except ExecutorError as exc:
                cause = exc.__cause__
                if not (isinstance(cause, ColoniesError) and _retryable(cause)):
                    raise
                log.warning("Executor %s: %s (retrying in %.1f s)", self.executorname, exc, delay)
                await self._pause(delay)
                delay = min(delay * 2, 10.0)
        return False

    async def _serve(self) -> None:
        assert self._stop_event is not None
        self.aclient = lean_client(
            self.client.host,
            self.client.port,
            self.client.tls,
            prvkey=self.prvkey,
            timeout=self.client.timeout,
            verify=self.client.ssl_context,
        )
        self._pool = DaemonPool(self.concurrency, self.executorname or "executor")
        self._slots = asyncio.Semaphore(self.concurrency)
        for hook in self.hooks:
            self._call_hook(hook.on_start, self)
        pollers = [asyncio.create_task(self._poller()) for _ in range(min(self.concurrency, MAX_POLLERS))]
        background = [asyncio.create_task(self._ship_logs())]
        if self.heartbeat:
            background.append(asyncio.create_task(self._heartbeats(self.heartbeat)))
        try:
            await self._stop_event.wait()
            await asyncio.gather(*pollers, return_exceptions=True)  # they end at once: polls are cancelled
            await self._drain()
        finally:
            for task in [*pollers, *background, *self._tasks]:
                task.cancel()
            await asyncio.gather(*pollers, *background, *self._tasks, return_exceptions=True)
            for pid in list(self._logs):
                await self._flush_log(pid)
            for hook in reversed(self.hooks):
                self._call_hook(hook.on_stop, self)
            await self.aclient.aclose()
            self.aclient = None
            self._pool.shutdown(wait=False)

    async def _drain(self) -> None:
        """Wait for the running processes (up to ``drain_timeout``, or a second signal)."""
        assert self._force_event is not None
        if not self._tasks:
            return
        log.info(
            "Executor %s: waiting for %d running process(es) to finish%s",
            self.executorname,
            len(self._tasks),
            f" (at most {self.drain_timeout:g} s)" if self.drain_timeout is not None else "",
        )
        loop = asyncio.get_running_loop()
        deadline = None if self.drain_timeout is None else loop.time() + self.drain_timeout
        forced = asyncio.create_task(self._force_event.wait())
        try:
            while self._tasks and not self._force_event.is_set():
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    break
                await asyncio.wait({*self._tasks, forced}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
        finally:
            forced.cancel()
        if self._tasks:
            where = (
                "they go back to the queue when it unregisters"
                if self._registered
                else "the server puts them back in the queue when it stops hearing from this executor"
            )
            log.warning(
                "Executor %s: handing back %d unfinished process(es) (%s): %s",
                self.executorname,
                len(self._tasks),
                where,
                ", ".join(p.processid for p in self._tasks.values()),
            )

    # assign -------------------------------------------------------------------------------------

    async def _poller(self) -> None:
        """One long poll at a time, each holding a free slot; a process is run in a task of its own."""
        assert self._slots is not None and self._stop_event is not None
        while not self._stop_event.is_set():
            if not await self._acquire_slot():
                return
            handed_off = False
            try:
                try:
                    process = await self._poll()
                except Exception:  # a bug must not silently take a slot away for good
                    log.exception("Executor %s: assign failed", self.executorname)
                    await self._pause(1.0)
                    continue
                if process is None:
                    continue
                task = asyncio.create_task(self._execute(process))
                self._tasks[task] = process
                task.add_done_callback(self._tasks.pop)
                handed_off = True  # the task releases the slot
            finally:
                if not handed_off:
                    self._slots.release()

    async def _acquire_slot(self) -> bool:
        """Wait for a free slot; False (and no slot) when the executor stops first."""
        assert self._slots is not None and self._stopped is not None
        if self._stopped.done():
            return False
        if not self._slots.locked():
            await self._slots.acquire()  # free: returns at once
            return True
        acquire = asyncio.ensure_future(self._slots.acquire())
        await asyncio.wait({acquire, self._stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not acquire.done():
            acquire.cancel()
        await asyncio.wait({acquire})
        got = not acquire.cancelled()
        if got and self._stopped.done():
            self._slots.release()
            return False
        return got

    async def _poll(self) -> Process | None:
        """One ``assign`` (None: nothing came, or the executor is stopping). A poll that a stop cuts
        short is cancelled, but a process it already got is still returned and run."""
        assert self.aclient is not None and self._stopped is not None
        seconds = max(1, round(self.poll_timeout))
        poll = asyncio.ensure_future(self.aclient.assign(self.colonyname, seconds))
        try:
            await asyncio.wait({poll, self._stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not poll.done():
                poll.cancel()
        await asyncio.wait({poll})
        if poll.cancelled():
            return None
        exc = poll.exception()
        if exc is None:
            self._server_back()
            return poll.result()
        if isinstance(exc, ColoniesError) and (_retryable(exc) or (isinstance(exc, ServerError) and exc.status >= 500)):
            await self._pause(self._server_away(exc))
            return None
        if isinstance(exc, ServerError) and exc.status == 408:  # assignments paused for the whole poll
            return None
        if isinstance(exc, ServerError):  # 403 not approved or unregistered, 400 refused: give up
            if self._fatal is None:
                log.error("Executor %s: the server refuses to assign: %s", self.executorname, exc)
                self._fatal = ExecutorError(
                    f"Executor {self.executorname} may not take processes in colony {self.colonyname}: {exc}",
                    exc.status,
                )
            self.stop()
            return None
        raise exc

    def _server_away(self, exc: ColoniesError) -> float:
        """Note a failed request; returns the back-off before the next attempt."""
        self._failures += 1
        if self._away_since is None:
            self._away_since = asyncio.get_running_loop().time()
            log.warning(
                "Executor %s: cannot reach the server at %s (%s); retrying with a back-off",
                self.executorname,
                self.colonies.url,
                exc,
            )
        return min(0.25 * 2 ** min(self._failures, 6), 10.0) * random.uniform(0.5, 1.0)

    def _server_back(self) -> None:
        if self._away_since is not None:
            away = asyncio.get_running_loop().time() - self._away_since
            log.warning("Executor %s: the server is back (after %.1f s)", self.executorname, away)
        self._away_since, self._failures = None, 0

    async def _pause(self, seconds: float) -> None:
        """Sleep, or less when the executor stops."""
        assert self._stop_event is not None
        try:
            await asyncio.wait_for(self._stop_event.wait(), seconds)
        except TimeoutError:
            pass

    # running a process ----------------------------------------------------------------------------

    def handle(self, process: Process) -> Iterable[Any]:
        """Run the process and return its output values; raise to fail it.

        The default calls the function registered for ``process.spec.funcname`` (see
        :meth:`call`). Subclasses may override it, blocking (it then runs in a worker thread) or
        ``async def`` (it runs in the event loop)."""
        function = self.function_for(process)
        return to_output(self.call(function, process, self.context(process)))

    def function_for(self, process: Process) -> Callable[..., Any]:
        """The registered function for the process's ``funcname``; ExecutorError when none is."""
        funcname = process.spec.funcname
        function = self._registry.get(funcname)
        if function is None:
            offered = ", ".join(sorted(self._registry)) or "none"
            raise ExecutorError(
                f"Executor {self.executorname} (type {self.executortype}) has no function {funcname!r} "
                f"(it has: {offered})"
            )
        return function

    def call(self, function: Callable[..., Any], process: Process, ctx: Context) -> Any:
        """Call ``function`` as the process asks: positional arguments are the outputs of the
        workflow parents (``process.input``) when there are any, else ``spec.args``; keyword
        arguments are ``spec.kwargs``, plus ``ctx`` when the function takes it."""
        spec = process.spec
        args = list(process.input) if process.input else list(spec.args or [])
        kwargs = dict(spec.kwargs or {})
        if accepts_ctx(function):
            kwargs["ctx"] = ctx
        return function(*args, **kwargs)

    def context(self, process: Process) -> Context:
        """What a function may know about its run (a dict with upstream's ``ctx`` keys; see
        :class:`~pycolonies.executor.context.Context`)."""
        processlog = self._logs.get(process.processid)
        if processlog is None:
            processlog = self._logs[process.processid] = ProcessLog(process.processid)
        return Context(self, process, processlog)

    def describe(self, process: Process) -> str:
        """A one-line summary for the log: ``funcname(args)`` and the graph node."""
        spec = process.spec
        args = process.input if process.input else spec.args or []
        text = f"{spec.funcname}({', '.join(_SHORT.repr(a) for a in args)})"
        if process.processgraphid:
            text += f" [node {spec.nodename} of workflow {process.processgraphid[:12]}]"
        return text

    def _job(self, process: Process, ctx: Context) -> tuple[Callable[[], Any], bool]:
        """What to run for ``process`` (a callable returning the output list, or a coroutine
        function) and whether it is asynchronous."""
        if type(self).handle is not Executor.handle:
            if inspect.iscoroutinefunction(self.handle):

                async def run_handle() -> list[Any]:
                    return list(await self.handle(process))  # type: ignore[misc]

                return run_handle, True
            return lambda: list(self.handle(process)), False
        function = self.function_for(process)
        if inspect.iscoroutinefunction(function):

            async def run_function() -> list[Any]:
                return to_output(await self.call(function, process, ctx))

            return run_function, True
        return lambda: to_output(self.call(function, process, ctx)), False

    def _run_sync(self, job: Callable[[], list[Any]], ctx: Context) -> list[Any]:
        token = _current.set(ctx)
        try:
            for hook in self.hooks:
                hook.before_process(ctx)
            output = job()
        except Exception as exc:
            for hook in reversed(self.hooks):
                self._call_hook(hook.on_error, ctx, exc)
            raise
        else:
            for hook in reversed(self.hooks):
                self._call_hook(hook.after_process, ctx, output)
            return output
        finally:
            _current.reset(token)

    async def _run_async(self, job: Callable[[], Awaitable[list[Any]]], ctx: Context) -> list[Any]:
        _current.set(ctx)  # this task's own copy of the context
        try:
            for hook in self.hooks:
                hook.before_process(ctx)
            output = await job()
        except Exception as exc:
            for hook in reversed(self.hooks):
                self._call_hook(hook.on_error, ctx, exc)
            raise
        for hook in reversed(self.hooks):
            self._call_hook(hook.after_process, ctx, output)
        return output

    def _call_hook(self, method: Callable[..., Any], *args: Any) -> None:
        try:
            method(*args)
        except Exception:
            log.exception("Executor %s: hook %s failed", self.executorname, getattr(method, "__qualname__", method))

    async def _execute(self, process: Process) -> None:
        """Run ``process``, then close it with the output or fail it. With ``fs`` directives, stage
        the ColonyFS directories first and sync/clean them afterwards (:mod:`.fs`)."""
        assert self._slots is not None and self._pool is not None
        pid = process.processid
        self.stats["assigned"] += 1
        if log.isEnabledFor(logging.INFO):  # describe() costs more than a no-op function
            log.info("Process %s assigned: %s", pid, self.describe(process))
        try:
            ctx = self.context(process)
            fs = process.spec.fs
            if fs is not None and fs.staged:
                await self._execute_staged(process, ctx)
                return
            try:
                output = await self._run_job(process, ctx)
            except Exception as exc:
                await self._fail(process, format_error(exc))
                return
            await self._close(process, output)
        finally:
            self._logs.pop(pid, None)
            self._log_locks.pop(pid, None)
            self._slots.release()

    async def _run_job(self, process: Process, ctx: Context) -> list[Any]:
        assert self._pool is not None
        job, is_async = self._job(process, ctx)
        if is_async:
            return await self._run_async(job, ctx)
        return await self._pool.run(asyncio.get_running_loop(), self._run_sync, job, ctx)

    async def _execute_staged(self, process: Process, ctx: Context) -> None:
        """:meth:`_execute` for a process with ``fs`` directives. Staging (in a worker thread)
        comes before the hooks and the function; a staging error fails the process with its
        message and the function never runs. After a success the dirs are synced back (an upload
        error fails the process and keeps those files); after a failure they are not (unless
        ``fs_upload_on_failure``). Then local copies and snapshots are removed as the directives
        say, snapshots only when the close or fail was accepted (otherwise the process may run
        again elsewhere)."""
        from .fs import FsStaging, FsStagingError

        assert self._pool is not None
        loop = asyncio.get_running_loop()
        try:
            staging = FsStaging(process, self.fs_root, self._get_colonyfs, self.colonies, self.colonyname, ctx.log)
        except FsStagingError as exc:  # an unsafe path: nothing was touched
            await self._fail(process, [exc.message])
            return
        ctx.fs_staging = staging
        try:
            await self._pool.run(loop, staging.stage_in)
        except Exception as exc:
            errors = (
                [exc.message] if isinstance(exc, FsStagingError) else ["ColonyFS: staging failed", *format_error(exc)]
            )
            reported = await self._fail(process, errors)
            await self._pool.run(loop, staging.clean, reported)
            return
        try:
            output = await self._run_job(process, ctx)
        except Exception as exc:
            errors = format_error(exc)
            if self.fs_upload_on_failure:
                try:
                    await self._pool.run(loop, staging.stage_out)
                except FsStagingError as upload_error:
                    staging.mark_upload_failed()
                    errors.append(upload_error.message)
            reported = await self._fail(process, errors)
            await self._pool.run(loop, staging.clean, reported)
            return
        try:
            await self._pool.run(loop, staging.stage_out)
        except FsStagingError as exc:
            staging.mark_upload_failed()
            reported = await self._fail(process, [exc.message, f"output: {_SHORT.repr(output)}"])
        else:
            reported = await self._close(process, output)
        await self._pool.run(loop, staging.clean, reported)

    def _get_colonyfs(self) -> Any:
        """The ColonyFS client staging uses (one per executor, made on first use; thread-safe)."""
        with self._colonyfs_lock:
            if self._colonyfs is None:
                from ..fs import ColonyFS

                self._colonyfs = ColonyFS(self.colonies, self.colonyname, self.prvkey, storage=self.fs_storage)
            return self._colonyfs

    async def _close(self, process: Process, output: list[Any]) -> bool:
        """Close the process with ``output``; True when the server took it (a close or a fail)."""
        assert self.aclient is not None
        pid = process.processid
        await self._flush_log(pid)
        client = self.aclient
        try:
            done = await self._report(pid, "close", lambda: client.close(pid, output))
        except (TypeError, ValueError) as exc:  # the output cannot be sent as JSON
            return await self._fail(process, [f"Output cannot be sent: {exc}", f"output: {_SHORT.repr(output)}"])
        if done:
            self.stats["succeeded"] += 1
            if log.isEnabledFor(logging.INFO):
                log.info("Process %s closed: %s", pid, _SHORT.repr(output))
        return done

    async def _fail(self, process: Process, errors: list[str]) -> bool:
        """Fail the process with ``errors``; True when the server took it."""
        assert self.aclient is not None
        pid = process.processid
        await self._flush_log(pid)
        client = self.aclient
        if await self._report(pid, "fail", lambda: client.fail(pid, errors)):
            self.stats["failed"] += 1
            log.info("Process %s failed: %s", pid, errors[0])
            return True
        return False

    async def _report(self, pid: str, what: str, send: Callable[[], Awaitable[Any]]) -> bool:
        """Send a close or fail, retried while the server cannot be reached (the result of a
        finished function must not be lost to a server restart)."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + RETRY_FOR
        delay = 0.25
        while True:
            try:
                await send()
            except ColoniesError as exc:
                if not _retryable(exc) or loop.time() > give_up:
                    log.warning("Process %s: could not %s: %s", pid, what, exc)
                    return False
                self._server_away(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self._server_back()
            return True

    # logs and liveness ------------------------------------------------------------------------------

    async def _flush_log(self, pid: str) -> None:
        """Send the lines written for ``pid`` so far (one request), in order."""
        processlog = self._logs.get(pid)
        if processlog is None or not processlog or self.aclient is None:
            return
        lock = self._log_locks.setdefault(pid, asyncio.Lock())
        async with lock:
            text = processlog.take()
            if not text:
                return
            try:
                await self.aclient.add_log(pid, text)
            except ColoniesError as exc:
                log.warning("Process %s: could not add to its log: %s", pid, exc)

    async def _ship_logs(self) -> None:
        while True:
            await asyncio.sleep(LOG_INTERVAL)
            for pid in [pid for pid, processlog in self._logs.items() if processlog]:
                await self._flush_log(pid)

    async def _heartbeats(self, period: float) -> None:
        """While functions run (and no long poll refreshes it), a cheap signed request keeps the
        executor's ``lastheardfromtime`` fresh on the server."""
        warned = False
        while True:
            await asyncio.sleep(period)
            if not self._tasks or self.aclient is None:
                continue
            try:
                await self.aclient.get_executor_by_id(self.colonyname, self.executorid)
                warned = False
            except ServerError as exc:
                if not warned and exc.status == 403:
                    log.warning("Executor %s: the server no longer knows it as approved: %s", self.executorname, exc)
                    warned = True
            except ColoniesError as exc:
                log.debug("Executor %s: heartbeat failed: %s", self.executorname, exc)

    # signals --------------------------------------------------------------------------------

    def _install_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
        previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
        for signum in previous:
            loop.add_signal_handler(signum, self._on_signal, signum)

        def restore() -> None:
            for signum, handler in previous.items():
                loop.remove_signal_handler(signum)
                signal.signal(signum, handler)

        return restore

    def _on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if not self._stop.is_set():
            log.info("Executor %s: %s received, stopping", self.executorname, name)
            self.stop()
            return
        if self._force_event is not None and not self._force_event.is_set():
            log.warning("Executor %s: %s received again: not waiting for running functions", self.executorname, name)
            self._forced = True
            self._force_event.set()
