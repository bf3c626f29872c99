"""The admin console (``/admin``): sign-in, the request queue and its actions, the outbox, the
audit trail with its verification, the declaration in force, consent figures, the data map.

Every action goes through a service that audits it under the staff member's name
(``staff:<name>``); the role decides which actions a staff member sees and may take.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from pledge.consent.proof import verify as verify_chains
from pledge.declaration import Severity
from pledge.declaration.lint import lint
from pledge.declaration.model import LegalBasis
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditFilter
from pledge.errors import DatastoreError, NotFound, PledgeError
from pledge.render import render_ropa
from pledge.requests.execution import DATASTORE_TYPES
from pledge.requests.model import DenialGround, RequestState, RequestType, SubjectRequest
from pledge.staff import figures
from pledge.staff.model import Permission, Role
from pledge.staff.service import SignInRefused
from pledge.web.api.audit import MAX_SEQ
from pledge.web.pages import charts, datamap
from pledge.web.pages.deps import STAFF_COOKIE, PagesDep, StaffSession, require
from pledge.web.pages.support import PageError, Pages, read_form, redirect

router = APIRouter(prefix="/admin", include_in_schema=False)

NEAR_DEADLINE = dt.timedelta(days=7)
AUDIT_PAGE = 50
_SEQUENCE_NUMBER = re.compile(r"[0-9]{1,10}")
CONSENT_WEEKS = 12
_DONE = {
    "verified": "ad_done_verified",
    "approved": "ad_done_approved",
    "denied": "ad_done_denied",
    "extended": "ad_done_extended",
    "created": "ad_staff_created",
    "disabled": "ad_staff_done_disabled",
}


def _nav(session: StaffSession, **values: Any) -> dict[str, Any]:
    staff = session.staff
    assert staff is not None
    return {
        "staff": staff,
        "may": {permission.value: staff.may(permission) for permission in Permission},
        **values,
    }


def _done(request: Request) -> str | None:
    return _DONE.get(request.query_params.get("done", ""))


# --- signing in and out ---------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, pages: PagesDep) -> HTMLResponse:
    """The staff sign-in form."""
    return pages.render(request, "admin/login.html", {"error": None, "email": ""})


@router.post("/login")
async def login(request: Request, pages: PagesDep) -> Response:
    """Check the password (rate limited per client, locked per account) and open a session."""
    form = await read_form(pages, request, "email", "password")
    pages.limit(request, "staff")
    try:
        staff = await run_in_threadpool(pages.staff.authenticate, form["email"], form["password"])
    except SignInRefused as refused:
        return pages.render(
            request,
            "admin/login.html",
            {"error": str(refused), "email": form["email"]},
            status=401,
        )
    session = pages.sessions.open_staff(staff, lifetime=pages.staff_lifetime)
    response = redirect("/admin")
    response.set_cookie(
        STAFF_COOKIE,
        session.token,
        max_age=int(pages.staff_lifetime.total_seconds()),
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=pages.secure(request),
    )
    return response


@router.post("/logout")
async def logout(request: Request, pages: PagesDep, session: StaffSession) -> Response:
    """End the session."""
    await read_form(pages, request)
    assert session.staff is not None
    pages.sessions.end(session.token, actor=session.staff.actor)
    response = redirect("/admin/login")
    response.delete_cookie(STAFF_COOKIE, path="/admin")
    return response


# --- the request queue ---------------------------------------------------------------------------


@router.get("")
def queue(request: Request, pages: PagesDep, session: StaffSession) -> HTMLResponse:
    """Requests, open ones first by deadline; overdue and near-deadline ones highlighted."""
    require(session.staff, Permission.VIEW)
    state = request.query_params.get("state") or None
    kind = request.query_params.get("type") or None
    if state is not None and state not in set(RequestState):
        raise PageError(422, "error_again")
    if kind is not None and kind not in set(RequestType):
        raise PageError(422, "error_again")
    found = pages.runtime.requests.list(state=state, type=kind, limit=1000)
    now = pages.runtime.clock()
    open_first = sorted(
        found,
        key=lambda item: (
            item.state in (RequestState.COMPLETED, RequestState.DENIED),
            item.due_at,
            item.id,
        ),
    )
    rows = [
        {
            "request": item,
            "near": not item.overdue and _open(item) and item.due_at - now <= NEAR_DEADLINE,
            "open": _open(item),
        }
        for item in open_first
    ]
    return pages.render(
        request,
        "admin/queue.html",
        _nav(
            session,
            rows=rows,
            states=[str(value) for value in RequestState],
            types=[str(value) for value in RequestType],
            state=state,
            kind=kind,
        ),
    )


def _open(item: SubjectRequest) -> bool:
    return item.state not in (RequestState.COMPLETED, RequestState.DENIED) and not (
        item.state is RequestState.FAILED and not item.retryable
    )


@router.get("/requests/{request_id}")
def request_detail(
    request_id: str, request: Request, pages: PagesDep, session: StaffSession
) -> HTMLResponse:
    """One request: its facts, timeline, plan, progress, report and the actions allowed."""
    require(session.staff, Permission.VIEW)
    return _detail(request, pages, session, request_id)


def _detail(
    request: Request,
    pages: Pages,
    session: StaffSession,
    request_id: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    runtime = pages.runtime
    try:
        item = runtime.requests.get(request_id)
    except NotFound:
        raise PageError(404, "error_not_found") from None
    with runtime.database.read() as connection:
        events = [
            event
            for event in audit.read(
                connection, AuditFilter(subject_id=item.subject_id, limit=10_000)
            )
            if event.details.get("request_id") == request_id
        ]
    plan: Any = None
    plan_error = None
    staff = session.staff
    assert staff is not None
    if item.type in DATASTORE_TYPES and staff.may(Permission.HANDLE_REQUESTS):
        try:
            plan = runtime.execution.dry_run(request_id)
        except (DatastoreError, PledgeError) as problem:
            plan_error = str(problem)
    job = runtime.jobs.for_request(request_id)
    notices = runtime.jobs.notices(request_id)
    reports = runtime.execution.reports(request_id)
    return pages.render(
        request,
        "admin/request.html",
        _nav(
            session,
            item=item,
            events=events,
            plan=plan,
            plan_error=plan_error,
            datastore_type=item.type in DATASTORE_TYPES,
            job=job,
            notices=notices,
            reports=reports,
            grounds=[str(ground) for ground in DenialGround],
            error=error,
            done=_done(request),
            open=_open(item),
        ),
        status=status,
    )


async def _act(
    request: Request,
    pages: Pages,
    session: StaffSession,
    request_id: str,
    permission: Permission,
    fields: tuple[str, ...],
    done: str,
    step: Any,
) -> Response:
    form = await read_form(pages, request, *fields)
    staff = require(session.staff, permission)
    try:
        await run_in_threadpool(step, form, staff.actor)
    except NotFound:
        raise PageError(404, "error_not_found") from None
    except PledgeError as refused:
        return _detail(request, pages, session, request_id, error=str(refused), status=409)
    return redirect(f"/admin/requests/{request_id}?done={done}")


@router.post("/requests/{request_id}/verify")
async def verify_request(
    request_id: str, request: Request, pages: PagesDep, session: StaffSession
) -> Response:
    """Verify a request with the code the person received."""
    return await _act(
        request,
        pages,
        session,
        request_id,
        Permission.HANDLE_REQUESTS,
        ("code",),
        "verified",
        lambda form, actor: pages.runtime.requests.verify(request_id, form["code"], actor=actor),
    )


@router.post("/requests/{request_id}/approve")
async def approve_request(
    request_id: str, request: Request, pages: PagesDep, session: StaffSession
) -> Response:
    """Approve a verified request: it is planned and queued for the datastores."""
    return await _act(
        request,
        pages,
        session,
        request_id,
        Permission.DECIDE_REQUESTS,
        (),
        "approved",
        lambda form, actor: pages.runtime.execution.approve(request_id, actor=actor),
    )


@router.post("/requests/{request_id}/deny")
async def deny_request(
    request_id: str, request: Request, pages: PagesDep, session: StaffSession
) -> Response:
    """Deny a request with a ground and a reason; the person is told."""
    return await _act(
        request,
        pages,
        session,
        request_id,
        Permission.DECIDE_REQUESTS,
        ("ground", "reason"),
        "denied",
        lambda form, actor: pages.runtime.requests.deny(
            request_id, form["reason"], ground=form["ground"] or "other", actor=actor
        ),
    )


@router.post("/requests/{request_id}/extend")
async def extend_request(
    request_id: str, request: Request, pages: PagesDep, session: StaffSession
) -> Response:
    """Extend the deadline with a reason; the person is told."""

    def extend(form: dict[str, str], actor: str) -> SubjectRequest:
        by = None
        if form["by"]:
            if not form["by"].isdigit() or not 0 < int(form["by"]) <= 90:
                raise PageError(422, "error_again")
            by = int(form["by"])
        return pages.runtime.requests.extend(request_id, form["reason"], by=by, actor=actor)

    return await _act(
        request,
        pages,
        session,
        request_id,
        Permission.DECIDE_REQUESTS,
        ("reason", "by"),
        "extended",
        extend,
    )


@router.get("/requests/{request_id}/report/{report_format}")
def request_report(
    request_id: str, report_format: str, pages: PagesDep, session: StaffSession
) -> Response:
    """A request's report, to hand to the person by another channel."""
    require(session.staff, Permission.HANDLE_REQUESTS)
    try:
        report = pages.runtime.execution.report(request_id, report_format)
    except NotFound:
        raise PageError(404, "error_not_found") from None
    except PledgeError as refused:
        raise PageError(410, str(refused)) from None
    return Response(
        report.content,
        media_type=report.media_type,
        headers={"Content-Disposition": f'attachment; filename="{request_id}-{report.filename}"'},
    )


