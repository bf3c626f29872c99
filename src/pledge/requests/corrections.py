"""What a rectification asks to correct: ``datastore.table.column`` → the correct value."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pledge.declaration.model import Declaration
from pledge.errors import UsageError


def corrections_in(details: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """The corrections of a rectification: ``datastore.table.column`` → value, grouped."""
    grouped: dict[str, dict[str, dict[str, Any]]] = {}
    for path, value in (details.get("corrections") or {}).items():
        datastore, table, column = split(str(path))
        grouped.setdefault(datastore, {}).setdefault(table, {})[column] = value
    return grouped


def split(path: str) -> tuple[str, str, str]:
    """``datastore.table.column`` as its three parts: the datastore up to the first dot, the
    column after the last, the table between (a table's name may hold dots or spaces).

    Raises:
        UsageError: fewer than three parts.
    """
    datastore, _, rest = path.partition(".")
    table, _, column = rest.rpartition(".")
    if not datastore or not table or not column:
        raise UsageError(f"'{path}' is not datastore.table.column")
    return datastore, table, column


def check_corrections(
    declaration: Declaration,
    details: Mapping[str, Any],
    reaches: Callable[[str, str], bool] | None = None,
) -> None:
    """Refuse corrections that are malformed or name a column that may not be corrected.

    A rectification without ``corrections`` (a free-text description) is left to staff: it
    cannot be approved for execution, only completed or denied by hand.

    Args:
        declaration: the declaration in force.
        details: the request's details.
        reaches: whether a request reaches a table of a datastore; a correction to a table no
            plan reaches is refused (it could never be applied).

    Raises:
        UsageError: the corrections are malformed, name a column the declaration does not
            mark ``correctable``, or a table no request reaches.
        DatastoreError: the datastore cannot be reached to tell.
    """
    if "corrections" not in details:
        return
    corrections = details["corrections"]
    if not isinstance(corrections, Mapping) or not corrections:
        raise UsageError("details.corrections must map datastore.table.column to the correct value")
    for path, value in corrections.items():
        datastore, table, column = split(str(path))
        annotation = (
            declaration.datastores[datastore].tables.get(table)
            if datastore in declaration.datastores
            else None
        )
        found = annotation.columns.get(column) if annotation is not None else None
        if found is None:
            raise UsageError(f"'{path}' is not a declared personal column")
        if not found.correctable:
            raise UsageError(f"'{path}' may not be corrected (it is not marked correctable)")
        if value is not None and not isinstance(value, str | int | float):
            raise UsageError(f"the correct value of '{path}' must be text or a number")
    if reaches is None:
        return
    for datastore, table in dict.fromkeys(split(str(path))[:2] for path in corrections):
        if not reaches(datastore, table):
            raise UsageError(
                f"no request reaches table '{table}' of datastore '{datastore}', so a correction"
                " there could never be applied ('pledge datastores check' says why)"
            )
