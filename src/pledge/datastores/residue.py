"""An erasure checked the way an outsider would: the person looked for everywhere the
declaration says personal data is, without the plan.

Written apart from ``graph``, ``plan`` and ``execute`` on purpose: it does not follow links,
so a table the plan failed to reach, a row it failed to find, or a value stored in a spelling
it failed to match shows up here. It shares only the matching (``matching``), so that it
looks for the person the way they are looked for.

What it searches, in every declared table that is not under a legal hold:

- every column that holds e-mail addresses (category ``contact.email``, or an e-mail identity)
  for the person's addresses, compared as e-mail identities are (case and spaces ignored);
- the person's *details*, as their rows held them before the erasure, each kind in the columns
  of its kind: phone numbers (in every spelling the phone matching accepts), names, postal
  addresses, official and financial numbers, user names.

A row holds a *residue* when it holds one of the person's e-mail addresses, or details of two
different kinds (a name and a street; a phone number and a name): one detail alone is not the
person (a namesake, a household's shared landline). Rows the erasure kept because other
people's rows point to them are left out. The rule is written in SQL, so that only real hits
come back, and each comparison is the one an index on the column (or on the expression the
docs name for identity columns) serves.

What it does not cover: values inside free text, dates and numbers, details written in another
spelling than the person's own rows held them, and a lone detail.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, MetaData, Table, and_, not_, or_, select, tuple_
from sqlalchemy.exc import SQLAlchemyError

from pledge.datastores import matching
from pledge.datastores.errors import translate
from pledge.datastores.sql import column_kind, reflect_into
from pledge.declaration.datastores import ColumnAnnotation, IdentityKind, MatchKind
from pledge.declaration.datastores import Datastore as DatastoreDeclaration

EMAIL = "contact.email"
PHONE = "phone"
DETAILS = {
    "contact.phone": PHONE,
    "identity.name": "name",
    "contact.postal_address": "address",
    "identity.government_id": "official number",
    "financial.bank_account": "bank account",
    "financial.payment_card": "payment card",
    "account.username": "user name",
}
"""The categories whose values are the person's details, each of a kind."""

_SHOWN = 50  # rows counted per table at most: the reason says "50 or more"


@dataclass(frozen=True)
class Person:
    """Who is looked for.

    Args:
        emails: e-mail addresses, normalised (lower case).
        details: per kind (``phone``, ``name``, ``address`` …), the values the person's rows
            held before the erasure (phone numbers in E.164).
    """

    emails: frozenset[str]
    details: Mapping[str, frozenset[str]]


def kind_of(column: ColumnAnnotation) -> str | None:
    """The kind of detail a column holds (None: not one the search looks at)."""
    if column.identity is IdentityKind.PHONE:
        return PHONE
    if column.identity is IdentityKind.EMAIL or column.category == EMAIL:
        return EMAIL
    return DETAILS.get(column.category)


