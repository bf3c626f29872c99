"""The privacy center (``/privacy``), for the people whose data it is.

Reading the policy needs no sign-in; everything about a person needs a session opened with a
code sent to their e-mail address. Asking for that code answers the same whether or not the
address is known. Each request a person makes is confirmed with a further code (the requests
service's own verification), so a session left open on a shared computer cannot delete an
account by itself.
"""

from __future__ import annotations

import ipaddress
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from pledge.consent.model import Channel, Evidence, notice_hash, notice_text
from pledge.declaration import Declaration
from pledge.declaration.model import LegalBasis, Right
from pledge.enforcement.model import rules_for
from pledge.errors import NotFound, PledgeError, StoreUnavailable
from pledge.requests.execution import DATASTORE_TYPES
from pledge.requests.model import RequestState, RequestType, SubjectRequest
from pledge.subjects.model import Identity, IdentityKind
from pledge.web.pages import contact
from pledge.web.pages.deps import PagesDep, PersonSession
from pledge.web.pages.privacy_policy import body_of
from pledge.web.pages.support import PageError, Pages, read_form, redirect

router = APIRouter(prefix="/privacy", include_in_schema=False)

ASKABLE = (
    RequestType.ACCESS,
    RequestType.PORTABILITY,
    RequestType.RECTIFICATION,
    RequestType.ERASURE,
    RequestType.RESTRICTION,
    RequestType.OBJECTION,
    RequestType.UNSUBSCRIBE,
    RequestType.LIMIT_SENSITIVE,
)
_DONE = {
    "granted": "pc_consent_granted",
    "withdrawn": "pc_consent_withdrawn",
    "signed_out": "pc_signed_out",
    "duplicate": "pc_request_duplicate",
}


# --- the front page ------------------------------------------------------------------------------


@router.get("")
def home(request: Request, pages: PagesDep) -> HTMLResponse:
    """The privacy center's front page."""
    return pages.render(request, "privacy/home.html", {"done": _done(request)})


# --- the person's own page ------------------------------------------------------------------------


def _done(request: Request) -> str | None:
    return _DONE.get(request.query_params.get("done", ""))


def _email(pages: Pages, subject_id: str) -> str:
    record = pages.runtime.subjects.get(subject_id)
    return next(
        (identity.value for identity in record.identities if identity.kind is IdentityKind.EMAIL),
        "",
    )


def _consents(pages: Pages, subject_id: str) -> list[dict[str, Any]]:
    declaration = pages.runtime.declaration
    state = pages.runtime.ledger.state(subject_id)
    switches = []
    for key, purpose in declaration.purposes.items():
        if purpose.legal_basis is not LegalBasis.CONSENT:
            continue
        current = state.get(key)
        switches.append(
            {
                "key": key,
                "label": purpose.label or key.replace("_", " "),
                "notice": notice_text(declaration, key),
                "hash": notice_hash(declaration, key),
                "on": bool(current and current.granted),
            }
        )
    return switches


def _holds(declaration: Declaration) -> list[dict[str, str]]:
    holds = []
    for store in declaration.datastores.values():
        for table_name, table in store.tables.items():
            if table.legal_hold is not None:
                holds.append(
                    {
                        "table": table_name.replace("_", " "),
                        "period": table.legal_hold.retain.describe()
                        + " after "
                        + str(table.legal_hold.after).replace("_", " "),
                        "reason": table.legal_hold.reason,
                    }
                )
    return holds


def _correctable(declaration: Declaration) -> list[dict[str, str]]:
    taxonomy = declaration.taxonomy
    fields = []
    for store_name, store in declaration.datastores.items():
        for table_name, table in store.tables.items():
            for column_name, column in table.columns.items():
                if column.correctable:
                    label = taxonomy.label(column.category) if column.category in taxonomy else ""
                    fields.append(
                        {
                            "path": f"{store_name}.{table_name}.{column_name}",
                            "label": f"{table_name.replace('_', ' ')}: "
                            f"{column_name.replace('_', ' ')} ({label})",
                        }
                    )
    return fields


def _own(pages: Pages, session: PersonSession, request_id: str) -> SubjectRequest:
    try:
        found = pages.runtime.requests.get(request_id)
    except NotFound:
        raise PageError(404, "error_not_found") from None
    if found.subject_id != session.subject_id:
        raise PageError(404, "error_not_found")
    return found


@router.get("/account")
def account(request: Request, pages: PagesDep, session: PersonSession) -> HTMLResponse:
    """Your data: consent switches, your requests with deadlines and reports, what to ask."""
    return _account(request, pages, session)


