"""Colonies and AsyncColonies: upstream's method signatures, twin parity, transport errors."""

from __future__ import annotations

import asyncio
import inspect
import socket

import pytest

from pycolonies import AsyncColonies, Colonies, ColoniesError, TransportError, colonies_client
from pycolonies.client import core

KEY = "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05"

# Parameter names of upstream pycolonies 1.0.25's methods (without self), in order.
UPSTREAM = {
    "wait": ["process", "timeout", "prvkey"],
    "add_colony": ["colony", "prvkey"],
    "del_colony": ["colonyname", "prvkey"],
    "list_colonies": ["prvkey"],
    "get_colony": ["colonyname", "prvkey"],
    "add_executor": ["executor", "prvkey"],
    "list_executors": ["colonyname", "prvkey"],
    "get_executor": ["colonyname", "executorname", "prvkey"],
    "approve_executor": ["colonyname", "executorname", "prvkey"],
    "reject_executor": ["colonyname", "executorname", "prvkey"],
    "remove_executor": ["colonyname", "executorname", "prvkey"],
    "submit_func_spec": ["spec", "prvkey"],
    "submit_workflow": ["workflow", "prvkey"],
    "assign": ["colonyname", "timeout", "prvkey"],
    "list_processes": ["colonyname", "count", "state", "prvkey"],
    "get_process": ["processid", "prvkey"],
    "remove_process": ["processid", "prvkey"],
    "close": ["processid", "output", "prvkey"],
    "fail": ["processid", "errors", "prvkey"],
    "set_output": ["processid", "arr", "prvkey"],
    "stats": ["colonyname", "prvkey"],
    "add_attribute": ["processid", "key", "value", "prvkey"],
    "get_attribute": ["attributeid", "prvkey"],
    "get_processgraph": ["processgraphid", "prvkey"],
    "get_processgraphs": ["colonyname", "count", "prvkey", "state"],
    "remove_processgraph": ["processgraphid", "prvkey"],
    "remove_all_processgraphs": ["colonyname", "prvkey", "state"],
    "get_processes_for_workflow": ["processgraphid", "colonyname", "prvkey", "count"],
    "remove_all_processes": ["colonyname", "prvkey", "state"],
    "add_function": ["colonyname", "executorname", "funcname", "prvkey"],
    "get_functions_by_executor": ["colonyname", "executorname", "prvkey"],
    "get_functions_by_colony": ["colonyname", "prvkey"],
    "find_process": ["nodename", "processids", "prvkey"],
    "add_child": [
        "processgraphid",
        "parentprocessid",
        "childprocessid",
        "funcspec",
        "nodename",
        "insert",
        "prvkey",
    ],
    "create_snapshot": ["colonyname", "label", "name", "prvkey"],
    "get_snapshots": ["colonyname", "prvkey"],
    "get_snapshot_by_name": ["colonyname", "name", "prvkey"],
    "get_snapshot_by_id": ["colonyname", "snapshotid", "prvkey"],
    "add_log": ["processid", "logmsg", "prvkey"],
    "get_process_log": ["colonyname", "processid", "count", "since", "prvkey"],
    "get_executor_log": ["colonyname", "executorname", "count", "since", "prvkey"],
    "get_files": ["label", "colonyname", "prvkey"],
    "add_cron": ["cronname", "cronexpr", "wait", "workflow", "colonyname", "prvkey"],
    "get_cron": ["cronid", "prvkey"],
    "get_crons": ["colonyname", "count", "prvkey"],
    "del_cron": ["cronid", "prvkey"],
    "run_cron": ["cronid", "prvkey"],
    "get_generators": ["colonyname", "prvkey", "count"],
    "get_generator": ["generatorid", "prvkey"],
    "add_generator": ["generator", "prvkey"],
    "remove_generator": ["generatorid", "prvkey"],
    "get_users": ["colonyname", "prvkey"],
    "add_user": ["user", "prvkey"],
    "remove_user": ["colonyname", "name", "prvkey"],
    "get_file_labels": ["colonyname", "prvkey", "name", "exact"],
    "get_file": ["colonyname", "prvkey", "label", "fileid", "filename", "latest"],
    "channel_append": [
        "processid",
        "channel_name",
        "sequence",
        "payload",
        "prvkey",
        "in_reply_to",
        "payload_type",
    ],
    "channel_read": ["processid", "channel_name", "after_seq", "limit", "prvkey"],
    "subscribe_channel": ["processid", "channel_name", "prvkey", "after_seq", "timeout", "callback"],
    "add_blueprint_definition": ["definition", "prvkey"],
    "get_blueprint_definition": ["colony_name", "name", "prvkey"],
    "get_blueprint_definitions": ["colony_name", "prvkey"],
    "remove_blueprint_definition": ["colony_name", "name", "prvkey"],
    "add_blueprint": ["blueprint", "prvkey"],
    "get_blueprint": ["colony_name", "name", "prvkey"],
    "get_blueprints": ["colony_name", "prvkey", "kind", "location"],
    "update_blueprint": ["blueprint", "prvkey", "force_generation"],
    "remove_blueprint": ["colony_name", "name", "prvkey"],
    "update_blueprint_status": ["colony_name", "name", "status", "prvkey"],
    "reconcile_blueprint": ["colony_name", "name", "prvkey", "force"],
    "get_blueprint_history": ["blueprint_id", "prvkey", "limit"],
}
WEBSOCKET_METHODS = ["wait", "subscribe_process", "subscribe_processes", "subscribe_channel"]


