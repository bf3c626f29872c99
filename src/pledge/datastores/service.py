"""Use cases of the datastores room: check the declared annotations against the real schema.

``pledge datastores check`` says, before anything runs, what a request would get wrong: names
the database lacks, personal data no request reaches, tables whose rows could belong to more
than one person, erasures the database's constraints would stop, pseudonyms that do not fit,
and identity columns whose stored values would not match the way they are compared. It uses
the very plan requests use (``plan``), so that what it passes is what runs.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from pledge.datastores import constraints, matching
from pledge.datastores.indexes import unindexed
from pledge.datastores.model import Datastore, Schema, Table
from pledge.datastores.plan import Plan, build_plan, drift
from pledge.datastores.sql import SqlDatastore
from pledge.declaration import Declaration, Finding, origin_of
from pledge.declaration.datastores import Datastore as DatastoreDeclaration
from pledge.declaration.datastores import MatchKind, TableAnnotation
from pledge.declaration.findings import Path, Severity
from pledge.errors import UsageError

UNKNOWN_TABLE = "D801"
UNKNOWN_COLUMN = "D802"
UNREACHABLE_COLUMN = "D803"
NOT_NULLABLE = "D804"
AMBIGUOUS = "D805"
UNMATCHED_VALUES = "D811"
UNINDEXED = "D812"

CHECK_CODES = {
    UNKNOWN_TABLE: "a declared table is not in the database",
    UNKNOWN_COLUMN: "a declared column (annotated, rewritten or related) is not in its table",
    UNREACHABLE_COLUMN: "a personal column no request reaches",
    NOT_NULLABLE: "erasure would write null into a column that does not allow it",
    AMBIGUOUS: "rows that could belong to a person along several links",
    constraints.BLOCKED_DELETE: "erasure deletes rows that kept rows of the person point to",
    constraints.CASCADE: "a delete would cascade into rows that are not the person's or are kept",
    constraints.REFERRED_BY_OTHERS: "rows that are not the person's may point to rows erasure"
    " deletes",
    constraints.CYCLE: "tables in a cycle of links that erasure cannot break",
    constraints.PSEUDONYM_UNFIT: "a pseudonym does not fit its column",
    UNMATCHED_VALUES: "stored identity values that would not match the way they are compared",
    UNINDEXED: "an identity column of a large table that no index serves as it is compared",
}
"""The codes of ``pledge datastores check`` (documented in docs/cli.md)."""

Connector = Callable[[str, str], Datastore]
"""Opens a datastore from its name and declared URL."""

SAMPLE = 500
"""How many values of each identity column are read to see whether they match as stored."""


@dataclass(frozen=True)
class DatastoreReport:
    """What checking one datastore found.

    Args:
        name: the datastore's key in the declaration.
        tables: how many tables the database has.
        findings: the problems, each at its place in the YAML.
    """

    name: str
    tables: int
    findings: tuple[Finding, ...]


def check(
    declaration: Declaration,
    names: Iterable[str] = (),
    *,
    connect: Connector = SqlDatastore,
) -> list[DatastoreReport]:
    """Connect to each declared datastore, reflect it and check the annotations against it.

    Args:
        declaration: a loaded declaration.
        names: the datastores to check; default all of them.
        connect: builds the connector of a datastore (the SQL one by default).

    Raises:
        UsageError: a name is not a declared datastore, or none is declared.
        DatastoreError: a datastore cannot be reached; nothing further is checked.
    """
    chosen = list(names) or list(declaration.datastores)
    if not chosen:
        raise UsageError("the declaration has no datastores section")
    unknown = [name for name in chosen if name not in declaration.datastores]
    if unknown:
        known = ", ".join(declaration.datastores) or "none"
        raise UsageError(
            f"no datastore {', '.join(unknown)} in the declaration (declared: {known})"
        )
    reports = []
    for name in chosen:
        store = connect(name, declaration.datastores[name].url)
        try:
            schema = store.reflect()
            findings = validate(declaration, name, schema)
            if isinstance(store, SqlDatastore) and not drift(schema, declaration.datastores[name]):
                findings = sorted(
                    [
                        *findings,
                        *_sampled(declaration, name, store),
                        *_unindexed(declaration, name, store),
                    ],
                    key=lambda f: (f.line, f.column, f.code),
                )
        finally:
            store.close()
        reports.append(DatastoreReport(name, len(schema.tables), tuple(findings)))
    return reports


def validate(declaration: Declaration, name: str, schema: Schema) -> list[Finding]:
    """The problems of datastore ``name``'s annotations against ``schema``, in file order."""
    origin = origin_of(declaration)
    declared = declaration.datastores[name]
    found = [
        origin.finding(code, message, path, at_key=at_key, severity=severity)
        for code, message, path, at_key, severity in _problems(declaration, name, declared, schema)
    ]
    return sorted(found, key=lambda f: (f.line, f.column, f.code))


