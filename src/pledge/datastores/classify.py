"""The per-column verdict: is this column personal data, which category, how sure.

Plain Python, no I/O: :mod:`pledge.datastores.scan` feeds a sample of each column to
:func:`classify_column`. The verdict is per column, never per value: the share of non-null
values the detectors of :mod:`pledge.datastores.detectors` match, combined with the evidence of
the column's name (:mod:`pledge.datastores.names`). A Luhn-valid order number is not a payment
card, one sentence among a thousand is not an e-mail column, and a column named
``product_code`` is not a phone column however much its values look like numbers.

What a name says stands on its own, with three exceptions. The name of an integer key
(a primary or foreign key, or an integer column named like one: ``address_id``, ``CityId``)
says what the key points to, not what the column holds; values that cannot be what the name
says (a column ``EmailPromotion`` of 0, 1 and 2, an ``email_verified_at`` of dates) overrule
it; and a date is a birth date only under a name that says birth. Dates under a name that
says nothing may be birth dates when they look like a population's (ages 13 to 100 over two
decades or more, no time of day), never under one that names an event (``hire_date``,
``last_update``).

Confidence is 0..1. At :data:`REPORT_AT` or above a column is reported as personal; between
:data:`POSSIBLE_AT` and :data:`REPORT_AT` it *may* hold personal data (free text without
contact details, dates that could be birth dates): worth a look, not a finding.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from pledge.datastores.detectors import (
    ADULT_AGE,
    CARD_SHAPE,
    IBAN_SHAPE,
    PHONE_SHAPE,
    as_date,
    contains_contact,
    has_time_of_day,
    is_birth_date,
    is_email,
    is_free_text,
    is_iban,
    is_ip_address,
    is_payment_card,
    is_phone,
    national_id,
)
from pledge.datastores.names import NameEvidence, is_key_name, name_evidence

REPORT_AT = 0.5
"""The confidence from which a column is reported as personal."""
POSSIBLE_AT = 0.2
"""The confidence from which a column is listed as possibly personal."""
VALIDATE_AT_MOST = 200
"""Candidates per detector and column put through the (slow) full validators.

