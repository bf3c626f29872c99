"""The scan benchmark's databases: our own synthetic one, and four shaped like public samples.

:func:`generate` writes five SQLite files with the standard library only (``sqlite3``,
``random`` with a fixed seed) and returns the ground truth per column: the category it holds,
or None. ``synthetic`` is ours, built around the hard cases of one company's tables. The other
four are not ours: their tables, columns, types, keys and value formats follow Sakila (MySQL's
sample; Pagila on PostgreSQL), Chinook, Northwind and AdventureWorks, with generated values.
Each is a file of its own, as the originals are separate databases; in one file their table
names would collide (SQLite takes Sakila's ``customer`` and Chinook's ``Customer``, or
Northwind's ``Orders`` and the synthetic ``orders``, for one name).

The ground truth says what a privacy engineer would call personal data:

- personal: names, e-mail addresses, phone and fax numbers, street lines, postal codes and
  cities in the addresses of people, birth dates, photos of people (and the path to one),
  free-text notes about people, user names and password hashes;
- names of people wherever they stand: Sakila's film actors and Chinook's composers are
  credits in a catalogue, but they name natural persons, and a scan should show them;
- the address and numbers in a customer's or a supplier's row even where the customer is a
  company: Northwind's customers are businesses with a named contact who is reached there,
  and nothing in a column tells a business's address from a sole trader's. A carrier's
  switchboard number (Northwind ``Shippers.Phone``) is not personal: no person is in that row.
  The scan reports it as a phone column, and the benchmark counts that as a false positive;
- not personal: ids and keys, product, album, film and company names, prices, durations,
  sizes, dates of events (hire, order, invoice, rental, payment, last update), regions,
  states, districts and countries (too coarse to find anyone by), the list of the world's
  cities (Sakila's ``city`` table), pictures of products and categories, and attributes that
  neither identify nor reach a person on their own (job and courtesy titles, phone
  extensions, a promotion preference).

Standard library only, so tests import it as ``bench.scan_data``.
"""

from __future__ import annotations

from pathlib import Path

from . import adventureworks, chinook, northwind, sakila, synthetic
from .synthetic import SEED
from .values import Values, write

Truth = dict[tuple[str, str], str | None]
"""The category each ``(table, column)`` of one database holds, or None."""

PUBLIC_SHAPES = {
    "sakila": sakila.tables,
    "chinook": chinook.tables,
    "northwind": northwind.tables,
    "adventureworks": adventureworks.tables,
}


def generate(folder: Path, seed: int = SEED) -> dict[str, Truth]:
    """Write the five databases into ``folder`` as ``NAME.db``.

    Args:
        folder: an existing directory.
        seed: the random generators' seed: the same seed writes the same databases.

    Returns:
        The ground truth of each database, by name (``synthetic``, ``sakila``, ``chinook``,
        ``northwind``, ``adventureworks``).
    """
    truths = {"synthetic": synthetic.generate(folder / "synthetic.db", seed)}
    for offset, (name, tables) in enumerate(PUBLIC_SHAPES.items(), 1):
        truths[name] = write(folder / f"{name}.db", tables(Values(seed + offset)))
    return truths
