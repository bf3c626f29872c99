"""``pledge datastores check`` against the Cloudwarm example schema in real databases.

The schema (``examples/cloudwarm/schema/schema.sql``) is loaded and seeded into a SQLite file,
a fresh PostgreSQL database and a fresh MariaDB database per module (dropped afterwards).
PostgreSQL or MariaDB being unreachable skips their variants, or fails them under ``CI=true``
(``tests.backends.unavailable``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from tests.cloudwarm import (
    BACKENDS,
    SEED,
    declaration_at,
    example_database,
    load_example,
)
from typer.testing import CliRunner, Result

import pledge
from pledge.cli import app
from pledge.datastores import SqlDatastore, check, expand_url
from pledge.errors import DatastoreError


@pytest.fixture(scope="module")
def postgres_example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh PostgreSQL database holding the seeded example; dropped afterwards."""
    yield from example_database("postgresql", tmp_path_factory.mktemp("pg"))


@pytest.fixture(scope="module")
def mariadb_example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh MariaDB database holding the seeded example; dropped afterwards."""
    yield from example_database("mariadb", tmp_path_factory.mktemp("maria"))


@pytest.fixture(params=BACKENDS)
def example_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a database holding the seeded example, once per backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cloudwarm.db'}"
        load_example(url)
        return url
    fixture = "postgres_example" if request.param == "postgresql" else "mariadb_example"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def sqlite_example(tmp_path: Path) -> str:
    """The URL of a SQLite file holding the seeded example."""
    url = f"sqlite:///{tmp_path / 'cloudwarm.db'}"
    load_example(url)
    return url


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str], Path]:
    """Writes a declaration into the test's folder and returns its path."""

    def save(text_: str) -> Path:
        path = tmp_path / "pledge.yaml"
        path.write_text(text_, encoding="utf-8")
        return path

    return save


def run(*args: str | Path) -> Result:
    """Run ``pledge ARGS`` in-process."""
    return CliRunner().invoke(app, [str(arg) for arg in args])


def line_of(source: str, *snippets: str) -> int:
    """The line where the last of ``snippets`` occurs, each searched after the previous one."""
    offset = 0
    for snippet in snippets:
        offset = source.index(snippet, offset)
    return source.count("\n", 0, offset) + 1


def test_the_annotated_example_matches_every_backend(
    example_url: str, write: Callable[[str], Path]
) -> None:
    """On SQLite, PostgreSQL and MariaDB the example's annotations match the real schema."""
    result = run("datastores", "check", "-c", write(declaration_at(example_url)))

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "datastore 'app': 9 tables reflected, 0 problems" in result.stderr


def test_the_example_seed_fills_every_table(example_url: str) -> None:
    """The seed gives every table rows, the same on every backend."""
    engine = create_engine(example_url)
    try:
        with engine.connect() as connection:
            counts = {
                table: connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
                for table in SEED.rows()
            }
    finally:
        engine.dispose()
    assert counts == {table: len(rows) for table, rows in SEED.rows().items()}
    assert counts["temperature_readings"] > counts["users"] * 40


def test_reflection_finds_the_foreign_keys(example_url: str) -> None:
    """Reflected foreign keys include the self-reference and both sides of home_members."""
    store = SqlDatastore("app", example_url)
    try:
        schema = store.reflect()
    finally:
        store.close()
    keys = {
        (table.name, key.columns, key.referred_table)
        for table in schema.tables.values()
        for key in table.foreign_keys
    }
    assert ("users", ("referred_by",), "users") in keys
    assert {
        ("home_members", ("home_id",), "homes"),
        ("home_members", ("user_id",), "users"),
    } <= keys
    assert not schema.tables["support_tickets"].foreign_keys


def test_unknown_table_and_column_are_reported_at_their_lines(
    example_url: str, write: Callable[[str], Path]
) -> None:
    """A misspelt table and a misspelt column are errors at their own lines, with a hint."""
    source = declaration_at(
        example_url,
        ("      thermostats:\n", "      thermostat:\n"),
        ("          phone: {category: contact.phone", "          phnoe: {category: contact.phone"),
    )
    path = write(source)

    result = run("datastores", "check", "-c", path, "--format", "json")

    assert result.exit_code == 1
    findings = json.loads(result.stdout)["datastores"][0]["findings"]
    assert [(f["code"], f["line"], f["message"]) for f in findings] == [
        (
            "D802",
            line_of(source, "datastores:", "phnoe:"),
            "column 'phnoe' is not a column of table 'users'; did you mean 'phone'?",
        ),
        (
            "D801",
            line_of(source, "datastores:", "thermostat:"),
            "table 'thermostat' is not in datastore 'app'; did you mean 'thermostats'?",
        ),
    ]


