"""Subject requests on both backends: lifecycle, verification, deadlines, immediate effects."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from tests.conftest import revise
from tests.integration.conftest import CONSENT_DECLARATION

from pledge import loads
from pledge.app import Runtime, build_runtime
from pledge.config import Settings
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditFilter
from pledge.errors import RequestError, UsageError
from pledge.requests.model import RequestState, RequestType
from pledge.requests.notifier import Outbox
from pledge.store.database import Database
from pledge.store.tables import subject_requests
from pledge.subjects.model import Identity

EMAIL = "ann@example.com"
ANN = Identity.parse("email", EMAIL)
DECLARATION = revise(
    CONSENT_DECLARATION,
    (
        "    description: Monthly news about our products.\n",
        "    description: Monthly news about our products.\n    direct_marketing: true\n",
    ),
    ("  name: Acme Cloud\n", "  name: Acme Cloud\n  supervisory_authority:\n    name: BlnBDI\n"),
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime(2025, 1, 31, 9, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    """The test's clock, at 31 January 2025 09:00 UTC."""
    return Clock()


@pytest.fixture
def outbox() -> Outbox:
    """Where the messages to people go."""
    return Outbox()


@pytest.fixture
def runtime(store: Database, clock: Clock, outbox: Outbox) -> Iterator[Runtime]:
    """A runtime whose decisions are cached for an hour: effects must invalidate them."""
    settings = Settings(secret_key=os.urandom(32), decision_cache_seconds=3600)
    built = build_runtime(
        settings,
        declaration=loads(DECLARATION),
        database=store,
        clock=clock,
        log_mode="sync",
        notifier=outbox,
    )
    try:
        yield built
    finally:
        built.decider.close()


def code_for(outbox: Outbox, to: str = EMAIL) -> str:
    """The code of the newest verification message to ``to``."""
    message = outbox.last(to, "verification")
    assert message is not None, f"no verification message to {to}"
    found = re.search(r"^    (\d{6})$", message.body, re.MULTILINE)
    assert found, message.body
    return found[1]


def actions(runtime: Runtime, subject_id: str) -> list[str]:
    """The audit actions recorded about a subject, oldest first."""
    with runtime.database.read() as connection:
        found = audit.read(connection, AuditFilter(subject_id=subject_id, limit=1000))
    return [event.action for event in found]


def test_a_request_goes_from_received_to_completed_with_every_step_audited(
    runtime: Runtime, outbox: Outbox
) -> None:
    """Submit, verify with the e-mailed code, plan, run, complete; one audit event per step."""
    submitted = runtime.requests.submit("access", ANN, "gdpr", {"note": "everything"})
    assert submitted.state is RequestState.RECEIVED and not submitted.duplicate
    assert submitted.due_at == dt.datetime(2025, 2, 28, 9, tzinfo=dt.UTC)  # Jan 31 + 1 month
    assert submitted.receipt_confirmed_at is not None
    assert submitted.retain_until >= submitted.received_at + dt.timedelta(days=730)

    verified = runtime.requests.verify(submitted.id, code_for(outbox))
    assert verified.state is RequestState.VERIFIED and verified.verification == "code"
    runtime.requests.mark_planned(submitted.id, actor="runner")
    runtime.requests.mark_running(submitted.id, actor="runner")
    done = runtime.requests.complete(submitted.id, actor="runner", result={"tables": 3})

    assert done.state is RequestState.COMPLETED and done.closed_at is not None
    assert done.details == {"note": "everything"}
    assert outbox.last(EMAIL, "completed") is not None
    assert actions(runtime, done.subject_id) == [
        "subject.created",
        "request.submitted",
        "request.code_sent",
        "request.receipt_confirmed",
        "request.verified",
        "request.planned",
        "request.running",
        "request.completed",
    ]
    with pytest.raises(RequestError, match="completed request cannot become"):
        runtime.requests.deny(done.id, "too late", actor="staff:dana")


