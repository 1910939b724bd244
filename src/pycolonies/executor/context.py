"""What a function knows about the process it runs: :class:`Context` (the ``ctx`` argument), its
process log (:class:`ProcessLogger`) and :func:`current_context` for code deeper in the call.

``Context`` is a dict with the keys upstream's Python executor passes (``process``,
``colonyname``, ``executorid``, ``executor_prvkey``) plus ``executorname``, ``client`` (a client
bound to the executor's key) and ``log``, so upstream functions that read ``ctx["process"]`` keep
working; the same values are attributes (``ctx.process``, ``ctx.log``), with ``args``, ``kwargs``,
``input`` (the parents' outputs), ``channel(name)`` / ``achannel(name)`` and ``stopping`` besides,
and for a process with ColonyFS directives (``spec.fs``) ``fs_mount``, ``fs_dirs`` and
``fs_snapshots`` (the local directories the executor staged; :mod:`pycolonies.executor.fs`).
"""

from __future__ import annotations

import logging
import threading
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..models import Process

if TYPE_CHECKING:
    from ..client import AsyncColonies, Colonies
    from .base import Executor
    from .channels import AsyncChannel, Channel
    from .fs import FsStaging

__all__ = ["Context", "ProcessLog", "ProcessLogHandler", "ProcessLogger", "current_context"]

log = logging.getLogger("pycolonies.executor")

_current: ContextVar[Context | None] = ContextVar("pycolonies_executor_context", default=None)


def current_context() -> Context | None:
    """The context of the process the calling code runs for (None outside an executor's function).

    Set in the worker thread of a blocking function and in the task of an ``async def`` one, so
    concurrent processes never see each other's."""
    return _current.get()


class ProcessLog:
    """Lines written for one process, waiting to be sent with ``add_log`` (thread-safe).

    The executor sends them in batches (one request for the lines gathered since the previous
    one) every fraction of a second, and always before it closes or fails the process: the server
    takes log lines only while the process runs."""

    def __init__(self, processid: str) -> None:
        self.processid = processid
        self._lines: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        line = text if text.endswith("\n") else text + "\n"
        with self._lock:
            self._lines.append(line)

    def take(self) -> str:
        """Everything written since the last ``take``, as one message."""
        with self._lock:
            if not self._lines:
                return ""
            text = "".join(self._lines)
            self._lines.clear()
        return text

    def __bool__(self) -> bool:
        return bool(self._lines)


class ProcessLogger:
    """Writes to the process log (``colonies log get -p <processid>``); never blocks.

    ``ctx.log("text")`` or ``ctx.log.info("x = %s", x)`` write the line as is; ``warning`` and
    ``error`` prefix it with ``WARNING:`` / ``ERROR:``; ``exception`` adds the current traceback.
    """

    def __init__(self, processlog: ProcessLog) -> None:
        self._log = processlog

    def __call__(self, message: str, *args: Any) -> None:
        self.info(message, *args)

    def _write(self, prefix: str, message: str, args: tuple[Any, ...]) -> None:
        text = str(message) % args if args else str(message)
        self._log.write(prefix + text)
        log.debug("Process %s log: %s", self._log.processid, text)

    def debug(self, message: str, *args: Any) -> None:
        self._write("DEBUG: ", message, args)

    def info(self, message: str, *args: Any) -> None:
        self._write("", message, args)

    def warning(self, message: str, *args: Any) -> None:
        self._write("WARNING: ", message, args)

    def error(self, message: str, *args: Any) -> None:
        self._write("ERROR: ", message, args)

    def exception(self, message: str, *args: Any) -> None:
        import traceback

        self._write("ERROR: ", f"{message}\n{traceback.format_exc().rstrip()}", args)


