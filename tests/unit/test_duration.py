"""ISO 8601 durations and the short form of retention rules."""

from __future__ import annotations

import pytest

from pledge.declaration.duration import (
    EVENT_PHRASES,
    Duration,
    DurationError,
    RetentionEvent,
    split_retention,
)

NOT_A_DURATION = "is not an ISO 8601 duration; write for example P30D, P6M, P2Y or PT72H"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        pytest.param("P30D", "P30D", id="thirty days"),
        pytest.param("P2Y", "P2Y", id="two years"),
        pytest.param("P6M", "P6M", id="six months"),
        pytest.param("P1W", "P1W", id="one week"),
        pytest.param("PT72H", "PT72H", id="seventy-two hours"),
        pytest.param("PT30M", "PT30M", id="thirty minutes after the T are minutes"),
        pytest.param("P1Y6M", "P1Y6M", id="years and months together"),
        pytest.param("P1Y2M3W4DT5H6M7S", "P1Y2M3W4DT5H6M7S", id="every unit in order"),
        pytest.param("P0D", "P0D", id="zero days"),
        pytest.param("p30d", "P30D", id="lowercase is read as uppercase"),
        pytest.param("  P2Y ", "P2Y", id="surrounding blanks are ignored"),
    ],
)
def test_valid_durations_are_kept_in_canonical_form(text: str, kept: str) -> None:
    """A valid duration parses and keeps its text, uppercased and stripped."""
    assert str(Duration.parse(text)) == kept


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="nothing"),
        pytest.param("P", id="a P without any unit"),
        pytest.param("PT", id="a T without any time unit"),
        pytest.param("P1YT", id="a trailing T"),
        pytest.param("30D", id="no leading P"),
        pytest.param("30 days", id="words"),
        pytest.param("P1.5Y", id="a fraction"),
        pytest.param("-P1D", id="a negative duration"),
        pytest.param("P1D1Y", id="units out of order"),
        pytest.param("P1H", id="hours without the T"),
        pytest.param("PT1D", id="days after the T"),
        pytest.param("P 1D", id="a blank inside"),
        pytest.param("P30D after account_closed", id="a retention where only a period fits"),
    ],
)
def test_invalid_durations_are_refused_with_an_example(text: str) -> None:
    """Anything but an ISO 8601 duration is refused, and the message shows valid ones."""
    with pytest.raises(DurationError) as raised:
        Duration.parse(text)
    assert str(raised.value) == f"'{text}' {NOT_A_DURATION}"
    assert not raised.value.vague


@pytest.mark.parametrize(
    "text",
    [
        "as long as necessary",
        "until no longer needed",
        "as required by law",
        "indefinitely",
        "forever",
        "for a reasonable time",
    ],
)
def test_vague_phrases_are_refused_with_the_law_that_asks_for_a_period(text: str) -> None:
    """A phrase instead of a period is flagged as vague, citing GDPR and CCPA."""
    with pytest.raises(DurationError) as raised:
        Duration.parse(text)
    assert raised.value.vague
    assert str(raised.value) == (
        f"'{text}' is not a retention period: say how long, as an ISO 8601 duration such as"
        " P2Y, optionally after an event (P30D after account_closed); GDPR Art. 13(2)(a) and"
        " CCPA 1798.100(a)(3) require the period or the criteria that fix it"
    )


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("P30D", 30),
        ("P1W", 7),
        ("P2W3D", 17),
        ("P1Y", 365.25),
        ("P1M", 30.4375),
        ("P1Y6M", 547.875),
        ("PT72H", 3),
        ("PT36H", 1.5),
        ("PT1440M", 1),
        ("PT86400S", 1),
        ("P0D", 0),
    ],
)
def test_days_approximates_the_length(text: str, days: float) -> None:
    """``days`` counts a year as 365.25 days and a month as 30.4375, for comparisons."""
    assert Duration.parse(text).days == pytest.approx(days)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("P1D", "1 day"),
        ("P30D", "30 days"),
        ("P1M", "1 month"),
        ("PT1M", "1 minute"),
        ("P1Y6M", "1 year and 6 months"),
        ("P1Y2M3D", "1 year, 2 months and 3 days"),
        ("P2W", "2 weeks"),
        ("PT72H", "72 hours"),
        ("P1DT1H1M1S", "1 day, 1 hour, 1 minute and 1 second"),
        ("P0D", "no time"),
        ("P0Y6M", "6 months"),
    ],
)
def test_describe_says_the_duration_in_plain_english(text: str, words: str) -> None:
    """``describe()`` names each non-zero unit, singular or plural, joined with "and"."""
    assert Duration.parse(text).describe() == words


