"""Plans checked against the database's real constraints before they run.

Plain Python, no I/O. From the foreign keys the database declares (composite ones, their ON
DELETE actions, self-references and cycles) and the plan's steps: the order an erasure changes
tables in (rows that point to others first), the links to empty first to break a cycle, and the
problems that stop an erasure, each with its code and a suggested fix. A problem is an error
when the plan fails for every person who has such rows, a warning when it depends on the data
(another person's row pointing to this person's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pledge.datastores.model import TEXT, Link, Schema
from pledge.declaration.datastores import Datastore as DatastoreDeclaration
from pledge.declaration.datastores import ErasureStrategy

if TYPE_CHECKING:
    from pledge.datastores.graph import Graph
    from pledge.datastores.plan import Step

BLOCKED_DELETE = "D806"
CASCADE = "D807"
REFERRED_BY_OTHERS = "D808"
CYCLE = "D809"
PSEUDONYM_UNFIT = "D810"

PSEUDONYM_MINIMUM = 16
"""The fewest hexadecimal characters a pseudonym keeps (64 bits): a shorter column is refused."""


@dataclass(frozen=True, slots=True)
class Problem:
    """What stops (or may stop) an erasure, located in the declaration.

    Args:
        code: the D-code.
        message: what and why, with a suggested fix; names tables and columns only.
        table: the declared table it concerns.
        column: the column, when one is at fault.
        error: the plan fails for everyone with such rows (else: for some people).
    """

    code: str
    message: str
    table: str
    column: str | None = None
    error: bool = True


@dataclass(frozen=True, slots=True)
class Checked:
    """The erasure order, the links to empty first, and the problems found."""

    order: tuple[str, ...]
    prenull: tuple[Link, ...]
    problems: tuple[Problem, ...] = field(default=())


def check(
    schema: Schema, declared: DatastoreDeclaration, graph: Graph, steps: Sequence[Step]
) -> Checked:
    """The erasure order of ``steps`` and everything in the schema that stands in its way."""
    by_table = {step.table: step for step in steps}
    order, prenull, problems = _order(schema, graph, by_table)
    problems.extend(_blocked(schema, graph, by_table))
    problems.extend(_pseudonyms(schema, declared, by_table))
    return Checked(tuple(order), tuple(prenull), tuple(problems))


def _order(
    schema: Schema, graph: Graph, steps: Mapping[str, Step]
) -> tuple[list[str], list[Link], list[Problem]]:
    """Tables referencing first (Kahn, in plan order on ties); a cycle is broken at a nullable
    link whose rows the erasure changes anyway, which is emptied first."""
    edges = [
        link
        for link in graph.links
        if link.table in steps and link.other in steps and not link.is_self
    ]
    problems: list[Problem] = []
    # The person's own rows pointing at one another: emptied before they are deleted.
    prenull: list[Link] = [
        link
        for link in graph.links
        if link.is_self
        and link.enforced
        and link.table in steps
        and steps[link.table].deletes
        and _nullable(schema, link)
    ]
    while True:
        order, stuck = _kahn(list(steps), edges)
        if not stuck:
            break
        breakable = [
            link
            for link in edges
            if link.table in stuck
            and link.other in stuck
            and _nullable(schema, link)
            and not steps[link.table].kept
        ]
        if not breakable:
            if any(steps[name].deletes for name in stuck):
                names = ", ".join(sorted(stuck))
                problems.append(
                    Problem(
                        CYCLE,
                        f"the tables {names} point to one another in a cycle that erasure"
                        " cannot break: no link of it may be emptied (NOT NULL) in rows it"
                        " changes; allow null in one of the linking columns, or rewrite one"
                        " of the tables instead of deleting it",
                        sorted(stuck)[0],
                    )
                )
            order.extend(name for name in steps if name in stuck)
            break
        prenull.append(breakable[0])
        edges.remove(breakable[0])
    return order, prenull, problems


def _kahn(tables: list[str], edges: list[Link]) -> tuple[list[str], set[str]]:
    waiting = {name: {link.table for link in edges if link.other == name} for name in tables}
    for name in tables:
        waiting[name].discard(name)
    order: list[str] = []
    while True:
        ready = [name for name in tables if name in waiting and not waiting[name]]
        if not ready:
            break
        for name in ready:
            del waiting[name]
            order.append(name)
        for pointing in waiting.values():
            pointing.difference_update(ready)
    return order, set(waiting)


def _blocked(schema: Schema, graph: Graph, steps: Mapping[str, Step]) -> Iterable[Problem]:
    """Links into the rows an erasure deletes from rows it does not delete."""
    for deleted in (step for step in steps.values() if step.deletes):
        for link in graph.into(deleted.table):
            if not link.enforced:
                continue
            referring = steps.get(link.table)
            followed = referring is not None and (
                link in referring.owners or link in deleted.references
            )
            if link.is_self:
                if link.cascades:
                    yield _cascade(link, deleted.table, "other rows of the same table")
                elif not link.sets_null:
                    yield _others(link, deleted.table)
            elif followed and referring is not None:
                if not referring.kept and (referring.deletes or _emptied(referring, link)):
                    continue
                why = _why_kept(referring)
                if link.cascades:
                    yield _cascade(link, deleted.table, f"rows of '{link.table}' that {why}")
                elif not link.sets_null:
                    yield Problem(
                        BLOCKED_DELETE,
                        f"erasure deletes rows of '{deleted.table}' while the person's rows of"
                        f" '{link.table}', which {why}, still point to them ({link.label}):"
                        f" rewrite '{deleted.table}' instead of deleting it, or empty"
                        f" {', '.join(link.columns)} in the rewrite of '{link.table}'",
                        deleted.table,
                    )
            elif link.cascades:
                yield _cascade(link, deleted.table, f"rows of '{link.table}' that are not theirs")
            elif not link.sets_null:
                yield _others(link, deleted.table)


def _others(link: Link, deleted: str) -> Problem:
    return Problem(
        REFERRED_BY_OTHERS,
        f"erasure deletes rows of '{deleted}', and rows that are not the person's may point to"
        f" them ({link.label}, ON DELETE NO ACTION): for such a person the erasure is refused"
        f" and nothing is changed; rewrite '{deleted}' instead of deleting it, or let the"
        " database empty the link (ON DELETE SET NULL)",
        deleted,
        error=False,
    )


def _cascade(link: Link, deleted: str, whose: str) -> Problem:
    return Problem(
        CASCADE,
        f"deleting the person's rows of '{deleted}' would make the database delete {whose}"
        f" ({link.label}, ON DELETE CASCADE): rewrite '{deleted}' instead of deleting it",
        deleted,
    )


def _why_kept(step: Step) -> str:
    if step.legal_hold is not None:
        return "a legal hold keeps"
    if step.erasure is None:
        return "have no erasure strategy and are kept"
    return "are rewritten, not deleted"


def _emptied(step: Step, link: Link) -> bool:
    """Whether ``step``'s rewrite empties every column of ``link``."""
    if step.erasure is None or step.erasure.strategy is not ErasureStrategy.REWRITE:
        return False
    rewrite = step.erasure.rewrite or {}
    return all(column in rewrite and rewrite[column] is None for column in link.columns)


def _nullable(schema: Schema, link: Link) -> bool:
    table = schema.tables[link.table]
    return all(table.columns[column].nullable for column in link.columns)


def _pseudonyms(
    schema: Schema, declared: DatastoreDeclaration, steps: Mapping[str, Step]
) -> Iterable[Problem]:
    """Pseudonyms written into columns that cannot hold one safely."""
    for name in steps:
        erasure = declared.tables[name].erasure
        for column, how in ((erasure.rewrite or {}) if erasure else {}).items():
            if how is None or how.pseudonym is None or column not in schema.tables[name].columns:
                continue
            real = schema.tables[name].columns[column]
            if real.kind != TEXT:
                yield Problem(
                    PSEUDONYM_UNFIT,
                    f"'{name}.{column}' is {real.type}: a pseudonym is text; use fixed or null",
                    name,
                    column,
                )
            elif real.length is not None and real.length < PSEUDONYM_MINIMUM:
                yield Problem(
                    PSEUDONYM_UNFIT,
                    f"'{name}.{column}' holds {real.length} characters: a pseudonym needs at"
                    f" least {PSEUDONYM_MINIMUM} to stay unguessable; use mask, fixed or null",
                    name,
                    column,
                )
