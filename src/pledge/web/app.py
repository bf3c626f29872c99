"""The web application: Pledge's JSON API under ``/api/v1``, with its OpenAPI document.

``create_app(runtime)`` builds it around a runtime from the composition root; it opens no
connection of its own, so it starts while the database is down (requests then get a 503
problem) and recovers without a restart once the database is back.
``create_app_from_environment()`` is the factory uvicorn calls in each worker process of
``pledge serve --workers N``: every worker builds its own runtime from the ``PLEDGE_*``
settings and closes it when it stops.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool

from pledge import __version__
from pledge.app import Runtime, build_runtime
from pledge.config import Settings
from pledge.web import banner, pages
from pledge.web.api import audit, consent, decisions, declaration, public, subjects
from pledge.web.api import objections as subject_objections
from pledge.web.api import requests as subject_requests
from pledge.web.api.cors import PublicCorsMiddleware
from pledge.web.api.limits import (
    BodyLimitMiddleware,
    NulMiddleware,
    RateLimiter,
    RateLimitMiddleware,
)
from pledge.web.api.problems import (
    AUTH_RESPONSES,
    COMMON_RESPONSES,
    PROBLEM_MEDIA_TYPE,
    install,
)

API_PREFIX = "/api/v1"
OPENAPI_URL = f"{API_PREFIX}/openapi.json"

DESCRIPTION = """\
Pledge keeps a privacy policy true while software runs: it records consent with proof,
answers whether a purpose may process a person's data, and keeps an audit trail.

Server-to-server calls authenticate with an API key (`pledge apikey create`), sent as
`Authorization: Bearer pk_…`; each operation names the scope it needs, and `admin` has them
all. `POST /api/v1/public/consent` is for browsers: no key, limited to the declared origins
and rate limited per client. Errors are RFC 9457 problem details
(`application/problem+json`).
"""


def create_app(runtime: Runtime, *, close_runtime: bool = False, run_jobs: bool = False) -> FastAPI:
    """The FastAPI application serving ``runtime``.

    Args:
        runtime: the object graph from :func:`pledge.app.build_runtime`.
        close_runtime: close the runtime when the server stops (when the application
            owns it, as in :func:`create_app_from_environment`).
        run_jobs: run queued jobs (approved requests, recipient notices) in a background
            thread while the server runs, as ``pledge serve`` does.
    """

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runner = runtime.runner() if run_jobs else None
        if runner is not None:
            runner.start()
        # other processes' changes (a withdrawal through another worker) reach the caches
        await run_in_threadpool(runtime.changes.start)
        try:
            yield
        finally:
            await run_in_threadpool(runtime.changes.stop)
            if runner is not None:
                await run_in_threadpool(runner.stop)
            if close_runtime:  # commits what waits: consent decisions, decision audit events
                await run_in_threadpool(runtime.close)

    app = FastAPI(
        lifespan=lifespan,
        title="Pledge API",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=OPENAPI_URL,
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        responses=COMMON_RESPONSES,
    )
    app.state.runtime = runtime
    app.state.api_keys = runtime.keys
    app.state.policy_cache = {}  # format → text; the declaration of a runtime never changes
    app.state.declaration_digest = runtime.declaration.digest

    api = APIRouter(prefix=API_PREFIX)
    for router in (
        subjects.router,
        consent.router,
        subject_objections.router,
        decisions.router,
        audit.router,
        subject_requests.router,
    ):
        api.include_router(router, responses=AUTH_RESPONSES)
    api.include_router(declaration.router)
    api.include_router(public.router)
    app.include_router(api)
    app.include_router(banner.router)

    install(app)
    pages.install(app, runtime)  # the privacy center, the admin console, their assets
    # The last added runs first: a foreign origin is refused before it costs a token of the
    # rate limit, and both before the body is read.
    public_prefix = f"{API_PREFIX}/public/"
    app.add_middleware(NulMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=runtime.settings.max_body_bytes)
    app.add_middleware(
        RateLimitMiddleware,
        prefix=public_prefix,
        limiter=RateLimiter(runtime.settings.public_rate_limit),
    )
    app.add_middleware(
        PublicCorsMiddleware, prefix=public_prefix, allowed_origins=runtime.settings.allowed_origins
    )

    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        return _problems_as_problem_json(build_openapi())

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
    return app


def create_app_from_environment() -> FastAPI:
    """The application of one server process, its runtime built from the ``PLEDGE_*`` settings.

    The factory of ``pledge serve --workers N`` (``uvicorn --factory``): the declaration is
    ``PLEDGE_CONFIG``, the store ``PLEDGE_DATABASE_URL`` (already upgraded by ``serve``).
    The runtime is closed when the process stops.
    """
    runtime = build_runtime(Settings.from_env().with_secret())
    return create_app(runtime, close_runtime=True, run_jobs=True)


def _problems_as_problem_json(document: dict[str, Any]) -> dict[str, Any]:
    """Error responses are ``application/problem+json``, not the ``application/json`` FastAPI
    writes for a response model."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if str(status)[0] in "45" and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
    return document
