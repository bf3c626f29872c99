"""Identity matching as the data is stored: the same answer on every engine.

Pledge holds a person's identities normalised (an e-mail address in lower case, a phone number
in E.164). A company's database holds them as people typed them. Each identity column compares
one way, set-based, in SQL:

- ``ignore_case`` (e-mail addresses): ``lower(trim(column))`` against the lower-case values;
  a case-insensitive collation (MariaDB's default) changes nothing.
- ``phone``: the column's digits (spaces, dashes, brackets, dots, slashes and ``+`` removed)
  against every way the number is written with digits: international (``49301234567``,
  ``0049301234567``, ``490301234567`` for ``+49 (0)30 …``) and, for numbers of the column's
  region, national (``0301234567``; ``2125550123`` for ``(212) 555-0123``).
- ``exact`` (account and device ids): the column as stored, so its own index serves.

Whatever the column's collation (SQLite's NOCASE, a case- or accent-insensitive MySQL
collation, a nondeterministic ICU collation on PostgreSQL), a text comparison is made byte for
byte as well (:func:`exactly`): ``AB12`` is not ``ab12``, ``ánn@`` is not ``ann@``. The
comparison under the column's own collation stays beside it, so that an index still serves.

The same expressions are what an index must be built on for a large table to be searched
without a scan; :func:`index_expression` writes them out. Nothing in them is a bound
parameter, so the index serves a prepared statement's generic plan too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import phonenumbers
from sqlalchemy import ColumnElement, String, cast, func, literal_column, type_coerce
from sqlalchemy.dialects.mysql import BINARY

from pledge.datastores.model import INTEGER, NUMBER, TEXT
from pledge.declaration.datastores import MatchKind

SEPARATORS = (" ", "-", "(", ")", ".", "/", "+", "\t", "\u00a0")
"""What is removed from a stored phone number before its digits are compared."""

_INTERNATIONAL_PREFIXES = ("00", "011")

# SQL string literals of the separators (none holds a quote or a backslash) and of ''.
_EMPTY_IF = {separator: literal_column(f"'{separator}'", String()) for separator in SEPARATORS}
_NOTHING = literal_column("''", String())


def expression(column: ColumnElement[Any], match: MatchKind, kind: str) -> ColumnElement[Any]:
    """The SQL side of a comparison: ``column`` as ``match`` compares it.

    Args:
        column: the column (a SQLAlchemy column of the reflected table).
        match: how it compares.
        kind: what the column holds (text, integer, number, other); only text is normalised.
    """
    if kind != TEXT or match is MatchKind.EXACT:
        return column
    if match is MatchKind.IGNORE_CASE:
        return func.lower(func.trim(column))
    # The separators are written into the statement, never bound: an index on the same
    # expression (:func:`index_expression`) then serves it, prepared or not.
    digits: ColumnElement[Any] = column
    for separator in SEPARATORS:
        digits = func.replace(digits, _EMPTY_IF[separator], _NOTHING)
    return digits


def exactly(expression: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """``expression`` compared byte for byte, whatever its collation, on ``dialect``."""
    if dialect == "postgresql":
        return expression.collate("C")
    if dialect == "sqlite":
        return expression.collate("BINARY")
    if dialect in ("mysql", "mariadb"):
        # compared as bytes; the values stay text parameters
        return type_coerce(cast(expression, BINARY()), String())
    return expression


def index_expression(column: str, match: MatchKind, dialect: str) -> str | None:
    """The expression an index needs for ``match`` on ``column``, as SQL text (None: a plain
    index on the column serves)."""
    if match is MatchKind.EXACT:
        return None
    quoted = f"`{column}`" if dialect in ("mysql", "mariadb") else f'"{column}"'
    if match is MatchKind.IGNORE_CASE:
        return f"lower(trim({quoted}))"
    text = quoted
    for separator in SEPARATORS:
        shown = separator.replace("'", "''")
        text = f"replace({text}, '{shown}', '')"
    return text


def values(
    identities: Iterable[Any], match: MatchKind, kind: str, region: str | None = None
) -> list[Any]:
    """The Python side of a comparison: every value the column's expression may equal.

    Args:
        identities: the values to look for (a person's identities, or values of linked rows).
        match: how the column compares.
        kind: what the column holds.
        region: for phone numbers, the country of numbers stored without a country code.

    Values that the column cannot hold (text in an integer column) match nothing.
    """
    found: set[Any] = set()
    for value in identities:
        if value is None:
            continue
        if match is MatchKind.IGNORE_CASE and kind == TEXT:
            found.add(str(value).strip().lower())
        elif match is MatchKind.PHONE:
            found.update(phone_spellings(str(value), region))
        else:
            found.add(value)
    return coerce(found, kind)


def coerce(found: Iterable[Any], kind: str) -> list[Any]:
    """Values as a column of ``kind`` holds them; what it cannot hold is left out."""
    coerced: set[Any] = set()
    for value in found:
        if kind == TEXT:
            coerced.add(str(value))
        elif kind in (INTEGER, NUMBER):
            try:
                coerced.add(int(str(value).strip()))
            except ValueError:
                continue
        else:
            coerced.add(value)
    return sorted(coerced, key=str)


def e164(value: str, region: str | None = None) -> str | None:
    """A phone number as stored, in E.164 (``+49301234567``); read as a number of ``region``
    when it has no country code. None when it is not a phone number."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not number.country_code or not number.national_number:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_spellings(value: str, region: str | None = None) -> set[str]:
    """The digit strings a phone number may be stored as.

    ``value`` is a number in any form; a form without a country code is read as a number of
    ``region``. International forms always; national forms only for numbers of ``region``.
    A value that is not a phone number gives nothing.
    """
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return set()
    if not number.country_code or not number.national_number:
        return set()
    country = str(number.country_code)
    national = phonenumbers.national_significant_number(number)
    home = phonenumbers.region_code_for_country_code(number.country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(home)
    trunk = (metadata.national_prefix if metadata is not None else None) or ""
    international = {country + national}
    if trunk:
        international.add(country + trunk + national)
    spellings = {
        prefix + form for form in international for prefix in ("", *_INTERNATIONAL_PREFIXES)
    }
    if region is not None and phonenumbers.country_code_for_region(region) == number.country_code:
        formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        spellings.add("".join(char for char in formatted if char.isdigit()))
        if trunk:
            spellings.add(trunk + national)
    return spellings
