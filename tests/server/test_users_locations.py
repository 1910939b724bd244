"""User and location messages (20-messages.md sections 8 and 9)."""

from __future__ import annotations

import secrets

import pytest

from pycolonies.crypto import id_of
from pycolonies.errors import AccessDeniedError, BadRequestError, NotFoundError

from ..conftest import SERVER_PRVKEY, Env
from .rpc_helpers import add_colony, add_user, new_key, no_colony, not_member, ok, refused

NOT_COLONY_OWNER = "Access denied, not colony owner"


def user_dict(env: Env, userid: str, name: str | None = None) -> dict[str, str]:
    return {
        "colonyname": env.colonyname,
        "userid": userid,
        "name": name or "user-" + secrets.token_hex(4),
        "email": "a@b.c",
        "phone": "123",
    }


def unknown_colony() -> str:
    return "nosuchcolony-" + secrets.token_hex(3)


# -- addusermsg ------------------------------------------------------------------------------


def test_add_user(env: Env) -> None:
    prvkey, userid = new_key()
    user = user_dict(env, userid)
    assert ok(env.server, {"msgtype": "addusermsg", "user": user}, env.colony_prvkey) == user
    # the user is a member at once (no approval)
    ok(env.server, {"msgtype": "getcolonymsg", "colonyname": env.colonyname}, prvkey)
    assert env.client.get_user(env.colonyname, user["name"], prvkey) == user
    sdk = env.client.add_user(user_dict(env, new_key()[1]), env.colony_prvkey)
    assert set(sdk) == {"colonyname", "userid", "name", "email", "phone"}


def test_add_user_errors(env: Env) -> None:
    _, userid = new_key()
    user = user_dict(env, userid)
    msg = {"msgtype": "addusermsg", "user": user}
    refused(env.server, {"msgtype": "addusermsg"}, env.colony_prvkey, 400, "Failed to add user, executor is nil")
    unknown = unknown_colony()
    refused(
        env.server,
        {"msgtype": "addusermsg", "user": {**user, "colonyname": unknown}},
        env.colony_prvkey,
        400,
        no_colony(unknown),
    )
    for key in (env.executor_prvkey, env.user_prvkey, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, NOT_COLONY_OWNER)
    refused(
        env.server,
        {"msgtype": "addusermsg", "user": user_dict(env, new_key()[1], env.username)},
        env.colony_prvkey,
        400,
        f"A user with name <{env.username}> already exists in Colony with name <{env.colonyname}>",
    )
    # documented option: a duplicate id in the colony is refused too
    refused(
        env.server,
        {"msgtype": "addusermsg", "user": {**user, "userid": id_of(env.user_prvkey)}},
        env.colony_prvkey,
        400,
        f"A user with Id <{id_of(env.user_prvkey)}> already exists in Colony with name <{env.colonyname}>",
    )
    assert [u["name"] for u in env.client.get_users(env.colonyname, env.user_prvkey)] == [env.username]


# -- getusersmsg / getusermsg / getuserbyidmsg ---------------------------------------------------


def test_get_users(env: Env) -> None:
    name, _ = add_user(env)
    _, pending = env.add_executor(approve=False)
    msg = {"msgtype": "getusersmsg", "colonyname": env.colonyname}
    for key in (env.executor_prvkey, env.user_prvkey, pending):  # approval not required
        users = ok(env.server, msg, key)
        assert [u["name"] for u in users] == [env.username, name]
        assert all(set(u) == {"colonyname", "userid", "name", "email", "phone"} for u in users)
    assert env.client.get_users(env.colonyname, pending) == users
    for key in (env.colony_prvkey, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, not_member(env.colonyname))
    unknown = unknown_colony()
    refused(env.server, {**msg, "colonyname": unknown}, env.executor_prvkey, 400, no_colony(unknown))


def test_get_users_empty_is_null(env: Env) -> None:
    # a colony whose only member is an executor
    env.client.remove_user(env.colonyname, env.username, env.colony_prvkey)
    assert ok(env.server, {"msgtype": "getusersmsg", "colonyname": env.colonyname}, env.executor_prvkey) is None


def test_get_user(env: Env) -> None:
    expected = {
        "colonyname": env.colonyname,
        "userid": id_of(env.user_prvkey),
        "name": env.username,
        "email": "",
        "phone": "",
    }
    _, pending = env.add_executor(approve=False)
    msg = {"msgtype": "getusermsg", "colonyname": env.colonyname, "name": env.username}
    for key in (env.executor_prvkey, env.user_prvkey, pending):
        assert ok(env.server, msg, key) == expected
    for key in (env.colony_prvkey, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, not_member(env.colonyname))
    refused(env.server, {**msg, "name": "nosuchuser"}, env.executor_prvkey, 500, "Failed to get user, user is nil")
    unknown = unknown_colony()
    refused(env.server, {**msg, "colonyname": unknown}, env.executor_prvkey, 400, no_colony(unknown))


