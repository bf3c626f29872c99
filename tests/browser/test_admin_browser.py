"""A staff member's journey through the admin console in Chromium.

Ada, Cloudwarm's privacy officer (her account made as ``pledge admin create`` makes it), signs
in, finds an erasure request in the queue and extends it with a reason, then approves an
access request: the server's own job runner carries it out in Cloudwarm's app database, the
person is told by mail (a real SMTP server on loopback), and the report can be downloaded.
Every step is read back where it took effect: the mail, the request, the audit trail.
Screenshots of the steps are saved under ``screenshots/`` in pytest's base temporary folder
(see the ``screenshots`` fixture).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

from playwright.sync_api import Page, expect
from tests.browser.conftest import Company, Screenshots, code_in, text_of
from tests.cloudwarm import SEED

from pledge.requests.model import SubjectRequest
from pledge.staff.service import StaffAccounts
from pledge.subjects.model import Identity

USERS = SEED.rows()["users"]
ERASING, ACCESSING, WAITING = USERS[1], USERS[3], USERS[2]
STAFF_EMAIL = "ada@cloudwarm.example"
STAFF_NAME = "Ada Lovelace"
PASSWORD = "correct horse battery staple"
REASON = "Our accounting system must be searched as well; it answers within six weeks."


def submitted(company: Company, kind: str, email: str, *, verify: bool = True) -> SubjectRequest:
    """A request as a person makes it through the API, confirmed with the mailed code."""
    requests = company.server.runtime.requests
    made = requests.submit(kind, Identity.parse("email", email))
    if not verify:
        return made
    code = code_in(company.mailbox.take(email, "confirm your privacy request"))
    return requests.verify(made.id, code)


def queue_ids(page: Page) -> list[str]:
    """The request ids of the queue's rows, in their order."""
    rows = page.locator("table.queue tbody tr")
    return rows.evaluate_all("rows => rows.map(row => row.dataset.request)")


def sign_in(page: Page, company: Company, shots: Screenshots) -> None:
    """Any admin page asks for a sign-in first; e-mail address and password open the queue."""
    page.goto(f"{company.server.url}/admin")
    page.wait_for_url("**/admin/login")
    shots.take(page, "login")
    page.get_by_label("E-mail address").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()  # a wrong password is refused
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/admin$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Request queue")
    expect(page.locator("header")).to_contain_text(f"{STAFF_NAME} (privacy officer)")


def extend_the_erasure(
    page: Page, company: Company, erasure: SubjectRequest, shots: Screenshots
) -> None:
    """Find the erasure with the queue's filter, extend it by two months with a reason."""
    page.get_by_label("Type").select_option("erasure")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/admin?*type=erasure*")
    assert queue_ids(page) == [erasure.id]
    shots.take(page, "queue-filtered")
    page.get_by_role("link", name=erasure.id).click()
    page.wait_for_url(f"**/admin/requests/{erasure.id}")
    plan = page.locator("section", has=page.get_by_role("heading", name="Plan"))
    expect(plan).to_contain_text("app.users: 1 row,")
    extend = page.get_by_role("form", name="Extend the deadline")
    extend.get_by_label("Reason (the person reads it)").fill(REASON)
    extend.get_by_label("By (GDPR months, CCPA days; empty: all allowed)").fill("2")
    extend.get_by_role("button", name="Extend the deadline").click()
    page.wait_for_url(f"**/admin/requests/{erasure.id}?done=extended")
    expect(page.get_by_role("status")).to_have_text(
        "The deadline is extended; the person was told."
    )
    extended = company.server.runtime.requests.get(erasure.id)
    assert (extended.extension, extended.extension_reason) == (2, REASON)
    assert extended.due_at > erasure.due_at
    expect(page.locator("dl.facts")).to_contain_text(REASON)
    told = text_of(company.mailbox.take(ERASING["email"], "more time for your request"))
    assert REASON in told and extended.due_at.strftime("%d %B %Y") in told
    expect(page.locator(".timeline")).to_contain_text(f"request.extended · staff:{STAFF_NAME}")
    shots.take(page, "extended")


