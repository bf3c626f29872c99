"""The consent ledger on a real SQLite store: recording, state, history, receipts, GPC, Art. 8."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import func, select
from tests.conftest import revise
from tests.integration.conftest import CONSENT_DECLARATION

from pledge import loads
from pledge.consent.model import (
    Channel,
    ConsentDecision,
    Evidence,
    gpc_signal,
    notice_hash,
    notice_text,
    truncate_ip,
)
from pledge.consent.proof import verify
from pledge.consent.receipt import RECEIPT_VERSION
from pledge.consent.service import ConsentLedger
from pledge.declaration import Declaration
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditFilter
from pledge.enforcement.decisions import Decider
from pledge.enforcement.objections import Objections
from pledge.errors import ConsentError, NotFound, UsageError
from pledge.store.database import Database
from pledge.store.tables import consent_events, consent_heads
from pledge.subjects.model import Identity
from pledge.subjects.service import Subjects


@pytest.fixture
def database(store: Database) -> Database:
    """These tests run on SQLite and on PostgreSQL (see ``tests/backends.py``)."""
    return store


def new_subject(subjects: Subjects, name: str = "ann") -> str:
    """A new subject known by an account id."""
    return subjects.create([Identity.parse("account", name)], actor="test")


def count_events(database: Database) -> int:
    """How many consent events are stored."""
    with database.read() as connection:
        return int(connection.execute(select(func.count()).select_from(consent_events)).scalar())


# --- recording -----------------------------------------------------------------------------------


def test_granting_withdrawing_and_refusing_each_append_one_event(
    ledger: ConsentLedger, subjects: Subjects
) -> None:
    """Each decision is one call and one event, chained to the one before."""
    ann = new_subject(subjects)
    granted = ledger.grant(ann, "newsletter", channel="form", actor="signup")
    withdrawn = ledger.withdraw(ann, "newsletter", channel="form", actor="settings")
    refused = ledger.refuse(ann, "analytics", channel=Channel.BANNER, actor="banner")
    assert [granted.seq, withdrawn.seq, refused.seq] == [1, 2, 3]
    assert withdrawn.prev_hash == granted.hash and refused.prev_hash == withdrawn.hash
    assert [granted.decision, withdrawn.decision, refused.decision] == [
        ConsentDecision.GRANTED,
        ConsentDecision.WITHDRAWN,
        ConsentDecision.REFUSED,
    ]


def test_an_event_records_the_declaration_and_notice_shown(
    ledger: ConsentLedger, subjects: Subjects, declaration: Declaration
) -> None:
    """Version, digest and notice hash are stored so the consent can be demonstrated (Art. 7(1))."""
    event = ledger.grant(new_subject(subjects), "newsletter", channel="api", actor="crm")
    assert event.declaration_version == "3.0"
    assert event.declaration_digest == declaration.digest
    assert event.notice_hash == notice_hash(declaration, "newsletter")
    assert event.channel is Channel.API and event.actor == "crm"


def test_a_notice_hash_given_by_the_caller_is_kept(
    ledger: ConsentLedger, subjects: Subjects
) -> None:
    """The banner may have shown an earlier notice; the hash of what it showed is stored."""
    shown = hashlib.sha256(b"the notice of last year").hexdigest()
    event = ledger.grant(
        new_subject(subjects), "newsletter", channel="banner", actor="b", notice_hash=shown
    )
    assert event.notice_hash == shown


def test_a_purpose_on_another_legal_basis_takes_no_consent(
    ledger: ConsentLedger, subjects: Subjects, database: Database
) -> None:
    """Consent for a contract or legitimate-interests purpose is an error that names the basis."""
    ann = new_subject(subjects)
    with pytest.raises(ConsentError, match="'provide_service' is based on contract, not consent"):
        ledger.grant(ann, "provide_service", channel="api", actor="crm")
    with pytest.raises(ConsentError, match="legitimate_interests"):
        ledger.withdraw(ann, "fraud_prevention", channel="api", actor="crm")
    assert count_events(database) == 0


def test_an_undeclared_purpose_is_not_found(ledger: ConsentLedger, subjects: Subjects) -> None:
    """A purpose the declaration does not have cannot be consented to."""
    with pytest.raises(NotFound, match="no purpose 'telepathy'"):
        ledger.grant(new_subject(subjects), "telepathy", channel="api", actor="crm")


def test_an_unknown_or_erased_subject_is_not_found(
    ledger: ConsentLedger, subjects: Subjects, database: Database
) -> None:
    """Consent is recorded only for subjects Pledge knows and has not erased."""
    with pytest.raises(NotFound, match="no subject"):
        ledger.grant("0" * 26, "newsletter", channel="api", actor="crm")
    ann = new_subject(subjects)
    subjects.erase(ann, actor="test")
    with pytest.raises(NotFound, match="erased"):
        ledger.grant(ann, "newsletter", channel="api", actor="crm")
    assert count_events(database) == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"channel": "fax", "actor": "crm"}, "channel must be one of"),
        ({"channel": "api", "actor": ""}, "actor must be"),
        ({"channel": "api", "actor": "x" * 101}, "actor must be"),
        ({"channel": "api", "actor": "crm", "notice_hash": "abc"}, "notice_hash"),
    ],
)
def test_malformed_arguments_are_refused_and_nothing_is_written(
    ledger: ConsentLedger,
    subjects: Subjects,
    database: Database,
    options: dict[str, str],
    message: str,
) -> None:
    """A bad channel, actor or notice hash is a clear error, not a half-written event."""
    with pytest.raises(ConsentError, match=message):
        ledger.grant(new_subject(subjects), "newsletter", **options)
    assert count_events(database) == 0


def test_decisions_recorded_together_are_written_in_order_in_one_transaction(
    ledger: ConsentLedger, subjects: Subjects
) -> None:
    """A form's choices take consecutive places in the chain, at one moment."""
    ann = new_subject(subjects)
    commands = [
        ledger.check(ann, "newsletter", "granted", channel="form", actor="signup"),
        ledger.check(ann, "analytics", "refused", channel="form", actor="signup"),
    ]
    events = ledger.record_commands(commands)
    assert [(event.purpose, event.decision, event.seq) for event in events] == [
        ("newsletter", ConsentDecision.GRANTED, 1),
        ("analytics", ConsentDecision.REFUSED, 2),
    ]
    assert events[1].prev_hash == events[0].hash
    assert len({event.occurred_at for event in events}) == 1
    assert set(ledger.state(ann)) == {"newsletter", "analytics"}


