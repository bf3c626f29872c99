"""Decisions against a real store: the cache, objections, restriction, erasure, children,
disclosures, and the audit trail every decision is written to (sync and batched)."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from tests.conftest import CLEAN_DECLARATION, revise

from pledge.app import Runtime, build_runtime
from pledge.config import Settings
from pledge.consent.proof import verify
from pledge.declaration import Declaration, loads
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditFilter
from pledge.enforcement.decision_log import DecisionLog
from pledge.enforcement.model import Decision
from pledge.enforcement.objections import load_state
from pledge.errors import ConsentError, NotFound, StoreUnavailable, UsageError
from pledge.store.database import Database
from pledge.store.tables import audit_events, objections
from pledge.subjects.model import Identity

START = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)

MARKETING = """purposes:
  marketing_email:
    legal_basis: legitimate_interests
    legitimate_interest: Telling customers about products like the ones they bought.
    interest_assessment: LIA-2025-02
    categories: [contact.email]
    retention: P2Y
"""


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def enforcement_declaration() -> Declaration:
    """The clean declaration plus direct marketing on legitimate interests."""
    return loads(revise(CLEAN_DECLARATION, ("purposes:\n", MARKETING)))


@pytest.fixture
def clock() -> Clock:
    """The tests' clock, at START."""
    return Clock()


def open_runtime(
    store: Database,
    declaration: Declaration,
    clock: Clock,
    *,
    cache_seconds: float = 60.0,
    log_mode: str = "sync",
    key: bytes | None = None,
) -> Runtime:
    """A runtime on ``store``, as a process would build it."""
    settings = Settings(secret_key=key or os.urandom(32), decision_cache_seconds=cache_seconds)
    return build_runtime(
        settings, declaration=declaration, database=store, clock=clock, log_mode=log_mode
    )


@pytest.fixture
def runtime(
    store: Database, enforcement_declaration: Declaration, clock: Clock
) -> Iterator[Runtime]:
    """A runtime with a one-minute decision cache and the sync decision log."""
    built = open_runtime(store, enforcement_declaration, clock)
    try:
        yield built
    finally:
        built.decider.close()


def new_subject(runtime: Runtime, email: str = "ann@example.com") -> str:
    """A subject found by an e-mail address."""
    return runtime.subjects.find_or_create(Identity.parse("email", email), actor="test")


def decisions_in_trail(store: Database, action: str = "decision") -> list[audit.AuditEvent]:
    """The decision events of the audit trail, oldest first."""
    with store.read() as connection:
        return audit.read(connection, AuditFilter(action=action, limit=100_000))


# --- the cache ---------------------------------------------------------------------------------


def test_consent_recorded_in_this_process_applies_at_once(runtime: Runtime) -> None:
    """The ledger tells the decider, so a cached denial does not outlive a grant."""
    ann = new_subject(runtime)
    assert not runtime.decider.may_process(ann, "newsletter")
    runtime.ledger.grant(ann, "newsletter", channel="form", actor="test")
    assert runtime.decider.may_process(ann, "newsletter")
    runtime.ledger.withdraw(ann, "newsletter", channel="form", actor="test")
    decision = runtime.decider.may_process(ann, "newsletter")
    assert not decision.allowed and decision.rule == "consent_withdrawn"


def test_a_write_by_another_process_is_seen_when_the_cache_expires(
    store: Database, enforcement_declaration: Declaration, clock: Clock
) -> None:
    """Another process's grant reaches this cache within cache_seconds, not before."""
    key = os.urandom(32)
    here = open_runtime(store, enforcement_declaration, clock, cache_seconds=5, key=key)
    elsewhere = open_runtime(store, enforcement_declaration, clock, key=key)
    try:
        ann = new_subject(here)
        assert not here.decider.may_process(ann, "newsletter")
        elsewhere.ledger.grant(ann, "newsletter", channel="api", actor="test")
        clock.advance(4.9)
        assert not here.decider.may_process(ann, "newsletter"), "still the cached state"
        clock.advance(0.2)
        assert here.decider.may_process(ann, "newsletter")
    finally:
        here.decider.close()
        elsewhere.decider.close()


