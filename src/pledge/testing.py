"""Fakes for testing code that uses Pledge, shipped next to the real things.

``InMemoryDatastore`` follows the :class:`pledge.datastores.Datastore` protocol without a
database: give it the schema the real one would reflect (or an error to raise), and pass it
where a connector is expected, e.g. ``check(declaration, connect=fakes.connect)``.
"""

from __future__ import annotations

from collections.abc import Mapping

from pledge.datastores.model import Schema
from pledge.errors import DatastoreError

__all__ = ["InMemoryDatastore", "InMemoryDatastores"]


class InMemoryDatastore:
    """A datastore whose schema is given, not reflected.

    Args:
        name: the datastore's key in the declaration.
        schema: what :meth:`reflect` returns.
        unreachable: when set, :meth:`reflect` raises :class:`DatastoreError` with this reason.
    """

    def __init__(self, name: str, schema: Schema, *, unreachable: str | None = None) -> None:
        self.name = name
        self.schema = schema
        self.unreachable = unreachable
        self.closed = False

    def reflect(self) -> Schema:
        """The given schema.

        Raises:
            DatastoreError: the fake was made unreachable.
        """
        if self.unreachable is not None:
            raise DatastoreError(f"datastore '{self.name}' is unreachable: {self.unreachable}")
        return self.schema

    def close(self) -> None:
        """Record that the caller released the datastore."""
        self.closed = True


class InMemoryDatastores:
    """A connector (name, url → datastore) over in-memory datastores, by name.

    Args:
        schemas: each datastore's schema, by name; a name not given is unreachable.
    """

    def __init__(self, schemas: Mapping[str, Schema]) -> None:
        self.opened: dict[str, InMemoryDatastore] = {}
        self._schemas = dict(schemas)

    def connect(self, name: str, url: str) -> InMemoryDatastore:
        """The in-memory datastore ``name`` (``url`` is ignored)."""
        schema = self._schemas.get(name)
        store = InMemoryDatastore(
            name, schema or Schema(), unreachable=None if schema else "no such datastore"
        )
        self.opened[name] = store
        return store