@pytest.mark.parametrize("in_callers_transaction", [False, True])
def test_one_refused_decision_of_several_recorded_together_writes_none_of_them(
    ledger: ConsentLedger, subjects: Subjects, database: Database, in_callers_transaction: bool
) -> None:
    """A child's grant without the guardian fails the whole unit, not just itself."""
    child, _ = make_child(subjects)
    commands = [
        ledger.check(child, "analytics", "refused", channel="form", actor="signup"),
        ledger.check(child, "newsletter", "granted", channel="form", actor="signup"),
    ]
    with pytest.raises(ConsentError, match="too young to consent alone"):
        if in_callers_transaction:
            with database.transaction() as connection:
                ledger.record_commands(commands, connection=connection)
        else:
            ledger.record_commands(commands)
    assert ledger.state(child) == {}
    assert count_events(database) == 0


def test_recording_no_decision_is_a_usage_error(ledger: ConsentLedger) -> None:
    """An empty unit is a mistake of the caller, not a transaction that writes nothing."""
    with pytest.raises(UsageError, match="no consent decision"):
        ledger.record_commands([])


def test_a_decision_is_audited_in_the_same_transaction(
    ledger: ConsentLedger, subjects: Subjects, database: Database
) -> None:
    """Each change leaves a consent.<decision> audit event naming the subject and purpose."""
    ann = new_subject(subjects)
    event = ledger.withdraw(ann, "analytics", channel="form", actor="settings")
    with database.read() as connection:
        found = audit.read(connection, AuditFilter(subject_id=ann, action="consent.withdrawn"))
    assert len(found) == 1
    assert found[0].purpose == "analytics" and found[0].actor == "settings"
    assert found[0].details["event_id"] == event.id


