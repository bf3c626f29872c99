"""Carrying out a plan in a SQL datastore: erase a person's rows, correct them, and check
what an erasure left.

Erasure and correction change exactly the rows found (``collect``), by primary key (tables
without one by every column read of them), never a row shared with other people, in the order
the foreign keys allow; only values computed per row (a mask, a pseudonym) are written by one
batched ``executemany``, each row guarded by its old value, so that running an erasure twice
changes nothing the second time. The caller runs erasure and correction in one transaction
per datastore.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from pledge.datastores.collect import Found, collect, identify_by, link_values, reread, rows_of
from pledge.datastores.plan import Plan, Step
from pledge.datastores.statements import (
    COUNTED_UP_TO,
    Condition,
    Row,
    Statement,
    Tables,
    lookups,
)
from pledge.declaration.datastores import ErasureStrategy, Rewrite
from pledge.errors import DatastoreError


@dataclass(frozen=True)
class TableOutcome:
    """What erasure did to one table."""

    action: str  # deleted, rewritten, retained, kept
    rows: int
    columns: tuple[str, ...] = ()
    reason: str | None = None
    shared: int = 0
    """Rows kept because other people's rows point to them too."""
    more: bool = False
    """Rows kept that were counted up to :data:`COUNTED_UP_TO` only: there are more."""

    def to_dict(self) -> dict[str, Any]:
        """JSON form, without personal data."""
        found: dict[str, Any] = {"action": self.action, "rows": self.rows}
        if self.more:
            found["more"] = True
        if self.columns:
            found["columns"] = list(self.columns)
        if self.reason:
            found["reason"] = self.reason
        if self.shared:
            found["shared"] = self.shared
        return found


SHARED_REASON = "shared with other people: other people's rows point to them too"


def erase(
    connection: Connection,
    tables: Tables,
    plan: Plan,
    found: Found,
    *,
    pseudonym_key: Callable[[str, Rewrite], bytes],
) -> dict[str, TableOutcome]:
    """Erase the rows ``found``, in the plan's erasure order, inside the caller's transaction.

    Tables under a legal hold (or without an erasure strategy) are left as they are and
    reported; rows shared with other people are kept and counted. ``pseudonym_key`` gives
    the key of a table's pseudonyms.

    Raises:
        DatastoreError: the database refused a change (a foreign key); nothing of the
            transaction should be committed.
    """
    try:
        return _erase(connection, tables, plan, found, pseudonym_key)
    except DatastoreError as error:
        if "foreign key" not in str(error) or "(" in str(error):
            raise  # the database named the constraint already
        pointing = _pointing(connection, tables, plan, found)
        if not pointing:
            raise
        raise DatastoreError(f"{error} ({pointing})") from None


