"""Unsubscribing on both backends: every direct-marketing consent withdrawn and the objection
to direct marketing recorded in one transaction, by the one-click link and by a request alike;
cut off half-way, neither half stands."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from tests.conftest import revise
from tests.integration.conftest import CONSENT_DECLARATION

from pledge import loads
from pledge.app import Runtime, build_runtime
from pledge.config import Settings
from pledge.consent.model import Channel, ConsentDecision
from pledge.store.database import Database
from pledge.store.tables import audit_events, consent_events, objections
from pledge.subjects.model import Identity
from pledge.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ANN = Identity.parse("email", "ann@example.com")
DECLARATION = revise(
    CONSENT_DECLARATION,
    (
        "    description: Monthly news about our products.\n",
        "    description: Monthly news about our products.\n    direct_marketing: true\n",
    ),
    (
        "    description: Ads chosen from what you do on our site.\n",
        "    description: Ads chosen from what you do on our site.\n    direct_marketing: true\n",
    ),
)
"""Two direct-marketing purposes based on consent (newsletter, personalised_ads)."""
MARKETING = ("newsletter", "personalised_ads")


@pytest.fixture
def runtime(store: Database, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime whose decisions are cached for an hour: the unsubscribe must invalidate them."""
    settings = Settings(
        database_url=store.url.render_as_string(hide_password=False),
        secret_key=os.urandom(32),
        decision_cache_seconds=3600,
    )
    built = build_runtime(settings, declaration=loads(DECLARATION), database=store, log_mode="sync")
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def ann(runtime: Runtime) -> str:
    """Ann, who agreed to both marketing purposes and to analytics."""
    subject = runtime.subjects.find_or_create(ANN, actor="tests")
    for purpose in (*MARKETING, "analytics"):
        runtime.ledger.grant(subject, purpose, channel="form", actor="tests")
    assert runtime.decider.may_process(subject, "newsletter").allowed
    return subject


@contextmanager
def objections_refused(database: Database) -> Iterator[None]:
    """The store refuses every new objection (a trigger), as a failure half-way through."""
    if database.dialect == "sqlite":
        create = [
            "CREATE TRIGGER refuse_objections BEFORE INSERT ON objections"
            " BEGIN SELECT RAISE(ABORT, 'objections refused by the test'); END"
        ]
        drop = ["DROP TRIGGER refuse_objections"]
    else:
        create = [
            "CREATE FUNCTION refuse_objections() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'objections refused by the test'; END $$",
            "CREATE TRIGGER refuse_objections BEFORE INSERT ON objections"
            " FOR EACH ROW EXECUTE FUNCTION refuse_objections()",
        ]
        drop = [
            "DROP TRIGGER refuse_objections ON objections",
            "DROP FUNCTION refuse_objections()",
        ]
    with database.transaction() as connection:
        for statement in create:
            connection.execute(text(statement))
    try:
        yield
    finally:
        with database.transaction() as connection:
            for statement in drop:
                connection.execute(text(statement))


def rows(runtime: Runtime) -> dict[str, int]:
    """How many consent events, objections and audit events the store holds."""
    runtime.decider.flush()
    with runtime.database.read() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (consent_events, objections, audit_events)
        }


def assert_untouched(runtime: Runtime, subject: str, before: dict[str, int]) -> None:
    """Every consent still granted, no objection, nothing written, decisions as before."""
    state = runtime.ledger.state(subject)
    assert {purpose: state[purpose].granted for purpose in state} == {
        "newsletter": True,
        "personalised_ads": True,
        "analytics": True,
    }
    assert runtime.objections.standing(subject) == []
    assert rows(runtime) == before
    assert runtime.decider.may_process(subject, "newsletter").allowed


def assert_unsubscribed(runtime: Runtime, subject: str, channel: Channel, actor: str) -> None:
    """Both marketing consents withdrawn (through ``channel``, by ``actor``), analytics kept,
    the objection to direct marketing standing, and decisions following at once."""
    state = runtime.ledger.state(subject)
    assert {purpose: state[purpose].decision for purpose in state} == {
        "newsletter": ConsentDecision.WITHDRAWN,
        "personalised_ads": ConsentDecision.WITHDRAWN,
        "analytics": ConsentDecision.GRANTED,
    }
    withdrawals = [
        event
        for event in runtime.ledger.history(subject)
        if event.decision is ConsentDecision.WITHDRAWN
    ]
    assert {(event.channel, event.actor) for event in withdrawals} == {(channel, actor)}
    assert [item.scope for item in runtime.objections.standing(subject)] == ["direct_marketing"]
    assert not runtime.decider.may_process(subject, "newsletter").allowed
    assert not runtime.decider.may_process(subject, "personalised_ads").allowed
    assert runtime.decider.may_process(subject, "analytics").allowed


def test_unsubscribing_withdraws_every_marketing_consent_and_objects_at_once(
    runtime: Runtime, ann: str
) -> None:
    """One call: each standing marketing consent withdrawn, the objection recorded; a second
    call changes nothing."""
    done = runtime.requests.effects.unsubscribe(ann, actor="subject", channel=Channel.FORM)
    assert done == {"withdrawn": list(MARKETING), "objections": ["direct_marketing"]}
    assert_unsubscribed(runtime, ann, Channel.FORM, "subject")
    before = rows(runtime)
    again = runtime.requests.effects.unsubscribe(ann, actor="subject", channel=Channel.FORM)
    assert again == {"withdrawn": [], "objections": ["direct_marketing"]}
    assert rows(runtime) == before


def test_an_unsubscribe_cut_off_half_way_applies_neither_half(runtime: Runtime, ann: str) -> None:
    """The objection fails after the withdrawals were written: they are rolled back with it;
    once the store accepts objections again the same call does both."""
    before = rows(runtime)
    with objections_refused(runtime.database), pytest.raises(Exception, match="refused"):
        runtime.requests.effects.unsubscribe(ann, actor="subject", channel=Channel.FORM)
    assert_untouched(runtime, ann, before)
    runtime.requests.effects.unsubscribe(ann, actor="subject", channel=Channel.FORM)
    assert_unsubscribed(runtime, ann, Channel.FORM, "subject")


def test_the_one_click_link_is_all_or_nothing(runtime: Runtime, ann: str) -> None:
    """The link's POST, failing half-way, is an error page and changes nothing; posted again,
    it does both halves."""
    browser = TestClient(create_app(runtime), follow_redirects=False)
    link = browser.app.state.pages.unsubscribe.url(ann)  # type: ignore[attr-defined]
    path = link.removeprefix(runtime.settings.public_url)
    before = rows(runtime)
    with objections_refused(runtime.database):
        failed = browser.post(path, data={"List-Unsubscribe": "One-Click"})
    # SQLite's trigger fails as a constraint (409), PostgreSQL's as an error (500): either way
    # an error page, and nothing changed.
    assert failed.status_code in (409, 500)
    assert failed.headers["content-type"].startswith("text/html")
    assert_untouched(runtime, ann, before)
    done = browser.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    assert_unsubscribed(runtime, ann, Channel.FORM, "subject")