Problem = tuple[str, str, Path, bool, Severity]
"""A finding before it is located: code, message, path in the declaration, at the key?,
severity."""


def _problems(
    declaration: Declaration, name: str, declared: DatastoreDeclaration, schema: Schema
) -> Iterator[Problem]:
    for table_name, table in declared.tables.items():
        here: Path = ("datastores", name, "tables", table_name)
        real = schema.tables.get(table_name)
        if real is None:
            message = f"table '{table_name}' is not in datastore '{name}'"
            yield (
                UNKNOWN_TABLE,
                message + _suggest(table_name, schema.tables),
                here,
                True,
                Severity.ERROR,
            )
        else:
            yield from _table_problems(name, table, real, schema, here)
    if drift(schema, declared):
        return  # the plan needs every declared name: fix those first
    plan = build_plan(name, schema, declared, region=declaration.controller.country)
    yield from _plan_problems(declaration, name, declared, plan)


def _table_problems(
    name: str, table: TableAnnotation, real: Table, schema: Schema, here: Path
) -> Iterator[Problem]:
    def missing(column: str, role: str) -> str:
        return f"{role} '{column}' is not a column of table '{real.name}'" + _suggest(
            column, real.columns
        )

    error = Severity.ERROR
    for column in table.columns:
        if column not in real.columns:
            yield UNKNOWN_COLUMN, missing(column, "column"), (*here, "columns", column), True, error
    rewrites = (table.erasure.rewrite if table.erasure else None) or {}
    for column, rewrite in rewrites.items():
        path = (*here, "erasure", "rewrite", column)
        if column not in real.columns:
            yield UNKNOWN_COLUMN, missing(column, "rewritten column"), path, True, error
        elif rewrite is None and not real.columns[column].nullable:
            message = (
                f"column '{column}' of '{real.name}' is NOT NULL: erasure cannot empty it;"
                " rewrite it with fixed, mask or pseudonym"
            )
            yield NOT_NULLABLE, message, path, True, error
    for index, relation in enumerate(table.relations):
        path = (*here, "relations", index)
        for column in relation.columns:
            if column not in real.columns:
                message = missing(column, "related column")
                yield UNKNOWN_COLUMN, message, (*path, "column"), False, error
        other = relation.references.table
        target = schema.tables.get(other)
        if target is None:
            message = f"relation to table '{other}', which is not in datastore '{name}'"
            message += _suggest(other, schema.tables)
            yield UNKNOWN_TABLE, message, (*path, "references"), False, error
            continue
        for other_column in relation.references.columns:
            if other_column not in target.columns:
                message = f"relation to '{other}': no column '{other_column}' in '{other}'"
                message += _suggest(other_column, target.columns)
                yield UNKNOWN_COLUMN, message, (*path, "references"), False, error


