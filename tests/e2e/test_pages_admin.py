"""The admin console over HTTP: the queue by deadline, request actions through the forms (each
audited under the staff member's name), the outbox, the audit trail and its verification, the
declaration's findings, the consent dashboard, the data map and the Art. 30 download."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.api_support import declaration, settings
from tests.e2e.pages_support import (
    add_staff,
    client,
    last_code,
    outbox,
    post,
    sign_in_staff,
    soup,
)

from pledge.app import Runtime, build_runtime
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditFilter
from pledge.store.database import Database
from pledge.subjects.model import Identity


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """The test's clock."""
    return Clock()


@pytest.fixture
def built(tmp_path: Path, clock: Clock) -> Iterator[Runtime]:
    """A runtime on a fresh SQLite file with a hand-moved clock."""
    runtime = build_runtime(
        settings(tmp_path), declaration=declaration(), upgrade=True, clock=clock
    )
    yield runtime
    runtime.close()


def submit(built: Runtime, email: str, kind: str = "access") -> str:
    """Submit a request for ``email``; its id."""
    return built.requests.submit(kind, Identity.parse("email", email)).id


def actions(built: Runtime, request_id: str) -> list[tuple[str, str]]:
    """The (action, actor) of the audit events of a request."""
    found = built.requests.get(request_id)
    with built.database.read() as connection:
        events = audit.read(connection, AuditFilter(subject_id=found.subject_id, limit=1000))
    return [(e.action, e.actor) for e in events if e.details.get("request_id") == request_id]


def test_the_queue_lists_open_requests_by_deadline_and_marks_the_late(
    built: Runtime, clock: Clock
) -> None:
    """An overdue request comes first, marked; one due within a week is marked as near."""
    late = submit(built, "late@example.com")
    clock.now += dt.timedelta(days=25)
    near = submit(built, "near@example.com", "erasure")
    clock.now += dt.timedelta(days=10)
    fresh = submit(built, "fresh@example.com", "restriction")
    clock.now += dt.timedelta(days=18)  # late is overdue, near due in 3 days, fresh in 12
    browser = client(built)
    add_staff(browser)
    sign_in_staff(browser)
    page = soup(browser.get("/admin").text)
    rows = page.select("table.queue tbody tr")
    assert [row["data-request"] for row in rows] == [late, near, fresh]
    assert "overdue" in rows[0]["class"] and "near" in rows[1]["class"]
    assert not ({"overdue", "near"} & set(rows[2].get("class", [])))
    filtered = soup(browser.get("/admin", params={"type": "erasure"}).text)
    assert [row["data-request"] for row in filtered.select("table.queue tbody tr")] == [near]


def test_staff_verify_extend_and_deny_through_the_forms(built: Runtime) -> None:
    """Each action changes the request, tells the person and is audited as staff:Ada."""
    browser = client(built)
    add_staff(browser)
    sign_in_staff(browser)
    first = submit(built, "ann@example.com")
    page = f"/admin/requests/{first}"
    code = last_code(built, "ann@example.com", "verification")
    verified = post(browser, f"{page}/verify", {"code": code}, form_page=page)
    assert verified.status_code == 303 and built.requests.get(first).state == "verified"
    extended = post(
        browser, f"{page}/extend", {"reason": "Three systems to search.", "by": "1"}, form_page=page
    )
    assert extended.status_code == 303
    assert built.requests.get(first).extension == 1
    second = submit(built, "bob@example.com", "erasure")
    other = f"/admin/requests/{second}"
    denied = post(
        browser,
        f"{other}/deny",
        {"ground": "identity_not_verified", "reason": "We could not confirm it was you."},
        form_page=other,
    )
    assert denied.status_code == 303 and built.requests.get(second).state == "denied"
    assert ("request.verified", "staff:Ada") in actions(built, first)
    assert ("request.extended", "staff:Ada") in actions(built, first)
    assert ("request.denied", "staff:Ada") in actions(built, second)
    assert outbox(built).last_mail("ann@example.com", "extended") is not None
    assert outbox(built).last_mail("bob@example.com", "denied") is not None
    detail = soup(browser.get(page).text)
    assert "request.extended" in detail.select_one(".timeline").get_text()


def test_a_refused_action_shows_why_and_changes_nothing(built: Runtime) -> None:
    """A wrong code and a denial without a reason are refused on the page (409)."""
    browser = client(built)
    add_staff(browser)
    sign_in_staff(browser)
    request_id = submit(built, "ann@example.com")
    page = f"/admin/requests/{request_id}"
    wrong = post(browser, f"{page}/verify", {"code": "000000x"}, form_page=page)
    assert wrong.status_code == 409 and "wrong code" in wrong.text
    empty = post(browser, f"{page}/deny", {"ground": "other", "reason": " "}, form_page=page)
    assert empty.status_code == 409 and "needs a reason" in empty.text
    assert built.requests.get(request_id).state == "received"


def test_the_outbox_shows_every_mail(built: Runtime) -> None:
    """Without SMTP the verification mail is listed with its subject and text."""
    submit(built, "ann@example.com")
    browser = client(built)
    add_staff(browser)
    sign_in_staff(browser)
    page = soup(browser.get("/admin/outbox").text)
    mails = page.select("li.mail")
    assert len(mails) == 1 and mails[0]["data-kind"] == "verification"
    assert "ann@example.com" in mails[0].get_text()


