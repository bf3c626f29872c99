"""The Python SDK: keep your privacy policy from inside your application.

Open Pledge with your declaration and a database, find or create the person, record what they
decided, and ask before you process::

    from pledge import Pledge, ProcessingDenied

    with Pledge.open("pledge.yaml", "sqlite:///pledge.db") as pledge:
        ann = pledge.subject(email="ann@example.com")
        pledge.grant(ann, "newsletter", channel="form")

        with pledge.processing(ann, "newsletter", ["contact.email"]):
            send_newsletter(ann)  # runs only while Ann's consent stands

        @pledge.requires("analytics")
        def track(subject_id: str, page: str) -> None: ...

        try:
            track(ann, "/pricing")  # no consent to analytics: denied
        except ProcessingDenied as denied:
            print(denied.decision.reason)

Every answer is a :class:`~pledge.enforcement.model.Decision` with its reason, and is written
to the audit trail; consent, objections and restrictions are committed before the call
returns.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.exc import IntegrityError

from pledge.app import Runtime, build_runtime
from pledge.clock import Clock, utc_now
from pledge.config import Settings, decode_key
from pledge.consent.model import ConsentEvent, ConsentState, Evidence
from pledge.declaration import Declaration, load
from pledge.enforcement.objections import Objection
from pledge.errors import UsageError
from pledge.sdk_guards import Guards
from pledge.subjects.model import Identity, InvalidIdentity

P = ParamSpec("P")
R = TypeVar("R")

_logger = logging.getLogger("pledge")


class Pledge(Guards):
    """Pledge in a Python process: consent, objections, restrictions and decisions.

    Build it with :meth:`open`; close it (or use it as a context manager) so that the
    decisions still queued for the audit trail are written.

    Args:
        runtime: the object graph built by :func:`pledge.app.build_runtime`.
        actor: the name the audit trail records for calls made through this object.
    """

    def __init__(self, runtime: Runtime, *, actor: str = "sdk") -> None:
        self.runtime = runtime
        self.actor = actor

    @classmethod
    def open(
        cls,
        declaration: str | Path | Declaration,
        database_url: str,
        *,
        secret_key: bytes | str | None = None,
        upgrade: bool = True,
        cache_seconds: float = 1.0,
        log_mode: str = "batched",
        clock: Clock = utc_now,
        actor: str = "sdk",
    ) -> Pledge:
        """Open Pledge on a declaration and a database.

        Args:
            declaration: the path of ``pledge.yaml``, or a loaded declaration.
            database_url: Pledge's own store, e.g. ``sqlite:///pledge.db`` or
                ``postgresql+psycopg://…``.
            secret_key: the 32-byte master key, raw or as base64 text; when omitted it is
                read from ``PLEDGE_SECRET_KEY`` / ``PLEDGE_SECRET_KEY_FILE`` (development
                mode generates one in ``.pledge/secret.key``).
            upgrade: bring the database schema up to date first.
            cache_seconds: how long a subject's state may be reused by decisions; changes
                made through this object apply at once.
            log_mode: ``batched`` (default) or ``sync``: how decisions reach the audit
                trail (see :mod:`pledge.enforcement.decision_log`).
            clock: the time source (tests pass a fixed one).
            actor: the name the audit trail records for calls made through this object.

        Returns:
            An open Pledge.

        Raises:
            DeclarationError: the declaration cannot be loaded.
            ConfigError: no usable secret key.
            StoreUnavailable: the database cannot be reached.
        """
        loaded = declaration if isinstance(declaration, Declaration) else load(Path(declaration))
        settings = dataclasses.replace(
            Settings.from_env(), database_url=database_url, decision_cache_seconds=cache_seconds
        )
        if secret_key is None:
            settings = settings.with_secret()
            for note in settings.notes:
                _logger.warning("%s", note)
        else:
            settings = dataclasses.replace(settings, secret_key=_master_key(secret_key))
        runtime = build_runtime(
            settings, declaration=loaded, clock=clock, upgrade=upgrade, log_mode=log_mode
        )
        if cache_seconds > 0:
            runtime.changes.start()  # what the server and others change reaches the cache
        return cls(runtime, actor=actor)

    @property
    def declaration(self) -> Declaration:
        """The declaration in force."""
        return self.runtime.declaration

    # --- subjects ------------------------------------------------------------------------------

    def subject(
        self,
        email: str | None = None,
        phone: str | None = None,
        account: str | None = None,
        device: str | None = None,
    ) -> str:
        """The id of the person with these identities, created if Pledge does not know them.

        Identities not yet attached to a known person are added to them.

        Args:
            email: an e-mail address (normalised: case and spaces do not matter).
            phone: a phone number with its country prefix (``+49 30 1234567``).
            account: your application's account id.
            device: a device or cookie id.

        Returns:
            The subject id (pseudonymous; store it instead of the identities).

        Raises:
            UsageError: no identity given, one that cannot be normalised, or identities
                that belong to different people.
        """
        given = {"email": email, "phone": phone, "account": account, "device": device}
        try:
            identities = [Identity.parse(k, v) for k, v in given.items() if v is not None]
        except InvalidIdentity as error:
            raise UsageError(str(error)) from None
        if not identities:
            raise UsageError("name the subject by an email, phone, account or device")
        subjects = self.runtime.subjects
        for attempt in range(3):
            found = {identity: subjects.find(identity) for identity in identities}
            known = {subject_id for subject_id in found.values() if subject_id is not None}
            if len(known) > 1:
                raise UsageError("these identities belong to different subjects")
            try:
                if not known:
                    return subjects.create(identities, actor=self.actor)
                subject_id = known.pop()
                for identity, owner in found.items():
                    if owner is None:
                        subjects.add_identity(subject_id, identity, actor=self.actor)
                return subject_id
            except IntegrityError:  # another writer attached one of them meanwhile: look again
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def restrict(self, subject_id: str, *, reason: str = "") -> None:
        """Restrict processing of the subject's data to storage (GDPR Art. 18).

        Args:
            subject_id: the subject.
            reason: why (contested accuracy, pending objection …), for the audit trail.

        Raises:
            NotFound: no such subject.
        """
        self.runtime.subjects.set_restricted(subject_id, True, actor=self.actor, reason=reason)

    def lift_restriction(self, subject_id: str, *, reason: str = "") -> None:
        """Lift a restriction (tell the person first, GDPR Art. 18(3)).

        Args:
            subject_id: the subject.
            reason: why, for the audit trail.

        Raises:
            NotFound: no such subject.
        """
        self.runtime.subjects.set_restricted(subject_id, False, actor=self.actor, reason=reason)

    def set_consent_age(
        self,
        subject_id: str,
        *,
        consent_age_from: dt.datetime | None,
        guardian_id: str | None = None,
    ) -> None:
        """Record from when a child may consent alone, and their guardian (GDPR Art. 8).

        Until then, purposes based on consent need a grant given by the guardian.

        Args:
            subject_id: the child.
            consent_age_from: a timezone-aware datetime; None for an adult.
            guardian_id: the guardian's subject id.

        Raises:
            NotFound: no such subject.
        """
        self.runtime.subjects.set_consent_age(
            subject_id, consent_age_from=consent_age_from, guardian_id=guardian_id, actor=self.actor
        )

    def erase(self, subject_id: str, *, reason: str = "erasure") -> None:
        """Erase a subject: destroy its key, so nothing personal about it can be read again.

        Args:
            subject_id: the subject.
            reason: why, for the audit trail.

        Raises:
            NotFound: no such subject.
        """
        self.runtime.subjects.erase(subject_id, actor=self.actor, reason=reason)

    # --- consent and objections ----------------------------------------------------------------

    def grant(
        self,
        subject_id: str,
        purpose: str,
        *,
        channel: str = "api",
        evidence: Evidence | Mapping[str, str | None] | None = None,
        guardian_id: str | None = None,
    ) -> ConsentEvent:
        """Record that the person consented to a purpose.

        Args:
            subject_id: the person (or the child a guardian decides for).
            purpose: a declared purpose based on consent.
            channel: form, banner, api, gpc or import.
            evidence: ``{"ip": …, "user_agent": …}``; the IP is truncated, both are encrypted.
            guardian_id: the guardian granting for a child.

        Returns:
            The recorded consent event.

        Raises:
            NotFound: no such subject or purpose.
            ConsentError: the purpose does not take consent, or a child's grant lacks the
                guardian.
        """
        return self.runtime.ledger.grant(
            subject_id, purpose, **self._consent_options(channel, evidence, guardian_id)
        )

    def withdraw(
        self,
        subject_id: str,
        purpose: str,
        *,
        channel: str = "api",
        evidence: Evidence | Mapping[str, str | None] | None = None,
        guardian_id: str | None = None,
    ) -> ConsentEvent:
        """Record that the person withdrew consent: as easy as granting (GDPR Art. 7(3)).

        Args:
            subject_id: the person.
            purpose: a declared purpose based on consent.
            channel: form, banner, api, gpc or import.
            evidence: ``{"ip": …, "user_agent": …}``.
            guardian_id: the guardian withdrawing for a child.

        Returns:
            The recorded consent event.

        Raises:
            NotFound: no such subject or purpose.
            ConsentError: the purpose does not take consent.
        """
        return self.runtime.ledger.withdraw(
            subject_id, purpose, **self._consent_options(channel, evidence, guardian_id)
        )

    def refuse(
        self,
        subject_id: str,
        purpose: str,
        *,
        channel: str = "api",
        evidence: Evidence | Mapping[str, str | None] | None = None,
        guardian_id: str | None = None,
    ) -> ConsentEvent:
        """Record that the person was asked and said no (refusals are evidence too).

        Args:
            subject_id: the person.
            purpose: a declared purpose based on consent.
            channel: form, banner, api, gpc or import.
            evidence: ``{"ip": …, "user_agent": …}``.
            guardian_id: the guardian refusing for a child.

        Returns:
            The recorded consent event.

        Raises:
            NotFound: no such subject or purpose.
            ConsentError: the purpose does not take consent.
        """
        return self.runtime.ledger.refuse(
            subject_id, purpose, **self._consent_options(channel, evidence, guardian_id)
        )

    def record_choices(
        self,
        subject_id: str,
        choices: Mapping[str, str],
        *,
        channel: str = "form",
        evidence: Evidence | Mapping[str, str | None] | None = None,
        guardian_id: str | None = None,
    ) -> list[ConsentEvent]:
        """Record several decisions made at once, a form's checkboxes say: all of them, or none.

        Args:
            subject_id: the person.
            choices: purpose → ``granted``, ``withdrawn`` or ``refused``, for purposes based
                on consent, in the order they were made.
            channel: form, banner, api, gpc or import.
            evidence: ``{"ip": …, "user_agent": …}``, kept with each decision.
            guardian_id: the guardian deciding for a child.

        Returns:
            The recorded consent events, in the order of ``choices``.

        Raises:
            NotFound: no such subject or purpose.
            ConsentError: a purpose does not take consent, or a child's grant lacks the
                guardian; nothing is recorded then.
            UsageError: no choice given.
        """
        options = self._consent_options(channel, evidence, guardian_id)
        ledger = self.runtime.ledger
        commands = [
            ledger.check(subject_id, purpose, decision, **options)
            for purpose, decision in choices.items()
        ]
        return ledger.record_commands(commands)

    def consents(self, subject_id: str) -> dict[str, ConsentState]:
        """The person's current consent decisions, by purpose.

        Args:
            subject_id: the person.

        Returns:
            Purpose → its current state.
        """
        return self.runtime.ledger.state(subject_id)

    def object(self, subject_id: str, scope: str) -> Objection:
        """Record an objection (GDPR Art. 21).

        Args:
            subject_id: the person.
            scope: a purpose based on legitimate interests or a public task, or one that
                sells or shares personal information (an opt-out, CCPA 1798.120), ``*`` for
                every purpose based on legitimate interests or a public task, or
                ``direct_marketing``, which stops every direct-marketing purpose whatever its
                basis (absolute, Art. 21(3)).

        Returns:
            The objection in force.

        Raises:
            NotFound: no such subject or purpose.
            UsageError: an objection cannot apply to that purpose.
        """
        return self.runtime.objections.record(subject_id, scope, actor=self.actor)

    def objections(self, subject_id: str, *, include_lifted: bool = False) -> list[Objection]:
        """The person's objections, oldest first.

        Args:
            subject_id: the person.
            include_lifted: also the objections that were lifted.

        Returns:
            The objections standing (or all of them).

        Raises:
            NotFound: no such subject.
        """
        found = self.runtime.objections.history(subject_id)
        return found if include_lifted else [item for item in found if item.lifted_at is None]

    def lift_objection(self, subject_id: str, scope: str) -> Objection | None:
        """Lift an objection, when the person takes it back.

        Args:
            subject_id: the person.
            scope: the scope objected to.

        Returns:
            The lifted objection, or None when none stood.

        Raises:
            NotFound: no such subject.
        """
        return self.runtime.objections.lift(subject_id, scope, actor=self.actor)

    # --- life cycle ----------------------------------------------------------------------------

    def flush(self) -> None:
        """Wait until every decision made so far is committed to the audit trail."""
        self.runtime.decider.flush()

    def close(self) -> None:
        """Commit the consent decisions and decision records still waiting, release the database."""
        self.runtime.close()

    def __enter__(self) -> Pledge:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _consent_options(
        self,
        channel: str,
        evidence: Evidence | Mapping[str, str | None] | None,
        guardian_id: str | None,
    ) -> dict[str, Any]:
        if evidence is not None and not isinstance(evidence, Evidence):
            evidence = Evidence(ip=evidence.get("ip"), user_agent=evidence.get("user_agent"))
        return {
            "channel": channel,
            "actor": self.actor,
            "evidence": evidence,
            "guardian_id": guardian_id,
        }


def _master_key(key: bytes | str) -> bytes:
    # Raw bytes go through the same checks as text: length, placeholders, randomness.
    text = key if isinstance(key, str) else base64.urlsafe_b64encode(key).decode()
    return decode_key(text.strip(), "secret_key")


__all__ = ["Pledge"]
