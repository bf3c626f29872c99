"""The consent ledger's vocabulary: decisions, channels, evidence, events, notices, GPC.

Plain Python: nothing here reads or writes a database. The ledger (``service.py``) records
:class:`ConsentEvent` objects; the notice text a person agreed to is fixed by
:func:`notice_text`, so that its hash, stored on every event, proves what was shown.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from pledge.declaration.duration import EVENT_PHRASES, RetentionEvent
from pledge.declaration.model import Declaration, LegalBasis, Retention
from pledge.errors import ConsentError, NotFound

ACTOR_LIMIT = 100
"""The longest actor name (the width of its column)."""

USER_AGENT_LIMIT = 512
"""The longest user agent kept as evidence; the rest identifies no one further."""


class ConsentDecision(StrEnum):
    """What a person decided about a purpose."""

    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    REFUSED = "refused"


class Channel(StrEnum):
    """Where the decision was taken."""

    FORM = "form"
    BANNER = "banner"
    API = "api"
    GPC = "gpc"  # a Global Privacy Control signal sent by the person's browser
    IMPORT = "import"  # brought over from an earlier system


def truncate_ip(address: str) -> str:
    """An IP address reduced to its network: IPv4 to /24, IPv6 to /48.

    Enough to show roughly where a decision came from, not enough to single out a device.
    Already coarser networks are kept as they are.

    Args:
        address: an IPv4 or IPv6 address, or a network in CIDR notation.

    Returns:
        The network in CIDR notation, e.g. ``203.0.113.0/24``.

    Raises:
        ConsentError: not an IP address.
    """
    try:
        network: ipaddress.IPv4Network | ipaddress.IPv6Network = ipaddress.ip_network(
            address.strip(), strict=False
        )
    except ValueError:
        raise ConsentError(f"evidence: {address!r} is not an IP address") from None
    if isinstance(network, ipaddress.IPv6Network):
        mapped = network.network_address.ipv4_mapped
        if mapped is not None and network.prefixlen >= 96:
            network = ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}", strict=False)
    prefix = 24 if network.version == 4 else 48
    if network.prefixlen > prefix:
        network = network.supernet(new_prefix=prefix)
    return str(network)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a decision came from. The IP address is truncated when the object is made.

    Args:
        ip: the client's IP address (kept as its /24 or /48 network only).
        user_agent: the client's user agent (at most 512 characters are kept).
    """

    ip: str | None = None
    user_agent: str | None = None

    def __post_init__(self) -> None:
        if self.ip is not None:
            object.__setattr__(self, "ip", truncate_ip(self.ip))
        if self.user_agent is not None:
            object.__setattr__(self, "user_agent", self.user_agent[:USER_AGENT_LIMIT])

    def to_json(self) -> bytes:
        """The evidence as canonical JSON bytes (what is encrypted and stored)."""
        data = {"ip": self.ip, "user_agent": self.user_agent}
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Evidence:
        """The evidence from :meth:`to_json` bytes."""
        parsed = json.loads(data)
        return cls(ip=parsed.get("ip"), user_agent=parsed.get("user_agent"))

    def to_dict(self) -> dict[str, str | None]:
        """The evidence as plain JSON-ready data."""
        return {"ip": self.ip, "user_agent": self.user_agent}


@dataclass(frozen=True, slots=True)
class RecordConsent:
    """A command to append one decision to a subject's chain, its arguments already checked.

    What needs no database (the purpose takes consent, the enums, the actor, the notice hash)
    is checked when the command is made; the subject (exists, not erased, a child's guardian)
    is checked by the transaction that appends it.
    """

    subject_id: str
    purpose: str
    decision: ConsentDecision
    channel: Channel
    actor: str
    notice_hash: str
    evidence: Evidence | None = None
    guardian_id: str | None = None


def check_decision(
    declaration: Declaration,
    notices: Mapping[str, str],
    subject_id: str,
    purpose: str,
    decision: ConsentDecision | str,
    *,
    channel: Channel | str,
    actor: str,
    evidence: Evidence | None = None,
    guardian_id: str | None = None,
    notice_hash: str | None = None,
) -> RecordConsent:
    """The command for a decision, after every check that needs no database.

    Args:
        declaration: the declaration in force.
        notices: purpose key → hash of its notice, for every purpose taking consent.
        subject_id: the person.
        purpose: a declared purpose whose legal basis is consent.
        decision: granted, withdrawn or refused.
        channel: form, banner, api, gpc or import.
        actor: who records it.
        evidence: IP address and user agent.
        guardian_id: the guardian deciding for a child.
        notice_hash: the hash of the notice shown; None for the declaration's.

    Returns:
        The command.

    Raises:
        NotFound: the purpose is not declared.
        ConsentError: the purpose does not take consent, or an argument is malformed.
    """
    chosen = _enum(ConsentDecision, decision, "decision")
    via = _enum(Channel, channel, "channel")
    declared = declaration.purposes.get(purpose)
    if declared is None:
        known = ", ".join(sorted(notices)) or "none"
        raise NotFound(
            f"no purpose '{purpose}' in the declaration (purposes taking consent: {known})"
        )
    if declared.legal_basis is not LegalBasis.CONSENT:
        basis = declared.legal_basis.value if declared.legal_basis else "no legal basis"
        raise ConsentError(
            f"purpose '{purpose}' is based on {basis}, not consent: it does not take"
            " consent, so none can be granted, withdrawn or refused"
        )
    if notice_hash is not None and not _HASH.fullmatch(notice_hash):
        raise ConsentError("notice_hash must be 64 lowercase hex digits (SHA-256)")
    if not actor or len(actor) > ACTOR_LIMIT:
        raise ConsentError(f"actor must be 1 to {ACTOR_LIMIT} characters")
    return RecordConsent(
        subject_id=subject_id,
        purpose=purpose,
        decision=chosen,
        channel=via,
        actor=actor,
        notice_hash=notice_hash or notices[purpose],
        evidence=evidence,
        guardian_id=guardian_id,
    )


