"""``colonies location``: named places executors can be at (add and remove need the colony
owner's key)."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import Session, YesOpt, command, group, list_named, remove_named, show_record

__all__ = ["app"]

app = group("Manage the colony's locations (add and remove need the colony owner's key).")

NameOpt = Annotated[str, typer.Option("--name", help="Location name.")]


@command(app, "add", signer="colony", colony=True, json=True)
def add(
    s: Session,
    name: NameOpt,
    desc: Annotated[str, typer.Option("--desc", help="Description.")] = "",
    long: Annotated[float, typer.Option("--long", help="Longitude.")] = 0.0,
    lat: Annotated[float, typer.Option("--lat", help="Latitude.")] = 0.0,
) -> None:
    """Add a location."""
    location = s.client.add_location(
        {"name": name, "colonyname": s.colony, "description": desc, "long": long, "lat": lat}
    )
    s.out.info(f"Location added: {name}")
    if s.json:
        s.out.emit_json(location)


@command(app, "ls", colony=True, json=True)
def ls(s: Session) -> None:
    """List locations: NAME, DESCRIPTION, LONG, LAT."""
    list_named(
        s,
        s.client.get_locations(s.colony),
        "locations",
        ["Name", "Description", "Long", "Lat"],
        lambda loc: (
            loc.get("name", ""),
            loc.get("description", ""),
            f"{loc.get('long', 0):.4f}",
            f"{loc.get('lat', 0):.4f}",
        ),
    )


@command(app, "get", colony=True, json=True)
def get(s: Session, name: NameOpt) -> None:
    """Show one location."""
    loc = s.client.get_location(s.colony, name)
    fields = [
        ("Name", loc.get("name", "")),
        ("LocationID", loc.get("locationid", "")),
        ("Colony", loc.get("colonyname", "")),
        ("Description", loc.get("description", "")),
        ("Longitude", loc.get("long", 0)),
        ("Latitude", loc.get("lat", 0)),
    ]
    show_record(s, loc, "Location", fields)


@command(app, "remove", signer="colony", colony=True)
def remove(s: Session, name: NameOpt, yes: YesOpt = False) -> None:
    """Remove a location."""
    remove_named(s, "location", name, yes, lambda client: client.remove_location)
