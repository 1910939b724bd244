"""The executor-side helpers against the real server: a client and an executor talking over
channels while the process runs (both directions, by read and by subscription, replies kept
with their ``in_reply_to``, the "sync channel" ending), channels from a Python executor
function's ``ctx``, the async twin, and a blueprint reconciler driving statuses after add,
update, reconcile and remove."""

from __future__ import annotations

import asyncio
from typing import Any

from pycolonies import AsyncColonies, Colonies, Conditions, FuncSpec, NotFoundError, Process, func_spec
from pycolonies.executor import Executor, PythonExecutor
from pycolonies.executor.channels import AsyncChannel, Channel, channels
from pycolonies.executor.reconciler import Reconciler

from ..conftest import Env
from ..server.proc_helpers import wait_for
from .test_python_executor import serving


def client_of(env: Env, prvkey: str | None = None) -> Colonies:
    return Colonies("127.0.0.1", env.server.port, tls=False, prvkey=prvkey)


def wait_running(client: Colonies, processid: str) -> Process:
    return wait_for(lambda: (p := client.get_process(processid)).state == 1 and p)  # type: ignore[no-any-return]


class ChatExecutor(Executor):
    """Answers every chat message with an echo (following the channel), reports progress on a
    second channel, then ends it and waits for the client's acknowledgement before closing."""

    executortype = "chat-executor"

    def handle(self, process: Process) -> list[Any]:
        ctx = self.context(process)
        both = channels(ctx)
        assert sorted(both) == ["chat", "progress"]
        chat, progress = both["chat"], both["progress"]
        for step in range(3):
            progress.send(f"step {step}")
        for entry in chat.follow(timeout=20):  # ends with the client's "end"
            if entry["senderid"] != self.executorid and entry["type"] != "end":
                chat.send(b"echo: " + entry["payload"], in_reply_to=entry["sequence"])
        log = chat.read()  # the whole conversation, by read
        acknowledged = progress.finish(timeout=10)
        return [len(log), acknowledged]


def test_client_and_executor_talk_while_the_process_runs(env: Env) -> None:
    executor = ChatExecutor(client_of(env), env.colonyname, colony_prvkey=env.colony_prvkey, poll_timeout=1)
    with serving(executor), client_of(env, env.user_prvkey) as client:
        spec = FuncSpec(
            funcname="chat",
            maxexectime=-1,
            channels=["chat", "progress"],
            conditions=Conditions(colonyname=env.colonyname, executortype="chat-executor"),
        )
        process = client.submit_func_spec(spec)
        wait_running(client, process.processid)
        progress = Channel(client, process, "progress")
        # executor -> client, by read
        steps = wait_for(lambda: len(entries := progress.read()) >= 3 and entries)
        assert [e["payload"] for e in steps] == [b"step 0", b"step 1", b"step 2"]
        assert all(e["senderid"] == executor.executorid for e in steps)
        # client -> executor (its subscription) and back (ours), replies matched by in_reply_to
        chat = Channel(client, process, "chat")
        for text in ("hello", "how are you?", "bye"):
            sequence = chat.send(text)
            reply = chat.reply_to(sequence, timeout=10)
            assert reply is not None, text
            assert (reply["payload"], reply["inreplyto"]) == (b"echo: " + text.encode(), sequence)
        assert chat.end() == 4
        # the executor's progress stream ends with "end"; we acknowledge, then it closes
        followed = list(progress.follow(timeout=15))
        assert [e["type"] for e in followed] == ["data", "data", "data", "end"]
        progress.acknowledge()
        done = client.wait(process, 20)
        assert done.output == [7, True]  # 3 messages + 3 echoes + end, and the acknowledgement
        try:
            chat.read()
            raise AssertionError("the channel should be gone")
        except NotFoundError as exc:
            assert str(exc) == "Channel not found"


def _reporter(count: int, ctx: dict[str, Any]) -> str:
    from pycolonies.executor.channels import channel

    progress = channel(ctx, "progress")
    for i in range(count):
        progress.send({"done": i + 1, "of": count})  # any JSON value
    return "acked" if progress.finish(timeout=10) else "not acked"


