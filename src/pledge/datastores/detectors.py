"""Value detectors: does one value look like an e-mail address, a phone number, a card…

Plain Python, no I/O. Each detector tests one value: a cheap shape test first (a regular
expression), then the full validator (``email-validator``, ``phonenumbers``, ``ipaddress``,
Luhn with the card schemes' prefixes, ``python-stdnum``). Deciding what a *column* holds is
:mod:`pledge.datastores.classify`'s job.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum import iban, luhn
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.us import ssn

ADULT_AGE = 13
"""A birth date is at least this many years ago: younger people rarely have a record."""

# --- value detectors ------------------------------------------------------------------------

EMAIL_SHAPE = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}")
PHONE_SHAPE = re.compile(r"(?:\+|00)?[\d\s().\-/]{6,24}")
_DIGITS = re.compile(r"\D")
_IPV4_SHAPE = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_IPV6_SHAPE = re.compile(r"[0-9A-Fa-f:.]{2,45}")
IBAN_SHAPE = re.compile(r"[A-Za-z]{2}\d{2}[A-Za-z0-9 ]{10,36}")
CARD_SHAPE = re.compile(r"\d[\d \-]{11,22}\d")
_DATE_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?")
_DATE_DAY_FIRST = re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})")
_TIME_OF_DAY = re.compile(r"\d{4}-\d{2}-\d{2}[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?")
_EMBEDDED_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_EMBEDDED_PHONE = re.compile(r"(?<![\w.])\+?\d[\d ().\-/]{6,18}\d(?![\w.])")


def is_email(value: str) -> bool:
    """Whether ``value`` is one e-mail address (syntax only, no DNS lookup).

    Args:
        value: the text to test.

    Returns:
        True for ``jane.doe@example.com``, False for ``jane@`` or a sentence holding an address.
    """
    if not EMAIL_SHAPE.fullmatch(value):
        return False
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def is_phone(value: str, region: str = "US") -> bool:
    """Whether ``value`` is a valid telephone number.

    Args:
        value: the text to test: international (``+49 151 2345 6789``, ``0049…``) or national,
            read in ``region``.
        region: the ISO 3166 country whose numbering plan national numbers follow.

    Returns:
        True if ``phonenumbers`` finds a number that is valid (not only possible) in its plan.
    """
    if not PHONE_SHAPE.fullmatch(value) or _DATE_ISO.fullmatch(value):
        return False  # a permissive numbering plan (DE) would take 2024-01-05 for a number
    if _DATE_DAY_FIRST.fullmatch(value):
        return False
    digits = len(_DIGITS.sub("", value))
    if not 7 <= digits <= 15:
        return False
    text = "+" + value[2:] if value.startswith("00") else value
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))


def is_ip_address(value: str) -> bool:
    """Whether ``value`` is an IPv4 or IPv6 address (``203.0.113.7``, ``2001:db8::1``)."""
    if not (_IPV4_SHAPE.fullmatch(value) or (":" in value and _IPV6_SHAPE.fullmatch(value))):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


# Issuer identification number prefixes of the card schemes, with the lengths each issues.
_CARD_SCHEMES: tuple[tuple[tuple[int, int], int, frozenset[int]], ...] = (
    ((4, 4), 1, frozenset({13, 16, 19})),  # Visa
    ((51, 55), 2, frozenset({16})),  # Mastercard
    ((2221, 2720), 4, frozenset({16})),  # Mastercard 2-series
    ((34, 34), 2, frozenset({15})),  # American Express
    ((37, 37), 2, frozenset({15})),
    ((300, 305), 3, frozenset({14, 16, 19})),  # Diners Club
    ((36, 36), 2, frozenset({14, 16, 19})),
    ((38, 39), 2, frozenset({16, 19})),
    ((6011, 6011), 4, frozenset({16, 19})),  # Discover
    ((644, 649), 3, frozenset({16, 19})),
    ((65, 65), 2, frozenset({16, 19})),
    ((3528, 3589), 4, frozenset({16, 19})),  # JCB
    ((62, 62), 2, frozenset({16, 17, 18, 19})),  # UnionPay
    ((50, 50), 2, frozenset(range(12, 20))),  # Maestro
    ((56, 58), 2, frozenset(range(12, 20))),
    ((67, 67), 2, frozenset(range(12, 20))),
)


def is_payment_card(value: str) -> bool:
    """Whether ``value`` is a payment card number.

    Three tests, all needed: the length a scheme issues, a known issuer prefix (IIN) of that
    scheme, and the Luhn check digit. A Luhn-valid order number alone is not a card.

    Args:
        value: digits, optionally grouped by spaces or hyphens.
    """
    if not CARD_SHAPE.fullmatch(value):
        return False
    digits = _DIGITS.sub("", value)
    length = len(digits)
    if not 12 <= length <= 19:
        return False
    for (low, high), width, lengths in _CARD_SCHEMES:
        if length in lengths and low <= int(digits[:width]) <= high:
            return bool(luhn.is_valid(digits))
    return False


def is_iban(value: str) -> bool:
    """Whether ``value`` is an IBAN with a valid country format and check digits."""
    return bool(IBAN_SHAPE.fullmatch(value)) and bool(iban.is_valid(value))


@dataclass(frozen=True)
class IdScheme:
    """A national identifier a value detector knows.

    Args:
        name: how reports call it.
        is_valid: ``python-stdnum``'s validator.
        shape: the written form, tested before the validator.
        distinctive: whether a valid value is unlikely to be anything else. Bare digit strings
            (an 11-digit German tax id, a 9-digit SSN) are not: any column of numbers holds
            some; they count only under a column name that says so.
    """

    name: str
    is_valid: Callable[[str], bool]
    shape: re.Pattern[str]
    distinctive: bool


ID_SCHEMES: tuple[IdScheme, ...] = (
    IdScheme("US SSN", ssn.is_valid, re.compile(r"\d{3}-\d{2}-\d{4}"), distinctive=True),
    IdScheme("US SSN", ssn.is_valid, re.compile(r"\d{9}"), distinctive=False),
    IdScheme("ES DNI", dni.is_valid, re.compile(r"\d{8}-?[A-Za-z]"), distinctive=True),
    IdScheme("ES NIE", nie.is_valid, re.compile(r"[XYZxyz]-?\d{7}-?[A-Za-z]"), distinctive=True),
    IdScheme("FR NIR", nir.is_valid, re.compile(r"[12][\d ]{12,19}"), distinctive=True),
    IdScheme(
        "DE tax id", idnr.is_valid, re.compile(r"\d{2} ?\d{3} ?\d{3} ?\d{3}"), distinctive=False
    ),
    IdScheme("NL BSN", bsn.is_valid, re.compile(r"\d{8,9}"), distinctive=False),
    IdScheme(
        "IT codice fiscale",
        codicefiscale.is_valid,
        re.compile(r"[A-Za-z]{6}\d{2}[A-Za-z]\d{2}[A-Za-z]\d{3}[A-Za-z]"),
        distinctive=True,
    ),
)
"""The national identifiers recognised, in the order they are tried."""


def national_id(value: str, *, distinctive_only: bool = False) -> IdScheme | None:
    """The national identifier scheme ``value`` is valid in, if any.

    Args:
        value: the text to test.
        distinctive_only: skip the schemes whose valid values any digit string may be.

    Returns:
        The first scheme whose shape and check digits ``value`` passes, or None.
    """
    for scheme in ID_SCHEMES:
        if distinctive_only and not scheme.distinctive:
            continue
        if scheme.shape.fullmatch(value) and scheme.is_valid(value):
            return scheme
    return None


def birth_date_range(today: dt.date) -> tuple[dt.date, dt.date]:
    """The dates a birth date can plausibly fall on: 1900-01-01 to ``today`` minus 13 years."""
    try:
        latest = today.replace(year=today.year - ADULT_AGE)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year - ADULT_AGE, day=28)
    return dt.date(1900, 1, 1), latest


def as_date(value: object) -> dt.date | None:
    """``value`` as a calendar date if it is one: a date, or ISO or day-first text."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    if found := _DATE_ISO.fullmatch(value):
        year, month, day = int(found[1]), int(found[2]), int(found[3])
    elif found := _DATE_DAY_FIRST.fullmatch(value):
        day, month, year = int(found[1]), int(found[2]), int(found[3])
    else:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def has_time_of_day(value: object) -> bool:
    """Whether a date carries a time other than midnight, as the timestamp of an event does.

    Args:
        value: a date, a datetime, or ISO text (``2006-02-15 04:34:33``).

    Returns:
        True for ``2006-02-15 04:34:33``; False for ``1962-02-18``, ``1962-02-18 00:00:00``
        (how many databases store a birth date) and for what is not a date.
    """
    if isinstance(value, dt.datetime):
        return value.time() != dt.time()
    if isinstance(value, str) and (found := _TIME_OF_DAY.match(value)):
        return any(int(part or 0) for part in found.groups())
    return False


def is_birth_date(value: object, today: dt.date) -> bool:
    """Whether ``value`` is a date someone with a record could have been born on."""
    date = as_date(value)
    if date is None:
        return False
    earliest, latest = birth_date_range(today)
    return earliest <= date <= latest


def is_free_text(value: str) -> bool:
    """Whether ``value`` is prose: at least 30 characters and five words, mostly letters."""
    if len(value) < 30 or value.count(" ") < 4:
        return False
    letters = sum(character.isalpha() for character in value)
    return letters >= len(value) / 2


def contains_contact(value: str, region: str = "US") -> bool:
    """Whether a text mentions an e-mail address or a valid phone number."""
    if "@" in value and _EMBEDDED_EMAIL.search(value):
        return True
    return any(is_phone(found.strip(), region) for found in _EMBEDDED_PHONE.findall(value))
