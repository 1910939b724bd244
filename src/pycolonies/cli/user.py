"""``colonies user``: the colony's users (add and remove need the colony owner's key)."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import Session, command, confirm, group

__all__ = ["app"]

app = group("Manage the colony's users (add and remove need the colony owner's key).")

NameOpt = Annotated[str, typer.Option("--name", help="User name.")]


@command(app, "add", signer="colony", colony=True, json=True)
def add(
    s: Session,
    name: NameOpt,
    userid: Annotated[str, typer.Option("--userid", help="The user's id (64 hex; see 'colonies key id').")],
    email: Annotated[str, typer.Option("--email", help="E-mail address.")] = "",
    phone: Annotated[str, typer.Option("--phone", help="Phone number.")] = "",
) -> None:
    """Add a user to the colony."""
    user = s.client.add_user({"colonyname": s.colony, "userid": userid, "name": name, "email": email, "phone": phone})
    s.out.info(f"User added: {name} (id {userid})")
    if s.json:
        s.out.emit_json(user)


@command(app, "ls", colony=True, json=True)
def ls(s: Session) -> None:
    """List the colony's users: USERNAME, EMAIL, PHONE."""
    users = sorted(s.client.get_users(s.colony) or [], key=lambda u: u.get("name", ""))
    if s.json:
        s.out.emit_json(users)
    elif not users:
        s.out.info("No users found")
    else:
        s.out.table(
            ["Username", "Email", "Phone"], [(u.get("name", ""), u.get("email", ""), u.get("phone", "")) for u in users]
        )


@command(app, "get", colony=True, json=True)
def get(s: Session, name: NameOpt) -> None:
    """Show one user."""
    u = s.client.get_user(s.colony, name)
    if s.json:
        s.out.emit_json(u)
    else:
        s.out.kv(
            [
                ("Username", u.get("name", "")),
                ("UserId", u.get("userid", "")),
                ("Colony", u.get("colonyname", "")),
                ("Email", u.get("email", "")),
                ("Phone", u.get("phone", "")),
            ],
            title="User",
        )


@command(app, "remove", signer="colony", colony=True)
def remove(
    s: Session,
    name: NameOpt,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove a user from the colony."""
    confirm(f"Remove user {name} from colony {s.colony}?", yes)
    s.client.remove_user(s.colony, name)
    s.out.info(f"User removed: {name}")
