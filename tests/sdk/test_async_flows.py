"""The core flows of upstream's suite through ``AsyncColonies`` against the real server.

No pytest-asyncio: each test runs its coroutine with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import random
import string
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from crypto import Crypto
from model import Conditions, FuncSpec
from pycolonies import AccessDeniedError, AsyncColonies, Colonies, ColoniesConnectionError, NotFoundError, func_spec

from ..conftest import SERVER_PRVKEY, ServerProcess

EXECUTOR_TYPE = "test-executor-type"


def ran_prefix() -> str:
    return "".join(random.choices(string.ascii_uppercase + string.digits, k=10))


@dataclass
class AsyncColony:
    client: AsyncColonies
    colonyname: str
    colony_prvkey: str
    executorname: str
    executor_prvkey: str

    def spec(self, **extra: Any) -> FuncSpec:
        return FuncSpec(
            conditions=Conditions(colonyname=self.colonyname, executortype=EXECUTOR_TYPE),
            env={"test_key": "test_value2"},
            maxexectime=-1,
            maxretries=3,
            **extra,
        )


def run_in_colony(server: ServerProcess, body: Callable[[AsyncColony], Awaitable[None]]) -> None:
    """Make a fresh colony with an approved executor (as upstream's tests do), run ``body``, then
    delete the colony; all through AsyncColonies inside one ``asyncio.run``."""

    async def main() -> None:
        crypto = Crypto()
        async with AsyncColonies("127.0.0.1", server.port, tls=False) as client:
            colony_prvkey = crypto.prvkey()
            colonyname = "python-test-" + ran_prefix()
            added = await client.add_colony({"colonyid": crypto.id(colony_prvkey), "name": colonyname}, SERVER_PRVKEY)
            assert added["name"] == colonyname
            executor_prvkey = crypto.prvkey()
            executorname = "test-executor-" + ran_prefix()
            executor = {
                "executorname": executorname,
                "executorid": crypto.id(executor_prvkey),
                "colonyname": colonyname,
                "executortype": EXECUTOR_TYPE,
            }
            added_executor = await client.add_executor(executor, colony_prvkey)
            assert added_executor["executorid"] == crypto.id(executor_prvkey)
            assert await client.approve_executor(colonyname, executorname, colony_prvkey) == {}
            try:
                await body(AsyncColony(client, colonyname, colony_prvkey, executorname, executor_prvkey))
            finally:
                await client.del_colony(colonyname, SERVER_PRVKEY)
            colonies = await client.list_colonies(SERVER_PRVKEY) or []
            assert all(c["name"] != colonyname for c in colonies)

    asyncio.run(main())


def test_async_executors(server: ServerProcess) -> None:
    async def body(c: AsyncColony) -> None:
        executors = await c.client.list_executors(c.colonyname, c.executor_prvkey)
        assert [(e["executorname"], e["state"]) for e in executors] == [(c.executorname, 1)]
        executor = await c.client.get_executor(c.colonyname, c.executorname, c.executor_prvkey)
        assert executor["executortype"] == EXECUTOR_TYPE
        # reject, then remove: the record stays as UNREGISTERED
        assert await c.client.reject_executor(c.colonyname, c.executorname, c.colony_prvkey) == {}
        with pytest.raises(AccessDeniedError):
            await c.client.submit_func_spec(c.spec(), c.executor_prvkey)
        assert await c.client.remove_executor(c.colonyname, c.executorname, c.colony_prvkey) == {}
        executors = await c.client.list_executors(c.colonyname, c.executor_prvkey)
        assert executors[0]["state"] == 3

    run_in_colony(server, body)


def test_async_process_lifecycle(server: ServerProcess) -> None:
    """submit, list, get, assign, set_output, attributes, close, remove."""

    async def body(c: AsyncColony) -> None:
        client, key = c.client, c.executor_prvkey
        submitted = await client.submit_func_spec(c.spec(), key)
        assert submitted.state == Colonies.WAITING
        waiting = await client.list_processes(c.colonyname, 10, Colonies.WAITING, key)
        assert [p["processid"] for p in waiting] == [submitted.processid]
        assert (await client.get_process(submitted.processid, key)).spec.env == {"test_key": "test_value2"}

        assigned = await client.assign(c.colonyname, 10, key)
        assert assigned.processid == submitted.processid and assigned.state == Colonies.RUNNING

        await client.set_output(assigned.processid, ["output1", "output2"], key)
        attribute = await client.add_attribute(assigned.processid, "py_test_key", "py_test_value", key)
        got = await client.get_attribute(attribute["attributeid"], key)
        assert (got["key"], got["value"], got["targetid"]) == ("py_test_key", "py_test_value", assigned.processid)

        process = await client.get_process(assigned.processid, key)
        assert process.output == ["output1", "output2"]
        assert any(a.key == "py_test_key" and a.value == "py_test_value" for a in process.attributes)

        assert await client.close(assigned.processid, ["done"], key) == {}
        done = await client.get_process(assigned.processid, key)
        assert done.state == Colonies.SUCCESSFUL and done.output == ["done"]

        await client.remove_process(assigned.processid, key)
        with pytest.raises(NotFoundError):
            await client.get_process(assigned.processid, key)

    run_in_colony(server, body)


def test_async_fifo_close_fail_and_stats(server: ServerProcess) -> None:
    """Upstream's test_close_process + test_stats: 4 submitted, 3 assigned FIFO, 1 closed, 1 failed."""

    async def body(c: AsyncColony) -> None:
        client, key = c.client, c.executor_prvkey
        submitted = [await client.submit_func_spec(c.spec(), key) for _ in range(4)]
        assigned = [await client.assign(c.colonyname, 10, key) for _ in range(3)]
        assert [p.processid for p in assigned] == [p.processid for p in submitted[:3]]
        await client.close(submitted[0].processid, [], key)
        await client.fail(submitted[1].processid, ["boom"], key)

        by_state = {}
        for state in (Colonies.WAITING, Colonies.RUNNING, Colonies.SUCCESSFUL, Colonies.FAILED):
            by_state[state] = [p["processid"] for p in await client.list_processes(c.colonyname, 2, state, key) or []]
        assert by_state == {
            Colonies.WAITING: [submitted[3].processid],
            Colonies.RUNNING: [submitted[2].processid],
            Colonies.SUCCESSFUL: [submitted[0].processid],
            Colonies.FAILED: [submitted[1].processid],
        }
        stats = await client.stats(c.colonyname, key)
        assert [stats[k] for k in ("waitingprocesses", "runningprocesses", "successfulprocesses")] == [1, 1, 1]
        assert stats["failedprocesses"] == 1
        failed = await client.get_process(submitted[1].processid, key)
        assert failed.errors == ["boom"]

    run_in_colony(server, body)


def test_async_functions(server: ServerProcess) -> None:
    async def body(c: AsyncColony) -> None:
        client, key = c.client, c.executor_prvkey
        assert await client.get_functions_by_colony(c.colonyname, key) in (None, [])
        function = await client.add_function(c.colonyname, c.executorname, "funcname", key)
        assert function["funcname"] == "funcname"
        by_colony = await client.get_functions_by_colony(c.colonyname, key)
        by_executor = await client.get_functions_by_executor(c.colonyname, c.executorname, key)
        assert [f["funcname"] for f in by_colony] == [f["funcname"] for f in by_executor] == ["funcname"]

    run_in_colony(server, body)


def test_async_long_poll_assign_and_wait(server: ServerProcess) -> None:
    """An executor's assign long-polls while a client submits; the client's wait() returns once the
    executor closed the process. Both run concurrently on one event loop."""

    async def body(c: AsyncColony) -> None:
        client, key = c.client, c.executor_prvkey
        started = time.monotonic()
        assert await client.assign(c.colonyname, 1, key) is None  # nothing to do: None after ~1 s
        assert 0.5 < time.monotonic() - started < 5

        async def executor() -> str:
            process = await client.assign(c.colonyname, 10, key)
            assert process is not None
            await asyncio.sleep(0.2)
            await client.close(process.processid, [process.spec.args[0]], key)
            return process.processid

        executor_task = asyncio.create_task(executor())
        await asyncio.sleep(0.2)  # the executor is now waiting inside assign
        spec = func_spec("echo", ["hello async"], c.colonyname, EXECUTOR_TYPE, maxexectime=60, maxwaittime=60)
        submitted = await client.submit_func_spec(spec, key)
        done = await client.wait(submitted, 10, key)
        assert done.processid == submitted.processid
        assert done.state == Colonies.SUCCESSFUL and done.output == ["hello async"]
        assert await asyncio.wait_for(executor_task, 10) == submitted.processid

    run_in_colony(server, body)


def test_async_errors(server: ServerProcess) -> None:
    async def body(c: AsyncColony) -> None:
        client = c.client
        with pytest.raises(AccessDeniedError, match="Access denied"):
            await client.get_users(c.colonyname, SERVER_PRVKEY)
        stranger = Crypto().prvkey()
        with pytest.raises(ColoniesConnectionError):
            await client.submit_func_spec(c.spec(), stranger)
        with pytest.raises(NotFoundError):
            await client.get_process("0" * 64, c.executor_prvkey)

    run_in_colony(server, body)
