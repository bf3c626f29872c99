"""The requests that change Pledge's own decisions, carried out on verification.

Restriction and lifting it go through :meth:`Subjects.set_restricted`, objections through
:class:`Objections`, withdrawal through :meth:`ConsentLedger.withdraw`; unsubscribing is both
(withdraw every direct-marketing consent, object to direct marketing, GDPR Art. 21(3)), in one
transaction (:meth:`ImmediateEffects.unsubscribe`, which the one-click link calls too). A limit
on the use of sensitive personal information (CCPA 1798.121) is recorded as the objection scope
``limit_sensitive``, with which decisions keep the person's sensitive categories to the uses
1798.121(a) allows. Each of those services tells the decision cache, so the next decision
already follows the request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pledge.consent.model import Channel, ConsentDecision
from pledge.consent.service import ConsentLedger
from pledge.declaration.model import Declaration, LegalBasis
from pledge.enforcement.model import ALL_PURPOSES, DIRECT_MARKETING, LIMIT_SENSITIVE
from pledge.enforcement.objections import Objections, load_state
from pledge.errors import NotFound, UsageError
from pledge.requests.corrections import check_corrections
from pledge.requests.model import RequestType, SubjectRequest
from pledge.subjects.service import Subjects


class ImmediateEffects:
    """Checks what a request asks for, and applies the requests that take effect at once.

    Args:
        declaration: the declaration in force (which purposes take consent, which market).
        subjects: restricts and lifts restrictions.
        ledger: withdraws consent (its store is where an unsubscribe's transaction runs).
        objections: records objections.
        reaches: whether a request reaches a table of a datastore (``datastore, table``).
    """

    def __init__(
        self,
        declaration: Declaration,
        subjects: Subjects,
        ledger: ConsentLedger,
        objections: Objections,
        *,
        reaches: Callable[[str, str], bool] | None = None,
    ) -> None:
        self.declaration = declaration
        self.reaches = reaches
        self.subjects = subjects
        self.ledger = ledger
        self.objections = objections
        self.database = ledger.database
        self._declared = frozenset(declaration.purposes)
        consent = {
            key: purpose
            for key, purpose in declaration.purposes.items()
            if purpose.legal_basis is LegalBasis.CONSENT
        }
        self.consent_purposes = tuple(consent)
        self.marketing_purposes = tuple(key for key, p in consent.items() if p.direct_marketing)

    def check(self, kind: RequestType, details: Mapping[str, Any]) -> dict[str, Any]:
        """The details of a new request, checked: plain JSON, and named purposes and scopes
        that the request can act on.

        Raises:
            UsageError: not plain JSON, or a purpose or scope the request cannot apply to.
            NotFound: a purpose that is not declared.
        """
        if not isinstance(details, Mapping):
            raise UsageError("details must be a mapping of names to values")
        payload = dict(details)
        try:
            json.dumps(payload)
        except (TypeError, ValueError):
            raise UsageError("details must be plain JSON data") from None
        if kind is RequestType.WITHDRAW_CONSENT and payload.get("purposes") is not None:
            for purpose in _strings(payload["purposes"], "purposes"):
                if purpose not in self.consent_purposes:
                    if purpose not in self._declared:
                        raise NotFound(f"no purpose '{purpose}' is declared")
                    raise UsageError(f"'{purpose}' is not based on consent: object to it instead")
        if kind is RequestType.RECTIFICATION:
            check_corrections(self.declaration, payload, self.reaches)
        if kind is RequestType.OBJECTION and payload.get("scopes") is not None:
            for scope in _strings(payload["scopes"], "scopes"):
                self.objections.rules.check_scope(scope)
        return payload

    def apply(self, request: SubjectRequest, actor: str) -> dict[str, Any]:
        """Carry out a restriction, lifting, objection, unsubscribe, withdrawal or limit.

        Returns:
            What was done, without personal data (for the audit trail).
        """
        subject_id = request.subject_id
        details = request.details or {}
        reason = f"request {request.id}"
        if request.type is RequestType.RESTRICTION:
            self.subjects.set_restricted(subject_id, True, actor=actor, reason=reason)
            return {"restricted": True}
        if request.type is RequestType.LIFT_RESTRICTION:
            self.subjects.set_restricted(subject_id, False, actor=actor, reason=reason)
            return {"restricted": False}
        if request.type is RequestType.OBJECTION:
            scopes = list(details.get("scopes") or [ALL_PURPOSES])
            for scope in scopes:
                self.objections.record(subject_id, scope, actor=actor)
            return {"objections": scopes}
        if request.type is RequestType.UNSUBSCRIBE:
            return self.unsubscribe(subject_id, actor=actor, channel=Channel.API)
        if request.type is RequestType.WITHDRAW_CONSENT:
            named = details.get("purposes")
            purposes = tuple(named) if named else self.consent_purposes
            return {"withdrawn": self._withdraw(subject_id, purposes, actor)}
        if request.type is RequestType.LIMIT_SENSITIVE:
            # CCPA 1798.121: decisions keep sensitive categories to the uses 1798.121(a) allows
            self.objections.record(subject_id, LIMIT_SENSITIVE, actor=actor)
            return {
                "objections": [LIMIT_SENSITIVE],
                "limited_purposes": self.objections.rules.limited_purposes(),
            }
        raise UsageError(f"a {request.type} request is carried out in the datastores, not here")

    def unsubscribe(
        self, subject_id: str, *, actor: str, channel: Channel | str = Channel.API
    ) -> dict[str, Any]:
        """Stop all direct marketing to a person at once (GDPR Art. 21(2) and (3)).

        Every standing consent to a direct-marketing purpose is withdrawn and the objection to
        direct marketing recorded, with their audit events, in one transaction: should any of
        it fail, none of it is written, and the person is never left with consents withdrawn
        but no objection, or the reverse. Unsubscribing again changes nothing.

        Args:
            subject_id: the person.
            actor: who recorded it (``subject`` when the person did it themselves).
            channel: where the person asked: ``form`` for the one-click link, ``api`` for a
                request.

        Returns:
            What was done, without personal data: the purposes ``withdrawn`` and the
            ``objections`` standing.

        Raises:
            NotFound: no such subject, or it was erased.
            StoreUnavailable: the store cannot be reached; nothing was written.
        """
        with self.database.transaction() as connection:
            state = load_state(connection, subject_id)
            if state.erased:
                raise NotFound(f"subject {subject_id} was erased")
            withdrawn = [
                purpose
                for purpose in self.marketing_purposes
                if purpose in state.consents
                and state.consents[purpose].decision == ConsentDecision.GRANTED
            ]
            commands = [
                self.ledger.check(
                    subject_id, purpose, ConsentDecision.WITHDRAWN, channel=channel, actor=actor
                )
                for purpose in withdrawn
            ]
            if commands:  # consent first: the ledger takes its locks before the audit trail's
                self.ledger.record_commands(commands, connection=connection)
            self.objections.record(
                subject_id,
                DIRECT_MARKETING,
                actor=actor,
                channel=str(channel),
                connection=connection,
            )
        return {"withdrawn": withdrawn, "objections": [DIRECT_MARKETING]}

    def _withdraw(self, subject_id: str, purposes: Sequence[str], actor: str) -> list[str]:
        # Only what stands is withdrawn: a purpose never granted needs no event.
        state = self.ledger.state(subject_id)
        withdrawn = [purpose for purpose in purposes if purpose in state and state[purpose].granted]
        for purpose in withdrawn:
            self.ledger.withdraw(subject_id, purpose, channel=Channel.API, actor=actor)
        return withdrawn


def _strings(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise UsageError(f"details.{name} must be a list of strings")
    return value


__all__ = ["ImmediateEffects"]
