"""``colonies colony`` and ``colonies executor``: tables with upstream's columns, ``--json``, ASCII
mode, which key signs what, and flags beating environment variables."""

from __future__ import annotations

import secrets
from pathlib import Path

from pycolonies import func_spec
from pycolonies.crypto import generate_prvkey, id_of

from ..conftest import SERVER_PRVKEY, Env
from .conftest import TIME, Cli, parse_kv, parse_table, write_json


def test_colony_ls_table_and_json(cli: Cli, env: Env) -> None:
    headers, rows = cli.table("colony", "ls")
    assert headers == ["NAME", "COLONYID"]
    assert [env.colonyname, id_of(env.colony_prvkey)] in rows
    listed = cli.json("colony", "ls")
    assert {"name": env.colonyname, "colonyid": id_of(env.colony_prvkey)} in [
        {"name": c["name"], "colonyid": c["colonyid"]} for c in listed
    ]


def test_colony_ls_ascii(cli: Cli, env: Env) -> None:
    out = cli.ok("colony", "ls", COLONIES_CLI_ASCII="true").stdout
    assert "╭" not in out and "│" not in out
    assert out.splitlines()[0].startswith("+-") and out.splitlines()[0].endswith("-+")
    headers, rows = parse_table(out, ascii_rules=True)
    assert headers == ["NAME", "COLONYID"]
    assert [env.colonyname, id_of(env.colony_prvkey)] in rows


def test_colony_add_get_stats_check_remove(cli: Cli, env: Env) -> None:
    owner = generate_prvkey()
    name = "colony-" + secrets.token_hex(4)
    result = cli.ok("colony", "add", "--name", name, "--colonyid", id_of(owner))
    assert f"Colony added: {name}" in result.stderr and result.stdout == ""
    assert name in [c["name"] for c in cli.json("colony", "ls")]

    # its owner adds a user, who may look at it; without --name the colony comes from the env
    member = generate_prvkey()
    in_colony = Cli(env, {"COLONIES_PRVKEY": member, "COLONIES_COLONY_PRVKEY": owner, "COLONIES_COLONY_NAME": name})
    in_colony.ok("user", "add", "--name", "first", "--userid", id_of(member))
    kv = parse_kv(in_colony.ok("colony", "get").stdout)
    assert kv == {"Name": name, "ColonyId": id_of(owner)}
    assert in_colony.json("colony", "get") == {"colonyid": id_of(owner), "name": name}
    assert "Colony exists" in in_colony.ok("colony", "check").stderr

    cli.ok("colony", "remove", "--name", name)
    assert name not in [c["name"] for c in cli.json("colony", "ls")]

    # --colonyid defaults to the id of COLONIES_COLONY_PRVKEY
    other = generate_prvkey()
    cli.ok("colony", "add", "--name", name, COLONIES_COLONY_PRVKEY=other)
    assert {"name": name, "colonyid": id_of(other)} in [
        {"name": c["name"], "colonyid": c["colonyid"]} for c in cli.json("colony", "ls")
    ]
    cli.ok("colony", "remove", "--name", name)


def test_colony_stats(cli: Cli, env: Env) -> None:
    env.client.submit_func_spec(
        {"funcname": "f", "conditions": {"colonyname": env.colonyname, "executortype": env.executortype}},
        env.user_prvkey,
    )
    stats = cli.json("colony", "stats")
    assert stats["waitingprocesses"] == 1 and stats["executors"] == 1
    kv = parse_kv(cli.ok("colony", "stats").stdout)
    assert kv["Colony"] == env.colonyname
    assert kv["Waiting processes"] == "1" and kv["Executors"] == "1" and kv["Failed workflows"] == "0"


def test_executor_add_ls_get(cli: Cli, env: Env) -> None:
    prvkey = generate_prvkey()
    out = cli.ok(
        "executor", "add", "--executorid", id_of(prvkey), "--name", "worker-1", "--type", "gpu", "--location", "Lab"
    )
    assert "Executor added: worker-1" in out.stderr
    executors = {e["executorname"]: e for e in cli.json("executor", "ls")}
    assert executors["worker-1"]["state"] == 0  # pending
    assert executors["worker-1"]["executorid"] == id_of(prvkey)

    cli.ok("executor", "approve", "--name", "worker-1")
    # the executor takes a process: "last heard from" is set
    env.client.submit_func_spec(func_spec("f", [], env.colonyname, "gpu"), env.user_prvkey)
    assert env.client.assign(env.colonyname, 5, prvkey) is not None

    headers, rows = cli.table("executor", "ls")
    assert headers == ["NAME", "TYPE", "LOCATION", "LAST HEARD FROM"]
    by_name = {row[0]: row for row in rows}
    assert by_name["worker-1"][1:3] == ["gpu", "Lab"]
    assert TIME.match(by_name["worker-1"][3])
    assert by_name[env.executorname][1:3] == [env.executortype, "n/a"]

    kv = parse_kv(cli.ok("executor", "get", "--name", "worker-1").stdout)
    assert kv["Name"] == "worker-1" and kv["Id"] == id_of(prvkey) and kv["Type"] == "gpu"
    assert kv["State"] == "approved" and kv["Location"] == "Lab" and TIME.match(kv["Last Heard From"])
    got = cli.json("executor", "get", "--name", "worker-1")
    assert got["executorname"] == "worker-1" and got["state"] == 1 and got["locationname"] == "Lab"

    # filters
    assert [r[0] for r in cli.table("executor", "ls", "--type", "gpu")[1]] == ["worker-1"]
    assert [r[0] for r in cli.table("executor", "ls", "-f", "WORKER-")[1]] == ["worker-1"]
    assert [e["executorname"] for e in cli.json("executor", "ls", "--location", "Lab")] == ["worker-1"]