def _erase(
    connection: Connection,
    tables: Tables,
    plan: Plan,
    found: Found,
    pseudonym_key: Callable[[str, Rewrite], bytes],
) -> dict[str, TableOutcome]:
    pending: list[tuple[Statement, Mapping[str, Any]]] = []
    outcomes: dict[str, TableOutcome] = {}
    for link in plan.prenull:
        step = plan.step(link.table)
        own = found.own(link.table)
        if step.kept or not own:
            continue
        emptied = dict.fromkeys(link.columns)
        changes = {f"set_{name}": None for name in link.columns}
        pending += [
            (tables.update(step.table, conditions, emptied), {**parameters, **changes})
            for conditions, parameters in rows_of(tables, step, own)
        ]
    for name in plan.erasure_order:
        step = plan.step(name)
        count = found.count(name)
        own = found.own(name)
        shared = count - len(own) if name not in found.tallies else 0
        more = name in found.tallies and count > COUNTED_UP_TO
        kept = min(count, COUNTED_UP_TO) if more else count
        if step.legal_hold is not None:
            outcomes[name] = TableOutcome(
                "retained", kept, reason=step.legal_hold.reason, more=more
            )
            continue
        if step.erasure is None:
            reason = "the declaration gives this table no erasure strategy"
            outcomes[name] = TableOutcome("kept", kept, reason=reason, more=more)
            continue
        if step.erasure.strategy is ErasureStrategy.DELETE:
            pending += [
                (tables.delete(name, conditions), parameters)
                for conditions, parameters in rows_of(tables, step, own)
            ]
            outcomes[name] = TableOutcome(
                "deleted", len(own), reason=SHARED_REASON if shared else None, shared=shared
            )
            continue
        rewrite = step.erasure.rewrite or {}
        fixed: dict[str, Any] = {
            column: (None if how is None else how.fixed)
            for column, how in rewrite.items()
            if how is None or how.fixed is not None
        }
        if fixed:
            changes = {f"set_{column}": value for column, value in fixed.items()}
            pending += [
                (tables.update(name, conditions, fixed), {**parameters, **changes})
                for conditions, parameters in rows_of(tables, step, own)
            ]
        computed = {column: how for column, how in rewrite.items() if how and how.fixed is None}
        if computed:
            statement, batch = _computed(tables, step, computed, own, pseudonym_key)
            if tables.arrays:
                pending += [(statement, values) for values in batch]
            else:
                tables.write_many(connection, pending)
                pending = []
                tables.execute_many(connection, statement, batch)
        outcomes[name] = TableOutcome(
            "rewritten",
            len(own),
            columns=tuple(rewrite),
            reason=SHARED_REASON if shared else None,
            shared=shared,
        )
    tables.write_many(connection, pending)
    order = {step.table: index for index, step in enumerate(plan.steps)}
    return dict(sorted(outcomes.items(), key=lambda item: order[item[0]]))


def _pointing(connection: Connection, tables: Tables, plan: Plan, found: Found) -> str:
    """What still points to the person's rows of the tables erasure deletes, named by link
    and counted (for a database whose refusal names no constraint: SQLite)."""
    named = []
    for step in plan.steps:
        own = found.own(step.table)
        if not step.deletes or not own:
            continue
        for link in plan.graph.into(step.table):
            if not link.enforced:
                continue
            try:
                tables[link.table]
            except KeyError:
                continue
            values = link_values(own, link.other_columns)
            rows = 0
            for conditions, parameters in lookups([(Condition(link.columns), values)]):
                statement = tables.count(link.table, conditions)
                rows += int(tables.fetch(connection, statement, parameters)[0]["rows"])
            if rows:
                named.append(f"{link.label}: {rows} row{'' if rows == 1 else 's'}")
    return "; ".join(named)


def correct(
    connection: Connection,
    tables: Tables,
    plan: Plan,
    found: Found,
    corrections: Mapping[str, Mapping[str, Any]],
) -> dict[str, int]:
    """Write the corrected values into the person's own rows: table → column → new value.

    Rows shared with other people are not changed. The caller checked that every column may
    be corrected and that the plan reaches its table, and runs this in one transaction.
    Returns how many rows of each table were changed.

    Raises:
        DatastoreError: a table is not in the plan, or the database refused the change.
    """
    missing = [table for table in corrections if not plan.has(table)]
    if missing:
        raise DatastoreError(
            f"datastore '{plan.datastore}': no request reaches {', '.join(missing)}; the"
            " correction was not applied"
        )
    changed: dict[str, int] = {}
    for table_name, values in corrections.items():
        step = plan.step(table_name)
        changes = {f"set_{name}": value for name, value in values.items()}
        changed[table_name] = sum(
            tables.write(
                connection,
                tables.update(table_name, conditions, values),
                {**parameters, **changes},
            )
            for conditions, parameters in rows_of(tables, step, found.own(table_name))
        )
    return changed