def test_a_dropped_column_is_reported(sqlite_example: str, write: Callable[[str], Path]) -> None:
    """A column dropped after it was declared is reported at its annotation."""
    engine = create_engine(sqlite_example)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE support_tickets DROP COLUMN subject"))
    engine.dispose()
    source = declaration_at(sqlite_example)
    path = write(source)

    result = run("datastores", "check", "-c", path)

    assert result.exit_code == 1
    line = line_of(source, "support_tickets:", "subject:")
    assert result.stdout.splitlines() == [
        f"{path}:{line}:11: error D802: column 'subject' is not a column of table 'support_tickets'"
    ]


def test_a_personal_column_no_identity_reaches_is_reported(
    example_url: str, write: Callable[[str], Path]
) -> None:
    """Without the declared e-mail relation, nothing leads to support tickets: each personal
    column there is reported."""
    source = declaration_at(
        example_url, ("          - {column: customer_email, references: users.email}\n", "")
    )
    source = source.replace("        relations:\n        erasure", "        erasure")
    source = source.replace(
        "        # No foreign key: a ticket only names the e-mail address it came from.\n"
        "        relations:\n",
        "",
    )
    path = write(source)

    result = run("datastores", "check", "-c", path, "--format", "json")

    assert result.exit_code == 1
    findings = json.loads(result.stdout)["datastores"][0]["findings"]
    assert [(f["code"], f["path"]) for f in findings] == [
        ("D803", f"datastores.app.tables.support_tickets.columns.{column}")
        for column in ("customer_email", "subject", "body")
    ]
    assert findings[0]["message"].startswith(
        "no request reaches 'support_tickets.customer_email' (contact.email)"
    )


def test_an_unreachable_datastore_is_one_clear_error(
    tmp_path: Path, write: Callable[[str], Path]
) -> None:
    """A server nobody listens on: exit 2, one line on standard error, nothing on stdout."""
    url = "postgresql+psycopg://app:${PLEDGE_TEST_DS_PASSWORD}@127.0.0.1:1/app"
    path = write(declaration_at(url))

    result = CliRunner().invoke(
        app,
        ["datastores", "check", "-c", str(path)],
        env={"PLEDGE_TEST_DS_PASSWORD": "not-shown"},
    )

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(
        "error: datastore 'app' is unreachable at postgresql+psycopg://app:***@127.0.0.1:1/app:"
    )
    assert "not-shown" not in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_missing_sqlite_file_is_unreachable_not_created(
    tmp_path: Path, write: Callable[[str], Path]
) -> None:
    """SQLite would create a missing file; Pledge reports it instead and creates nothing."""
    missing = tmp_path / "nowhere.db"
    result = run("datastores", "check", "-c", write(declaration_at(f"sqlite:///{missing}")))

    assert result.exit_code == 2
    assert "no such file" in result.stderr
    assert not missing.exists()


def test_an_unset_variable_is_named(write: Callable[[str], Path]) -> None:
    """A URL referring to a variable that is not set names it, and connects to nothing."""
    path = write(declaration_at("postgresql+psycopg://app:${PLEDGE_TEST_UNSET_VARIABLE}@h/app"))

    result = run("datastores", "check", "-c", path)

    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: datastore 'app': environment variable PLEDGE_TEST_UNSET_VARIABLE is not set"
        " (the URL refers to it)"
    )


def test_variables_in_the_password_are_taken_verbatim() -> None:
    """A password with URL syntax in it (@, /, :) reaches the driver unchanged."""
    url = expand_url(
        "app",
        "postgresql+psycopg://app:${PW}@${HOST}:5432/app",
        {"PW": "p@ss/w:rd", "HOST": "db.example"},
    )

    assert (url.password, url.host, url.port, url.database) == (
        "p@ss/w:rd",
        "db.example",
        5432,
        "app",
    )


def test_check_raises_datastore_error_for_the_service_caller(sqlite_example: str) -> None:
    """The service raises DatastoreError, which the CLI and the API map in one place."""
    declaration = pledge.loads(declaration_at(sqlite_example.replace(".db", "-gone.db")))

    with pytest.raises(DatastoreError, match="no such file"):
        check(declaration)
