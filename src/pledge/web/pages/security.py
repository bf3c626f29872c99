"""The protections every page response gets, in one ASGI middleware around the pages' paths.

- a strict Content-Security-Policy (scripts and styles from this site only, nothing inline,
  no framing, forms post only here), ``nosniff``, no referrer, no caching of personal pages;
- the CSRF cookie, set on the first visit, and the session the forms' tokens are bound to:
  a digest of the staff or person session cookie the browser sends, so that a token made for
  one session is refused in any other (see :mod:`pledge.web.pages.support`);
- errors as HTML pages: a problem document (404, 405, 422, 503…) from the application's
  handlers becomes the error page, and an unexpected exception a 500 page; never a traceback.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from http.cookies import SimpleCookie

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pledge.errors import StoreUnavailable
from pledge.web.pages.deps import PERSON_COOKIE, STAFF_COOKIE
from pledge.web.pages.support import (
    CSRF_COOKIE,
    CSRF_SESSION,
    PageError,
    Pages,
    new_browser_id,
)

log = logging.getLogger("pledge.web.pages")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on its own
    # forms, and the CSRF check could not tell them from a foreign site's.
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
NO_STORE = (b"cache-control", b"no-store")
PROBLEM = b"application/problem+json"

_STATUS_MESSAGES = {
    403: "error_forbidden",
    404: "error_not_found",
    405: "error_not_found",
    422: "error_again",
    429: "error_rate",
    503: "error_store",
}


class PageSecurityMiddleware:
    """Applies the page protections to requests under ``prefixes``.

    Args:
        app: the ASGI application.
        pages: the pages' services (to render error pages).
        prefixes: the paths of the pages and their assets.
    """

    def __init__(self, app: ASGIApp, pages: Pages, prefixes: Iterable[str]) -> None:
        self.app = app
        self.pages = pages
        self.prefixes = tuple(prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        new_cookie = None
        if not request.cookies.get(CSRF_COOKIE):
            new_cookie = new_browser_id()
            scope["pledge.csrf"] = new_cookie
        scope[CSRF_SESSION] = session_binding(request)
        secure = self.pages.secure(request)
        assets = path.startswith("/assets/")
        started = False
        problem: dict[str, object] = {}

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in {name for name, _ in HEADERS}
                ]
                if dict(headers).get(b"content-type", b"").startswith(PROBLEM):
                    problem["status"] = message["status"]
                    problem["headers"] = headers
                    return  # replaced by the HTML page once the body is read
                headers.extend(HEADERS)
                if not assets:
                    headers.append(NO_STORE)
                if new_cookie is not None:
                    headers.append((b"set-cookie", _cookie(new_cookie, secure)))
                started = True
                await send({**message, "headers": headers})
                return
            if message["type"] == "http.response.body" and problem:
                chunks = problem.setdefault("body", [])
                assert isinstance(chunks, list)
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._problem_page(request, problem, send, new_cookie, secure)
                return
            await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except Exception as error:
            if started:
                raise
            if isinstance(error, StoreUnavailable):
                page_error = PageError(503, "error_store", headers={"Retry-After": "5"})
            else:
                log.error("unexpected error on %s", path, exc_info=error)
                page_error = PageError(500, "error_unexpected")
            await self._send_page(request, page_error, send, new_cookie, secure)

    async def _problem_page(
        self,
        request: Request,
        problem: dict[str, object],
        send: Send,
        new_cookie: str | None,
        secure: bool,
    ) -> None:
        status = problem["status"]
        assert isinstance(status, int)
        chunks = problem.get("body", [])
        assert isinstance(chunks, list)
        try:
            detail = str(json.loads(b"".join(chunks)).get("detail", ""))
        except ValueError:
            detail = ""
        message = _STATUS_MESSAGES.get(status, "error_unexpected" if status >= 500 else detail)
        if status == 422 and detail:
            message = "error_again"
        headers = problem.get("headers", [])
        assert isinstance(headers, list)
        kept = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in headers
            if name.lower() in (b"retry-after", b"allow")
        }
        await self._send_page(
            request,
            PageError(status, message or "error_again", headers=kept),
            send,
            new_cookie,
            secure,
        )

    async def _send_page(
        self,
        request: Request,
        error: PageError,
        send: Send,
        new_cookie: str | None,
        secure: bool,
    ) -> None:
        try:
            response = self.pages.error(request, error)
            body = response.body
            headers = list(response.raw_headers)
        except Exception:  # the error page itself failed: a plain, safe answer
            log.exception("the error page failed")
            body = b"Something went wrong; nothing was changed."
            headers = [(b"content-type", b"text/plain; charset=utf-8")]
        headers = [(name, value) for name, value in headers if name != b"content-length"]
        headers += [(b"content-length", str(len(body)).encode()), *HEADERS, NO_STORE]
        if new_cookie is not None:
            headers.append((b"set-cookie", _cookie(new_cookie, secure)))
        await send({"type": "http.response.start", "status": error.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def session_binding(request: Request) -> str:
    """What the CSRF tokens of a request's forms are bound to besides the browser's cookie.

    The SHA-256 of the session cookies the browser sends (the staff one reaches ``/admin``,
    the person's ``/privacy``), so that a form made in one session does not post in another:
    not another person's, nor this browser's before it signed out and in again. The cookie
    binds whether or not its session is still live, which costs no database read; the route
    turns away a dead session after the check.

    Args:
        request: the request.

    Returns:
        The digest in hex, or an empty string for a browser without a session cookie.
    """
    held = [(name, request.cookies.get(name, "")) for name in (STAFF_COOKIE, PERSON_COOKIE)]
    if not any(token for _, token in held):
        return ""
    return hashlib.sha256("\n".join(f"{name}={token}" for name, token in held).encode()).hexdigest()


def _cookie(value: str, secure: bool) -> bytes:
    cookie: SimpleCookie = SimpleCookie()
    cookie[CSRF_COOKIE] = value
    morsel = cookie[CSRF_COOKIE]
    morsel["path"] = "/"
    morsel["httponly"] = True
    morsel["samesite"] = "Strict"
    if secure:
        morsel["secure"] = True
    return morsel.OutputString().encode("latin-1")


__all__ = ["CONTENT_SECURITY_POLICY", "PageSecurityMiddleware", "session_binding"]