def test_a_wrong_code_is_a_clear_error_and_changes_nothing(
    runtime: Runtime, outbox: Outbox
) -> None:
    """The request stays received and the restriction does not take effect."""
    request = runtime.requests.submit("restriction", ANN)
    right = code_for(outbox)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with pytest.raises(RequestError, match="wrong code; 4 attempts left"):
        runtime.requests.verify(request.id, wrong)
    after = runtime.requests.get(request.id)
    assert after.state is RequestState.RECEIVED and after.verified_at is None
    assert actions(runtime, request.subject_id)[-1] == "request.verification_failed"
    assert runtime.decider.may_process(request.subject_id, "fraud_prevention").allowed


def test_an_expired_code_is_refused(runtime: Runtime, outbox: Outbox, clock: Clock) -> None:
    """Codes live 15 minutes; a new one can be sent."""
    request = runtime.requests.submit("objection", ANN)
    code = code_for(outbox)
    clock.advance(minutes=15)
    with pytest.raises(RequestError, match="expired"):
        runtime.requests.verify(request.id, code)
    assert runtime.requests.get(request.id).state is RequestState.RECEIVED
    runtime.requests.resend_code(request.id)
    assert runtime.requests.verify(request.id, code_for(outbox)).state is RequestState.COMPLETED


def test_five_wrong_codes_exhaust_the_attempts(runtime: Runtime, outbox: Outbox) -> None:
    """After five wrong codes even the right one is refused, until a new code is sent."""
    request = runtime.requests.submit("access", ANN)
    right = code_for(outbox)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises(RequestError, match="wrong code"):
            runtime.requests.verify(request.id, wrong)
    with pytest.raises(RequestError, match="too many wrong codes"):
        runtime.requests.verify(request.id, right)
    runtime.requests.resend_code(request.id)
    assert runtime.requests.verify(request.id, code_for(outbox)).state is RequestState.VERIFIED


def test_the_same_request_twice_returns_the_open_one_flagged(
    runtime: Runtime, outbox: Outbox
) -> None:
    """A duplicate gets the open request back, with a fresh code; the old code stops working."""
    first = runtime.requests.submit("erasure", ANN)
    old_code = code_for(outbox)
    again = runtime.requests.submit("erasure", Identity.parse("email", "ANN@example.com"))
    assert again.id == first.id and again.duplicate
    assert len(runtime.requests.list(subject_id=first.subject_id)) == 1
    new_code = code_for(outbox)
    if new_code != old_code:
        with pytest.raises(RequestError, match="wrong code"):
            runtime.requests.verify(first.id, old_code)
    runtime.requests.verify(first.id, new_code)
    other = runtime.requests.submit("access", ANN)
    assert other.id != first.id and not other.duplicate
    assert "request.duplicate" in actions(runtime, first.subject_id)


def test_messages_do_not_reveal_whether_an_address_was_known(
    runtime: Runtime, outbox: Outbox
) -> None:
    """A known and an unknown address get the same text but for the code and the request id."""
    runtime.subjects.find_or_create(ANN, actor="test")
    known = runtime.requests.submit("access", ANN)
    unknown = runtime.requests.submit("access", Identity.parse("email", "bob@example.com"))
    texts = []
    for request, to in ((known, EMAIL), (unknown, "bob@example.com")):
        message = outbox.last(to, "verification")
        assert message is not None
        texts.append(message.body.replace(code_for(outbox, to), "CODE").replace(request.id, "ID"))
    assert texts[0] == texts[1]


def test_staff_may_submit_on_behalf_and_skip_the_code_with_a_reason(
    runtime: Runtime, outbox: Outbox
) -> None:
    """Recorded as the staff member's, verified by staff with the reason audited."""
    phone = Identity.parse("phone", "+49 30 1234567")
    request = runtime.requests.submit(
        "access",
        phone,
        "ccpa",
        on_behalf_of_staff="dana",
        skip_verification_reason="identified on a recorded support call",
    )
    assert request.state is RequestState.VERIFIED
    assert request.submitted_by == "staff:dana" and request.staff == "dana"
    assert request.verification == "staff"
    assert request.verification_note == "identified on a recorded support call"
    assert request.receipt_confirmed_at is not None and not request.receipt_overdue
    assert not outbox.messages
    with runtime.database.read() as connection:
        events = audit.read(connection, AuditFilter(subject_id=request.subject_id))
    verified = next(event for event in events if event.action == "request.verified")
    assert verified.actor == "staff:dana" and verified.details["method"] == "staff"
    with pytest.raises(UsageError, match="only staff"):
        runtime.requests.submit("access", ANN, skip_verification_reason="trust me")
    with pytest.raises(UsageError, match="e-mail"):
        runtime.requests.submit("erasure", Identity.parse("account", "acct-7"))