def test_without_a_cache_every_decision_reads_the_store(
    store: Database, enforcement_declaration: Declaration, clock: Clock
) -> None:
    """cache_seconds=0: another process's write counts at the very next decision."""
    here = open_runtime(store, enforcement_declaration, clock, cache_seconds=0)
    elsewhere = open_runtime(store, enforcement_declaration, clock)
    try:
        ann = new_subject(here)
        assert not here.decider.may_process(ann, "newsletter")
        elsewhere.ledger.grant(ann, "newsletter", channel="api", actor="test")
        assert here.decider.may_process(ann, "newsletter")
    finally:
        here.decider.close()
        elsewhere.decider.close()


def test_a_clock_set_back_does_not_keep_a_stale_state(
    store: Database, enforcement_declaration: Declaration, clock: Clock
) -> None:
    """A state read "in the future" is not trusted once the clock goes back."""
    key = os.urandom(32)
    here = open_runtime(store, enforcement_declaration, clock, cache_seconds=60, key=key)
    elsewhere = open_runtime(store, enforcement_declaration, clock, key=key)
    try:
        ann = new_subject(here)
        assert not here.decider.may_process(ann, "newsletter")
        elsewhere.ledger.grant(ann, "newsletter", channel="api", actor="test")
        clock.now = START - dt.timedelta(hours=1)
        assert here.decider.may_process(ann, "newsletter")
    finally:
        here.decider.close()
        elsewhere.decider.close()


def test_a_grant_expires_at_its_consent_max_age_even_in_a_long_cache(
    store: Database, clock: Clock
) -> None:
    """The cached state is read again when a grant expires; the reason says to ask again."""
    declaration = loads(
        revise(
            CLEAN_DECLARATION,
            (
                "  analytics:\n    legal_basis: consent\n",
                "  analytics:\n    legal_basis: consent\n    consent_max_age: PT30M\n",
            ),
        )
    )
    here = open_runtime(store, declaration, clock, cache_seconds=3600)
    try:
        ann = new_subject(here)
        here.ledger.grant(ann, "analytics", channel="banner", actor="test")
        assert here.decider.may_process(ann, "analytics")  # cached for an hour from now
        clock.advance(30 * 60 - 1)
        assert here.decider.may_process(ann, "analytics")
        clock.advance(1)
        expired = here.decider.may_process(ann, "analytics")
        assert not expired.allowed and expired.rule == "consent_expired"
        assert "asks again after 30 minutes (consent_max_age PT30M)" in expired.reason
        here.ledger.grant(ann, "analytics", channel="banner", actor="test")  # asked again
        assert here.decider.may_process(ann, "analytics")
    finally:
        here.ledger.close()
        here.decider.close()


def test_an_unknown_subject_is_not_found(runtime: Runtime) -> None:
    """A decision about nobody is an error, not a denial, and is not audited."""
    with pytest.raises(NotFound, match="no subject"):
        runtime.decider.may_process("01NOSUCHSUBJECT00000000000", "provide_service")
    assert decisions_in_trail(runtime.database) == []


