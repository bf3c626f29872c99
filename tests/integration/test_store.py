"""Pledge's own store on both backends: migrations, time zones, unavailability."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from pledge.errors import StoreUnavailable
from pledge.store.database import Database, alembic_config
from pledge.store.tables import metadata, subjects


def head_revision(store: Database) -> str | None:
    """The newest revision of the migrations shipped in the package."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(store)).get_current_head()


def test_the_schema_is_at_the_latest_migration(store: Database) -> None:
    """After an upgrade the database is at the newest revision and has every table."""
    assert store.current_revision() == head_revision(store)
    assert store.has_schema()


def test_upgrading_twice_changes_nothing(store: Database) -> None:
    """`pledge db upgrade` is idempotent."""
    store.upgrade()
    assert store.current_revision() == head_revision(store)


def test_the_migrations_create_exactly_the_tables_of_the_code(store: Database) -> None:
    """Autogenerate finds nothing to do: no table, column or index is missing a migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with store.read() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_times_come_back_in_utc(store: Database) -> None:
    """A time written in another zone is read back as the same instant, in UTC."""
    berlin = dt.timezone(dt.timedelta(hours=1))
    written = dt.datetime(2026, 3, 1, 12, 30, tzinfo=berlin)
    with store.transaction() as connection:
        connection.execute(
            subjects.insert().values(id="0" * 26, created_at=written, restricted=False)
        )
    with store.read() as connection:
        read = connection.execute(select(subjects.c.created_at)).scalar_one()
    assert read == written and read.tzinfo == dt.UTC


def test_naive_times_are_refused(store: Database) -> None:
    """Pledge stores UTC only: a time without a zone is a programming error, not a guess."""
    with pytest.raises(Exception, match="naive datetime"), store.transaction() as connection:
        connection.execute(
            subjects.insert().values(
                id="1" * 26, created_at=dt.datetime(2026, 1, 1), restricted=False
            )
        )


def test_an_unreachable_database_is_reported_as_unavailable() -> None:
    """Nothing listens on port 1: the store says so, as StoreUnavailable, without hanging."""
    database = Database("postgresql+psycopg://postgres@127.0.0.1:1/nothing")
    with pytest.raises(StoreUnavailable, match="unavailable"), database.transaction():
        pass
