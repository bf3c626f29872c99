"""What the page tests share: a runtime with its app, a staff member, forms with CSRF tokens."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup
from tests.e2e.api_support import runtime as api_runtime

from pledge.app import Runtime
from pledge.notify.mail import MailOutbox
from pledge.staff.model import Role
from pledge.web.app import create_app
from pledge.web.pages.support import Pages

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
ADMIN = "ada@acme.example"


def runtime(folder: Path, **changes: Any) -> Runtime:
    """A runtime on a fresh SQLite file, its mail kept in the outbox."""
    built = api_runtime(folder, **changes)
    assert isinstance(built.mailer.outbox, MailOutbox)
    return built


def outbox(built: Runtime) -> MailOutbox:
    """The outbox of the admin console, in the runtime's store (no SMTP server)."""
    kept = built.mailer.outbox
    assert kept is not None, "the runtime sends its mail over SMTP"
    return kept


def client(built: Runtime, **options: Any) -> TestClient:
    """A browser-like client of the app (cookies kept, redirects not followed)."""
    options.setdefault("follow_redirects", False)
    return TestClient(create_app(built), **options)


def pages_of(browser: TestClient) -> Pages:
    """The pages' services of the client's app."""
    pages: Pages = browser.app.state.pages  # type: ignore[attr-defined]
    return pages


def add_staff(
    browser: TestClient,
    email: str = ADMIN,
    role: Role | str = Role.ADMIN,
    name: str = "Ada",
    password: str = PASSWORD,
) -> None:
    """Create a staff account in the client's app."""
    pages_of(browser).staff.create(email, name, role, password, actor="tests")


def soup(text: str) -> BeautifulSoup:
    """The parsed HTML of a page."""
    return BeautifulSoup(text, "html.parser")


def token(browser: TestClient, path: str) -> str:
    """The CSRF token of the first form on the page at ``path`` (which sets the cookie)."""
    page = browser.get(path)
    found = soup(page.text).find("input", attrs={"name": "csrf_token"})
    assert found is not None, f"no form with a CSRF token on {path} ({page.status_code})"
    return str(found["value"])


def post(browser: TestClient, path: str, data: dict[str, str], *, form_page: str) -> Any:
    """Post a form the way a browser does: with the token of the page the form is on."""
    return browser.post(path, data={**data, "csrf_token": token(browser, form_page)})


def sign_in_staff(browser: TestClient, email: str = ADMIN, password: str = PASSWORD) -> None:
    """Sign a staff member in; the client keeps the session cookie."""
    answer = post(
        browser, "/admin/login", {"email": email, "password": password}, form_page="/admin/login"
    )
    assert answer.status_code == 303, answer.text


def last_code(built: Runtime, to: str, kind: str) -> str:
    """The code of the newest mail of ``kind`` to ``to`` in the outbox."""
    mail = outbox(built).last_mail(to, kind)
    assert mail is not None, f"no {kind} mail to {to}"
    found = re.search(r"^    (\d{6})$", mail.text, re.MULTILINE)
    assert found, mail.text
    return found[1]


def sign_in_person(browser: TestClient, built: Runtime, email: str) -> None:
    """Sign a person in to the privacy center with the code mailed to them."""
    sent = post(browser, "/privacy/sign-in", {"email": email}, form_page="/privacy/sign-in")
    assert sent.status_code == 303, sent.text
    code = last_code(built, email, "sign_in")
    entered = post(
        browser, "/privacy/sign-in/code", {"code": code}, form_page="/privacy/sign-in/code"
    )
    assert entered.status_code == 303 and entered.headers["location"] == "/privacy/account"
