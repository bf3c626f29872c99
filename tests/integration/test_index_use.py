"""The indexes docs/declaration.md tells users to create serve Pledge's lookups on PostgreSQL,
even under a prepared statement's generic plan (the driver prepares a statement run often)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from pledge.datastores.matching import index_expression, phone_spellings
from pledge.datastores.statements import Condition, Tables
from pledge.declaration.datastores import MatchKind

pytestmark = pytest.mark.usefixtures("postgres_url")

ROWS = 20_000


@pytest.fixture
def company(postgres_url: str) -> Iterator[Engine]:
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS index_use_people"))
        connection.execute(
            text(
                "CREATE TABLE index_use_people (id INTEGER PRIMARY KEY, email VARCHAR(200),"
                " phone VARCHAR(50))"
            )
        )
        connection.execute(
            text(
                "INSERT INTO index_use_people SELECT n, 'Person' || n || '@Example.org',"
                " '+49 (0)30 ' || (1000000 + n) FROM generate_series(1, :rows) AS n"
            ),
            {"rows": ROWS},
        )
        for column, match in (("email", MatchKind.IGNORE_CASE), ("phone", MatchKind.PHONE)):
            expression = index_expression(column, match, "postgresql")
            connection.execute(text(f"CREATE INDEX ON index_use_people (({expression}))"))
        connection.execute(text("ANALYZE index_use_people"))
    try:
        yield engine
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE index_use_people"))
        engine.dispose()


def _plan(engine: Engine, match: MatchKind, column: str, values: list[str]) -> str:
    """The generic plan of Pledge's lookup of ``values`` in ``column``, as JSON text."""
    with engine.connect() as connection:
        tables = Tables(connection, ["index_use_people"], "company")
        statement = tables.select("index_use_people", ("id",), (Condition((column,), match),))
        sql = str(statement.compile(dialect=connection.dialect)).replace("%(p0)s", "$1")
        connection.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        connection.exec_driver_sql(f"PREPARE pledge_lookup AS {sql}")
        try:
            listed = "{" + ",".join(json.dumps(value) for value in values) + "}"
            rows: Any = connection.exec_driver_sql(
                f"EXPLAIN (FORMAT JSON) EXECUTE pledge_lookup('{listed}'::varchar[])"
            ).scalar_one()
        finally:
            connection.exec_driver_sql("DEALLOCATE pledge_lookup")
            connection.exec_driver_sql("RESET plan_cache_mode")
    return json.dumps(rows)


def test_an_email_lookup_uses_the_lower_trim_index(company: Engine) -> None:
    plan = _plan(company, MatchKind.IGNORE_CASE, "email", ["person42@example.org"])
    assert "Seq Scan" not in plan
    assert "index_use_people_lower_idx" in plan


def test_a_phone_lookup_uses_the_digits_index_under_a_generic_plan(company: Engine) -> None:
    plan = _plan(company, MatchKind.PHONE, "phone", sorted(phone_spellings("+49301000042")))
    assert "Seq Scan" not in plan
    assert "index_use_people_replace_idx" in plan
