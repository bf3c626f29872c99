"""The Python SDK end to end: a company's code opening Pledge on its pledge.yaml and a SQLite
file, recording consent and asking before it processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.conftest import CLEAN_DECLARATION

from pledge import Decision, Pledge, ProcessingDenied
from pledge.config import generate_key
from pledge.consent.proof import verify
from pledge.errors import ConfigError, ConsentError, UsageError
from pledge.store.tables import audit_events


@pytest.fixture
def declaration_file(tmp_path: Path) -> Path:
    """The company's pledge.yaml."""
    path = tmp_path / "pledge.yaml"
    path.write_text(CLEAN_DECLARATION, encoding="utf-8")
    return path


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Where Pledge keeps its own records."""
    return f"sqlite:///{tmp_path / 'state' / 'pledge.db'}"


@pytest.fixture
def secret_key() -> str:
    """The company's master key, as base64 text."""
    return generate_key()


def test_a_newsletter_runs_only_while_consent_stands(
    declaration_file: Path, database_url: str, secret_key: str
) -> None:
    """Sign-up, consent, a send, withdrawal, a refused send; all of it in the audit trail."""
    sent: list[str] = []
    with Pledge.open(declaration_file, database_url, secret_key=secret_key) as pledge:
        ann = pledge.subject(email=" Ann@Example.COM ")
        assert pledge.subject(email="ann@example.com") == ann

        pledge.grant(
            ann, "newsletter", channel="form", evidence={"ip": "203.0.113.7", "user_agent": "UA"}
        )
        with pledge.processing(ann, "newsletter", ["contact.email"]) as decision:
            sent.append(ann)
        assert decision.allowed and decision.legal_basis == "consent"

        pledge.withdraw(ann, "newsletter", channel="form")
        with (
            pytest.raises(ProcessingDenied, match="consent to newsletter was withdrawn") as denied,
            pledge.processing(ann, "newsletter"),
        ):
            sent.append(ann)
        assert isinstance(denied.value.decision, Decision)
        assert denied.value.decision.rule == "consent_withdrawn"
        assert sent == [ann]
        assert pledge.consents(ann)["newsletter"].decision == "withdrawn"

    with Pledge.open(declaration_file, database_url, secret_key=secret_key) as reopened:
        assert reopened.subject(email="ann@example.com") == ann, "the same key finds Ann again"
        assert not reopened.may_process(ann, "newsletter")
        database = reopened.runtime.database
        with database.read() as connection:
            decisions = connection.execute(
                select(func.count()).where(audit_events.c.action == "decision")
            ).scalar_one()
        assert decisions == 2, "both decisions were flushed when the first Pledge closed"
    assert verify(database).ok


def test_a_decorated_function_runs_only_with_consent(
    declaration_file: Path, database_url: str, secret_key: str
) -> None:
    """@requires checks the subject id given first, by position or by name."""
    with Pledge.open(declaration_file, database_url, secret_key=secret_key) as pledge:
        tracked: list[str] = []

        @pledge.requires("analytics", ["usage.pages"])
        def track(subject_id: str, page: str) -> str:
            """Record a page view."""
            tracked.append(page)
            return page

        ann = pledge.subject(account="acct-1")
        with pytest.raises(ProcessingDenied, match="no consent to analytics"):
            track(ann, "/pricing")
        pledge.grant(ann, "analytics", channel="banner")
        assert track(ann, "/pricing") == "/pricing"
        assert track(subject_id=ann, page="/docs") == "/docs"
        assert tracked == ["/pricing", "/docs"]
        assert track.__name__ == "track" and track.__doc__ == "Record a page view."


def test_a_decorated_coroutine_is_checked_before_it_runs(
    declaration_file: Path, database_url: str, secret_key: str
) -> None:
    """Async code gets the same guard."""
    with Pledge.open(declaration_file, database_url, secret_key=secret_key) as pledge:

        @pledge.requires("newsletter")
        async def send(subject_id: str) -> str:
            return "sent"

        ann = pledge.subject(email="ann@example.com")
        with pytest.raises(ProcessingDenied):
            asyncio.run(send(ann))
        pledge.grant(ann, "newsletter")
        assert asyncio.run(send(ann)) == "sent"


