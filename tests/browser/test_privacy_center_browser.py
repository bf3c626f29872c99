"""A person's journey through the privacy center in Chromium, with the keyboard alone.

Li Rossi, a Cloudwarm customer, signs in with the code a real SMTP server received, asks to see
their data and reads the report, downloads the copy, corrects their name, withdraws a consent
and deletes their account. Staff approve each request through the requests service (the admin
console's journey is in ``test_admin_browser.py``); the server's own job runner carries it out
in Cloudwarm's app database, which the test then reads with its own SQL.

Nothing is clicked: the focus moves with Tab and Shift+Tab, controls are used with Enter and
Space, fields are typed into; every control reached shows a visible focus indicator.
Screenshots of the steps are saved under ``screenshots/`` in pytest's base temporary folder
(see the ``screenshots`` fixture).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from typing import Any

from playwright.sync_api import Page, expect
from tests.browser.conftest import Company, Screenshots, code_in, text_of
from tests.browser.keyboard import press_on, tab_to, type_into
from tests.cloudwarm import SEED

from pledge.consent.model import Channel, ConsentDecision, notice_hash
from pledge.subjects.model import Identity

ROWS = SEED.rows()
PERSON = ROWS["users"][0]
EMAIL = PERSON["email"]
HOME = next(home for home in ROWS["homes"] if home["owner_id"] == PERSON["id"])
THERMOSTATS = [row["id"] for row in ROWS["thermostats"] if row["home_id"] == HOME["id"]]
INVOICES = sorted(row["number"] for row in ROWS["invoices"] if row["user_id"] == PERSON["id"])
NEW_NAME = "Li Rossi-Lund"
STAFF = "staff:Ada Lovelace"


def unique_to_the_person(value: str) -> bool:
    """``value`` appears in no other seeded person's rows (so finding it means the person)."""
    others = [
        row
        for table in ROWS.values()
        for row in table
        if row.get("id") != PERSON["id"]
        and row.get("user_id") not in (None, PERSON["id"])
        and row.get("owner_id") != PERSON["id"]
    ]
    return all(value not in str(cell) for row in others for cell in row.values())


def grant_at_sign_up(company: Company) -> str:
    """The consent Li gave when signing up in Cloudwarm's app (recorded through the SDK)."""
    runtime = company.server.runtime
    subject_id = runtime.subjects.find_or_create(Identity.parse("email", EMAIL), actor="app")
    runtime.ledger.grant(subject_id, "analytics", channel=Channel.FORM, actor="app")
    return subject_id


def sign_in(page: Page, company: Company, shots: Screenshots) -> None:
    """From the front page to the person's own page, with the code mailed to them."""
    page.goto(f"{company.server.url}/privacy")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # a skip link shows itself when focused
    press_on(page, page.get_by_role("navigation").get_by_role("link", name="Your data"))
    page.wait_for_url("**/privacy/sign-in")
    shots.take(page, "sign-in")
    type_into(page, page.get_by_label("E-mail address"), EMAIL)
    page.keyboard.press("Enter")
    page.wait_for_url("**/privacy/sign-in/code")
    code = code_in(company.mailbox.take(EMAIL, "your sign-in code"))
    type_into(page, page.get_by_label("Code"), code)
    shots.take(page, "code")
    page.keyboard.press("Enter")
    page.wait_for_url("**/privacy/account")
    expect(page.get_by_text(f"Signed in as {EMAIL}")).to_be_visible()
    shots.take(page, "your-data")


def ask(page: Page, company: Company, kind: str, fill: Any = None) -> str:
    """Open the request form of ``kind``, send it, confirm it with the mailed code; its id."""
    form = page.locator(f"#ask-{kind}")
    press_on(page, form.locator("summary"))
    expect(form).to_have_attribute("open", "")
    if fill is not None:
        fill(form)
    press_on(page, form.get_by_role("button", name="Send the request"))
    page.wait_for_url("**/privacy/requests/*/confirm")
    found = re.search(r"/requests/([^/]+)/confirm", page.url)
    assert found is not None
    request_id = found[1]
    mail = company.mailbox.take(EMAIL, "confirm your privacy request")
    assert f"Request {request_id}" in text_of(mail)
    type_into(page, page.get_by_label("Code"), code_in(mail))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Your request is confirmed")
    return request_id


def carried_out(page: Page, company: Company, request_id: str) -> None:
    """Staff approve the request; the server's runner carries it out; the person is told by
    mail and goes back to their page."""
    runtime = company.server.runtime
    assert runtime.requests.get(request_id).state == "verified"
    runtime.execution.approve(request_id, actor=STAFF)
    done = company.mailbox.take(EMAIL, "your privacy request is done")
    assert f"Request {request_id}" in text_of(done)
    assert runtime.requests.get(request_id).state == "completed"
    press_on(page, page.get_by_role("link", name="Your requests"))
    page.wait_for_url("**/privacy/account#requests")


