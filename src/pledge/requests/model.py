"""Subject requests as plain data: types, states and their transitions, legal deadlines.

A request moves through these states::

    received ──verify──▶ verified ──plan──▶ planned ──run──▶ running ──▶ completed
        │                  │  │                │                │
        └──────deny────────┴──┼───deny─────────┘                └──▶ failed ──retry──▶ verified
                              └──(restriction, objection, unsubscribe, withdrawal, limit on
                                  sensitive information: applied at once on verification)
                                  ──▶ completed

``completed`` and ``denied`` are final; ``failed`` is final unless the failure was retryable.

Deadlines (the clock starts at receipt, whatever verification takes):

- GDPR Art. 12(3): one calendar month, extendable by up to two further months where
  necessary, with the reasons given to the person within the first month.
- CCPA §1798.130(a)(2), 11 CCR §7021: confirm receipt within 10 business days; respond within
  45 calendar days, extendable once by 45 more (90 in all) with notice within the first 45.

Nothing here does I/O; the service (``service.py``) stores and audits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from pledge.errors import RequestError


class RequestType(StrEnum):
    """The right a person exercises."""

    ACCESS = "access"
    PORTABILITY = "portability"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    LIFT_RESTRICTION = "lift_restriction"
    OBJECTION = "objection"
    UNSUBSCRIBE = "unsubscribe"
    WITHDRAW_CONSENT = "withdraw_consent"
    LIMIT_SENSITIVE = "limit_sensitive"  # CCPA 1798.121


#: Requests whose whole effect is a change of Pledge's own decisions, applied on verification.
IMMEDIATE_TYPES: Final = frozenset(
    {
        RequestType.RESTRICTION,
        RequestType.LIFT_RESTRICTION,
        RequestType.OBJECTION,
        RequestType.UNSUBSCRIBE,
        RequestType.WITHDRAW_CONSENT,
        RequestType.LIMIT_SENSITIVE,
    }
)


class RequestState(StrEnum):
    """Where a request is in its lifecycle."""

    RECEIVED = "received"
    VERIFIED = "verified"
    PLANNED = "planned"
    RUNNING = "running"
    COMPLETED = "completed"
    DENIED = "denied"
    FAILED = "failed"


TRANSITIONS: Final[Mapping[RequestState, frozenset[RequestState]]] = {
    RequestState.RECEIVED: frozenset({RequestState.VERIFIED, RequestState.DENIED}),
    RequestState.VERIFIED: frozenset(
        {
            RequestState.PLANNED,
            RequestState.COMPLETED,
            RequestState.DENIED,
            RequestState.FAILED,
        }
    ),
    RequestState.PLANNED: frozenset(
        {RequestState.RUNNING, RequestState.DENIED, RequestState.FAILED}
    ),
    RequestState.RUNNING: frozenset({RequestState.COMPLETED, RequestState.FAILED}),
    # Only a retryable failure goes anywhere; the service checks the flag.
    RequestState.FAILED: frozenset({RequestState.VERIFIED}),
    RequestState.COMPLETED: frozenset(),
    RequestState.DENIED: frozenset(),
}
"""The allowed transitions: state → the states it may move to."""


def check_transition(
    current: RequestState, target: RequestState, *, retryable: bool = False
) -> None:
    """Refuse a transition the lifecycle does not allow.

    Args:
        current: the request's state.
        target: the state asked for.
        retryable: whether a failed request may be retried.

    Raises:
        RequestError: the transition is not allowed.
    """
    if current is RequestState.FAILED and not retryable:
        raise RequestError("the request failed for good and cannot be retried")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (it is closed)"
        raise RequestError(f"a {current} request cannot become {target}; it may become {allowed}")


def is_open(state: RequestState, *, retryable: bool = False) -> bool:
    """Whether a request still needs work (a retryable failure does)."""
    if state is RequestState.FAILED:
        return retryable
    return state not in (RequestState.COMPLETED, RequestState.DENIED)


# --- calendars ---------------------------------------------------------------------------------


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day ``months`` later, clamped to the month's end (Jan 31 + 1 → Feb 28 or 29).

    Args:
        moment: the start.
        months: how many calendar months to add (may be negative).

    Returns:
        The moment with the same time of day.
    """
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    day = min(moment.day, days_in_month(year, month + 1))
    return moment.replace(year=year, month=month + 1, day=day)


def days_in_month(year: int, month: int) -> int:
    """How many days the month has (February of a leap year has 29)."""
    if month == 12:
        return 31
    return (dt.date(year, month + 1, 1) - dt.date(year, month, 1)).days