# --- outbox, audit trail --------------------------------------------------------------------------


@router.get("/outbox")
def outbox(request: Request, pages: PagesDep, session: StaffSession) -> HTMLResponse:
    """Mails not delivered (why, never to whom), then the outbox's (no SMTP), newest first."""
    require(session.staff, Permission.READ_OUTBOX)
    mailer = pages.runtime.mailer
    kept = mailer.outbox.kept() if mailer.outbox is not None else None
    undelivered: list[Any] = mailer.undelivered()
    mails = [*undelivered, *kept] if kept is not None else undelivered or None
    return pages.render(
        request,
        "admin/outbox.html",
        _nav(session, mails=mails, where=mailer.description),
    )


@router.get("/audit")
def audit_trail(request: Request, pages: PagesDep, session: StaffSession) -> HTMLResponse:
    """The audit trail, 50 events a page, with filters."""
    require(session.staff, Permission.READ_AUDIT)
    return _audit_page(request, pages, session, verified=None)


def _audit_page(
    request: Request, pages: Pages, session: StaffSession, *, verified: dict[str, Any] | None
) -> HTMLResponse:
    query = request.query_params
    filters = {
        name: (query.get(name) or "").strip()[:100] for name in ("action", "actor", "subject")
    }
    since = _date(query.get("since"))
    until = _date(query.get("until"))
    end = _day_after(until)
    after = _after(query.get("after"))
    with pages.runtime.database.read() as connection:
        head, _ = audit.head(connection)
        if after is not None:
            start = after
        elif any(filters.values()) or since or until:
            start = 0
        else:
            start = max(0, head - AUDIT_PAGE)
        events = audit.read(
            connection,
            AuditFilter(
                action=filters["action"] or None,
                actor=filters["actor"] or None,
                subject_id=filters["subject"] or None,
                since=since,
                until=end,
                after_seq=start,
                limit=AUDIT_PAGE,
            ),
        )
    older = max(0, start - AUDIT_PAGE) if start > 0 else None
    newer = events[-1].seq if len(events) == AUDIT_PAGE else None
    return pages.render(
        request,
        "admin/audit.html",
        _nav(
            session,
            events=events,
            filters=filters,
            since=query.get("since", ""),
            until=query.get("until", ""),
            older=older,
            newer=newer,
            verified=verified,
        ),
    )