def residue(plan: Plan, before: Found, after: Found, again: Found) -> dict[str, int]:
    """What an erasure should have removed but is still there, per table (empty: nothing).

    ``after`` is the plan run again (rows the person's identities and links reach now),
    ``again`` the rows of ``before`` read again by key. Kept tables and shared rows are
    expected. A deleted table may hold none of the person's rows; a rewritten one none that
    erasure did not see, and every rewritten column must hold what the rewrite leaves (null,
    the fixed value, a mask, or a pseudonym that is not the old value).
    """
    left: dict[str, int] = {}
    for step in plan.steps:
        if step.kept or step.erasure is None:
            continue
        rows = {identify_by(row, step.key): row for row in after.own(step.table)}
        if step.key:
            rows.update({identify_by(row, step.key): row for row in again.rows.get(step.table, ())})
        if not rows:
            continue
        if step.erasure.strategy is ErasureStrategy.DELETE:
            left[step.table] = len(rows)
            continue
        rewrite = step.erasure.rewrite or {}
        originals = {identify_by(row, step.key): row for row in before.rows.get(step.table, ())}
        bad = 0
        for identity, row in rows.items():
            original = originals.get(identity)
            if original is None or not all(
                _erased(row.get(column), original.get(column), how)
                for column, how in rewrite.items()
                if column in row
            ):
                bad += 1
        if bad:
            left[step.table] = bad
    return left


def _erased(value: Any, original: Any, how: Rewrite | None) -> bool:
    """Whether ``value`` is what the rewrite ``how`` leaves of ``original``."""
    if value is None:
        return True
    if how is None:
        return False
    if how.fixed is not None:
        return str(value) == str(how.fixed)
    if how.mask is not None:
        return original is not None and str(value) == mask(original, how.mask.keep_last)
    return original is None or str(value) != str(original)


def pseudonym(key: bytes, value: Any, length: int | None = None) -> str:
    """The keyed pseudonym of a value: HMAC-SHA-256, hexadecimal, cut to the column's length."""
    digest = hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()
    return digest[: length or len(digest)]


def mask(value: Any, keep_last: int) -> str:
    """The value with every character but the last ``keep_last`` replaced by ``*``."""
    text = str(value)
    kept = text[len(text) - keep_last :] if keep_last else ""
    return "*" * (len(text) - len(kept)) + kept


# --- statements ---------------------------------------------------------------------------------


# --- statements ---------------------------------------------------------------------------------


def _computed(
    tables: Tables,
    step: Step,
    computed: Mapping[str, Rewrite],
    rows: list[Row],
    pseudonym_key: Callable[[str, Rewrite], bytes],
) -> tuple[Statement, list[dict[str, Any]]]:
    """The guarded ``UPDATE`` of the masks and pseudonyms of ``step``, and its rows'
    parameters: the row's key and each column's old value (so that running it twice changes
    nothing) and new one. Every value is rewritten, whatever it looks like."""
    if not step.key:
        raise DatastoreError(
            f"table '{step.table}' has no primary key: a mask or pseudonym is written row by row"
            " and needs one"
        )
    table = tables[step.table]
    statement = tables.rewrite_rows(step.table, step.key, tuple(computed))
    keys = {column: pseudonym_key(step.table, how) for column, how in computed.items()}
    batch = []
    for row in rows:
        if any(row.get(name) is None for name in computed):
            continue  # a null old value never matches the guard, and holds nothing
        guarded: dict[str, Any] = {f"key_{name}": row[name] for name in step.key}
        for name, how in computed.items():
            old = row[name]
            guarded[f"old_{name}"] = old
            guarded[f"new_{name}"] = (
                mask(old, how.mask.keep_last)
                if how.mask is not None
                else pseudonym(keys[name], old, getattr(table.c[name].type, "length", None))
            )
        batch.append(guarded)
    return statement, batch


__all__ = [
    "SHARED_REASON",
    "Found",
    "TableOutcome",
    "Tables",
    "collect",
    "correct",
    "erase",
    "mask",
    "pseudonym",
    "reread",
    "residue",
]