def test_parts_are_the_non_zero_components() -> None:
    """``parts`` maps each unit written with a non-zero count to that count."""
    assert Duration.parse("P1Y0M6DT12H").parts == {"years": 1, "days": 6, "hours": 12}
    assert Duration.parse("P0D").parts == {}


def test_durations_are_equal_when_written_alike() -> None:
    """Durations are values: equal and hashable by their canonical text."""
    assert Duration.parse("p30d") == Duration.parse("P30D")
    assert len({Duration.parse("P1Y"), Duration.parse("p1y"), Duration.parse("P12M")}) == 2


def test_durations_do_not_order_by_their_text() -> None:
    """Ordering by text would put P30D after P2Y, so lengths are compared through ``days``."""
    thirty_days, two_years = Duration.parse("P30D"), Duration.parse("P2Y")
    with pytest.raises(TypeError):
        assert thirty_days < two_years
    assert thirty_days.days < two_years.days


@pytest.mark.parametrize(
    ("text", "period", "event"),
    [
        pytest.param("P2Y", "P2Y", None, id="a bare period counts from collection"),
        pytest.param(
            "P30D after account_closed", "P30D", "account_closed", id="a period after an event"
        ),
        pytest.param(
            "P7Y after fiscal_year_end", "P7Y", "fiscal_year_end", id="seven years after a year end"
        ),
        pytest.param(
            "  P1M   after   session_end ", "P1M", "session_end", id="blanks are not significant"
        ),
        pytest.param("P30D AFTER last_activity", "P30D", "last_activity", id="AFTER in capitals"),
    ],
)
def test_short_retention_splits_into_period_and_event(
    text: str, period: str, event: str | None
) -> None:
    """``"P30D after account_closed"`` is a period and the event it counts from."""
    assert split_retention(text) == (period, event)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="nothing"),
        pytest.param("P30D after", id="after without an event"),
        pytest.param("P30D before account_closed", id="before instead of after"),
        pytest.param("P30D after account closed", id="an event of two words"),
        pytest.param("P30D or P1Y", id="two periods"),
    ],
)
def test_malformed_short_retentions_are_refused_with_the_form_to_use(text: str) -> None:
    """A retention that is not ``PERIOD [after EVENT]`` is refused, showing the form."""
    with pytest.raises(DurationError) as raised:
        split_retention(text)
    assert str(raised.value) == (
        f"'{text}' is not a retention; write a duration such as P2Y, optionally followed by"
        " 'after EVENT' (P30D after account_closed)"
    )
    assert not raised.value.vague


def test_vague_retentions_are_refused_as_vague() -> None:
    """A vague phrase given as a retention gets the explanation of why it is refused."""
    with pytest.raises(DurationError) as raised:
        split_retention("until no longer needed")
    assert raised.value.vague


def test_split_retention_leaves_the_period_and_event_to_be_checked_later() -> None:
    """Splitting only separates the parts; the schema checks period and event on their own."""
    assert split_retention("necessary") == ("necessary", None)
    assert split_retention("P30D after closing") == ("P30D", "closing")


def test_every_retention_event_has_a_phrase_for_the_policy() -> None:
    """The rendered policy can say when each period starts ("after your account is closed")."""
    assert set(EVENT_PHRASES) == set(RetentionEvent)
    assert all(phrase.startswith("after ") for phrase in EVENT_PHRASES.values())