Each full check (``phonenumbers``, ``email-validator``, ``stdnum``) costs 30–50 µs; the share of
valid values among 200 candidates estimates the column's share within a few percent, and the
cheap shape test still runs on every value, so sparse data is not missed.
"""
OLDEST_AGE = 100
"""Dates without a name that says birth are birth-like only if people of these ages exist."""

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_TEXT_ONLY = frozenset({"contact.email", "identity.name", "device.browser", "account.username"})
"""Categories whose values are never plain numbers (a phone or a postcode may be stored as one)."""


@dataclass(frozen=True)
class Verdict:
    """What a column holds, decided from its name and a sample of its values.

    Args:
        category: the taxonomy key (``contact.email``).
        confidence: 0..1; reported as personal from :data:`REPORT_AT`.
        reasons: the evidence, in words.
        sampled: non-null values looked at.
        matched: how many of them (estimated, see :data:`VALIDATE_AT_MOST`) matched.
    """

    category: str
    confidence: float
    reasons: tuple[str, ...]
    sampled: int
    matched: int

    @property
    def personal(self) -> bool:
        """Whether the column is reported as holding personal data."""
        return self.confidence >= REPORT_AT


@dataclass(frozen=True)
class _ValueRule:
    category: str
    shape: Callable[[str], bool]
    check: Callable[[str], bool]
    threshold: float  # share of values needed without a name that says so
    what: str


def _value_rules(region: str) -> tuple[_ValueRule, ...]:
    return (
        _ValueRule("contact.email", lambda v: "@" in v, is_email, 0.02, "e-mail addresses"),
        _ValueRule(
            "financial.payment_card",
            lambda v: bool(CARD_SHAPE.fullmatch(v)),
            is_payment_card,
            0.8,
            "payment card numbers",
        ),
        _ValueRule(
            "financial.bank_account",
            lambda v: bool(IBAN_SHAPE.fullmatch(v)),
            is_iban,
            0.8,
            "IBANs",
        ),
        _ValueRule(
            "identity.government_id",
            lambda v: len(v) <= 24,
            lambda v: national_id(v, distinctive_only=True) is not None,
            0.8,
            "national identifiers",
        ),
        _ValueRule(
            "device.ip_address",
            lambda v: "." in v or ":" in v,
            is_ip_address,
            0.8,
            "IP addresses",
        ),
        _ValueRule(
            "contact.phone",
            lambda v: v.startswith(("+", "00")) and bool(PHONE_SHAPE.fullmatch(v)),
            lambda v: is_phone(v, region),
            0.8,
            "international phone numbers",
        ),
    )


def _national_phone_rule(region: str) -> _ValueRule:
    return _ValueRule(
        "contact.phone",
        lambda v: bool(PHONE_SHAPE.fullmatch(v)),
        lambda v: is_phone(v, region),
        0.8,
        "phone numbers",
    )


def _share(texts: Sequence[str], rule: _ValueRule) -> tuple[float, int, int]:
    """The estimated share of ``texts`` ``rule`` matches, with matches and distinct matches."""
    candidates = [text for text in texts if rule.shape(text)]
    if not candidates:
        return 0.0, 0, 0
    checked = candidates[:VALIDATE_AT_MOST]
    valid = [text for text in checked if rule.check(text)]
    share = len(candidates) / len(texts) * len(valid) / len(checked)
    return share, round(share * len(texts)), len(set(valid))


def _weak_id_share(texts: Sequence[str]) -> float:
    checked = texts[:VALIDATE_AT_MOST]
    return sum(national_id(text) is not None for text in checked) / len(checked)


def _texts(values: Iterable[object]) -> list[str]:
    texts = []
    for value in values:
        if value is None or isinstance(value, bool | float | bytes | bytearray | memoryview):
            continue
        text = (value.isoformat() if isinstance(value, dt.date) else str(value)).strip()
        if text:
            texts.append(text)
    return texts


def _percent(share: float) -> str:
    return f"{share:.0%}" if share >= 0.01 else f"{share:.1%}"


def classify_column(
    column: str,
    values: Sequence[object],
    *,
    table: str = "",
    region: str = "US",
    today: dt.date | None = None,
    key: bool = False,
    integer: bool = False,
) -> Verdict | None:
    """Decide whether a column holds personal data, and which category.

    Args:
        column: the column's name.
        values: a sample of its values; None, booleans, floats and bytes are not looked at.
        table: the table's name (a bare ``name``, a ``photo`` or ``notes`` count only in a
            table of people).
        region: the country national phone numbers are read in.
        today: the date birth dates are judged against (default: today).
        key: the column is a primary key or a foreign key, or part of one.
        integer: the column's declared type is an integer type.

    Returns:
        The verdict with the highest confidence, or None when nothing suggests personal data
        (not even :data:`POSSIBLE_AT`).
    """
    today = today or dt.date.today()
    evidence = name_evidence(column, table)
    present = [value for value in values if value is not None]
    texts = _texts(present)
    sampled = len(texts)
    keyed = (integer or _all(present, _is_integral)) and (key or is_key_name(column))
    said = None if keyed else _standing(evidence, present)
    verdicts: list[Verdict] = []

    def add(category: str, confidence: float, share: float, *reasons: str) -> None:
        confidence = round(min(0.99, confidence), 2)
        verdicts.append(Verdict(category, confidence, reasons, sampled, round(share * sampled)))

    named = f"the name {column!r} suggests it"
    if said is not None:
        # What the name says stands on its own; matching values raise the confidence.
        add(said, 0.6 if sampled == 0 else 0.75, 0.0, named)

    if texts:
        for rule in _value_rules(region):
            if evidence.not_personal and rule.category != "contact.email":
                continue  # an e-mail address is one whatever the column is called
            share, _, distinct = _share(texts, rule)
            if share == 0:
                continue
            found = f"{_percent(share)} of {sampled} sampled values are {rule.what}"
            if rule.category == said:
                confidence = 0.75 + 0.24 * min(1.0, share / rule.threshold)
                add(rule.category, confidence, share, named, found)
            elif share >= rule.threshold and (rule.category != "contact.email" or distinct >= 3):
                scale = (share - rule.threshold) / (1 - rule.threshold)
                add(rule.category, 0.7 + 0.29 * scale, share, found)

        # Numbers written without a country prefix are phone numbers only by the name: in a
        # permissive numbering plan (DE) most part numbers like 415-234-5678 are valid too.
        national = _share(texts, _national_phone_rule(region))[0]
        if national and said == "contact.phone":
            found = (
                f"{_percent(national)} of {sampled} sampled values are phone numbers in {region}"
            )
            add("contact.phone", 0.75 + 0.24 * min(1.0, national / 0.8), national, named, found)
        elif national >= 0.8 and not (evidence.not_personal or keyed):
            found = f"{_percent(national)} of {sampled} sampled values are valid phone numbers in"
            add("contact.phone", 0.3, national, f"{found} {region}", "but so are many codes")

        if evidence.category == "identity.government_id":
            # A number by nature (tax_id): even as a key, valid check digits say what it is.
            share = _weak_id_share(texts)
            if share >= 0.5:
                found = f"{_percent(share)} of {sampled} sampled values are valid national ids"
                add("identity.government_id", 0.8 + 0.19 * share, share, named, found)

        checked = present[:VALIDATE_AT_MOST]
        birth_share = sum(is_birth_date(value, today) for value in checked) / len(checked)
        found = f"{_percent(birth_share)} of sampled values are dates a person could be born on"
        if birth_share and said == "identity.date_of_birth":
            add("identity.date_of_birth", 0.75 + 0.24 * birth_share, birth_share, named, found)
        elif (
            birth_share >= 0.9
            and not (evidence.event or evidence.not_personal)
            and _born_like(checked, today)
        ):
            add("identity.date_of_birth", 0.25, birth_share, found, "but no name says birth")

        prose = [text for text in texts if is_free_text(text)]
        if len(prose) >= sampled / 2:
            mentions = [contains_contact(text, region) for text in prose[:VALIDATE_AT_MOST]]
            contact = sum(mentions) / len(mentions)
            share = len(prose) / sampled
            if contact >= 0.05:
                found = f"free text; {_percent(contact)} of it mentions an e-mail address or phone"
                add("user_content.inputs", 0.7 + 0.29 * min(1.0, contact / 0.3), share, found)
            elif evidence.free_text:
                add("user_content.inputs", 0.7, share, named, "free text")
            else:
                add("user_content.inputs", 0.3, share, "free text, which may mention people")

    if not verdicts:
        return None
    best = max(verdicts, key=lambda verdict: verdict.confidence)
    return best if best.confidence >= POSSIBLE_AT else None


def _standing(evidence: NameEvidence, values: Sequence[object]) -> str | None:
    """The category the name may claim on its own: none when every value contradicts it."""
    category = evidence.category
    if category is None or not values:
        return category
    if category != "identity.date_of_birth" and _all(values, _is_date):
        return None  # email_verified_at, last_login: dates hold no e-mail or user name
    if category in _TEXT_ONLY and _all(values, _is_number):
        return None  # EmailPromotion: 0, 1 or 2 is a preference, not an address
    return category


def _born_like(values: Sequence[object], today: dt.date) -> bool:
    """Whether dates look like a population's birth dates, with no name to say so.

    Much more than "old enough": nine in ten are dates of people 13 to 100 years old, their
    years span two decades or more, and none carries a time of day (an event's timestamp).
    """
    if not values or any(has_time_of_day(value) for value in values):
        return False
    dates = [date for date in map(as_date, values) if date is not None]
    years = [date.year for date in dates if ADULT_AGE <= today.year - date.year <= OLDEST_AGE]
    return len(years) >= 0.9 * len(values) and max(years) - min(years) >= 20


def _all(values: Sequence[object], test: Callable[[object], bool]) -> bool:
    return bool(values) and all(test(value) for value in values[:VALIDATE_AT_MOST])


def _is_integral(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.isascii() and value.isdigit()


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float | Decimal):
        return True
    return isinstance(value, str) and bool(_NUMBER.fullmatch(value))


def _is_date(value: object) -> bool:
    return as_date(value) is not None
