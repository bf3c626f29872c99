"""The dependencies of the API's routes, as ``Annotated`` aliases (one place, one meaning).

A route states what it needs in its signature::

    def grant(subject_id: SubjectId, body: ConsentIn, runtime: RuntimeDep, key: ConsentWriter)

and FastAPI provides it: the runtime the app was built with, the API key of the request with
the scope the route needs (401 without a valid key, 403 without the scope).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from pledge import keys
from pledge.app import Runtime
from pledge.errors import AuthError
from pledge.keys import ApiKey, Scope

ULID_PATTERN = r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$"

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    bearerFormat="pk_<prefix>_<secret>",
    description="An API key made with `pledge apikey create`, sent as `Authorization: Bearer …`.",
)


async def get_runtime(request: Request) -> Runtime:
    """The runtime the app was built with.

    A coroutine, as :meth:`RequireScope.__call__` is: FastAPI runs a plain function
    dependency in its thread pool, a hop that costs more than what these do.
    """
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_api_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKey:
    """The API key the request authenticates with.

    A key this process checked recently is answered from memory, on the event loop; any
    other is checked against the database in the thread pool (see :class:`keys.KeyCache`).

    Raises:
        AuthError: no key, or an unknown or revoked one (401).
    """
    if credentials is None:
        raise AuthError("an API key is required: send Authorization: Bearer <key>")
    cache: keys.KeyCache = request.app.state.api_keys
    key = cache.cached(credentials.credentials)
    if key is None:
        key = await run_in_threadpool(cache.authenticate, credentials.credentials)
    return key


ApiKeyDep = Annotated[ApiKey, Depends(get_api_key)]


class RequireScope:
    """A dependency: the request's API key, which must have ``scope`` (403 otherwise)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    async def __call__(self, key: ApiKeyDep) -> ApiKey:
        """The key, if it has the scope.

        Raises:
            AuthError: the key lacks the scope (403).
        """
        if not key.allows(self.scope):
            raise AuthError(f"this API key lacks the scope {self.scope}", forbidden=True)
        return key


ConsentWriter = Annotated[ApiKey, Depends(RequireScope(Scope.CONSENT_WRITE))]
ConsentReader = Annotated[ApiKey, Depends(RequireScope(Scope.CONSENT_READ))]
SubjectsWriter = Annotated[ApiKey, Depends(RequireScope(Scope.SUBJECTS_WRITE))]
SubjectsReader = Annotated[ApiKey, Depends(RequireScope(Scope.SUBJECTS_READ))]
DecisionMaker = Annotated[ApiKey, Depends(RequireScope(Scope.DECISIONS))]
AuditReader = Annotated[ApiKey, Depends(RequireScope(Scope.AUDIT_READ))]
RequestsWriter = Annotated[ApiKey, Depends(RequireScope(Scope.REQUESTS_WRITE))]
RequestsReader = Annotated[ApiKey, Depends(RequireScope(Scope.REQUESTS_READ))]
Admin = Annotated[ApiKey, Depends(RequireScope(Scope.ADMIN))]


SubjectId = Annotated[
    str,
    Path(
        description="The subject's id (a ULID).",
        pattern=ULID_PATTERN,
        examples=["01JD3Z6X6M0000000000000000"],
    ),
]