_E = TypeVar("_E", ConsentDecision, Channel)
_HASH = re.compile(r"[0-9a-f]{64}")


def _enum(kind: type[_E], value: _E | str, name: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise ConsentError(f"{name} must be one of {choices}, not {value!r}") from None


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    """One recorded decision, with its place in the subject's hash chain.

    ``evidence`` is the decrypted evidence, or None when there was none or it can no longer
    be read (the subject was erased: its key is destroyed, the ciphertext stays hashed).
    """

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
    prev_hash: str
    hash: str
    evidence: Evidence | None = None

    def to_dict(self) -> dict[str, Any]:
        """The event as plain JSON-ready data."""
        return {
            "id": self.id,
            "subject_id": self.subject_id,
            "seq": self.seq,
            "purpose": self.purpose,
            "decision": self.decision.value,
            "channel": self.channel.value,
            "actor": self.actor,
            "declaration_version": self.declaration_version,
            "declaration_digest": self.declaration_digest,
            "notice_hash": self.notice_hash,
            "guardian_id": self.guardian_id,
            "occurred_at": self.occurred_at.isoformat(),
            "evidence": self.evidence.to_dict() if self.evidence else None,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class ConsentState:
    """A subject's current decision about one purpose: the last event recorded for it."""

    subject_id: str
    purpose: str
    decision: ConsentDecision
    event_id: str
    guardian_id: str | None
    updated_at: dt.datetime

    @property
    def granted(self) -> bool:
        """Whether consent is in effect."""
        return self.decision is ConsentDecision.GRANTED

    def to_dict(self) -> dict[str, Any]:
        """The state as plain JSON-ready data."""
        return {
            "purpose": self.purpose,
            "decision": self.decision.value,
            "event_id": self.event_id,
            "guardian_id": self.guardian_id,
            "updated_at": self.updated_at.isoformat(),
        }


# --- notices -------------------------------------------------------------------------------------


def retention_phrase(retention: Retention | None) -> str:
    """How long data is kept, in words: "1 year after you withdraw your consent".

    Args:
        retention: the declared rule, or None.

    Returns:
        The phrase, or "not stated".
    """
    if retention is None:
        return "not stated"
    event = EVENT_PHRASES[retention.after]
    if retention.period.days == 0:
        if retention.after is RetentionEvent.COLLECTION:
            return "not kept"
        return "until " + event.removeprefix("after ")
    return f"{retention.period.describe()} {event}"


def notice_text(declaration: Declaration, purpose_key: str) -> str:
    """The exact text a person agrees to when consenting to a purpose.

    Label, description, the data used and how long it is kept, each on its own line; the
    same declaration always gives the same text, so its hash identifies what was shown.

    Args:
        declaration: the declaration in force.
        purpose_key: the purpose consented to.

    Returns:
        The notice text.

    Raises:
        NotFound: the declaration has no such purpose.
    """
    purpose = declaration.purposes.get(purpose_key)
    if purpose is None:
        raise NotFound(f"no purpose '{purpose_key}' in the declaration")
    taxonomy = declaration.taxonomy
    categories = ", ".join(taxonomy.label(key) for key in purpose.categories) or "none"
    lines = [
        f"Purpose: {purpose.label or purpose_key}",
        purpose.description,
        f"Data used: {categories}",
        f"Kept: {retention_phrase(purpose.retention)}",
    ]
    return "\n".join(line for line in lines if line)


def notice_hash(declaration: Declaration, purpose_key: str) -> str:
    """SHA-256 (hex) of :func:`notice_text`: the notice version stored with each decision.

    Args:
        declaration: the declaration in force.
        purpose_key: the purpose consented to.

    Returns:
        64 lowercase hex digits.
    """
    return hashlib.sha256(notice_text(declaration, purpose_key).encode()).hexdigest()


# --- Global Privacy Control ----------------------------------------------------------------------


def gpc_signal(headers: Mapping[str, str]) -> bool:
    """Whether a request carries a Global Privacy Control opt-out: ``Sec-GPC: 1`` exactly.

    The header name is matched without regard to case; the value must be the single
    character ``1``, with nothing stripped (``" 1"``, ``"1 "``, ``"true"`` are no signal).
    A request that repeats the header signals only if every copy says ``1``.

    Args:
        headers: the request headers (a dict, or a framework's header mapping).

    Returns:
        True only for a valid signal.
    """
    # Starlette's Headers.items() gives every raw pair, duplicates included; a dict gives one.
    values = [value for name, value in headers.items() if name.lower() == "sec-gpc"]
    return bool(values) and all(value == "1" for value in values)


def gpc_applies_in(jurisdictions: Iterable[str], jurisdiction: str | None) -> bool:
    """Whether GPC is honoured in ``jurisdiction`` under the configured ``jurisdictions``.

    ``*`` means everywhere. A configured code covers itself and its subdivisions: ``US``
    covers ``US-CA``. Codes compare without regard to case. An unknown jurisdiction (None)
    is covered only by ``*``.

    Args:
        jurisdictions: the configured codes (``PLEDGE_GPC_JURISDICTIONS``).
        jurisdiction: where the request comes from, e.g. ``US-CA``, or None when unknown.

    Returns:
        True when the signal must be honoured.
    """
    configured = {code.strip().upper() for code in jurisdictions if code.strip()}
    if "*" in configured:
        return True
    if jurisdiction is None:
        return False
    code = jurisdiction.strip().upper()
    return any(code == allowed or code.startswith(allowed + "-") for allowed in configured)
