"""The executor loop every built-in executor shares: take an identity, long-poll ``assign``,
dispatch, close or fail, stop cleanly.

A subclass implements :meth:`Executor.handle` (process -> output list) and names its type and the
functions it offers; the loop does the rest (protocol core/40-sdk.md section 3.1):

1. identity: with the colony key it registers and approves a fresh executor (and unregisters it on
   exit, which also puts a process it was holding back in the queue); without, it uses the key of
   an executor that is already registered and approved;
2. ``add_function`` for each name in ``functions``;
3. loop until :meth:`Executor.stop` (or SIGINT/SIGTERM in the main thread): ``assign`` (a long
   poll of ``poll_timeout`` seconds), then ``handle``; a return closes the process with the output,
   an exception fails it with the error text and the traceback. The loop survives failing
   functions and lost connections (it retries with a back-off).
"""

from __future__ import annotations

import logging
import os
import reprlib
import secrets
import signal
import threading
import traceback
from collections.abc import Iterable, Mapping
from types import FrameType, TracebackType
from typing import Any, ClassVar, Self

from ..client import Colonies
from ..crypto import generate_prvkey, id_of
from ..errors import AccessDeniedError, ColoniesError
from ..models import Process
from .settings import ExecutorConfigError, Settings

__all__ = ["Executor", "ExecutorError", "format_error"]

log = logging.getLogger("pycolonies.executor")

_HERE = os.path.dirname(os.path.abspath(__file__))
_SHORT = reprlib.Repr()
_SHORT.maxstring = 80
_SHORT.maxother = 80
_SHORT.maxlist = 8


class ExecutorError(ColoniesError):
    """An executor-side failure: registration refused, or a process it cannot run."""


class _StopPolling(BaseException):
    """Raised by the signal handler to end a long poll at once (not an Exception: nothing swallows it)."""


def format_error(exc: BaseException) -> list[str]:
    """The ``errors`` a failed process is closed with: the error text, then the traceback without
    the executor's own frames (so it starts at the user's function)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_HERE)]
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if not frames:
        return [text]
    return [text, "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames)) + text]


class Executor:
    """The executor loop. Subclasses set ``executortype`` and override :meth:`handle`.

    ``client`` gives the server address (and, with ``colony_prvkey``, registers the executor); the
    executor talks to the server through its own client bound to its key, :attr:`colonies`.
    ``functions`` are registered with ``add_function`` at start (default: the class attribute).
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
    ) -> None:
        if not colony_prvkey and not prvkey:
            raise ExecutorConfigError(
                "An executor needs colony_prvkey (to register itself) or prvkey (a registered executor's key)"
            )
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
        self.colonies = Colonies(client.host, client.port, client.tls, prvkey=self.prvkey, timeout=client.timeout)
        self._stop = threading.Event()
        self._started = False
        self._registered = False
        self._polling = False

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> Self:
        """An executor for ``settings`` (see :meth:`Settings.from_env`)."""
        return cls(
            settings.client(),
            settings.colonyname,
            colony_prvkey=settings.colony_prvkey,
            prvkey=settings.prvkey,
            executorname=settings.executorname,
            executortype=settings.executortype,
            **kwargs,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.executorname or self.executorid[:12]!r}, colony={self.colonyname!r})"

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
        """Ask the loop to end after the current poll or process (thread-safe)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

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

    # the loop -------------------------------------------------------------------------------

    def run(self, *, handle_signals: bool | None = None) -> None:
        """Serve until :meth:`stop`; then unregister (if registered here) and close.

        In the main thread (or with ``handle_signals=True``) SIGINT and SIGTERM stop it: a long poll
        ends at once, a running function is allowed to finish and be closed; a second signal
        interrupts the function too (KeyboardInterrupt).
        """
        if handle_signals is None:
            handle_signals = threading.current_thread() is threading.main_thread()
        previous = self._install_signal_handlers() if handle_signals else {}
        try:
            self.start()
            backoff = 0.0
            while not self._stop.is_set():
                try:
                    self.run_once()
                    backoff = 0.0
                except AccessDeniedError:
                    raise
                except ColoniesError as exc:
                    backoff = min(max(backoff * 2, 0.5), 10.0)
                    log.warning("Executor %s: %s (retrying in %.1f s)", self.executorname, exc, backoff)
                    self._stop.wait(backoff)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self.shutdown()

    def run_once(self, timeout: float | None = None) -> Process | None:
        """Poll once (``timeout`` s, default ``poll_timeout``) and run what was assigned; returns it."""
        self._polling = True
        try:
            if self._stop.is_set():
                return None
            process = self.colonies.assign(self.colonyname, self._poll_seconds(timeout))
        except _StopPolling:
            return None
        finally:
            self._polling = False
        if process is not None:
            self.execute(process)
        return process

    def _poll_seconds(self, timeout: float | None) -> int:
        seconds = self.poll_timeout if timeout is None else timeout
        return max(1, round(seconds))

    def execute(self, process: Process) -> None:
        """Run ``process`` with :meth:`handle`, then close it with the output or fail it."""
        pid = process.processid
        log.info("Process %s assigned: %s", pid, self.describe(process))
        try:
            output = list(self.handle(process))
        except Exception as exc:
            self._fail(process, format_error(exc))
            return
        try:
            self.colonies.close(pid, output)
        except (TypeError, ValueError) as exc:  # the output cannot be sent as JSON
            self._fail(process, [f"Output cannot be sent: {exc}", f"output: {_SHORT.repr(output)}"])
            return
        except ColoniesError as exc:
            log.warning("Process %s: could not close: %s", pid, exc)
            return
        log.info("Process %s closed: %s", pid, _SHORT.repr(output))

    def _fail(self, process: Process, errors: list[str]) -> None:
        log.info("Process %s failed: %s", process.processid, errors[0])
        try:
            self.colonies.fail(process.processid, errors)
        except ColoniesError as exc:
            log.warning("Process %s: could not fail: %s", process.processid, exc)

    def handle(self, process: Process) -> Iterable[Any]:
        """Run the process and return its output values; raise to fail it. Subclasses override."""
        raise ExecutorError(f"{type(self).__name__} does not run {process.spec.funcname!r}")

    def describe(self, process: Process) -> str:
        """A one-line summary for the log: ``funcname(args)`` and the graph node."""
        spec = process.spec
        args = process.input if process.input else spec.args or []
        text = f"{spec.funcname}({', '.join(_SHORT.repr(a) for a in args)})"
        if process.processgraphid:
            text += f" [node {spec.nodename} of workflow {process.processgraphid[:12]}]"
        return text

    def context(self, process: Process) -> dict[str, Any]:
        """What a function may know about its run (the ``ctx`` of upstream's python executor,
        plus ``executorname`` and ``client``, a client bound to the executor's key)."""
        return {
            "process": process,
            "colonyname": self.colonyname,
            "executorid": self.executorid,
            "executorname": self.executorname,
            "executor_prvkey": self.prvkey,
            "client": self.colonies,
        }

    # signals --------------------------------------------------------------------------------

    def _install_signal_handlers(self) -> Mapping[int, Any]:
        previous = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, self._on_signal)
        return previous

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._stop.is_set():
            raise KeyboardInterrupt
        log.info("Executor %s: %s received, stopping", self.executorname, signal.Signals(signum).name)
        self._stop.set()
        if self._polling:
            raise _StopPolling
