"""The executor framework against the real server: many processes through concurrency 8 (none lost
or run twice), async functions running together, failing functions (error text, traceback, the
executor keeps serving), the calling conventions, the process log, hooks, and registration."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from typing import Any

import pytest

from pycolonies import Colonies, Workflow
from pycolonies.executor import CaptureLogging, Context, Executor, ExecutorConfigError, Hook, Timing, current_context

from ..conftest import Env
from .support import client_of, finished, framework_executor, serving, spec_for, submit_many, wait_state


class Gauge:
    """Counts calls in flight and remembers the most seen at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.calls: Counter[Any] = Counter()

    def enter(self, key: Any) -> None:
        with self.lock:
            self.calls[key] += 1
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


def test_concurrency_8_runs_every_process_exactly_once(env: Env) -> None:
    gauge = Gauge()
    executor = framework_executor(env, "batch", concurrency=8)

    @executor.function
    def double(n: int) -> int:
        gauge.enter(n)
        time.sleep(0.02)
        gauge.leave()
        return 2 * n

    n = 300
    with serving(executor):
        processes = submit_many(env, [spec_for(env, "batch", "double", [i]) for i in range(n)])
        done = finished(env, [p.processid for p in processes], timeout=40)
    assert [p.state for p in done] == [Colonies.SUCCESSFUL] * n
    assert [p.output for p in done] == [[2 * i] for i in range(n)]
    assert gauge.calls == Counter(range(n))  # each once: none lost, none run twice
    assert 1 < gauge.most <= 8
    assert {p.assignedexecutorid for p in done} == {executor.executorid}
    assert executor.stats == {"assigned": n, "succeeded": n, "failed": 0}


def test_async_functions_run_concurrently_in_the_event_loop(env: Env) -> None:
    gauge = Gauge()
    executor = framework_executor(env, "aio", concurrency=8)
    loops: set[int] = set()

    @executor.function
    async def nap(i: int, ctx: Context) -> tuple[int, str]:
        gauge.enter(i)
        loops.add(id(asyncio.get_running_loop()))
        await asyncio.sleep(0.5)
        gauge.leave()
        assert current_context() is ctx  # each task sees its own process
        return i, ctx.processid

    with serving(executor):
        processes = submit_many(env, [spec_for(env, "aio", "nap", [i]) for i in range(16)])
        started = time.monotonic()
        done = finished(env, [p.processid for p in processes])
        elapsed = time.monotonic() - started
    assert [p.output for p in done] == [[i, p.processid] for i, p in enumerate(processes)]
    assert gauge.most == 8 and len(loops) == 1
    assert elapsed < 3.0  # 16 half-second naps, 8 at a time: about 1 s (sequentially 8 s)


def boom(n: int) -> int:
    if n == 7:
        raise ValueError(f"bad value {n}")
    return n


async def aboom() -> None:
    raise RuntimeError("async failure")


def test_a_raising_function_fails_the_process_and_the_executor_keeps_serving(env: Env) -> None:
    executor = framework_executor(env, "fails", concurrency=2)
    executor.register(boom)
    executor.register(aboom)
    with serving(executor):
        failed, after, afailed = submit_many(
            env,
            [
                spec_for(env, "fails", "boom", [7]),
                spec_for(env, "fails", "boom", [8]),
                spec_for(env, "fails", "aboom"),
            ],
        )
        failed, after, afailed = finished(env, [failed.processid, after.processid, afailed.processid])
        unknown = wait_state(env, submit_many(env, [spec_for(env, "fails", "missing")])[0].processid)
        still = wait_state(env, submit_many(env, [spec_for(env, "fails", "boom", [9])])[0].processid)
    assert failed.state == Colonies.FAILED and failed.errors[0] == "ValueError: bad value 7"
    assert failed.errors[1].startswith("Traceback (most recent call last):")
    assert 'raise ValueError(f"bad value {n}")' in failed.errors[1] and ", in boom" in failed.errors[1]
    assert "pycolonies/executor" not in failed.errors[1]
    assert afailed.state == Colonies.FAILED and afailed.errors[0] == "RuntimeError: async failure"
    assert after.output == [8] and still.output == [9]
    assert unknown.state == Colonies.FAILED
    assert unknown.errors == [
        f"ExecutorError: Executor {executor.executorname} (type fails) has no function 'missing' (it has: aboom, boom)"
    ]
    assert executor.stats["failed"] == 3


