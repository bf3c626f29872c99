"""Deadlines of subject requests: calendar months, business days, extensions, overdue."""

from __future__ import annotations

import datetime as dt

import pytest

from pledge.errors import RequestError
from pledge.requests.model import (
    TRANSITIONS,
    Regime,
    RequestState,
    add_business_days,
    add_months,
    check_transition,
    complaint_text,
    is_open,
    is_overdue,
    retain_until,
)

UTC = dt.UTC


def at(year: int, month: int, day: int, hour: int = 12) -> dt.datetime:
    """A UTC moment."""
    return dt.datetime(year, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (at(2025, 1, 15), 1, at(2025, 2, 15)),
        (at(2025, 1, 31), 1, at(2025, 2, 28)),
        (at(2024, 1, 31), 1, at(2024, 2, 29)),
        (at(2025, 3, 31), 1, at(2025, 4, 30)),
        (at(2025, 12, 31), 1, at(2026, 1, 31)),
        (at(2025, 11, 30), 3, at(2026, 2, 28)),
        (at(2024, 2, 29), 12, at(2025, 2, 28)),
        (at(2024, 2, 29), 48, at(2028, 2, 29)),
        (at(2025, 3, 31), -1, at(2025, 2, 28)),
    ],
)
def test_adding_calendar_months_clamps_to_the_end_of_the_month(
    start: dt.datetime, months: int, expected: dt.datetime
) -> None:
    """Jan 31 + 1 month is the last day of February, 29 in a leap year."""
    assert add_months(start, months) == expected


def test_the_gdpr_deadline_is_one_calendar_month_from_receipt() -> None:
    """Received on Jan 31, due on Feb 28 (Feb 29 in a leap year), same time of day."""
    rule = Regime.GDPR.rule
    assert rule.first_deadline(at(2025, 1, 31, 9)) == at(2025, 2, 28, 9)
    assert rule.first_deadline(at(2028, 1, 31, 9)) == at(2028, 2, 29, 9)
    assert rule.deadline(at(2025, 1, 31, 9), 2) == at(2025, 4, 30, 9)


def test_a_gdpr_extension_needs_a_reason_and_comes_before_the_first_deadline() -> None:
    """Up to two further months, only with a reason, only while the first month runs."""
    rule = Regime.GDPR.rule
    received = at(2025, 1, 10)
    rule.check_extension(
        received_at=received, now=at(2025, 2, 9), extended_so_far=0, by=2, reason="complex"
    )
    rule.check_extension(
        received_at=received, now=at(2025, 2, 9), extended_so_far=1, by=1, reason="still"
    )
    with pytest.raises(RequestError, match="reason"):
        rule.check_extension(
            received_at=received, now=at(2025, 1, 20), extended_so_far=0, by=2, reason="  "
        )
    with pytest.raises(RequestError, match="before the first deadline"):
        rule.check_extension(
            received_at=received, now=at(2025, 2, 10), extended_so_far=0, by=2, reason="late"
        )
    with pytest.raises(RequestError, match="2 months in all"):
        rule.check_extension(
            received_at=received, now=at(2025, 1, 20), extended_so_far=1, by=2, reason="more"
        )


def test_ccpa_gives_45_days_extendable_once_to_90() -> None:
    """45 calendar days, one extension of 45 more, with notice within the first 45."""
    rule = Regime.CCPA.rule
    received = at(2025, 1, 1)
    assert rule.first_deadline(received) == at(2025, 2, 15)
    assert rule.deadline(received, 45) == received + dt.timedelta(days=90)
    rule.check_extension(
        received_at=received, now=at(2025, 2, 14), extended_so_far=0, by=45, reason="volume"
    )
    with pytest.raises(RequestError, match="once"):
        rule.check_extension(
            received_at=received, now=at(2025, 1, 20), extended_so_far=10, by=10, reason="x"
        )
    with pytest.raises(RequestError, match="45 days in all"):
        rule.check_extension(
            received_at=received, now=at(2025, 1, 20), extended_so_far=0, by=46, reason="x"
        )
    with pytest.raises(RequestError, match="before the first deadline"):
        rule.check_extension(
            received_at=received, now=at(2025, 2, 15), extended_so_far=0, by=45, reason="x"
        )


def test_ccpa_receipt_is_confirmed_within_10_business_days() -> None:
    """Weekends and listed holidays do not count; the day of receipt does not either."""
    friday = at(2025, 1, 3)
    assert Regime.CCPA.rule.confirm_receipt_by(friday) == at(2025, 1, 17)
    saturday = at(2025, 1, 4)
    assert Regime.CCPA.rule.confirm_receipt_by(saturday) == at(2025, 1, 17)
    holidays = {dt.date(2025, 1, 20)}  # Martin Luther King Jr. Day
    assert add_business_days(at(2025, 1, 10), 10, holidays) == at(2025, 1, 27)
    assert Regime.GDPR.rule.confirm_receipt_by(friday) is None


def test_a_request_is_overdue_only_while_unanswered_past_its_deadline() -> None:
    """Completed and denied requests are never overdue; a failed one still is."""
    due = at(2025, 2, 1)
    assert not is_overdue(RequestState.RECEIVED, due, due)
    assert is_overdue(RequestState.RECEIVED, due, due + dt.timedelta(seconds=1))
    assert is_overdue(RequestState.FAILED, due, at(2025, 3, 1))
    assert not is_overdue(RequestState.COMPLETED, due, at(2025, 3, 1))
    assert not is_overdue(RequestState.DENIED, due, at(2025, 3, 1))


def test_the_lifecycle_allows_only_its_transitions() -> None:
    """received → verified → planned → running → completed; closed states stay closed."""
    check_transition(RequestState.RECEIVED, RequestState.VERIFIED)
    check_transition(RequestState.RUNNING, RequestState.COMPLETED)
    check_transition(RequestState.FAILED, RequestState.VERIFIED, retryable=True)
    with pytest.raises(RequestError, match="cannot become"):
        check_transition(RequestState.RECEIVED, RequestState.COMPLETED)
    with pytest.raises(RequestError, match="for good"):
        check_transition(RequestState.FAILED, RequestState.VERIFIED)
    assert not TRANSITIONS[RequestState.COMPLETED] and not TRANSITIONS[RequestState.DENIED]
    assert is_open(RequestState.FAILED, retryable=True)
    assert not is_open(RequestState.FAILED) and not is_open(RequestState.DENIED)


def test_request_records_are_kept_24_months() -> None:
    """CCPA 11 CCR §7101."""
    assert retain_until(at(2024, 2, 29)) == at(2026, 2, 28)


def test_a_denial_names_the_supervisory_authority_when_declared() -> None:
    """GDPR Art. 12(4): the right to complain, with the authority of the declaration."""
    named = complaint_text(Regime.GDPR, "Berliner Beauftragte", "https://datenschutz-berlin.de")
    assert ": Berliner Beauftragte, https://datenschutz-berlin.de (GDPR Art. 77)." in named
    assert "supervisory authority" in complaint_text(Regime.GDPR)
    assert "California" in complaint_text(Regime.CCPA)
