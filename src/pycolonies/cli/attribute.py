"""``colonies attribute``: key/value attributes of processes."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import Session, command, group

__all__ = ["app"]

app = group("Add and read process attributes.")

KINDS = {0: "In", 1: "Out", 2: "Err", 3: "Env"}


@command(app, "add", json=True)
def add(
    s: Session,
    processid: Annotated[str, typer.Option("--processid", "-p", help="A running process assigned to you.")],
    key: Annotated[str, typer.Option("--key", help="Attribute key.")],
    value: Annotated[str, typer.Option("--value", help="Attribute value.")],
) -> None:
    """Add an output attribute to a process you run (signed by the executor's key)."""
    attribute = s.client.add_attribute(processid, key, value)
    s.out.info(f"Attribute added: {key} (id {attribute.get('attributeid', '')})")
    if s.json:
        s.out.emit_json(attribute)


@command(app, "get", json=True)
def get(s: Session, attributeid: Annotated[str, typer.Option("--attributeid", help="Attribute id.")]) -> None:
    """Show one attribute: ATTRIBUTEID, TARGETID, KEY, VALUE, TYPE."""
    a = s.client.get_attribute(attributeid)
    if s.json:
        s.out.emit_json(a)
    else:
        s.out.table(
            ["AttributeId", "TargetId", "Key", "Value", "Type"],
            [
                (
                    a.get("attributeid", ""),
                    a.get("targetid", ""),
                    a.get("key", ""),
                    a.get("value", ""),
                    KINDS.get(a.get("attributetype", 0), a.get("attributetype")),
                )
            ],
        )
