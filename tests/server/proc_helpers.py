"""Helpers for the process tests: specs as the SDK sends them, raw submit/assign/get, polling and
background calls."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from pycolonies.models import Conditions, FuncSpec

from ..conftest import Env
from .raw import raw_call

__all__ = ["ZERO_TIME", "Background", "assign", "call_ok", "expect_error", "get", "make_spec", "submit", "wait_for"]

ZERO_TIME = "0001-01-01T00:00:00Z"


def make_spec(
    env: Env, /, *, executortype: str | None = None, conditions: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    """The wire spec the SDK sends for ``FuncSpec(funcname="f", maxexectime=-1, ...)``, with
    ``fields`` and ``conditions`` merged in (maxexectime -1: no deadline interferes)."""
    spec = FuncSpec(
        funcname="f",
        maxexectime=-1,
        conditions=Conditions(colonyname=env.colonyname, executortype=executortype or env.executortype),
    ).model_dump(by_alias=True, mode="json")
    spec.update(fields)
    if conditions:
        spec["conditions"].update(conditions)
    return spec


def call_ok(env: Env, msg: dict[str, Any], prvkey: str | None = None) -> Any:
    status, payload = raw_call(env.server, msg, prvkey or env.executor_prvkey)
    assert status == 200, payload
    return payload


def expect_error(result: tuple[int, Any], status: int, message: str) -> None:
    """``result`` (from raw_call) is the error reply ``{status, message}`` with that HTTP status."""
    assert result == (status, {"status": status, "message": message})


def submit(env: Env, /, prvkey: str | None = None, **kw: Any) -> dict[str, Any]:
    """Submit ``make_spec(env, **kw)``; returns the wire process."""
    return call_ok(env, {"msgtype": "submitfuncspecmsg", "spec": make_spec(env, **kw)}, prvkey)  # type: ignore[no-any-return]


def assign(env: Env, prvkey: str | None = None, timeout: int = -1, **fields: Any) -> tuple[int, Any]:
    msg = {"msgtype": "assignprocessmsg", "colonyname": env.colonyname, "timeout": timeout, **fields}
    return raw_call(env.server, msg, prvkey or env.executor_prvkey, timeout=max(timeout, 0) + 30)


def get(env: Env, processid: str, prvkey: str | None = None) -> dict[str, Any]:
    return call_ok(env, {"msgtype": "getprocessmsg", "processid": processid}, prvkey)  # type: ignore[no-any-return]


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout} s (last value {value!r})")
        time.sleep(interval)


class Background(threading.Thread):
    """Run ``fn()`` in a thread; ``result()`` joins and returns its value or re-raises."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.fn = fn
        self.value: Any = None
        self.error: BaseException | None = None
        self.finished_at = 0.0
        self.start()

    def run(self) -> None:
        try:
            self.value = self.fn()
        except BaseException as exc:
            self.error = exc
        finally:
            self.finished_at = time.monotonic()

    def result(self, timeout: float = 30.0) -> Any:
        self.join(timeout)
        assert not self.is_alive(), "background call did not finish"
        if self.error is not None:
            raise self.error
        return self.value