def _params(method: object) -> list[inspect.Parameter]:
    return list(inspect.signature(method).parameters.values())[1:]  # type: ignore[arg-type]


@pytest.mark.parametrize("cls", [Colonies, AsyncColonies])
@pytest.mark.parametrize("name", sorted(UPSTREAM))
def test_upstream_signature(cls: type, name: str, request: pytest.FixtureRequest) -> None:
    params = _params(getattr(cls, name))
    positional = [p for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert [p.name for p in positional[: len(UPSTREAM[name])]] == UPSTREAM[name]
    # everything we added after upstream's parameters has a default
    for p in params[len(UPSTREAM[name]) :]:
        assert p.default is not p.empty, (name, p.name)
    # prvkey may be omitted (the client's default key)
    prvkey = next(p for p in params if p.name == "prvkey")
    assert prvkey.default is None


def test_constants() -> None:
    assert (Colonies.WAITING, Colonies.RUNNING, Colonies.SUCCESSFUL, Colonies.FAILED) == (0, 1, 2, 3)
    assert Colonies.CANCELLED == AsyncColonies.CANCELLED == 4


@pytest.mark.parametrize("name", core.RPC_METHODS + WEBSOCKET_METHODS)
def test_twins_have_the_same_methods(name: str) -> None:
    sync_method, async_method = getattr(Colonies, name), getattr(AsyncColonies, name)
    assert not inspect.iscoroutinefunction(sync_method)
    assert inspect.iscoroutinefunction(async_method)
    sync_sig, async_sig = inspect.signature(sync_method), inspect.signature(async_method)
    assert [(p.name, p.kind, p.default) for p in sync_sig.parameters.values()] == [
        (p.name, p.kind, p.default) for p in async_sig.parameters.values()
    ]
    assert sync_method.__doc__ and async_method.__doc__


def test_rpc_methods_have_the_builder_signature() -> None:
    for name in core.RPC_METHODS:
        if name == "close":  # close() without arguments also closes the client
            continue
        builder = inspect.signature(getattr(core, name))
        method = inspect.signature(getattr(Colonies, name))
        assert list(builder.parameters)[1:] == list(method.parameters)[1:], name
        assert getattr(Colonies, name).__qualname__ == f"Colonies.{name}"
        assert getattr(Colonies, name).__doc__ == getattr(AsyncColonies, name).__doc__


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_urls() -> None:
    client = Colonies("example.org", 443, True)
    assert (client.url, client.ws_url) == ("https://example.org:443/api", "wss://example.org:443/pubsub")
    assert (client.host, client.port, client.tls) == ("example.org", 443, True)
    client.close()
    assert Colonies("h", 1).url == "http://h:1/api"


def test_unreachable_server_is_a_transport_error() -> None:
    with Colonies("127.0.0.1", _closed_port(), prvkey=KEY) as client:
        with pytest.raises(TransportError, match="Cannot reach"):
            client.list_colonies()
        with pytest.raises(TransportError):
            client.assign("dev", 1)
        with pytest.raises(TransportError, match="Cannot open"):
            client.wait("p" * 64, 1)
        with pytest.raises(TransportError):
            client.subscribe_processes("cli", 0, 1)


def test_unreachable_server_is_a_transport_error_async() -> None:
    async def main() -> None:
        async with AsyncColonies("127.0.0.1", _closed_port(), prvkey=KEY) as client:
            with pytest.raises(TransportError, match="Cannot reach"):
                await client.get_process("p" * 64)
            with pytest.raises(TransportError, match="Cannot open"):
                await client.wait("p" * 64, 1)

    asyncio.run(main())


def test_missing_key_is_reported_before_any_io() -> None:
    with (
        Colonies("127.0.0.1", _closed_port()) as client,
        pytest.raises(ColoniesError, match="No private key"),
    ):
        client.get_colony("dev")


def test_close_without_arguments_closes_the_client() -> None:
    client = Colonies("127.0.0.1", _closed_port(), prvkey=KEY)
    assert client.close() is None
    assert client._http.is_closed


def test_async_close_without_arguments_closes_the_client() -> None:
    async def main() -> None:
        client = AsyncColonies("127.0.0.1", _closed_port(), prvkey=KEY)
        assert await client.close() is None
        assert client._http.is_closed

    asyncio.run(main())


def test_colonies_client_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "COLONIES_SERVER_HOST": "colonies.example",
        "COLONIES_SERVER_PORT": "8080",
        "COLONIES_SERVER_TLS": "true",
        "COLONIES_COLONY_NAME": "dev",
        "COLONIES_COLONY_PRVKEY": "ck",
        "COLONIES_EXECUTOR_NAME": "ex",
        "COLONIES_PRVKEY": KEY,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    client, colonyname, colony_prvkey, executorname, prvkey = colonies_client()
    assert client.url == "https://colonies.example:8080/api"
    assert (colonyname, colony_prvkey, executorname, prvkey) == ("dev", "ck", "ex", KEY)
    assert client.prvkey == KEY
    client.close()
    monkeypatch.delenv("COLONIES_SERVER_PORT")
    with pytest.raises(ColoniesError, match="COLONIES_SERVER_PORT"):
        colonies_client()