def test_get_user_by_id(env: Env) -> None:
    userid = id_of(env.user_prvkey)
    msg = {"msgtype": "getuserbyidmsg", "colonyname": env.colonyname, "userid": userid}
    assert ok(env.server, msg, env.executor_prvkey)["name"] == env.username
    assert env.client.get_user_by_id(env.colonyname, userid, env.user_prvkey)["userid"] == userid
    for key in (env.colony_prvkey, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, not_member(env.colonyname))
    refused(
        env.server, {**msg, "userid": new_key()[1]}, env.executor_prvkey, 404, "Failed to get user by ID, user is nil"
    )
    unknown = unknown_colony()
    refused(env.server, {**msg, "colonyname": unknown}, env.executor_prvkey, 400, no_colony(unknown))
    with pytest.raises(NotFoundError):
        env.client.get_user_by_id(env.colonyname, new_key()[1], env.user_prvkey)


def test_users_of_another_colony_refused(env: Env) -> None:
    other, other_prvkey = add_colony(env.client)
    try:
        _, other_user = add_user(env, other, other_prvkey)
        for msg in (
            {"msgtype": "getusersmsg", "colonyname": env.colonyname},
            {"msgtype": "getusermsg", "colonyname": env.colonyname, "name": env.username},
            {"msgtype": "getuserbyidmsg", "colonyname": env.colonyname, "userid": id_of(env.user_prvkey)},
        ):
            refused(env.server, msg, other_user, 403, not_member(env.colonyname))
        # the other colony's owner is not this colony's owner
        refused(
            env.server,
            {"msgtype": "removeusermsg", "colonyname": env.colonyname, "name": env.username},
            other_prvkey,
            403,
            NOT_COLONY_OWNER,
        )
    finally:
        env.client.del_colony(other, SERVER_PRVKEY)


# -- removeusermsg ---------------------------------------------------------------------------


def test_remove_user(env: Env) -> None:
    name, prvkey = add_user(env)
    msg = {"msgtype": "removeusermsg", "colonyname": env.colonyname, "name": name}
    for key in (env.executor_prvkey, env.user_prvkey, prvkey, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, NOT_COLONY_OWNER)
    assert ok(env.server, msg, env.colony_prvkey) == {}
    refused(
        env.server, {"msgtype": "getcolonymsg", "colonyname": env.colonyname}, prvkey, 403, not_member(env.colonyname)
    )
    refused(env.server, msg, env.colony_prvkey, 400, f"User with name <{name}> not found")
    unknown = unknown_colony()
    refused(env.server, {**msg, "colonyname": unknown}, env.colony_prvkey, 400, no_colony(unknown))
    env.client.remove_user(env.colonyname, env.username, env.colony_prvkey)
    assert env.client.get_users(env.colonyname, env.executor_prvkey) is None
    with pytest.raises(BadRequestError):
        env.client.remove_user(env.colonyname, env.username, env.colony_prvkey)


# -- changeuseridmsg -------------------------------------------------------------------------


def test_change_user_id(env: Env) -> None:
    new_prvkey, new_id = new_key()
    msg = {"msgtype": "changeuseridmsg", "colonyname": env.colonyname, "userid": new_id}
    assert ok(env.server, msg, env.user_prvkey) == msg
    assert env.client.get_user(env.colonyname, env.username, new_prvkey)["userid"] == new_id
    refused(
        env.server,
        {"msgtype": "getusersmsg", "colonyname": env.colonyname},
        env.user_prvkey,
        403,
        not_member(env.colonyname),
    )
    _, third_id = new_key()
    reply = env.client.change_user_id(env.colonyname, third_id, new_prvkey)
    assert reply == {"msgtype": "changeuseridmsg", "colonyname": env.colonyname, "userid": third_id}


def test_change_user_id_errors(env: Env) -> None:
    _, new_id = new_key()
    msg = {"msgtype": "changeuseridmsg", "colonyname": env.colonyname, "userid": new_id}
    refused(env.server, {**msg, "userid": ""}, env.user_prvkey, 400, "Failed to change user Id, user Id is empty")
    for key in (env.colony_prvkey, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, not_member(env.colonyname))
    refused(env.server, msg, env.executor_prvkey, 400, "Failed to change user Id, user not found")
    refused(
        env.server,
        {**msg, "userid": "x" * 63},
        env.user_prvkey,
        400,
        "Failed to change user Id, new user Id is not 64 characters",
    )
    assert env.client.get_user(env.colonyname, env.username, env.user_prvkey)["userid"] == id_of(env.user_prvkey)


