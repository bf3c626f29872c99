"""What the page routers share: their services, the templates, cookies, CSRF and form reading.

CSRF: every browser gets a random ``pledge_csrf`` cookie (HttpOnly, SameSite=Strict); each
form carries an HMAC of it, and of the session the browser holds when it has one (see
:mod:`pledge.web.pages.security`), under a key derived from the master key. A POST is refused
unless the token matches the cookie and session it comes with and any ``Origin`` header is
this site's. A page from another site can neither read the cookie nor compute the token, and a
token made for one session (another person's, or an earlier one of the same browser) does not
work in another, even with its CSRF cookie planted beside it.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.datastructures import FormData

from pledge.app import Runtime
from pledge.notify.keys import derived_key, sign, signed_equal
from pledge.notify.policies import PolicyVersions
from pledge.notify.templates import Templates
from pledge.notify.unsubscribe import Unsubscribe
from pledge.staff.people import PersonSignIn
from pledge.staff.service import Sessions, StaffAccounts
from pledge.web.api.limits import RateLimiter
from pledge.web.pages.catalogue import text

log = logging.getLogger("pledge.web.pages")

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
CSRF_COOKIE = "pledge_csrf"
CSRF_FIELD = "csrf_token"
CSRF_SESSION = "pledge.csrf_session"
"""Where in the request's scope the page middleware leaves what the token is bound to besides
the cookie: a digest of the browser's session cookie, empty without a session."""
MAX_FORM_FIELD = 4000
"""The longest value any form field may carry (a message to the privacy officer)."""


class PageError(Exception):
    """An error a page shows as an HTML page: its status and a catalogue key (or text)."""

    def __init__(self, status: int, message: str, *, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


@dataclass
class Pages:
    """The services and settings of the pages, built once per application.

    Args:
        runtime: the runtime the application serves.
    """

    runtime: Runtime
    staff: StaffAccounts = field(init=False)
    sessions: Sessions = field(init=False)
    sign_in: PersonSignIn = field(init=False)
    versions: PolicyVersions = field(init=False)
    unsubscribe: Unsubscribe = field(init=False)
    templates: Templates = field(init=False)
    environment: Environment = field(init=False)
    sign_in_limiter: RateLimiter = field(init=False)
    versions_recorded: bool = False
    policy_bodies: dict[tuple[str, str | None], Markup] = field(default_factory=dict)

    def __post_init__(self) -> None:
        runtime = self.runtime
        settings = runtime.settings
        self.staff = runtime.staff
        self.sessions = runtime.sessions
        self.templates = runtime.templates
        self.sign_in = runtime.sign_in
        self.versions = runtime.versions
        self.unsubscribe = runtime.unsubscribe
        self.sign_in_limiter = RateLimiter(settings.sign_in_rate_limit)
        self._csrf_key = derived_key(settings.secret_key, "pledge/v1/csrf")
        self.environment = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.environment.globals["_"] = text
        self.environment.globals["say"] = say
        self.environment.filters["day"] = _day
        self.environment.filters["moment"] = _moment

    # --- sessions ---------------------------------------------------------------------------------

    @property
    def staff_lifetime(self) -> dt.timedelta:
        """How long a staff session lasts at most."""
        return dt.timedelta(minutes=self.runtime.settings.staff_session_minutes)

    @property
    def staff_idle(self) -> dt.timedelta:
        """How long a staff session survives without a request."""
        return dt.timedelta(minutes=self.runtime.settings.staff_idle_minutes)

    @property
    def person_lifetime(self) -> dt.timedelta:
        """How long a person stays signed in."""
        return dt.timedelta(minutes=self.runtime.settings.person_session_minutes)

    def secure(self, request: Request) -> bool:
        """Whether cookies get the Secure flag: under HTTPS, or when the site is public on it."""
        return request.url.scheme == "https" or self.runtime.settings.public_url.startswith(
            "https:"
        )

    # --- CSRF -------------------------------------------------------------------------------------

    def csrf_token(self, request: Request) -> str:
        """The token the forms of this page carry (the cookie is set by the middleware)."""
        return sign(self._csrf_key, _csrf_text(request, browser_id(request)))

    def check_csrf(self, request: Request, form: FormData) -> None:
        """Refuse a form that does not carry this browser's token or comes from elsewhere.

        Raises:
            PageError: 403.
        """
        origin = request.headers.get("origin")
        if origin is not None and not _same_origin(origin, request):
            raise PageError(403, "error_csrf")
        cookie = request.cookies.get(CSRF_COOKIE, "")
        given = form.get(CSRF_FIELD)
        if (
            not cookie
            or not isinstance(given, str)
            or not signed_equal(self._csrf_key, _csrf_text(request, cookie), given)
        ):
            raise PageError(403, "error_csrf")

    # --- rendering --------------------------------------------------------------------------------

    def render(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any] | None = None,
        *,
        status: int = 200,
    ) -> HTMLResponse:
        """A template rendered as a page."""
        values = {
            "request": request,
            "company": self.runtime.declaration.controller.name,
            "csrf_field": CSRF_FIELD,
            "csrf_token": self.csrf_token(request),
            "path": request.url.path,
            **(context or {}),
        }
        body = self.environment.get_template(name).render(values)
        return HTMLResponse(body, status_code=status)

    def error(self, request: Request, error: PageError) -> HTMLResponse:
        """The error page of ``error``."""
        message = say(error.message)
        response = self.render(
            request,
            "error.html",
            {"status": error.status, "message": message},
            status=error.status,
        )
        response.headers.update(error.headers)
        return response

    def limit(self, request: Request, what: str) -> None:
        """Spend a token of this client's sign-in budget.

        Raises:
            PageError: 429 past the limit.
        """
        client = request.client.host if request.client else "unknown"
        wait = self.sign_in_limiter.take(f"{what}:{client}")
        if wait > 0:
            raise PageError(429, "error_rate", headers={"Retry-After": str(max(1, int(wait) + 1))})


