"""Helpers shared by the ColonyFS tests (test_files.py, test_snapshots.py): File documents as the
SDK sends them, checked calls, label listings, and a second colony."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pycolonies.crypto import sign

from ..conftest import SERVER_PRVKEY, Env, ServerProcess
from .raw import raw_post
from .rpc_helpers import add_colony, add_user, ok


def s3object(obj: str | None = None) -> dict[str, Any]:
    return {
        "server": "s3.example.org",
        "port": 9000,
        "tls": True,
        "accesskey": "",
        "secretkey": "",
        "region": "eu-north-1",
        "encryptionkey": "",
        "encryptionalg": "",
        "object": obj or secrets.token_hex(32),
        "bucket": "colonies",
    }


def file_doc(
    colonyname: str, label: str = "/data", name: str = "a.txt", *, protocol: str = "s3", **extra: Any
) -> dict[str, Any]:
    """A File as the Python SDK sends it (fileid "", sequencenr 1, added null)."""
    doc = {
        "fileid": "",
        "colonyname": colonyname,
        "label": label,
        "name": name,
        "size": 3,
        "sequencenr": 1,
        "checksum": secrets.token_hex(32),
        "checksumalg": "SHA256",
        "ref": {"protocol": protocol, "s3object": s3object()},
        "added": None,
    }
    doc.update(extra)
    return doc


def add(env: Env, label: str = "/data", name: str = "a.txt", key: str | None = None, **extra: Any) -> dict[str, Any]:
    """Register a file version in the env's colony; returns the reply."""
    msg = {"msgtype": "addfilemsg", "file": file_doc(env.colonyname, label, name, **extra)}
    return ok(env.server, msg, key or env.executor_prvkey)  # type: ignore[no-any-return]


def files_msg(colonyname: str, label: str) -> dict[str, Any]:
    return {"msgtype": "getfilesmsg", "colonyname": colonyname, "label": label}


def labels_msg(colonyname: str, name: str = "", exact: bool = False) -> dict[str, Any]:
    return {"msgtype": "getfilelabelsmsg", "colonyname": colonyname, "name": name, "exact": exact}


def labels(env: Env, name: str = "", exact: bool = False) -> dict[str, int] | None:
    """The label listing as {label: files}, or None for the reply null."""
    reply = ok(env.server, labels_msg(env.colonyname, name, exact), env.user_prvkey)
    if reply is None:
        return None
    assert all(list(label) == ["name", "files"] for label in reply)
    found = {label["name"]: label["files"] for label in reply}
    assert len(found) == len(reply)  # no duplicates
    return found


def signed(payloadtype: str, msg: Any, prvkey: str) -> bytes:
    """An envelope whose payload type may differ from the message's msgtype."""
    payload = base64.b64encode(json.dumps(msg).encode()).decode()
    return json.dumps({"payloadtype": payloadtype, "payload": payload, "signature": sign(payload, prvkey)}).encode()


def failure(server: ServerProcess, payloadtype: str, msg: Any, prvkey: str) -> tuple[int, str]:
    status, _, payload = raw_post(server, signed(payloadtype, msg, prvkey))
    assert payload["status"] == status
    return status, payload["message"]


@contextmanager
def second_colony(env: Env) -> Iterator[tuple[str, str]]:
    """Another colony with a user; yields (colony name, user private key), removed afterwards."""
    name, prvkey = add_colony(env.client)
    try:
        _, user_prvkey = add_user(env, name, prvkey)
        yield name, user_prvkey
    finally:
        env.client.del_colony(name, SERVER_PRVKEY)