def _after(text: str | None) -> int | None:
    """The sequence number a page of the audit trail starts after; None for the latest page.

    Raises:
        PageError: 404, not a sequence number the trail can reach (so no page starts there).
    """
    if not text:
        return None
    if not _SEQUENCE_NUMBER.fullmatch(text) or int(text) > MAX_SEQ:
        raise PageError(404, "error_not_found")
    return int(text)


def _date(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise PageError(422, "error_again") from None
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _day_after(moment: dt.datetime | None) -> dt.datetime | None:
    # "until" a day includes that day; the last day the calendar has has no day after it.
    if moment is None:
        return None
    try:
        return moment + dt.timedelta(days=1)
    except OverflowError:
        raise PageError(422, "error_again") from None


@router.post("/audit/verify")
async def audit_verify(request: Request, pages: PagesDep, session: StaffSession) -> HTMLResponse:
    """Run ``pledge verify``: every consent chain, checkpoint and the audit trail."""
    await read_form(pages, request)
    require(session.staff, Permission.READ_AUDIT)
    report = await run_in_threadpool(verify_chains, pages.runtime.database, workers=1)
    counts = ", ".join(f"{count} {name}" for name, count in report.counts.items())
    first = report.first.to_dict() if report.first else None
    verified = {"ok": report.ok, "counts": counts, "problems": report.problem_count, "first": first}
    return _audit_page(request, pages, session, verified=verified)


# --- the declaration, consent figures, the data map ----------------------------------------------


@router.get("/declaration")
def declaration(request: Request, pages: PagesDep, session: StaffSession) -> HTMLResponse:
    """The declaration in force: version, effective date, digest, purposes, lint findings."""
    require(session.staff, Permission.VIEW)
    declared = pages.runtime.declaration
    findings = lint(declared)
    severities = Counter(finding.severity for finding in findings)
    return pages.render(
        request,
        "admin/declaration.html",
        _nav(
            session,
            declaration=declared,
            findings=findings,
            errors=severities[Severity.ERROR],
            warnings=severities[Severity.WARNING],
        ),
    )


@router.get("/consent")
def consent_dashboard(request: Request, pages: PagesDep, session: StaffSession) -> HTMLResponse:
    """Opt-in and withdrawal per consent purpose, week by week, as charts."""
    require(session.staff, Permission.VIEW)
    runtime = pages.runtime
    purposes = [
        key
        for key, purpose in runtime.declaration.purposes.items()
        if purpose.legal_basis is LegalBasis.CONSENT
    ]
    weekly = figures.weekly_consent(
        runtime.database, purposes, weeks=CONSENT_WEEKS, now=runtime.clock()
    )
    current = figures.current_consent(runtime.database, purposes)
    panels = []
    for key in purposes:
        purpose = runtime.declaration.purposes[key]
        label = purpose.label or key
        state = current[key]
        decided = sum(state.values())
        granted_ever = state.get("granted", 0) + state.get("withdrawn", 0)
        panels.append(
            {
                "key": key,
                "label": label,
                "weeks": weekly[key],
                "chart": charts.weekly_bars(weekly[key], title=label),
                "optin": _percent(granted_ever, decided),
                "withdrawal": _percent(state.get("withdrawn", 0), granted_ever),
            }
        )
    return pages.render(
        request, "admin/consent.html", _nav(session, panels=panels, weeks=CONSENT_WEEKS)
    )


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "–"


@router.get("/datamap")
def data_map(request: Request, pages: PagesDep, session: StaffSession) -> HTMLResponse:
    """Sources, categories, purposes, datastores and recipients as a graph; the Art. 30 record."""
    require(session.staff, Permission.VIEW)
    graph = datamap.build(pages.runtime.declaration)
    return pages.render(
        request,
        "admin/datamap.html",
        _nav(session, graph=graph, svg=datamap.svg(graph), column_titles=datamap.COLUMNS),
    )


@router.get("/ropa.{ropa_format}")
def ropa(ropa_format: str, pages: PagesDep, session: StaffSession) -> Response:
    """The record of processing activities (GDPR Art. 30) as CSV or Markdown."""
    require(session.staff, Permission.VIEW)
    if ropa_format not in ("csv", "md"):
        raise PageError(404, "error_not_found")
    csv = ropa_format == "csv"
    media = "text/csv; charset=utf-8" if csv else "text/markdown; charset=utf-8"
    return Response(
        render_ropa(pages.runtime.declaration, "csv" if csv else "markdown"),
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="record-of-processing.{ropa_format}"'
        },
    )


