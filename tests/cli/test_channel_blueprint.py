"""``colonies channel`` (append, read, follow) and ``colonies blueprint`` (definition add/get/ls/
remove, add/get/ls/update/set/remove, reconcile, history) against the real server."""

from __future__ import annotations

import base64
import json
import threading
import time
from pathlib import Path

from pycolonies import Conditions, FuncSpec

from ..conftest import Env
from .conftest import Cli, parse_kv, write_json


def start(env: Env, channels: list[str]) -> str:
    spec = FuncSpec(
        funcname="chat",
        maxexectime=-1,
        channels=channels,
        conditions=Conditions(colonyname=env.colonyname, executortype=env.executortype),
    )
    process = env.client.submit_func_spec(spec, env.user_prvkey)
    assert env.client.assign(env.colonyname, 5, env.executor_prvkey).processid == process.processid
    return process.processid


def test_channel_append_read_follow(cli: Cli, env: Env, tmp_path: Path) -> None:
    pid = start(env, ["chat"])
    as_executor = Cli(env, {"COLONIES_PRVKEY": env.executor_prvkey})
    assert "(sequence 1)" in cli.ok("channel", "append", "-p", pid, "-n", "chat", "-m", "hello").stderr
    assert cli.json("channel", "append", "-p", pid, "-n", "chat", "-m", "again")["sequence"] == 2
    binary = write_json(tmp_path / "blob.bin", "x")
    binary.write_bytes(b"\x00\xff")
    as_executor.ok("channel", "append", "-p", pid, "-n", "chat", "--file", str(binary), "--inreplyto", "1")
    headers, rows = cli.table("channel", "read", "-p", pid, "-n", "chat")
    assert headers == ["INDEX", "SEQ", "INREPLYTO", "TYPE", "SENDER", "TIME", "PAYLOAD"]
    assert [(r[0], r[1], r[2], r[3], r[6]) for r in rows] == [
        ("0", "1", "", "data", "hello"),
        ("1", "2", "", "data", "again"),
        ("2", "1", "1", "data", "base64:AP8="),
    ]
    entries = cli.json("channel", "read", "-p", pid, "-n", "chat", "--after", "1", "--count", "1")
    assert [(e["index"], e["text"], e["payload"]) for e in entries] == [
        (1, "again", base64.b64encode(b"again").decode())
    ]

    def finish() -> None:  # the SDK: CliRunner captures output process-wide, one run at a time
        time.sleep(0.5)
        env.client.channel_append(pid, "chat", 2, "live", env.executor_prvkey)
        env.client.channel_append(pid, "chat", 3, "", env.executor_prvkey, payload_type="end")

    writer = threading.Thread(target=finish)
    writer.start()
    result = cli.ok("channel", "follow", "-p", pid, "-n", "chat", "--after", "2", "--timeout", "20")
    writer.join()
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].endswith("#1 (reply to 1): base64:AP8=")
    assert lines[1].endswith("#2: live") and lines[2].endswith("#3 [end]: ")
    followed = [
        json.loads(line) for line in cli.ok("channel", "follow", "-p", pid, "-n", "chat", "--json").stdout.splitlines()
    ]
    assert [e["index"] for e in followed] == [0, 1, 2, 3, 4]  # stops at the end entry
    assert followed[-1]["type"] == "end"


def test_channel_errors(cli: Cli, env: Env) -> None:
    pid = start(env, ["chat"])
    assert cli.error("channel", "read", "-p", pid, "-n", "nope") == "Error: Channel not found (server replied 404)"
    _, other = env.add_executor()
    outsider = Cli(env, {"COLONIES_PRVKEY": other})
    assert outsider.error("channel", "append", "-p", pid, "-n", "chat", "-m", "x") == (
        "Error: Not authorized to write to channel (server replied 403)"
    )
    assert "pass --msg" in cli.error("channel", "append", "-p", pid, "-n", "chat")
    env.client.close(pid, [], env.executor_prvkey)
    assert "Channel not found" in cli.error("channel", "follow", "-p", pid, "-n", "chat")


def _definition(env: Env) -> dict[str, object]:
    return {
        "kind": "BlueprintDefinition",
        "metadata": {"name": "lights"},  # the colony comes from the configuration
        "spec": {
            "group": "home.example.com",
            "version": "v1",
            "names": {"kind": "Light"},
            "schema": {"properties": {"power": {"type": "boolean"}}, "required": ["power"]},
            "handler": {"executorType": "light-reconciler", "functionName": "reconcile"},
        },
    }


