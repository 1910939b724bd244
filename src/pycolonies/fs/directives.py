"""Submit-time work for a function spec's ColonyFS directives (``spec.fs``, protocol ext/50
section 6): a ``fs.snapshots[]`` entry without a ``snapshotid`` gets a fresh snapshot of its
``label``, as upstream's ``colonies function submit`` does, so the process reads the files as they
were when it was submitted, whatever happens to the label meanwhile::

    from pycolonies.fs.directives import prepare_fs_snapshots

    created = prepare_fs_snapshots(client, spec)     # fills in spec.fs.snapshots[i].snapshotid
    try:
        client.submit_func_spec(spec)
    except ColoniesError:
        discard_snapshots(client, created)           # nothing will use them
        raise

The executor removes each snapshot after the run unless the entry says ``keepsnapshot``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from ..errors import ColoniesError
from ..models import FuncSpec, Snapshot, Workflow

__all__ = ["discard_snapshots", "prepare_fs_snapshots"]


def _specs(spec: FuncSpec | Workflow | Iterable[FuncSpec]) -> list[FuncSpec]:
    if isinstance(spec, FuncSpec):
        return [spec]
    if isinstance(spec, Workflow):
        return list(spec.functionspecs)
    return list(spec)


def prepare_fs_snapshots(
    client: Any,
    spec: FuncSpec | Workflow | Iterable[FuncSpec],
    prvkey: str | None = None,
    *,
    colonyname: str | None = None,
    fresh: bool = False,
) -> list[Snapshot]:
    """Create a snapshot (random name) of ``label`` for each ``fs.snapshots[]`` entry of ``spec``
    (one spec, a Workflow or several specs) that has no ``snapshotid`` yet (with ``fresh``: for
    every entry, as upstream's ``--snapshot`` flag), and write its id into the entry.

    ``client`` is a :class:`~pycolonies.Colonies` (``prvkey`` defaults to its own key); the colony
    is the spec's ``conditions.colonyname``, else ``colonyname``. Returns the snapshots created.
    Raises ValueError for an entry with neither id nor label and ColoniesError when the server
    refuses; snapshots created before the failure are removed again (and the ids put back).
    """
    created: list[Snapshot] = []
    filled: list[tuple[Any, str]] = []  # (entry, its previous snapshotid), to undo on failure
    try:
        for one in _specs(spec):
            fs = one.fs
            if fs is None or not fs.snapshots:
                continue
            colony = one.conditions.colonyname or colonyname
            for i, entry in enumerate(fs.snapshots):
                if entry.snapshotid and not fresh:
                    continue
                if not entry.label.strip("/"):
                    raise ValueError(
                        f"fs.snapshots[{i}] of {one.funcname or 'the spec'} has neither a snapshotid nor a label"
                    )
                if not colony:
                    raise ValueError("no colony: set conditions.colonyname or pass colonyname")
                reply = client.create_snapshot(colony, entry.label, secrets.token_hex(32), prvkey)
                snapshot = Snapshot.model_validate(reply)
                created.append(snapshot)
                filled.append((entry, entry.snapshotid))
                entry.snapshotid = snapshot.snapshotid
    except (ColoniesError, ValueError):
        discard_snapshots(client, created, prvkey)
        for entry, previous in filled:
            entry.snapshotid = previous
        raise
    return created


def discard_snapshots(client: Any, snapshots: Iterable[Snapshot], prvkey: str | None = None) -> None:
    """Remove snapshots (best effort: failures are ignored), e.g. those
    :func:`prepare_fs_snapshots` made for a spec whose submission then failed."""
    for snapshot in snapshots:
        try:
            client.remove_snapshot_by_id(snapshot.colonyname, snapshot.snapshotid, prvkey)
        except ColoniesError:
            pass