def test_executor_reject_remove_and_all(cli: Cli, env: Env) -> None:
    name, _ = env.add_executor(approve=False)
    cli.ok("executor", "reject", "--name", name)
    assert {e["executorname"]: e["state"] for e in cli.json("executor", "ls")}[name] == 2
    cli.ok("executor", "remove", "--name", name)
    assert name not in [r[0] for r in cli.table("executor", "ls")[1]]
    headers, rows = cli.table("executor", "ls", "--all")
    assert headers == ["NAME", "TYPE", "STATE", "LOCATION", "LAST HEARD FROM"]
    assert {r[0]: r[2] for r in rows}[name] == "unregistered"


def test_executor_add_from_spec_and_create(cli: Cli, env: Env, tmp_path: Path) -> None:
    spec = write_json(
        tmp_path / "executor.json",
        {
            "executorname": "from-spec",
            "executortype": "hpc",
            "locationname": "Site",
            "capabilities": {"hardware": [{"model": "m1", "cpu": "4000m", "nodes": 2}], "software": []},
        },
    )
    executor = cli.json("executor", "add", "--executorid", id_of(generate_prvkey()), "--spec", str(spec), "--approve")
    assert executor["executorname"] == "from-spec" and executor["state"] == 1
    kv = parse_kv(cli.ok("executor", "get", "--name", "from-spec").stdout)
    assert kv["Model"] == "m1" and kv["Nodes"] == "2" and kv["Location"] == "Site"

    keyfile, idfile = tmp_path / "key", tmp_path / "id"
    cli.ok("executor", "create", "--name", "made", "--type", "t", "--keypath", str(keyfile), "--idpath", str(idfile))
    prvkey = keyfile.read_text().strip()
    assert idfile.read_text().strip() == id_of(prvkey)
    made = {e["executorname"]: e for e in cli.json("executor", "ls")}["made"]
    assert made["executorid"] == id_of(prvkey) and made["state"] == 0
    assert "an executor needs a name and a type" in cli.error("executor", "add", "--executorid", id_of(prvkey))


def test_colony_key_signs_executor_membership(cli: Cli, env: Env) -> None:
    """executor add/approve/reject/remove use COLONIES_COLONY_PRVKEY, not COLONIES_PRVKEY."""
    prvkey = generate_prvkey()
    line = cli.error(
        "executor", "add", "--executorid", id_of(prvkey), "--name", "x", "--type", "t", COLONIES_COLONY_PRVKEY=None
    )
    assert "COLONIES_COLONY_PRVKEY" in line and "--colonyprvkey" in line
    # the user key is not the colony owner's
    line = cli.error(
        "executor", "add", "--executorid", id_of(prvkey), "--name", "x", "--type", "t",
        COLONIES_COLONY_PRVKEY=env.user_prvkey,
    )  # fmt: skip
    assert "Access denied, not colony owner" in line


def test_flags_beat_environment(env: Env) -> None:
    """Every connection flag wins over its variable (upstream lets some variables win)."""
    wrong = Cli(
        env,
        {
            "COLONIES_SERVER_HOST": "no-such-host.invalid",
            "COLONIES_SERVER_PORT": "1",
            "COLONIES_SERVER_HTTP_PORT": "2",
            "COLONIES_TLS": "true",
            "COLONIES_COLONY_NAME": "no-such-colony",
            "COLONIES_PRVKEY": generate_prvkey(),
            "COLONIES_COLONY_PRVKEY": generate_prvkey(),
            "COLONIES_SERVER_PRVKEY": generate_prvkey(),
        },
    )
    conn = ["--host", "127.0.0.1", "--port", str(env.server.port), "--insecure"]
    colony = ["--colonyname", env.colonyname]
    assert wrong.json("colony", "ls", *conn, "--serverprvkey", SERVER_PRVKEY)
    assert wrong.json("executor", "ls", *conn, *colony, "--prvkey", env.user_prvkey)
    name, _ = env.add_executor(approve=False)
    wrong.ok("executor", "approve", "--name", name, *conn, *colony, "--colonyprvkey", env.colony_prvkey)
    assert {e["executorname"]: e["state"] for e in env.client.list_executors(env.colonyname, env.user_prvkey)}[
        name
    ] == 1
    # upstream's --colonyid takes the colony name too
    assert wrong.json("executor", "ls", *conn, "--colonyid", env.colonyname, "--prvkey", env.user_prvkey)
    # and the config command shows what was resolved
    config = wrong.json("config", *conn, *colony)
    assert config == {"server": f"http://127.0.0.1:{env.server.port}", "tls": False, "colony": env.colonyname}


def test_http_by_default_https_when_asked(env: Env) -> None:
    """COLONIES_TLS unset means plain HTTP (upstream: HTTPS); --tls or COLONIES_TLS=true ask for HTTPS."""
    cli = Cli(env, {"COLONIES_TLS": None})
    assert cli.json("config")["server"].startswith("http://")
    assert cli.json("colony", "ls")
    assert "https://127.0.0.1" in cli.error("colony", "ls", "--tls")
    assert "https://127.0.0.1" in cli.error("colony", "ls", COLONIES_TLS="true")
