"""Reports of carried-out requests: built from what was found and done, stored encrypted.

Access: a readable HTML page and a zip of JSON and CSV (one CSV per table), grouped by
datastore and table, with the GDPR Art. 15(1) information from the declaration for each
category found: purposes and their legal basis, recipients, how long it is kept, and where it
came from. Portability: JSON of the columns the declaration marks ``provided``. Erasure: what
was deleted, rewritten and retained (and why), and what the verification pass found.
Rectification: the columns corrected.

Reports are encrypted under the subject's key and expire; an expired report is refused and
removed by :func:`purge`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy import Connection, delete, insert, select

from pledge.datastores.execute import Found
from pledge.datastores.plan import SECRET_CATEGORIES
from pledge.declaration.model import Declaration, ErasureStrategy
from pledge.errors import NotFound, RequestError
from pledge.render.wording import retention_text
from pledge.requests.model import RequestType, SubjectRequest
from pledge.store.database import Database
from pledge.store.tables import request_reports
from pledge.subjects.crypto import KeyDestroyed
from pledge.subjects.service import Subjects

HELD = "held, not shown"
"""What a report shows in place of a credential (a password hash, a token)."""

FORMATS = {"html": "text/html; charset=utf-8", "zip": "application/zip", "json": "application/json"}
"""The formats a report may come in, with their media types."""


@dataclass(frozen=True)
class ReportFile:
    """One format of a report."""

    format: str
    media_type: str
    content: bytes

    @property
    def filename(self) -> str:
        """A file name for downloads."""
        return f"report.{self.format}"


def build(
    declaration: Declaration,
    request: SubjectRequest,
    gathered: Mapping[str, Found],
    outcome: Mapping[str, Any],
    now: dt.datetime,
) -> list[ReportFile]:
    """The report files of a carried-out request."""
    context = _context(declaration, request, gathered, outcome, now)
    page = ReportFile("html", FORMATS["html"], _render(context).encode())
    if request.type is RequestType.ACCESS:
        return [page, ReportFile("zip", FORMATS["zip"], _zip(context, page))]
    if request.type is RequestType.PORTABILITY:
        provided = _provided(declaration, gathered)
        body = {"request": request.id, "created_at": now.isoformat(), "data": provided}
        return [page, ReportFile("json", FORMATS["json"], _json(body))]
    summary = {key: context[key] for key in ("request", "created_at", "datastores", "outcome")}
    return [page, ReportFile("json", FORMATS["json"], _json(summary))]


def store(
    connection: Connection,
    subjects: Subjects,
    request: SubjectRequest,
    report: ReportFile,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> None:
    """Keep a report, encrypted under the subject's key (replacing an earlier one)."""
    connection.execute(
        delete(request_reports).where(
            request_reports.c.request_id == request.id, request_reports.c.format == report.format
        )
    )
    connection.execute(
        insert(request_reports).values(
            request_id=request.id,
            format=report.format,
            media_type=report.media_type,
            size=len(report.content),
            created_at=now,
            expires_at=expires_at,
            content_encrypted=subjects.encrypt(
                connection, request.subject_id, _field(request.id, report.format), report.content
            ),
        )
    )


