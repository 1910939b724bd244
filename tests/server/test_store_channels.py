"""The channel and blueprint parts of the Store contract, on the backend under test: arrival
numbers, log positions by upstream's ordering rule, the entry limit, reads after an arrival
number, cleanup and the orphan sweep; blueprint documents, filters and history."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pycolonies.server.store import Store
from pycolonies.server.store.records import SUCCESS

from ..backends import new_store
from .test_store_sqlite import new_process


def run(tmp_path: Path, body: Callable[[Store], Awaitable[None]]) -> None:
    async def main() -> None:
        store = await new_store(tmp_path)
        try:
            await body(store)
        finally:
            await store.close()

    asyncio.run(main())


def entry(sender: str, sequence: int, text: str) -> dict[str, Any]:
    return {
        "sequence": sequence,
        "inreplyto": 0,
        "timestamp": 1_000 + sequence,
        "senderid": sender,
        "payload": text.encode(),
        "type": "data",
    }


def channel(processid: str, name: str = "chat") -> dict[str, Any]:
    return {"processid": processid, "name": name, "submitterid": "s", "executorid": ""}


def test_appends_positions_and_arrivals(tmp_path: Path) -> None:
    async def body(store: Store) -> None:
        assert await store.add_channel(channel("p"), 100) == {**channel("p"), "entries": 0}
        order = [("a", 1, "a1"), ("b", 1, "b1"), ("a", 3, "a3"), ("a", 2, "a2"), ("b", 2, "b2")]
        arrivals = [await store.append_channel_entry("p", "chat", entry(*e), 100) for e in order]
        assert arrivals == [1, 2, 3, 4, 5]
        snapshot = await store.read_channel("p", "chat", 0, 0)
        assert snapshot is not None
        entries, last = snapshot
        assert [e["payload"] for e in entries] == [b"a1", b"b1", b"a2", b"a3", b"b2"]  # a2 moved before a3
        assert [e["arrival"] for e in entries] == [1, 2, 4, 3, 5]
        assert last == 5
        window = await store.read_channel("p", "chat", 2, 2)
        assert window is not None and [e["payload"] for e in window[0]] == [b"a2", b"a3"]
        after = await store.read_channel_after("p", "chat", 2, 10)
        assert after is not None and [e["payload"] for e in after] == [b"a3", b"a2", b"b2"]  # arrival order
        assert await store.read_channel_after("p", "chat", 5, 10) == []
        limited = await store.read_channel_after("p", "chat", 0, 2)
        assert limited is not None and [e["arrival"] for e in limited] == [1, 2]

    run(tmp_path, body)


def test_limits_and_missing_channels(tmp_path: Path) -> None:
    async def body(store: Store) -> None:
        await store.add_channel(channel("p"), 100)
        assert [await store.append_channel_entry("p", "chat", entry("a", i, "x"), 3) for i in range(4)] == [1, 2, 3, 0]
        assert await store.append_channel_entry("p", "nope", entry("a", 1, "x"), 3) == -1
        assert await store.read_channel("p", "nope", 0, 0) is None
        assert await store.read_channel_after("p", "nope", 0, 0) is None
        assert await store.add_channel(channel("p", "second"), 2) is not None
        assert await store.add_channel(channel("p", "third"), 2) is None  # the process has 2 already
        existing = await store.add_channel(channel("p"), 2)  # an existing channel is returned as is
        assert existing is not None and existing["entries"] == 3

    run(tmp_path, body)


def test_binding_and_cleanup(tmp_path: Path) -> None:
    async def body(store: Store) -> None:
        await store.add_colony({"name": "c", "colonyid": "x" * 64})
        running, done = new_process(), new_process()
        await store.add_processes([running, done])
        for p in (running, done):
            await store.add_channel(channel(p.processid), 100)
            await store.add_channel(channel(p.processid, "other"), 100)
            await store.append_channel_entry(p.processid, "chat", entry("a", 1, "x"), 100)
        await store.bind_channels(running.processid, "executor")
        bound = await store.get_channel(running.processid, "other")
        assert bound is not None and bound["executorid"] == "executor"
        await store.add_channel(channel("vanished"), 100)  # its process does not exist
        await store.update_process(done.processid, None, {"state": SUCCESS})
        assert await store.remove_orphan_channels() == 3
        assert await store.get_channel(done.processid, "chat") is None
        assert await store.get_channel("vanished", "chat") is None
        assert await store.remove_channels(running.processid) == 2
        assert await store.remove_channels(running.processid) == 0
        assert await store.read_channel(running.processid, "chat", 0, 0) is None

    run(tmp_path, body)


def _blueprint(name: str, kind: str, location: str = "", **extra: Any) -> dict[str, Any]:
    metadata = {"name": name, "colonyname": "c", **({"locationname": location} if location else {})}
    return {"blueprintid": f"id-{name}", "kind": kind, "metadata": metadata, "spec": {"n": 1}, **extra}


def test_blueprint_documents(tmp_path: Path) -> None:
    async def body(store: Store) -> None:
        definition = {
            "blueprintdefinitionid": "d1",
            "kind": "BlueprintDefinition",
            "metadata": {"name": "zeta", "colonyname": "c"},
            "spec": {"names": {"kind": "K"}},
        }
        assert await store.add_blueprint_definition(definition)
        assert not await store.add_blueprint_definition({**definition, "blueprintdefinitionid": "d2"})
        assert await store.add_blueprint_definition(
            {**definition, "blueprintdefinitionid": "d3", "metadata": {"name": "alpha", "colonyname": "c"}}
        )
        found = await store.find_blueprint_definition("c", "K")
        assert found is not None and found["metadata"]["name"] == "alpha"  # the first by name
        assert [d["metadata"]["name"] for d in await store.list_blueprint_definitions("c")] == ["alpha", "zeta"]
        for b in (_blueprint("web", "K", "DC1"), _blueprint("db", "K", "dc2"), _blueprint("x", "L")):
            assert await store.add_blueprint(b)
        assert not await store.add_blueprint(_blueprint("web", "K"))
        assert [b["metadata"]["name"] for b in await store.list_blueprints("c")] == ["db", "web", "x"]
        assert [b["metadata"]["name"] for b in await store.list_blueprints("c", "K", "dc1")] == ["web"]
        assert [b["metadata"]["name"] for b in await store.list_blueprints("c", "", "dc1")] == ["db", "web", "x"]
        assert await store.count_blueprints("c", "K") == 2
        assert await store.count_blueprints("c", "K", "dc1") == 0  # exact location
        assert await store.count_blueprints("c", "K", "DC1") == 1
        assert await store.set_blueprint_status("c", "web", {"ready": True})
        got = await store.get_blueprint("c", "web")
        assert got is not None and got["status"] == {"ready": True}
        assert await store.set_blueprint_status("c", "web", None)
        got = await store.get_blueprint_by_id("id-web")
        assert got is not None and "status" not in got
        assert await store.replace_blueprint({**_blueprint("web", "L"), "spec": {"n": 2}})
        assert await store.count_blueprints("c", "L") == 2
        assert not await store.replace_blueprint(_blueprint("nobody", "K"))
        for i, changetype in enumerate(("create", "update", "update")):
            record = {"historyid": f"h{i}", "blueprintid": "id-web", "generation": i, "changetype": changetype}
            await store.add_blueprint_history(record, 10 + i)
        history = await store.blueprint_history("id-web", 0)
        assert [h["historyid"] for h in history] == ["h2", "h1", "h0"]
        assert [h["historyid"] for h in await store.blueprint_history("id-web", 2)] == ["h2", "h1"]
        assert await store.remove_blueprint("c", "web")
        assert not await store.remove_blueprint("c", "web")
        assert len(await store.blueprint_history("id-web", 0)) == 3  # history is kept
        assert await store.remove_blueprint_definition("c", "zeta")

    run(tmp_path, body)
