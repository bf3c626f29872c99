"""``GET /banner.js``: the cookie banner, for a site's ``<script src=…/banner.js>``.

Public, and not part of the JSON API (nor its OpenAPI document). Browsers may keep it for
five minutes (``Cache-Control``) and then ask again with ``If-None-Match``: the answer is a
304 until the declaration changes. A script cached across a change of the declaration is
harmless: the ledger refuses choices made on an outdated notice (409), and the banner asks
again on the next page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.datastructures import State

from pledge.web.banner.script import BannerScript, build_script

router = APIRouter(include_in_schema=False)

CACHE_CONTROL = "public, max-age=300"
MEDIA_TYPE = "text/javascript; charset=utf-8"


def _script(request: Request) -> BannerScript:
    state: State = request.app.state
    script: BannerScript | None = getattr(state, "banner_script", None)
    if script is None:  # built on first use; the declaration of a runtime never changes
        script = build_script(state.runtime.declaration)
        state.banner_script = script
    return script


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak comparison, ``*`` matches).

    Args:
        header: the header's value, or None when absent.
        etag: the current entity tag, quoted.

    Returns:
        True when the client's copy is current.
    """
    if header is None:
        return False
    for candidate in header.split(","):
        tag = candidate.strip().removeprefix("W/")
        if tag in ("*", etag):
            return True
    return False


def accepts_gzip(header: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header accepts gzip (not with ``q=0``).

    Args:
        header: the header's value, or None when absent.

    Returns:
        True when a gzip-compressed body may be sent.
    """
    for item in (header or "").split(","):
        coding, _, parameters = item.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        weight = parameters.strip().lower().removeprefix("q=")
        try:
            if parameters and float(weight) == 0:
                continue
        except ValueError:
            continue
        return True
    return False


@router.api_route("/banner.js", methods=["GET", "HEAD"])
async def banner_script(request: Request) -> Response:
    """The banner's script, built from the declaration; 304 when the client's copy is current."""
    script = _script(request)
    headers = {
        "ETag": script.etag,
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if etag_matches(request.headers.get("if-none-match"), script.etag):
        return Response(status_code=304, headers=headers)
    body = script.body
    if accepts_gzip(request.headers.get("accept-encoding")):
        body = script.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=MEDIA_TYPE, headers=headers)
