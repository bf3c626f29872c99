"""``/requests``: subject requests — submit, verify with the e-mailed code, deny, extend, read.

The identity of the person asking is sent in the body, never in the URL. Access, portability,
rectification and erasure are approved by staff (``/approve``), then carried out by a job in the
company's datastores; ``/plan`` shows what that job would touch, ``/report`` gives the result.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, Field, StringConstraints

from pledge.requests.model import DenialGround, Regime, RequestState, RequestType, SubjectRequest
from pledge.subjects.model import Identity
from pledge.web.api.deps import ULID_PATTERN, RequestsReader, RequestsWriter, RuntimeDep
from pledge.web.api.problems import responses
from pledge.web.api.schemas import IdentityIn, Schema, Text

router = APIRouter(prefix="/requests", tags=["requests"])

Reason = Annotated[Text, StringConstraints(min_length=1, max_length=2000)]
RequestId = Annotated[
    str,
    Path(description="The request's id (a ULID).", pattern=ULID_PATTERN),
]


class RequestIn(Schema):
    """A request a person makes, possibly through a staff member."""

    type: RequestType = Field(description="The right exercised.")
    identity: IdentityIn = Field(description="Who asks; the code goes to this e-mail address.")
    regime: Regime = Field(Regime.GDPR, description="Whose deadlines apply: gdpr or ccpa.")
    details: dict[str, Any] = Field(
        default_factory=dict,
        description='What exactly is asked, e.g. {"purposes": ["newsletter"]}. Stored encrypted.',
    )
    staff: Annotated[Text, StringConstraints(min_length=1, max_length=94)] | None = Field(
        None, description="The staff member submitting on the person's behalf."
    )
    skip_verification_reason: Reason | None = Field(
        None, description="With staff: why the e-mail code is not needed (recorded)."
    )


class VerifyIn(Schema):
    """The one-time code the person received."""

    code: Annotated[Text, StringConstraints(min_length=1, max_length=20)] = Field(
        examples=["042917"]
    )


class DenyIn(Schema):
    """A refusal."""

    reason: Reason = Field(description="Why, in words for the person (no personal data).")
    ground: DenialGround = Field(DenialGround.OTHER, description="The kind of refusal.")


class ExtendIn(Schema):
    """An extension of the deadline."""

    reason: Reason = Field(description="Why more time is needed; the person is told.")
    by: int | None = Field(
        None, ge=1, le=90, description="GDPR months or CCPA days; all that is allowed if omitted."
    )


class DenialOut(BaseModel):
    """A refusal with the right to complain."""

    ground: DenialGround
    reason: str
    complaint: str = Field(description="The right to complain, with the authority when declared.")


class RequestOut(BaseModel):
    """A subject request with its deadlines."""

    id: str
    subject_id: str
    type: RequestType
    regime: Regime
    state: RequestState
    received_at: dt.datetime
    first_due_at: dt.datetime
    due_at: dt.datetime
    extension: int = Field(description="How far the deadline was extended, in extension_unit.")
    extension_unit: str
    extension_reason: str | None
    confirm_receipt_by: dt.datetime | None
    receipt_confirmed_at: dt.datetime | None
    submitted_by: str
    staff: str | None
    verification: str | None = Field(description="code or staff, once verified.")
    verification_note: str | None
    verified_at: dt.datetime | None
    closed_at: dt.datetime | None
    denial: DenialOut | None
    failure: str | None
    retryable: bool
    retain_until: dt.datetime
    details: dict[str, Any] | None = Field(
        description="Decrypted; null in lists and once the subject was erased."
    )
    overdue: bool
    receipt_overdue: bool
    duplicate: bool = Field(description="A new submission matched this open request.")


class RequestListOut(BaseModel):
    """Requests, soonest deadline first."""

    requests: list[RequestOut]


_DUPLICATE: dict[int | str, dict[str, Any]] = {
    200: {"model": RequestOut, "description": "A duplicate: the open request of that type."}
}


def _out(request: SubjectRequest) -> RequestOut:
    return RequestOut.model_validate(request.to_dict())


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Submit a request",
    responses={**_DUPLICATE, **responses(404)},
)
def submit_request(
    body: RequestIn, response: Response, runtime: RuntimeDep, key: RequestsWriter
) -> RequestOut:
    """Receive a request and e-mail the person a one-time code (200 for a duplicate)."""
    identity = Identity.parse(body.identity.kind, body.identity.value)
    request = runtime.requests.submit(
        body.type,
        identity,
        body.regime,
        body.details,
        actor=key.actor,
        on_behalf_of_staff=body.staff,
        skip_verification_reason=body.skip_verification_reason,
    )
    if request.duplicate:
        response.status_code = status.HTTP_200_OK
    return _out(request)


@router.get("", summary="List requests")
def list_requests(
    runtime: RuntimeDep,
    key: RequestsReader,
    state: Annotated[RequestState | None, Query(description="Only this state.")] = None,
    overdue: Annotated[bool | None, Query(description="Only overdue (or on-time) ones.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> RequestListOut:
    """Requests, soonest deadline first, without their details."""
    found = runtime.requests.list(state=state, overdue=overdue, limit=limit)
    return RequestListOut(requests=[_out(request) for request in found])


@router.get("/{request_id}", summary="Read a request", responses=responses(404))
def get_request(request_id: RequestId, runtime: RuntimeDep, key: RequestsReader) -> RequestOut:
    """A request with its details decrypted."""
    return _out(runtime.requests.get(request_id))


@router.post("/{request_id}/verify", summary="Verify a request", responses=responses(404, 409))
def verify_request(
    request_id: RequestId, body: VerifyIn, runtime: RuntimeDep, key: RequestsWriter
) -> RequestOut:
    """Confirm a request with its code; restriction, objection, unsubscribe and withdrawal
    take effect at once. A wrong or expired code is a 409 and changes nothing."""
    return _out(runtime.requests.verify(request_id, body.code, actor=key.actor))


@router.post("/{request_id}/code", summary="Send a new code", responses=responses(404, 409))
def resend_code(request_id: RequestId, runtime: RuntimeDep, key: RequestsWriter) -> RequestOut:
    """E-mail a new one-time code; the old one stops working."""
    return _out(runtime.requests.resend_code(request_id, actor=key.actor))


@router.post("/{request_id}/deny", summary="Deny a request", responses=responses(404, 409))
def deny_request(
    request_id: RequestId, body: DenyIn, runtime: RuntimeDep, key: RequestsWriter
) -> RequestOut:
    """Refuse a request with its reason and the right to complain; the person is told."""
    return _out(runtime.requests.deny(request_id, body.reason, ground=body.ground, actor=key.actor))


@router.post("/{request_id}/extend", summary="Extend the deadline", responses=responses(404, 409))
def extend_request(
    request_id: RequestId, body: ExtendIn, runtime: RuntimeDep, key: RequestsWriter
) -> RequestOut:
    """Extend the deadline before the first one has passed, with a reason."""
    return _out(runtime.requests.extend(request_id, body.reason, by=body.by, actor=key.actor))


class PlannedTableOut(BaseModel):
    """A table of a request's plan, with the rows it holds now."""

    datastore: str
    table: str
    found_by: list[str] = Field(description="How the person's rows are found.")
    rows: int
    action: str = Field(
        description="read, delete, rewrite …, retain (legal hold), or not searched (and why)."
    )
    shared: int = Field(
        0, description="Rows other people's rows point to as well: shown, never erased."
    )