def test_restriction_and_its_lifting_take_effect_in_decisions_at_once(
    runtime: Runtime, outbox: Outbox
) -> None:
    """The cached decision (an hour) does not outlive a verified restriction."""
    subject = runtime.subjects.find_or_create(ANN, actor="test")
    assert runtime.decider.may_process(subject, "fraud_prevention").allowed
    request = runtime.requests.submit("restriction", ANN)
    done = runtime.requests.verify(request.id, code_for(outbox))
    assert done.state is RequestState.COMPLETED
    assert not runtime.decider.may_process(subject, "fraud_prevention").allowed
    lift = runtime.requests.submit("lift_restriction", ANN)
    runtime.requests.verify(lift.id, code_for(outbox))
    assert runtime.decider.may_process(subject, "fraud_prevention").allowed


def test_an_objection_takes_effect_at_once(runtime: Runtime, outbox: Outbox) -> None:
    """An objection to a legitimate-interests purpose stops it in the next decision."""
    subject = runtime.subjects.find_or_create(ANN, actor="test")
    assert runtime.decider.may_process(subject, "fraud_prevention").allowed
    request = runtime.requests.submit("objection", ANN, details={"scopes": ["fraud_prevention"]})
    runtime.requests.verify(request.id, code_for(outbox))
    assert not runtime.decider.may_process(subject, "fraud_prevention").allowed
    assert [item.scope for item in runtime.objections.standing(subject)] == ["fraud_prevention"]
    with pytest.raises(UsageError, match="withdraw consent instead"):
        runtime.requests.submit("objection", ANN, details={"scopes": ["analytics"]})


def test_unsubscribe_withdraws_marketing_consent_and_objects_to_direct_marketing(
    runtime: Runtime, outbox: Outbox
) -> None:
    """The newsletter stops at once, and stays stopped even if consent were given again."""
    subject = runtime.subjects.find_or_create(ANN, actor="test")
    runtime.ledger.grant(subject, "newsletter", channel="form", actor="test")
    runtime.ledger.grant(subject, "analytics", channel="form", actor="test")
    assert runtime.decider.may_process(subject, "newsletter").allowed
    request = runtime.requests.submit("unsubscribe", ANN)
    runtime.requests.verify(request.id, code_for(outbox))
    assert not runtime.decider.may_process(subject, "newsletter").allowed
    assert runtime.decider.may_process(subject, "analytics").allowed
    assert not runtime.ledger.state(subject)["newsletter"].granted
    assert [item.scope for item in runtime.objections.standing(subject)] == ["direct_marketing"]
    completed = [event for event in _events(runtime, subject) if event.action.endswith("completed")]
    assert completed[-1].details["withdrawn"] == ["newsletter"]


def test_withdrawal_of_named_or_all_consents_takes_effect_at_once(
    runtime: Runtime, outbox: Outbox
) -> None:
    """Named purposes only, or every purpose based on consent."""
    subject = runtime.subjects.find_or_create(ANN, actor="test")
    for purpose in ("newsletter", "analytics", "fitness_insights"):
        runtime.ledger.grant(subject, purpose, channel="form", actor="test")
    assert runtime.decider.may_process(subject, "analytics").allowed
    named = runtime.requests.submit("withdraw_consent", ANN, details={"purposes": ["analytics"]})
    runtime.requests.verify(named.id, code_for(outbox))
    assert not runtime.decider.may_process(subject, "analytics").allowed
    assert runtime.decider.may_process(subject, "newsletter").allowed
    every = runtime.requests.submit("withdraw_consent", ANN)
    runtime.requests.verify(every.id, code_for(outbox))
    assert not runtime.decider.may_process(subject, "newsletter").allowed
    assert not runtime.decider.may_process(subject, "fitness_insights").allowed
    with pytest.raises(UsageError, match="not based on consent"):
        runtime.requests.submit("withdraw_consent", ANN, details={"purposes": ["provide_service"]})