class Context(dict[str, Any]):
    """The ``ctx`` a function gets (when it has a ``ctx`` parameter or ``**kwargs``)."""

    def __init__(self, executor: Executor, process: Process, processlog: ProcessLog) -> None:
        logger = ProcessLogger(processlog)
        super().__init__(
            process=process,
            colonyname=executor.colonyname,
            executorid=executor.executorid,
            executorname=executor.executorname,
            executor_prvkey=executor.prvkey,
            client=executor.colonies,
            log=logger,
        )
        self.executor = executor
        self.fs_staging: FsStaging | None = None  # set by the executor when spec.fs stages directories

    def __repr__(self) -> str:
        return f"Context(process={self.processid[:12]!r}, funcname={self.process.spec.funcname!r})"

    @property
    def process(self) -> Process:
        return self["process"]  # type: ignore[no-any-return]

    @property
    def processid(self) -> str:
        return self.process.processid

    @property
    def colonyname(self) -> str:
        return self["colonyname"]  # type: ignore[no-any-return]

    @property
    def executorid(self) -> str:
        return self["executorid"]  # type: ignore[no-any-return]

    @property
    def executorname(self) -> str:
        return self["executorname"]  # type: ignore[no-any-return]

    @property
    def client(self) -> Colonies:
        """A blocking client bound to the executor's key (for functions that run in threads)."""
        return self["client"]  # type: ignore[no-any-return]

    @property
    def aclient(self) -> AsyncColonies:
        """The executor's asyncio client, bound to its key: for ``async def`` functions only."""
        client = self.executor.aclient
        if client is None:
            raise RuntimeError("the executor is not serving: there is no asyncio client")
        return client

    @property
    def log(self) -> ProcessLogger:
        return self["log"]  # type: ignore[no-any-return]

    @property
    def args(self) -> list[Any]:
        return list(self.process.spec.args or [])

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.process.spec.kwargs or {})

    @property
    def input(self) -> list[Any]:
        """The outputs of the process's workflow parents, concatenated (empty outside workflows)."""
        return list(self.process.input or [])

    @property
    def stopping(self) -> bool:
        """True once the executor was asked to stop: a long function may wrap up early."""
        return self.executor.stopping

    @property
    def fs_mount(self) -> Path | None:
        """The local directory the process's ``fs.mount`` maps to (None without ``fs``
        directives): the staged snapshots and synced directories are below it."""
        return self.fs_staging.mount if self.fs_staging is not None else None

    @property
    def fs_dirs(self) -> dict[str, Path]:
        """Label (``/a/b`` form) -> local directory of each ``fs.dirs`` entry: read inputs there,
        write results there (they are uploaded to the label when the function succeeds)."""
        return self.fs_staging.dir_paths if self.fs_staging is not None else {}

    @property
    def fs_snapshots(self) -> dict[str, Path]:
        """Label (``/a/b`` form) -> local directory holding each ``fs.snapshots`` entry's files."""
        return self.fs_staging.snapshot_paths if self.fs_staging is not None else {}

    def channel(self, name: str) -> Channel:
        """The channel ``name`` of this process, signed by the executor (docs/channels.md)."""
        from .channels import channel

        return channel(self, name)

    def achannel(self, name: str) -> AsyncChannel:
        """:meth:`channel` for an ``async def`` function (over :attr:`aclient`)."""
        from .channels import AsyncChannel

        return AsyncChannel(self.aclient, self.process, name)

    @property
    def channels(self) -> dict[str, Channel]:
        """Every channel the process declares (``spec.channels``), by name."""
        from .channels import channels

        return channels(self)


class ProcessLogHandler(logging.Handler):
    """A ``logging`` handler that writes records emitted while a function runs into that process's
    log (records emitted elsewhere are ignored). The :class:`~pycolonies.executor.hooks.CaptureLogging`
    hook installs one for the executor's lifetime."""

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        ctx = _current.get()
        if ctx is None or record.name.startswith("pycolonies.executor"):
            return
        try:
            ctx.log.info(self.format(record))
        except Exception:
            self.handleError(record)
