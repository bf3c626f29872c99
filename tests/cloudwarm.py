"""The Cloudwarm example's own database (examples/cloudwarm/schema) in real databases.

Shared by the datastore tests: the schema is created and seeded in a SQLite file, or in a fresh
PostgreSQL or MariaDB database that is dropped afterwards. An unreachable server skips, or
fails under ``CI=true`` (``tests.backends.unavailable``).
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from tests.backends import POSTGRES_URL, unavailable

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cloudwarm"
MARIADB_URL = os.environ.get("PLEDGE_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
DECLARED_URL = re.compile(r"^    url: .*$", re.MULTILINE)
BACKENDS = ("sqlite", "postgresql", "mariadb")


def _seed_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cloudwarm_seed", EXAMPLE / "schema" / "seed.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SEED = _seed_module()


def load_example(url: str) -> None:
    """Create the example schema at ``url`` and seed it."""
    engine = create_engine(url)
    try:
        SEED.create_schema(engine)
        SEED.seed(engine)
    finally:
        engine.dispose()


def fresh_server_database(admin_url: str, create: str, drop: str, label: str) -> Iterator[str]:
    """A new database on the server at ``admin_url`` holding the seeded example; dropped after."""
    admin = create_engine(
        make_url(admin_url), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    name = f"pledge_ds_{secrets.token_hex(4)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(create.format(name=name)))
    except OperationalError as error:
        admin.dispose()
        unavailable(f"{label} is not reachable at {make_url(admin_url)!r}: {error.orig}")
        return
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        load_example(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(drop.format(name=name)))
        admin.dispose()


def declaration_at(url: str, *edits: tuple[str, str]) -> str:
    """Cloudwarm's pledge.yaml with its datastore URL set to ``url`` and ``edits`` applied."""
    source = (EXAMPLE / "pledge.yaml").read_text(encoding="utf-8")
    source = DECLARED_URL.sub(lambda _: f"    url: {url}", source, count=1)
    for old, new in edits:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return source


def example_database(backend: str, folder: Path) -> Iterator[str]:
    """The URL of a fresh database holding the seeded example on ``backend``; dropped after."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'cloudwarm.db'}"
        load_example(url)
        yield url
    elif backend == "postgresql":
        yield from fresh_server_database(
            POSTGRES_URL,
            'CREATE DATABASE "{name}"',
            'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            "PostgreSQL",
        )
    else:
        yield from fresh_server_database(
            MARIADB_URL,
            "CREATE DATABASE `{name}` CHARACTER SET utf8mb4",
            "DROP DATABASE IF EXISTS `{name}`",
            "MariaDB",
        )
