"""``colonies colony``: add, remove, list, show and count colonies."""

from __future__ import annotations

from typing import Annotated

import typer

from ..crypto import CryptoError, id_of
from .common import CliError, Session, command, group

app = group("Manage colonies (add, remove and ls need the server owner's key).")

NameOpt = Annotated[
    str | None,
    typer.Option("--name", envvar="COLONIES_COLONY_NAME", help="Colony name.", show_default=False),
]


def _require(name: str | None) -> str:
    if not name:
        raise CliError("no colony: pass --name or set COLONIES_COLONY_NAME")
    return name


@command(app, "add", signer="server")
def add(
    s: Session,
    name: Annotated[str, typer.Option("--name", help="Name of the new colony.")],
    colonyid: Annotated[
        str | None,
        typer.Option(
            "--colonyid",
            help="Id (64 hex) of the colony owner. Default: the id of --colonyprvkey / COLONIES_COLONY_PRVKEY.",
            show_default=False,
        ),
    ] = None,
    colonyprvkey: Annotated[
        str | None,
        typer.Option("--colonyprvkey", envvar="COLONIES_COLONY_PRVKEY", hidden=True, show_default=False),
    ] = None,
) -> None:
    """Add a colony owned by --colonyid."""
    if not colonyid:
        if not colonyprvkey:
            raise CliError("no colony id: pass --colonyid (or set COLONIES_COLONY_PRVKEY to use its id)")
        try:
            colonyid = id_of(colonyprvkey)
        except CryptoError as exc:
            raise CliError(f"COLONIES_COLONY_PRVKEY is not a valid private key: {exc}") from None
    colony = s.client.add_colony({"colonyid": colonyid, "name": name})
    s.out.info(f"Colony added: {name} (id {colonyid})")
    if s.json:
        s.out.emit_json(colony)


@command(app, "remove", signer="server")
def remove(s: Session, name: Annotated[str, typer.Option("--name", help="Colony to remove.")]) -> None:
    """Remove a colony and everything in it."""
    s.client.del_colony(name)
    s.out.info(f"Colony removed: {name}")


@command(app, "ls", signer="server", json=True)
def ls(s: Session) -> None:
    """List all colonies: NAME, COLONYID."""
    colonies = s.client.list_colonies() or []
    if s.json:
        s.out.emit_json(colonies)
    elif not colonies:
        s.out.info("No colonies found")
    else:
        s.out.table(["Name", "ColonyId"], [(c.get("name", ""), c.get("colonyid", "")) for c in colonies])


@command(app, "get", json=True)
def get(s: Session, name: NameOpt = None) -> None:
    """Show one colony (you must be a member)."""
    colony = s.client.get_colony(_require(name))
    if s.json:
        s.out.emit_json(colony)
    else:
        s.out.kv([("Name", colony.get("name", "")), ("ColonyId", colony.get("colonyid", ""))], title="Colony")


@command(app, "stats", json=True)
def stats(s: Session, name: NameOpt = None) -> None:
    """Executor, process and workflow counts of a colony."""
    name = _require(name)
    st = s.client.stats(name)
    if s.json:
        s.out.emit_json(st)
        return
    s.out.kv(
        [
            ("Colony", name),
            ("Executors", st.get("executors", 0)),
            ("Active executors", st.get("activeexecutors", 0)),
            ("Unregistered executors", st.get("unregisteredexecutors", 0)),
            ("Waiting processes", st.get("waitingprocesses", 0)),
            ("Running processes", st.get("runningprocesses", 0)),
            ("Successful processes", st.get("successfulprocesses", 0)),
            ("Failed processes", st.get("failedprocesses", 0)),
            ("Cancelled processes", st.get("cancelledprocesses", 0)),
            ("Waiting workflows", st.get("waitingworkflows", 0)),
            ("Running workflows", st.get("runningworkflows", 0)),
            ("Successful workflows", st.get("successfulworkflows", 0)),
            ("Failed workflows", st.get("failedworkflows", 0)),
            ("Cancelled workflows", st.get("cancelledworkflows", 0)),
        ],
        title="Colony statistics",
    )


@command(app, "check")
def check(s: Session, name: NameOpt = None) -> None:
    """Exit 0 if the colony exists and the key is a member (a readiness probe)."""
    name = _require(name)
    s.client.get_colony(name)
    s.out.info(f"Colony exists: {name}")
