"""``scan`` on real SQLite databases: what it reports, what it skips, the snippet it proposes.

The last tests scan the benchmark's five databases (``bench/scan_data``: our own synthetic one
and four shaped like Sakila, Chinook, Northwind and AdventureWorks) against their ground truth.
"""

from __future__ import annotations

import sqlite3
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from bench.scan_data import generate
from sqlalchemy import Engine, Integer, create_engine, inspect

from pledge import loads
from pledge.datastores.scan import ScanReport, scan
from pledge.errors import DatastoreError

ROWS = 300


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A small company database: customers, orders with Luhn-valid numbers, a sparse column."""
    path = tmp_path / "company.db"
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, c_eml_addr TEXT,"
            " last_name TEXT, birth_date DATE, status TEXT, note TEXT)"
        )
        connection.executemany(
            "INSERT INTO customers (email, c_eml_addr, last_name, birth_date, status, note)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    f"person{n}@example.com",
                    f"old{n}@example.org",
                    "Meyer",
                    f"{1950 + n % 50}-0{1 + n % 9}-1{n % 10}",
                    "active",
                    None
                    if n % 150
                    else f"Moved to Lyon in spring, please write to new{n}@example.net",
                )
                for n in range(ROWS)
            ],
        )
        connection.execute(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, order_number TEXT, fld_7 TEXT,"
            " total REAL, placed_on DATE)"
        )
        connection.executemany(
            "INSERT INTO orders (order_number, fld_7, total, placed_on) VALUES (?, ?, ?, ?)",
            [
                ("1000000000000008", f"203.0.113.{n % 250 + 1}", 9.5, f"2024-0{1 + n % 9}-01")
                for n in range(ROWS)
            ],
        )
    return path


@pytest.fixture
def engine(database: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{database}")
    yield engine
    engine.dispose()


def reported(report: ScanReport) -> dict[str, str]:
    return {f"{found.table}.{found.column}": found.category for found in report.findings}


def test_personal_columns_are_reported_with_their_categories(engine: Engine) -> None:
    report = scan(engine, sample=100)
    assert reported(report) == {
        "customers.email": "contact.email",
        "customers.c_eml_addr": "contact.email",
        "customers.last_name": "identity.name",
        "customers.birth_date": "identity.date_of_birth",
        "customers.note": "user_content.inputs",
        "orders.fld_7": "device.ip_address",
    }
    assert all(0.5 <= found.confidence <= 1 for found in report.findings)
    assert report.tables == 2


def test_sampling_is_bounded_per_table(engine: Engine) -> None:
    report = scan(engine, sample=50)
    assert all(found.sampled <= 50 for found in report.findings)
    assert report.values <= 50 * report.columns


def test_a_sparse_column_is_sampled_again_among_its_non_null_values(engine: Engine) -> None:
    """Only 2 of 300 notes are set: a sample of 100 rows would see about none of them."""
    report = scan(engine, sample=100)
    note = next(found for found in report.findings if found.column == "note")
    assert note.sampled == 2


def test_annotated_columns_are_neither_sampled_nor_reported(engine: Engine) -> None:
    report = scan(engine, annotated={("customers", "email"), ("orders", "fld_7")})
    assert "customers.email" not in reported(report)
    assert "orders.fld_7" not in reported(report)
    assert report.annotated == 2


def test_progress_is_told_after_each_table(engine: Engine) -> None:
    told: list[tuple[str, int, int]] = []
    scan(engine, progress=lambda table, done, total: told.append((table, done, total)))
    assert told == [("customers", 1, 2), ("orders", 2, 2)]


def test_the_snippet_is_a_datastores_section_the_declaration_accepts(
    engine: Engine, database: Path, clean_yaml: str
) -> None:
    report = scan(engine)
    snippet = report.snippet()
    parsed = yaml.safe_load(snippet)
    assert parsed["tables"]["customers"]["columns"]["email"] == {"category": "contact.email"}
    section = f"datastores:\n  company:\n    url: sqlite:///{database}\n"
    declaration = loads(clean_yaml + section + textwrap.indent(snippet, "    "))
    tables = declaration.datastores["company"].tables
    assert tables["orders"].columns["fld_7"].category == "device.ip_address"


def test_the_report_as_json_data(engine: Engine) -> None:
    data = scan(engine).to_dict()
    assert {"tables", "columns", "values", "findings", "possible", "snippet"} <= data.keys()
    first = data["findings"][0]
    assert {"table", "column", "category", "confidence", "reasons"} <= first.keys()


def test_an_empty_database_has_nothing_to_report(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    report = scan(engine)
    engine.dispose()
    assert report.findings == ()
    assert report.snippet() == ""


def test_an_unreadable_database_is_a_datastore_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database" * 100)
    engine = create_engine(f"sqlite:///{broken}")
    with pytest.raises(DatastoreError, match="cannot scan"):
        scan(engine)
    engine.dispose()


def test_a_type_sqlite_reads_as_a_number_is_sampled_as_text(tmp_path: Path) -> None:
    """AdventureWorks' ``UNIQUEIDENTIFIER`` and Northwind's ``IMAGE`` have numeric affinity."""
    path = tmp_path / "ported.db"
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE EmailAddress (EmailAddressID INT PRIMARY KEY,"
            " EmailAddress NVARCHAR(50), rowguid UNIQUEIDENTIFIER, Photo IMAGE)"
        )
        connection.executemany(
            "INSERT INTO EmailAddress VALUES (?, ?, ?, ?)",
            [
                (n, f"ken{n}@adventure-works.com", f"92C4279F-1207-48A3-8448-{n:012X}", b"\x00")
                for n in range(1, 60)
            ],
        )
    engine = create_engine(f"sqlite:///{path}")
    report = scan(engine)
    engine.dispose()
    assert reported(report) == {"EmailAddress.EmailAddress": "contact.email"}


Truth = dict[tuple[str, str, str], str | None]
Scans = dict[str, dict[str, ScanReport]]


@pytest.fixture(scope="module")
def benchmark(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Truth, Scans]:
    """The benchmark's five databases, their ground truth per column, and their scans by region.

    Phone numbers are read in the US and in Germany, whose permissive numbering plan takes
    most codes for numbers.
    """
    folder = tmp_path_factory.mktemp("scan-benchmark")
    truths = generate(folder)
    truth = {
        (database, table, column): category
        for database, columns in truths.items()
        for (table, column), category in columns.items()
    }
    scans: Scans = {}
    for region in ("US", "DE"):
        for database in truths:
            engine = create_engine(f"sqlite:///{folder / database}.db")
            scans.setdefault(region, {})[database] = scan(engine, region=region, sample=500)
            engine.dispose()
    return folder, truth, scans


@pytest.mark.parametrize("region", ["US", "DE"])
def test_the_benchmark_databases_are_scanned_with_the_promised_precision_and_recall(
    benchmark: tuple[Path, Truth, Scans], region: str
) -> None:
    _, truth, scans = benchmark
    found = {
        (database, item.table, item.column)
        for database, report in scans[region].items()
        for item in report.findings
    }
    personal = {column for column, category in truth.items() if category is not None}
    precision = len(found & personal) / len(found)
    recall = len(found & personal) / len(personal)
    assert precision >= 0.95, sorted(found - personal)
    assert recall >= 0.9, sorted(personal - found)


@pytest.mark.parametrize("region", ["US", "DE"])
def test_no_integer_key_of_the_benchmark_databases_is_reported(
    benchmark: tuple[Path, Truth, Scans], region: str
) -> None:
    """Not even as possibly personal: ``address_id``, ``city_id``, ``EmailAddressID``…"""
    folder, _, scans = benchmark
    for database, report in scans[region].items():
        engine = create_engine(f"sqlite:///{folder / database}.db")
        schema = inspect(engine)
        keys = set()
        for table in schema.get_table_names():
            integers = {
                column["name"]
                for column in schema.get_columns(table)
                if isinstance(column["type"], Integer)
            }
            declared = set(schema.get_pk_constraint(table)["constrained_columns"])
            for foreign in schema.get_foreign_keys(table):
                declared.update(foreign["constrained_columns"])
            keys |= {(table, column) for column in declared & integers}
        engine.dispose()
        flagged = {(item.table, item.column) for item in report.findings + report.possible}
        assert not flagged & keys, database


@pytest.mark.parametrize("region", ["US", "DE"])
def test_only_birth_dates_of_the_benchmark_databases_are_taken_for_birth_dates(
    benchmark: tuple[Path, Truth, Scans], region: str
) -> None:
    """Hire, order, invoice, rental and update dates are not even listed as possible."""
    _, truth, scans = benchmark
    births = {column for column, category in truth.items() if category == "identity.date_of_birth"}
    taken = {
        (database, item.table, item.column)
        for database, report in scans[region].items()
        for item in report.findings + report.possible
        if item.category == "identity.date_of_birth"
    }
    assert taken == births
