"""Limits that protect the API: the size of a request body, text the store cannot hold, and
the rate of public requests.

The rate limiter is a token bucket per client address, kept in this process's memory: with
several worker processes each keeps its own buckets, so a client may reach the limit once per
process. Behind a reverse proxy the client address is the proxy's unless uvicorn is told to
trust ``X-Forwarded-For`` (``--forwarded-allow-ips``).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pledge.web.api.problems import ApiProblem, problem_response


class BodyLimitMiddleware:
    """Refuse request bodies larger than ``max_bytes`` with 413, before anything parses them.

    A ``Content-Length`` above the limit is refused without reading the body; a body sent
    without one (chunked) is counted as it arrives and refused as soon as it passes the limit.

    Args:
        app: the ASGI application.
        max_bytes: the largest body accepted.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            response = problem_response(
                413, self._detail(), instance=scope.get("path", ""), kind="body-too-large"
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise ApiProblem(413, self._detail(), kind="body-too-large")
            return message

        await self.app(scope, counting_receive, send)

    def _detail(self) -> str:
        return f"the request body is larger than {self.max_bytes} bytes"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


_NUL_IN_QUERY = re.compile(rb"%00|\x00")
_NUL_IN_BODY = {
    # \u0000 after an even number of backslashes (none, or escaped backslashes): the escape a
    # JSON parser turns into U+0000, not the text "\u0000" written out with its backslash.
    b"application/json": re.compile(rb"(?<!\\)(?:\\\\)*\\u0000|\x00"),
    b"application/x-www-form-urlencoded": re.compile(rb"%00|\x00"),
}
NUL_DETAIL = "text may not contain the NUL character (U+0000)"


class NulMiddleware:
    """Refuse with 422 a request whose path, query or body (JSON, a form) holds the NUL
    character, before anything parses it: no person types it, and no store keeps it in text
    (PostgreSQL refuses it outright). Other bodies pass as they are.

    Args:
        app: the ASGI application.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", "") or _NUL_IN_QUERY.search(scope.get("query_string", b"")):
            response = problem_response(
                422,
                NUL_DETAIL,
                instance=scope.get("path", "").replace("\x00", ""),
                kind="validation",
            )
            await response(scope, receive, send)
            return
        pattern = _NUL_IN_BODY.get(_media_type(scope))
        if pattern is None:
            await self.app(scope, receive, send)
            return
        tail = b""  # the end of the last chunk: a NUL written across two chunks is seen too

        async def checking_receive() -> Message:
            nonlocal tail
            message = await receive()
            if message["type"] == "http.request":
                seen = tail + message.get("body", b"")
                if pattern.search(seen):
                    raise ApiProblem(422, NUL_DETAIL, kind="validation")
                tail = seen[-5:]
            return message

        await self.app(scope, checking_receive, send)


def _media_type(scope: Scope) -> bytes:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return bytes(value).split(b";", 1)[0].strip().lower()
    return b""


class RateLimitMiddleware:
    """Apply a :class:`RateLimiter` to the requests under ``prefix``, before their bodies are read.

    Preflights (``OPTIONS``) are not counted. Past the limit the answer is a 429 problem with
    ``Retry-After``, and the request goes no further.

    Args:
        app: the ASGI application.
        prefix: the path prefix of the limited endpoints.
        limiter: the buckets.
    """

    def __init__(self, app: ASGIApp, prefix: str, limiter: RateLimiter) -> None:
        self.app = app
        self.prefix = prefix
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        path = str(scope.get("path", ""))
        if (
            scope["type"] != "http"
            or scope["method"] == "OPTIONS"
            or not path.startswith(self.prefix)
        ):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = self.limiter.take(str(client[0]) if client else "unknown")
        if wait > 0:
            response = problem_response(
                429,
                f"too many requests; at most {int(self.limiter.capacity)} a minute",
                instance=path,
                kind="rate-limited",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class RateLimiter:
    """A token bucket per client: ``per_minute`` requests a minute, in bursts of as many.

    Args:
        per_minute: the sustained rate, and the size of a burst.
        clock: a monotonic time source in seconds (tests pass their own).
        max_clients: how many clients to remember; the least recently seen are forgotten
            first (a forgotten client starts again with a full bucket).
    """

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 100_000,
    ) -> None:
        self.capacity = float(max(per_minute, 1))
        self.refill_per_second = self.capacity / 60.0
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Spend one token of ``client``'s bucket.

        Returns:
            0 when the request may go ahead, else the seconds until a token is available.
        """
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.refill_per_second)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.refill_per_second
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            return wait