def test_channels_from_a_python_executor_function(env: Env) -> None:
    executor = PythonExecutor(
        client_of(env), env.colonyname, colony_prvkey=env.colony_prvkey, executortype="py-channels", poll_timeout=1
    )
    with serving(executor), client_of(env, env.user_prvkey) as client:
        spec = func_spec(_reporter, [3], env.colonyname, "py-channels", maxexectime=60)
        spec.channels = ["progress"]
        process = client.submit_func_spec(spec)
        wait_running(client, process.processid)
        progress = Channel(client, process, "progress")
        seen = [e["payload"] for e in progress]  # iterating follows until "end"
        assert seen == [b'{"done": 1, "of": 3}', b'{"done": 2, "of": 3}', b'{"done": 3, "of": 3}', b""]
        progress.acknowledge()
        assert client.wait(process, 20).output == ["acked"]


def test_async_channel(env: Env) -> None:
    async def main() -> None:
        async with AsyncColonies("127.0.0.1", env.server.port, prvkey=env.user_prvkey) as client:
            spec = FuncSpec(
                funcname="f",
                maxexectime=-1,
                channels=["chat"],
                conditions=Conditions(colonyname=env.colonyname, executortype=env.executortype),
            )
            process = await client.submit_func_spec(spec)
            await client.assign(env.colonyname, 5, env.executor_prvkey)
            mine = AsyncChannel(client, process, "chat")
            theirs = AsyncChannel(client, process, "chat", env.executor_prvkey)
            assert await mine.send("ping") == 1

            async def answer() -> None:
                async for entry in theirs:
                    if entry["senderid"] != theirs.senderid:
                        await theirs.send(b"pong", in_reply_to=entry["sequence"])
                        await theirs.end()

            task = asyncio.create_task(answer())
            reply = await mine.reply_to(1, timeout=10)
            assert reply is not None and (reply["payload"], reply["inreplyto"]) == (b"pong", 1)
            await asyncio.wait_for(task, 10)
            assert [e["type"] for e in await mine.read()] == ["data", "data", "end"]
            assert await mine.send("again") == 2  # our numbering continues

    asyncio.run(main())


def test_a_restarted_sender_continues_its_sequence(env: Env) -> None:
    with client_of(env, env.user_prvkey) as client:
        spec = FuncSpec(
            funcname="f",
            maxexectime=-1,
            channels=["chat"],
            conditions=Conditions(colonyname=env.colonyname, executortype=env.executortype),
        )
        process = client.submit_func_spec(spec)
        first = Channel(client, process.processid, "chat")
        assert [first.send("a"), first.send("b")] == [1, 2]
        assert Channel(client, process.processid, "chat").send("c") == 3  # a new object reads where it was
        assert [e["payload"] for e in first.read()] == [b"a", b"b", b"c"]


# -- the reconciler ------------------------------------------------------------------------------


def _definition(env: Env, executortype: str) -> dict[str, Any]:
    return {
        "kind": "BlueprintDefinition",
        "metadata": {"name": "lights", "colonyname": env.colonyname},
        "spec": {
            "names": {"kind": "Light"},
            "schema": {"properties": {"power": {"type": "boolean"}}, "required": ["power"]},
            "handler": {"executorType": executortype, "functionName": "reconcile"},
        },
    }


def _light(env: Env, name: str, power: bool) -> dict[str, Any]:
    return {"kind": "Light", "metadata": {"name": name, "colonyname": env.colonyname}, "spec": {"power": power}}


