"""The privacy center over HTTP: the policy and its versions, sign-in by code, consent switches
recorded by the ledger, requests confirmed by code, one-click unsubscribe, the privacy officer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import revise
from tests.e2e.api_support import DECLARATION, declaration, settings
from tests.e2e.pages_support import client, last_code, outbox, post, sign_in_person, soup

from pledge.app import Runtime, build_runtime
from pledge.consent.model import Channel, notice_hash
from pledge.declaration import loads
from pledge.subjects.model import Identity

ANN = "ann@example.com"


@pytest.fixture
def built(tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on a fresh SQLite file."""
    runtime = build_runtime(settings(tmp_path), declaration=declaration(), upgrade=True)
    yield runtime
    runtime.close()


def subject_of(built: Runtime, email: str = ANN) -> str:
    """The subject id of an address."""
    found = built.subjects.find(Identity.parse("email", email))
    assert found is not None
    return found


def test_the_policy_is_the_declarations(built: Runtime) -> None:
    """The policy page holds the rendered policy with its sections; no sign-in needed."""
    from pledge.render import render_policy

    page = soup(client(built).get("/privacy/policy").text)
    rendered = soup(render_policy(built.declaration, "html"))
    assert page.select_one(".policy h1").get_text() == rendered.h1.get_text()
    titles = [heading.get_text() for heading in page.select(".policy section > h2")]
    assert titles == [heading.get_text() for heading in rendered.select("section > h2")]
    assert len(titles) > 5


def test_past_versions_show_what_changed(tmp_path: Path) -> None:
    """Serving a new declaration lists both versions; the new one opens with its changes."""
    first = build_runtime(settings(tmp_path), declaration=declaration(), upgrade=True)
    try:
        client(first).get("/privacy/policy")
    finally:
        first.close()
    newer = loads(
        revise(
            DECLARATION,
            ('version: "2.1"', 'version: "2.2"'),
            ("retention: P90D", "retention: P180D"),
        )
    )
    second = build_runtime(settings(tmp_path), declaration=newer, upgrade=True)
    try:
        browser = client(second)
        listing = soup(browser.get("/privacy/policy/versions").text)
        links = listing.select("ol.versions a")
        assert [link.get_text() for link in links] == ["2.2", "2.1"]
        page = soup(browser.get(links[0]["href"]).text)
        changes = page.select_one("section.changes")
        assert "What changed from version 2.1" in changes.get_text()
        assert "90 days" in changes.get_text() and "180 days" in changes.get_text()
        oldest = soup(browser.get(links[1]["href"]).text)
        assert "first version published here" in oldest.select_one("section.changes").get_text()
    finally:
        second.close()


def test_consent_switches_record_the_notice_shown(built: Runtime) -> None:
    """One click turns a purpose on, one click off; the ledger has both, with the notice hash."""
    browser = client(built)
    sign_in_person(browser, built, ANN)
    page = soup(browser.get("/privacy/account").text)
    switch = page.find("button", attrs={"data-purpose": "newsletter"})
    assert switch["role"] == "switch" and switch["aria-checked"] == "false"
    notice = page.find(id="notice-newsletter").get_text()
    assert notice.startswith("Purpose: ")
    on = post(
        browser,
        "/privacy/consent",
        {"purpose": "newsletter", "decision": "grant"},
        form_page="/privacy/account",
    )
    assert on.status_code == 303
    page = soup(browser.get("/privacy/account").text)
    assert page.find("button", attrs={"data-purpose": "newsletter"})["aria-checked"] == "true"
    off = post(
        browser,
        "/privacy/consent",
        {"purpose": "newsletter", "decision": "withdraw"},
        form_page="/privacy/account",
    )
    assert off.status_code == 303
    events = built.ledger.history(subject_of(built), "newsletter")
    assert [str(event.decision) for event in events] == ["granted", "withdrawn"]
    assert {event.channel for event in events} == {Channel.FORM}
    assert {event.notice_hash for event in events} == {notice_hash(built.declaration, "newsletter")}
    assert events[0].evidence is not None and events[0].evidence.user_agent


def test_a_switch_for_a_purpose_without_consent_is_refused(built: Runtime) -> None:
    """Granting a purpose based on a contract through the form is refused; nothing recorded."""
    browser = client(built)
    sign_in_person(browser, built, ANN)
    answer = post(
        browser,
        "/privacy/consent",
        {"purpose": "provide_service", "decision": "grant"},
        form_page="/privacy/account",
    )
    assert answer.status_code == 422
    assert built.ledger.state(subject_of(built)) == {}


def test_a_deletion_is_confirmed_by_code_and_shows_its_deadline(built: Runtime) -> None:
    """Without the confirmation box nothing happens; with it a code confirms the request."""
    browser = client(built)
    sign_in_person(browser, built, ANN)
    unconfirmed = post(
        browser, "/privacy/requests", {"type": "erasure"}, form_page="/privacy/account"
    )
    assert unconfirmed.status_code == 422
    assert built.requests.list(subject_id=subject_of(built)) == []
    asked = post(
        browser,
        "/privacy/requests",
        {"type": "erasure", "confirm": "yes"},
        form_page="/privacy/account",
    )
    assert asked.status_code == 303 and asked.headers["location"].endswith("/confirm")
    confirm_page = asked.headers["location"]
    code = last_code(built, ANN, "verification")
    done = post(browser, confirm_page, {"code": code}, form_page=confirm_page)
    assert done.status_code == 200 and "We answer by" in done.text
    [request] = built.requests.list(subject_id=subject_of(built))
    assert request.type == "erasure" and request.state == "verified"
    account = soup(browser.get("/privacy/account").text)
    row = account.select_one("#requests tbody tr")
    assert "erasure" in row.get_text() and request.due_at.strftime("%d %b %Y") in row.get_text()


