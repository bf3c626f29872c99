"""Properties of the consent chain, over any sequence of decisions (hypothesis).

- Whatever is granted, withdrawn or refused, by whichever subjects, every chain verifies and
  the materialised state is the last decision per purpose.
- Any single change to any stored column of any event is detected, and the report names the
  subject whose chain it broke.

One SQLite file serves every example; each example makes fresh subjects, so examples do not
see each other's chains, and a mutation is undone before the next example starts.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from pledge import loads
from pledge.consent.model import ConsentDecision
from pledge.consent.proof import verify
from pledge.consent.service import ConsentLedger
from pledge.ids import new_id
from pledge.store.database import Database
from pledge.store.tables import consent_events
from pledge.subjects.crypto import Keyring
from pledge.subjects.service import Subjects

DECLARATION = """\
pledge: 1
controller: {name: Acme, country: DE}
policy: {version: "1", effective_date: 2026-01-01}
purposes:
  provide_service: {legal_basis: contract, categories: [contact.email], retention: P1Y}
  newsletter: {legal_basis: consent, categories: [contact.email], retention: P1Y}
  analytics: {legal_basis: consent, categories: [usage.pages], retention: P1Y}
  ads: {legal_basis: consent, targeted_advertising: true, categories: [usage.pages], retention: P6M}
"""
PURPOSES = ("newsletter", "analytics", "ads")
DECISIONS = tuple(ConsentDecision)
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Store:
    """A ledger over one SQLite file shared by every example of a test."""

    database: Database
    subjects: Subjects
    ledger: ConsentLedger

    def new_subjects(self, count: int) -> list[str]:
        """``count`` fresh subjects."""
        return [self.subjects.create([], actor="test") for _ in range(count)]


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    """A migrated SQLite store, a ledger on it."""
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{folder}/p.db")
        database.upgrade()
        subjects = Subjects(database, Keyring(os.urandom(32)))
        yield Store(database, subjects, ConsentLedger(database, loads(DECLARATION), subjects))
        database.dispose()


steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),
        st.sampled_from(PURPOSES),
        st.sampled_from(DECISIONS),
    ),
    min_size=1,
    max_size=12,
)


@SETTINGS
@given(steps=steps)
def test_any_decisions_leave_valid_chains_and_the_last_decision_as_state(
    store: Store, steps: list[tuple[int, str, ConsentDecision]]
) -> None:
    """Chains verify, heads follow them, and the state is the last decision per purpose."""
    people = store.new_subjects(3)
    expected: dict[tuple[str, str], ConsentDecision] = {}
    for who, purpose, decision in steps:
        store.ledger.record(people[who], purpose, decision, channel="api", actor="property")
        expected[(people[who], purpose)] = decision
    report = verify(store.database)
    assert report.ok, report.problems
    for person in people:
        state = store.ledger.state(person)
        mine = {purpose: choice for (who, purpose), choice in expected.items() if who == person}
        assert {purpose: entry.decision for purpose, entry in state.items()} == mine
        assert [event.seq for event in store.ledger.history(person)] == list(
            range(1, sum(1 for who, _, _ in steps if people[who] == person) + 1)
        )


def mutated(column: str, value: Any, data: st.DataObject) -> Any:
    """A different value for ``column``, chosen by hypothesis."""
    if column == "seq":
        return value + data.draw(st.integers(min_value=50, max_value=60), label="seq shift")
    if column == "occurred_at":
        shift = data.draw(st.integers(min_value=1, max_value=10**9), label="microseconds")
        return value + dt.timedelta(microseconds=shift)
    if column == "evidence_encrypted":
        return None if value is not None else b"\x00"
    if column == "guardian_id":
        return new_id() if value is None else None
    if column == "subject_id":
        return new_id()
    if column in ("prev_hash", "hash", "declaration_digest", "notice_hash"):
        return data.draw(
            st.text("0123456789abcdef", min_size=64, max_size=64).filter(
                lambda text: text != value
            ),
            label=column,
        )
    if column == "decision":
        return data.draw(st.sampled_from([d.value for d in DECISIONS if d.value != value]))
    suffix = data.draw(st.text(alphabet="xyz", min_size=1, max_size=3), label="suffix")
    return (value + suffix)[-26:] if column == "id" else value + suffix


COLUMNS = [
    column.name for column in consent_events.columns if column.name not in ("evidence_encrypted",)
] + ["evidence_encrypted"]


@SETTINGS
@given(steps=steps, column=st.sampled_from(COLUMNS), data=st.data())
def test_any_single_change_to_a_stored_event_is_detected(
    store: Store, steps: list[tuple[int, str, ConsentDecision]], column: str, data: st.DataObject
) -> None:
    """Change one column of one event: verify fails and names that subject's chain."""
    people = store.new_subjects(3)
    events = [
        store.ledger.record(people[who], purpose, decision, channel="api", actor="property")
        for who, purpose, decision in steps
    ]
    target = data.draw(st.sampled_from(events), label="event")
    table = consent_events
    with store.database.read() as connection:
        original = connection.execute(select(table).where(table.c.id == target.id)).mappings().one()
    value = mutated(column, original[column], data)
    with store.database.transaction() as connection:
        connection.execute(update(table).where(table.c.id == target.id).values({column: value}))
    try:
        report = verify(store.database)
        assert not report.ok, f"changing {column} went unnoticed"
        assert any(target.subject_id in problem.record for problem in report.problems), (
            report.problems
        )
    finally:
        changed_id = value if column == "id" else target.id
        with store.database.transaction() as connection:
            connection.execute(update(table).where(table.c.id == changed_id).values(dict(original)))
    assert verify(store.database).ok
