"""The pages' protections, each tried from outside: CSRF, cookies, CSP, rate limits, lockout,
session expiry, roles, and errors that are pages, not tracebacks."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.api_support import TestClient, declaration, settings
from tests.e2e.pages_support import (
    ADMIN,
    PASSWORD,
    add_staff,
    client,
    outbox,
    pages_of,
    post,
    sign_in_person,
    sign_in_staff,
    soup,
    token,
)

from pledge.app import Runtime, build_runtime


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
    """A runtime on a fresh SQLite file with a hand-moved clock and a low sign-in limit."""
    runtime = build_runtime(
        settings(tmp_path, sign_in_rate_limit=4),
        declaration=declaration(),
        upgrade=True,
        clock=clock,
    )
    yield runtime
    runtime.close()


def test_a_form_without_its_token_is_refused_and_changes_nothing(built: Runtime) -> None:
    """Sign-in without the CSRF token, or with another browser's, is 403; no session opens."""
    browser = client(built)
    add_staff(browser)
    browser.get("/admin/login")
    bare = browser.post("/admin/login", data={"email": ADMIN, "password": PASSWORD})
    assert bare.status_code == 403
    assert "expired or did not come from this site" in bare.text
    other = client(built)
    foreign = token(other, "/admin/login")
    forged = browser.post(
        "/admin/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": foreign}
    )
    assert forged.status_code == 403
    assert "pledge_staff" not in browser.cookies
    assert browser.get("/admin").status_code == 303


def test_a_post_from_another_origin_is_refused(built: Runtime) -> None:
    """A matching token with the Origin of another site is still refused."""
    browser = client(built)
    add_staff(browser)
    mark = token(browser, "/admin/login")
    answer = browser.post(
        "/admin/login",
        data={"email": ADMIN, "password": PASSWORD, "csrf_token": mark},
        headers={"Origin": "https://evil.example"},
    )
    assert answer.status_code == 403


def test_consent_cannot_be_changed_across_sites(built: Runtime) -> None:
    """A signed-in person's consent is not changed by a post without the token."""
    browser = client(built)
    sign_in_person(browser, built, "ann@example.com")
    answer = browser.post("/privacy/consent", data={"purpose": "newsletter", "decision": "grant"})
    assert answer.status_code == 403
    subject = built.subjects.find(_email("ann@example.com"))
    assert subject is not None and built.ledger.state(subject) == {}


def _email(address: str):  # type: ignore[no-untyped-def]
    from pledge.subjects.model import Identity

    return Identity.parse("email", address)


def _csrf_cookie(browser: TestClient) -> str:
    value = browser.cookies.get("pledge_csrf")
    assert value
    return value


def _plant_csrf_cookie(browser: TestClient, value: str) -> None:
    """Put a CSRF cookie of another browser's in ``browser`` (a sibling site can toss one)."""
    browser.cookies.delete("pledge_csrf")
    browser.cookies.set("pledge_csrf", value, domain="testserver.local", path="/")


def test_a_staff_form_token_works_only_in_its_own_session(built: Runtime) -> None:
    """A token made for another staff session, even with its CSRF cookie planted, or for this
    browser's previous session, is refused; the session's own token works."""
    victim = client(built)
    add_staff(victim)
    add_staff(victim, "bob@acme.example", "admin", "Bob")
    sign_in_staff(victim)
    attacker = client(built)
    sign_in_staff(attacker, "bob@acme.example")
    form = {"email": "eve@acme.example", "name": "Eve", "role": "admin", "password": PASSWORD}
    planted = token(attacker, "/admin/staff")
    _plant_csrf_cookie(victim, _csrf_cookie(attacker))
    assert victim.post("/admin/staff", data={**form, "csrf_token": planted}).status_code == 403
    before = token(victim, "/admin/staff")
    post(victim, "/admin/logout", {}, form_page="/admin")
    sign_in_staff(victim)
    assert victim.post("/admin/staff", data={**form, "csrf_token": before}).status_code == 403
    pages = victim.app.state.pages  # type: ignore[attr-defined]
    assert [member.name for member in pages.staff.list()] == ["Ada", "Bob"]
    assert post(victim, "/admin/staff", form, form_page="/admin/staff").status_code == 303


def test_a_persons_form_token_works_only_in_their_own_session(built: Runtime) -> None:
    """The same for people: another person's token and cookie, or an earlier session's token,
    change no consent."""
    victim = client(built)
    sign_in_person(victim, built, "ann@example.com")
    attacker = client(built)
    sign_in_person(attacker, built, "eve@example.com")
    grant = {"purpose": "newsletter", "decision": "grant"}
    planted = token(attacker, "/privacy/account")
    _plant_csrf_cookie(victim, _csrf_cookie(attacker))
    assert victim.post("/privacy/consent", data={**grant, "csrf_token": planted}).status_code == 403
    before = token(victim, "/privacy/account")
    post(victim, "/privacy/sign-out", {}, form_page="/privacy/account")
    sign_in_person(victim, built, "ann@example.com")
    assert victim.post("/privacy/consent", data={**grant, "csrf_token": before}).status_code == 403
    subject = built.subjects.find(_email("ann@example.com"))
    assert subject is not None and built.ledger.state(subject) == {}
    assert post(victim, "/privacy/consent", grant, form_page="/privacy/account").status_code == 303
    assert built.ledger.state(subject)["newsletter"].granted


