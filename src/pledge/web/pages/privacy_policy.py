"""The privacy center's policy pages (``/privacy/policy``): the policy in force, rendered from
the declaration, and every version served before, each opening with what changed."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from pledge.declaration import Declaration
from pledge.errors import NotFound, StoreUnavailable
from pledge.render import render_policy
from pledge.web.pages.deps import PagesDep
from pledge.web.pages.support import PageError, Pages

router = APIRouter(prefix="/privacy", include_in_schema=False)

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


# --- the pages ------------------------------------------------------------------------------------


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


__all__ = ["body_of", "router"]
