"""Telling recipients of a rectification, erasure or restriction (GDPR Art. 19) by webhook.

Each notification is a job (kind ``recipient``), so it survives a restart and is retried with
a growing delay until the recipient answers 2xx. The body is JSON; it is signed with the
recipient's shared secret (declared as an ``${ENV_VAR}`` reference), the way Stripe and GitHub
sign theirs::

    Pledge-Signature: t=1764000000,v1=<hex HMAC-SHA-256 of "1764000000." + body>

A receiver recomputes the HMAC over the timestamp, a dot and the raw body, compares in constant
time, and refuses timestamps older than a few minutes. ``Idempotency-Key`` is the same on every
retry of one notification.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from typing import Any

import httpx

from pledge.clock import Clock, utc_now
from pledge.declaration.model import Declaration
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditEntry
from pledge.errors import PledgeError
from pledge.jobs.service import Job, Jobs, Retry
from pledge.requests.notices import NOTICE_STEP, notice_context
from pledge.requests.service import SubjectRequests
from pledge.store.database import Database
from pledge.subjects.service import Subjects

JOB_KIND = "recipient"
TIMEOUT = 10.0  # seconds


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Pledge-Signature`` header of ``body`` sent at ``timestamp`` (Unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, header: str, body: bytes) -> bool:
    """Whether ``header`` is a valid signature of ``body`` (for receivers, and tests)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


class RecipientWebhooks:
    """Delivers the ``recipient`` jobs: one signed POST per recipient and request.

    Args:
        database: Pledge's store (for the audit trail).
        declaration: the declaration (recipients and their webhooks).
        requests: the requests, to say what happened.
        subjects: the keyring that opens each notice's sealed snapshot of the person.
        jobs: where each notice's snapshot is kept.
        environ: where the webhook secrets are read.
        client: the HTTP client (one is made when omitted).
        clock: the time source.
    """

    def __init__(
        self,
        database: Database,
        declaration: Declaration,
        requests: SubjectRequests,
        subjects: Subjects,
        jobs: Jobs,
        *,
        environ: Mapping[str, str] | None = None,
        client: httpx.Client | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.database = database
        self.declaration = declaration
        self.requests = requests
        self.subjects = subjects
        self.jobs = jobs
        self.environ = os.environ if environ is None else environ
        self.client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
        self.clock = clock

    def deliver(self, job: Job) -> None:
        """Send one notification; :class:`Retry` when the recipient does not take it."""
        key = str(job.payload["recipient"])
        recipient = self.declaration.recipients.get(key)
        if recipient is None or recipient.webhook is None:
            raise PledgeError(f"recipient '{key}' has no webhook in the declaration")
        variable = recipient.webhook.secret[2:-1]
        secret = self.environ.get(variable)
        if not secret:
            raise Retry(f"the webhook secret of '{key}' is not set (environment {variable})")
        request = self.requests.get(str(job.payload["request_id"]))
        snapshot = self._snapshot(job)
        body = json.dumps(
            {
                "event": f"request.{request.type}",
                "request_id": request.id,
                "controller": self.declaration.controller.name,
                "occurred_at": (request.closed_at or self.clock()).isoformat(),
                "subject": snapshot["subject"],
                "details": snapshot["details"],
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        now = self.clock()
        try:
            response = self.client.post(
                recipient.webhook.url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "Pledge-Signature": signature(secret, int(now.timestamp()), body),
                    "Pledge-Event": f"request.{request.type}",
                    "Idempotency-Key": job.key,
                },
            )
        except httpx.HTTPError as error:
            raise Retry(f"webhook of '{key}' unreachable: {type(error).__name__}") from None
        if not response.is_success:
            raise Retry(f"webhook of '{key}' answered {response.status_code}")
        with self.database.transaction() as connection:
            self.jobs.detach(connection, job.id, NOTICE_STEP)
            audit.record(
                connection,
                AuditEntry(
                    "recipient.notified",
                    f"job:{job.id}",
                    request.subject_id,
                    details={"request_id": request.id, "recipient": key, "attempt": job.attempts},
                ),
                clock=self.clock,
            )

    def _snapshot(self, job: Job) -> dict[str, Any]:
        """The identities (and corrections) sealed when the notice was queued.

        Raises:
            PledgeError: the notice has no snapshot (it was delivered, or tampered with).
        """
        step = self.jobs.step(job.id, NOTICE_STEP)
        if step is None or step.data_encrypted is None:
            raise PledgeError(
                f"the notice of job {job.id} holds no snapshot of the person: it was delivered"
                " already, or queued by a version of Pledge that kept none"
            )
        sealed = self.subjects.keyring.unseal(step.data_encrypted, notice_context(job.id))
        found: dict[str, Any] = json.loads(sealed)
        return found

    def close(self) -> None:
        """Release the HTTP client."""
        self.client.close()
