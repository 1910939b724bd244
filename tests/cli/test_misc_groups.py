"""``colonies user``, ``attribute``, ``location``, ``key``/``security``, ``server`` (status, info,
version, stats, alive), ``version`` and ``config``."""

from __future__ import annotations

import secrets

from pycolonies import __version__
from pycolonies.crypto import generate_prvkey, id_of

from ..conftest import Env
from .conftest import Cli, parse_kv, submit


def test_user(cli: Cli, env: Env) -> None:
    key = generate_prvkey()
    user = cli.json("user", "add", "--name", "alice", "--userid", id_of(key), "--email", "a@example.org")
    assert user["name"] == "alice" and user["userid"] == id_of(key)
    headers, rows = cli.table("user", "ls")
    assert headers == ["USERNAME", "EMAIL", "PHONE"]
    assert ["alice", "a@example.org", ""] in rows and [env.username, "", ""] in rows
    assert parse_kv(cli.ok("user", "get", "--name", "alice").stdout)["UserId"] == id_of(key)
    assert cli.json("user", "get", "--name", "alice")["email"] == "a@example.org"
    assert "not confirmed" in cli.error("user", "remove", "--name", "alice", input="\n")
    cli.ok("user", "remove", "--name", "alice", input="YES\n")
    assert "alice" not in [u["name"] for u in cli.json("user", "ls")]


def test_attribute(cli: Cli, env: Env) -> None:
    submit(env)
    process = env.client.assign(env.colonyname, 5, env.executor_prvkey)
    assert process is not None
    as_executor = Cli(env, {"COLONIES_PRVKEY": env.executor_prvkey})
    attribute = as_executor.json("attribute", "add", "-p", process.processid, "--key", "score", "--value", "0.9")
    headers, rows = cli.table("attribute", "get", "--attributeid", attribute["attributeid"])
    assert headers == ["ATTRIBUTEID", "TARGETID", "KEY", "VALUE", "TYPE"]
    assert rows == [[attribute["attributeid"], process.processid, "score", "0.9", "Out"]]
    assert cli.json("attribute", "get", "--attributeid", attribute["attributeid"])["value"] == "0.9"


def test_location(cli: Cli, env: Env) -> None:
    cli.ok("location", "add", "--name", "lab", "--desc", "The lab", "--long", "18.07", "--lat", "59.33")
    headers, rows = cli.table("location", "ls")
    assert headers == ["NAME", "DESCRIPTION", "LONG", "LAT"] and rows == [["lab", "The lab", "18.0700", "59.3300"]]
    kv = parse_kv(cli.ok("location", "get", "--name", "lab").stdout)
    assert kv["Name"] == "lab" and kv["Description"] == "The lab"
    assert cli.json("location", "get", "--name", "lab")["lat"] == 59.33
    cli.ok("location", "remove", "--name", "lab", "--yes")
    assert cli.json("location", "ls") == []


def test_key() -> None:
    cli = Cli(None)
    generated = cli.json("key", "generate")
    assert id_of(generated["prvkey"]) == generated["id"]
    kv = parse_kv(cli.ok("key", "generate").stdout)
    assert id_of(kv["PrvKey"]) == kv["Id"]
    key = generate_prvkey()
    assert cli.ok("key", "id", "--prvkey", key).stdout == id_of(key) + "\n"
    assert cli.ok("key", "id", COLONIES_PRVKEY=key).stdout == id_of(key) + "\n"
    assert cli.json("security", "id", "--prvkey", key) == {"id": id_of(key)}  # upstream's group name
    assert "not a valid private key" in cli.error("key", "id", "--prvkey", "zz")
    assert "no private key" in cli.error("key", "id")


def test_server_commands(cli: Cli, env: Env) -> None:
    kv = parse_kv(cli.ok("server", "status").stdout)
    assert kv["Server backends"] == "http" and kv["HTTP Port"] == str(env.server.port)
    assert kv["CLI version"] == __version__ and kv["Server URL"] == f"http://127.0.0.1:{env.server.port}"
    status = cli.json("server", "status")
    assert status["server"]["backends"][0]["port"] == env.server.port and status["client"]["tls"] is False
    assert cli.json("server", "info")["backends"][0]["type"] == "http"
    assert cli.json("server", "version")["cliversion"] == __version__
    assert parse_kv(cli.ok("server", "version").stdout)["CLI version"] == __version__

    stats = cli.json("server", "stats")
    assert stats["colonies"] >= 1 and "waitingprocesses" in stats
    assert parse_kv(cli.ok("server", "stats").stdout)["Colonies"] == str(stats["colonies"])
    assert "not server owner" in cli.error("server", "stats", COLONIES_SERVER_PRVKEY=env.user_prvkey)

    # status needs no key at all (a readiness probe)
    assert Cli(env, {"COLONIES_PRVKEY": None, "COLONIES_SERVER_PRVKEY": None}).ok("server", "status")
    assert Cli(None).ok("server", "alive").stdout == ""


def test_version_and_config() -> None:
    cli = Cli(None)
    assert cli.ok("version").stdout == f"colonies (pycolonies) {__version__}\n"
    assert cli.json("version") == {"cliversion": __version__}
    assert cli.json("config") == {"server": "http://localhost:50080", "tls": False, "colony": ""}
    name = "c-" + secrets.token_hex(3)
    env_set = cli.json(
        "config",
        COLONIES_SERVER_HOST="h",
        COLONIES_SERVER_HTTP_PORT="1234",
        COLONIES_TLS="true",
        COLONIES_COLONY_NAME=name,
    )
    assert env_set == {"server": "https://h:1234", "tls": True, "colony": name}
    assert cli.json("config", COLONIES_SERVER_PORT="4321")["server"] == "http://localhost:4321"
    kv = parse_kv(cli.ok("config").stdout)
    assert kv == {"ColoniesServer": "http://localhost:50080", "TLS": "False", "Colony": "-"}
