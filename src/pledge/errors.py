"""The one exception tree of Pledge.

Every error Pledge raises on purpose derives from :class:`PledgeError`::

    PledgeError
    ├── DeclarationError     the declaration cannot be loaded (carries every finding)
    ├── SourceError          the YAML itself is unusable (a syntax error, a forbidden construct)
    ├── UsageError           a command was called with arguments that cannot work
    │   ├── InvalidIdentity  not an e-mail address, not a phone number…
    │   └── DurationError    not an ISO 8601 duration (or a vague phrase)
    ├── ConfigError          the settings are unsafe or unusable (a missing secret key)
    ├── NotFound             a subject, purpose or recipient that does not exist
    ├── ConsentError         consent asked for a purpose that does not take it
    ├── ProcessingDenied     a purpose may not run for this subject now (carries the decision)
    ├── RequestError         a subject request step the lifecycle or the law does not allow
    ├── AuthError            a missing, wrong or insufficient API key
    ├── StoreUnavailable     Pledge's own database cannot be reached; nothing was written
    ├── KeyDestroyed         the subject was erased: what was encrypted for them is gone
    └── DatastoreError       a company datastore cannot be used: unreachable, a secret unset
        ├── SchemaDrift      a declared table or column is gone from the database
        └── PlanRefused      the declared plan cannot succeed (ambiguous, unreached, blocked)

The web layer maps the tree onto HTTP statuses in one place (``web/api/problems.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

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


class SourceError(PledgeError):
    """The YAML itself is unusable: a syntax error or a construct the declaration forbids.

    Args:
        code: the finding's code (``E101``…).
        message: what is wrong.
        position: where (a :class:`pledge.declaration.source.Position`).
    """

    def __init__(self, code: str, message: str, position: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.position = position


class UsageError(PledgeError):
    """A command or function was called with arguments that cannot work."""


class InvalidIdentity(UsageError, ValueError):
    """An identifier that cannot be normalised: not an e-mail address, not a phone number…"""


class DurationError(UsageError, ValueError):
    """A text that is not an ISO 8601 duration; ``vague`` when it is a phrase, not a period."""

    def __init__(self, message: str, *, vague: bool = False) -> None:
        super().__init__(message)
        self.vague = vague


class ConfigError(PledgeError):
    """The settings are unsafe or unusable."""


class NotFound(PledgeError):
    """Something asked for does not exist: a subject, a purpose, a recipient."""


class ConsentError(PledgeError):
    """Consent was asked for a purpose that does not rely on it, or is otherwise invalid."""


class ProcessingDenied(PledgeError):
    """A purpose may not process this subject's data now.

    Args:
        decision: the decision that denied it, with its reason.
    """

    def __init__(self, decision: object) -> None:
        self.decision = decision
        super().__init__(str(getattr(decision, "reason", decision)))


class RequestError(PledgeError):
    """A subject request step that cannot happen: a wrong or expired verification code, a
    transition the lifecycle does not allow, an extension without a reason or too late."""


class AuthError(PledgeError):
    """A missing, unknown or revoked API key, or one without the scope needed."""

    def __init__(self, message: str, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.forbidden = forbidden


class StoreUnavailable(PledgeError):
    """Pledge's own database cannot be reached; nothing was written."""


class KeyDestroyed(PledgeError):
    """The subject's data key is gone (the subject was erased) or the data was tampered with."""


class DatastoreError(PledgeError):
    """A company datastore cannot be used, or refused what was asked of it.

    Its message names datastores, tables, columns and constraints, never a value of a row.

    Args:
        message: what went wrong.
        transient: a retry may succeed (the connection was lost, a lock timed out); otherwise
            retrying changes nothing until someone acts.
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class SchemaDrift(DatastoreError):
    """A company datastore no longer has a table or column the declaration names: nothing is
    carried out there until the declaration and the database agree again."""


class PlanRefused(DatastoreError):
    """A request's plan cannot be carried out as declared (ownership left ambiguous, personal
    data no request reaches, constraints that would stop it): nothing was changed.

    Args:
        datastore: the datastore's name.
        problems: each problem, with its suggested fix.
    """

    def __init__(self, datastore: str, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        listed = "; ".join(self.problems)
        super().__init__(
            f"datastore '{datastore}' cannot carry requests out as declared"
            f" ('pledge datastores check' says how to fix it): {listed}"
        )