def test_a_change_is_announced_after_it_is_committed(
    database: Database, declaration: Declaration, subjects: Subjects
) -> None:
    """on_change hears of a change once it is stored, and never of one rolled back."""
    heard: list[str] = []
    ledger = ConsentLedger(database, declaration, subjects, on_change=heard.append)
    ann = new_subject(subjects)
    ledger.grant(ann, "newsletter", channel="api", actor="crm")
    assert heard == [ann]
    with pytest.raises(RuntimeError), database.transaction() as connection:
        ledger.grant(ann, "analytics", channel="api", actor="crm", connection=connection)
        raise RuntimeError("the caller's transaction fails")
    assert heard == [ann]
    assert "analytics" not in ledger.state(ann)
    with database.transaction() as connection:
        ledger.grant(ann, "analytics", channel="api", actor="crm", connection=connection)
        assert heard == [ann]
    assert heard == [ann, ann]


def test_a_failing_listener_does_not_undo_a_recorded_decision(
    database: Database, declaration: Declaration, subjects: Subjects
) -> None:
    """The decision is committed: a broken cache listener must not make it look failed."""

    def broken(subject_id: str) -> None:
        raise RuntimeError("cache down")

    ledger = ConsentLedger(database, declaration, subjects, on_change=broken)
    ann = new_subject(subjects)
    ledger.grant(ann, "newsletter", channel="api", actor="crm")
    assert ledger.state(ann)["newsletter"].granted


# --- state and history ---------------------------------------------------------------------------


def test_the_state_is_the_last_decision_per_purpose(
    ledger: ConsentLedger, subjects: Subjects
) -> None:
    """The materialised state answers with the latest decision of each purpose."""
    ann = new_subject(subjects)
    ledger.grant(ann, "newsletter", channel="form", actor="t")
    ledger.grant(ann, "analytics", channel="form", actor="t")
    last = ledger.withdraw(ann, "newsletter", channel="form", actor="t")
    state = ledger.state(ann)
    assert set(state) == {"newsletter", "analytics"}
    assert state["newsletter"].decision is ConsentDecision.WITHDRAWN
    assert state["newsletter"].event_id == last.id and not state["newsletter"].granted
    assert state["analytics"].granted


def test_the_state_of_an_unknown_subject_is_not_found(ledger: ConsentLedger) -> None:
    """Asking about a subject that does not exist is an error, not an empty answer."""
    with pytest.raises(NotFound):
        ledger.state("0" * 26)


def test_history_lists_every_decision_oldest_first(
    ledger: ConsentLedger, subjects: Subjects
) -> None:
    """History is the whole chain, or one purpose of it, and can be paged."""
    ann = new_subject(subjects)
    ledger.grant(ann, "newsletter", channel="form", actor="t")
    ledger.refuse(ann, "analytics", channel="banner", actor="t")
    ledger.withdraw(ann, "newsletter", channel="form", actor="t")
    everything = ledger.history(ann)
    assert [(event.seq, event.purpose) for event in everything] == [
        (1, "newsletter"),
        (2, "analytics"),
        (3, "newsletter"),
    ]
    assert [event.seq for event in ledger.history(ann, "newsletter")] == [1, 3]
    assert [event.seq for event in ledger.history(ann, after_seq=1, limit=1)] == [2]


# --- evidence ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kept"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        (" 198.51.100.1 ", "198.51.100.0/24"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::/48"),
        ("::ffff:192.0.2.99", "192.0.2.0/24"),
        ("10.0.0.0/8", "10.0.0.0/8"),
    ],
)
def test_evidence_keeps_only_the_network_of_an_ip_address(address: str, kept: str) -> None:
    """IPv4 addresses are cut to /24 and IPv6 to /48 when the evidence is made."""
    assert Evidence(ip=address).ip == kept
    assert truncate_ip(address) == kept


def test_evidence_refuses_what_is_not_an_ip_address() -> None:
    """A malformed address is a clear error."""
    with pytest.raises(ConsentError, match="not an IP address"):
        Evidence(ip="localhost")


def test_evidence_is_stored_encrypted_and_read_back(
    ledger: ConsentLedger, subjects: Subjects, database: Database
) -> None:
    """The stored evidence is ciphertext; history decrypts it with the subject's key."""
    ann = new_subject(subjects)
    evidence = Evidence(ip="203.0.113.77", user_agent="Firefox/140")
    ledger.grant(ann, "newsletter", channel="banner", actor="b", evidence=evidence)
    with database.read() as connection:
        stored = connection.execute(select(consent_events.c.evidence_encrypted)).scalar_one()
    assert b"203.0.113" not in stored and b"Firefox" not in stored
    assert ledger.history(ann)[0].evidence == Evidence(ip="203.0.113.0", user_agent="Firefox/140")


