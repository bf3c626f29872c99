"""Errors as RFC 9457 problem details, and the one place Pledge's errors become HTTP statuses.

Every error response of the API is ``application/problem+json``::

    {"type": "urn:pledge:problem:not-found", "title": "Not found", "status": 404,
     "detail": "no subject 01J…", "instance": "/api/v1/subjects/01J…"}

Validation errors add ``errors``: one ``{"field", "message", "type"}`` per field, without the
value that was sent (it may be personal data). A 500 says only that something went wrong;
the traceback goes to the server's log, never to the client.

The mapping (docs/api.md repeats it):

==========================================  ======  =======================================
error                                       status  why
==========================================  ======  =======================================
malformed JSON                              400     the body is not JSON at all
AuthError (missing, unknown, revoked key)   401     with ``WWW-Authenticate: Bearer``
AuthError(forbidden=True) (scope missing)   403
ProcessingDenied                            403     a purpose may not run now
foreign Origin on the public endpoint       403     nothing is written
NotFound                                    404     subject, purpose, recipient, key, route
method not allowed                          405
IntegrityError (identity already taken)     409     the request conflicts with what exists
RequestError                                409     a request step its state or the law forbids
the notice shown is not the current one     409     reload the notice, then ask again
KeyDestroyed                                410     the subject was erased
oversized body                              413     refused before it is parsed
request validation                          422     wrong types, missing or unknown fields
ConsentError                                422     see below
UsageError, InvalidIdentity                 422     a value the service cannot work with
rate limit                                  429     with ``Retry-After``
StoreUnavailable                            503     with ``Retry-After``; nothing was written
DatastoreError                              503     a company database cannot be used
anything else                               500     no internals
==========================================  ======  =======================================

ConsentError is 422, not 409: consent for a purpose that does not rely on consent is a request
that can never succeed as written (the declaration decides the legal basis), not a clash with
the current state that the client could resolve and retry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from pledge.errors import (
    AuthError,
    ConfigError,
    ConsentError,
    DatastoreError,
    DeclarationError,
    NotFound,
    PledgeError,
    ProcessingDenied,
    RequestError,
    StoreUnavailable,
    UsageError,
)
from pledge.subjects.crypto import KeyDestroyed
from pledge.subjects.model import InvalidIdentity

PROBLEM_MEDIA_TYPE = "application/problem+json"
RETRY_AFTER_UNAVAILABLE = 5  # seconds: a restarting database is usually back by then
_TYPE_BASE = "urn:pledge:problem:"

logger = logging.getLogger("pledge.web")


class FieldError(BaseModel):
    """One invalid field of a request."""

    field: str = Field(description="Where: body.purpose, query.limit, path.subject_id…")
    message: str = Field(description="What is wrong with it.")
    type: str = Field(description="A machine-readable error type (Pydantic's).")


class Problem(BaseModel):
    """An RFC 9457 problem details document."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong this time, for a person.")
    instance: str = Field(description="The path of the request that failed.")
    errors: list[FieldError] | None = Field(None, description="Invalid fields, on 400 and 422.")


class ApiProblem(HTTPException):
    """A problem only the web layer knows: a foreign origin, a rate limit, a body too large.

    It derives from FastAPI's ``HTTPException`` so that raising it while FastAPI reads the
    body (the size limit) reaches the handler unchanged.

    Args:
        status: the HTTP status.
        detail: what went wrong, for a person.
        kind: the last part of the problem type URI; defaults from the status.
        headers: extra response headers (``Retry-After``).
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, detail, dict(headers) if headers else None)
        self.kind = kind


def problem_response(
    status: int,
    detail: str,
    *,
    instance: str,
    kind: str | None = None,
    headers: Mapping[str, str] | None = None,
    errors: Sequence[FieldError] | None = None,
) -> JSONResponse:
    """A problem details response.

    Args:
        status: the HTTP status.
        detail: what went wrong this time.
        instance: the request path.
        kind: the last part of the type URI; defaults to the status phrase in kebab case.
        headers: extra headers.
        errors: invalid fields, for validation problems.
    """
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:  # a status Python does not name
        phrase = "Error"
    body: dict[str, Any] = {
        "type": _TYPE_BASE + (kind or phrase.lower().replace(" ", "-").replace("'", "")),
        "title": phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors is not None:
        body["errors"] = [error.model_dump() for error in errors]
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def status_of(error: Exception) -> int:
    """The HTTP status of an error Pledge's services raise (the table of this module)."""
    if isinstance(error, AuthError):
        return 403 if error.forbidden else 401
    statuses: tuple[tuple[type[Exception], int], ...] = (
        (NotFound, 404),
        (ConsentError, 422),
        (UsageError, 422),
        (InvalidIdentity, 422),
        (ProcessingDenied, 403),
        (StoreUnavailable, 503),
        (DatastoreError, 503),
        (KeyDestroyed, 410),
        (IntegrityError, 409),
        (RequestError, 409),
        (DeclarationError, 500),
        (ConfigError, 500),
    )
    for kind, status in statuses:
        if isinstance(error, kind):
            return status
    return 500


