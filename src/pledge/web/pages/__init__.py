"""The server-rendered pages: the privacy center (``/privacy``) for people and the admin
console (``/admin``) for staff, with their assets under ``/assets``.

``install(app, runtime)`` adds them to the web application: the routers, the static files,
the page security middleware (CSP and other headers, the CSRF cookie, errors as HTML pages)
and the handlers that turn a page error or a missing session into a page or a redirect.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from pledge.app import Runtime
from pledge.web.pages import admin, privacy, privacy_policy, privacy_sign_in
from pledge.web.pages.deps import SignInRequired
from pledge.web.pages.security import PageSecurityMiddleware
from pledge.web.pages.support import PageError, Pages

STATIC = Path(__file__).resolve().parent.parent / "static"
PREFIXES = ("/privacy", "/admin", "/assets/")


def install(app: FastAPI, runtime: Runtime) -> Pages:
    """Add the privacy center and the admin console to ``app``.

    Args:
        app: the web application.
        runtime: the runtime it serves.

    Returns:
        The pages' services (also kept as ``app.state.pages``).
    """
    pages = Pages(runtime)
    app.state.pages = pages
    app.include_router(privacy.router)
    app.include_router(privacy_policy.router)
    app.include_router(privacy_sign_in.router)
    app.include_router(admin.router)
    app.mount("/assets", StaticFiles(directory=STATIC), name="assets")

    async def page_error(request: Request, error: Exception) -> HTMLResponse:
        assert isinstance(error, PageError)
        return pages.error(request, error)

    async def sign_in_required(request: Request, error: Exception) -> RedirectResponse:
        assert isinstance(error, SignInRequired)
        return RedirectResponse(error.location, status_code=303)

    app.add_exception_handler(PageError, page_error)
    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_middleware(PageSecurityMiddleware, pages=pages, prefixes=PREFIXES)
    return pages


__all__ = ["install"]
