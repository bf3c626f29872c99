"""Connectors to the company's own databases: reflect them, check the declared annotations.

``SqlDatastore`` reaches SQLite, PostgreSQL and MySQL/MariaDB through SQLAlchemy; every
connector follows the :class:`Datastore` protocol, and ``pledge.testing.InMemoryDatastore`` is
the fake to test against.
"""

from pledge.datastores.model import Column, Datastore, ForeignKey, Link, Schema, Table
from pledge.datastores.service import CHECK_CODES, DatastoreReport, check, validate
from pledge.datastores.sql import SqlDatastore, expand_url

__all__ = [
    "CHECK_CODES",
    "Column",
    "Datastore",
    "DatastoreReport",
    "ForeignKey",
    "Link",
    "Schema",
    "SqlDatastore",
    "Table",
    "check",
    "expand_url",
    "validate",
]