def test_a_denial_carries_its_reason_and_the_right_to_complain(
    runtime: Runtime, outbox: Outbox
) -> None:
    """The person is told why, and where to complain (the declared authority)."""
    request = runtime.requests.submit("erasure", ANN)
    denied = runtime.requests.deny(
        request.id,
        "the account is under a legal hold",
        ground="legal_exception",
        actor="staff:dana",
    )
    assert denied.state is RequestState.DENIED and denied.denial is not None
    assert denied.denial.reason == "the account is under a legal hold"
    assert "BlnBDI" in denied.denial.complaint
    message = outbox.last(EMAIL, "denied")
    assert message is not None and "BlnBDI" in message.body and "legal hold" in message.body
    with pytest.raises(UsageError, match="reason"):
        runtime.requests.deny(runtime.requests.submit("access", ANN).id, " ", actor="staff:dana")


def test_an_extension_needs_a_reason_before_the_first_deadline(
    runtime: Runtime, outbox: Outbox, clock: Clock
) -> None:
    """GDPR: up to two more months, asked for within the first month; the person is told."""
    request = runtime.requests.submit("access", ANN)
    with pytest.raises(RequestError, match="reason"):
        runtime.requests.extend(request.id, "", actor="staff:dana")
    clock.advance(days=20)
    extended = runtime.requests.extend(request.id, "many systems to search", actor="staff:dana")
    assert extended.extension == 2 and extended.extension_reason == "many systems to search"
    assert extended.due_at == dt.datetime(2025, 4, 30, 9, tzinfo=dt.UTC)
    assert outbox.last(EMAIL, "extended") is not None

    late = runtime.requests.submit("erasure", ANN)
    clock.advance(days=31)
    with pytest.raises(RequestError, match="before the first deadline"):
        runtime.requests.extend(late.id, "forgot", actor="staff:dana")
    assert runtime.requests.get(late.id).extension == 0


def test_overdue_requests_are_flagged_and_listed(runtime: Runtime, clock: Clock) -> None:
    """Past its deadline and unanswered: overdue; CCPA receipt confirmation has its own flag."""
    gdpr = runtime.requests.submit("access", ANN)
    ccpa = runtime.requests.submit(
        "access", Identity.parse("email", "bob@example.com"), "ccpa", on_behalf_of_staff="dana"
    )
    assert ccpa.confirm_receipt_by is not None
    assert runtime.requests.list(overdue=True) == []
    clock.advance(days=29)
    late = runtime.requests.list(overdue=True)
    assert [request.id for request in late] == [gdpr.id]
    assert late[0].overdue and runtime.requests.get(gdpr.id).overdue
    assert [r.id for r in runtime.requests.list(overdue=False)] == [ccpa.id]
    assert [r.id for r in runtime.requests.list(state="received")] == [gdpr.id, ccpa.id]


def test_a_retryable_failure_can_be_retried_and_a_final_one_cannot(
    runtime: Runtime, outbox: Outbox
) -> None:
    """failed (retryable) → verified; failed for good stays failed and is not open."""
    request = runtime.requests.submit("erasure", ANN)
    runtime.requests.verify(request.id, code_for(outbox))
    failed = runtime.requests.fail(request.id, "datastore down", retryable=True, actor="runner")
    assert failed.state is RequestState.FAILED and failed.open
    assert runtime.requests.submit("erasure", ANN).id == request.id  # still the open one
    retried = runtime.requests.retry(request.id, actor="runner")
    assert retried.state is RequestState.VERIFIED and retried.failure is None
    runtime.requests.fail(request.id, "schema changed", retryable=False, actor="runner")
    with pytest.raises(RequestError, match="for good"):
        runtime.requests.retry(request.id, actor="runner")
    assert runtime.requests.submit("erasure", ANN).id != request.id