def test_objections_restrictions_and_disclosures_through_the_sdk(
    declaration_file: Path, database_url: str, secret_key: str
) -> None:
    """A marketing objection beats consent; a restriction stops everything until lifted."""
    with Pledge.open(
        declaration_file, database_url, secret_key=secret_key, log_mode="sync"
    ) as pledge:
        ann = pledge.subject(email="ann@example.com", phone="+49 30 1234567")
        assert pledge.subject(phone="+49301234567") == ann
        pledge.grant(ann, "newsletter")
        assert pledge.may_disclose(ann, "mailer", ["contact.email"], "newsletter")

        objection = pledge.object(ann, "direct_marketing")
        assert objection.scope == "direct_marketing"
        assert not pledge.may_process(ann, "newsletter")
        assert not pledge.may_disclose(ann, "mailer")
        pledge.lift_objection(ann, "direct_marketing")
        assert pledge.may_process(ann, "newsletter")

        pledge.restrict(ann, reason="accuracy contested")
        assert pledge.may_process(ann, "provide_service").rule == "restricted"
        pledge.lift_restriction(ann)
        assert pledge.may_process(ann, "provide_service")

        pledge.erase(ann)
        assert pledge.may_process(ann, "provide_service").rule == "erased"


def test_identities_are_checked(declaration_file: Path, database_url: str, secret_key: str) -> None:
    """No identity, a malformed one, or two that belong to different people: a clear error."""
    with Pledge.open(declaration_file, database_url, secret_key=secret_key) as pledge:
        with pytest.raises(UsageError, match="name the subject"):
            pledge.subject()
        with pytest.raises(UsageError, match="not an e-mail address"):
            pledge.subject(email="ann at example")
        pledge.subject(email="ann@example.com")
        pledge.subject(email="bob@example.com")
        pledge.subject(email="ann@example.com", account="x")  # Ann's account, attached
        with pytest.raises(UsageError, match="different subjects"):
            pledge.subject(email="bob@example.com", account="x")


def test_the_key_comes_from_the_environment_when_not_given(
    declaration_file: Path,
    database_url: str,
    secret_key: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """PLEDGE_SECRET_KEY is used; without it, development mode generates a key file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLEDGE_SECRET_KEY", secret_key)
    with Pledge.open(declaration_file, database_url) as pledge:
        ann = pledge.subject(email="ann@example.com")
    with Pledge.open(declaration_file, database_url, secret_key=secret_key) as pledge:
        assert pledge.subject(email="ann@example.com") == ann
    monkeypatch.delenv("PLEDGE_SECRET_KEY")
    monkeypatch.setenv("PLEDGE_ENV", "development")
    with Pledge.open(declaration_file, f"sqlite:///{tmp_path / 'dev.db'}") as pledge:
        pledge.subject(email="ann@example.com")
    assert (tmp_path / ".pledge" / "secret.key").exists()


def test_an_unsafe_key_is_refused(declaration_file: Path, database_url: str) -> None:
    """A placeholder or a short key never opens Pledge."""
    with pytest.raises(ConfigError, match="placeholder"):
        Pledge.open(declaration_file, database_url, secret_key="changeme")
    with pytest.raises(ConfigError, match="32 bytes"):
        Pledge.open(declaration_file, database_url, secret_key=b"too short")


def test_a_forms_choices_are_recorded_together_or_not_at_all(
    declaration_file: Path, database_url: str, secret_key: str
) -> None:
    """record_choices writes one event per choice in order; a bad one writes none."""
    with Pledge.open(declaration_file, database_url, secret_key=secret_key) as pledge:
        ann = pledge.subject(email="ann@example.com")
        events = pledge.record_choices(ann, {"newsletter": "granted", "analytics": "refused"})
        assert [(event.purpose, event.decision, event.seq) for event in events] == [
            ("newsletter", "granted", 1),
            ("analytics", "refused", 2),
        ]
        assert all(event.channel == "form" for event in events)
        with pytest.raises(ConsentError, match="provide_service"):
            pledge.record_choices(ann, {"analytics": "granted", "provide_service": "granted"})
        assert pledge.consents(ann)["analytics"].decision == "refused"


def test_objections_are_listed_standing_or_all(
    declaration_file: Path, database_url: str, secret_key: str
) -> None:
    """object, lift_objection and objections() agree; lifted ones show on request."""
    with Pledge.open(declaration_file, database_url, secret_key=secret_key) as pledge:
        ann = pledge.subject(email="ann@example.com")
        pledge.object(ann, "fraud_prevention")
        pledge.object(ann, "direct_marketing")
        assert not pledge.may_process(ann, "fraud_prevention")
        pledge.lift_objection(ann, "fraud_prevention")
        assert pledge.may_process(ann, "fraud_prevention")
        assert [item.scope for item in pledge.objections(ann)] == ["direct_marketing"]
        everything = pledge.objections(ann, include_lifted=True)
        assert [(item.scope, item.lifted_at is None) for item in everything] == [
            ("fraud_prevention", False),
            ("direct_marketing", True),
        ]
