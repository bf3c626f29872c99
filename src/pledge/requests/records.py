"""How subject requests sit in Pledge's store: rows to records, the queries the service needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, RowMapping, select

from pledge.errors import NotFound
from pledge.requests.model import (
    Denial,
    DenialGround,
    Regime,
    RequestState,
    RequestType,
    SubjectRequest,
    is_overdue,
    retain_until,
)
from pledge.store.tables import subject_requests as requests_table

OPEN_STATES: Final = (
    RequestState.RECEIVED,
    RequestState.VERIFIED,
    RequestState.PLANNED,
    RequestState.RUNNING,
)
ANSWERED_STATES: Final = (RequestState.COMPLETED, RequestState.DENIED)


def row(connection: Connection, request_id: str, *, lock: bool = False) -> RowMapping:
    """A request's row, locked for the transaction when ``lock`` (where the database can).

    Raises:
        NotFound: no such request.
    """
    query = select(requests_table).where(requests_table.c.id == request_id)
    if lock:
        query = query.with_for_update()
    found = connection.execute(query).mappings().one_or_none()
    if found is None:
        raise NotFound(f"no request {request_id}")
    return found


def open_request(connection: Connection, subject_id: str, kind: RequestType) -> RowMapping | None:
    """The subject's oldest open request of this type (a retryable failure is open), or None."""
    open_now = requests_table.c.state.in_(OPEN_STATES) | (
        (requests_table.c.state == RequestState.FAILED) & requests_table.c.retryable
    )
    return (
        connection.execute(
            select(requests_table)
            .where(
                requests_table.c.subject_id == subject_id,
                requests_table.c.type == str(kind),
                open_now,
            )
            .order_by(requests_table.c.id)
        )
        .mappings()
        .first()
    )


def late(now: dt.datetime) -> ColumnElement[bool]:
    """The condition of an overdue request: unanswered and past its deadline."""
    return requests_table.c.state.not_in(ANSWERED_STATES) & (requests_table.c.due_at < now)


def closing(found: RowMapping | Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The column values of a request that closes at ``now``: kept 24 months from then."""
    return {
        "closed_at": now,
        "updated_at": now,
        "retain_until": max(found["retain_until"], retain_until(now)),
        "code_salt": None,
        "code_hash": None,
        "code_expires_at": None,
    }


def record(
    found: RowMapping | Mapping[str, Any], now: dt.datetime, details: Mapping[str, Any] | None
) -> SubjectRequest:
    """The request of a row, with its deadlines judged at ``now``."""
    state = RequestState(found["state"])
    denial = (
        Denial(
            DenialGround(found["denial_ground"]),
            found["denial_reason"],
            found["denial_complaint"],
        )
        if found["denial_ground"]
        else None
    )
    confirm_by = found["confirm_receipt_by"]
    return SubjectRequest(
        id=found["id"],
        subject_id=found["subject_id"],
        type=RequestType(found["type"]),
        regime=Regime(found["regime"]),
        state=state,
        received_at=found["received_at"],
        first_due_at=found["first_due_at"],
        due_at=found["due_at"],
        extension=found["extension"],
        extension_reason=found["extension_reason"],
        confirm_receipt_by=confirm_by,
        receipt_confirmed_at=found["receipt_confirmed_at"],
        submitted_by=found["submitted_by"],
        staff=found["staff"],
        verification=found["verification"],
        verification_note=found["verification_note"],
        verified_at=found["verified_at"],
        closed_at=found["closed_at"],
        denial=denial,
        failure=found["failure"],
        retryable=bool(found["retryable"]),
        retain_until=found["retain_until"],
        details=details,
        overdue=is_overdue(state, found["due_at"], now),
        receipt_overdue=(
            confirm_by is not None and found["receipt_confirmed_at"] is None and now > confirm_by
        ),
    )


def details_field(request_id: str) -> str:
    """The encryption context of a request's details."""
    return f"request/{request_id}/details"


def contact_field(request_id: str) -> str:
    """The encryption context of a request's contact address."""
    return f"request/{request_id}/contact"


__all__ = [
    "ANSWERED_STATES",
    "OPEN_STATES",
    "closing",
    "contact_field",
    "details_field",
    "late",
    "open_request",
    "record",
    "row",
]