def test_erasing_a_subject_makes_its_evidence_unreadable_but_its_chain_still_verifies(
    ledger: ConsentLedger, subjects: Subjects, database: Database
) -> None:
    """Crypto-shredding destroys the evidence, not the proof: every hash still recomputes."""
    ann = new_subject(subjects)
    evidence = Evidence(ip="2001:db8::1", user_agent="Safari")
    ledger.grant(ann, "newsletter", channel="form", actor="f", evidence=evidence)
    ledger.withdraw(ann, "newsletter", channel="form", actor="f", evidence=evidence)
    subjects.erase(ann, actor="dpo")
    history = ledger.history(ann)
    assert len(history) == 2 and all(event.evidence is None for event in history)
    report = verify(database)
    assert report.ok, report.problems


# --- receipts ------------------------------------------------------------------------------------


KANTARA_FIELDS = {
    "version",
    "jurisdiction",
    "consentTimestamp",
    "collectionMethod",
    "consentReceiptID",
    "language",
    "piiPrincipalId",
    "piiControllers",
    "policyUrl",
    "services",
    "sensitive",
    "spiCat",
}
KANTARA_PURPOSE_FIELDS = {
    "purpose",
    "purposeCategory",
    "consentType",
    "piiCategory",
    "primaryPurpose",
    "termination",
    "thirdPartyDisclosure",
    "thirdPartyName",
}


def test_a_receipt_uses_the_kantara_field_names(ledger: ConsentLedger, subjects: Subjects) -> None:
    """The receipt carries the Consent Receipt v1.1 fields, for the purposes consented to."""
    ann = new_subject(subjects)
    event = ledger.grant(ann, "personalised_ads", channel="banner", actor="b")
    ledger.grant(ann, "fitness_insights", channel="form", actor="f")
    ledger.refuse(ann, "analytics", channel="banner", actor="b")
    receipt = ledger.receipt(ann)
    assert set(receipt) == KANTARA_FIELDS
    assert receipt["version"] == RECEIPT_VERSION == "KI-CR-v1.1.0"
    assert receipt["jurisdiction"] == "DE" and receipt["language"] == "en"
    assert receipt["piiPrincipalId"] == ann
    assert receipt["policyUrl"] == "https://acme.example/privacy"
    assert receipt["consentTimestamp"] >= int(event.occurred_at.timestamp())
    assert receipt["collectionMethod"] == "web form"
    assert receipt["piiControllers"] == [
        {
            "piiController": "Acme Cloud GmbH",
            "contact": "Dana Schmidt",
            "address": "Hauptstraße 1, 10115 Berlin",
            "email": "privacy@acme.example",
            "phone": "+49 30 1234567",
        }
    ]
    [service] = receipt["services"]
    purposes = {purpose["purposeCategory"][0]: purpose for purpose in service["purposes"]}
    assert set(purposes) == {"personalised_ads", "fitness_insights"}  # not the refusal
    ads = purposes["personalised_ads"]
    assert set(ads) == KANTARA_PURPOSE_FIELDS
    assert ads["purpose"] == "Personalised advertising"
    assert ads["consentType"] == "EXPLICIT" and ads["primaryPurpose"] is False
    assert ads["thirdPartyDisclosure"] is True and ads["thirdPartyName"] == "AdNet Ltd."
    assert "withdraw" in ads["termination"]
    assert receipt["sensitive"] is True and receipt["spiCat"] == ["Fitness data"]


def test_a_receipt_id_changes_with_the_state_and_only_then(
    ledger: ConsentLedger, subjects: Subjects
) -> None:
    """The same chain head gives the same receipt id; a new decision gives a new one."""
    ann = new_subject(subjects)
    ledger.grant(ann, "newsletter", channel="form", actor="f")
    first = ledger.receipt(ann)
    assert ledger.receipt(ann)["consentReceiptID"] == first["consentReceiptID"]
    ledger.withdraw(ann, "newsletter", channel="form", actor="f")
    after = ledger.receipt(ann)
    assert after["consentReceiptID"] != first["consentReceiptID"]
    assert after["services"] == []