def test_arguments_kwargs_parent_outputs_and_ctx(env: Env) -> None:
    executor = framework_executor(env, "calls")

    @executor.function
    def pair() -> tuple[int, int]:
        return 3, 4

    @executor.function(name="scaled")
    def scale(a: int, b: int, *, factor: int = 1, ctx: Context) -> dict[str, Any]:
        return {
            "sum": (a + b) * factor,
            "input": ctx.input,
            "args": ctx.args,
            "kwargs": ctx.kwargs,
            "upstream": [ctx["colonyname"], ctx["executorname"], ctx["process"].processid == ctx.processid],
        }

    @executor.function("nothing")
    def returns_none() -> None:
        return None

    with serving(executor), client_of(env, env.user_prvkey) as client:
        wf = Workflow(colonyname=env.colonyname)
        first = wf.add("pair", executortype="calls", maxexectime=30)
        wf.add("scaled", after=first, executortype="calls", maxexectime=30, kwargs={"factor": 10})
        graph = client.submit_workflow(wf)
        last = client.wait(client.find_process("scaled", graph.processids), 10)
        direct = submit_many(env, [spec_for(env, "calls", "scaled", [1, 2]), spec_for(env, "calls", "nothing")])
        direct_done, nothing = finished(env, [p.processid for p in direct])
    assert last.output == [
        {
            "sum": 70,
            "input": [3, 4],
            "args": [],
            "kwargs": {"factor": 10},
            "upstream": [env.colonyname, executor.executorname, True],
        }
    ]
    assert direct_done.output[0]["sum"] == 3 and direct_done.output[0]["input"] == []
    assert nothing.state == Colonies.SUCCESSFUL and nothing.output == []


def test_ctx_log_and_captured_logging_reach_the_process_log(env: Env) -> None:
    executor = framework_executor(env, "logs", hooks=[CaptureLogging("test.executor.user")])
    user_log = logging.getLogger("test.executor.user")

    @executor.function
    def chatty(n: int, ctx: Context) -> int:
        ctx.log.info("starting with %d", n)
        user_log.info("through logging")
        ctx.log.warning("careful")
        return n

    @executor.function
    async def achatty(ctx: Context) -> None:
        ctx.log("from a coroutine")
        raise KeyError("x")

    with serving(executor):
        good, bad = submit_many(env, [spec_for(env, "logs", "chatty", [5]), spec_for(env, "logs", "achatty")])
        finished(env, [good.processid, bad.processid])
    with client_of(env, env.user_prvkey) as client:
        lines = "".join(e["message"] for e in client.get_process_log(env.colonyname, good.processid, 100, 0) or [])
        bad_lines = "".join(e["message"] for e in client.get_process_log(env.colonyname, bad.processid, 100, 0) or [])
    assert lines == "starting with 5\nINFO test.executor.user: through logging\nWARNING: careful\n"
    assert bad_lines == "from a coroutine\n"


class Recorder(Hook):
    def __init__(self, name: str, events: list[tuple[str, ...]]) -> None:
        self.name = name
        self.events = events

    def on_start(self, executor: Executor) -> None:
        self.events.append((self.name, "start"))

    def on_stop(self, executor: Executor) -> None:
        self.events.append((self.name, "stop"))

    def before_process(self, ctx: Context) -> None:
        if ctx.args == ["refuse"] and self.name == "outer":
            raise PermissionError("refused by a hook")
        self.events.append((self.name, "before", ctx.process.spec.funcname, threading.current_thread().name))

    def after_process(self, ctx: Context, output: list[Any]) -> None:
        self.events.append((self.name, "after", repr(output)))
        if self.name == "inner":
            raise RuntimeError("an after hook that fails is only logged")

    def on_error(self, ctx: Context, error: BaseException) -> None:
        self.events.append((self.name, "error", type(error).__name__))


