"""Telling the recipients of a person's data what was done (GDPR Art. 19), by webhook.

Each notice is a job (kind ``recipient``) queued in the transaction that completes the
request. It keeps, sealed under a key of Pledge's own, the identities the recipient finds the
person by (and a rectification's corrections): an erasure that keeps nothing makes Pledge
forget the person right after, and the notice must still name them. The snapshot is dropped
once the recipient has it (``pledge.notify.webhooks``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from pledge.declaration.model import Declaration
from pledge.jobs.service import Jobs
from pledge.requests.model import RequestType, SubjectRequest
from pledge.subjects.service import Subjects

NOTICE_STEP = "notice"
"""The name under which a recipient job keeps its sealed snapshot of the person."""


def notice_context(job_id: str) -> str:
    """What a recipient notice's snapshot is sealed to: its job."""
    return f"recipient-notice/{job_id}"


def shared_details(kind: RequestType, details: Mapping[str, Any]) -> dict[str, Any]:
    """What of a request's details a recipient is told: a rectification's corrections."""
    if kind is RequestType.RECTIFICATION:
        return {"corrections": dict(details.get("corrections") or {})}
    return {}


def _grouped(identities: Any) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for identity in identities:
        grouped.setdefault(str(identity.kind), []).append(identity.value)
    return grouped


def queue_notices(
    connection: Connection,
    request: SubjectRequest,
    declaration: Declaration,
    jobs: Jobs,
    subjects: Subjects,
) -> dict[str, Any]:
    """Queue, in the caller's transaction, a notice to each recipient with a webhook.

    Returns which recipients will be notified and which must be told by hand.
    """
    notified: list[str] = []
    by_hand: list[str] = []
    snapshot: bytes | None = None
    for key, recipient in declaration.recipients.items():
        if recipient.webhook is None:
            by_hand.append(key)
            continue
        job_id = jobs.enqueue(
            connection,
            "recipient",
            f"recipient:{request.id}:{key}",
            {"recipient": key, "request_id": request.id, "type": str(request.type)},
            request_id=request.id,
        )
        if snapshot is None:
            subject = subjects.get(request.subject_id, connection)
            snapshot = json.dumps(
                {
                    "subject": _grouped(subject.identities),
                    "details": shared_details(request.type, request.details or {}),
                }
            ).encode()
        sealed = subjects.keyring.seal(snapshot, notice_context(job_id))
        jobs.attach(connection, job_id, NOTICE_STEP, sealed)
        notified.append(key)
    return {"webhooks": notified, "by_hand": by_hand}


__all__ = ["NOTICE_STEP", "notice_context", "queue_notices", "shared_details"]
