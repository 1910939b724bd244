"""Failures end with one ``Error: ...`` line on stderr and a non-zero exit: no server, missing or
bad keys, unknown colonies, server errors (with the server's message), unreadable or malformed
JSON files, and malformed command lines or environment values (exit 2)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pycolonies.crypto import generate_prvkey, id_of

from ..conftest import Env, free_port
from .conftest import Cli, cli_env, subprocess_cli, write_json


def test_no_server(env: Env) -> None:
    port = free_port()
    line = Cli(env).error("colony", "ls", "--port", str(port))
    assert f"cannot reach the Colonies server at http://127.0.0.1:{port}" in line
    assert "COLONIES_SERVER_HOST" in line


@pytest.mark.parametrize(
    ("args", "unset", "expect"),
    [
        (["executor", "ls"], "COLONIES_PRVKEY", "no private key (a user's or an executor's): set COLONIES_PRVKEY"),
        (["user", "add", "--name", "u", "--userid", "0" * 64], "COLONIES_COLONY_PRVKEY", "set COLONIES_COLONY_PRVKEY"),
        (["colony", "ls"], "COLONIES_SERVER_PRVKEY", "set COLONIES_SERVER_PRVKEY or pass --serverprvkey"),
        (["executor", "ls"], "COLONIES_COLONY_NAME", "no colony: set COLONIES_COLONY_NAME or pass --colonyname"),
    ],
)
def test_missing_setting(env: Env, args: list[str], unset: str, expect: str) -> None:
    assert expect in Cli(env).error(*args, **{unset: None})


def test_bad_keys(env: Env) -> None:
    cli = Cli(env)
    line = cli.error("executor", "ls", COLONIES_PRVKEY="not-hex")
    assert "(--prvkey / COLONIES_PRVKEY) is not valid" in line
    assert "is not valid" in cli.error("executor", "ls", "--prvkey", "ab" * 31)  # too short
    # a well-formed key nobody knows: the server's message
    line = cli.error("executor", "ls", COLONIES_PRVKEY=generate_prvkey())
    assert line == f"Error: Access denied, not a member of Colony with name <{env.colonyname}> (server replied 403)"
    assert "Access denied, not server owner" in cli.error("colony", "ls", "--serverprvkey", env.user_prvkey)


def test_unknown_colony_and_objects(env: Env) -> None:
    cli = Cli(env)
    assert "Colony with name <no-such-colony> does not exists" in cli.error(
        "executor", "ls", "--colonyname", "no-such-colony"
    )
    assert "process not found (server replied 404)" in cli.error("process", "get", "-p", "0" * 64)
    assert "server replied" in cli.error("executor", "get", "--name", "nobody")
    assert "server replied" in cli.error("workflow", "get", "--workflowid", "0" * 64)
    assert "already exists" in cli.error(
        "colony", "add", "--name", env.colonyname, "--colonyid", id_of(generate_prvkey())
    )


def test_bad_json_files(env: Env, tmp_path: Path) -> None:
    cli = Cli(env)
    bad = tmp_path / "bad.json"
    bad.write_text('{"funcname": "f",\n  "args": [1, 2,]\n}')
    line = cli.error("function", "submit", "--spec", str(bad))
    assert line.startswith(f"Error: {bad} is not valid JSON: ") and "line 2" in line
    assert "is not valid JSON" in cli.error("workflow", "submit", "--spec", str(bad))
    assert "is not valid JSON" in cli.error("cron", "add", "--name", "c", "--spec", str(bad), "--interval", "5")
    assert "is not valid JSON" in cli.error("executor", "add", "--executorid", "0" * 64, "--spec", str(bad))
    assert f"{tmp_path / 'nope.json'}: no such file" in cli.error(
        "function", "submit", "--spec", str(tmp_path / "nope.json")
    )
    assert "is a directory" in cli.error("function", "submit", "--spec", str(tmp_path))

    wrong_type = write_json(tmp_path / "wrong.json", {"funcname": "f", "args": "not-a-list"})
    assert "args: Input should be a valid list" in cli.error("function", "submit", "--spec", str(wrong_type))
    array = write_json(tmp_path / "array.json", [{"funcname": "f"}])
    assert "use 'colonies workflow submit" in cli.error("function", "submit", "--spec", str(array))
    not_specs = write_json(tmp_path / "numbers.json", [1, 2])
    assert f"{not_specs}[0]: a function spec must be a JSON object" in cli.error(
        "workflow", "submit", "--spec", str(not_specs)
    )
    # nothing was submitted by any of them
    assert Cli(env).json("process", "psw") == [] and Cli(env).json("workflow", "psw") == []


def test_no_colony_for_a_spec(env: Env, tmp_path: Path) -> None:
    spec = write_json(tmp_path / "f.json", {"funcname": "f"})
    line = Cli(env).error("function", "submit", "--spec", str(spec), COLONIES_COLONY_NAME=None)
    assert "no colony" in line
    # a colony named in the spec is enough
    named = write_json(tmp_path / "g.json", {"funcname": "f", "conditions": {"colonyname": env.colonyname}})
    assert Cli(env).json("function", "submit", "--spec", str(named), COLONIES_COLONY_NAME=None)["state"] == 0


@pytest.mark.parametrize(
    ("args", "env_extra", "expect"),
    [
        (["colony", "ls"], {"COLONIES_TLS": "maybe"}, "COLONIES_TLS"),
        (["colony", "ls", "--port", "http"], {}, "--port"),
        (["colony", "ls", "--port", "70000"], {}, "--port"),
        (["colony", "ls"], {"COLONIES_SERVER_PORT": "abc"}, "COLONIES_SERVER_PORT='abc' is not a port number"),
        (["colony", "lss"], {}, "lss"),
        (["process", "ls", "--state", "sleeping"], {}, "sleeping"),
        (["process", "get"], {}, "--processid"),
    ],
)
def test_malformed_command_lines(
    args: list[str],
    env_extra: dict[str, str],
    expect: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Through the ``colonies`` entry point: one line, exit 2 for usage errors (1 for a bad env value)."""
    from pycolonies.cli.main import main

    for key, value in cli_env(**env_extra).items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    with pytest.raises(SystemExit) as exited:
        main(args)
    out = capsys.readouterr()
    lines = [line for line in out.err.splitlines() if line.strip()]
    assert exited.value.code in (1, 2) and len(lines) == 1, out.err
    assert lines[0].startswith("Error: ") and expect in lines[0]
    assert out.out == ""


def test_errors_in_real_subprocesses(env: Env, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    shell = cli_env(env)
    runs = {
        "no server": (["colony", "ls", "--port", str(free_port())], "cannot reach the Colonies server", 1),
        "bad json": (["function", "submit", "--spec", str(bad)], "is not valid JSON", 1),
        "unknown colony": (["executor", "ls", "--colonyname", "zzz"], "Colony with name <zzz> does not exists", 1),
        "usage": (["executor", "ls", "--bogus"], "--bogus", 2),
    }
    with ThreadPoolExecutor(len(runs)) as pool:
        results = dict(zip(runs, pool.map(lambda a: subprocess_cli(*a[0], env=shell), runs.values()), strict=True))
    for label, result in results.items():
        _, expect, code = runs[label]
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == code, (label, result.stderr)
        assert len(lines) == 1 and lines[0].startswith("Error: ") and expect in lines[0], (label, result.stderr)
        assert result.stdout == "" and "Traceback" not in result.stderr, label
