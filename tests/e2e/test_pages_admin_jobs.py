"""The admin console shows a request's notices to recipients, and a notice given up with its
reason: staff see what the runners could not finish."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import update
from tests.e2e.pages_support import add_staff, client, runtime, sign_in_staff, soup

from pledge.jobs.service import MAX_ATTEMPTS
from pledge.store.tables import jobs
from pledge.subjects.model import Identity


def test_a_notice_whose_runners_keep_stopping_is_shown_given_up_with_its_reason(
    tmp_path: Path,
) -> None:
    """A notice to a recipient whose runners stopped half-way MAX_ATTEMPTS times is given up,
    never claimed again, and the request's page lists it with the reason."""
    built = runtime(tmp_path)
    request = built.requests.submit(
        "restriction",
        Identity.parse("email", "ann@example.org"),
        on_behalf_of_staff="Sam",
        skip_verification_reason="in person",
    )
    key = f"recipient:{request.id}:partners"
    with built.database.transaction() as connection:
        built.jobs.enqueue(
            connection, "recipient", key, {"recipient": "partners"}, request_id=request.id
        )
    for _ in range(MAX_ATTEMPTS):
        assert built.jobs.claim("a runner that stops", key=key) is not None
        with built.database.transaction() as connection:
            connection.execute(
                update(jobs)
                .where(jobs.c.key == key)
                .values(lease_until=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
            )
    built.runner().run_once()
    try:
        (notice,) = built.jobs.notices(request.id)
        assert notice["state"] == "dead"
        browser = client(built)
        add_staff(browser)
        sign_in_staff(browser)
        page = soup(browser.get(f"/admin/requests/{request.id}").text)
        notices = page.find("h3", string="Notices to recipients (GDPR Art. 19)")
        assert notices is not None
        listed = notices.find_next("ul").get_text(" ", strip=True)
        assert "partners: dead, 8 attempts" in listed
        assert "given up after 8 attempts" in listed
    finally:
        built.close()
