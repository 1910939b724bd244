"""Executor settings from the ``COLONIES_*`` environment variables (the names upstream's
``colonies_client()`` and ``colonies dev`` use), shared by every built-in executor."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..client import Colonies
from ..client.tls import Verify, verify_from_env
from ..errors import ColoniesError

__all__ = ["DEFAULT_FS_ROOT", "ExecutorConfigError", "Settings", "default_fs_root"]

DEFAULT_FS_ROOT = "cfs"
"""The ColonyFS root of an executor when none is configured: this directory under its working
directory (see :mod:`pycolonies.executor.fs`)."""


def default_fs_root(environ: Mapping[str, str] | None = None) -> Path:
    """Where an executor stages ColonyFS directories: ``COLONIES_FS_ROOT``, else upstream's
    executors' ``EXECUTOR_FS_DIR``, else ``./cfs``; as an absolute path."""
    env = os.environ if environ is None else environ
    raw = env.get("COLONIES_FS_ROOT") or env.get("EXECUTOR_FS_DIR") or DEFAULT_FS_ROOT
    return Path(raw).expanduser().absolute()


class ExecutorConfigError(ColoniesError):
    """The executor cannot start: a missing or malformed setting."""


@dataclass(frozen=True)
class Settings:
    """Where an executor connects and who it is.

    With ``colony_prvkey`` the executor registers a new identity of its own (and unregisters it on
    exit); otherwise ``prvkey`` must be the key of an executor that is already registered and
    approved (``executorname`` is then looked up when not given). ``verify``: how the server's TLS
    certificate is checked (see :class:`pycolonies.Colonies`).
    """

    colonyname: str
    executortype: str
    host: str = "localhost"
    port: int = 50080
    tls: bool = False
    colony_prvkey: str | None = None
    prvkey: str | None = None
    executorname: str | None = None
    fs_root: str | None = None
    verify: Verify = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, executortype: str = "") -> Settings:
        """Read ``COLONIES_SERVER_HOST`` (localhost), ``COLONIES_SERVER_PORT`` (50080),
        ``COLONIES_SERVER_TLS`` ("true"), ``COLONIES_SKIP_TLS_VERIFY`` ("true") or
        ``COLONIES_CA_CERT`` (a CA bundle), ``COLONIES_COLONY_NAME``, ``COLONIES_COLONY_PRVKEY`` or
        ``COLONIES_PRVKEY`` (+ optional ``COLONIES_EXECUTOR_NAME``) and ``COLONIES_EXECUTOR_TYPE``
        (default ``executortype``), and ``COLONIES_FS_ROOT`` (where ColonyFS directories are staged,
        see :func:`default_fs_root`). Raises ExecutorConfigError naming what is missing or wrong."""
        env = os.environ if environ is None else environ
        try:
            verify = verify_from_env(env)
        except ColoniesError as exc:
            raise ExecutorConfigError(exc.message) from None
        port_text = env.get("COLONIES_SERVER_PORT") or "50080"
        try:
            port = int(port_text)
        except ValueError:
            raise ExecutorConfigError(f"COLONIES_SERVER_PORT is not a number: {port_text!r}") from None
        colonyname = env.get("COLONIES_COLONY_NAME") or ""
        if not colonyname:
            raise ExecutorConfigError("COLONIES_COLONY_NAME is not set")
        colony_prvkey = env.get("COLONIES_COLONY_PRVKEY") or None
        prvkey = env.get("COLONIES_PRVKEY") or None
        if colony_prvkey is None and prvkey is None:
            raise ExecutorConfigError(
                "Set COLONIES_COLONY_PRVKEY (the executor registers itself) or COLONIES_PRVKEY "
                "(the key of an executor that is already registered and approved)"
            )
        executortype = env.get("COLONIES_EXECUTOR_TYPE") or executortype
        if not executortype:
            raise ExecutorConfigError("COLONIES_EXECUTOR_TYPE is not set")
        return cls(
            colonyname=colonyname,
            executortype=executortype,
            host=env.get("COLONIES_SERVER_HOST") or "localhost",
            port=port,
            tls=env.get("COLONIES_SERVER_TLS") == "true",
            colony_prvkey=colony_prvkey,
            # with the colony key, the executor registers a fresh identity: COLONIES_PRVKEY and
            # COLONIES_EXECUTOR_NAME (which `colonies dev` exports for its own dev-executor) are
            # only used without it
            prvkey=None if colony_prvkey else prvkey,
            executorname=None if colony_prvkey else env.get("COLONIES_EXECUTOR_NAME") or None,
            fs_root=env.get("COLONIES_FS_ROOT") or env.get("EXECUTOR_FS_DIR") or None,
            verify=verify,
        )

    def client(self) -> Colonies:
        return Colonies(self.host, self.port, self.tls, verify=self.verify)