def say(message: str) -> str:
    """A catalogue key in words, or a service's message (already in words) as it is."""
    try:
        return text(message)
    except KeyError:
        return message


def browser_id(request: Request) -> str:
    """The browser's CSRF cookie value (the middleware sets it before any route runs)."""
    value: str = request.scope.get("pledge.csrf") or request.cookies.get(CSRF_COOKIE, "")
    return value


def _csrf_text(request: Request, browser: str) -> str:
    """What a form's token signs: the browser's CSRF cookie, and its session when it has one."""
    session = str(request.scope.get(CSRF_SESSION) or "")
    return f"{browser}\n{session}" if session else browser


def new_browser_id() -> str:
    """A fresh CSRF cookie value."""
    return secrets.token_urlsafe(24)


async def read_form(pages: Pages, request: Request, *fields: str) -> dict[str, str]:
    """The named fields of a posted form, stripped, after the CSRF check.

    Missing fields come back empty; a value longer than :data:`MAX_FORM_FIELD` or a file
    is refused.

    Raises:
        PageError: 403 (CSRF) or 400 (a malformed form).
    """
    try:
        form = await request.form(max_files=0, max_fields=50)
    except Exception:  # a body that is no form at all
        raise PageError(400, "error_again") from None
    pages.check_csrf(request, form)
    values: dict[str, str] = {}
    for name in fields:
        value = form.get(name)
        if value is None:
            values[name] = ""
            continue
        if not isinstance(value, str) or len(value) > MAX_FORM_FIELD:
            raise PageError(400, "error_again")
        values[name] = value.strip()
    return values


def redirect(url: str) -> RedirectResponse:
    """A 303 to ``url`` (after a POST, the browser GETs it)."""
    return RedirectResponse(url, status_code=303)


def _same_origin(origin: str, request: Request) -> bool:
    parts = urlsplit(origin)
    host = request.headers.get("host", "")
    return parts.netloc == host


def _day(moment: dt.datetime | dt.date | None) -> str:
    if moment is None:
        return "–"
    return moment.strftime("%d %b %Y")


def _moment(moment: dt.datetime | None) -> str:
    if moment is None:
        return "–"
    return moment.strftime("%d %b %Y %H:%M UTC")


__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_SESSION",
    "PageError",
    "Pages",
    "browser_id",
    "new_browser_id",
    "read_form",
    "redirect",
]