def test_pages_carry_a_strict_policy_and_cookies_are_guarded(built: Runtime) -> None:
    """CSP without inline script, no framing, sniffing or caching; cookies HttpOnly, SameSite."""
    browser = client(built)
    add_staff(browser)
    page = browser.get("/privacy")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    csrf_cookie = page.headers["set-cookie"].lower()
    assert "httponly" in csrf_cookie and "samesite=strict" in csrf_cookie
    assert "secure" not in csrf_cookie  # plain HTTP on loopback
    mark = token(browser, "/admin/login")
    signed = browser.post(
        "/admin/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": mark}
    )
    session_cookie = signed.headers["set-cookie"].lower()
    assert "pledge_staff=" in session_cookie and "httponly" in session_cookie
    assert "samesite=strict" in session_cookie and "path=/admin" in session_cookie
    assert not soup(page.text).find_all("script", src=False)


def test_cookies_are_secure_under_https(tmp_path: Path) -> None:
    """With a public https address every cookie of the pages is Secure."""
    runtime = build_runtime(
        settings(tmp_path, public_url="https://privacy.acme.example"),
        declaration=declaration(),
        upgrade=True,
    )
    try:
        page = client(runtime).get("/privacy")
        assert "secure" in page.headers["set-cookie"].lower()
    finally:
        runtime.close()


def _sign_in_answer(browser: TestClient, email: str, password: str) -> tuple[int, str]:
    answer = post(
        browser, "/admin/login", {"email": email, "password": password}, form_page="/admin/login"
    )
    return answer.status_code, soup(answer.text).find(role="alert").get_text(strip=True)


def test_five_wrong_passwords_lock_the_account(built: Runtime, clock: Clock) -> None:
    """After five wrong passwords even the right one is refused, until the lockout ends."""
    browser = client(built)
    add_staff(browser)
    pages = browser.app.state.pages  # type: ignore[attr-defined]
    pages.sign_in_limiter.capacity = 1000.0  # this test is about the lockout, not the rate
    for _ in range(5):
        status, _message = _sign_in_answer(browser, ADMIN, "wrong password!")
        assert status == 401
    status, _message = _sign_in_answer(browser, ADMIN, PASSWORD)
    assert status == 401 and "pledge_staff" not in browser.cookies
    assert browser.get("/admin").headers["location"] == "/admin/login"
    clock.now += dt.timedelta(minutes=16)
    sign_in_staff(browser)


def test_a_locked_account_reads_like_an_unknown_address(built: Runtime) -> None:
    """Six tries at a real account (locked after five) and at an address no account has get
    the same status and message at every step: the answers do not tell which one exists."""
    browser = client(built)
    add_staff(browser)
    pages = browser.app.state.pages  # type: ignore[attr-defined]
    pages.sign_in_limiter.capacity = 1000.0
    real = [_sign_in_answer(browser, ADMIN, "wrong password!") for _ in range(5)]
    real.append(_sign_in_answer(browser, ADMIN, PASSWORD))  # locked: refused all the same
    unknown = [_sign_in_answer(browser, "nobody@acme.example", "wrong password!") for _ in range(6)]
    assert real == unknown
    assert len(set(real)) == 1 and real[0][0] == 401


def test_an_unknown_address_reads_like_a_wrong_password(built: Runtime) -> None:
    """The answer for an unknown staff address is the same as for a wrong password."""
    browser = client(built)
    add_staff(browser)
    unknown = post(
        browser,
        "/admin/login",
        {"email": "nobody@acme.example", "password": PASSWORD},
        form_page="/admin/login",
    )
    wrong = post(
        browser,
        "/admin/login",
        {"email": ADMIN, "password": "not the password"},
        form_page="/admin/login",
    )
    assert unknown.status_code == wrong.status_code == 401
    assert soup(unknown.text).find(role="alert").text == soup(wrong.text).find(role="alert").text


def test_sign_in_attempts_are_rate_limited_per_client(built: Runtime) -> None:
    """Past the limit a sign-in is answered 429 with Retry-After, and no code is sent."""
    browser = client(built)
    answers = [
        post(
            browser,
            "/privacy/sign-in",
            {"email": f"p{n}@example.com"},
            form_page="/privacy/sign-in",
        )
        for n in range(5)
    ]
    assert [answer.status_code for answer in answers] == [303, 303, 303, 303, 429]
    assert "retry-after" in answers[-1].headers
    assert "Too many attempts" in answers[-1].text
    assert len([mail for mail in outbox(built).mails if mail.kind == "sign_in"]) == 4