# --- staff accounts ------------------------------------------------------------------------------


@router.get("/staff")
def staff_list(request: Request, pages: PagesDep, session: StaffSession) -> HTMLResponse:
    """The staff accounts, and a form to add one."""
    require(session.staff, Permission.MANAGE_STAFF)
    return _staff_page(request, pages, session)


def _staff_page(
    request: Request,
    pages: Pages,
    session: StaffSession,
    *,
    error: str | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    return pages.render(
        request,
        "admin/staff.html",
        _nav(
            session,
            members=pages.staff.list(),
            roles=[str(role) for role in Role],
            error=error,
            form=form or {"email": "", "name": "", "role": "support"},
            done=_done(request),
        ),
        status=status,
    )


@router.post("/staff")
async def staff_create(request: Request, pages: PagesDep, session: StaffSession) -> Response:
    """Create a staff account."""
    form = await read_form(pages, request, "email", "name", "role", "password")
    staff = require(session.staff, Permission.MANAGE_STAFF)
    try:
        await run_in_threadpool(
            pages.staff.create,
            form["email"],
            form["name"],
            form["role"],
            form["password"],
            actor=staff.actor,
        )
    except PledgeError as refused:
        kept = {key: form[key] for key in ("email", "name", "role")}
        return _staff_page(request, pages, session, error=str(refused), status=422, form=kept)
    return redirect("/admin/staff?done=created")


@router.post("/staff/{staff_id}/disable")
async def staff_disable(
    staff_id: str, request: Request, pages: PagesDep, session: StaffSession
) -> Response:
    """Disable a staff account; its sessions end."""
    await read_form(pages, request)
    staff = require(session.staff, Permission.MANAGE_STAFF)
    try:
        pages.staff.disable(staff_id, actor=staff.actor)
    except NotFound:
        raise PageError(404, "error_not_found") from None
    return redirect("/admin/staff?done=disabled")


__all__ = ["router"]