def _plan_problems(
    declaration: Declaration, name: str, declared: DatastoreDeclaration, plan: Plan
) -> Iterator[Problem]:
    taxonomy = declaration.taxonomy
    graph = plan.graph
    for table, links in graph.ambiguous.items():
        message = (
            f"rows of '{table}' could belong to a person along several links"
            f" ({', '.join(link.label for link in links)}): declare follow: false on the"
            " links that only refer to someone (the agent who handled a booking), or follow:"
            " true on each link whose rows belong to every person they link to"
        )
        yield AMBIGUOUS, message, ("datastores", name, "tables", table), True, Severity.ERROR
    for table, why in graph.unreached.items():
        if table in graph.ambiguous:
            continue
        for column, annotation in declared.tables[table].columns.items():
            if not taxonomy.is_personal(annotation.category):
                continue
            message = (
                f"no request reaches '{table}.{column}' ({annotation.category}): {why};"
                " requests would miss this data"
            )
            place = ("datastores", name, "tables", table, "columns", column)
            yield UNREACHABLE_COLUMN, message, place, True, Severity.ERROR
    for problem in plan.constraints:
        at: Path = ("datastores", name, "tables", problem.table)
        if problem.column is not None:
            at = (*at, "erasure", "rewrite", problem.column)
        severity = Severity.ERROR if problem.error else Severity.WARNING
        yield problem.code, problem.message, at, True, severity


def _sampled(declaration: Declaration, name: str, store: SqlDatastore) -> list[Finding]:
    """Identity columns whose stored values would not match the way the column compares:
    a sample of each, compared as stored and as Pledge compares them."""
    origin = origin_of(declaration)
    declared = declaration.datastores[name]
    metadata = store.metadata
    if metadata is None:
        return []
    found: list[Finding] = []
    try:
        with store.engine.connect() as connection:
            for table_name, table in declared.tables.items():
                real = metadata.tables.get(table_name)
                if real is None:
                    continue
                for column, annotation in table.columns.items():
                    how = annotation.matching
                    if how is None or column not in real.c:
                        continue
                    values = connection.execute(
                        select(real.c[column]).where(real.c[column].is_not(None)).limit(SAMPLE)
                    ).scalars()
                    odd = _unmatched(
                        list(values), how, annotation.region or declaration.controller.country
                    )
                    if odd:
                        message = (
                            f"{odd} of the sampled values of '{table_name}.{column}' would not"
                            f" match a person's {annotation.identity} compared as {how}: "
                            + _advice(how)
                        )
                        path = ("datastores", name, "tables", table_name, "columns", column)
                        found.append(
                            origin.finding(
                                UNMATCHED_VALUES,
                                message,
                                path,
                                at_key=True,
                                severity=Severity.WARNING,
                            )
                        )
    except SQLAlchemyError:
        return found  # the check itself already reflected; sampling is a hint, not a gate
    return found


def _unindexed(declaration: Declaration, name: str, store: SqlDatastore) -> list[Finding]:
    """Identity columns of large tables that no index serves as they are compared, with the
    statement that creates one (PostgreSQL and SQLite: :mod:`pledge.datastores.indexes`)."""
    origin = origin_of(declaration)
    metadata = store.metadata
    if metadata is None:
        return []
    found: list[Finding] = []
    try:
        with store.engine.connect() as connection:
            for missing in unindexed(
                connection, declaration.datastores[name], dict(metadata.tables)
            ):
                message = (
                    f"no index serves '{missing.table}.{missing.column}' compared as"
                    f" {missing.match}: every request and every search after an erasure reads"
                    f" all {missing.rows:,} rows of the table; create one: {missing.create}"
                )
                path = ("datastores", name, "tables", missing.table, "columns", missing.column)
                found.append(
                    origin.finding(UNINDEXED, message, path, at_key=True, severity=Severity.WARNING)
                )
            connection.rollback()
    except SQLAlchemyError:
        return found  # a hint, not a gate
    return found


def _unmatched(values: list[object], how: MatchKind, region: str | None) -> int:
    odd = 0
    for value in values:
        if not isinstance(value, str):
            continue
        if how is MatchKind.EXACT:
            odd += value != value.strip()
        elif how is MatchKind.PHONE:
            odd += not matching.phone_spellings(value, region)
        else:
            odd += "@" not in value
    return odd


def _advice(how: MatchKind) -> str:
    if how is MatchKind.EXACT:
        return "they have spaces around them, and ids compare exactly: trim them in the database"
    if how is MatchKind.PHONE:
        return (
            "they are not phone numbers of the column's region; set region: to the country"
            " their numbers are written for"
        )
    return "they are not e-mail addresses"


def _suggest(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.7)
    return f"; did you mean '{close[0]}'?" if close else ""


__all__ = ["CHECK_CODES", "DatastoreReport", "check", "validate"]
