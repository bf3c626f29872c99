"""ISO 8601 durations and retention rules.

A retention is a duration, optionally anchored to an event: ``P2Y`` (two years after
collection) or ``P30D after account_closed``. Vague phrases such as "as long as necessary"
are refused with the reason: GDPR Art. 13(2)(a) asks for the period, or the criteria that fix it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from pledge.errors import DurationError as DurationError  # its home was here

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_UNITS = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")
_DAYS_PER_UNIT = {
    "years": 365.25,
    "months": 30.4375,
    "weeks": 7.0,
    "days": 1.0,
    "hours": 1 / 24,
    "minutes": 1 / 1440,
    "seconds": 1 / 86400,
}
_VAGUE = re.compile(
    r"necessary|needed|required|as long as|indefinite|forever|until no longer|reasonable", re.I
)


@dataclass(frozen=True, slots=True)
class Duration:
    """An ISO 8601 duration such as ``P1Y6M`` or ``PT72H``, kept as written."""

    text: str

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse ``text``, raising :class:`DurationError` with a plain-language reason."""
        cleaned = text.strip().upper()
        if _DURATION.match(cleaned) is None:
            if _VAGUE.search(text):
                raise DurationError(
                    f"'{text}' is not a retention period: say how long, as an ISO 8601 duration"
                    " such as P2Y, optionally after an event (P30D after account_closed);"
                    " GDPR Art. 13(2)(a) and CCPA 1798.100(a)(3) require the period or the"
                    " criteria that fix it",
                    vague=True,
                )
            raise DurationError(
                f"'{text}' is not an ISO 8601 duration; write for example P30D, P6M, P2Y or PT72H"
            )
        return cls(cleaned)

    @property
    def parts(self) -> dict[str, int]:
        """The non-zero components, e.g. ``{"years": 1, "months": 6}``."""
        return dict(_parts(self.text))

    @property
    def days(self) -> float:
        """Approximate length in days (a year is 365.25 days, a month 30.44), for comparisons."""
        return sum(_DAYS_PER_UNIT[unit] * count for unit, count in self.parts.items())

    def describe(self) -> str:
        """Plain English: ``P1Y6M`` → "1 year and 6 months"; ``P0D`` → "no time"."""
        words = []
        for unit in _UNITS:
            count = self.parts.get(unit, 0)
            if count:
                name = unit if count != 1 else unit[:-1]
                words.append(f"{count} {name}")
        if not words:
            return "no time"
        return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]

    def __str__(self) -> str:
        return self.text


@lru_cache(maxsize=1024)
def _parts(text: str) -> tuple[tuple[str, int], ...]:
    found = _DURATION.match(text)
    assert found is not None  # guaranteed by Duration.parse()
    return tuple(
        (unit, int(value)) for unit, value in found.groupdict().items() if value and int(value)
    )


class RetentionEvent(StrEnum):
    """The events a retention period can count from."""

    COLLECTION = "collection"
    LAST_ACTIVITY = "last_activity"
    ACCOUNT_CLOSED = "account_closed"
    CONTRACT_END = "contract_end"
    SUBSCRIPTION_END = "subscription_end"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    SESSION_END = "session_end"
    REQUEST_CLOSED = "request_closed"
    TRANSACTION = "transaction"
    FISCAL_YEAR_END = "fiscal_year_end"


EVENT_PHRASES: dict[RetentionEvent, str] = {
    RetentionEvent.COLLECTION: "after it is collected",
    RetentionEvent.LAST_ACTIVITY: "after your last activity",
    RetentionEvent.ACCOUNT_CLOSED: "after your account is closed",
    RetentionEvent.CONTRACT_END: "after our contract with you ends",
    RetentionEvent.SUBSCRIPTION_END: "after your subscription ends",
    RetentionEvent.CONSENT_WITHDRAWN: "after you withdraw your consent",
    RetentionEvent.SESSION_END: "after your session ends",
    RetentionEvent.REQUEST_CLOSED: "after your request is closed",
    RetentionEvent.TRANSACTION: "after the transaction",
    RetentionEvent.FISCAL_YEAR_END: "after the end of the financial year",
}

_RETENTION = re.compile(r"^\s*(?P<period>\S+)(?:\s+after\s+(?P<event>\S+))?\s*$", re.I)


def split_retention(text: str) -> tuple[str, str | None]:
    """Split the short form ``"P30D after account_closed"`` into period and event."""
    found = _RETENTION.match(text)
    if found is None:
        if _VAGUE.search(text):
            Duration.parse(text)  # raises the explanation of why vague periods are refused
        raise DurationError(
            f"'{text}' is not a retention; write a duration such as P2Y,"
            " optionally followed by 'after EVENT' (P30D after account_closed)"
        )
    return found["period"], found["event"]