# --- notices -------------------------------------------------------------------------------------


def test_the_notice_text_names_label_description_data_and_retention(
    declaration: Declaration,
) -> None:
    """The text a person agrees to is built from the declaration, the same every time."""
    text = notice_text(declaration, "newsletter")
    assert text == (
        "Purpose: Newsletter\n"
        "Monthly news about our products.\n"
        "Data used: Email address\n"
        "Kept: 1 year after you withdraw your consent"
    )
    assert notice_text(declaration, "newsletter") == text
    assert notice_hash(declaration, "newsletter") == hashlib.sha256(text.encode()).hexdigest()
    assert notice_hash(declaration, "analytics") != notice_hash(declaration, "newsletter")


# --- Global Privacy Control ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "signal"),
    [
        ({"Sec-GPC": "1"}, True),
        ({"sec-gpc": "1"}, True),
        ({"SEC-GPC": "1"}, True),
        ({"Sec-GPC": " 1"}, False),
        ({"Sec-GPC": "1 "}, False),
        ({"Sec-GPC": "true"}, False),
        ({"Sec-GPC": "0"}, False),
        ({"Sec-GPC": ""}, False),
        ({"Sec-GPC": "11"}, False),
        ({"Sec-GPC": "１"}, False),  # a full-width digit one
        ({"DNT": "1"}, False),
        ({}, False),
    ],
)
def test_only_sec_gpc_exactly_1_is_a_signal(headers: dict[str, str], signal: bool) -> None:
    """The header name is case-insensitive; the value must be exactly "1"."""
    assert gpc_signal(headers) is signal


def test_gpc_withdraws_grants_and_refuses_the_undecided_sale_and_advertising_purposes(
    ledger: ConsentLedger, subjects: Subjects
) -> None:
    """Granted → withdrawn, never decided → refused, all with channel gpc; others untouched."""
    ann = new_subject(subjects)
    ledger.grant(ann, "personalised_ads", channel="banner", actor="b")
    ledger.grant(ann, "newsletter", channel="form", actor="f")
    events = ledger.apply_gpc(ann, actor="browser", evidence=Evidence(ip="192.0.2.1"))
    assert {(event.purpose, event.decision) for event in events} == {
        ("personalised_ads", ConsentDecision.WITHDRAWN),
        ("partner_sharing", ConsentDecision.REFUSED),
    }
    assert all(event.channel is Channel.GPC for event in events)
    state = ledger.state(ann)
    assert state["newsletter"].granted
    assert not state["personalised_ads"].granted and not state["partner_sharing"].granted


def test_gpc_a_second_time_changes_nothing(ledger: ConsentLedger, subjects: Subjects) -> None:
    """Purposes already withdrawn or refused are left alone."""
    ann = new_subject(subjects)
    ledger.apply_gpc(ann, actor="browser")
    assert ledger.apply_gpc(ann, actor="browser") == []
    assert len(ledger.history(ann)) == 2


def test_gpc_applies_only_in_the_configured_jurisdictions(
    database: Database, declaration: Declaration, subjects: Subjects
) -> None:
    """With PLEDGE_GPC_JURISDICTIONS=US-CA a signal from elsewhere records nothing."""
    ledger = ConsentLedger(database, declaration, subjects, gpc_jurisdictions=("US-CA",))
    assert ledger.gpc_applies("US-CA") and ledger.gpc_applies("us-ca")
    assert not ledger.gpc_applies("DE") and not ledger.gpc_applies(None)
    ann = new_subject(subjects)
    assert ledger.apply_gpc(ann, jurisdiction="DE", actor="browser") == []
    assert len(ledger.apply_gpc(ann, jurisdiction="US-CA", actor="browser")) == 2
    country = ConsentLedger(database, declaration, subjects, gpc_jurisdictions=("US",))
    assert country.gpc_applies("US-CO") and not country.gpc_applies("USA")
    everywhere = ConsentLedger(database, declaration, subjects, gpc_jurisdictions=("*",))
    assert everywhere.gpc_applies(None) and everywhere.gpc_applies("FR")