_KINDS = {
    ConsentError: "consent",
    InvalidIdentity: "invalid-identity",
    StoreUnavailable: "store-unavailable",
    KeyDestroyed: "subject-erased",
    IntegrityError: "conflict",
    RequestError: "request",
}


def _detail(error: Exception, status: int) -> str:
    if status == 500:
        return "an unexpected error occurred; it has been logged"
    if isinstance(error, StoreUnavailable):
        return "Pledge's database is unavailable; nothing was written. Try again shortly."
    if isinstance(error, KeyDestroyed):
        return "the subject was erased; their data can no longer be read"
    if isinstance(error, IntegrityError):
        return "the request conflicts with existing data (an identity already in use?)"
    return str(error) or HTTPStatus(status).phrase


async def _service_error(request: Request, error: Exception) -> JSONResponse:
    status = status_of(error)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
        logger.warning("store unavailable: %s", error)
    if status == 500:
        logger.error("unexpected error on %s", request.url.path, exc_info=error)
    kind = next((name for cls, name in _KINDS.items() if isinstance(error, cls)), None)
    return problem_response(
        status,
        _detail(error, status),
        instance=request.url.path,
        kind=kind,
        headers=headers,
    )


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    found = list(error.errors())
    if any(item.get("type") == "json_invalid" for item in found):
        return problem_response(
            400,
            "the request body is not valid JSON",
            instance=request.url.path,
            kind="malformed-json",
        )
    fields = [
        FieldError(
            field=".".join(str(part) for part in item.get("loc", ())),
            message=str(item.get("msg", "invalid")),
            type=str(item.get("type", "invalid")),
        )
        for item in found
    ]
    return problem_response(
        422,
        f"the request is invalid: {len(fields)} field error{'s' if len(fields) != 1 else ''}",
        instance=request.url.path,
        kind="validation",
        errors=fields,
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    kind = error.kind if isinstance(error, ApiProblem) else None
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    return problem_response(
        error.status_code,
        detail,
        instance=request.url.path,
        kind=kind,
        headers=error.headers,
    )


def install(app: FastAPI) -> None:
    """Register the problem details handlers: the one mapping of errors to statuses."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for error in (PledgeError, InvalidIdentity, KeyDestroyed, IntegrityError, Exception):
        app.add_exception_handler(error, _service_error)


_DESCRIPTIONS = {
    400: "Malformed JSON.",
    401: "No API key, or an unknown or revoked one.",
    403: "The API key lacks the scope this operation needs.",
    404: "Not found.",
    409: "Conflict.",
    410: "The subject was erased.",
    413: "The body is larger than the limit.",
    422: "The request is invalid.",
    429: "Too many requests.",
    503: "Pledge's database is unavailable; nothing was written.",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem statuses an operation may answer with.

    ``app.py`` moves them from ``application/json`` to ``application/problem+json`` when it
    builds the document.
    """
    return {status: {"model": Problem, "description": _DESCRIPTIONS[status]} for status in statuses}


#: What every operation may answer: bad JSON, too large, invalid, store down.
COMMON_RESPONSES = responses(400, 413, 422, 503)
#: What every operation behind an API key may answer in addition.
AUTH_RESPONSES = responses(401, 403)
