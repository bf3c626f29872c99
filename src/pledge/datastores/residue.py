"""An erasure checked the way an outsider would: the person looked for everywhere the
declaration says personal data is, without the plan.

Written apart from ``graph``, ``plan`` and ``execute`` on purpose: it does not follow links,
so a table the plan failed to reach, a row it failed to find, or a value stored in a spelling
it failed to match shows up here. It shares only the matching (``matching``), so that it
looks for the person the way they are looked for.

What it searches: every declared column of a table that is not under a legal hold, whose
category is contact data, a name, an official or financial number, for the person's e-mail
addresses and phone numbers (in every spelling the matching accepts) and for the distinctive
values the access pass found in their rows (their name, street, other addresses and numbers).
A row holds a *residue* when it holds one of the person's e-mail addresses or phone numbers,
or distinctive values of two different kinds (a name and a street). Rows the erasure kept
because other people's rows point to them are left out.

What it does not cover: values inside free text, dates and numbers, and a lone distinctive
value (a name, without anything else of the person beside it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, MetaData, Table, or_, select
from sqlalchemy.exc import SQLAlchemyError

from pledge.datastores import matching
from pledge.datastores.errors import translate
from pledge.datastores.sql import column_kind
from pledge.declaration.datastores import Datastore as DatastoreDeclaration
from pledge.declaration.datastores import IdentityKind, MatchKind

SEARCHED = ("contact.", "identity.", "financial.", "account.username")
"""Categories (by prefix) whose columns are searched."""

_IDENTITY = "#identity"
"""What a probe for the person's e-mail addresses and phone numbers is marked with (apart from
the families of distinctive values, named after categories)."""
_DISTINCTIVE_LENGTH = 6
_LIMIT = 2000


@dataclass(frozen=True)
class Person:
    """Who is looked for.

    Args:
        emails: e-mail addresses, normalised (lower case).
        phones: phone numbers, in E.164.
        distinctive: values found in the person's rows before the erasure, by the category
            of the column they were found in.
    """

    emails: frozenset[str]
    phones: frozenset[str]
    distinctive: Mapping[str, frozenset[str]]


def person(
    identities: Mapping[IdentityKind, Iterable[str]],
    declared: DatastoreDeclaration,
    rows: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    region: str | None = None,
) -> Person:
    """The person to look for: their identities, and what their rows held before erasure.

    E-mail addresses and phone numbers found in their rows count as identities too.
    """
    emails = {value.strip().lower() for value in identities.get(IdentityKind.EMAIL, ())}
    phones = set(identities.get(IdentityKind.PHONE, ()))
    distinctive: dict[str, set[str]] = {}
    for table, found in rows.items():
        annotation = declared.tables.get(table)
        if annotation is None:
            continue
        for column, described in annotation.columns.items():
            if not described.category.startswith(SEARCHED):
                continue
            for row in found:
                value = row.get(column)
                if not isinstance(value, str) or not value.strip():
                    continue
                text = value.strip()
                if described.category == "contact.email" and "@" in text:
                    emails.add(text.lower())
                elif described.category == "contact.phone":
                    number = matching.e164(text, described.region or region)
                    if number is not None:
                        phones.add(number)
                elif len(text) >= _DISTINCTIVE_LENGTH and any(char.isalpha() for char in text):
                    family = described.category.split(".")[0]
                    distinctive.setdefault(family, set()).add(text.lower())
    return Person(
        frozenset(emails),
        frozenset(phones),
        {family: frozenset(values) for family, values in distinctive.items()},
    )


def search(
    connection: Connection,
    datastore: str,
    declared: DatastoreDeclaration,
    looked_for: Person,
    *,
    exclude: Mapping[str, Iterable[tuple[Any, ...]]] | None = None,
    region: str | None = None,
    metadata: MetaData | None = None,
) -> dict[str, dict[str, int]]:
    """Where the person still is: table → column → how many rows hold something of theirs.

    Args:
        connection: a connection to the datastore.
        datastore: its name, for messages.
        declared: its annotations.
        looked_for: who is looked for.
        exclude: per table, the primary keys of rows an erasure kept as shared.
        region: the country of phone numbers stored without a country code.
        metadata: tables reflected before; the declared ones are reflected otherwise.
    """
    searched = {
        name: annotation
        for name, annotation in declared.tables.items()
        if annotation.legal_hold is None
        and any(column.category.startswith(SEARCHED) for column in annotation.columns.values())
    }
    if not searched or not (looked_for.emails or looked_for.phones or looked_for.distinctive):
        return {}
    try:
        if metadata is None or any(name not in metadata.tables for name in searched):
            metadata = MetaData()
            metadata.reflect(bind=connection, only=list(searched))
        found: dict[str, dict[str, int]] = {}
        for name, annotation in searched.items():
            hits = _search_table(
                connection,
                metadata.tables[name],
                annotation.columns,
                looked_for,
                set(exclude.get(name, ()) if exclude else ()),
                region,
            )
            if hits:
                found[name] = hits
        return found
    except SQLAlchemyError as error:
        raise translate(error, datastore) from None


def _search_table(
    connection: Connection,
    table: Table,
    columns: Mapping[str, Any],
    looked_for: Person,
    exclude: set[tuple[Any, ...]],
    region: str | None,
) -> dict[str, int]:
    probes: list[tuple[str, str, Any, frozenset[str]]] = []  # column, what, expression, values
    for name, described in columns.items():
        if not described.category.startswith(SEARCHED) or name not in table.c:
            continue
        column = table.c[name]
        if column_kind(column.type) != "text":
            continue
        folded = matching.expression(column, MatchKind.IGNORE_CASE, "text")
        if looked_for.emails:
            probes.append((name, _IDENTITY, folded, looked_for.emails))
        if looked_for.phones:
            spellings: set[str] = set()
            for phone in looked_for.phones:
                spellings |= matching.phone_spellings(phone, described.region or region)
            digits = matching.expression(column, MatchKind.PHONE, "text")
            probes.append((name, _IDENTITY, digits, frozenset(spellings)))
        for family, values in looked_for.distinctive.items():
            probes.append((name, family, folded, values))
    probes = [probe for probe in probes if probe[3]]
    if not probes:
        return {}
    key = list(table.primary_key.columns)
    wanted = [*key, *(table.c[name] for name in dict.fromkeys(probe[0] for probe in probes))]
    dialect = connection.dialect.name
    statement = (
        select(*wanted)
        .where(
            or_(
                *(
                    matching.exactly(expression, dialect).in_(sorted(values))
                    for _, _, expression, values in probes
                )
            )
        )
        .limit(_LIMIT)
    )
    hits: dict[str, int] = {}
    for row in connection.execute(statement).mappings():
        if key and tuple(row[column.name] for column in key) in exclude:
            continue
        kinds: dict[str, list[str]] = {}
        for name, what, _, values in probes:
            value = row.get(name)
            if not isinstance(value, str):
                continue
            if what == _IDENTITY and _identity_hit(value, values):
                kinds.setdefault(_IDENTITY, []).append(name)
            elif what != _IDENTITY and value.strip().lower() in values:
                kinds.setdefault(what, []).append(name)
        if _IDENTITY in kinds or len(kinds) >= 2:
            for name in dict.fromkeys(column for names in kinds.values() for column in names):
                hits[name] = hits.get(name, 0) + 1
    return hits


def _identity_hit(value: str, values: Iterable[str]) -> bool:
    folded = value.strip().lower()
    digits = value
    for separator in matching.SEPARATORS:
        digits = digits.replace(separator, "")
    return folded in values or digits in values