def add_business_days(
    moment: dt.datetime, days: int, holidays: Collection[dt.date] = ()
) -> dt.datetime:
    """The moment ``days`` business days later: Monday to Friday, skipping ``holidays``.

    The day of ``moment`` itself does not count, so a request received on a Saturday has
    its first business day on the Monday.

    Args:
        moment: the start.
        days: how many business days (≥ 0).
        holidays: dates that are not business days.

    Returns:
        The moment on the last of those days, with the same time of day.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    current = moment
    counted = 0
    while counted < days:
        current += dt.timedelta(days=1)
        if current.weekday() < 5 and current.date() not in holidays:
            counted += 1
    return current


# --- regimes and their deadlines ----------------------------------------------------------------


class Regime(StrEnum):
    """The law whose deadlines a request follows."""

    GDPR = "gdpr"
    CCPA = "ccpa"

    @property
    def rule(self) -> DeadlineRule:
        """The regime's deadline rule."""
        return DEADLINE_RULES[self]


@dataclass(frozen=True, slots=True)
class DeadlineRule:
    """How long a regime gives to answer, and how far the deadline may be extended.

    Args:
        unit: ``months`` (calendar months) or ``days`` (calendar days).
        period: the time to respond, in ``unit``.
        max_extension: how much the period may be extended in all, in ``unit``.
        single_extension: the law allows extending once only.
        confirm_within_business_days: receipt must be confirmed within this many business
            days, or None when the regime has no such rule.
    """

    unit: str
    period: int
    max_extension: int
    single_extension: bool
    confirm_within_business_days: int | None

    def _add(self, moment: dt.datetime, amount: int) -> dt.datetime:
        if self.unit == "months":
            return add_months(moment, amount)
        return moment + dt.timedelta(days=amount)

    def first_deadline(self, received_at: dt.datetime) -> dt.datetime:
        """The deadline without extension."""
        return self._add(received_at, self.period)

    def deadline(self, received_at: dt.datetime, extension: int = 0) -> dt.datetime:
        """The deadline after extending by ``extension`` (in ``unit``)."""
        return self._add(received_at, self.period + extension)

    def confirm_receipt_by(
        self, received_at: dt.datetime, holidays: Collection[dt.date] = ()
    ) -> dt.datetime | None:
        """When receipt must have been confirmed, or None when the regime does not say."""
        if self.confirm_within_business_days is None:
            return None
        return add_business_days(received_at, self.confirm_within_business_days, holidays)

    def check_extension(
        self,
        *,
        received_at: dt.datetime,
        now: dt.datetime,
        extended_so_far: int,
        by: int,
        reason: str,
    ) -> None:
        """Refuse an extension the law does not allow.

        Args:
            received_at: when the request was received.
            now: the time the extension is recorded.
            extended_so_far: the extension already granted (in ``unit``).
            by: how much more (in ``unit``).
            reason: why; required, it is what the person is told.

        Raises:
            RequestError: no reason, too late, too long, or extended before where the law
                allows one extension only.
        """
        if not reason.strip():
            raise RequestError("an extension needs a reason: it is what the person is told")
        first = self.first_deadline(received_at)
        if now >= first:
            raise RequestError(
                f"the deadline can only be extended before the first deadline"
                f" ({first.isoformat()}); it has passed"
            )
        if self.single_extension and extended_so_far:
            raise RequestError("the deadline was already extended; the law allows it once")
        if by < 1 or extended_so_far + by > self.max_extension:
            left = self.max_extension - extended_so_far
            raise RequestError(
                f"the deadline may be extended by {self.max_extension} {self.unit} in all;"
                f" {left} {self.unit} left, asked for {by}"
            )


DEADLINE_RULES: Final[Mapping[Regime, DeadlineRule]] = {
    # GDPR Art. 12(3): one month, "extended by two further months where necessary".
    Regime.GDPR: DeadlineRule(
        unit="months",
        period=1,
        max_extension=2,
        single_extension=False,
        confirm_within_business_days=None,
    ),
    # CCPA §1798.130(a)(2)(A): 45 days, "extended once by an additional 45 days";
    # 11 CCR §7021(a): confirm receipt within 10 business days.
    Regime.CCPA: DeadlineRule(
        unit="days",
        period=45,
        max_extension=45,
        single_extension=True,
        confirm_within_business_days=10,
    ),
}

#: How long request records are kept (CCPA 11 CCR §7101: at least 24 months).
RETENTION_MONTHS: Final = 24


def retain_until(moment: dt.datetime) -> dt.datetime:
    """Until when a request record is kept when its last step happened at ``moment``."""
    return add_months(moment, RETENTION_MONTHS)


# --- denials -----------------------------------------------------------------------------------


class DenialGround(StrEnum):
    """Why a request is refused (the justification is recorded with it, GDPR Art. 12(5))."""

    IDENTITY_NOT_VERIFIED = "identity_not_verified"
    MANIFESTLY_UNFOUNDED = "manifestly_unfounded"
    EXCESSIVE = "excessive"
    LEGAL_EXCEPTION = "legal_exception"
    OTHER = "other"


def complaint_text(
    regime: Regime, authority_name: str | None = None, authority_url: str | None = None
) -> str:
    """The right to complain that a refusal must state (GDPR Art. 12(4), 77).

    Args:
        regime: the request's regime.
        authority_name: the supervisory authority from the declaration, when declared.
        authority_url: where complaints are lodged there.

    Returns:
        One sentence for the person.
    """
    if regime is Regime.CCPA:
        return (
            "You may file a complaint with the California Privacy Protection Agency"
            " (https://cppa.ca.gov) or the California Attorney General."
        )
    text = "You have the right to lodge a complaint with a supervisory authority"
    if authority_name:
        text += f": {authority_name}"
        if authority_url:
            text += f", {authority_url}"
    return text + " (GDPR Art. 77)."