def test_blueprint_commands(cli: Cli, env: Env, tmp_path: Path) -> None:
    definition = write_json(tmp_path / "definition.json", _definition(env))
    assert (
        "Blueprint definition added: lights (kind Light)"
        in cli.ok("blueprint", "definition", "add", "--spec", str(definition)).stderr
    )
    headers, rows = cli.table("blueprint", "definition", "ls")
    assert headers == ["NAME", "KIND", "GROUP", "VERSION", "EXECUTOR TYPE", "FUNCTION"]
    assert rows == [["lights", "Light", "home.example.com", "v1", "light-reconciler", "reconcile"]]
    assert parse_kv(cli.ok("blueprint", "definition", "get", "--name", "lights").stdout)["Kind"] == "Light"
    assert cli.json("blueprint", "definition", "get", "--name", "lights")["metadata"]["colonyname"] == env.colonyname

    kitchen = {"kind": "Light", "metadata": {"name": "kitchen"}, "spec": {"power": True, "brightness": 10}}
    path = write_json(tmp_path / "kitchen.json", kitchen)
    added = cli.json("blueprint", "add", "--spec", str(path))
    assert added["metadata"]["colonyname"] == env.colonyname
    headers, rows = cli.table("blueprint", "ls", "--kind", "Light")
    assert headers == ["NAME", "KIND", "LOCATION", "GENERATION", "STATUS"]
    assert rows == [["kitchen", "Light", "-", "0", "-"]]
    cli.ok("blueprint", "set", "--name", "kitchen", "--key", "spec.brightness", "--value", "80")
    got = cli.json("blueprint", "get", "--name", "kitchen")
    assert got["spec"] == {"power": True, "brightness": 80} and got["metadata"]["generation"] == 1
    assert "has no field 'nope'" in cli.error("blueprint", "set", "--name", "kitchen", "--key", "nope", "--value", "1")
    kitchen["spec"] = {"power": False}
    write_json(path, kitchen)
    assert "(generation 2)" in cli.ok("blueprint", "update", "--spec", str(path)).stderr
    assert "(generation 3)" in cli.ok("blueprint", "update", "--spec", str(path), "--force").stderr
    kv = parse_kv(cli.ok("blueprint", "get", "--name", "kitchen").stdout)
    assert (kv["Kind"], kv["Generation"], kv["Spec"]) == ("Light", "3", '{"power": false}')
    headers, rows = cli.table("blueprint", "history", "--name", "kitchen")
    assert headers == ["GENERATION", "CHANGE", "BY", "TIME", "SPEC"]
    assert [(r[0], r[1]) for r in rows] == [("3", "update"), ("2", "update"), ("1", "update"), ("0", "create")]
    assert parse_kv(cli.ok("blueprint", "history", "--name", "kitchen", "-g", "0").stdout)["Change"] == "create"
    assert len(cli.json("blueprint", "history", "--name", "kitchen", "--limit", "2")) == 2
    process_id = cli.ok("blueprint", "reconcile", "--name", "kitchen").stdout.strip()
    assert env.client.get_process(process_id, env.user_prvkey).spec.kwargs == {
        "kind": "Light",
        "blueprintName": "kitchen",
    }
    assert cli.json("blueprint", "reconcile", "--name", "kitchen", "--force")["spec"]["kwargs"]["force"] is True

    bad = write_json(tmp_path / "bad.json", {"kind": "Light", "metadata": {"name": "x"}, "spec": {"power": "on"}})
    assert cli.error("blueprint", "add", "--spec", str(bad)) == (
        "Error: blueprint validation failed: field 'power' must be a boolean, got string (server replied 400)"
    )
    assert "--kind" in cli.error("blueprint", "ls", "--location", "hall")
    assert "still exist" in cli.error("blueprint", "definition", "remove", "--name", "lights")
    cli.ok("blueprint", "remove", "--name", "kitchen")
    assert "No blueprints found" in cli.ok("blueprint", "ls").stderr
    cli.ok("blueprint", "definition", "remove", "--name", "lights")
    assert "No blueprint definitions found" in cli.ok("blueprint", "definition", "ls").stderr
