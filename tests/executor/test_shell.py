"""The shell executor's command table, without a server: templates, config files, the command's
environment, output, failures and timeouts (the server side is in test_examples.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pycolonies import Colonies
from pycolonies.executor import ExecutorConfigError
from pycolonies.executor.shell import Command, CommandError, ShellExecutor, load_commands, parse_command


def test_templates_fill_whole_argv_elements() -> None:
    command = Command("f", ("prog", "{0}", "--name={who}", "{args}", "{{literal}}", "id={processid}"))
    argv = command.render(["a b; rm -rf /", 2, {"k": [1]}], {"who": "me"}, "pid")
    assert argv == ["prog", "a b; rm -rf /", "--name=me", "a b; rm -rf /", "2", '{"k": [1]}', "{literal}", "id=pid"]
    with pytest.raises(CommandError, match="needs at least 1 argument"):
        command.render([], {"who": "me"}, "pid")
    with pytest.raises(CommandError, match="keyword argument 'who'"):
        command.render(["x"], {}, "pid")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "empty"),
        (("{0}",), "program"),
        (("prog", "{0.__class__}"), "bad placeholder"),
        (("prog", "x{args}"), "whole argv element"),
    ],
)
def test_bad_templates_are_refused(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(ExecutorConfigError, match=message):
        Command("f", argv)


def test_config_files_and_flags(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text(
        '[functions]\nshort = "echo hi {0}"\nlisted = ["ls", "-l"]\n'
        '[functions.full]\nargv = ["sleep", "{0}"]\ntimeout = 2\ncwd = "/tmp"\nenv = { A = "1" }\n'
    )
    commands = load_commands(toml)
    assert commands["short"].argv == ("echo", "hi", "{0}")
    assert commands["listed"].argv == ("ls", "-l")
    assert (commands["full"].timeout, commands["full"].cwd, dict(commands["full"].env)) == (2, "/tmp", {"A": "1"})
    as_json = tmp_path / "c.json"
    as_json.write_text('{"functions": {"j": {"argv": "echo {args}"}}}')
    assert load_commands(as_json)["j"].argv == ("echo", "{args}")
    assert parse_command("wc=wc -w '{0}'").argv == ("wc", "-w", "{0}")
    for text, path in (("[functions]\nx = 1\n", "bad.toml"), ("{}", "empty.json"), ("[f", "broken.toml")):
        (tmp_path / path).write_text(text)
        with pytest.raises(ExecutorConfigError):
            load_commands(tmp_path / path)
    with pytest.raises(ExecutorConfigError, match="NAME=COMMAND"):
        parse_command("no-equals")


class FakeLog:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, text: str, *args: Any) -> None:
        self.lines.append(text % args if args else text)

    warning = info


def run(command: Command, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[str]]:
    monkeypatch.setenv("COLONIES_COLONY_PRVKEY", "secret")
    executor = ShellExecutor(
        Colonies("127.0.0.1", 1), "colony", colony_prvkey="11" * 32, commands=[command], max_output=64
    )
    log = FakeLog()
    ctx = SimpleNamespace(processid="pid-1", log=log)
    try:
        return executor.run_command(command, argv, ctx), log.lines  # type: ignore[arg-type]
    finally:
        executor.colonies.close()


PY = sys.executable


def test_output_stderr_environment_and_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    script = (
        "import os, sys; print('to the log', file=sys.stderr); "
        "print(os.environ['COLONIES_PROCESS_ID'], os.environ.get('COLONIES_COLONY_PRVKEY'), os.environ['EXTRA'])"
    )
    command = Command("f", (PY, "-c", script), env={"EXTRA": "x"})
    output, lines = run(command, [PY, "-c", script], monkeypatch)
    assert output == "pid-1 None x" and lines == ["to the log"]  # no key reaches the command
    failing = Command("g", (PY, "-c", "import sys; print('bad input', file=sys.stderr); sys.exit(3)"))
    with pytest.raises(CommandError, match="exited with status 3: bad input"):
        run(failing, list(failing.argv), monkeypatch)
    with pytest.raises(CommandError, match="cannot run /no/such/program"):
        run(Command("h", ("/no/such/program",)), ["/no/such/program"], monkeypatch)
    slow = Command("s", (PY, "-c", "import time; time.sleep(30)"), timeout=0.5)
    with pytest.raises(CommandError, match=r"did not finish within 0\.5 s"):
        run(slow, list(slow.argv), monkeypatch)
    big = Command("b", (PY, "-c", "print('x' * 1000)"))
    output, lines = run(big, list(big.argv), monkeypatch)
    assert output == "x" * 64 and lines == ["output truncated: 64 bytes kept, 937 dropped"]
