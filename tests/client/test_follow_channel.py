"""``Colonies.follow_channel`` / ``AsyncColonies.follow_channel``: a channel as an iterator of
entries across subscription segments, ending at ``end``, at its timeout or when the process closes."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time

import pytest

from pycolonies import AsyncColonies, Colonies, Conditions, FuncSpec, NotFoundError

from ..conftest import Env


def start(env: Env) -> str:
    spec = FuncSpec(
        funcname="f",
        maxexectime=-1,
        channels=["chat"],
        conditions=Conditions(colonyname=env.colonyname, executortype=env.executortype),
    )
    process = env.client.submit_func_spec(spec, env.user_prvkey)
    env.client.assign(env.colonyname, 5, env.executor_prvkey)
    return process.processid


def test_twins_have_the_same_signature() -> None:
    sync_sig = inspect.signature(Colonies.follow_channel)
    async_sig = inspect.signature(AsyncColonies.follow_channel)
    assert list(sync_sig.parameters.items()) == list(async_sig.parameters.items())


def test_follow_across_segments_until_end(env: Env) -> None:
    pid = start(env)
    client = env.client
    for seq in (1, 2):
        client.channel_append(pid, "chat", seq, f"m{seq}", env.user_prvkey)

    def later() -> None:
        time.sleep(1.5)  # after the first 1-second segment
        client.channel_append(pid, "chat", 1, "late", env.executor_prvkey)
        client.channel_append(pid, "chat", 2, "", env.executor_prvkey, payload_type="end")
        client.channel_append(pid, "chat", 3, "after the end", env.executor_prvkey)

    writer = threading.Thread(target=later)
    writer.start()
    got = list(client.follow_channel(pid, "chat", env.user_prvkey, after_index=1, segment=1))
    writer.join()
    assert [(e["payload"], e.get("type")) for e in got] == [(b"m2", "data"), (b"late", "data"), ("", "end")]
    everything = list(client.follow_channel(pid, "chat", env.user_prvkey, until_end=False, timeout=1.5, segment=1))
    assert [e["payload"] for e in everything] == [b"m1", b"m2", b"late", "", b"after the end"]


def test_follow_ends_when_the_process_closes(env: Env) -> None:
    pid = start(env)
    env.client.channel_append(pid, "chat", 1, "only", env.executor_prvkey)

    def close() -> None:
        time.sleep(0.5)
        env.client.close(pid, [], env.executor_prvkey)

    closer = threading.Thread(target=close)
    closer.start()
    began = time.monotonic()
    got = [e["payload"] for e in env.client.follow_channel(pid, "chat", env.user_prvkey, segment=1)]
    closer.join()
    assert got == [b"only"]
    assert time.monotonic() - began < 10
    with pytest.raises(NotFoundError, match="Channel not found"):  # nothing to follow at all
        list(env.client.follow_channel(pid, "chat", env.user_prvkey))


def test_async_follow(env: Env) -> None:
    pid = start(env)

    async def main() -> list[object]:
        async with AsyncColonies("127.0.0.1", env.server.port, prvkey=env.user_prvkey) as client:
            await client.channel_append(pid, "chat", 1, "a", env.executor_prvkey)
            await client.channel_append(pid, "chat", 2, "", env.executor_prvkey, payload_type="end")
            return [e["payload"] async for e in client.follow_channel(pid, "chat")]

    assert asyncio.run(main()) == [b"a", ""]
    with pytest.raises(NotFoundError):
        asyncio.run(_follow_unknown(env, pid))


async def _follow_unknown(env: Env, pid: str) -> None:
    async with AsyncColonies("127.0.0.1", env.server.port, prvkey=env.user_prvkey) as client:
        async for _ in client.follow_channel(pid, "nope"):
            pass
