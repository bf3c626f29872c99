"""``/audit``: read the audit trail page by page, or export it as JSON Lines.

Pages are ordered by the chain's sequence number; the cursor is the last number seen, so a
client that pages on while events are appended neither misses nor repeats one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, Field

from pledge.enforcement import audit
from pledge.enforcement.audit import AuditEvent, AuditFilter
from pledge.errors import UsageError
from pledge.store.database import Database
from pledge.web.api.deps import ULID_PATTERN, AuditReader, RuntimeDep

router = APIRouter(prefix="/audit", tags=["audit"])

JSON_LINES = "application/jsonl"
_EXPORT_BATCH = 1_000


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
    since: AwareDatetime | None = Field(None, description="Events at or after (with a zone).")
    until: AwareDatetime | None = Field(None, description="Events before (with a zone).")


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
        str | None, Query(pattern=r"^[0-9]{1,15}$", description="From a previous page.")
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
