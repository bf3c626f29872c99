"""What a purpose decision reads and what it answers: the subject's state and the decision.

Plain Python, no I/O. :class:`SubjectState` is everything about a person that decisions depend
on, read at one moment; :class:`Decision` is the answer with its reason. The objection scopes
(:data:`ALL_PURPOSES`, :data:`DIRECT_MARKETING`, :data:`LIMIT_SENSITIVE`) are the words the
store keeps for a person's standing directions beside purpose keys.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pledge.declaration.duration import Duration

GRANTED: Final = "granted"
"""The consent decision that lets a consent purpose run (``consent_state.decision``)."""

ALL_PURPOSES: Final = "*"
"""Objection scope: every purpose based on legitimate interests or a public task."""

DIRECT_MARKETING: Final = "direct_marketing"
"""Objection scope: every purpose marked ``direct_marketing`` (absolute, GDPR Art. 21(3))."""

LIMIT_SENSITIVE: Final = "limit_sensitive"
"""Objection scope: the person limited the use of their sensitive personal information to the
uses CCPA 1798.121(a) allows (11 CCR 7027(m))."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to "may this purpose process these categories of this subject now?".

    A decision is truthy when allowed, so ``if pledge.may_process(...):`` reads as it should.

    Args:
        allowed: whether the processing may happen.
        subject_id: whom it is about (a pseudonymous id).
        purpose: the purpose asked about.
        legal_basis: the purpose's declared legal basis, or None when it declares none.
        reason: why, in one plain-language sentence.
        categories: the data categories the decision covers.
        recipient: for a disclosure, who receives the data.
        rule: a short stable code for the rule that decided (``consent_missing`` …).
    """

    allowed: bool
    subject_id: str
    purpose: str
    legal_basis: str | None
    reason: str
    categories: tuple[str, ...]
    recipient: str | None = None
    rule: str = ""

    def __bool__(self) -> bool:
        return self.allowed

    def to_dict(self) -> dict[str, Any]:
        """The decision as plain JSON-ready data.

        Returns:
            A dict with every field; ``categories`` as a list.
        """
        return {
            "allowed": self.allowed,
            "subject_id": self.subject_id,
            "purpose": self.purpose,
            "legal_basis": self.legal_basis,
            "reason": self.reason,
            "categories": list(self.categories),
            "recipient": self.recipient,
            "rule": self.rule,
        }


# A frozen dataclass's __init__ sets each field through object.__setattr__, about twice as slow
# as the slots' own descriptors; the rules make a Decision on every call, so they use these.
(
    _set_allowed,
    _set_subject,
    _set_purpose,
    _set_basis,
    _set_reason,
    _set_categories,
    _set_recipient,
    _set_rule,
) = (getattr(Decision, name).__set__ for name in Decision.__slots__)
_new = object.__new__


def make_decision(
    allowed: bool,
    subject_id: str,
    purpose: str,
    legal_basis: str | None,
    reason: str,
    categories: tuple[str, ...],
    recipient: str | None,
    rule: str,
) -> Decision:
    """``Decision(...)`` with every field given, made faster (the decision hot path).

    Returns:
        A decision equal to the one the constructor makes.
    """
    decision: Decision = _new(Decision)
    _set_allowed(decision, allowed)
    _set_subject(decision, subject_id)
    _set_purpose(decision, purpose)
    _set_basis(decision, legal_basis)
    _set_reason(decision, reason)
    _set_categories(decision, categories)
    _set_recipient(decision, recipient)
    _set_rule(decision, rule)
    return decision


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """A subject's current consent decision about one purpose.

    Args:
        decision: ``granted``, ``withdrawn`` or ``refused``.
        guardian_id: the guardian who decided for a child, if one did.
        decided_at: when the decision was recorded; a grant of unknown age counts as
            expired where the purpose declares a ``consent_max_age``.
    """

    decision: str
    guardian_id: str | None = None
    decided_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class SubjectState:
    """Everything about a subject that decisions depend on, read at one moment.

    Args:
        subject_id: the subject's id.
        consents: purpose → the current consent decision.
        objections: the scopes objected to: purpose keys, ``*``, ``direct_marketing`` or
            ``limit_sensitive``.
        restricted: processing is restricted to storage (GDPR Art. 18).
        erased: the subject was erased.
        consent_age_from: from when the subject may consent alone (GDPR Art. 8); None when
            unknown, which counts as an adult.
        guardian_id: the subject's guardian, if one is recorded.
        sensitive_limited_at: when the standing limit on the use of sensitive personal
            information was recorded (CCPA 1798.121); a grant given after it is the
            person's later consent (1798.121(b)). None when unknown: no grant then counts.
    """

    subject_id: str
    consents: Mapping[str, ConsentRecord] = field(default_factory=dict)
    objections: frozenset[str] = frozenset()
    restricted: bool = False
    erased: bool = False
    consent_age_from: dt.datetime | None = None
    guardian_id: str | None = None
    sensitive_limited_at: dt.datetime | None = None

    def is_child(self, now: dt.datetime) -> bool:
        """Whether the subject is below the age of digital consent at ``now``."""
        return self.consent_age_from is not None and self.consent_age_from > now


def expires_at(decided_at: dt.datetime, max_age: Duration) -> dt.datetime:
    """The moment a grant given at ``decided_at`` expires under ``max_age``.

    Years and months count on the calendar, the day clamped to the month's last (a grant of
    31 January with ``P1M`` expires on the last day of February, at the same time of day);
    weeks, days and smaller units in exact time.

    Args:
        decided_at: when the grant was recorded.
        max_age: the purpose's ``consent_max_age``.

    Returns:
        The first moment at which the grant no longer counts.
    """
    parts = max_age.parts
    months = decided_at.month - 1 + 12 * parts.get("years", 0) + parts.get("months", 0)
    year, month = decided_at.year + months // 12, months % 12 + 1
    day = min(decided_at.day, calendar.monthrange(year, month)[1])
    moved = decided_at.replace(year=year, month=month, day=day)
    return moved + dt.timedelta(
        weeks=parts.get("weeks", 0),
        days=parts.get("days", 0),
        hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0),
        seconds=parts.get("seconds", 0),
    )


__all__ = [
    "ALL_PURPOSES",
    "DIRECT_MARKETING",
    "GRANTED",
    "LIMIT_SENSITIVE",
    "ConsentRecord",
    "Decision",
    "SubjectState",
    "expires_at",
    "make_decision",
]