GPC_DECLARATION = revise(
    CONSENT_DECLARATION,
    (
        "  partner_sharing:\n",
        "  lookalike_audiences:\n"
        "    legal_basis: legitimate_interests\n"
        "    legitimate_interest: Finding customers like ours on ad networks.\n"
        "    sale_or_sharing: true\n"
        "    categories: [contact.email]\n"
        "    retention: P6M\n"
        "  partner_sharing:\n",
    ),
)
"""The consent declaration plus ``lookalike_audiences``: sharing on legitimate interests."""


def test_gpc_objects_to_sale_and_sharing_that_does_not_rest_on_consent(
    database: Database, subjects: Subjects
) -> None:
    """A legitimate-interests purpose that shares data gets an objection, channel gpc."""
    declaration = loads(GPC_DECLARATION)
    ledger = ConsentLedger(database, declaration, subjects)
    decider = Decider(database, declaration, cache_seconds=60)
    ledger.on_change = decider.invalidate
    ann = new_subject(subjects)
    try:
        assert decider.may_process(ann, "lookalike_audiences").allowed
        events = ledger.apply_gpc(ann, actor="browser")
        assert {event.purpose for event in events} == {"personalised_ads", "partner_sharing"}
        standing = Objections(database, declaration).standing(ann)
        assert [objection.scope for objection in standing] == ["lookalike_audiences"]
        with database.read() as connection:
            recorded = audit.read(
                connection, AuditFilter(subject_id=ann, action="objection.recorded")
            )
        assert [event.details for event in recorded] == [
            {"scope": "lookalike_audiences", "channel": "gpc"}
        ]
        denied = decider.may_process(ann, "lookalike_audiences")  # the cache was told
        assert not denied.allowed and denied.rule == "opted_out"
        assert "CCPA 1798.120" in denied.reason
        assert ledger.apply_gpc(ann, actor="browser") == []  # a second signal: nothing new
        assert len(Objections(database, declaration).standing(ann)) == 1
    finally:
        ledger.close()
        decider.close()


def test_gpc_for_an_erased_subject_writes_nothing(database: Database, subjects: Subjects) -> None:
    """Even when only objections would be recorded, the subject must exist and not be erased."""
    declaration = loads(GPC_DECLARATION)
    ledger = ConsentLedger(database, declaration, subjects)
    objections = Objections(database, declaration)
    ann = new_subject(subjects)
    try:
        ledger.apply_gpc(ann, actor="browser")  # every consent purpose decided now
        objections.lift(ann, "lookalike_audiences", actor="test")
        subjects.erase(ann, actor="test")
        with pytest.raises(NotFound, match="erased"):
            ledger.apply_gpc(ann, actor="browser")
        with pytest.raises(NotFound, match="no subject"):
            ledger.apply_gpc("0" * 26, actor="browser")
        assert objections.standing(ann) == []
    finally:
        ledger.close()


# --- how long consent lasts (consent_max_age) ----------------------------------------------------


def test_the_state_says_when_a_grant_expires(database: Database, subjects: Subjects) -> None:
    """A grant of a purpose with consent_max_age expires that long after it was recorded."""
    declaration = loads(
        revise(
            CONSENT_DECLARATION,
            ("    retention: P13M\n", "    retention: P13M\n    consent_max_age: P1Y\n"),
        )
    )
    granted_at = dt.datetime(2026, 2, 28, 9, 30, tzinfo=dt.UTC)
    ledger = ConsentLedger(database, declaration, subjects, clock=lambda: granted_at)
    ann = new_subject(subjects)
    try:
        ledger.grant(ann, "analytics", channel="banner", actor="b")
        ledger.grant(ann, "newsletter", channel="form", actor="f")
        state = ledger.state(ann)
        assert ledger.expires_at(state["analytics"]) == dt.datetime(
            2027, 2, 28, 9, 30, tzinfo=dt.UTC
        )
        assert ledger.expires_at(state["newsletter"]) is None  # no maximum age declared
        ledger.withdraw(ann, "analytics", channel="banner", actor="b")
        assert ledger.expires_at(ledger.state(ann)["analytics"]) is None  # not a grant
        termination = ledger.receipt(ann)["services"][0]["purposes"][0]["termination"]
        assert "we then ask again" not in termination  # newsletter, granted, does not expire
        ledger.grant(ann, "analytics", channel="banner", actor="b")
        purposes = ledger.receipt(ann)["services"][0]["purposes"]
        analytics = next(item for item in purposes if item["purposeCategory"] == ["analytics"])
        assert "Your consent lasts 1 year; we then ask again." in analytics["termination"]
    finally:
        ledger.close()