def test_hooks_run_around_every_process(env: Env) -> None:
    events: list[tuple[str, ...]] = []
    timing = Timing()
    executor = framework_executor(env, "hooked", hooks=[Recorder("outer", events), Recorder("inner", events)])
    executor.add_hook(timing)

    @executor.function
    def work(x: str) -> str:
        if x == "fail":
            raise ValueError("no")
        return x.upper()

    with serving(executor):
        ok = wait_state(env, submit_many(env, [spec_for(env, "hooked", "work", ["ok"])])[0].processid)
        failed = wait_state(env, submit_many(env, [spec_for(env, "hooked", "work", ["fail"])])[0].processid)
        refused = wait_state(env, submit_many(env, [spec_for(env, "hooked", "work", ["refuse"])])[0].processid)
    assert ok.output == ["OK"]  # the failing after hook did not fail the process
    assert failed.errors[0] == "ValueError: no"
    assert refused.state == Colonies.FAILED and refused.errors[0] == "PermissionError: refused by a hook"
    thread = events[2][3]
    assert thread.startswith(executor.executorname)  # a worker thread, not the event loop's
    assert events == [
        ("outer", "start"),
        ("inner", "start"),
        ("outer", "before", "work", thread),
        ("inner", "before", "work", thread),
        ("inner", "after", "['OK']"),  # in reverse order
        ("outer", "after", "['OK']"),
        ("outer", "before", "work", events[6][3]),
        ("inner", "before", "work", events[7][3]),
        ("inner", "error", "ValueError"),
        ("outer", "error", "ValueError"),
        ("inner", "error", "PermissionError"),
        ("outer", "error", "PermissionError"),
        ("inner", "stop"),
        ("outer", "stop"),
    ]
    assert timing.totals["work"][0] == 2  # the refused process never reached it


def test_functions_are_registered_on_the_server(env: Env) -> None:
    executor = framework_executor(env, "registered", functions=["declared"])

    @executor.function
    def first() -> None: ...

    @executor.function(name="second")
    async def second_impl() -> None: ...

    with pytest.raises(ValueError, match="already registered"):
        executor.register(lambda: None, name="first")
    with serving(executor), client_of(env, env.user_prvkey) as client:
        executor.register(lambda: 1, name="late")  # added at once when serving
        names = {f["funcname"] for f in client.get_functions_by_executor(env.colonyname, executor.executorname)}
    assert names == {"declared", "first", "second", "late"}


def test_settings_are_checked() -> None:
    client = Colonies("127.0.0.1", 1)
    with pytest.raises(ExecutorConfigError, match="concurrency"):
        Executor(client, "c", colony_prvkey="11" * 32, executortype="t", concurrency=0)
    with pytest.raises(ExecutorConfigError, match="executortype"):
        Executor(client, "c", colony_prvkey="11" * 32)


def test_the_package_exports_exactly_its_all() -> None:
    import pycolonies.executor as package

    assert set(package.__all__) == {
        "CaptureLogging",
        "CodeError",
        "CommandError",
        "Context",
        "EchoExecutor",
        "Executor",
        "ExecutorConfigError",
        "ExecutorError",
        "Hook",
        "ProcessLogHandler",
        "ProcessLogger",
        "PythonExecutor",
        "Settings",
        "ShellExecutor",
        "Timing",
        "accepts_ctx",
        "current_context",
        "format_error",
        "to_output",
    }
    for name in package.__all__:
        assert getattr(package, name).__module__.startswith("pycolonies.executor"), name


def test_an_async_function_uses_its_channels(env: Env) -> None:
    executor = framework_executor(env, "achannels")

    @executor.function
    async def talk(ctx: Context) -> list[Any]:
        channel = ctx.achannel("out")
        await channel.send("hello")
        await channel.send({"n": 1})
        return [entry["payload"].decode() for entry in await channel.read()]

    with serving(executor):
        process = submit_many(env, [spec_for(env, "achannels", "talk", channels=["out"])])[0]
        done = wait_state(env, process.processid)
    assert done.output == [["hello", '{"n": 1}']], done.errors
