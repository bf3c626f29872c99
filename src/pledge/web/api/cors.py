"""CORS for the public browser endpoints: only the declared origins, and nothing else.

Only paths under ``/api/v1/public/`` are open to browsers on other origins. A request whose
``Origin`` is not one of ``settings.allowed_origins`` is refused with 403 before its body is
read, so nothing is written; a preflight from an allowed origin is answered here. A request
without ``Origin`` is not from a browser page on another site (browsers send it on every
cross-origin request and every POST), and goes through: CORS protects people's browsers, not
the server, which the rate limit protects.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pledge.web.api.problems import problem_response

ALLOWED_METHODS = "POST"
ALLOWED_HEADERS = "Content-Type, Sec-GPC"
PREFLIGHT_MAX_AGE = "600"


class PublicCorsMiddleware:
    """Apply the public endpoints' CORS policy to paths under ``prefix``.

    Args:
        app: the ASGI application.
        prefix: the path prefix of the public endpoints.
        allowed_origins: the origins (``https://shop.example``) allowed to call them.
    """

    def __init__(self, app: ASGIApp, prefix: str, allowed_origins: Iterable[str]) -> None:
        self.app = app
        self.prefix = prefix
        self.allowed = frozenset(origin.rstrip("/") for origin in allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        if origin not in self.allowed:
            response = problem_response(
                403,
                f"the origin {origin!r} may not call this endpoint",
                instance=path,
                kind="origin-not-allowed",
                headers={"Vary": "Origin"},
            )
            await response(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(origin, headers, path)(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers["Access-Control-Allow-Origin"] = origin
                response_headers.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _preflight(self, origin: str, headers: Headers, path: str) -> Response:
        method = headers["access-control-request-method"]
        if method.upper() != ALLOWED_METHODS:
            return problem_response(
                403, f"{method} is not allowed here", instance=path, kind="method-not-allowed"
            )
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
                "Vary": "Origin",
            },
        )
