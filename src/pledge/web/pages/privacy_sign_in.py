"""Signing in to the privacy center (``/privacy/sign-in``): a code sent to the person's e-mail
address opens their session. Asking for a code answers the same whether or not the address is
known."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from pledge.errors import PledgeError, StoreUnavailable
from pledge.staff.people import CodeRefused
from pledge.web.pages.deps import PERSON_COOKIE, PagesDep, PersonSession
from pledge.web.pages.support import read_form, redirect

router = APIRouter(prefix="/privacy", include_in_schema=False)

SIGN_IN_COOKIE = "pledge_sign_in"


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


__all__ = ["SIGN_IN_COOKIE", "router"]