# --- parental consent (GDPR Art. 8) --------------------------------------------------------------


def make_child(subjects: Subjects) -> tuple[str, str]:
    """A child who may consent alone only in a year, and its recorded guardian."""
    parent = new_subject(subjects, "parent")
    child = new_subject(subjects, "child")
    subjects.set_consent_age(
        child,
        consent_age_from=dt.datetime.now(dt.UTC) + dt.timedelta(days=365),
        guardian_id=parent,
        actor="test",
    )
    return child, parent


def test_a_child_cannot_grant_consent_alone(
    ledger: ConsentLedger, subjects: Subjects, database: Database
) -> None:
    """A grant for a subject below the age of consent without its guardian is refused."""
    child, _ = make_child(subjects)
    with pytest.raises(ConsentError, match="too young to consent alone"):
        ledger.grant(child, "newsletter", channel="form", actor="child")
    assert count_events(database) == 0


def test_only_the_recorded_guardian_can_grant_for_a_child(
    ledger: ConsentLedger, subjects: Subjects
) -> None:
    """Another subject posing as guardian is refused."""
    child, _ = make_child(subjects)
    stranger = new_subject(subjects, "stranger")
    with pytest.raises(ConsentError, match="not the recorded guardian"):
        ledger.grant(child, "newsletter", channel="form", actor="x", guardian_id=stranger)


def test_the_guardians_grant_is_recorded_on_the_event_and_the_state(
    ledger: ConsentLedger, subjects: Subjects
) -> None:
    """The parental consent record links guardian and child."""
    child, parent = make_child(subjects)
    event = ledger.grant(child, "newsletter", channel="form", actor="parent", guardian_id=parent)
    assert event.guardian_id == parent
    assert ledger.state(child)["newsletter"].guardian_id == parent


def test_a_child_may_withdraw_or_refuse_without_the_guardian(
    ledger: ConsentLedger, subjects: Subjects
) -> None:
    """Saying no never needs a grown-up."""
    child, parent = make_child(subjects)
    ledger.grant(child, "newsletter", channel="form", actor="parent", guardian_id=parent)
    assert ledger.withdraw(child, "newsletter", channel="form", actor="child").seq == 2
    assert ledger.refuse(child, "analytics", channel="banner", actor="child").seq == 3


def test_an_adult_grants_alone(ledger: ConsentLedger, subjects: Subjects) -> None:
    """Once the age of consent is reached no guardian is needed."""
    adult = new_subject(subjects, "adult")
    subjects.set_consent_age(
        adult,
        consent_age_from=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
        guardian_id=None,
        actor="test",
    )
    assert ledger.grant(adult, "newsletter", channel="form", actor="adult").guardian_id is None


# --- the head row --------------------------------------------------------------------------------


def test_the_head_row_follows_the_chain(
    ledger: ConsentLedger, subjects: Subjects, database: Database
) -> None:
    """consent_heads holds the seq and hash of each subject's last event."""
    ann = new_subject(subjects)
    ledger.grant(ann, "newsletter", channel="form", actor="f")
    last = ledger.withdraw(ann, "newsletter", channel="form", actor="f")
    with database.read() as connection:
        head = connection.execute(
            select(consent_heads.c.seq, consent_heads.c.hash).where(
                consent_heads.c.subject_id == ann
            )
        ).one()
    assert (head.seq, head.hash) == (2, last.hash)


def test_the_history_of_an_unknown_subject_is_not_found(ledger: ConsentLedger) -> None:
    """An empty history means no decisions yet, never a subject that does not exist."""
    with pytest.raises(NotFound):
        ledger.history("0" * 26)


def test_a_repeated_sec_gpc_header_signals_only_if_every_copy_says_1() -> None:
    """Framework header mappings keep duplicates; a contradicting copy is no signal."""
    from starlette.datastructures import Headers

    assert gpc_signal(Headers(raw=[(b"sec-gpc", b"1"), (b"sec-gpc", b"1")]))
    assert not gpc_signal(Headers(raw=[(b"sec-gpc", b"1"), (b"sec-gpc", b"0")]))