def test_a_restriction_takes_effect_on_confirmation(built: Runtime) -> None:
    """Pausing processing from the page restricts the subject at once."""
    browser = client(built)
    sign_in_person(browser, built, ANN)
    asked = post(
        browser, "/privacy/requests", {"type": "restriction"}, form_page="/privacy/account"
    )
    page = asked.headers["location"]
    post(browser, page, {"code": last_code(built, ANN, "verification")}, form_page=page)
    assert built.subjects.get(subject_of(built)).restricted


def test_the_limit_on_sensitive_information_is_offered_only_where_it_stops_something(
    built: Runtime, tmp_path: Path
) -> None:
    """Without sensitive personal information the form does not offer the limit; with it, the
    limit is asked for like any request and, once confirmed, decisions follow it."""
    browser = client(built)
    sign_in_person(browser, built, ANN)
    page = soup(browser.get("/privacy/account").text)
    assert page.select_one("#ask-limit_sensitive") is None and page.select_one("#ask-restriction")

    sensitive = loads(
        revise(
            DECLARATION,
            (
                "purposes:\n",
                "purposes:\n  location_ads:\n    legal_basis: consent\n"
                "    categories: [location.precise]\n    retention: P1Y\n",
            ),
        ),
        "pledge.yaml",
    )
    other = build_runtime(settings(tmp_path / "other"), declaration=sensitive, upgrade=True)
    try:
        browser = client(other)
        sign_in_person(browser, other, ANN)
        subject = subject_of(other)
        other.ledger.grant(subject, "location_ads", channel=Channel.FORM, actor="test")
        form = soup(browser.get("/privacy/account").text).select_one("#ask-limit_sensitive")
        assert form is not None
        assert "Limit the use of my sensitive personal information" in form.get_text()
        assert form.select_one("input[name=type]")["value"] == "limit_sensitive"
        asked = post(
            browser,
            "/privacy/requests",
            {"type": "limit_sensitive"},
            form_page="/privacy/account",
        )
        confirm = asked.headers["location"]
        post(browser, confirm, {"code": last_code(other, ANN, "verification")}, form_page=confirm)
        [request] = other.requests.list(subject_id=subject)
        assert request.type == "limit_sensitive" and request.state == "completed"
        assert other.decider.may_process(subject, "location_ads").rule == "sensitive_use_limited"
    finally:
        other.close()


def test_a_person_sees_only_their_own_requests(built: Runtime) -> None:
    """Another person's request id gives 404, not its page."""
    other = built.requests.submit("access", Identity.parse("email", "bob@example.com"))
    browser = client(built)
    sign_in_person(browser, built, ANN)
    assert browser.get(f"/privacy/requests/{other.id}/confirm").status_code == 404
    assert browser.get(f"/privacy/requests/{other.id}/report/zip").status_code == 404


def test_one_click_unsubscribe_works_without_cookies(built: Runtime) -> None:
    """A mail client's RFC 8058 POST stops direct marketing at once; a forged token does not."""
    subject = built.subjects.find_or_create(Identity.parse("email", ANN), actor="tests")
    pages = client(built).app.state.pages  # type: ignore[attr-defined]
    link = pages.unsubscribe.url(subject)
    path = link.removeprefix(built.settings.public_url)
    mail_client = client(built)
    answer = mail_client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200 and "You are unsubscribed" in answer.text
    assert [o.scope for o in built.objections.standing(subject)] == ["direct_marketing"]
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert mail_client.post(forged, data={"List-Unsubscribe": "One-Click"}).status_code == 404


def test_policy_change_mails_carry_one_click_unsubscribe(built: Runtime) -> None:
    """The notice of a change has List-Unsubscribe and List-Unsubscribe-Post (RFC 8058)."""
    import datetime as dt

    pages = client(built).app.state.pages  # type: ignore[attr-defined]
    mail = pages.templates.policy_change(
        ANN,
        version="2.2",
        effective=dt.date(2026, 5, 1),
        changes=["A change."],
        unsubscribe_url="https://acme.example/privacy/unsubscribe/x",
    )
    assert mail.headers["List-Unsubscribe"] == "<https://acme.example/privacy/unsubscribe/x>"
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "01 May 2026" in mail.text and "A change." in mail.html


def test_messages_reach_the_privacy_officer(built: Runtime) -> None:
    """A child's data report and a question are mailed to the DPO, answerable by reply."""
    browser = client(built)
    sent = post(
        browser,
        "/privacy/child",
        {
            "identifier": "kid@example.com",
            "relationship": "parent",
            "message": "She is 12.",
            "email": "mum@example.com",
        },
        form_page="/privacy/child",
    )
    assert sent.status_code == 200 and "reached the privacy officer" in sent.text
    mail = outbox(built).last_mail("dpo@acme.example", "child")
    assert mail is not None and mail.headers["Reply-To"] == "mum@example.com"
    assert "kid@example.com" in mail.text and "She is 12." in mail.text
    bad = post(
        browser,
        "/privacy/contact",
        {"message": "Hello", "email": "not an address"},
        form_page="/privacy/contact",
    )
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")
    assert outbox(built).last_mail("dpo@acme.example", "contact") is None
