"""Pledge: privacy policies as code.

Declare once, in ``pledge.yaml``, what personal data you collect, why, on what legal basis,
for how long, and who receives it; Pledge renders the policy, enforces it and proves it.

The SDK is :class:`Pledge` (``Pledge.open("pledge.yaml", "sqlite:///pledge.db")``); its
answers are :class:`Decision` objects, and :class:`ProcessingDenied` is raised where a
purpose may not run. Every error Pledge raises on purpose derives from :class:`PledgeError`
(the tree is drawn in :mod:`pledge.errors`), and each is exported here.
"""

from typing import TYPE_CHECKING, Any

from pledge.declaration import Declaration, Finding, Severity, load, loads
from pledge.enforcement.model import Decision
from pledge.errors import (
    AuthError,
    ConfigError,
    ConsentError,
    DatastoreError,
    DeclarationError,
    DurationError,
    InvalidIdentity,
    KeyDestroyed,
    NotFound,
    PlanRefused,
    PledgeError,
    ProcessingDenied,
    RequestError,
    SchemaDrift,
    SourceError,
    StoreUnavailable,
    UsageError,
)

if TYPE_CHECKING:
    from pledge.sdk import Pledge

__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "ConfigError",
    "ConsentError",
    "DatastoreError",
    "Decision",
    "Declaration",
    "DeclarationError",
    "DurationError",
    "Finding",
    "InvalidIdentity",
    "KeyDestroyed",
    "NotFound",
    "PlanRefused",
    "Pledge",
    "PledgeError",
    "ProcessingDenied",
    "RequestError",
    "SchemaDrift",
    "Severity",
    "SourceError",
    "StoreUnavailable",
    "UsageError",
    "__version__",
    "load",
    "loads",
]


def __getattr__(name: str) -> Any:
    # The SDK pulls in the database and cryptography layers; the CLI's declaration commands
    # need neither, so it is imported on first use.
    if name == "Pledge":
        from pledge.sdk import Pledge

        return Pledge
    raise AttributeError(f"module 'pledge' has no attribute {name!r}")
