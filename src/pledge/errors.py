"""The one exception tree of Pledge.

Every error Pledge raises on purpose derives from :class:`PledgeError`::

    PledgeError
    ├── DeclarationError     the declaration cannot be loaded (carries every finding)
    └── UsageError           a command was called with arguments that cannot work

Later rooms add their own branches (``ConsentError``, ``RequestError``, ``DatastoreError``);
the web layer maps the tree onto HTTP statuses in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pledge.declaration.findings import Finding


class PledgeError(Exception):
    """Base class of every error Pledge raises on purpose."""


class DeclarationError(PledgeError):
    """A declaration could not be loaded.

    Args:
        findings: every error found, each with its file, line and column.
    """

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = tuple(findings)
        super().__init__("\n".join(str(finding) for finding in self.findings))


class UsageError(PledgeError):
    """A command or function was called with arguments that cannot work."""
