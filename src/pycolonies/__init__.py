"""pycolonies: ColonyOS in Python. The SDK's public API, a drop-in for upstream pycolonies 1.0.25
(``from pycolonies import Colonies, func_spec, Workflow``), plus ``AsyncColonies``."""

from __future__ import annotations

from .client import AsyncColonies, AsyncSubscription, Colonies, Subscription, colonies_client
from .crypto import Crypto
from .errors import (
    AccessDeniedError,
    BadRequestError,
    ColoniesConnectionError,
    ColoniesError,
    ConflictError,
    NotFoundError,
    ServerError,
    SubscriptionTimeoutError,
    TransportError,
)
from .fs import ColonyFS
from .models import (
    Attribute,
    Colony,
    Conditions,
    Executor,
    File,
    Fs,
    FuncSpec,
    Gpu,
    Location,
    Process,
    ProcessGraph,
    Reference,
    S3Object,
    User,
    Workflow,
)
from .specs import func_spec

__version__ = "0.1.0"

__all__ = [
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
]
