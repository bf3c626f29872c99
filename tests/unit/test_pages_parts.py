"""The plain parts of the pages: roles, unsubscribe tokens, charts and the data map."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from tests.conftest import CLEAN_DECLARATION

from pledge.declaration import loads
from pledge.errors import UsageError
from pledge.notify.unsubscribe import Unsubscribe
from pledge.staff.figures import WeeklyConsent
from pledge.staff.model import Permission, Role, check_password, parse_role
from pledge.web.pages import charts, datamap
from pledge.web.pages.privacy_policy import body_of


def test_roles_grant_what_the_docs_say() -> None:
    """Only admins manage staff; support handles but does not decide; viewers only look."""
    assert Role.ADMIN.allows(Permission.MANAGE_STAFF)
    assert not Role.PRIVACY_OFFICER.allows(Permission.MANAGE_STAFF)
    assert Role.PRIVACY_OFFICER.allows(Permission.DECIDE_REQUESTS)
    assert Role.SUPPORT.allows(Permission.HANDLE_REQUESTS)
    assert not Role.SUPPORT.allows(Permission.DECIDE_REQUESTS)
    assert not Role.SUPPORT.allows(Permission.READ_AUDIT)
    assert Role.VIEWER.permissions == {Permission.VIEW}
    assert parse_role("Privacy officer") is Role.PRIVACY_OFFICER
    with pytest.raises(UsageError, match="unknown role"):
        parse_role("root")


@pytest.mark.parametrize("password", ["short", " starts with a space", "x" * 1025])
def test_weak_or_odd_passwords_are_refused(password: str) -> None:
    """Too short, too long, or padded with spaces."""
    with pytest.raises(UsageError):
        check_password(password)


def test_unsubscribe_tokens_cannot_be_made_without_the_key() -> None:
    """A token names its subject; another key, subject or a changed byte gives None."""
    key = secrets.token_bytes(32)
    links = Unsubscribe(key, "https://acme.example/")
    subject = "01JD3Z6X6M0000000000000000"
    token = links.token(subject)
    assert links.subject_of(token) == subject
    assert links.url(subject) == f"https://acme.example/privacy/unsubscribe/{token}"
    assert Unsubscribe(secrets.token_bytes(32), "x").subject_of(token) is None
    other = "01JD3Z6X6M0000000000000001"
    assert links.subject_of(other + token[26:]) is None
    assert links.subject_of(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert links.subject_of("not a token") is None


def test_weekly_bars_draw_each_decision_with_its_figure() -> None:
    """One rect per non-zero figure, each titled with its week and count."""
    weeks = [
        WeeklyConsent("news", dt.date(2026, 3, 2), 3, 1, 0),
        WeeklyConsent("news", dt.date(2026, 3, 9), 0, 0, 2),
    ]
    svg = str(charts.weekly_bars(weeks, title="News <weekly>"))
    assert svg.count("<rect") == 3
    assert "02 Mar: 3 granted" in svg and "09 Mar: 2 refused" in svg
    assert "News &lt;weekly&gt;" in svg and "style=" not in svg


def test_the_data_map_joins_sources_data_purposes_and_recipients() -> None:
    """The clean declaration's newsletter runs from the sign-up form to the mailer."""
    graph = datamap.build(loads(CLEAN_DECLARATION))
    assert ("source:signup_form", "category:contact.email") in graph.edges
    assert ("category:contact.email", "purpose:newsletter") in graph.edges
    assert ("purpose:newsletter", "recipient:mailer") in graph.edges
    svg = str(datamap.svg(graph))
    assert svg.count('class="node ') == sum(len(column) for column in graph.columns)


def test_body_of_keeps_the_content_of_a_page() -> None:
    """Only what is inside body is kept, without the page's own skip link, and its main
    landmark becomes a plain block: the page it is shown in has the one main landmark."""
    page = (
        '<html><body><a class="skip-link" href="#m">Skip</a>'
        '<main id="m" tabindex="-1">Hi</main></body></html>'
    )
    assert str(body_of(page)) == "<div>Hi</div>"