def approve_the_access(
    page: Page, company: Company, access: SubjectRequest, shots: Screenshots
) -> None:
    """Approve the access request; the job runs; its report can be downloaded."""
    page.get_by_role("link", name="Request queue").first.click()
    page.wait_for_url(re.compile(r"/admin$"))
    page.get_by_role("link", name=access.id).click()
    page.wait_for_url(f"**/admin/requests/{access.id}")
    page.get_by_role("button", name="Approve and carry out").click()
    page.wait_for_url(f"**/admin/requests/{access.id}?done=approved")
    expect(page.get_by_role("status")).to_have_text("The request is approved and queued.")
    shots.take(page, "approved")
    done = company.mailbox.take(ACCESSING["email"], "your privacy request is done")
    assert f"Request {access.id}" in text_of(done)
    page.goto(f"{company.server.url}/admin/requests/{access.id}")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("completed")
    progress = page.locator("section", has=page.get_by_role("heading", name="Progress"))
    expect(progress).to_contain_text("Job done")
    timeline = page.locator(".timeline")
    for action in ("request.planned", "request.running", "request.completed"):
        expect(timeline).to_contain_text(action)
    expect(timeline).to_contain_text(f"request.planned · staff:{STAFF_NAME}")
    shots.take(page, "carried-out")
    with page.expect_download() as downloading:
        progress.get_by_role("link", name="Download (zip)").click()
    with zipfile.ZipFile(downloading.value.path()) as archive:
        users = list(csv.DictReader(io.StringIO(archive.read("app/users.csv").decode())))
    assert [row["email"] for row in users] == [ACCESSING["email"]]


def read_the_audit_trail(page: Page, shots: Screenshots) -> None:
    """The audit trail, filtered to Ada, names each of her actions; its chains verify."""
    page.get_by_role("navigation").get_by_role("link", name="Audit trail").click()
    page.get_by_label("Actor").fill(f"staff:{STAFF_NAME}")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/admin/audit?*actor=staff*")
    actions = page.locator("table.audit tbody tr td:nth-child(3)").all_text_contents()
    assert {"staff.signed_in", "request.extended", "request.planned"} <= set(actions)
    assert set(page.locator("table.audit tbody tr td:nth-child(4)").all_text_contents()) == {
        f"staff:{STAFF_NAME}"
    }
    page.get_by_role("button", name="Verify the chains").click()
    expect(page.get_by_role("status")).to_contain_text("No record was edited or deleted.")
    shots.take(page, "audit")


def test_a_privacy_officer_extends_one_request_and_approves_another_which_is_carried_out(
    cloudwarm: Company, page: Page, screenshots: Screenshots
) -> None:
    """From sign-in to a carried-out request, each step read back where it took effect."""
    runtime = cloudwarm.server.runtime
    StaffAccounts(runtime.database).create(
        STAFF_EMAIL, STAFF_NAME, "privacy_officer", PASSWORD, actor="cli"
    )
    erasure = submitted(cloudwarm, "erasure", ERASING["email"])
    access = submitted(cloudwarm, "access", ACCESSING["email"])
    waiting = submitted(cloudwarm, "access", WAITING["email"], verify=False)

    sign_in(page, cloudwarm, screenshots)
    assert set(queue_ids(page)) == {erasure.id, access.id, waiting.id}
    shots_of_queue = screenshots.take(page, "queue")
    assert shots_of_queue.exists()

    extend_the_erasure(page, cloudwarm, erasure, screenshots)
    approve_the_access(page, cloudwarm, access, screenshots)
    read_the_audit_trail(page, screenshots)

    # Extending changed nothing in the datastore; only the approved request was carried out.
    assert runtime.requests.get(erasure.id).state == "verified"
    assert cloudwarm.query("SELECT email FROM users WHERE id = ?", ERASING["id"]) == [
        (ERASING["email"],)
    ]
    assert runtime.requests.get(access.id).state == "completed"
    assert len(screenshots.taken) == 7