def person(
    identities: Mapping[IdentityKind, Iterable[str]],
    declared: DatastoreDeclaration,
    rows: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    region: str | None = None,
) -> Person:
    """The person to look for: their identities, and the details their rows held."""
    emails = {value.strip().lower() for value in identities.get(IdentityKind.EMAIL, ())}
    details: dict[str, set[str]] = {PHONE: set(identities.get(IdentityKind.PHONE, ()))}
    for table, found in rows.items():
        annotation = declared.tables.get(table)
        if annotation is None:
            continue
        for column, described in annotation.columns.items():
            kind = kind_of(described)
            if kind is None:
                continue
            for row in found:
                value = row.get(column)
                if not isinstance(value, str) or not value.strip():
                    continue
                if kind == EMAIL:
                    if "@" in value:
                        emails.add(value.strip().lower())
                elif kind == PHONE:
                    number = matching.e164(value, described.region or region)
                    if number is not None:
                        details[PHONE].add(number)
                else:
                    details.setdefault(kind, set()).add(value)  # as stored: an exact copy
    return Person(
        frozenset(emails),
        {kind: frozenset(values) for kind, values in details.items() if values},
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
    """Where the person still is: table → column → how many rows hold something of theirs
    (counted up to 50 per table).

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
        and any(kind_of(column) for column in annotation.columns.values())
    }
    if not searched or not (looked_for.emails or looked_for.details):
        return {}
    try:
        if metadata is None or any(name not in metadata.tables for name in searched):
            metadata = MetaData()
            reflect_into(metadata, connection, searched)
        found: dict[str, dict[str, int]] = {}
        for name, annotation in searched.items():
            hits = _search_table(
                connection,
                metadata.tables[name],
                annotation.columns,
                looked_for,
                list(exclude.get(name, ()) if exclude else ()),
                region,
            )
            if hits:
                found[name] = hits
        return found
    except SQLAlchemyError as error:
        raise translate(error, datastore) from None


@dataclass(frozen=True)
class _Probe:
    """One column compared with the values of one kind."""

    column: str
    kind: str
    condition: ColumnElement[bool]
    values: frozenset[str]
    phone: bool = False


def _search_table(
    connection: Connection,
    table: Table,
    columns: Mapping[str, ColumnAnnotation],
    looked_for: Person,
    exclude: list[tuple[Any, ...]],
    region: str | None,
) -> dict[str, int]:
    dialect = connection.dialect.name
    probes: list[_Probe] = []
    for name, described in columns.items():
        kind = kind_of(described)
        if kind is None or name not in table.c or column_kind(table.c[name].type) != "text":
            continue
        column = table.c[name]
        if kind == EMAIL:
            values = looked_for.emails
            how = MatchKind.IGNORE_CASE
        elif kind == PHONE:
            values = frozenset(
                spelling
                for number in looked_for.details.get(PHONE, ())
                for spelling in matching.phone_spellings(number, described.region or region)
            )
            how = MatchKind.PHONE
        else:
            values = looked_for.details.get(kind, frozenset())
            how = MatchKind.EXACT
        if not values:
            continue
        target = matching.expression(column, how, "text")
        listed = sorted(values)
        condition = and_(target.in_(listed), matching.exactly(target, dialect).in_(listed))
        probes.append(_Probe(name, kind, condition, values, phone=how is MatchKind.PHONE))
    if not probes:
        return {}
    by_kind: dict[str, list[_Probe]] = {}
    for probe in probes:
        by_kind.setdefault(probe.kind, []).append(probe)
    matched = {kind: or_(*(probe.condition for probe in found)) for kind, found in by_kind.items()}
    rules = [matched[EMAIL]] if EMAIL in matched else []
    details = [kind for kind in matched if kind != EMAIL]
    rules += [and_(matched[one], matched[two]) for one, two in itertools.combinations(details, 2)]
    if not rules:
        return {}
    key = list(table.primary_key.columns)
    where: ColumnElement[bool] = or_(*rules)
    if exclude and key:
        kept = (
            key[0].in_([values[0] for values in exclude])
            if len(key) == 1
            else tuple_(*key).in_(exclude)
        )
        where = and_(where, not_(kept))
    wanted = [*key, *(table.c[name] for name in dict.fromkeys(probe.column for probe in probes))]
    hits: dict[str, int] = {}
    for row in connection.execute(select(*wanted).where(where).limit(_SHOWN)).mappings():
        for probe in probes:
            value = row.get(probe.column)
            if isinstance(value, str) and _holds(value, probe):
                hits[probe.column] = hits.get(probe.column, 0) + 1
    return hits


def _holds(value: str, probe: _Probe) -> bool:
    if probe.kind == EMAIL:
        return value.strip().lower() in probe.values
    if probe.phone:
        digits = value
        for separator in matching.SEPARATORS:
            digits = digits.replace(separator, "")
        return digits in probe.values
    return value in probe.values