def read_the_report(page: Page, company: Company, request_id: str, shots: Screenshots) -> None:
    """The access report in the page shows what Cloudwarm holds about the person."""
    row = page.locator("#requests tbody tr").filter(has_text="access")
    expect(row).to_contain_text("completed")
    press_on(page, row.get_by_role("link", name="View the report"))
    page.wait_for_url(f"**/privacy/requests/{request_id}/report")
    report = page.locator(".report")
    for value in (EMAIL, PERSON["full_name"], PERSON["phone"], HOME["street"], *INVOICES):
        expect(report).to_contain_text(value)
    shots.take(page, "access-report")


def download_the_copy(page: Page) -> dict[str, bytes]:
    """The zip of JSON and CSV, downloaded from the report page: its files."""
    with page.expect_download() as downloading:
        press_on(page, page.get_by_role("link", name="Download (zip)"))
    download = downloading.value
    assert download.failure() is None
    assert download.suggested_filename.endswith(".zip")
    path = download.path()
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def check_the_copy(files: dict[str, bytes]) -> None:
    """The copy holds the person's rows, as JSON and as one CSV per table, and no one else's."""
    assert {"report.html", "data.json", "app/users.csv", "app/invoices.csv"} <= set(files)
    users = list(csv.DictReader(io.StringIO(files["app/users.csv"].decode())))
    assert [(row["email"], row["full_name"], row["phone"]) for row in users] == [
        (EMAIL, PERSON["full_name"], PERSON["phone"])
    ]
    invoices = list(csv.DictReader(io.StringIO(files["app/invoices.csv"].decode())))
    assert sorted(row["number"] for row in invoices) == INVOICES
    thermostats = list(csv.DictReader(io.StringIO(files["app/thermostats.csv"].decode())))
    assert len(thermostats) == len(THERMOSTATS)
    data = json.loads(files["data.json"])
    text = json.dumps(data)
    assert EMAIL in text and HOME["street"] in text
    others = [row["email"] for row in ROWS["users"] if row["id"] != PERSON["id"]]
    assert not any(other in text for other in others)


def correctable(company: Company) -> list[str]:
    """The columns the declaration marks correctable, as ``datastore.table.column``."""
    return [
        f"{store_name}.{table_name}.{column_name}"
        for store_name, store in company.server.runtime.declaration.datastores.items()
        for table_name, table in store.tables.items()
        for column_name, column in table.columns.items()
        if column.correctable
    ]


def choose_the_name(form: Any) -> None:
    """In the correction form: pick the name field by typing its label, type the right name."""
    page = form.page
    field = form.get_by_label("Field to correct")
    tab_to(page, field)
    page.keyboard.type("users: full")  # a closed select picks the option typed
    expect(field).to_have_value("app.users.full_name")
    type_into(page, form.get_by_label("The correct value"), NEW_NAME)


def withdraw_consent(page: Page, shots: Screenshots) -> None:
    """The consent switch on the person's page is turned off with Space."""
    switch = page.get_by_role("switch", name="Turn off: Analytics")
    tab_to(page, switch, backwards=True)  # the consent section comes before the requests
    expect(switch).to_have_attribute("aria-checked", "true")
    page.keyboard.press("Space")
    page.wait_for_url("**/privacy/account?done=withdrawn#consent")
    expect(page.get_by_role("status")).to_have_text("Your consent is withdrawn.")
    expect(page.get_by_role("switch", name="Turn on: Analytics")).to_have_attribute(
        "aria-checked", "false"
    )
    shots.take(page, "consent-withdrawn")


def confirm_the_deletion(form: Any) -> None:
    """The deletion form lists what the legal holds keep; the person ticks the box with Space."""
    expect(form).to_contain_text("invoices: kept 10 years after transaction")
    box = form.get_by_role("checkbox")
    tab_to(form.page, box)
    form.page.keyboard.press("Space")
    expect(box).to_be_checked()


