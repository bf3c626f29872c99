"""Discovering undeclared personal data: sample every column of a database and classify it.

``scan`` reflects the tables, draws a bounded random sample of rows from each (``ORDER BY
random()`` on SQLite and PostgreSQL, ``RAND()`` on MySQL/MariaDB, ``LIMIT`` everywhere), gives
each column's values to :func:`pledge.datastores.classify.classify_column` with what the
schema says of it (a primary or foreign key, an integer type), and reports the personal
columns the declaration does not annotate yet, with a YAML snippet to paste into its
``datastores`` section. Values are read as the driver returns them, without the dialect's
conversions: a SQLite column declared ``UNIQUEIDENTIFIER`` or ``IMAGE`` has numeric affinity,
and converting its text to a number would fail. Columns that are not sampled (binary data,
measurements, JSON documents) are judged by their name alone; flags never.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Engine, MetaData, Select, func, select, type_coerce
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType

from pledge.datastores.classify import REPORT_AT, Verdict, classify_column
from pledge.datastores.sql import reflect_into
from pledge.errors import DatastoreError

Progress = Callable[[str, int, int], None]
"""Told after each table: its name, how many tables are done, how many there are."""

_SKIPPED_TYPES = (bool, float, bytes, dict, list)
"""Python types of columns not sampled: flags, measurements, binary data, JSON documents."""
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class ColumnFinding:
    """A column that holds, or may hold, personal data the declaration does not annotate.

    Args:
        table: the table's name.
        column: the column's name.
        category: the proposed taxonomy key.
        confidence: 0..1; a finding from :data:`pledge.datastores.classify.REPORT_AT`.
        reasons: the evidence, in words.
        sampled: non-null values looked at.
        matched: how many of them matched the category's detector.
    """

    table: str
    column: str
    category: str
    confidence: float
    reasons: tuple[str, ...]
    sampled: int
    matched: int

    @classmethod
    def of(cls, table: str, column: str, verdict: Verdict) -> ColumnFinding:
        """The finding for ``table.column`` from the verdict on its sample."""
        return cls(
            table,
            column,
            verdict.category,
            verdict.confidence,
            verdict.reasons,
            verdict.sampled,
            verdict.matched,
        )

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready data."""
        return {
            "table": self.table,
            "column": self.column,
            "category": self.category,
            "confidence": self.confidence,
            "reasons": list(self.reasons),
            "sampled": self.sampled,
            "matched": self.matched,
        }


