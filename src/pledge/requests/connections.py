"""The company's datastores as a job (or a dry run) opens them: a connector per datastore,
kept across jobs, and per job each datastore reflected and planned once.

A connector's pooled connections (and SQLAlchemy's cache of compiled statements) outlive a
job; each job sees the schema as it is when it starts, and its steps share that one look.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from pledge.datastores.errors import translate
from pledge.datastores.model import Datastore
from pledge.datastores.plan import Plan, build_plan
from pledge.datastores.sql import SqlDatastore
from pledge.datastores.statements import Tables
from pledge.declaration.model import Declaration
from pledge.errors import DatastoreError, NotFound, PlanRefused

Connector = Callable[[str, str], Datastore]
"""Opens a datastore from its name and declared URL."""


class DatastoreConnections:
    """The connector of each declared datastore, opened on first use and kept.

    Args:
        declaration: the declaration in force (its ``datastores`` section).
        connect: opens a datastore (the SQL connector, kept open, by default).
    """

    def __init__(self, declaration: Declaration, connect: Connector | None = None) -> None:
        self.declaration = declaration
        self.connect = connect or long_lived
        self._stores: dict[str, Datastore] = {}
        self._planned: dict[str, Opened] = {}
        self._lock = threading.Lock()

    def planned(self, name: str, fingerprint: str) -> Opened | None:
        """The datastore as an earlier job opened it, if its schema is still the same."""
        with self._lock:
            found = self._planned.get(name)
        return found if found is not None and found.fingerprint == fingerprint else None

    def keep(self, opened: Opened) -> None:
        """Keep a datastore's plan and tables for the next jobs, while the schema holds."""
        with self._lock:
            self._planned[opened.name] = opened

    def store(self, name: str, url: str) -> Datastore:
        """The connector of datastore ``name``, opened once and kept for every job."""
        with self._lock:
            found = self._stores.get(name)
            if found is None:
                found = self._stores[name] = self.connect(name, url)
            return found

    def opened(self) -> OpenedDatastores:
        """The datastores of one job or dry run."""
        return OpenedDatastores(self)

    def close(self) -> None:
        """Release the datastores' connections."""
        with self._lock:
            stores, self._stores = list(self._stores.values()), {}
            self._planned = {}
        for store in stores:
            store.close()


@dataclass(frozen=True)
class Opened:
    """A datastore opened for a job: its connector, its plan and the plan's tables (with the
    statements compiled for them), and the schema's fingerprint they were built on."""

    name: str
    store: SqlDatastore
    plan: Plan
    tables: Tables
    fingerprint: str = ""


def long_lived(name: str, url: str) -> SqlDatastore:
    """The SQL connector of a datastore kept open across jobs."""
    # Kept across jobs, its pooled connections are checked before use: a database restarted
    # in between costs a reconnect, not a failed step.
    return SqlDatastore(name, url, pre_ping=True)


class OpenedDatastores:
    """The datastores of one job (or dry run): each planned on first use, so that a job's steps
    share one look at the schema, and every job sees the schema as it is when it starts. A
    plan is kept across jobs (with its statements, compiled once) for as long as the schema's
    fingerprint (one catalogue query) stays the same; any change reflects and plans anew.

    Args:
        connections: the connectors.
    """

    def __init__(self, connections: DatastoreConnections) -> None:
        self.connections = connections
        self._opened: dict[str, Opened] = {}

    def open(self, name: str, *, strict: bool = True) -> Opened:
        """The datastore ``name``, opened on first use.

        Args:
            name: the datastore.
            strict: refuse a plan that cannot be carried out as declared (a dry run shows it
                instead).

        Raises:
            NotFound: no such datastore is declared.
            DatastoreError: it cannot be reached, cannot run queries or no longer matches
                the declaration.
            PlanRefused: ``strict``, and the plan has problems.
        """
        found = self._opened.get(name)
        if found is None:
            declared = self.connections.declaration.datastores.get(name)
            if declared is None:
                raise NotFound(f"no datastore '{name}' is declared")
            store = self.connections.store(name, declared.url)
            if not isinstance(store, SqlDatastore):
                raise DatastoreError(f"datastore '{name}' cannot run queries")
            fingerprint = store.fingerprint(declared.tables)
            found = self.connections.planned(name, fingerprint)
            if found is None:
                region = self.connections.declaration.controller.country
                schema = store.reflect(only=declared.tables)
                plan = build_plan(name, schema, declared, region=region)
                try:
                    with store.engine.connect() as connection:
                        tables = Tables(connection, plan.tables_used(), name, store.metadata)
                except SQLAlchemyError as error:
                    raise translate(error, name) from None
                found = Opened(name, store, plan, tables, fingerprint)
                self.connections.keep(found)
            self._opened[name] = found
        if strict and found.plan.problems:
            raise PlanRefused(name, found.plan.problems)
        return found

    def __enter__(self) -> OpenedDatastores:
        return self

    def __exit__(self, *_: object) -> None:
        self._opened.clear()