def load(
    database: Database, subjects: Subjects, request: SubjectRequest, format: str, now: dt.datetime
) -> ReportFile:
    """A stored report, decrypted.

    Raises:
        NotFound: the request has no report in this format.
        RequestError: the report expired (or the subject was erased).
    """
    if format not in FORMATS:
        raise NotFound(f"no report format '{format}'; use one of {', '.join(FORMATS)}")
    with database.read() as connection:
        row = (
            connection.execute(
                select(request_reports).where(
                    request_reports.c.request_id == request.id, request_reports.c.format == format
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"request {request.id} has no {format} report")
        if row["expires_at"] <= now:
            raise RequestError(f"the report expired on {row['expires_at']:%Y-%m-%d}")
        try:
            content = subjects.decrypt(
                connection, request.subject_id, _field(request.id, format), row["content_encrypted"]
            )
        except KeyDestroyed:
            raise RequestError(
                "the report is gone: the person was erased, with their key"
            ) from None
    return ReportFile(format, row["media_type"], content)


def available(database: Database, request_id: str, now: dt.datetime) -> list[dict[str, Any]]:
    """The formats of a request's report that can still be downloaded."""
    with database.read() as connection:
        rows = connection.execute(
            select(
                request_reports.c.format,
                request_reports.c.media_type,
                request_reports.c.size,
                request_reports.c.expires_at,
            )
            .where(request_reports.c.request_id == request_id, request_reports.c.expires_at > now)
            .order_by(request_reports.c.format)
        ).mappings()
        return [{**row, "expires_at": row["expires_at"].isoformat()} for row in rows]


def purge(database: Database, now: dt.datetime) -> int:
    """Delete every expired report; returns how many."""
    with database.transaction() as connection:
        return connection.execute(
            delete(request_reports).where(request_reports.c.expires_at <= now)
        ).rowcount


# --- contents ----------------------------------------------------------------------------------


def _context(
    declaration: Declaration,
    request: SubjectRequest,
    gathered: Mapping[str, Found],
    outcome: Mapping[str, Any],
    now: dt.datetime,
) -> dict[str, Any]:
    taxonomy = declaration.taxonomy
    datastores: list[dict[str, Any]] = []
    categories: set[str] = set()
    show_rows = request.type in (RequestType.ACCESS, RequestType.PORTABILITY)
    for name, found in gathered.items():
        declared = declaration.datastores[name]
        tables = []
        for table, rows in found.rows.items():
            annotation = declared.tables[table]
            if show_rows:
                categories.update(column.category for column in annotation.columns.values())
            secret = {
                column
                for column, described in annotation.columns.items()
                if described.secret or described.category in SECRET_CATEGORIES
            }
            names = list(rows[0]) if rows else list(annotation.columns)
            columns = [_column(taxonomy, annotation, column, column in secret) for column in names]
            shared = set(found.shared.get(table, ()))
            tables.append(
                {
                    "name": table,
                    "count": found.count(table),
                    "columns": columns,
                    "rows": [
                        {
                            column: HELD if column in secret else _plain(row.get(column))
                            for column in names
                        }
                        for row in rows
                    ]
                    if show_rows
                    else [],
                    "shared": sorted(shared) if show_rows else [],
                    "hold": annotation.legal_hold.reason if annotation.legal_hold else None,
                    "erasure": _erasure_text(annotation.erasure),
                }
            )
        datastores.append({"name": name, "tables": tables})
    return {
        "request": request.id,
        "type": str(request.type),
        "received_at": request.received_at.isoformat(),
        "created_at": now.isoformat(),
        "controller": declaration.controller.name,
        "contact": declaration.controller.email,
        "datastores": datastores,
        "outcome": dict(outcome),
        "information": _article_15(declaration, categories) if show_rows else [],
    }


def _column(taxonomy: Any, annotation: Any, column: str, secret: bool) -> dict[str, Any]:
    """A column of a report: its name, its category and label (a key or link column has
    none), and whether it is a credential, held but not shown."""
    described = annotation.columns.get(column)
    if described is None:
        return {"name": column, "category": None, "label": "identifier", "secret": False}
    category = described.category
    label = taxonomy.label(category) if category in taxonomy else category
    return {"name": column, "category": category, "label": label, "secret": secret}


def _article_15(declaration: Declaration, categories: set[str]) -> list[dict[str, Any]]:
    """Per category found: purposes, recipients, retention and source (Art. 15(1)(a)-(g))."""
    taxonomy = declaration.taxonomy

    def covers(declared: str, key: str) -> bool:
        return declared == key or (
            declared in taxonomy and key in taxonomy and taxonomy.covers(declared, key)
        )

    information = []
    for key in sorted(categories):
        purposes = [
            {
                "name": purpose.label or name,
                "legal_basis": str(purpose.legal_basis or "not stated"),
                "retention": retention_text(purpose.retention),
            }
            for name, purpose in declaration.purposes.items()
            if any(covers(declared, key) for declared in purpose.categories)
        ]
        recipients = sorted(
            {
                recipient.name
                for recipient in declaration.recipients.values()
                if any(covers(declared, key) for declared in _received(declaration, recipient))
            }
        )
        sources = sorted(
            {
                str(point.source) + (f" ({point.origin})" if point.origin else "")
                for point in declaration.collection.values()
                for field in point.fields.values()
                if covers(field.category, key)
            }
        )
        information.append(
            {
                "category": key,
                "label": taxonomy.label(key) if key in taxonomy else key,
                "purposes": purposes,
                "recipients": recipients,
                "sources": sources,
            }
        )
    return information


def _received(declaration: Declaration, recipient: Any) -> list[str]:
    """The categories a recipient receives: as declared, or those of its purposes."""
    if recipient.categories:
        return list(recipient.categories)
    return [
        category
        for purpose in recipient.purposes
        if purpose in declaration.purposes
        for category in declaration.purposes[purpose].categories
    ]


def _provided(declaration: Declaration, gathered: Mapping[str, Found]) -> dict[str, Any]:
    provided: dict[str, Any] = {}
    for name, found in gathered.items():
        declared = declaration.datastores[name]
        for table, rows in found.rows.items():
            columns = [
                column
                for column, annotation in declared.tables[table].columns.items()
                if annotation.provided
            ]
            if columns and rows:
                provided.setdefault(name, {})[table] = [
                    {column: _plain(row.get(column)) for column in columns} for row in rows
                ]
    return provided


def _erasure_text(erasure: Any) -> str:
    if erasure is None:
        return "kept (no erasure strategy declared)"
    if erasure.strategy is ErasureStrategy.DELETE:
        return "rows deleted"
    return "columns rewritten: " + ", ".join(erasure.rewrite or {})


def _zip(context: Mapping[str, Any], page: ReportFile) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.html", page.content)
        archive.writestr("data.json", _json(context))
        for datastore in context["datastores"]:
            for table in datastore["tables"]:
                if not table["rows"]:
                    continue
                text = io.StringIO()
                writer = csv.DictWriter(text, [column["name"] for column in table["columns"]])
                writer.writeheader()
                writer.writerows(table["rows"])
                archive.writestr(f"{datastore['name']}/{table['name']}.csv", text.getvalue())
    return buffer.getvalue()


def _plain(value: Any) -> Any:
    """A value as a person reads it in JSON or CSV: text for everything JSON has no type
    for (dates and times in ISO 8601, bytes in hex, a length of time as ``1 day, 2:00:00``)."""
    if value is None or isinstance(value, str | int | float | list | dict):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, set | frozenset):
        return sorted((_plain(item) for item in value), key=str)
    return str(value)  # decimals, UUIDs, IP addresses, lengths of time, a driver's own types


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False, default=_plain).encode()


def _field(request_id: str, format: str) -> str:
    return f"report/{request_id}/{format}"


_ENVIRONMENT = Environment(
    loader=PackageLoader("pledge.requests", "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _render(context: Mapping[str, Any]) -> str:
    return _ENVIRONMENT.get_template("report.html.j2").render(**context)