@dataclass(frozen=True, slots=True)
class Denial:
    """A refusal: its ground, its reason and the right to complain, all told to the person."""

    ground: DenialGround
    reason: str
    complaint: str

    def to_dict(self) -> dict[str, str]:
        """The denial as plain JSON-ready data."""
        return {"ground": str(self.ground), "reason": self.reason, "complaint": self.complaint}


# --- the record --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubjectRequest:
    """A request as Pledge keeps it.

    Args:
        id: the request's id (a ULID).
        subject_id: whose request it is.
        type: the right exercised.
        regime: the law whose deadlines apply.
        state: where it is now.
        received_at: when it was received; every clock starts here.
        first_due_at: the deadline before any extension.
        due_at: the deadline in force.
        extension: how far the deadline was extended, in the regime's unit.
        extension_reason: why (recorded before the first deadline).
        confirm_receipt_by: when receipt must be confirmed (CCPA), else None.
        receipt_confirmed_at: when the person was told the request arrived.
        submitted_by: who submitted it (an actor: ``subject``, ``apikey:…``, ``staff:…``).
        staff: the staff member who submitted it on the person's behalf, if any.
        verification: how the identity was verified: ``code``, ``staff``, or None yet.
        verification_note: the staff's reason for skipping the e-mail code.
        verified_at: when it was verified.
        closed_at: when it was completed, denied or failed.
        denial: the refusal, when denied.
        failure: what went wrong, when failed.
        retryable: whether a failure may be retried.
        retain_until: until when this record is kept (≥ 24 months, CCPA §7101).
        details: what the person asked for, decrypted; None once the subject is erased.
        overdue: open and past its deadline (at the time it was read).
        receipt_overdue: receipt not confirmed by ``confirm_receipt_by``.
        duplicate: returned for a new submission that matched this open request.
    """

    id: str
    subject_id: str
    type: RequestType
    regime: Regime
    state: RequestState
    received_at: dt.datetime
    first_due_at: dt.datetime
    due_at: dt.datetime
    extension: int
    extension_reason: str | None
    confirm_receipt_by: dt.datetime | None
    receipt_confirmed_at: dt.datetime | None
    submitted_by: str
    staff: str | None
    verification: str | None
    verification_note: str | None
    verified_at: dt.datetime | None
    closed_at: dt.datetime | None
    denial: Denial | None
    failure: str | None
    retryable: bool
    retain_until: dt.datetime
    details: Mapping[str, Any] | None = field(default=None)
    overdue: bool = False
    receipt_overdue: bool = False
    duplicate: bool = False

    @property
    def open(self) -> bool:
        """Whether the request still needs work."""
        return is_open(self.state, retryable=self.retryable)

    def to_dict(self) -> dict[str, Any]:
        """The request as plain JSON-ready data."""

        def moment(value: dt.datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id,
            "subject_id": self.subject_id,
            "type": str(self.type),
            "regime": str(self.regime),
            "state": str(self.state),
            "received_at": self.received_at.isoformat(),
            "first_due_at": self.first_due_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "extension": self.extension,
            "extension_unit": self.regime.rule.unit,
            "extension_reason": self.extension_reason,
            "confirm_receipt_by": moment(self.confirm_receipt_by),
            "receipt_confirmed_at": moment(self.receipt_confirmed_at),
            "submitted_by": self.submitted_by,
            "staff": self.staff,
            "verification": self.verification,
            "verification_note": self.verification_note,
            "verified_at": moment(self.verified_at),
            "closed_at": moment(self.closed_at),
            "denial": self.denial.to_dict() if self.denial else None,
            "failure": self.failure,
            "retryable": self.retryable,
            "retain_until": self.retain_until.isoformat(),
            "details": dict(self.details) if self.details is not None else None,
            "overdue": self.overdue,
            "receipt_overdue": self.receipt_overdue,
            "duplicate": self.duplicate,
        }


def is_overdue(state: RequestState, due_at: dt.datetime, now: dt.datetime) -> bool:
    """Whether a request in ``state`` is past ``due_at`` at ``now`` without being answered.

    A failure counts as unanswered: the person still waits.
    """
    return state not in (RequestState.COMPLETED, RequestState.DENIED) and now > due_at


__all__ = [
    "DEADLINE_RULES",
    "IMMEDIATE_TYPES",
    "TRANSITIONS",
    "DeadlineRule",
    "Denial",
    "DenialGround",
    "Regime",
    "RequestState",
    "RequestType",
    "SubjectRequest",
    "add_business_days",
    "add_months",
    "check_transition",
    "complaint_text",
    "days_in_month",
    "is_open",
    "is_overdue",
    "retain_until",
]