def test_the_audit_trail_filters_and_verifies(built: Runtime) -> None:
    """Filtering by action shows only those events; verifying reports an intact chain."""
    submit(built, "ann@example.com")
    browser = client(built)
    add_staff(browser)
    sign_in_staff(browser)
    page = soup(browser.get("/admin/audit", params={"action": "request.submitted"}).text)
    cells = [row.find_all("td")[1].get_text() for row in page.select("table.audit tbody tr")]
    assert cells == ["request.submitted"]
    verified = post(browser, "/admin/audit/verify", {}, form_page="/admin/audit")
    assert verified.status_code == 200
    assert "No record was edited or deleted" in verified.text


@pytest.fixture
def on_backend(store: Database, tmp_path: Path, clock: Clock) -> Iterator[Runtime]:
    """A runtime on the store of the backend under test (SQLite, then PostgreSQL)."""
    runtime = build_runtime(
        settings(tmp_path, database_url=store.url.render_as_string(hide_password=False)),
        declaration=declaration(),
        database=store,
        clock=clock,
    )
    yield runtime
    runtime.close()


def test_an_audit_page_no_trail_can_reach_is_not_found(on_backend: Runtime) -> None:
    """A page after a number past any sequence number, or after no number at all, is a 404
    page on both backends; after the largest one the store holds, an empty page."""
    browser = client(on_backend)
    add_staff(browser)
    sign_in_staff(browser)
    for after in ("2147483648", "9223372036854775808", "99999999999999999999", "abc", "²", "-1"):
        answer = browser.get("/admin/audit", params={"after": after})
        assert answer.status_code == 404, (after, answer.status_code)
        assert answer.headers["content-type"].startswith("text/html")
        assert "There is no such page." in soup(answer.text).main.get_text(), after
    last = browser.get("/admin/audit", params={"after": "2147483647", "action": "staff.created"})
    assert last.status_code == 200
    assert not soup(last.text).select("table.audit tbody tr")
    far = browser.get("/admin/audit", params={"until": "9999-12-31"})
    assert far.status_code == 422 and far.headers["content-type"].startswith("text/html")


def test_the_declaration_page_shows_the_version_and_findings(tmp_path: Path) -> None:
    """The Cloudwarm example's gaps appear as lint findings with their codes."""
    from pledge.declaration import load

    cloudwarm = load(Path(__file__).parents[2] / "examples" / "cloudwarm" / "pledge.yaml")
    runtime = build_runtime(settings(tmp_path), declaration=cloudwarm, upgrade=True)
    try:
        browser = client(runtime)
        add_staff(browser)
        sign_in_staff(browser)
        page = soup(browser.get("/admin/declaration").text)
        assert "2026-11-22" in page.select_one("dl.facts").get_text()
        codes = {row.th.get_text() for row in page.select("tbody tr")}
        assert {"G303", "P102", "Y601"} <= codes
    finally:
        runtime.close()


def test_consent_dashboard_charts_each_consent_purpose(built: Runtime, clock: Clock) -> None:
    """Each consent purpose has a chart with its week's decisions and its rates."""
    for index in range(4):
        subject = built.subjects.find_or_create(
            Identity.parse("email", f"p{index}@example.com"), actor="tests"
        )
        built.ledger.grant(subject, "newsletter", channel="form", actor="tests")
        if index == 0:
            built.ledger.withdraw(subject, "newsletter", channel="form", actor="tests")
    browser = client(built)
    add_staff(browser)
    sign_in_staff(browser)
    page = soup(browser.get("/admin/consent").text)
    panel = page.find("section", attrs={"aria-labelledby": "panel-newsletter"})
    assert panel is not None and panel.find("svg", attrs={"role": "img"}) is not None
    assert "Opt-in rate 100 %, withdrawal rate 25 %" in panel.get_text()
    last_week = panel.select("details tbody tr")[-1]
    assert [cell.get_text() for cell in last_week.find_all("td")] == ["4", "1", "0"]


def test_data_map_and_record_of_processing(built: Runtime) -> None:
    """The graph links data to purposes and recipients; the Art. 30 record downloads as CSV."""
    browser = client(built)
    add_staff(browser)
    sign_in_staff(browser)
    page = soup(browser.get("/admin/datamap").text)
    svg = page.find("svg", class_="datamap")
    assert svg is not None and len(svg.select("path.edge")) > 5
    assert "Mailer Inc. (processor, US)" in svg.get_text()
    ropa = browser.get("/admin/ropa.csv")
    assert ropa.status_code == 200 and ropa.headers["content-type"].startswith("text/csv")
    assert "newsletter" in ropa.text.lower()
    assert browser.get("/admin/ropa.pdf").status_code == 404


def test_admins_add_and_disable_staff(built: Runtime) -> None:
    """A new support account can sign in; once disabled it cannot."""
    browser = client(built)
    add_staff(browser)
    sign_in_staff(browser)
    made = post(
        browser,
        "/admin/staff",
        {"email": "sam@acme.example", "name": "Sam", "role": "support", "password": "x" * 14},
        form_page="/admin/staff",
    )
    assert made.status_code == 303
    short = post(
        browser,
        "/admin/staff",
        {"email": "tim@acme.example", "name": "Tim", "role": "support", "password": "short"},
        form_page="/admin/staff",
    )
    assert short.status_code == 422 and "at least 12 characters" in short.text
    other = client(built)
    sign_in_staff(other, "sam@acme.example", "x" * 14)
    pages = browser.app.state.pages  # type: ignore[attr-defined]
    sam = next(member for member in pages.staff.list() if member.name == "Sam")
    post(browser, f"/admin/staff/{sam.id}/disable", {}, form_page="/admin/staff")
    assert other.get("/admin").status_code == 303
