"""The seed README's "CLI Examples" (``colonies executor ls`` and ``colonies colony ls``), run as
real subprocesses against ``colonies dev`` with the environment it prints: the tables come out
as the README shows them, with real values (only the "last heard from" time differs)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from pycolonies import Colonies, func_spec
from pycolonies.crypto import generate_prvkey, id_of

from ..test_dev import DevServer
from .conftest import Cli, cli_env, subprocess_cli

# Verbatim from the seed README (/work/shared/seed/pycolonies-README.md), kept here so the test is
# self-contained.
README_EXECUTOR_LS = """\
╭────────────┬────────────────────┬──────────┬─────────────────────╮
│ NAME       │ TYPE               │ LOCATION │ LAST HEARD FROM     │
├────────────┼────────────────────┼──────────┼─────────────────────┤
│ dev-docker │ container-executor │ Local    │ 2025-12-27 22:13:44 │
╰────────────┴────────────────────┴──────────┴─────────────────────╯
"""

README_COLONY_LS = """\
╭──────┬──────────────────────────────────────────────────────────────────╮
│ NAME │ COLONYID                                                         │
├──────┼──────────────────────────────────────────────────────────────────┤
│ dev  │ 4787a5071856a4acf702b2ffcea422e3237a679c681314113d86139461290cf4 │
╰──────┴──────────────────────────────────────────────────────────────────╯
"""

TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    server = DevServer(tmp_path_factory.mktemp("cli-dev") / "data")
    server.start()
    yield server
    if server.proc is not None:
        server.proc.kill()
        server.proc.wait(10)


def test_readme_colony_ls(dev: DevServer) -> None:
    result = subprocess_cli("colony", "ls", env=cli_env(**dev.exports()))
    assert result.returncode == 0, result.stderr
    assert result.stdout == README_COLONY_LS


def test_readme_executor_ls(dev: DevServer) -> None:
    shell = cli_env(**dev.exports())
    cli = Cli(None, shell)
    # the README's colony has one executor: dev-docker, a container executor at location "Local"
    prvkey = generate_prvkey()
    cli.ok("executor", "remove", "--name", "dev-executor")  # unregistered executors are not listed
    cli.ok(
        "executor", "add", "--executorid", id_of(prvkey), "--name", "dev-docker",
        "--type", "container-executor", "--location", "Local", "--approve",
    )  # fmt: skip
    with Colonies("localhost", dev.port) as client:  # it takes a process, so it was heard from
        client.submit_func_spec(func_spec("echo", ["hi"], "dev", "container-executor"), shell["COLONIES_PRVKEY"])
        assert client.assign("dev", 5, prvkey) is not None

    result = subprocess_cli("executor", "ls", env=shell)
    assert result.returncode == 0, result.stderr
    got, want = result.stdout.splitlines(), README_EXECUTOR_LS.splitlines()
    assert len(got) == len(want)
    for got_line, want_line in zip(got, want, strict=True):
        assert TIME.sub("<time>", got_line) == TIME.sub("<time>", want_line)
    assert TIME.search(got[3])
