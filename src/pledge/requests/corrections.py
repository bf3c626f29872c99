"""What a rectification asks to correct: ``datastore.table.column`` → the correct value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pledge.declaration.model import Declaration
from pledge.errors import UsageError


def corrections_in(details: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """The corrections of a rectification: ``datastore.table.column`` → value, grouped."""
    grouped: dict[str, dict[str, dict[str, Any]]] = {}
    for path, value in (details.get("corrections") or {}).items():
        datastore, table, column = path.split(".", 2)
        grouped.setdefault(datastore, {}).setdefault(table, {})[column] = value
    return grouped


def check_corrections(declaration: Declaration, details: Mapping[str, Any]) -> None:
    """Refuse corrections that are malformed or name a column that may not be corrected.

    A rectification without ``corrections`` (a free-text description) is left to staff: it
    cannot be approved for execution, only completed or denied by hand.

    Raises:
        UsageError: the corrections are malformed, or name a column the declaration does not
            mark ``correctable``.
    """
    if "corrections" not in details:
        return
    corrections = details["corrections"]
    if not isinstance(corrections, Mapping) or not corrections:
        raise UsageError("details.corrections must map datastore.table.column to the correct value")
    for path, value in corrections.items():
        parts = str(path).split(".")
        if len(parts) != 3:
            raise UsageError(f"'{path}' is not datastore.table.column")
        datastore, table, column = parts
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
