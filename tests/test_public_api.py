"""The public API is exactly what __all__ says (a drop-in SDK must not lose or leak names)."""

from __future__ import annotations

import pycolonies

EXPECTED = {
    "AccessDeniedError",
    "AsyncColonies",
    "AsyncSubscription",
    "Attribute",
    "BadRequestError",
    "Colonies",
    "ColoniesConnectionError",
    "ColoniesError",
    "Colony",
    "ColonyFS",
    "Conditions",
    "ConflictError",
    "Crypto",
    "Executor",
    "File",
    "Fs",
    "FuncSpec",
    "Gpu",
    "Location",
    "NotFoundError",
    "Process",
    "ProcessGraph",
    "Reference",
    "S3Object",
    "ServerError",
    "Subscription",
    "SubscriptionTimeoutError",
    "TransportError",
    "User",
    "Workflow",
    "__version__",
    "colonies_client",
    "func_spec",
}


def test_all_is_exactly_the_public_api() -> None:
    assert set(pycolonies.__all__) == EXPECTED
    assert len(pycolonies.__all__) == len(EXPECTED)


def test_every_exported_name_exists() -> None:
    for name in pycolonies.__all__:
        assert hasattr(pycolonies, name), name


def test_public_classes_and_functions_are_not_private_modules() -> None:
    for name in pycolonies.__all__:
        member = getattr(pycolonies, name)
        module = getattr(member, "__module__", "pycolonies")
        assert module.startswith("pycolonies"), (name, module)


def test_version() -> None:
    assert pycolonies.__version__ == "0.1.0"


def test_upstream_style_imports() -> None:
    from crypto import Crypto
    from model import Conditions, File, FuncSpec, Process, ProcessGraph, Reference, S3Object, Workflow
    from pycolonies import ColoniesConnectionError, ColoniesError, colonies_client, func_spec

    assert Crypto is pycolonies.Crypto
    assert (FuncSpec, Conditions, Process, ProcessGraph, Workflow) == (
        pycolonies.FuncSpec,
        pycolonies.Conditions,
        pycolonies.Process,
        pycolonies.ProcessGraph,
        pycolonies.Workflow,
    )
    assert (File, Reference, S3Object) == (pycolonies.File, pycolonies.Reference, pycolonies.S3Object)
    assert issubclass(ColoniesConnectionError, ColoniesError)
    assert callable(func_spec) and callable(colonies_client)


def test_error_hierarchy() -> None:
    for name in ("TransportError", "ServerError", "SubscriptionTimeoutError"):
        assert issubclass(getattr(pycolonies, name), pycolonies.ColoniesConnectionError)
    for name in ("BadRequestError", "AccessDeniedError", "NotFoundError", "ConflictError"):
        assert issubclass(getattr(pycolonies, name), pycolonies.ServerError)
