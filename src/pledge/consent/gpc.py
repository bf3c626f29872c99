"""Global Privacy Control: what honouring a person's signal records (11 CCR §7025).

A signal opts the person out of the sale and sharing of their personal information: every
purpose the declaration marks ``sale_or_sharing`` or ``targeted_advertising``. What that means
depends on the purpose's legal basis:

- based on consent: a grant is withdrawn and a purpose never decided is refused (consent
  events, channel ``gpc``); one already withdrawn or refused is left alone;
- on any other basis (legitimate interests, a contract): an objection to the purpose, which
  decisions treat as the opt-out, its audit event naming the channel ``gpc``; one that stands
  is left alone.

:meth:`pledge.consent.service.ConsentLedger.apply_gpc` writes both in one transaction with
these functions. Whether a request carries a signal, and where one is honoured, is
:func:`pledge.consent.model.gpc_signal` and :func:`pledge.consent.model.gpc_applies_in`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, select

from pledge.clock import Clock
from pledge.consent.model import Channel, ConsentDecision, Evidence, RecordConsent
from pledge.enforcement.objections import record_in
from pledge.errors import NotFound
from pledge.store.tables import consent_state, subjects

_OPTED_OUT = (ConsentDecision.WITHDRAWN, ConsentDecision.REFUSED)


def consent_opt_outs(
    connection: Connection,
    subject_id: str,
    notices: Mapping[str, str],
    *,
    actor: str,
    evidence: Evidence | None,
) -> list[RecordConsent]:
    """The consent decisions a signal records: one per consent purpose not yet opted out of.

    Args:
        connection: the transaction that will append them.
        subject_id: the person.
        notices: purpose → notice hash, for the sale and sharing purposes based on consent.
        actor: who records them.
        evidence: IP address and user agent of the request.

    Returns:
        The commands, a grant withdrawn and a purpose never decided refused.
    """
    decided = dict(
        connection.execute(
            select(consent_state.c.purpose, consent_state.c.decision).where(
                consent_state.c.subject_id == subject_id,
                consent_state.c.purpose.in_(list(notices) or [""]),
            )
        ).all()
    )
    return [
        RecordConsent(
            subject_id=subject_id,
            purpose=purpose,
            decision=ConsentDecision.WITHDRAWN if decided.get(purpose) else ConsentDecision.REFUSED,
            channel=Channel.GPC,
            actor=actor,
            notice_hash=notice,
            evidence=evidence,
        )
        for purpose, notice in notices.items()
        if decided.get(purpose) not in _OPTED_OUT
    ]


def object_to_sharing(
    connection: Connection,
    subject_id: str,
    purposes: Sequence[str],
    *,
    actor: str,
    clock: Clock,
) -> bool:
    """Record the signal's objections to sale and sharing purposes not based on consent.

    Args:
        connection: a write transaction.
        subject_id: the person; must exist and not be erased.
        purposes: the sale and sharing purposes on other bases than consent.
        actor: who records them.
        clock: the time source.

    Returns:
        Whether an objection was new.

    Raises:
        NotFound: no such subject, or it was erased.
    """
    if not purposes:
        return False
    erased_at = connection.execute(
        select(subjects.c.erased_at).where(subjects.c.id == subject_id)
    ).one_or_none()
    if erased_at is None:
        raise NotFound(f"no subject {subject_id}")
    if erased_at[0] is not None:
        raise NotFound(f"subject {subject_id} was erased")
    new = False
    for purpose in purposes:
        _, recorded = record_in(
            connection, subject_id, purpose, actor=actor, channel=Channel.GPC.value, clock=clock
        )
        new = new or recorded
    return new
