"""axe-core in Chromium over the privacy center and the admin console: no serious or critical
violation on any page, in the state a person or a staff member sees it with data in it.

axe-core comes from npm (``package.json``; ``make test`` runs ``npm ci``). It is added to each
page as an init script, outside the page's Content-Security-Policy, which stays enforced.
Without it the tests are skipped, with the reason, except under CI (``CI=true``), where a
missing axe-core fails them.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page
from tests.browser.conftest import ROOT, Company, code_in

from pledge.consent.model import Channel
from pledge.requests.model import SubjectRequest
from pledge.staff.service import StaffAccounts
from pledge.subjects.model import Identity

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
PERSON = "li.rossi1@example.com"
STAFF_EMAIL = "ada@cloudwarm.example"
PASSWORD = "correct horse battery staple"
RUN_AXE = """async () => {
  document.querySelectorAll("details").forEach(node => { node.open = true; });
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map(violation => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    nodes: violation.nodes.map(node => node.target.join(" ") + ": " + node.failureSummary),
  }));
}"""


@pytest.fixture
def axe(context: BrowserContext) -> BrowserContext:
    """The browser profile with axe-core in every page it opens."""
    if not AXE.exists():
        reason = "axe-core is not installed: run npm ci (make test does, when npm is installed)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; the accessibility tests must run under CI")
        pytest.skip(reason)
    context.add_init_script(path=AXE)
    return context


def violations(page: Page, url: str, status: int = 200) -> list[str]:
    """The serious and critical axe violations of the page at ``url``, every section open."""
    response = page.goto(url)
    assert response is not None and response.status == status, f"{url}: {response}"
    found: list[dict[str, Any]] = page.evaluate(RUN_AXE)
    return [
        f"{url}: {item['id']} ({item['impact']}): {item['help']}\n    "
        + "\n    ".join(item["nodes"])
        for item in found
        if item["impact"] in BLOCKING
    ]


def carried_out(company: Company, kind: str, email: str) -> SubjectRequest:
    """A request made, confirmed with its mailed code, approved and carried out by the runner."""
    runtime = company.server.runtime
    made = runtime.requests.submit(kind, Identity.parse("email", email))
    runtime.requests.verify(made.id, code_in(company.mailbox.take(email, "confirm your privacy")))
    runtime.execution.approve(made.id, actor="staff:Ada")
    company.mailbox.take(email, "your privacy request is done")
    return runtime.requests.get(made.id)


def test_the_privacy_center_has_no_serious_accessibility_violations(
    axe: BrowserContext, cloudwarm: Company
) -> None:
    """Front page, policy, sign-in, code, the person's page with a report, the report, forms."""
    runtime = cloudwarm.server.runtime
    subject_id = runtime.subjects.find_or_create(Identity.parse("email", PERSON), actor="app")
    runtime.ledger.grant(subject_id, "analytics", channel=Channel.FORM, actor="app")
    access = carried_out(cloudwarm, "access", PERSON)
    waiting = runtime.requests.submit("erasure", Identity.parse("email", PERSON))
    base = cloudwarm.server.url
    page = axe.new_page()
    found = [
        *violations(page, f"{base}/privacy"),
        *violations(page, f"{base}/privacy/policy"),
        *violations(page, f"{base}/privacy/policy/versions"),
        *violations(page, f"{base}/privacy/contact"),
        *violations(page, f"{base}/privacy/child"),
        *violations(page, f"{base}/privacy/sign-in"),
    ]
    page.get_by_label("E-mail address").fill(PERSON)
    page.get_by_role("button", name="Send me a code").click()
    page.wait_for_url("**/privacy/sign-in/code")
    found += violations(page, page.url)
    page.get_by_label("Code").fill(code_in(cloudwarm.mailbox.take(PERSON, "sign-in code")))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/privacy/account")
    found += [
        *violations(page, f"{base}/privacy/account"),
        *violations(page, f"{base}/privacy/requests/{access.id}/report"),
        *violations(page, f"{base}/privacy/requests/{waiting.id}/confirm"),
        *violations(page, f"{base}/privacy/requests/unknown/report", 404),  # an error
    ]
    assert found == [], "\n".join(found)


def test_the_admin_console_has_no_serious_accessibility_violations(
    axe: BrowserContext, cloudwarm: Company
) -> None:
    """Login, queue, a request with its actions and one carried out, dashboards, audit, staff."""
    runtime = cloudwarm.server.runtime
    StaffAccounts(runtime.database).create(STAFF_EMAIL, "Ada", "admin", PASSWORD, actor="cli")
    subject_id = runtime.subjects.find_or_create(Identity.parse("email", PERSON), actor="app")
    runtime.ledger.grant(subject_id, "analytics", channel=Channel.FORM, actor="app")
    runtime.ledger.withdraw(subject_id, "analytics", channel=Channel.FORM, actor="subject")
    done = carried_out(cloudwarm, "access", PERSON)
    waiting = runtime.requests.submit("erasure", Identity.parse("email", PERSON))
    base = cloudwarm.server.url
    page = axe.new_page()
    found = violations(page, f"{base}/admin/login")
    page.get_by_label("E-mail address").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin")
    for path in (
        "/admin",
        f"/admin/requests/{waiting.id}",
        f"/admin/requests/{done.id}",
        "/admin/consent",
        "/admin/datamap",
        "/admin/declaration",
        "/admin/audit",
        "/admin/outbox",
        "/admin/staff",
    ):
        found += violations(page, f"{base}{path}")
    assert found == [], "\n".join(found)


def test_axe_finds_what_it_is_here_to_find(axe: BrowserContext) -> None:
    """The check can fail: a page with an unlabelled field and faint text has violations."""
    page = axe.new_page()
    page.set_content(
        '<html lang="en"><body><main><h1>Test</h1><input type="text">'
        '<p style="color:#ccc;background:#fff">faint</p></main></body></html>'
    )
    found: list[dict[str, Any]] = page.evaluate(RUN_AXE)
    assert {"label", "color-contrast"} <= {
        item["id"] for item in found if item["impact"] in BLOCKING
    }
