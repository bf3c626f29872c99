"""``/subjects/{id}/consent``: record a decision (grant, withdraw, refuse: one call) or several
at once, read the current state, the history and a consent receipt.

Only purposes whose legal basis is consent take consent; any other purpose is a 422 problem
and nothing is written.

Recording is the API's busiest call: it waits for the ledger's group commit on the event loop,
so that a request waiting for its batch holds no worker thread (a hop to one and back costs
more CPU than the route's own work).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field, StringConstraints, field_validator

from pledge.app import Runtime
from pledge.consent.model import Channel, ConsentDecision, ConsentEvent, Evidence, RecordConsent
from pledge.web.api.deps import ULID_PATTERN, ConsentReader, ConsentWriter, RuntimeDep, SubjectId
from pledge.web.api.problems import responses
from pledge.web.api.schemas import DeclarationKey, Schema, Text

router = APIRouter(prefix="/subjects/{subject_id}/consent", tags=["consent"])


class EvidenceIn(Schema):
    """Where the decision came from; Pledge keeps the IP address truncated, and encrypted."""

    ip: Annotated[Text, StringConstraints(max_length=64)] | None = Field(
        None, description="The person's IP address; kept as its /24 (IPv4) or /48 (IPv6)."
    )
    user_agent: Annotated[Text, StringConstraints(max_length=2000)] | None = Field(
        None, description="The person's browser; the first 512 characters are kept."
    )


class ConsentIn(Schema):
    """A decision about one purpose: granted, withdrawn or refused."""

    purpose: DeclarationKey = Field(description="A declared purpose based on consent.")
    decision: ConsentDecision
    channel: Channel = Field(Channel.API, description="Where the person decided.")
    evidence: EvidenceIn | None = None
    guardian_id: str | None = Field(
        None,
        pattern=ULID_PATTERN,
        description="The recorded guardian deciding for a child (GDPR Art. 8).",
    )
    notice_hash: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the notice text shown; defaults to the current notice.",
    )


class ConsentBatchIn(Schema):
    """Several decisions made at once (a form's or a banner's choices), recorded together."""

    decisions: list[ConsentIn] = Field(
        min_length=1,
        max_length=100,
        description="The decisions, each about another purpose; all are recorded, or none.",
    )

    @field_validator("decisions")
    @classmethod
    def _one_per_purpose(cls, decisions: list[ConsentIn]) -> list[ConsentIn]:
        purposes = [decision.purpose for decision in decisions]
        repeated = sorted({purpose for purpose in purposes if purposes.count(purpose) > 1})
        if repeated:
            raise ValueError(f"one decision per purpose; repeated: {', '.join(repeated)}")
        return decisions


class EvidenceOut(BaseModel):
    """The evidence kept with a decision."""

    ip: str | None
    user_agent: str | None


class ConsentEventOut(BaseModel):
    """A recorded decision with its place in the subject's hash chain."""

    id: str
    subject_id: str
    seq: int
    purpose: str
    decision: ConsentDecision
    channel: Channel
    actor: str
    declaration_version: str
    declaration_digest: str
    notice_hash: str
    guardian_id: str | None
    occurred_at: dt.datetime
    evidence: EvidenceOut | None = Field(description="Null when none, or the subject was erased.")
    prev_hash: str
    hash: str


class ConsentEventsOut(BaseModel):
    """The decisions recorded by one request, in its order."""

    events: list[ConsentEventOut]


class PurposeStateOut(BaseModel):
    """The current decision about one purpose."""

    decision: ConsentDecision
    event_id: str
    guardian_id: str | None
    updated_at: dt.datetime
    expires_at: dt.datetime | None = Field(
        description="When a grant stops counting and the person must be asked again (the"
        " purpose's consent_max_age); null when it does not expire, or for other decisions."
    )


class ConsentStateOut(BaseModel):
    """A subject's current decisions; purposes never decided are absent."""

    subject_id: str
    purposes: dict[str, PurposeStateOut]


