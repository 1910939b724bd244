"""``--help`` works for the root, every group and every command, and docs/cli.md documents every
command with every one of its options."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

from pycolonies.cli.main import app

from .conftest import Cli

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def commands(group: Any = None, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, click command) of every visible command."""
    group = group or typer.main.get_command(app)
    for name, cmd in sorted(group.commands.items()):
        if cmd.hidden:
            continue
        if hasattr(cmd, "commands"):
            yield from commands(cmd, (*path, name))
        else:
            yield (*path, name), cmd


ALL = list(commands())
GROUPS = sorted({path[0] for path, _ in ALL if len(path) > 1})


def test_root_help_lists_every_group() -> None:
    out = Cli(None).ok("--help").stdout
    for group in GROUPS:
        assert re.search(rf"│ {group} ", out), group


@pytest.mark.parametrize("group", GROUPS)
def test_group_help(group: str) -> None:
    out = Cli(None).ok(group, "--help").stdout
    for path, _ in ALL:
        if path[0] == group:
            assert re.search(rf"│ {path[1]} ", out), path


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=" ".join)
def test_command_help(path: tuple[str, ...]) -> None:
    result = Cli(None).ok(*path, "--help")
    assert "Usage: colonies " + " ".join(path) in " ".join(result.stdout.split())


def test_docs_list_every_command_and_option() -> None:
    lines = DOCS.read_text().splitlines()
    shared = section(lines, "## Options every command shares")
    missing = []
    for path, cmd in ALL:
        heading = f"`colonies {' '.join(path)}`"
        text = section(lines, heading)
        if not text:
            missing.append(heading)
            continue
        assert "```" in text, f"{heading}: no example"
        for param in cmd.params:
            for opt in param.opts + param.secondary_opts:
                if opt.startswith("--") and opt != "--help" and f"`{opt}" not in text and f"`{opt}" not in shared:
                    missing.append(f"{heading} {opt}")
    assert not missing, missing


def section(lines: list[str], title: str) -> str:
    """The text under the first heading that contains ``title``, up to the next heading."""
    for i, line in enumerate(lines):
        if line.startswith("#") and title in line:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("#")), len(lines))
            return "\n".join(lines[i:end])
    return ""
