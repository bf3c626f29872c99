"""``/subjects``: create a subject, find one by an identity, read it, erase it.

Identities are personal data: a lookup sends the identity in the body, never in the URL, so
that it does not end up in access logs, proxies or browser history.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from pledge.errors import NotFound
from pledge.subjects.model import Identity
from pledge.web.api.deps import Admin, RuntimeDep, SubjectId, SubjectsReader, SubjectsWriter
from pledge.web.api.problems import responses
from pledge.web.api.schemas import IdentityIn, IdentityOut, Schema

router = APIRouter(prefix="/subjects", tags=["subjects"])


class SubjectIn(Schema):
    """A new subject and the identities it will be found by."""

    identities: list[IdentityIn] = Field(min_length=1, max_length=20)


class SubjectLookupIn(IdentityIn):
    """The identity to find a subject by."""


class SubjectRefOut(BaseModel):
    """A subject's id."""

    id: str


class SubjectOut(BaseModel):
    """A subject, with its identities decrypted."""

    id: str
    created_at: dt.datetime
    erased: bool = Field(description="Erased subjects keep their id and lose everything else.")
    restricted: bool = Field(description="Processing is restricted to storage (GDPR Art. 18).")
    consent_age_from: dt.datetime | None = Field(
        description="From when the subject may consent alone (GDPR Art. 8), when known."
    )
    guardian_id: str | None = Field(description="The subject who consents for a child.")
    identities: list[IdentityOut]


def _identities(found_by: list[IdentityIn]) -> list[Identity]:
    parsed = [Identity.parse(item.kind, item.value) for item in found_by]
    return list(dict.fromkeys(parsed))  # the same identity twice is the same identity


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a subject",
    responses=responses(409),
)
def create_subject(body: SubjectIn, runtime: RuntimeDep, key: SubjectsWriter) -> SubjectRefOut:
    """Create a subject found by the given identities (409 if one already belongs to one)."""
    subject_id = runtime.subjects.create(_identities(body.identities), actor=key.actor)
    return SubjectRefOut(id=subject_id)


@router.post("/lookup", summary="Find a subject by an identity", responses=responses(404))
def lookup_subject(
    body: SubjectLookupIn, runtime: RuntimeDep, key: SubjectsReader
) -> SubjectRefOut:
    """The id of the subject with this identity, or 404."""
    subject_id = runtime.subjects.find(Identity.parse(body.kind, body.value))
    if subject_id is None:
        raise NotFound("no subject has this identity")
    return SubjectRefOut(id=subject_id)


@router.get("/{subject_id}", summary="Read a subject", responses=responses(404))
def get_subject(subject_id: SubjectId, runtime: RuntimeDep, key: SubjectsReader) -> SubjectOut:
    """A subject with its identities."""
    record = runtime.subjects.get(subject_id)
    return SubjectOut(
        id=record.id,
        created_at=record.created_at,
        erased=record.erased,
        restricted=record.restricted,
        consent_age_from=record.consent_age_from,
        guardian_id=record.guardian_id,
        identities=[
            IdentityOut(kind=identity.kind, value=identity.value) for identity in record.identities
        ],
    )


@router.delete(
    "/{subject_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Erase a subject",
    responses=responses(404),
)
def erase_subject(subject_id: SubjectId, runtime: RuntimeDep, key: Admin) -> Response:
    """Erase a subject: destroy its key and identities; its records can no longer be read."""
    runtime.subjects.erase(subject_id, actor=key.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
