"""The privacy center (``/privacy``), for the people whose data it is.

Reading the policy needs no sign-in; everything about a person needs a session opened with a
code sent to their e-mail address. Asking for that code answers the same whether or not the
address is known. Each request a person makes is confirmed with a further code (the requests
service's own verification), so a session left open on a shared computer cannot delete an
account by itself.
"""

from __future__ import annotations

import ipaddress
import re
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from pledge.consent.model import Channel, Evidence, notice_hash, notice_text
from pledge.declaration import Declaration
from pledge.declaration.model import LegalBasis, Right
from pledge.enforcement.model import rules_for
from pledge.errors import NotFound, PledgeError, StoreUnavailable
from pledge.render import render_policy
from pledge.requests.execution import DATASTORE_TYPES
from pledge.requests.model import RequestState, RequestType, SubjectRequest
from pledge.staff.people import CodeRefused
from pledge.subjects.model import Identity, IdentityKind
from pledge.web.pages import contact
from pledge.web.pages.deps import PERSON_COOKIE, PagesDep, PersonSession
from pledge.web.pages.support import PageError, Pages, read_form, redirect

router = APIRouter(prefix="/privacy", include_in_schema=False)

SIGN_IN_COOKIE = "pledge_sign_in"
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
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.DOTALL)
_SKIP_LINK = re.compile(r'<a class="skip-link"[^>]*>.*?</a>', re.DOTALL)
_MAIN = re.compile(r"<main\b[^>]*>|</main>")


def body_of(page: str) -> Markup:
    """The inside of a complete HTML page's ``<body>`` (a page Pledge rendered and escaped).

    Its skip link goes, and its ``<main>`` becomes a ``<div>``: the page it is shown in has
    its own skip link and its own main landmark, and a page has one of each.
    """
    found = _BODY.search(page)
    inner = _SKIP_LINK.sub("", found[1] if found else "")
    return Markup(_MAIN.sub(lambda tag: "</div>" if tag[0] == "</main>" else "<div>", inner))


def _policy_body(
    pages: Pages, declaration: Declaration, previous: Declaration | None = None
) -> Markup:
    """The policy's HTML, rendered once per version (and previous version) for the app."""
    key = (declaration.digest, previous.digest if previous else None)
    found = pages.policy_bodies.get(key)
    if found is None:
        found = body_of(render_policy(declaration, "html", previous=previous))
        if len(pages.policy_bodies) < 32:
            pages.policy_bodies[key] = found
    return found


def _record_version(pages: Pages) -> None:
    if pages.versions_recorded:
        return
    try:
        pages.versions.record(pages.runtime.declaration)
        pages.versions_recorded = True
    except StoreUnavailable:
        pass  # recorded on a later visit; the policy itself needs no database


# --- reading the policy ---------------------------------------------------------------------------


@router.get("")
def home(request: Request, pages: PagesDep) -> HTMLResponse:
    """The privacy center's front page."""
    return pages.render(request, "privacy/home.html", {"done": _done(request)})


@router.get("/policy")
def policy(request: Request, pages: PagesDep) -> HTMLResponse:
    """The policy in force, rendered from the declaration."""
    _record_version(pages)
    declaration = pages.runtime.declaration
    return pages.render(
        request,
        "privacy/policy.html",
        {"policy": _policy_body(pages, declaration), "version": declaration.policy.version},
    )


@router.get("/policy/versions")
def versions(request: Request, pages: PagesDep) -> HTMLResponse:
    """Every version of the policy served here, the newest first."""
    _record_version(pages)
    return pages.render(
        request,
        "privacy/versions.html",
        {"versions": pages.versions.list(), "current": pages.runtime.declaration.digest},
    )


@router.get("/policy/versions/{digest}")
def version(digest: str, request: Request, pages: PagesDep) -> HTMLResponse:
    """One version of the policy, opening with what changed from the version before it."""
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise PageError(404, "error_not_found")
    try:
        declaration = pages.versions.declaration(digest)
        previous, changes = pages.versions.changes(digest)
        before = pages.versions.declaration(previous.digest) if previous else None
    except NotFound:
        raise PageError(404, "error_not_found") from None
    return pages.render(
        request,
        "privacy/version.html",
        {
            "declaration": declaration,
            "previous": previous,
            "changes": changes,
            "policy": _policy_body(pages, declaration, before),
            "current": digest == pages.runtime.declaration.digest,
        },
    )


# --- signing in ----------------------------------------------------------------------------------


@router.get("/sign-in")
def sign_in_page(request: Request, pages: PagesDep) -> HTMLResponse:
    """Ask for the e-mail address to send a code to."""
    return pages.render(request, "privacy/sign_in.html", {"error": None, "email": ""})


@router.post("/sign-in")
async def sign_in(request: Request, pages: PagesDep) -> Response:
    """Send a code (the same answer for any address), then ask for it."""
    form = await read_form(pages, request, "email")
    pages.limit(request, "person")
    try:
        sign_in_id = await run_in_threadpool(pages.sign_in.start, form["email"])
    except StoreUnavailable:
        raise
    except PledgeError as refused:
        return pages.render(
            request,
            "privacy/sign_in.html",
            {"error": str(refused), "email": form["email"]},
            status=422,
        )
    response = redirect("/privacy/sign-in/code")
    response.set_cookie(
        SIGN_IN_COOKIE,
        sign_in_id,
        max_age=15 * 60,
        path="/privacy",
        httponly=True,
        samesite="lax",
        secure=pages.secure(request),
    )
    return response


@router.get("/sign-in/code")
def code_page(request: Request, pages: PagesDep) -> HTMLResponse:
    """Ask for the code."""
    waiting = bool(request.cookies.get(SIGN_IN_COOKIE))
    return pages.render(request, "privacy/code.html", {"error": None, "waiting": waiting})


@router.post("/sign-in/code")
async def enter_code(request: Request, pages: PagesDep) -> Response:
    """Check the code; open the person's session."""
    form = await read_form(pages, request, "code")
    pages.limit(request, "code")
    sign_in_id = request.cookies.get(SIGN_IN_COOKIE, "")
    if not sign_in_id:
        return pages.render(
            request, "privacy/code.html", {"error": "pc_code_missing", "waiting": False}, status=400
        )
    try:
        subject_id = await run_in_threadpool(pages.sign_in.verify, sign_in_id, form["code"])
    except CodeRefused as refused:
        return pages.render(
            request, "privacy/code.html", {"error": str(refused), "waiting": True}, status=401
        )
    session = pages.sessions.open_person(subject_id, lifetime=pages.person_lifetime)
    response = redirect("/privacy/account")
    response.delete_cookie(SIGN_IN_COOKIE, path="/privacy")
    response.set_cookie(
        PERSON_COOKIE,
        session.token,
        max_age=int(pages.person_lifetime.total_seconds()),
        path="/privacy",
        httponly=True,
        samesite="lax",
        secure=pages.secure(request),
    )
    return response


@router.post("/sign-out")
async def sign_out(request: Request, pages: PagesDep, session: PersonSession) -> Response:
    """End the person's session."""
    await read_form(pages, request)
    pages.sessions.end(session.token)
    response = redirect("/privacy?done=signed_out")
    response.delete_cookie(PERSON_COOKIE, path="/privacy")
    return response


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


__all__ = ["body_of", "router"]
