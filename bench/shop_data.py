"""Load the shop data set (100,000 customers, 1.3 million rows) into PostgreSQL.

Usage::

    .venv/bin/python bench/shop_data.py [--customers 100000] [--seed N] [--url URL] [--force]

The data set is not Pledge's: it is the product-neutral one the reference figures of other
products were measured on (``schema.sql``, ``indexes.sql`` and ``generate.py`` of the folder
``shared/bench/shop`` beside the repository's folder, or ``PLEDGE_BENCH_SHOP_DIR``). Its
``generate.py`` (standard library only, fixed seed) writes the rows as CSV into a temporary
folder, removed after the load; nothing generated is kept in the repository. The rows go into
the database ``pledge_bench_shop`` (or ``PLEDGE_BENCH_SHOP_URL``; created when missing) with
``COPY`` in one transaction, then ``indexes.sql`` adds the data set's indexes and runs
``VACUUM ANALYZE``, as its README says. As with ``cloudwarm_data.py`` the load is recorded in
``generator.generation`` with its parameters and a digest of the data set's files: a later call
with the same ones finds it and does nothing (``--force`` loads again).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from rich.progress import Progress

from cloudwarm_data import conninfo, create_database

REPOSITORY = Path(__file__).resolve().parents[1]
SHOP = Path(
    os.environ.get("PLEDGE_BENCH_SHOP_DIR", REPOSITORY.parent / "shared" / "bench" / "shop")
)
URL = os.environ.get(
    "PLEDGE_BENCH_SHOP_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/pledge_bench_shop"
)
CUSTOMERS = 100_000
SEED = 20261122
VERSION = 1
"""Bumped whenever the way the data set is loaded changes, so that older loads are rebuilt."""
TABLES = ("customers", "addresses", "orders", "order_items", "support_tickets", "newsletter")
"""Parents before children: the order of the load."""
FILES = ("generate.py", "schema.sql", "indexes.sql")
LOCK = 73_942_612
"""The advisory lock that keeps two loads of one database from running at once."""

Connection = psycopg.Connection[tuple[object, ...]]


class DataSetMissing(RuntimeError):
    """The shop data set's folder, or one of its files, is not where it is looked for."""


@dataclass(frozen=True)
class Generation:
    """What the database holds: the load's parameters, its rows per table and how long it took.

    ``loaded`` tells whether this call loaded it, or found it already there.
    """

    customers: int
    seed: int
    counts: dict[str, int]
    seconds: float
    loaded: bool

    @property
    def rows(self) -> int:
        """Rows in every table together."""
        return sum(self.counts.values())


def data_set(folder: Path = SHOP) -> Path:
    """The folder of the shop data set, checked.

    Raises:
        DataSetMissing: the folder or one of its files is missing.
    """
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        raise DataSetMissing(
            f"the shop data set is not in {folder} (missing: {', '.join(missing)}); set"
            " PLEDGE_BENCH_SHOP_DIR to the folder holding generate.py, schema.sql and indexes.sql"
        )
    return folder


def ensure(
    url: str = URL,
    customers: int = CUSTOMERS,
    seed: int = SEED,
    *,
    force: bool = False,
    progress: bool = True,
    folder: Path = SHOP,
) -> Generation:
    """Make the database at ``url`` hold the shop data set for ``customers`` from ``seed``.

    Args:
        url: SQLAlchemy URL of the PostgreSQL database, created when missing.
        customers: how many customers ``generate.py`` makes.
        seed: its random seed; the same parameters give the same rows.
        force: load again even when the database holds this load already.
        progress: show progress bars.
        folder: the data set's folder.

    Returns:
        The load found or made.

    Raises:
        DataSetMissing: the data set is not in ``folder``.
    """
    folder = data_set(folder)
    digest = hashlib.sha256(b"".join((folder / name).read_bytes() for name in FILES)).hexdigest()
    parameters = json.dumps(
        {"customers": customers, "seed": seed, "version": VERSION, "data_set": digest}
    )
    create_database(url)
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (LOCK,))
        try:
            found = _recorded(connection, parameters)
            if found is not None and not force:
                counts, seconds = found
                return Generation(customers, seed, counts, seconds, loaded=False)
            started = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="pledge-shop-") as scratch:
                _generate(folder, customers, seed, Path(scratch))
                with connection.transaction():
                    counts = _load(connection, folder, Path(scratch), progress)
            _index(connection, folder, progress)
            seconds = time.perf_counter() - started
            # Recorded last: a load cut short is loaded again next time.
            connection.execute(
                "CREATE SCHEMA generator; CREATE TABLE generator.generation"
                " (parameters jsonb NOT NULL, counts jsonb NOT NULL,"
                " seconds double precision NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now())"
            )
            connection.execute(
                "INSERT INTO generator.generation (parameters, counts, seconds)"
                " VALUES (%s, %s, %s)",
                (parameters, json.dumps(counts), seconds),
            )
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (LOCK,))
    return Generation(customers, seed, counts, seconds, loaded=True)