def _account(
    request: Request,
    pages: Pages,
    session: PersonSession,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    subject_id = session.subject_id
    assert subject_id is not None
    runtime = pages.runtime
    requests = runtime.requests.list(subject_id=subject_id, limit=200)
    requests.sort(key=lambda item: item.id, reverse=True)
    reports = {
        item.id: runtime.execution.reports(item.id)
        for item in requests
        if item.state is RequestState.COMPLETED and item.type in DATASTORE_TYPES
    }
    askable = [
        kind
        for kind in ASKABLE
        if kind is not RequestType.LIMIT_SENSITIVE or _limit_offered(runtime.declaration)
    ]
    return pages.render(
        request,
        "privacy/account.html",
        {
            "email": _email(pages, subject_id),
            "consents": _consents(pages, subject_id),
            "requests": requests,
            "reports": reports,
            "askable": askable,
            "holds": _holds(runtime.declaration),
            "correctable": _correctable(runtime.declaration),
            "done": _done(request),
            "error": error,
        },
        status=status,
    )


def _limit_offered(declaration: Declaration) -> bool:
    """Whether to offer the limit on sensitive personal information (CCPA 1798.121): when the
    declaration offers it, or uses such information in a purpose the limit would stop."""
    offered = declaration.rights.offered if declaration.rights else []
    return Right.LIMIT_SENSITIVE in offered or bool(rules_for(declaration).limited_purposes())


@router.post("/consent")
async def consent(request: Request, pages: PagesDep, session: PersonSession) -> Response:
    """Turn one consent switch on or off: the same one click either way (GDPR Art. 7(3))."""
    form = await read_form(pages, request, "purpose", "decision")
    subject_id = session.subject_id
    assert subject_id is not None
    purposes = {switch["key"]: switch for switch in _consents(pages, subject_id)}
    switch = purposes.get(form["purpose"])
    if switch is None or form["decision"] not in ("grant", "withdraw"):
        raise PageError(422, "error_again")
    evidence = Evidence(ip=_client_ip(request), user_agent=request.headers.get("user-agent"))
    record = (
        pages.runtime.ledger.grant if form["decision"] == "grant" else pages.runtime.ledger.withdraw
    )
    await run_in_threadpool(
        lambda: record(
            subject_id,
            form["purpose"],
            channel=Channel.FORM,
            actor="subject",
            evidence=evidence,
            notice_hash=switch["hash"],
        )
    )
    done = "granted" if form["decision"] == "grant" else "withdrawn"
    return redirect(f"/privacy/account?done={done}#consent")


def _client_ip(request: Request) -> str | None:
    host = request.client.host if request.client else None
    try:
        return str(ipaddress.ip_address(host)) if host else None
    except ValueError:  # a test client, a Unix socket
        return None


@router.post("/requests")
async def ask(request: Request, pages: PagesDep, session: PersonSession) -> Response:
    """Make a request; a code is e-mailed to confirm it."""
    form = await read_form(pages, request, "type", "confirm", "field", "value", "description")
    subject_id = session.subject_id
    assert subject_id is not None
    try:
        kind = RequestType(form["type"])
    except ValueError:
        raise PageError(422, "error_again") from None
    if kind not in ASKABLE:
        raise PageError(422, "error_again")
    details: dict[str, Any] = {}
    if kind is RequestType.ERASURE and form["confirm"] != "yes":
        return _account(request, pages, session, error="pc_erasure_confirm", status=422)
    if kind is RequestType.RECTIFICATION:
        if form["field"] and form["field"] != "other":
            details["corrections"] = {form["field"]: form["value"]}
        elif form["description"]:
            details["description"] = form["description"]
        else:
            return _account(request, pages, session, error="pc_correction_what", status=422)
    email = _email(pages, subject_id)
    try:
        made = await run_in_threadpool(
            lambda: pages.runtime.requests.submit(
                kind, Identity(IdentityKind.EMAIL, email), details=details, actor="subject"
            )
        )
    except StoreUnavailable:
        raise
    except PledgeError as refused:
        return _account(request, pages, session, error=str(refused), status=422)
    if made.state is not RequestState.RECEIVED:
        return redirect("/privacy/account?done=duplicate#requests")
    return redirect(f"/privacy/requests/{made.id}/confirm")


@router.get("/requests/{request_id}/confirm")
def confirm_page(
    request_id: str, request: Request, pages: PagesDep, session: PersonSession
) -> HTMLResponse:
    """Ask for the code that confirms a request."""
    found = _own(pages, session, request_id)
    return pages.render(request, "privacy/confirm.html", {"item": found, "error": None})


@router.post("/requests/{request_id}/confirm")
async def confirm(
    request_id: str, request: Request, pages: PagesDep, session: PersonSession
) -> Response:
    """Confirm a request with its code."""
    form = await read_form(pages, request, "code")
    pages.limit(request, "code")
    found = _own(pages, session, request_id)
    try:
        done = await run_in_threadpool(
            lambda: pages.runtime.requests.verify(request_id, form["code"], actor="subject")
        )
    except StoreUnavailable:
        raise
    except PledgeError as refused:
        return pages.render(
            request, "privacy/confirm.html", {"item": found, "error": str(refused)}, status=409
        )
    return pages.render(request, "privacy/confirmed.html", {"item": done})


@router.post("/requests/{request_id}/resend")
async def resend(
    request_id: str, request: Request, pages: PagesDep, session: PersonSession
) -> Response:
    """Send a new code for a request."""
    await read_form(pages, request)
    pages.limit(request, "person")
    _own(pages, session, request_id)
    try:
        await run_in_threadpool(lambda: pages.runtime.requests.resend_code(request_id))
    except StoreUnavailable:
        raise
    except PledgeError as refused:
        raise PageError(409, str(refused)) from None
    return redirect(f"/privacy/requests/{request_id}/confirm")


@router.get("/requests/{request_id}/report")
def report_page(
    request_id: str, request: Request, pages: PagesDep, session: PersonSession
) -> HTMLResponse:
    """The report of a carried-out request, in the page."""
    found = _own(pages, session, request_id)
    try:
        report = pages.runtime.execution.report(request_id, "html")
    except NotFound:
        raise PageError(404, "error_not_found") from None
    except PledgeError as refused:
        raise PageError(410, str(refused)) from None
    downloads = pages.runtime.execution.reports(request_id)
    return pages.render(
        request,
        "privacy/report.html",
        {"item": found, "report": body_of(report.content.decode()), "downloads": downloads},
    )


@router.get("/requests/{request_id}/report/{report_format}")
def report_download(
    request_id: str, report_format: str, pages: PagesDep, session: PersonSession
) -> Response:
    """Download a copy of a report (the zip of JSON and CSV, or the portable JSON)."""
    _own(pages, session, request_id)
    try:
        report = pages.runtime.execution.report(request_id, report_format)
    except NotFound:
        raise PageError(404, "error_not_found") from None
    except PledgeError as refused:
        raise PageError(410, str(refused)) from None
    return Response(
        report.content,
        media_type=report.media_type,
        headers={"Content-Disposition": f'attachment; filename="{report.filename}"'},
    )


# --- one-click unsubscribe (RFC 8058) -------------------------------------------------------------


@router.get("/unsubscribe/{token}")
def unsubscribe_page(token: str, request: Request, pages: PagesDep) -> HTMLResponse:
    """The page an unsubscribe link opens: one button."""
    valid = pages.unsubscribe.subject_of(token) is not None
    return pages.render(
        request,
        "privacy/unsubscribe.html",
        {"token": token, "valid": valid, "done": False},
        status=200 if valid else 404,
    )


@router.post("/unsubscribe/{token}")
async def unsubscribe(token: str, request: Request, pages: PagesDep) -> HTMLResponse:
    """Stop all direct marketing at once. No cookie and no CSRF token: the link is the proof,
    so that a mail client can post ``List-Unsubscribe=One-Click`` on its own."""
    subject_id = pages.unsubscribe.subject_of(token)
    if subject_id is None:
        return pages.render(
            request,
            "privacy/unsubscribe.html",
            {"token": token, "valid": False, "done": False},
            status=404,
        )
    try:
        await run_in_threadpool(
            partial(
                pages.runtime.requests.effects.unsubscribe,
                subject_id,
                actor="subject",
                channel=Channel.FORM,
            )
        )
    except NotFound:
        return pages.render(
            request,
            "privacy/unsubscribe.html",
            {"token": token, "valid": False, "done": False},
            status=404,
        )
    return pages.render(
        request, "privacy/unsubscribe.html", {"token": token, "valid": True, "done": True}
    )


# --- a child's data, the privacy officer ----------------------------------------------------------


@router.get("/child")
def child_page(request: Request, pages: PagesDep) -> HTMLResponse:
    """Report a child's data."""
    return _contact_page(request, pages, "child", {})


@router.post("/child")
async def child(request: Request, pages: PagesDep) -> HTMLResponse:
    """Forward a report about a child's data to the privacy officer."""
    form = await read_form(pages, request, "identifier", "relationship", "message", "email")
    return await _forward(request, pages, "child", form)


@router.get("/contact")
def contact_page(request: Request, pages: PagesDep) -> HTMLResponse:
    """Write to the privacy officer."""
    return _contact_page(request, pages, "contact", {})


@router.post("/contact")
async def contact_post(request: Request, pages: PagesDep) -> HTMLResponse:
    """Forward a message to the privacy officer."""
    form = await read_form(pages, request, "message", "email")
    return await _forward(request, pages, "contact", form)


def _contact_page(
    request: Request,
    pages: Pages,
    kind: str,
    form: dict[str, str],
    *,
    error: str | None = None,
    sent: bool = False,
    status: int = 200,
) -> HTMLResponse:
    declaration = pages.runtime.declaration
    return pages.render(
        request,
        f"privacy/{kind}.html",
        {
            "form": form,
            "error": error,
            "sent": sent,
            "officer": contact.officer_address(declaration),
            "channels": contact.channels(declaration),
            "minimum_age": declaration.children.minimum_age if declaration.children else None,
        },
        status=status,
    )


async def _forward(request: Request, pages: Pages, kind: str, form: dict[str, str]) -> HTMLResponse:
    pages.limit(request, "contact")
    declaration = pages.runtime.declaration
    try:
        await run_in_threadpool(
            contact.forward, pages.runtime.mailer, pages.templates, declaration, kind, form
        )
    except PledgeError as refused:
        return _contact_page(request, pages, kind, form, error=str(refused), status=422)
    return _contact_page(request, pages, kind, {}, sent=True)


__all__ = ["router"]