def test_a_reconciler_drives_statuses(env: Env) -> None:
    reconciler = Reconciler(
        client_of(env), env.colonyname, colony_prvkey=env.colony_prvkey, executortype="light-reconciler", poll_timeout=1
    )
    world: dict[str, bool] = {}
    removed: list[str] = []

    @reconciler.kind("Light")
    def light(blueprint: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
        world[blueprint["metadata"]["name"]] = blueprint["spec"]["power"]
        return {
            "power": blueprint["spec"]["power"],
            "generation": blueprint["metadata"].get("generation", 0),
            "forced": ctx["force"],
        }

    @reconciler.cleanup("Light")
    def light_removed(name: str) -> None:
        world.pop(name, None)
        removed.append(name)

    def status(name: str) -> Any:
        return client.get_blueprint(env.colonyname, name).get("status")

    with serving(reconciler), client_of(env, env.user_prvkey) as client:
        client.add_blueprint_definition(_definition(env, "light-reconciler"), env.colony_prvkey)
        client.add_blueprint(_light(env, "kitchen", True))
        wait_for(lambda: status("kitchen") == {"power": True, "generation": 0, "forced": False})
        assert world == {"kitchen": True}
        client.update_blueprint(_light(env, "kitchen", False))
        wait_for(lambda: status("kitchen") == {"power": False, "generation": 1, "forced": False})
        assert world == {"kitchen": False}
        process = client.reconcile_blueprint(env.colonyname, "kitchen", force=True)
        wait_for(lambda: status("kitchen") == {"power": False, "generation": 2, "forced": True})
        assert client.wait(process["processid"], 10).output == ["kitchen"]
        # the periodic run (what the kind's cron submits): every blueprint of the kind
        client.add_blueprint(_light(env, "hall", True))
        wait_for(lambda: status("hall") is not None)
        client.update_blueprint_status(env.colonyname, "kitchen", {"drifted": True})
        periodic = func_spec("reconcile", [], env.colonyname, "light-reconciler", kwargs={"kind": "Light"})
        run = client.wait(client.submit_func_spec(periodic), 10)
        assert run.output == ["hall", "kitchen"]
        assert status("kitchen") == {"power": False, "generation": 2, "forced": False}  # drift repaired
        client.remove_blueprint(env.colonyname, "kitchen")
        wait_for(lambda: removed == ["kitchen"])
        assert world == {"hall": True}
        # a targeted reconcile of a blueprint that is gone is a no-op
        gone = func_spec(
            "reconcile", [], env.colonyname, "light-reconciler", kwargs={"kind": "Light", "blueprintName": "kitchen"}
        )
        assert client.wait(client.submit_func_spec(gone), 10).output == []


def test_a_reconciler_without_the_kind_fails_the_process(env: Env) -> None:
    reconciler = Reconciler(
        client_of(env), env.colonyname, colony_prvkey=env.colony_prvkey, executortype="other-reconciler", poll_timeout=1
    )
    with serving(reconciler), client_of(env, env.user_prvkey) as client:
        spec = func_spec("reconcile", [], env.colonyname, "other-reconciler", kwargs={"kind": "Light"})
        process = client.submit_func_spec(spec)
        failed = wait_for(lambda: (p := client.get_process(process.processid)).state == 3 and p)
        assert "No reconciler for blueprints of kind 'Light'" in failed.errors[0]


def test_a_located_reconciler_registers_at_its_location(env: Env) -> None:
    reconciler = Reconciler(
        client_of(env),
        env.colonyname,
        colony_prvkey=env.colony_prvkey,
        executortype="site-reconciler",
        locationname="site-a",
        poll_timeout=1,
    )
    seen: list[str] = []
    reconciler.kind("Light")(lambda blueprint: seen.append(blueprint["metadata"]["name"]))
    with serving(reconciler), client_of(env, env.user_prvkey) as client:
        executor = client.get_executor(env.colonyname, reconciler.executorname)
        assert executor["locationname"] == "site-a"
        client.add_blueprint_definition(_definition(env, "site-reconciler"), env.colony_prvkey)
        for name, site in (("a1", "site-a"), ("b1", "site-b")):
            b = _light(env, name, True)
            b["metadata"]["locationname"] = site
            client.add_blueprint(b)
        wait_for(lambda: seen == ["a1"])  # b1's process waits for a reconciler at site-b
        periodic = func_spec("reconcile", [], env.colonyname, "site-reconciler", kwargs={"kind": "Light"})
        periodic.conditions.locationname = "site-a"
        assert client.wait(client.submit_func_spec(periodic), 10).output == ["a1"]