def _recorded(connection: Connection, parameters: str) -> tuple[dict[str, int], float] | None:
    exists = connection.execute("SELECT to_regclass('generator.generation')").fetchone()
    if exists is None or exists[0] is None:
        return None
    row = connection.execute(
        "SELECT counts, seconds FROM generator.generation WHERE parameters = %s::jsonb",
        (parameters,),
    ).fetchone()
    if row is None:
        return None
    counts, seconds = row
    assert isinstance(counts, dict) and isinstance(seconds, float)
    return {table: int(counts[table]) for table in TABLES}, seconds


def _generate(folder: Path, customers: int, seed: int, out: Path) -> None:
    """Run the data set's own ``generate.py`` (standard library only) into ``out``."""
    subprocess.run(
        [
            sys.executable,
            str(folder / "generate.py"),
            "--customers",
            str(customers),
            "--seed",
            str(seed),
            "--out",
            str(out),
        ],
        cwd=folder,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _load(connection: Connection, folder: Path, scratch: Path, progress: bool) -> dict[str, int]:
    """Replace the tables with the CSV files of ``scratch``, in the caller's transaction."""
    connection.execute("DROP SCHEMA IF EXISTS generator CASCADE")
    connection.execute((folder / "schema.sql").read_text(encoding="utf-8"))
    sizes = {table: (scratch / f"{table}.csv").stat().st_size for table in TABLES}
    with Progress(transient=True, disable=not progress) as bars:
        copying = bars.add_task("copying", total=sum(sizes.values()))
        with connection.cursor() as cursor:
            for table in TABLES:
                bars.update(copying, description=f"copying {table}")
                with (
                    (scratch / f"{table}.csv").open("rb") as source,
                    cursor.copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy,
                ):
                    while block := source.read(1 << 20):
                        copy.write(block)
                        bars.advance(copying, len(block))
    counts = json.loads((scratch / "counts.json").read_text(encoding="utf-8"))
    return {table: int(counts[table]) for table in TABLES}


def _index(connection: Connection, folder: Path, progress: bool) -> None:
    """Run ``indexes.sql`` statement by statement (its ``VACUUM`` cannot run in a block)."""
    text = "\n".join(
        line
        for line in (folder / "indexes.sql").read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("--")
    )
    statements = [statement.strip() for statement in text.split(";") if statement.strip()]
    with Progress(transient=True, disable=not progress) as bars:
        task = bars.add_task("indexing", total=len(statements))
        for statement in statements:
            connection.execute(statement)
            bars.advance(task)


def main() -> None:
    """Load the database at ``--url`` unless it holds this load already."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=URL, help="SQLAlchemy URL (PostgreSQL)")
    parser.add_argument("--customers", type=int, default=CUSTOMERS, help=f"default {CUSTOMERS:,}")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed")
    parser.add_argument("--force", action="store_true", help="load again even if loaded")
    arguments = parser.parse_args()
    try:
        found = ensure(arguments.url, arguments.customers, arguments.seed, force=arguments.force)
    except DataSetMissing as error:
        parser.exit(2, f"error: {error}\n")
    verb = "loaded" if found.loaded else "already held"
    print(f"{verb}: {found.rows:,} rows in {found.seconds:.1f} s")
    print(", ".join(f"{table}: {count:,}" for table, count in found.counts.items()))


if __name__ == "__main__":
    main()
