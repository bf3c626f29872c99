"""``/subjects/{id}/objections``: a person's objections (GDPR Art. 21, and opt-outs of sale).

An objection has a scope: a purpose key (one based on legitimate interests or a public task,
used for direct marketing, or selling or sharing personal information), ``*`` (every purpose
based on legitimate interests or a public task) or ``direct_marketing`` (every direct
marketing purpose: absolute, Art. 21(3)). Recording one that already stands changes nothing
(200, not 201); lifting one that does not stand is a 404 problem. A scope no objection can
apply to (a purpose based on consent or a contract) is a 422 problem, and nothing is written.

Objections are the person's choices about processing, like consent: the consent scopes
cover them (``consent:read`` to list, ``consent:write`` to record and lift).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, Field

from pledge.consent.model import Channel
from pledge.enforcement.objections import Objection
from pledge.errors import NotFound
from pledge.web.api.deps import ConsentReader, ConsentWriter, RuntimeDep, SubjectId
from pledge.web.api.problems import responses
from pledge.web.api.schemas import Schema

router = APIRouter(prefix="/subjects/{subject_id}/objections", tags=["objections"])

SCOPE_PATTERN = r"^(\*|[A-Za-z0-9_.\-]{1,100})$"

ObjectionScope = Annotated[
    str,
    Field(
        pattern=SCOPE_PATTERN,
        description="A purpose key, `*` (every purpose based on legitimate interests or a"
        " public task) or `direct_marketing`.",
        examples=["direct_marketing"],
    ),
]


class ObjectionIn(Schema):
    """An objection to record."""

    scope: ObjectionScope
    channel: Channel = Field(Channel.API, description="Where the person objected.")


class ObjectionOut(BaseModel):
    """An objection, standing or lifted."""

    id: str
    subject_id: str
    scope: str
    created_at: dt.datetime
    lifted_at: dt.datetime | None = Field(description="Null while the objection stands.")


class ObjectionsOut(BaseModel):
    """A subject's objections, oldest first."""

    subject_id: str
    objections: list[ObjectionOut]


def _out(objection: Objection) -> ObjectionOut:
    return ObjectionOut(
        id=objection.id,
        subject_id=objection.subject_id,
        scope=objection.scope,
        created_at=objection.created_at,
        lifted_at=objection.lifted_at,
    )


@router.get("", summary="List a subject's objections", responses=responses(404))
def list_objections(
    subject_id: SubjectId,
    runtime: RuntimeDep,
    key: ConsentReader,
    include_lifted: Annotated[
        bool, Query(description="Also the objections that were lifted.")
    ] = False,
) -> ObjectionsOut:
    """The objections standing, or every objection the subject made."""
    found = runtime.objections.history(subject_id)
    if not include_lifted:
        found = [objection for objection in found if objection.lifted_at is None]
    return ObjectionsOut(subject_id=subject_id, objections=[_out(item) for item in found])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Record an objection",
    responses={
        200: {"model": ObjectionOut, "description": "The objection already stood."},
        **responses(404),
    },
)
def record_objection(
    subject_id: SubjectId,
    body: ObjectionIn,
    response: Response,
    runtime: RuntimeDep,
    key: ConsentWriter,
) -> ObjectionOut:
    """Record that the subject objects to processing; 201 when new, 200 when it stood."""
    objection, new = runtime.objections.ensure(
        subject_id, body.scope, actor=key.actor, channel=body.channel.value
    )
    if not new:
        response.status_code = status.HTTP_200_OK
    return _out(objection)


@router.delete("/{scope}", summary="Lift an objection", responses=responses(404))
def lift_objection(
    subject_id: SubjectId,
    scope: Annotated[str, Path(pattern=SCOPE_PATTERN, description="The scope objected to.")],
    runtime: RuntimeDep,
    key: ConsentWriter,
) -> ObjectionOut:
    """Lift the subject's objection to ``scope`` (the person took it back)."""
    lifted = runtime.objections.lift(subject_id, scope, actor=key.actor, channel=Channel.API.value)
    if lifted is None:
        raise NotFound(f"subject {subject_id} has no standing objection to {scope}")
    return _out(lifted)