def check_no_residue(company: Company) -> None:
    """After the erasure, Cloudwarm's database holds nothing of the person but the invoices the
    law makes it keep, and the rewritten account row they refer to."""
    [(email, name, phone, password)] = company.query(
        "SELECT email, full_name, phone, password_hash FROM users WHERE id = ?", PERSON["id"]
    )
    assert email != EMAIL and "@" not in email  # the HMAC pseudonym
    assert (name, phone, password) == (None, None, "!erased")
    person = PERSON["id"]
    gone = {
        "homes": company.query("SELECT id FROM homes WHERE owner_id = ?", person),
        "home_members": company.query("SELECT home_id FROM home_members WHERE user_id = ?", person),
        "thermostats": company.query("SELECT id FROM thermostats WHERE home_id = ?", HOME["id"]),
        "readings": company.query(
            "SELECT COUNT(*) FROM temperature_readings WHERE thermostat_id IN"
            f" ({', '.join('?' for _ in THERMOSTATS)})",
            *THERMOSTATS,
        ),
        "tickets": company.query("SELECT id FROM support_tickets WHERE customer_email = ?", EMAIL),
        "newsletter": company.query(
            "SELECT id FROM newsletter_subscriptions WHERE email = ? OR user_id = ?", EMAIL, person
        ),
    }
    assert gone == {
        "homes": [],
        "home_members": [],
        "thermostats": [],
        "readings": [(0,)],
        "tickets": [],
        "newsletter": [],
    }
    held = company.query("SELECT number, billing_name FROM invoices WHERE user_id = ?", person)
    assert sorted(number for number, _ in held) == INVOICES
    # Nowhere else does anything identifying the person remain: every text cell of every table.
    traces = (EMAIL, PERSON["full_name"], NEW_NAME, PERSON["phone"], HOME["street"])
    assert all(unique_to_the_person(trace) for trace in traces)
    tables = [
        name for (name,) in company.query("SELECT name FROM sqlite_master WHERE type = 'table'")
    ]
    found = [
        (table, trace)
        for table in tables
        if table != "invoices"
        for row in company.query(f'SELECT * FROM "{table}"')  # the names come from the schema
        for cell in row
        for trace in traces
        if isinstance(cell, str) and trace in cell
    ]
    assert found == []


def test_a_person_sees_downloads_corrects_withdraws_and_deletes_with_the_keyboard_alone(
    cloudwarm: Company, page: Page, screenshots: Screenshots
) -> None:
    """The whole journey of a person, keyboard only, each step checked where it took effect."""
    subject_id = grant_at_sign_up(cloudwarm)
    sign_in(page, cloudwarm, screenshots)

    # See their data: an access request, confirmed, carried out, its report in the page.
    access = ask(page, cloudwarm, "access")
    carried_out(page, cloudwarm, access)
    read_the_report(page, cloudwarm, access, screenshots)

    # Download the copy, and check what is in it.
    check_the_copy(download_the_copy(page))
    press_on(page, page.get_by_role("link", name="Back"), backwards=True)
    page.wait_for_url("**/privacy/account#requests")

    # Correct the name: a field the declaration marks correctable.
    offered = page.get_by_label("Field to correct").locator("option")
    assert offered.evaluate_all("nodes => nodes.map(node => node.value)") == [
        *correctable(cloudwarm),
        "other",
    ]
    correction = ask(page, cloudwarm, "rectification", choose_the_name)
    carried_out(page, cloudwarm, correction)
    assert cloudwarm.query("SELECT full_name FROM users WHERE id = ?", PERSON["id"]) == [
        (NEW_NAME,)
    ]
    shots_after = screenshots.take(page, "corrected")
    assert shots_after.exists()

    # Withdraw the consent given at sign-up: the ledger holds the withdrawal, as a form event.
    withdraw_consent(page, screenshots)
    events = [
        event
        for event in cloudwarm.server.runtime.ledger.history(subject_id)
        if event.purpose == "analytics"
    ]
    assert [(event.decision, event.actor) for event in events] == [
        (ConsentDecision.GRANTED, "app"),
        (ConsentDecision.WITHDRAWN, "subject"),
    ]
    withdrawal = events[-1]
    assert withdrawal.channel is Channel.FORM
    assert withdrawal.notice_hash == notice_hash(cloudwarm.server.runtime.declaration, "analytics")
    assert withdrawal.evidence is not None and "Chrome" in (withdrawal.evidence.user_agent or "")
    shown = page.get_by_role("switch", name="Turn on: Analytics")
    expect(page.locator("li.switch-row").filter(has=shown)).to_contain_text(
        f"Notice version {withdrawal.notice_hash[:12]}"
    )
    assert cloudwarm.server.runtime.ledger.state(subject_id)["analytics"].granted is False

    # Delete the account: what legal holds keep is said first, then nothing else remains.
    erasure = ask(page, cloudwarm, "erasure", confirm_the_deletion)
    carried_out(page, cloudwarm, erasure)
    check_no_residue(cloudwarm)
    expect(page.locator("#requests tbody tr").filter(has_text="erasure")).to_contain_text(
        "completed"
    )
    screenshots.take(page, "deleted")
    assert len(screenshots.taken) == 7
