"""The per-column verdict: is this column personal data, which category, how sure.

Plain Python, no I/O: :mod:`pledge.datastores.scan` feeds a sample of each column to
:func:`classify_column`. The verdict is per column, never per value: the share of non-null
values the detectors of :mod:`pledge.datastores.detectors` match, combined with the evidence of
the column's name (:mod:`pledge.datastores.names`). A Luhn-valid order number is not a payment
card, one sentence among a thousand is not an e-mail column, and a column named
``product_code`` is not a phone column however much its values look like numbers.

Confidence is 0..1. At :data:`REPORT_AT` or above a column is reported as personal; between
:data:`POSSIBLE_AT` and :data:`REPORT_AT` it *may* hold personal data (free text without
contact details, dates that could be birth dates): worth a look, not a finding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pledge.datastores.detectors import (
    CARD_SHAPE,
    IBAN_SHAPE,
    PHONE_SHAPE,
    contains_contact,
    is_birth_date,
    is_email,
    is_free_text,
    is_iban,
    is_ip_address,
    is_payment_card,
    is_phone,
    national_id,
)
from pledge.datastores.names import name_evidence

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
) -> Verdict | None:
    """Decide whether a column holds personal data, and which category.

    Args:
        column: the column's name.
        values: a sample of its values; None, booleans, floats and bytes are not looked at.
        table: the table's name (a bare ``name`` column counts only in a table of people).
        region: the country national phone numbers are read in.
        today: the date birth dates are judged against (default: today).

    Returns:
        The verdict with the highest confidence, or None when nothing suggests personal data
        (not even :data:`POSSIBLE_AT`).
    """
    today = today or dt.date.today()
    evidence = name_evidence(column, table)
    texts = _texts(values)
    sampled = len(texts)
    verdicts: list[Verdict] = []

    def add(category: str, confidence: float, share: float, *reasons: str) -> None:
        confidence = round(min(0.99, confidence), 2)
        verdicts.append(Verdict(category, confidence, reasons, sampled, round(share * sampled)))

    named = f"the name {column!r} suggests it"
    if evidence.category is not None:
        # What the name says stands on its own; matching values raise the confidence.
        add(evidence.category, 0.6 if sampled == 0 else 0.75, 0.0, named)

    if texts:
        for rule in _value_rules(region):
            if evidence.not_personal and rule.category != "contact.email":
                continue  # an e-mail address is one whatever the column is called
            share, _, distinct = _share(texts, rule)
            if share == 0:
                continue
            found = f"{_percent(share)} of {sampled} sampled values are {rule.what}"
            if rule.category == evidence.category:
                add(rule.category, 0.75 + 0.24 * min(1.0, share / rule.threshold), share, named)
                verdicts[-1] = Verdict(
                    rule.category,
                    verdicts[-1].confidence,
                    (named, found),
                    sampled,
                    round(share * sampled),
                )
            elif share >= rule.threshold and (rule.category != "contact.email" or distinct >= 3):
                scale = (share - rule.threshold) / (1 - rule.threshold)
                add(rule.category, 0.7 + 0.29 * scale, share, found)

        # Numbers written without a country prefix are phone numbers only by the name: in a
        # permissive numbering plan (DE) most part numbers like 415-234-5678 are valid too.
        national = _share(texts, _national_phone_rule(region))[0]
        if national and evidence.category == "contact.phone":
            found = (
                f"{_percent(national)} of {sampled} sampled values are phone numbers in {region}"
            )
            add("contact.phone", 0.75 + 0.24 * min(1.0, national / 0.8), national, named, found)
        elif national >= 0.8 and not evidence.not_personal:
            found = f"{_percent(national)} of {sampled} sampled values are valid phone numbers in"
            add("contact.phone", 0.3, national, f"{found} {region}", "but so are many codes")

        if evidence.category == "identity.government_id":
            share = _weak_id_share(texts)
            if share >= 0.5:
                found = f"{_percent(share)} of {sampled} sampled values are valid national ids"
                add("identity.government_id", 0.8 + 0.19 * share, share, named, found)

        dates = [value for value in values if value is not None]
        birth = sum(is_birth_date(value, today) for value in dates[:VALIDATE_AT_MOST])
        birth_share = birth / min(len(dates), VALIDATE_AT_MOST) if dates else 0.0
        if birth_share:
            found = f"{_percent(birth_share)} of sampled values are dates a person could be born on"
            if evidence.category == "identity.date_of_birth":
                add("identity.date_of_birth", 0.75 + 0.24 * birth_share, birth_share, named, found)
            elif birth_share >= 0.9 and not evidence.not_personal:
                add("identity.date_of_birth", 0.25, birth_share, found, "but no name says birth")

        prose = [text for text in texts if is_free_text(text)]
        if len(prose) >= sampled / 2:
            checked = prose[:VALIDATE_AT_MOST]
            contact = sum(contains_contact(text, region) for text in checked) / len(checked)
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