class PlanOut(BaseModel):
    """What carrying out a request would read or change; nothing was changed."""

    tables: list[PlannedTableOut]
    problems: list[str] = Field(
        description="Why the request would be refused until the declaration is fixed."
    )
    warnings: list[str] = Field(description="What may stop an erasure for some people.")


class ReportFormatOut(BaseModel):
    """A format of a request's report that can be downloaded until it expires."""

    format: str
    media_type: str
    size: int
    expires_at: dt.datetime


class ReportFormatsOut(BaseModel):
    """The report formats of a request."""

    formats: list[ReportFormatOut]


@router.post("/{request_id}/approve", summary="Approve a request", responses=responses(404, 409))
def approve_request(request_id: RequestId, runtime: RuntimeDep, key: RequestsWriter) -> RequestOut:
    """Approve a verified access, portability, rectification or erasure: it is planned and its
    job queued; a runner carries it out in the company's datastores."""
    return _out(runtime.execution.approve(request_id, actor=key.actor))


@router.get("/{request_id}/plan", summary="Dry-run a request", responses=responses(404, 503))
def plan_request(request_id: RequestId, runtime: RuntimeDep, key: RequestsReader) -> PlanOut:
    """Every table the request reaches, how the person's rows are found there, how many there
    are now and what would be done; nothing is changed."""
    planned = runtime.execution.dry_run(request_id)
    return PlanOut(
        tables=[
            PlannedTableOut(
                datastore=item.datastore,
                table=item.table,
                found_by=list(item.found_by),
                rows=item.rows,
                action=item.action,
                shared=item.shared,
            )
            for item in planned.tables
        ],
        problems=list(planned.problems),
        warnings=list(planned.warnings),
    )


@router.get("/{request_id}/reports", summary="List report formats", responses=responses(404))
def list_reports(
    request_id: RequestId, runtime: RuntimeDep, key: RequestsReader
) -> ReportFormatsOut:
    """The formats of the request's report that have not expired."""
    runtime.requests.get(request_id)  # 404 for an unknown request
    found = runtime.execution.reports(request_id)
    return ReportFormatsOut(formats=[ReportFormatOut.model_validate(item) for item in found])


@router.get(
    "/{request_id}/report",
    summary="Download the report",
    response_class=Response,
    responses={
        200: {
            "description": "The report, decrypted.",
            "content": {"text/html": {}, "application/zip": {}, "application/json": {}},
        },
        **responses(404, 409),
    },
)
def get_report(
    request_id: RequestId,
    runtime: RuntimeDep,
    key: RequestsReader,
    format: Annotated[
        str, Query(pattern="^(html|zip|json)$", description="html, zip or json.")
    ] = "html",
) -> Response:
    """The request's report in a format it has; an expired report is a 409."""
    report = runtime.execution.report(request_id, format)
    return Response(
        report.content,
        media_type=report.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{request_id}-{report.filename}"',
            "Cache-Control": "no-store",
        },
    )