def test_reading_a_subjects_state_takes_one_query_per_table(runtime: Runtime) -> None:
    """Consents, objections and the subject row: three queries however much there is."""
    ann = new_subject(runtime)
    for purpose in ("newsletter", "analytics"):
        runtime.ledger.grant(ann, purpose, channel="api", actor="test")
    for scope in ("*", "direct_marketing", "fraud_prevention"):
        runtime.objections.record(ann, scope, actor="test")
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(runtime.database.engine, "before_cursor_execute", count)
    try:
        with runtime.database.read() as connection:
            state = load_state(connection, ann)
    finally:
        event.remove(runtime.database.engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3
    assert set(state.consents) == {"newsletter", "analytics"}
    assert state.objections == {"*", "direct_marketing", "fraud_prevention"}


# --- special categories and sensitive personal information -------------------------------------

SENSITIVE = """purposes:
  location_ads:
    legal_basis: consent
    categories: [location.precise, usage.pages]
    retention: P1Y
  wellbeing_tips:
    legal_basis: legitimate_interests
    legitimate_interest: Suggesting breaks.
    categories: [special.health]
    retention: P1Y
  navigation:
    legal_basis: contract
    ccpa_sensitive_use: expected_service
    categories: [location.precise]
    retention: P30D
"""


def test_special_categories_and_a_limit_decide_against_the_store(
    store: Database, clock: Clock
) -> None:
    """Art. 9 refuses health data on legitimate interests; a limit on sensitive information
    (CCPA 1798.121) is read with its time, and a later grant counts again (1798.121(b))."""
    declaration = loads(revise(CLEAN_DECLARATION, ("purposes:\n", SENSITIVE)))
    runtime = open_runtime(store, declaration, clock)
    try:
        ann = new_subject(runtime)
        refused = runtime.decider.may_process(ann, "wellbeing_tips")
        assert refused.rule == "special_category_condition_missing" and "Art. 9" in refused.reason
        runtime.ledger.grant(ann, "location_ads", channel="form", actor="test")
        assert runtime.decider.may_process(ann, "location_ads")
        clock.advance(60)
        runtime.objections.record(ann, "limit_sensitive", actor="subject", channel="form")
        with runtime.database.read() as connection:
            assert load_state(connection, ann).sensitive_limited_at == clock.now
        limited = runtime.decider.may_process(ann, "location_ads")
        assert not limited.allowed and limited.rule == "sensitive_use_limited"
        assert runtime.decider.may_process(ann, "location_ads", ["usage.pages"])
        kept = runtime.decider.may_process(ann, "navigation")
        assert kept.allowed and "CCPA 1798.121(a)" in kept.reason
        clock.advance(60)
        runtime.ledger.withdraw(ann, "location_ads", channel="form", actor="test")
        runtime.ledger.grant(ann, "location_ads", channel="form", actor="test")
        assert runtime.decider.may_process(ann, "location_ads")
        runtime.objections.lift(ann, "limit_sensitive", actor="subject")
        with runtime.database.read() as connection:
            assert load_state(connection, ann).sensitive_limited_at is None
        trail = [event.details["rule"] for event in decisions_in_trail(store)]
        assert "special_category_condition_missing" in trail
        assert "sensitive_use_limited" in trail
    finally:
        runtime.decider.close()


# --- objections, restriction, erasure ----------------------------------------------------------


def test_an_objection_stops_legitimate_interests_until_lifted(runtime: Runtime) -> None:
    """Art. 21(1): fraud prevention stops on objection, and resumes when it is lifted."""
    ann = new_subject(runtime)
    assert runtime.decider.may_process(ann, "fraud_prevention")
    runtime.objections.record(ann, "fraud_prevention", actor="subject")
    decision = runtime.decider.may_process(ann, "fraud_prevention")
    assert not decision.allowed and decision.rule == "objected"
    assert runtime.objections.lift(ann, "fraud_prevention", actor="subject") is not None
    assert runtime.decider.may_process(ann, "fraud_prevention")


def test_an_objection_to_direct_marketing_overrides_a_grant(runtime: Runtime) -> None:
    """Art. 21(3) is absolute: a grant before or after it does not bring marketing back."""
    ann = new_subject(runtime)
    runtime.ledger.grant(ann, "newsletter", channel="form", actor="test")
    assert runtime.decider.may_process(ann, "newsletter")
    runtime.objections.record(ann, "direct_marketing", actor="subject")
    runtime.ledger.grant(ann, "newsletter", channel="form", actor="test")
    for purpose in ("newsletter", "marketing_email"):
        decision = runtime.decider.may_process(ann, purpose)
        assert not decision.allowed and decision.rule == "objected_direct_marketing"
    assert runtime.decider.may_process(ann, "provide_service"), "the contract goes on"


def test_objecting_twice_records_one_objection(runtime: Runtime) -> None:
    """The second objection to the same scope changes nothing and writes nothing."""
    ann = new_subject(runtime)
    first = runtime.objections.record(ann, "*", actor="subject")
    second = runtime.objections.record(ann, "*", actor="subject")
    assert first == second
    with runtime.database.read() as connection:
        rows = connection.execute(select(func.count()).select_from(objections)).scalar_one()
        recorded = audit.read(connection, AuditFilter(action="objection.recorded"))
    assert rows == 1 and len(recorded) == 1
    assert recorded[0].details == {"scope": "*"}


def test_objections_are_checked_against_the_declaration(runtime: Runtime) -> None:
    """Objecting to a consent purpose, an unknown purpose or for nobody changes nothing."""
    ann = new_subject(runtime)
    with pytest.raises(UsageError, match="withdraw consent instead"):
        runtime.objections.record(ann, "analytics", actor="t")
    with pytest.raises(NotFound):
        runtime.objections.record(ann, "telepathy", actor="t")
    with pytest.raises(NotFound):
        runtime.objections.record("01NOSUCHSUBJECT00000000000", "*", actor="t")
    assert runtime.objections.standing(ann) == []
    assert runtime.objections.lift(ann, "*", actor="t") is None


def test_a_restricted_subject_is_only_stored(runtime: Runtime) -> None:
    """Art. 18: every purpose stops, contracts included, until the restriction is lifted."""
    ann = new_subject(runtime)
    runtime.ledger.grant(ann, "newsletter", channel="form", actor="test")
    runtime.subjects.set_restricted(ann, True, actor="staff")
    runtime.decider.invalidate(ann)
    for purpose in ("newsletter", "provide_service", "fraud_prevention"):
        decision = runtime.decider.may_process(ann, purpose)
        assert not decision.allowed
        assert decision.reason == "processing is restricted to storage (GDPR Art. 18)"
    runtime.subjects.set_restricted(ann, False, actor="staff")
    runtime.decider.invalidate(ann)
    assert runtime.decider.may_process(ann, "newsletter")


def test_an_erased_subject_is_not_processed(runtime: Runtime) -> None:
    """After erasure nothing runs, whatever was granted before."""
    ann = new_subject(runtime)
    runtime.ledger.grant(ann, "newsletter", channel="form", actor="test")
    runtime.subjects.erase(ann, actor="staff")
    runtime.decider.invalidate(ann)
    decision = runtime.decider.may_process(ann, "provide_service")
    assert not decision.allowed and decision.rule == "erased"


# --- children ----------------------------------------------------------------------------------


def test_a_child_needs_the_guardians_grant(runtime: Runtime) -> None:
    """Art. 8: a grant from before the age was known stops counting; the guardian's counts."""
    parent = new_subject(runtime, "parent@example.com")
    child = new_subject(runtime, "kid@example.com")
    runtime.ledger.grant(child, "analytics", channel="form", actor="test")
    assert runtime.decider.may_process(child, "analytics")
    runtime.subjects.set_consent_age(
        child, consent_age_from=START + dt.timedelta(days=700), guardian_id=parent, actor="staff"
    )
    runtime.decider.invalidate(child)
    decision = runtime.decider.may_process(child, "analytics")
    assert not decision.allowed and decision.rule == "guardian_consent_missing"
    with pytest.raises(ConsentError):
        runtime.ledger.grant(child, "analytics", channel="form", actor="test")
    runtime.ledger.grant(child, "analytics", channel="form", actor="test", guardian_id=parent)
    decision = runtime.decider.may_process(child, "analytics")
    assert decision.allowed and decision.rule == "guardian_consent"


def test_a_child_comes_of_age_while_the_state_is_cached(
    store: Database, enforcement_declaration: Declaration, clock: Clock
) -> None:
    """The day a child may consent alone, their own grant counts, cache or no cache."""
    runtime = open_runtime(store, enforcement_declaration, clock, cache_seconds=3600)
    try:
        child = new_subject(runtime, "kid@example.com")
        runtime.ledger.grant(child, "analytics", channel="form", actor="test")
        runtime.subjects.set_consent_age(
            child, consent_age_from=START + dt.timedelta(minutes=5), guardian_id=None, actor="s"
        )
        runtime.decider.invalidate(child)
        assert not runtime.decider.may_process(child, "analytics")
        clock.advance(301)
        assert runtime.decider.may_process(child, "analytics")
    finally:
        runtime.decider.close()


# --- disclosures -------------------------------------------------------------------------------


def test_disclosures_follow_the_declared_recipients(runtime: Runtime) -> None:
    """The mailer gets e-mail addresses for the newsletter after consent, nothing else."""
    ann = new_subject(runtime)
    assert not runtime.decider.may_disclose(ann, "mailer", ["contact.email"], "newsletter")
    runtime.ledger.grant(ann, "newsletter", channel="form", actor="test")
    allowed = runtime.decider.may_disclose(ann, "mailer", ["contact.email"], "newsletter")
    assert allowed.allowed and allowed.recipient == "mailer"
    assert not runtime.decider.may_disclose(ann, "mailer", ["identity.name"], "newsletter")
    assert not runtime.decider.may_disclose(ann, "hosting", None, "newsletter")
    with pytest.raises(NotFound):
        runtime.decider.may_disclose(ann, "data_broker", None, "newsletter")
    trail = decisions_in_trail(runtime.database, "disclosure")
    assert [event.details["allowed"] for event in trail] == [False, True, False, False]
    assert {event.details["recipient"] for event in trail} == {"mailer", "hosting"}


# --- the audit trail ---------------------------------------------------------------------------


def make_decisions(runtime: Runtime, subject_id: str) -> list[Decision]:
    """A mix of allowed and denied decisions about one subject."""
    made = [
        runtime.decider.may_process(subject_id, "newsletter"),
        runtime.decider.may_process(subject_id, "provide_service", ["contact.email"]),
        runtime.decider.may_process(subject_id, "provide_service", ["contact.phone"]),
    ]
    runtime.ledger.grant(subject_id, "newsletter", channel="form", actor="test")
    made.append(runtime.decider.may_process(subject_id, "newsletter", actor="api:crm"))
    return made


def test_every_decision_is_in_the_trail_before_it_returns_in_sync_mode(runtime: Runtime) -> None:
    """Sync mode: the event is committed before the caller has the answer."""
    ann = new_subject(runtime)
    decision = runtime.decider.may_process(ann, "newsletter")
    [recorded] = decisions_in_trail(runtime.database)
    assert recorded.subject_id == ann and recorded.purpose == "newsletter"
    assert recorded.occurred_at == START
    assert recorded.details == {
        "allowed": False,
        "reason": decision.reason,
        "legal_basis": "consent",
        "rule": "consent_missing",
        "categories": ["contact.email"],
        "count": 1,
    }


def test_decision_events_carry_no_personal_data(runtime: Runtime) -> None:
    """The trail names subjects by pseudonymous id only."""
    ann = new_subject(runtime, "ann.personal@example.com")
    make_decisions(runtime, ann)
    with runtime.database.read() as connection:
        rows = connection.execute(select(audit_events.c.details)).scalars().all()
    assert rows and not any("ann.personal" in details for details in rows)


@pytest.mark.parametrize("log_mode", ["sync", "batched"])
def test_every_decision_is_audited_and_the_chain_holds(
    store: Database, enforcement_declaration: Declaration, clock: Clock, log_mode: str
) -> None:
    """Both modes: one event per decision, in order, with its actor; the chain verifies."""
    runtime = open_runtime(store, enforcement_declaration, clock, log_mode=log_mode)
    ann = new_subject(runtime)
    made = make_decisions(runtime, ann)
    runtime.decider.close()
    trail = decisions_in_trail(store)
    assert [(e.purpose, e.details["allowed"], e.details["reason"]) for e in trail] == [
        (d.purpose, d.allowed, d.reason) for d in made
    ]
    assert [e.actor for e in trail] == ["sdk", "sdk", "sdk", "api:crm"]
    assert verify(store).ok


def test_batched_decisions_are_written_within_the_interval(runtime: Runtime) -> None:
    """The writer commits queued events on its own, without a flush, within ~100 ms."""
    batched = DecisionLog(runtime.database, mode="batched", interval=0.05)
    ann = new_subject(runtime)
    decision = runtime.decider.rules.decide(
        runtime.decider.state(ann), "provide_service", None, START
    )
    batched.add("decision", "sdk", decision, START)
    done = threading.Event()
    for _ in range(100):
        if decisions_in_trail(runtime.database):
            done.set()
            break
        done.wait(0.02)
    batched.close()
    assert done.is_set()


def test_many_threads_deciding_at_once_lose_no_event(
    store: Database, enforcement_declaration: Declaration, clock: Clock
) -> None:
    """Eight threads, 2,500 decisions each, in batched mode: all 20,000 counted, chain valid."""
    runtime = open_runtime(store, enforcement_declaration, clock, log_mode="batched")
    people = [new_subject(runtime, f"person{n}@example.com") for n in range(8)]

    def decide_many(subject_id: str) -> None:
        for _ in range(2_500):
            runtime.decider.may_process(subject_id, "fraud_prevention")

    threads = [threading.Thread(target=decide_many, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runtime.decider.close()
    with store.read() as connection:
        recorded = connection.execute(
            select(audit_events.c.details).where(audit_events.c.action == "decision")
        ).scalars()
        counts = [json.loads(details)["count"] for details in recorded]
    assert sum(counts) == 20_000
    assert len(counts) < 20_000  # identical decisions of a batch share an event
    assert verify(store).ok


def test_a_failing_store_keeps_batched_events_until_it_recovers(tmp_path: Path) -> None:
    """The writer keeps what it could not commit and writes it once the store is back."""
    database = Database(f"sqlite:///{tmp_path}/later.db")  # no schema yet: every write fails
    log = DecisionLog(database, mode="batched", interval=0.01, wait_seconds=0.3)
    decision = Decision(True, "01SUBJECT00000000000000000", "provide_service", "contract", "ok", ())
    log.add("decision", "sdk", decision, START)
    with pytest.raises(StoreUnavailable, match="could not be written"):
        log.flush()
    database.upgrade()
    log.flush(timeout=10)
    log.close()
    with database.read() as connection:
        assert connection.execute(select(func.count()).select_from(audit_events)).scalar_one() == 1
    database.dispose()


def test_a_full_queue_refuses_to_answer_without_a_record(tmp_path: Path) -> None:
    """When the store refuses writes and the queue is full, deciding fails closed."""
    database = Database(f"sqlite:///{tmp_path}/never.db")
    log = DecisionLog(
        database, mode="batched", batch_size=2, max_pending=4, wait_seconds=0.2, interval=0.01
    )
    decision = Decision(True, "01SUBJECT00000000000000000", "provide_service", "contract", "ok", ())
    with pytest.raises(StoreUnavailable, match="cannot be audited"):
        for _ in range(10):
            log.add("decision", "sdk", decision, START)
    with pytest.raises(StoreUnavailable):
        log.close()
    with pytest.raises(UsageError, match="closed"):
        log.add("decision", "sdk", decision, START)
    database.dispose()


def test_an_unknown_log_mode_is_refused(store: Database) -> None:
    """Only sync and batched exist."""
    with pytest.raises(UsageError, match="log_mode must be one of sync, batched"):
        DecisionLog(store, mode="eventually")
