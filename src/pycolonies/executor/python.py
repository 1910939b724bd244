"""The Python code-injection executor (upstream pycolonies' ``examples/python_executor.py``).

A process carries the source of a Python function, Base64, in ``spec.env["code"]`` (what
``func_spec(func=<function>)`` or ``func_spec(func="name", code=<source>)`` put there); the
executor defines it and calls ``spec.funcname`` with:

* positional args: ``process.input`` (the outputs of the workflow parents, concatenated) when it is
  non-empty, else ``spec.args``;
* keyword args: ``spec.kwargs``, plus ``ctx`` when the function accepts it (a ``ctx`` parameter
  or ``**kwargs``): a dict ``{"process", "colonyname", "executorid", "executorname",
  "executor_prvkey", "client", "log"}``, ``client`` being a Colonies client bound to the
  executor's key (so a running map step can call ``ctx["client"].add_child(...)``) and ``log``
  writing to the process log (see :class:`~pycolonies.executor.context.Context`).

The return value becomes the output: ``None`` -> ``[]``, a tuple -> its items, anything else ->
one value. An exception fails the process with the error text and the traceback.

The code runs in a fresh namespace that also holds ``colonies`` (the same bound client: upstream's
examples call the executor's global ``colonies``) and ``func_spec``. It is trusted code: anyone who
may submit to the colony can run anything as this executor.

Run it with ``python -m pycolonies.executor.python`` (``--help`` lists the environment variables).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import builtins
import dataclasses
import hashlib
import linecache
import logging
import sys
import textwrap
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from types import CodeType
from typing import Any

from ..errors import ColoniesError
from ..models import FuncSpec, Process
from ..specs import func_spec
from .base import Executor, ExecutorError, accepts_ctx, to_output
from .settings import Settings

__all__ = ["CodeError", "PythonExecutor", "accepts_ctx", "main", "to_output"]

log = logging.getLogger("pycolonies.executor")


class CodeError(ExecutorError):
    """The process's code is missing, cannot be decoded or compiled, or lacks the function."""


class _CodeCache:
    """Compiled sources by hash (bounded); each is in ``linecache`` so tracebacks show its lines."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._codes: OrderedDict[str, CodeType] = OrderedDict()
        self._lock = threading.Lock()  # functions run in several worker threads

    def compile(self, source: str, funcname: str) -> CodeType:
        with self._lock:
            return self._compile(source, funcname)

    def _compile(self, source: str, funcname: str) -> CodeType:
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
        code = self._codes.get(digest)
        if code is not None:
            self._codes.move_to_end(digest)
            return code
        filename = f"<colonies {funcname} {digest[:8]}>"
        try:
            code = compile(source, filename, "exec")
        except SyntaxError as exc:
            raise CodeError(f"The code of {funcname} does not compile: {exc}") from None
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        self._codes[digest] = code
        if len(self._codes) > self.size:
            _, old = self._codes.popitem(last=False)
            linecache.cache.pop(old.co_filename, None)
        return code


def decode_source(spec: FuncSpec) -> str:
    """The function source carried by ``spec`` (``env["code"]``, Base64), dedented."""
    encoded = (spec.env or {}).get("code") or ""
    if not encoded:
        raise CodeError(f"Process for {spec.funcname!r} has no code: spec.env['code'] is empty")
    try:
        source = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise CodeError(f"spec.env['code'] is not Base64 UTF-8 text: {exc}") from None
    # inspect.getsource of a nested function or a method keeps its indentation
    return textwrap.dedent(source)


class PythonExecutor(Executor):
    """Runs the Python function each process carries (module docstring). Offers no fixed
    functions: each new ``funcname`` it runs is added with ``add_function`` (as upstream)."""

    executortype = "python-executor"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._codes = _CodeCache()
        self._announced: set[str] = set(self.function_names)
        self._announcing = threading.Lock()

    def namespace(self) -> dict[str, Any]:
        """The globals the injected code runs in (fresh for each process)."""
        return {
            "__name__": "__colonies__",
            "__builtins__": builtins,
            "colonies": self.colonies,
            "func_spec": func_spec,
        }

    def load(self, spec: FuncSpec) -> Callable[..., Any]:
        """Define the process's code and return its ``funcname`` function."""
        source = decode_source(spec)
        namespace = self.namespace()
        exec(self._codes.compile(source, spec.funcname), namespace)
        function = namespace.get(spec.funcname)
        if not callable(function):
            raise CodeError(f"The code does not define a function named {spec.funcname!r}")
        return function  # type: ignore[no-any-return]

    def handle(self, process: Process) -> list[Any]:
        spec = process.spec
        function = self.load(spec)
        with self._announcing:
            announce = spec.funcname not in self._announced
            self._announced.add(spec.funcname)
        if announce:
            self.add_function(spec.funcname)
        return to_output(self.call(function, process, self.context(process)))


# ------------------------------------------------------------------------------------------------
# python -m pycolonies.executor.python

_EPILOG = """\
environment:
  COLONIES_SERVER_HOST     server host (default localhost)
  COLONIES_SERVER_PORT     server port (default 50080)
  COLONIES_SERVER_TLS      "true" for https
  COLONIES_SKIP_TLS_VERIFY "true": do not verify the server's certificate (development)
  COLONIES_CA_CERT         a CA bundle to verify the server's certificate with
  COLONIES_COLONY_NAME     the colony to serve (required)
  COLONIES_COLONY_PRVKEY   colony owner key: register a new executor, unregister it on exit
  COLONIES_PRVKEY          otherwise: the key of an executor that is registered and approved
  COLONIES_EXECUTOR_NAME   with COLONIES_PRVKEY: that executor's name (looked up when unset)
  COLONIES_EXECUTOR_TYPE   executor type to register (default python-executor)

With `colonies dev` running, `eval` its export lines (or rely on the defaults of
examples/python_executor.py) and submit functions with executortype "python-executor".
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run a PythonExecutor configured from the environment until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m pycolonies.executor.python",
        description="The ColonyOS Python code-injection executor.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--name", help="name to register under (default: <type>-<random>)")
    parser.add_argument("--type", dest="executortype", help="executor type (overrides COLONIES_EXECUTOR_TYPE)")
    parser.add_argument("--poll-timeout", type=float, default=10.0, help="seconds per assign long poll")
    parser.add_argument("--concurrency", type=int, default=1, help="processes run at once (worker threads)")
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    options = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.WARNING if options.quiet else logging.INFO,
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stdout,
        force=True,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    try:
        settings = Settings.from_env(executortype=PythonExecutor.executortype)
        if options.executortype:
            settings = dataclasses.replace(settings, executortype=options.executortype)
        if options.name:
            settings = dataclasses.replace(settings, executorname=options.name)
        executor = PythonExecutor.from_settings(
            settings, poll_timeout=options.poll_timeout, concurrency=options.concurrency
        )
        log.info("Connecting to %s, colony %s", executor.colonies.url, settings.colonyname)
        executor.run()
    except ColoniesError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
