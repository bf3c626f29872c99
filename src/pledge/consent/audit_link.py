"""Whether a subject's consent events and the audit events that recorded them agree.

Every consent event is recorded, in the transaction that appends it, by one audit event:
action ``consent.<decision>``, the subject, purpose, actor and time, and in its details the
event's id, seq, channel and guardian. What such an audit event must say is written here
from the audit trail's side, not taken from the code that writes it. :class:`Trail` pairs a
subject's consent audit events with its chain by event id and reports what does not pair:
a consent event no audit event records, an audit event whose consent event is gone, one
recorded twice, out of order, or saying something else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pledge.consent.audit_checks import audit_record
from pledge.consent.chain import HASHED_FIELDS
from pledge.consent.rows import Malformed, json_object, label, shown
from pledge.enforcement import audit
from pledge.proof import record_hash

EVENT_COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash")
"""The columns of a consent event as the chain check selects them."""

TRAIL_COLUMNS = (
    "subject_id",
    "seq",
    "id",
    "occurred_at",
    "actor",
    "action",
    "purpose",
    "details",
    "prev_hash",
    "hash",
)
"""The columns of an audit event as the chain check selects them, the subject first."""

Parsed = tuple[str, list[Any], dict[str, str]]
"""A row of a stream: its subject, its values, and what in it is malformed."""

_SEQ, _ID, _PURPOSE, _DECISION, _CHANNEL, _ACTOR, _GUARDIAN, _OCCURRED = (
    EVENT_COLUMNS.index(name)
    for name in (
        "seq",
        "id",
        "purpose",
        "decision",
        "channel",
        "actor",
        "guardian_id",
        "occurred_at",
    )
)


@dataclass(frozen=True, slots=True)
class _Recorded:
    """An audit event that records a consent event, as far as it could be read."""

    values: dict[str, Any]  # TRAIL_COLUMNS
    details: dict[str, Any]
    well_formed: bool

    @property
    def record(self) -> str:
        return audit_record(self.values["seq"], self.values["id"])

    @property
    def intact(self) -> bool:
        """Well-formed, and its hash matches its content (worked out only when needed)."""
        values = self.values
        if not self.well_formed:
            return False
        stored: str = values["hash"]
        return record_hash(values["prev_hash"], audit.event_content(values)) == stored


class Trail:
    """The ``consent.*`` audit events of one subject, in audit order, by the event they record.

    Their details are parsed here, and reported here when they are not JSON. An audit event
    that was itself edited (its hash no longer matches) is the audit check's to report: it
    still stands for its consent event, but is not compared with it.

    Args:
        subject_id: the subject.
        recorded: its audit events (``TRAIL_COLUMNS``), in audit order.
        add: where problems go.
    """

    def __init__(
        self, subject_id: str, recorded: list[Parsed], add: Callable[[str, str, str], None]
    ) -> None:
        self.subject_id = subject_id
        self.add = add
        self.by_event: dict[str, _Recorded] = {}
        self.previous: int | None = None  # the audit seq of the last match
        for _, row, complaints in recorded:
            values = dict(zip(TRAIL_COLUMNS, row, strict=True))
            where = audit_record(values["seq"], values["id"])
            try:
                details = json_object(values["details"])
            except Malformed as error:
                add("audit_events", where, f"malformed: details {shown(values['details'])} {error}")
                continue  # its consent event shows as unrecorded
            found = _Recorded(values, details, not complaints)
            event_id = details.get("event_id")
            if type(event_id) is not str:
                add("audit_events", where, "a consent audit event without an event_id")
            elif event_id in self.by_event:
                first = self.by_event[event_id].record
                add("audit_events", where, f"records consent event {event_id} again ({first})")
            else:
                self.by_event[event_id] = found

    def match(self, event: list[Any], complaints: dict[str, str], placed: bool) -> list[str]:
        """What is wrong between a consent event and the audit event that records it.

        Args:
            event: the consent event (``EVENT_COLUMNS``).
            complaints: what in it is malformed (not compared).
            placed: whether its seq is well-formed, so that its place in the order is known.

        Returns:
            Problems to add to the event's finding; none when they agree.
        """
        if "id" in complaints:
            return []
        found = self.by_event.pop(event[_ID], None)
        if found is None:
            return [
                "no audit event records it (deleted with the audit trail's tail, or the event"
                " was added behind the ledger's back)"
            ]
        problems = []
        values, details = found.values, found.details
        seq = values["seq"]
        expected = (
            f"consent.{event[_DECISION]}",
            event[_PURPOSE],
            event[_ACTOR],
            event[_OCCURRED],
            event[_SEQ],
            event[_CHANNEL],
            event[_GUARDIAN],
        )
        said = (
            values["action"],
            values["purpose"],
            values["actor"],
            values["occurred_at"],
            details.get("seq"),
            details.get("channel"),
            details.get("guardian_id"),
        )
        if said != expected and found.intact:
            differences = [
                f"{name} {shown(told)}"
                for (name, column), told, value in zip(_COMPARED, said, expected, strict=True)
                if column not in complaints and told != value
            ]
            if differences:
                problems.append(
                    f"differs from its audit event ({found.record}), which says"
                    f" {', '.join(differences)}"
                )
        if placed and type(seq) is int:
            if self.previous is not None and seq < self.previous:
                problems.append(
                    f"its audit event ({found.record}) comes before that of the event before"
                    f" it (audit seq {self.previous}): recorded out of order"
                )
            self.previous = seq
        return problems

    def report_unmatched(self) -> None:
        """Report each audit event whose consent event is not in the chain."""
        for event_id, found in self.by_event.items():
            self.add(
                "audit_events",
                found.record,
                f"records consent event {event_id} (subject {self.subject_id}"
                f" seq {label(found.details.get('seq'))}: {label(found.values['action'])}"
                f" {label(found.values['purpose'])}) that is not in the ledger (deleted)",
            )


# What an audit event says of the consent event it records, and the column of the consent
# event each must equal (``action`` is ``consent.<decision>``).
_COMPARED = (
    ("action", "decision"),
    ("purpose", "purpose"),
    ("actor", "actor"),
    ("occurred_at", "occurred_at"),
    ("details.seq", "seq"),
    ("details.channel", "channel"),
    ("details.guardian_id", "guardian_id"),
)
