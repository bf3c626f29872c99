"""Whose rows are whose: which links of a datastore make a row someone's, and which do not.

Plain Python, no I/O. The one reachability every request, ``--dry-run``, report and ``pledge
datastores check`` uses. The rules, with ``docs/declaration.md`` drawing them:

- A **table of people** (``role: person``, or by default a table with an e-mail, phone or
  account identity column that does not point to a declared table of people) holds one
  person per row: customers, staff, employees.
- An **owned** table's rows belong to the person they link to. Its *owner link* is the link
  that leads, through owned tables, to a table of people (``orders.customer_id →
  customers``; ``order_items.order_id → orders``). Two or more such links
  (``bookings.customer_id → customers`` and ``bookings.handled_by → staff``; a membership's
  ``home_id`` and ``user_id``) make the table ambiguous until the declaration says ``follow:
  false`` on the links that only refer to someone, or ``follow: true`` on each link whose rows
  belong to every person they link to. A link to a table whose owners lead back (a cycle)
  is not an owner link.
- A **reference** table belongs to nobody by its links (addresses, profiles, cities): a row of
  it is reached when the person's rows point to it, and is theirs alone unless another row
  points to it too (then it is shared).
- A link between two tables of people, a self-reference, and ``follow: false`` are followed
  for nothing: they refer to someone else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pledge.datastores.model import Link, Schema, links
from pledge.declaration.datastores import Datastore as DatastoreDeclaration
from pledge.declaration.datastores import TableRole

PERSON = "person"
OWNED = "owned"
REFERENCE = "reference"


@dataclass(frozen=True, slots=True)
class Place:
    """How the rows of one reached table are found.

    Args:
        role: person, owned or reference.
        level: the order rows are collected in: a table after every table it is found from.
        owners: the links along which its rows are found from their owners' rows (owned).
        references: the links from reached tables along which its rows are found (reference).
    """

    role: str
    level: int
    owners: tuple[Link, ...] = ()
    references: tuple[Link, ...] = ()


@dataclass(frozen=True, slots=True)
class Graph:
    """The reachability of one datastore's declared tables.

    Args:
        places: every reached table, and how.
        links: every link of the schema (undeclared tables included): the constraints.
        ambiguous: owned tables with several links that could make a row someone's.
        unreached: declared tables with annotated columns that no request reaches, with why.
        ignored: links requests do not follow, with why.
    """

    places: Mapping[str, Place]
    links: tuple[Link, ...]
    ambiguous: Mapping[str, tuple[Link, ...]]
    unreached: Mapping[str, str]
    ignored: tuple[tuple[Link, str], ...]

    def into(self, table: str) -> tuple[Link, ...]:
        """Every link of the schema that points into ``table`` (self-references included)."""
        return tuple(link for link in self.links if link.other == table)


def build_graph(schema: Schema, declared: DatastoreDeclaration) -> Graph:
    """Decide, from the schema and the annotations, which declared tables a request reaches.

    Declared tables the schema lacks are left out (the plan refuses them as drift).
    """
    every = links(schema, declared)
    present = [name for name in declared.tables if name in schema.tables]
    people = _people(present, declared, every)
    identified = {
        name
        for name in present
        if any(column.identity is not None for column in declared.tables[name].columns.values())
    }
    among = [link for link in every if link.table in present and link.other in present]
    ignored: list[tuple[Link, str]] = []
    candidates: list[Link] = []
    for link in among:
        if link.is_self:
            ignored.append((link, "a self-reference: it points to another row, not a row's owner"))
        elif link.follow is False:
            ignored.append((link, "declared follow: false"))
        elif link.table in people and link.other in people:
            ignored.append(
                (link, f"a reference to someone else: {link.other} is a table of people")
            )
        else:
            candidates.append(link)

    distance = _distances(people, candidates)
    owners: dict[str, tuple[Link, ...]] = {}
    ambiguous: dict[str, tuple[Link, ...]] = {}
    for name in present:
        if name in people or name not in distance:
            continue
        outgoing = [link for link in candidates if link.table == name and link.other in distance]
        # A link to a table whose own owners lead back here closes a loop: not an owner.
        possible = [
            link for link in outgoing if not _leads_to(link.other, name, candidates, people)
        ]
        chosen = [link for link in possible if link.follow is True]
        if not chosen:
            if len(possible) == 1:
                chosen = possible
            else:
                ambiguous[name] = tuple(possible)
        owners[name] = tuple(chosen)
        for link in outgoing:
            if link not in chosen and name not in ambiguous:
                ignored.append((link, f"{name}'s rows are found along {chosen[0].label}"))
    for link in candidates:
        if link.table in people and link.other in distance and link.other not in people:
            ignored.append((link, f"{link.other}'s rows are found along their own links"))

    levels, cyclic = _levels(people, identified, owners)
    for name in cyclic:
        ambiguous.setdefault(name, owners.get(name, ()))
    places = {
        name: Place(PERSON if name in people else OWNED, level, owners.get(name, ()))
        for name, level in levels.items()
    }
    references = _references(present, people, distance, candidates, places)
    places.update(references)
    unreached = {
        name: _why_unreached(name, declared, ambiguous, owners, distance, among)
        for name in present
        if declared.tables[name].columns and name not in places
    }
    return Graph(places, tuple(every), ambiguous, unreached, tuple(ignored))


def _people(present: list[str], declared: DatastoreDeclaration, every: list[Link]) -> set[str]:
    """The tables of people: declared ``role: person``, or with an e-mail, phone or account
    identity column, unless they say ``role: owned`` or point to a declared table of people
    (``user_emails.user_id → users.id``: an address of a person, not a person)."""
    declared_people = {name for name in present if declared.tables[name].role is TableRole.PERSON}
    people = set(declared_people)
    for name in present:
        annotation = declared.tables[name]
        if annotation.role is not None or not annotation.is_person:
            continue
        belongs = any(
            link.table == name and link.other in declared_people and link.follow is not False
            for link in every
            if not link.is_self
        )
        if not belongs:
            people.add(name)
    return people


def _distances(people: set[str], candidates: list[Link]) -> dict[str, int]:
    """How many links each table is from a table of people, along candidate links."""
    distance = dict.fromkeys(people, 0)
    changed = True
    while changed:
        changed = False
        for link in candidates:
            if link.table in people or link.other not in distance:
                continue
            nearer = distance[link.other] + 1
            if nearer < distance.get(link.table, nearer + 1):
                distance[link.table] = nearer
                changed = True
    return distance


def _leads_to(start: str, goal: str, candidates: list[Link], people: set[str]) -> bool:
    """Whether the links that could make ``start``'s rows someone's lead, through owned
    tables, to ``goal``."""
    seen = {start}
    queue = [start]
    while queue:
        name = queue.pop()
        if name == goal:
            return True
        if name in people:
            continue
        for link in candidates:
            if link.table == name and link.other not in seen:
                seen.add(link.other)
                queue.append(link.other)
    return False


def _levels(
    people: set[str], identified: set[str], owners: Mapping[str, tuple[Link, ...]]
) -> tuple[dict[str, int], list[str]]:
    """The collection level of each reached person and owned table, and the owned tables whose
    owner links (``follow: true``) run in a cycle."""
    levels: dict[str, int] = dict.fromkeys(people, 0)
    for name in identified:
        levels.setdefault(name, 0)
    cyclic: list[str] = []
    visiting: set[str] = set()

    def level(name: str) -> int | None:
        if name in levels and not owners.get(name):
            return levels[name]
        if name in visiting:
            return None
        visiting.add(name)
        parents = [level(link.other) for link in owners.get(name, ())]
        visiting.discard(name)
        reached = [found for found in parents if found is not None]
        if len(reached) < len(parents) and name not in cyclic:
            cyclic.append(name)
        if not reached:
            return levels.get(name)
        levels[name] = 1 + max(reached)
        return levels[name]

    for name in list(owners):
        level(name)
    return levels, cyclic


def _references(
    present: list[str],
    people: set[str],
    distance: Mapping[str, int],
    candidates: list[Link],
    reached: Mapping[str, Place],
) -> dict[str, Place]:
    """The tables that belong to nobody by their links, reached from reached tables' rows."""
    nobody = {name for name in present if name not in people and name not in distance}
    found: dict[str, Place] = {}
    frontier = set(reached)
    level = 1 + max((place.level for place in reached.values()), default=0)
    while frontier:
        arriving: dict[str, list[Link]] = {}
        for link in candidates:
            if link.table in frontier and link.other in nobody and link.other not in found:
                arriving.setdefault(link.other, []).append(link)
        for name, incoming in arriving.items():
            found[name] = Place(REFERENCE, level, references=tuple(incoming))
        frontier = set(arriving)
        level += 1
    return found


def _why_unreached(
    name: str,
    declared: DatastoreDeclaration,
    ambiguous: Mapping[str, tuple[Link, ...]],
    owners: Mapping[str, tuple[Link, ...]],
    distance: Mapping[str, int],
    among: list[Link],
) -> str:
    if name in ambiguous:
        return "which person a row belongs to is ambiguous (see the error on its links)"
    if name in distance:
        return "it is found only through a table whose owner is ambiguous"
    pointing = sorted({link.table for link in among if link.other == name and not link.is_self})
    people_pointing = [
        other for other in pointing if declared.tables[other].is_person and other != name
    ]
    if people_pointing:
        return (
            f"rows of {', '.join(people_pointing)} point to it, but a table of people's links"
            f" refer to someone else: if a row of '{name}' is a person, declare role: person"
        )
    return (
        "no identity column, foreign key or declared relation links it to a table of people"
        " or to the person's rows"
    )
