"""``colonies key`` (upstream: ``colonies security``): make private keys and show their ids."""

from __future__ import annotations

from typing import Annotated

import typer

from ..crypto import CryptoError, generate_prvkey, id_of
from .common import CliError, Session, command, group

__all__ = ["app"]

app = group("Generate private keys and show the id of a key.")


@command(app, "generate", signer=None, server=False, json=True)
def generate(s: Session) -> None:
    """Generate a new private key; prints its id and the key."""
    prvkey = generate_prvkey()
    keyid = id_of(prvkey)
    if s.json:
        s.out.emit_json({"id": keyid, "prvkey": prvkey})
    else:
        s.out.kv([("Id", keyid), ("PrvKey", prvkey)])


@command(app, "id", signer=None, server=False, json=True)
def id_(
    s: Session,
    prvkey: Annotated[
        str | None, typer.Option("--prvkey", envvar="COLONIES_PRVKEY", help="The private key.", show_default=False)
    ] = None,
) -> None:
    """Print the id of a private key."""
    if not prvkey:
        raise CliError("no private key: pass --prvkey or set COLONIES_PRVKEY")
    try:
        keyid = id_of(prvkey.strip())
    except CryptoError as exc:
        raise CliError(f"not a valid private key: {exc}") from None
    if s.json:
        s.out.emit_json({"id": keyid})
    else:
        s.out.line(keyid)
