"""``pledge scan`` end to end: a declared SQLite datastore, scanned from the command line."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pledge.cli import app

DATASTORE = """\
datastores:
  app:
    url: sqlite:///{path}
    tables:
      users:
        columns:
          email: {{category: contact.email, identity: email}}
"""

NORTHWIND = """\
datastores:
  northwind:
    url: sqlite:///{path}
    tables:
      Suppliers:
        columns:
          Company: {{category: professional.employer}}
"""


@pytest.fixture
def declaration(tmp_path: Path, clean_yaml: str) -> Path:
    """pledge.yaml declaring a database whose users.email is annotated and fld_2 is not."""
    database = tmp_path / "app.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, fld_2 TEXT)")
        connection.executemany(
            "INSERT INTO users (email, fld_2) VALUES (?, ?)",
            [(f"user{n}@example.com", f"other{n}@example.org") for n in range(50)],
        )
    path = tmp_path / "pledge.yaml"
    path.write_text(clean_yaml + DATASTORE.format(path=database), encoding="utf-8")
    return path


def test_scan_reports_the_unannotated_column_with_a_snippet(declaration: Path) -> None:
    result = CliRunner().invoke(app, ["scan", "app", "-c", str(declaration)])
    assert result.exit_code == 1, result.output
    assert "users.fld_2: contact.email" in result.stdout
    assert "users.email:" not in result.stdout
    assert "fld_2: {category: contact.email}" in result.stdout


def test_scan_as_json(declaration: Path) -> None:
    result = CliRunner().invoke(
        app, ["scan", "app", "-c", str(declaration), "--format", "json", "--sample", "10"]
    )
    report = json.loads(result.stdout)
    assert [(item["table"], item["column"]) for item in report["findings"]] == [("users", "fld_2")]
    assert report["annotated"] == 1
    assert report["findings"][0]["sampled"] == 10


def test_scan_writes_names_as_the_database_spells_them(tmp_path: Path, clean_yaml: str) -> None:
    """Northwind's ``Order Details`` is scanned, its 2007 template's spaced names reported."""
    database = tmp_path / "northwind.db"
    with sqlite3.connect(database) as connection:
        connection.executescript(
            """
            CREATE TABLE Suppliers (ID INTEGER PRIMARY KEY, Company TEXT,
                "E-mail Address" TEXT, "Business Phone" TEXT, "ZIP/Postal Code" TEXT);
            CREATE TABLE "Order Details" (OrderID INTEGER, ProductID INTEGER,
                SupplierID INTEGER REFERENCES Suppliers (ID), UnitPrice NUMERIC,
                PRIMARY KEY (OrderID, ProductID));
            """
        )
        connection.executemany(
            "INSERT INTO Suppliers VALUES (?, ?, ?, ?, ?)",
            [
                (n, "Exotic Liquids", f"buyer{n}@example.com", f"(171) 555-{n:04d}", "EC1 4SD")
                for n in range(1, 30)
            ],
        )
        connection.executemany(
            'INSERT INTO "Order Details" VALUES (?, ?, ?, ?)',
            [(10248 + n // 3, n, 1 + n % 29, "14.00") for n in range(90)],
        )
    path = tmp_path / "pledge.yaml"
    path.write_text(clean_yaml + NORTHWIND.format(path=database), encoding="utf-8")
    result = CliRunner().invoke(app, ["scan", "northwind", "-c", str(path), "--format", "json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert {(item["table"], item["column"]) for item in report["findings"]} == {
        ("Suppliers", "E-mail Address"),
        ("Suppliers", "Business Phone"),
        ("Suppliers", "ZIP/Postal Code"),
    }
    columns = yaml.safe_load(report["snippet"])["tables"]["Suppliers"]["columns"]
    assert columns["ZIP/Postal Code"] == {"category": "contact.postal_address"}


def test_scanning_an_undeclared_datastore_is_a_usage_error(declaration: Path) -> None:
    result = CliRunner().invoke(app, ["scan", "crm", "-c", str(declaration)])
    assert result.exit_code == 2
    assert "declares no datastore 'crm' (declared: app)" in result.stderr


def test_scanning_a_missing_database_file_is_a_usage_error(declaration: Path) -> None:
    (declaration.parent / "app.db").unlink()
    result = CliRunner().invoke(app, ["scan", "app", "-c", str(declaration)])
    assert result.exit_code == 2
    assert "unreachable" in result.stderr
    assert not (declaration.parent / "app.db").exists()