def test_asking_for_a_code_never_tells_whether_an_address_is_known(built: Runtime) -> None:
    """A known and an unknown address get the same page and the same mail text."""
    built.subjects.find_or_create(_email("known@example.com"), actor="tests")
    pages = []
    for address in ("known@example.com", "stranger@example.com"):
        browser = client(built)
        sent = post(browser, "/privacy/sign-in", {"email": address}, form_page="/privacy/sign-in")
        pages.append(
            (sent.status_code, sent.headers["location"], browser.get(sent.headers["location"]).text)
        )
    assert pages[0][:2] == pages[1][:2]
    assert soup(pages[0][2]).main.get_text() == soup(pages[1][2]).main.get_text()
    texts = [mail.text.split("    ")[0] for mail in outbox(built).mails]
    assert texts[0] == texts[1]


def test_five_wrong_codes_end_a_code(built: Runtime) -> None:
    """After five wrong codes the right one no longer signs in."""
    browser = client(built)
    pages = browser.app.state.pages  # type: ignore[attr-defined]
    pages.sign_in_limiter.capacity = 1000.0
    post(browser, "/privacy/sign-in", {"email": "ann@example.com"}, form_page="/privacy/sign-in")
    mail = outbox(built).last_mail("ann@example.com", "sign_in")
    assert mail is not None
    right = next(line.strip() for line in mail.text.splitlines() if line.startswith("    "))
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(5):
        answer = post(
            browser, "/privacy/sign-in/code", {"code": wrong}, form_page="/privacy/sign-in/code"
        )
        assert answer.status_code == 401
    late = post(
        browser, "/privacy/sign-in/code", {"code": right}, form_page="/privacy/sign-in/code"
    )
    assert late.status_code == 401 and "too many wrong codes" in late.text
    assert browser.get("/privacy/account").headers["location"] == "/privacy/sign-in"


def test_staff_sessions_expire_when_idle_and_when_disabled(built: Runtime, clock: Clock) -> None:
    """Thirty idle minutes end a staff session; so does disabling the account."""
    browser = client(built)
    add_staff(browser)
    sign_in_staff(browser)
    assert browser.get("/admin").status_code == 200
    clock.now += dt.timedelta(minutes=29)
    assert browser.get("/admin").status_code == 200
    clock.now += dt.timedelta(minutes=31)
    assert browser.get("/admin").headers["location"] == "/admin/login"
    sign_in_staff(browser)
    pages = browser.app.state.pages  # type: ignore[attr-defined]
    member = pages.staff.list()[0]
    pages.staff.disable(member.id, actor="tests")
    assert browser.get("/admin").status_code == 303


def test_a_session_cookie_made_up_opens_nothing(built: Runtime) -> None:
    """A random token in the session cookie is no session."""
    browser = client(built)
    browser.cookies.set("pledge_staff", secrets.token_urlsafe(32), path="/admin")
    assert browser.get("/admin").headers["location"] == "/admin/login"


def test_roles_limit_what_staff_may_do(built: Runtime) -> None:
    """A viewer cannot read the audit trail, the outbox or deny; support cannot deny."""
    browser = client(built)
    add_staff(browser, "vic@acme.example", "viewer", "Vic")
    sign_in_staff(browser, "vic@acme.example")
    assert browser.get("/admin").status_code == 200
    assert browser.get("/admin/audit").status_code == 403
    assert browser.get("/admin/outbox").status_code == 403
    assert browser.get("/admin/staff").status_code == 403
    denied = post(
        browser,
        "/admin/requests/01JD3Z6X6M0000000000000000/deny",
        {"reason": "no"},
        form_page="/admin",
    )
    assert denied.status_code == 403


def test_bad_input_gets_a_page_not_a_traceback(built: Runtime) -> None:
    """Unknown pages, malformed filters and bodies answer with an HTML page that says so."""
    browser = client(built)
    add_staff(browser)
    sign_in_staff(browser)
    for path in (
        "/privacy/nothing-here",
        "/admin/requests/nope",
        "/admin?state=bogus",
        "/admin/audit?since=yesterday",
        "/privacy/policy/versions/zz",
    ):
        answer = browser.get(path)
        assert answer.status_code in (404, 422), path
        assert answer.headers["content-type"].startswith("text/html"), path
        assert "Traceback" not in answer.text and "Something went wrong" in answer.text
    garbage = browser.post(
        "/admin/login",
        content=b"\xff\xfe",
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert garbage.status_code in (400, 403) and "Traceback" not in garbage.text


def test_a_code_the_mail_server_did_not_take_is_said_so_without_a_server_error(
    built: Runtime,
) -> None:
    """The mail server is down: the sign-in page says the code could not be sent, with the
    address still in the form, no traceback, and no address in the log."""

    class Down:
        def deliver(self, mail: object) -> None:
            raise ConnectionRefusedError("mail.example: refused for who@example.com")

    browser = client(built)
    pages_of(browser).sign_in.mailer = Down()  # type: ignore[assignment]
    answer = post(
        browser, "/privacy/sign-in", {"email": "who@example.com"}, form_page="/privacy/sign-in"
    )
    assert answer.status_code == 422
    assert "could not be sent" in answer.text
    assert "Traceback" not in answer.text
