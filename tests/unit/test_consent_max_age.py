"""How long consent lasts: ``consent_max_age`` in the declaration, and when a grant expires."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.conftest import CLEAN_DECLARATION, revise

from pledge.declaration import Declaration, loads
from pledge.declaration.duration import Duration
from pledge.enforcement.model import ConsentRecord, SubjectState, expires_at, rules_for
from pledge.errors import DeclarationError

UTC = dt.UTC


def with_max_age(basis: str, max_age: str) -> str:
    """The clean declaration plus a purpose ``tips`` on ``basis`` with ``max_age``."""
    return revise(
        CLEAN_DECLARATION,
        (
            "purposes:\n",
            "purposes:\n"
            "  tips:\n"
            f"    legal_basis: {basis}\n"
            "    legitimate_interest: Helping customers use what they bought.\n"
            "    categories: [contact.email]\n"
            "    retention: P1Y\n"
            f"    consent_max_age: {max_age}\n",
        ),
    )


def test_a_consent_purpose_declares_how_long_a_grant_lasts() -> None:
    """consent_max_age is an ISO 8601 duration, kept as written."""
    declaration = loads(with_max_age("consent", "P13M"))
    assert declaration.purposes["tips"].consent_max_age == Duration("P13M")
    assert declaration.purposes["newsletter"].consent_max_age is None  # optional


@pytest.mark.parametrize(
    ("basis", "max_age", "message"),
    [
        ("legitimate_interests", "P1Y", "consent_max_age applies to purposes based on consent"),
        ("consent", "P0D", "must be longer than no time"),
        ("consent", "'forever'", "is not a retention period"),
        ("consent", "12", "has no unit"),
    ],
)
def test_a_max_age_that_cannot_apply_is_a_declaration_error(
    basis: str, max_age: str, message: str
) -> None:
    """Only consent expires, after some time that is written as a duration."""
    with pytest.raises(DeclarationError, match=message):
        loads(with_max_age(basis, max_age))


@pytest.mark.parametrize(
    ("granted", "max_age", "expires"),
    [
        ("2026-03-15T08:00", "P1Y", "2027-03-15T08:00"),
        ("2026-01-31T08:00", "P1M", "2026-02-28T08:00"),
        ("2028-02-29T08:00", "P1Y", "2029-02-28T08:00"),
        ("2026-11-30T08:00", "P3M", "2027-02-28T08:00"),
        ("2026-12-01T08:00", "P1Y6M", "2028-06-01T08:00"),
        ("2026-03-01T23:00", "P2W", "2026-03-15T23:00"),
        ("2026-03-01T23:00", "PT72H", "2026-03-04T23:00"),
        ("2026-03-01T23:00", "P1DT2H", "2026-03-03T01:00"),
    ],
)
def test_years_and_months_count_on_the_calendar(granted: str, max_age: str, expires: str) -> None:
    """A month after 31 January is the last day of February; days and hours are exact."""
    start = dt.datetime.fromisoformat(granted).replace(tzinfo=UTC)
    end = dt.datetime.fromisoformat(expires).replace(tzinfo=UTC)
    assert expires_at(start, Duration.parse(max_age)) == end


@pytest.fixture
def declaration() -> Declaration:
    """The clean declaration with ``tips``, whose consent lasts three months."""
    return loads(with_max_age("consent", "P3M"))


def test_the_next_expiry_is_the_first_grant_to_expire_after_now(
    declaration: Declaration,
) -> None:
    """Decisions may be cached until then: grants without a maximum age never expire."""
    now = dt.datetime(2026, 6, 1, tzinfo=UTC)
    rules = rules_for(declaration)
    fresh = SubjectState(
        "01SUBJECT00000000000000000",
        {
            "tips": ConsentRecord("granted", None, dt.datetime(2026, 5, 1, tzinfo=UTC)),
            "newsletter": ConsentRecord("granted", None, dt.datetime(2020, 1, 1, tzinfo=UTC)),
        },
    )
    assert rules.next_expiry(fresh, now) == dt.datetime(2026, 8, 1, tzinfo=UTC)
    expired = SubjectState(
        "01SUBJECT00000000000000000",
        {"tips": ConsentRecord("granted", None, dt.datetime(2026, 1, 1, tzinfo=UTC))},
    )
    assert rules.next_expiry(expired, now) is None  # already expired: nothing to wait for
    withdrawn = SubjectState(
        "01SUBJECT00000000000000000",
        {"tips": ConsentRecord("withdrawn", None, dt.datetime(2026, 5, 1, tzinfo=UTC))},
    )
    assert rules.next_expiry(withdrawn, now) is None