class ConsentHistoryOut(BaseModel):
    """A page of a subject's decisions, oldest first."""

    events: list[ConsentEventOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


def event_out(event: ConsentEvent) -> ConsentEventOut:
    """The API's form of a consent event."""
    evidence = event.evidence
    return ConsentEventOut(
        id=event.id,
        subject_id=event.subject_id,
        seq=event.seq,
        purpose=event.purpose,
        decision=event.decision,
        channel=event.channel,
        actor=event.actor,
        declaration_version=event.declaration_version,
        declaration_digest=event.declaration_digest,
        notice_hash=event.notice_hash,
        guardian_id=event.guardian_id,
        occurred_at=event.occurred_at,
        evidence=EvidenceOut(ip=evidence.ip, user_agent=evidence.user_agent) if evidence else None,
        prev_hash=event.prev_hash,
        hash=event.hash,
    )


def _command(runtime: Runtime, subject_id: str, body: ConsentIn, actor: str) -> RecordConsent:
    evidence = None
    if body.evidence is not None:
        evidence = Evidence(ip=body.evidence.ip, user_agent=body.evidence.user_agent)
    return runtime.ledger.check(
        subject_id,
        body.purpose,
        body.decision,
        channel=body.channel,
        actor=actor,
        evidence=evidence,
        guardian_id=body.guardian_id,
        notice_hash=body.notice_hash,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Record a consent decision",
    responses=responses(404),
)
async def record_consent(
    subject_id: SubjectId, body: ConsentIn, runtime: RuntimeDep, key: ConsentWriter
) -> ConsentEventOut:
    """Grant, withdraw or refuse consent for a purpose: the same one call for each."""
    command = _command(runtime, subject_id, body, key.actor)
    (event,) = await runtime.ledger.record_commands_async([command])
    return event_out(event)


@router.post(
    "/batch",
    status_code=status.HTTP_201_CREATED,
    summary="Record several consent decisions at once",
    responses=responses(404),
)
async def record_consent_batch(
    subject_id: SubjectId, body: ConsentBatchIn, runtime: RuntimeDep, key: ConsentWriter
) -> ConsentEventsOut:
    """Record a form's or a banner's choices in one call: all of them, in order, or none."""
    commands = [_command(runtime, subject_id, decision, key.actor) for decision in body.decisions]
    events = await runtime.ledger.record_commands_async(commands)
    return ConsentEventsOut(events=[event_out(event) for event in events])


@router.get("", summary="Read the current consent state", responses=responses(404))
def read_consent_state(
    subject_id: SubjectId, runtime: RuntimeDep, key: ConsentReader
) -> ConsentStateOut:
    """The subject's current decision per purpose."""
    states = runtime.ledger.state(subject_id)
    return ConsentStateOut(
        subject_id=subject_id,
        purposes={
            purpose: PurposeStateOut(
                decision=state.decision,
                event_id=state.event_id,
                guardian_id=state.guardian_id,
                updated_at=state.updated_at,
                expires_at=runtime.ledger.expires_at(state),
            )
            for purpose, state in states.items()
        },
    )


@router.get("/history", summary="Read the consent history", responses=responses(404))
def read_consent_history(
    subject_id: SubjectId,
    runtime: RuntimeDep,
    key: ConsentReader,
    purpose: Annotated[DeclarationKey | None, Query(description="Only this purpose.")] = None,
    cursor: Annotated[
        str | None, Query(pattern=r"^[0-9]{1,9}$", description="From a previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ConsentHistoryOut:
    """The subject's recorded decisions, oldest first, with evidence while it can be read."""
    events = runtime.ledger.history(
        subject_id, purpose, after_seq=int(cursor) if cursor else 0, limit=limit + 1
    )
    if not events and not cursor:
        runtime.ledger.state(subject_id)  # 404 for a subject that does not exist
    page = events[:limit]
    return ConsentHistoryOut(
        events=[event_out(event) for event in page],
        next_cursor=str(page[-1].seq) if len(events) > limit else None,
    )


@router.get("/receipt", summary="Read a consent receipt", responses=responses(404))
def read_consent_receipt(
    subject_id: SubjectId, runtime: RuntimeDep, key: ConsentReader
) -> dict[str, Any]:
    """A consent receipt with the field names of the Kantara Consent Receipt v1.1."""
    return runtime.ledger.receipt(subject_id)