def test_request_details_cannot_be_read_after_the_subject_is_erased(
    runtime: Runtime, outbox: Outbox, store: Database
) -> None:
    """Details and contact are encrypted under the subject's key; the record itself stays."""
    secret = "my neighbour Zacharias"
    request = runtime.requests.submit("rectification", ANN, details={"name": secret})
    with store.read() as connection:
        stored = connection.execute(select(subject_requests)).mappings().one()
    assert secret.encode() not in stored["details_encrypted"]
    assert EMAIL.encode() not in (stored["contact_encrypted"] or b"")
    assert runtime.requests.get(request.id).details == {"name": secret}

    runtime.subjects.erase(request.subject_id, actor="test")
    after = runtime.requests.get(request.id)
    assert after.details is None
    assert after.type is RequestType.RECTIFICATION and after.retain_until > after.received_at
    fresh = build_runtime(
        runtime.settings, declaration=runtime.declaration, database=store, log_mode="sync"
    )
    try:
        assert fresh.requests.get(request.id).details is None
    finally:
        fresh.decider.close()


def _events(runtime: Runtime, subject_id: str) -> list[audit.AuditEvent]:
    with runtime.database.read() as connection:
        return audit.read(connection, AuditFilter(subject_id=subject_id, limit=1000))


def test_an_effect_cut_off_after_verification_is_applied_by_a_runner(
    runtime: Runtime, outbox: Outbox, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The verifying process dies between committing VERIFIED and applying the objection: the
    job queued in the same transaction applies it once due, exactly once."""
    subject = runtime.subjects.find_or_create(ANN, actor="test")
    request = runtime.requests.submit("objection", ANN, details={"scopes": ["fraud_prevention"]})
    with monkeypatch.context() as patched:
        patched.setattr(type(runtime.requests), "_carry_out_now", lambda *_: None)
        runtime.requests.verify(request.id, code_for(outbox))
    assert runtime.requests.get(request.id).state is RequestState.VERIFIED
    assert runtime.runner().run_until_idle() == 0  # the verifying process's grace period
    clock.advance(minutes=1)
    assert runtime.runner().run_until_idle() == 1
    assert runtime.requests.get(request.id).state is RequestState.COMPLETED
    assert not runtime.decider.may_process(subject, "fraud_prevention").allowed
    assert len(runtime.objections.standing(subject)) == 1
    assert runtime.runner().run_until_idle() == 0


def test_a_limit_on_sensitive_information_takes_effect_at_once(
    runtime: Runtime, outbox: Outbox, clock: Clock
) -> None:
    """CCPA 1798.121: the person's health data leave the purposes that declare no permitted
    use at once, audited; a grant given after the limit is consent to that use again."""
    subject = runtime.subjects.find_or_create(ANN, actor="test")
    for purpose in ("fitness_insights", "analytics"):
        runtime.ledger.grant(subject, purpose, channel="form", actor="test")
    assert runtime.decider.may_process(subject, "fitness_insights").allowed
    clock.advance(minutes=1)
    request = runtime.requests.submit("limit_sensitive", ANN)
    done = runtime.requests.verify(request.id, code_for(outbox))
    assert done.state is RequestState.COMPLETED
    denied = runtime.decider.may_process(subject, "fitness_insights")
    assert (denied.allowed, denied.rule) == (False, "sensitive_use_limited")
    assert "CCPA 1798.121(a)" in denied.reason
    assert runtime.decider.may_process(subject, "analytics").allowed  # nothing sensitive
    assert [item.scope for item in runtime.objections.standing(subject)] == ["limit_sensitive"]
    events = _events(runtime, subject)
    recorded = [event for event in events if event.action == "objection.recorded"]
    assert recorded[-1].details["scope"] == "limit_sensitive"
    completed = [event for event in events if event.action.endswith("completed")]
    assert completed[-1].details["limited_purposes"] == ["fitness_insights"]
    clock.advance(minutes=1)
    runtime.ledger.withdraw(subject, "fitness_insights", channel="form", actor="test")
    runtime.ledger.grant(subject, "fitness_insights", channel="form", actor="test")
    assert runtime.decider.may_process(subject, "fitness_insights").allowed
