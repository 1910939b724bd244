"""Small helpers shared by the message-group tests: checked raw calls, fresh keys and colonies."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pycolonies import Colonies, Conditions, FuncSpec
from pycolonies.crypto import generate_prvkey, id_of

from ..conftest import SERVER_PRVKEY, Env, ServerProcess, make_env
from .raw import raw_call

ZERO_TIME = "0001-01-01T00:00:00Z"


def ok(server: ServerProcess, msg: dict[str, Any], prvkey: str) -> Any:
    """Send ``msg`` raw; assert HTTP 200 and return the decoded payload."""
    status, payload = raw_call(server, msg, prvkey)
    assert status == 200, payload
    return payload


def refused(server: ServerProcess, msg: dict[str, Any], prvkey: str, status: int, message: str) -> None:
    """Send ``msg`` raw; assert the error reply has exactly this HTTP status and message."""
    got_status, payload = raw_call(server, msg, prvkey)
    assert (got_status, payload) == (status, {"status": status, "message": message})


def new_key() -> tuple[str, str]:
    """(private key, id) of a fresh identity."""
    prvkey = generate_prvkey()
    return prvkey, id_of(prvkey)


def not_member(colonyname: str) -> str:
    return f"Access denied, not a member of Colony with name <{colonyname}>"


def no_colony(colonyname: str) -> str:
    return f"Colony with name <{colonyname}> does not exists"


def add_colony(client: Colonies) -> tuple[str, str]:
    """A fresh colony without members; returns (name, colony private key). The caller removes it."""
    prvkey, colonyid = new_key()
    name = "colony-" + secrets.token_hex(5)
    client.add_colony({"colonyid": colonyid, "name": name}, SERVER_PRVKEY)
    return name, prvkey


def add_user(env: Env, colonyname: str | None = None, colony_prvkey: str | None = None) -> tuple[str, str]:
    """Register a user; returns (name, private key)."""
    prvkey, userid = new_key()
    name = "user-" + secrets.token_hex(4)
    env.client.add_user(
        {"colonyname": colonyname or env.colonyname, "userid": userid, "name": name, "email": "", "phone": ""},
        colony_prvkey or env.colony_prvkey,
    )
    return name, prvkey


def spec(env: Env, funcname: str = "echo", /, **extra: Any) -> FuncSpec:
    """A single-process spec for the env's executor type, without an execution deadline."""
    return FuncSpec(
        funcname=funcname,
        conditions=Conditions(colonyname=env.colonyname, executortype=env.executortype),
        maxexectime=-1,
        **extra,
    )


@contextmanager
def env_on(server: ServerProcess) -> Iterator[Env]:
    """The ``env`` fixture's colony, on another server (e.g. ``own_server``)."""
    gen = make_env(server)
    env = next(gen)
    try:
        yield env
    finally:
        next(gen, None)


@contextmanager
def outsiders(env: Env) -> Iterator[list[str]]:
    """Keys of another colony: its owner, an approved executor and a user of it. None of them may
    act in the env's colony. The other colony is removed afterwards."""
    other, other_prvkey = add_colony(env.client)
    try:
        executor_prvkey, executorid = new_key()
        name = "executor-" + secrets.token_hex(4)
        executor = {
            "executorid": executorid,
            "executorname": name,
            "executortype": env.executortype,
            "colonyname": other,
        }
        env.client.add_executor(executor, other_prvkey)
        env.client.approve_executor(other, name, other_prvkey)
        _, user_prvkey = add_user(env, other, other_prvkey)
        yield [other_prvkey, executor_prvkey, user_prvkey]
    finally:
        env.client.del_colony(other, SERVER_PRVKEY)