# -- locations -------------------------------------------------------------------------------


def location_dict(env: Env, name: str | None = None) -> dict[str, object]:
    return {
        "locationid": secrets.token_hex(32),
        "name": name or "loc-" + secrets.token_hex(3),
        "colonyname": env.colonyname,
        "description": "a data centre",
        "long": 18.0686,
        "lat": 59.3293,
    }


def test_add_location(env: Env) -> None:
    location = location_dict(env)
    assert ok(env.server, {"msgtype": "addlocationmsg", "location": location}, env.colony_prvkey) == location
    msg = {"msgtype": "getlocationmsg", "colonyname": env.colonyname, "name": location["name"]}
    assert ok(env.server, msg, env.user_prvkey) == location
    sdk = env.client.add_location(location_dict(env), env.colony_prvkey)
    assert set(sdk) == {"locationid", "name", "colonyname", "description", "long", "lat"}


def test_add_location_errors(env: Env) -> None:
    location = location_dict(env)
    msg = {"msgtype": "addlocationmsg", "location": location}
    refused(
        env.server, {"msgtype": "addlocationmsg"}, env.colony_prvkey, 400, "Failed to add location, location is nil"
    )
    unknown = unknown_colony()
    refused(
        env.server,
        {"msgtype": "addlocationmsg", "location": {**location, "colonyname": unknown}},
        env.colony_prvkey,
        400,
        no_colony(unknown),
    )
    for key in (env.executor_prvkey, env.user_prvkey, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, NOT_COLONY_OWNER)
    ok(env.server, msg, env.colony_prvkey)
    refused(
        env.server,
        {"msgtype": "addlocationmsg", "location": {**location_dict(env, location["name"])}},
        env.colony_prvkey,
        400,
        f"A location with name <{location['name']}> already exists in Colony with name <{env.colonyname}>",
    )
    assert env.client.get_locations(env.colonyname, env.user_prvkey) == [location]


def test_get_locations(env: Env) -> None:
    msg = {"msgtype": "getlocationsmsg", "colonyname": env.colonyname}
    assert ok(env.server, msg, env.user_prvkey) is None  # null, not []
    first = env.client.add_location(location_dict(env), env.colony_prvkey)
    second = env.client.add_location(location_dict(env), env.colony_prvkey)
    _, pending = env.add_executor(approve=False)
    for key in (env.executor_prvkey, env.user_prvkey, pending):  # approval not required
        assert ok(env.server, msg, key) == [first, second]
    for key in (env.colony_prvkey, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, not_member(env.colonyname))


def test_get_location_errors(env: Env) -> None:
    location = env.client.add_location(location_dict(env), env.colony_prvkey)
    msg = {"msgtype": "getlocationmsg", "colonyname": env.colonyname, "name": location["name"]}
    _, pending = env.add_executor(approve=False)
    assert env.client.get_location(env.colonyname, location["name"], pending) == location
    for key in (env.colony_prvkey, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, not_member(env.colonyname))
    refused(env.server, {**msg, "name": "nowhere"}, env.user_prvkey, 404, "Failed to get location, location is nil")
    unknown = unknown_colony()
    refused(env.server, {**msg, "colonyname": unknown}, env.user_prvkey, 400, no_colony(unknown))


def test_remove_location(env: Env) -> None:
    keep = env.client.add_location(location_dict(env), env.colony_prvkey)
    drop = env.client.add_location(location_dict(env), env.colony_prvkey)
    msg = {"msgtype": "removelocationmsg", "colonyname": env.colonyname, "name": drop["name"]}
    for key in (env.executor_prvkey, env.user_prvkey, SERVER_PRVKEY):
        refused(env.server, msg, key, 403, NOT_COLONY_OWNER)
    assert ok(env.server, msg, env.colony_prvkey) == {}
    assert env.client.get_locations(env.colonyname, env.user_prvkey) == [keep]
    refused(env.server, msg, env.colony_prvkey, 400, f"Location with name <{drop['name']}> not found")
    unknown = unknown_colony()
    refused(env.server, {**msg, "colonyname": unknown}, env.colony_prvkey, 400, no_colony(unknown))
    env.client.remove_location(env.colonyname, keep["name"], env.colony_prvkey)
    assert env.client.get_locations(env.colonyname, env.user_prvkey) is None
    with pytest.raises(AccessDeniedError):
        env.client.remove_location(env.colonyname, keep["name"], env.user_prvkey)
