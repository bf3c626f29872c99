"""Use cases of the datastores room: check the declared annotations against the real schema."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from pledge.datastores.model import (
    Datastore,
    Schema,
    Table,
    identity_tables,
    links,
    reachable_tables,
)
from pledge.datastores.sql import SqlDatastore
from pledge.declaration import Declaration, Finding, origin_of
from pledge.declaration.findings import Path
from pledge.declaration.model import Datastore as DatastoreDeclaration
from pledge.declaration.model import TableAnnotation
from pledge.errors import UsageError

UNKNOWN_TABLE = "D801"
UNKNOWN_COLUMN = "D802"
UNREACHABLE_COLUMN = "D803"
NOT_NULLABLE = "D804"

CHECK_CODES = {
    UNKNOWN_TABLE: "a declared table is not in the database",
    UNKNOWN_COLUMN: "a declared column (annotated, rewritten or related) is not in its table",
    UNREACHABLE_COLUMN: "a personal column no identity column reaches along links",
    NOT_NULLABLE: "erasure would write null into a column that does not allow it",
}
"""The codes of ``pledge datastores check`` (documented in docs/cli.md)."""

Connector = Callable[[str, str], Datastore]
"""Opens a datastore from its name and declared URL."""


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
        finally:
            store.close()
        findings = validate(declaration, name, schema)
        reports.append(DatastoreReport(name, len(schema.tables), tuple(findings)))
    return reports


def validate(declaration: Declaration, name: str, schema: Schema) -> list[Finding]:
    """The problems of datastore ``name``'s annotations against ``schema``, in file order."""
    origin = origin_of(declaration)
    declared = declaration.datastores[name]
    found = [
        origin.finding(code, message, path, at_key=at_key)
        for code, message, path, at_key in _problems(declaration, name, declared, schema)
    ]
    return sorted(found, key=lambda f: (f.line, f.column, f.code))


Problem = tuple[str, str, Path, bool]
"""A finding before it is located: code, message, path in the declaration, at the key?"""


def _problems(
    declaration: Declaration, name: str, declared: DatastoreDeclaration, schema: Schema
) -> Iterator[Problem]:
    for table_name, table in declared.tables.items():
        here: Path = ("datastores", name, "tables", table_name)
        real = schema.tables.get(table_name)
        if real is None:
            message = f"table '{table_name}' is not in datastore '{name}'"
            yield UNKNOWN_TABLE, message + _suggest(table_name, schema.tables), here, True
        else:
            yield from _table_problems(name, table, real, schema, here)
    yield from _unreachable(declaration, name, declared, schema)


def _table_problems(
    name: str, table: TableAnnotation, real: Table, schema: Schema, here: Path
) -> Iterator[Problem]:
    def missing(column: str, role: str) -> str:
        return f"{role} '{column}' is not a column of table '{real.name}'" + _suggest(
            column, real.columns
        )

    for column in table.columns:
        if column not in real.columns:
            yield UNKNOWN_COLUMN, missing(column, "column"), (*here, "columns", column), True
    rewrites = (table.erasure.rewrite if table.erasure else None) or {}
    for column, rewrite in rewrites.items():
        path = (*here, "erasure", "rewrite", column)
        if column not in real.columns:
            yield UNKNOWN_COLUMN, missing(column, "rewritten column"), path, True
        elif rewrite is None and not real.columns[column].nullable:
            message = (
                f"column '{column}' of '{real.name}' is NOT NULL: erasure cannot empty it;"
                " rewrite it with fixed, mask or pseudonym"
            )
            yield NOT_NULLABLE, message, path, True
    for index, relation in enumerate(table.relations):
        path = (*here, "relations", index)
        if relation.column not in real.columns:
            message = missing(relation.column, "related column")
            yield UNKNOWN_COLUMN, message, (*path, "column"), False
        other, other_column = relation.references.split(".", 1)
        target = schema.tables.get(other)
        if target is None:
            message = f"relation to table '{other}', which is not in datastore '{name}'"
            message += _suggest(other, schema.tables)
            yield UNKNOWN_TABLE, message, (*path, "references"), False
        elif other_column not in target.columns:
            message = (
                f"relation to '{relation.references}': no column '{other_column}' in '{other}'"
            )
            message += _suggest(other_column, target.columns)
            yield UNKNOWN_COLUMN, message, (*path, "references"), False


def _unreachable(
    declaration: Declaration, name: str, declared: DatastoreDeclaration, schema: Schema
) -> Iterator[Problem]:
    starts = [table for table in identity_tables(declared) if table in schema.tables]
    if not starts:
        return  # lint rule D701 reports a datastore without identity columns
    reached = reachable_tables(starts, links(schema, declared))
    taxonomy = declaration.taxonomy
    for table_name, table in declared.tables.items():
        if table_name in reached or table_name not in schema.tables:
            continue
        for column, annotation in table.columns.items():
            if column in schema.tables[table_name].columns and taxonomy.is_personal(
                annotation.category
            ):
                message = (
                    f"no identity reaches '{table_name}.{column}' ({annotation.category}):"
                    " declare a relation from this table to one linked to an identity column,"
                    " or mark an identity column in it; requests would miss this data"
                )
                yield (
                    UNREACHABLE_COLUMN,
                    message,
                    ("datastores", name, "tables", table_name, "columns", column),
                    True,
                )


def _suggest(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.7)
    return f"; did you mean '{close[0]}'?" if close else ""
