"""``/audit``: read the audit trail page by page, or export it as JSON Lines.

Pages are ordered by the chain's sequence number; the cursor is the last number seen, so a
client that pages on while events are appended neither misses nor repeats one. A cursor past
the largest sequence number the store can hold, or a time that does not say its offset from
UTC, is a 422 problem naming the parameter: neither reaches the database.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from pledge.enforcement import audit
from pledge.enforcement.audit import AuditEvent, AuditFilter
from pledge.errors import UsageError
from pledge.store.database import Database
from pledge.web.api.deps import ULID_PATTERN, AuditReader, RuntimeDep

router = APIRouter(prefix="/audit", tags=["audit"])

JSON_LINES = "application/jsonl"
_EXPORT_BATCH = 1_000
MAX_SEQ = 2**31 - 1
"""The largest sequence number of the audit trail: ``seq`` is an INTEGER column, 32 bits on
PostgreSQL. SQLite's would reach 2**63 - 1, but both backends keep PostgreSQL's range, so that
a cursor means the same on either."""
_WITH_OFFSET = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?"
    r"([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)"
)


def _with_offset(value: object) -> object:
    # Pydantic would take a bare number for a Unix time in UTC; a filter on the audit trail
    # must not guess what was meant, so only an ISO 8601 time that says its offset passes.
    if isinstance(value, str) and not _WITH_OFFSET.fullmatch(value):
        raise PydanticCustomError(
            "time_without_offset",
            "a time needs its offset from UTC or Z, as in 2025-03-01T12:00:00Z",
        )
    return value


def _within_sequence(cursor: str | None) -> str | None:
    if cursor is not None and int(cursor) > MAX_SEQ:
        raise PydanticCustomError(
            "cursor_out_of_range",
            "a cursor is a sequence number, at most {largest}: pass a page's next_cursor",
            {"largest": MAX_SEQ},
        )
    return cursor


ZonedTime = Annotated[AwareDatetime, BeforeValidator(_with_offset)]
"""A time given with its offset from UTC or ``Z``; never a bare number or a local time."""


class AuditEventOut(BaseModel):
    """One event of the audit trail with its place in the hash chain."""

    seq: int
    id: str
    occurred_at: dt.datetime
    actor: str
    action: str
    subject_id: str | None
    purpose: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPageOut(BaseModel):
    """A page of audit events, oldest first."""

    events: list[AuditEventOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null when this page is the last."
    )


class AuditQuery(BaseModel):
    """The filters of an audit query; all optional, combined with AND."""

    subject_id: str | None = Field(None, pattern=ULID_PATTERN)
    action: str | None = Field(None, max_length=50, examples=["consent.granted"])
    actor: str | None = Field(None, max_length=100)
    purpose: str | None = Field(None, max_length=100)
    since: ZonedTime | None = Field(
        None, description="Events at or after this time, with an offset or Z (ISO 8601)."
    )
    until: ZonedTime | None = Field(
        None, description="Events before this time, with an offset or Z (ISO 8601)."
    )


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise UsageError("a time is out of range") from None


def _filter(query: AuditQuery, after_seq: int, limit: int) -> AuditFilter:
    return AuditFilter(
        subject_id=query.subject_id,
        action=query.action,
        actor=query.actor,
        purpose=query.purpose,
        since=_utc(query.since),
        until=_utc(query.until),
        after_seq=after_seq,
        limit=limit,
    )


def _out(event: AuditEvent) -> AuditEventOut:
    return AuditEventOut(
        seq=event.seq,
        id=event.id,
        occurred_at=event.occurred_at,
        actor=event.actor,
        action=event.action,
        subject_id=event.subject_id,
        purpose=event.purpose,
        details=dict(event.details),
        prev_hash=event.prev_hash,
        hash=event.hash,
    )


def _read(database: Database, where: AuditFilter) -> list[AuditEvent]:
    with database.read() as connection:
        return audit.read(connection, where)


@router.get("", summary="Read the audit trail")
def read_audit(
    runtime: RuntimeDep,
    key: AuditReader,
    query: Annotated[AuditQuery, Query()],
    cursor: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{1,10}$",
            description=f"`next_cursor` of a previous page: a sequence number, 0 to {MAX_SEQ}.",
        ),
        AfterValidator(_within_sequence),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPageOut:
    """Audit events matching the filters, oldest first, a page at a time."""
    after = int(cursor) if cursor else 0
    events = _read(runtime.database, _filter(query, after, limit + 1))
    more = len(events) > limit
    page = events[:limit]
    return AuditPageOut(
        events=[_out(event) for event in page],
        next_cursor=str(page[-1].seq) if more else None,
    )


@router.get(
    "/export",
    summary="Export the audit trail as JSON Lines",
    response_class=StreamingResponse,
    responses={200: {"content": {JSON_LINES: {}}, "description": "One event per line."}},
)
def export_audit(
    runtime: RuntimeDep, key: AuditReader, query: Annotated[AuditQuery, Query()]
) -> StreamingResponse:
    """Every matching event, one JSON object per line, streamed in chain order.

    The export ends at the event that was last when it started; the first batch is read
    before the response starts, so a database that is down gives a 503, not a cut stream.
    """
    with runtime.database.read() as connection:
        last_seq, _ = audit.head(connection)
    first = _read(runtime.database, _filter(query, 0, _EXPORT_BATCH))

    def lines() -> Iterator[bytes]:
        batch = first
        while batch:
            for event in batch:
                if event.seq > last_seq:
                    return
                yield json.dumps(event.to_dict(), ensure_ascii=False).encode() + b"\n"
            if len(batch) < _EXPORT_BATCH:
                return
            batch = _read(runtime.database, _filter(query, batch[-1].seq, _EXPORT_BATCH))

    return StreamingResponse(
        lines(),
        media_type=JSON_LINES,
        headers={"Content-Disposition": 'attachment; filename="pledge-audit.jsonl"'},
    )