@dataclass(frozen=True)
class ScanReport:
    """What a scan found.

    Args:
        tables: tables reflected.
        columns: columns sampled (annotated and unsampleable ones left out).
        annotated: columns skipped because the declaration annotates them.
        values: non-null values looked at, in all columns.
        seconds: how long the scan took, reflection and sampling included.
        findings: columns reported as personal, most confident first.
        possible: columns that may hold personal data (free text, undated birth-like dates).
    """

    tables: int
    columns: int
    annotated: int
    values: int
    seconds: float
    findings: tuple[ColumnFinding, ...] = ()
    possible: tuple[ColumnFinding, ...] = field(default=())

    @property
    def values_per_second(self) -> float:
        """Sampled values looked at per second."""
        return self.values / self.seconds if self.seconds else 0.0

    def snippet(self) -> str:
        """The findings as YAML for the datastore's entry in the declaration's ``datastores``.

        Returns:
            A ``tables:`` mapping, one line per column with its confidence as a comment; empty
            when there are no findings.
        """
        if not self.findings:
            return ""
        lines = ["tables:"]
        by_table: dict[str, list[ColumnFinding]] = {}
        for finding in self.findings:
            by_table.setdefault(finding.table, []).append(finding)
        for table in sorted(by_table):
            lines += [f"  {_yaml_key(table)}:", "    columns:"]
            for finding in sorted(by_table[table], key=lambda finding: finding.column):
                lines.append(
                    f"      {_yaml_key(finding.column)}: {{category: {finding.category}}}"
                    f"  # confidence {finding.confidence:.2f}"
                )
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (``pledge scan --format json``)."""
        return {
            "tables": self.tables,
            "columns": self.columns,
            "annotated": self.annotated,
            "values": self.values,
            "seconds": round(self.seconds, 3),
            "findings": [finding.to_dict() for finding in self.findings],
            "possible": [finding.to_dict() for finding in self.possible],
            "snippet": self.snippet(),
        }


def scan(
    engine: Engine,
    *,
    sample: int = 1000,
    annotated: Collection[tuple[str, str]] = frozenset(),
    progress: Progress | None = None,
    region: str = "US",
    today: dt.date | None = None,
) -> ScanReport:
    """Sample every column of a database and report the personal ones not yet annotated.

    Args:
        engine: the database, read only.
        sample: rows sampled per table (and non-null values per sparse column).
        annotated: ``(table, column)`` pairs the declaration already annotates: not sampled.
        progress: told after each table.
        region: the country national phone numbers are read in.
        today: the date birth dates are judged against (default: today).

    Returns:
        The report, findings most confident first.

    Raises:
        DatastoreError: the database cannot be reached or read.
    """
    if sample < 1:
        raise ValueError("sample must be at least 1")
    started = time.perf_counter()
    metadata = MetaData()
    findings: list[ColumnFinding] = []
    possible: list[ColumnFinding] = []
    columns = skipped = values = 0
    try:
        reflect_into(metadata, engine)
        tables = sorted(metadata.tables.values(), key=lambda table: table.name)
        with engine.connect() as connection:
            for done, table in enumerate(tables, 1):
                wanted: list[Column[Any]] = []
                by_name: list[Column[Any]] = []
                rows: Sequence[Any] = []
                for column in table.columns:
                    if (table.name, column.name) in annotated:
                        skipped += 1
                    elif _sampleable(column):
                        wanted.append(column)
                    elif not _python_type(column, bool):  # email_verified says nothing
                        by_name.append(column)
                if wanted:
                    query = _random(select(*map(_raw, wanted)), engine).limit(sample)
                    rows = connection.execute(query).all()
                samples: list[tuple[Column[Any], list[Any]]] = []
                for index, column in enumerate(wanted):
                    sampled = [row[index] for row in rows if row[index] is not None]
                    if len(rows) == sample and len(sampled) < sample // 10:
                        # Sparse: most sampled rows are null here, so sample the non-null ones.
                        query = select(_raw(column)).where(column.is_not(None))
                        found = connection.execute(_random(query, engine).limit(sample))
                        sampled = list(found.scalars())
                    columns += 1
                    values += len(sampled)
                    samples.append((column, sampled))
                samples += [(column, []) for column in by_name]
                for column, sampled in samples:
                    verdict = classify_column(
                        column.name,
                        sampled,
                        table=table.name,
                        region=region,
                        today=today,
                        key=column.primary_key or bool(column.foreign_keys),
                        integer=_python_type(column, int),
                    )
                    if verdict is not None:
                        finding = ColumnFinding.of(table.name, column.name, verdict)
                        (findings if verdict.confidence >= REPORT_AT else possible).append(finding)
                if progress is not None:
                    progress(table.name, done, len(tables))
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        shown = engine.url.render_as_string(hide_password=True)
        raise DatastoreError(f"cannot scan {shown}: {reason}") from None
    return ScanReport(
        tables=len(tables),
        columns=columns,
        annotated=skipped,
        values=values,
        seconds=time.perf_counter() - started,
        findings=_ranked(findings),
        possible=_ranked(possible),
    )


def _sampleable(column: Column[Any]) -> bool:
    try:
        kind = column.type.python_type
    except NotImplementedError:  # a dialect-specific type: its values are read as text
        return True
    return not issubclass(kind, _SKIPPED_TYPES)


def _python_type(column: Column[Any], kind: type | tuple[type, ...]) -> bool:
    """Whether the column's declared type reads as ``kind`` in Python."""
    try:
        return issubclass(column.type.python_type, kind)
    except NotImplementedError:
        return False


def _raw(column: Column[Any]) -> ColumnElement[Any]:
    """``column`` read as the driver returns it: no dialect conversion that could fail."""
    return type_coerce(column, NullType())


def _random(query: Select[Any], engine: Engine) -> Select[Any]:
    """``query`` in random order where the dialect has a random function."""
    dialect = engine.dialect.name
    if dialect in ("sqlite", "postgresql"):
        return query.order_by(func.random())
    if dialect in ("mysql", "mariadb"):
        return query.order_by(func.rand())
    return query


def _ranked(found: Sequence[ColumnFinding]) -> tuple[ColumnFinding, ...]:
    return tuple(sorted(found, key=lambda item: (-item.confidence, item.table, item.column)))


def _yaml_key(name: str) -> str:
    return name if _IDENTIFIER.fullmatch(name) else json.dumps(name)
