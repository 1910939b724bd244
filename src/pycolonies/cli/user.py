"""``colonies user``: the colony's users (add and remove need the colony owner's key)."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import Session, YesOpt, command, group, list_named, remove_named, show_record

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
    list_named(
        s,
        s.client.get_users(s.colony),
        "users",
        ["Username", "Email", "Phone"],
        lambda u: (u.get("name", ""), u.get("email", ""), u.get("phone", "")),
    )


@command(app, "get", colony=True, json=True)
def get(s: Session, name: NameOpt) -> None:
    """Show one user."""
    u = s.client.get_user(s.colony, name)
    fields = [
        ("Username", u.get("name", "")),
        ("UserId", u.get("userid", "")),
        ("Colony", u.get("colonyname", "")),
        ("Email", u.get("email", "")),
        ("Phone", u.get("phone", "")),
    ]
    show_record(s, u, "User", fields)


@command(app, "remove", signer="colony", colony=True)
def remove(s: Session, name: NameOpt, yes: YesOpt = False) -> None:
    """Remove a user from the colony."""
    remove_named(s, "user", name, yes, lambda client: client.remove_user)
