"""The cookie banner in Chromium, on the demo shop (``examples/banner``) served by a live Pledge.

Each test starts its own server (a fresh ledger) and its own browser profile (no cookies).
What the banner recorded is read back from the server's consent ledger.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect
from tests.browser.conftest import LiveServer, Serve

from pledge.subjects.model import Identity

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "banner"
DECLARATION = (DEMO / "pledge.yaml").read_text(encoding="utf-8")
CONSENT_URL = "**/api/v1/public/consent"
WAITING = ("analytics.js", "ads.js", "offer.html")
GPC_ON = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
FOCUSED = """() => {
  const outer = document.activeElement;
  const inner = outer && outer.shadowRoot ? outer.shadowRoot.activeElement : null;
  const node = inner || outer;
  return {
    inBanner: outer !== null && outer.id === "pledge-banner",
    label: node.getAttribute("data-action") || node.getAttribute("name") || node.className
      || node.tagName.toLowerCase(),
    outline: getComputedStyle(node).outlineStyle,
    outlineWidth: parseFloat(getComputedStyle(node).outlineWidth),
  };
}"""


@pytest.fixture
def shop(serve: Serve) -> LiveServer:
    """Pledge serving the demo shop's declaration, and the shop's pages under /demo/."""
    return serve(DECLARATION, mounts={"/demo": DEMO})


def shop_url(server: LiveServer, query: str = "") -> str:
    """The demo page, on the origin ``localhost`` (the banner's cookie is first-party there)."""
    return f"{server.at('localhost')}/demo/index.html{query}"


def record_requests(page: Page) -> list[str]:
    """The URLs the page requests from now on."""
    seen: list[str] = []

    def note(request: Request) -> None:
        seen.append(request.url)

    page.on("request", note)
    return seen


def waiting_requests(seen: list[str]) -> list[str]:
    """The requests for what waits for consent (the fake analytics and advertising)."""
    return [url for url in seen if url.endswith(WAITING)]


def cookies(context: BrowserContext) -> dict[str, str]:
    """The browser's cookies, name → value."""
    return {cookie["name"]: cookie["value"] for cookie in context.cookies()}


def device_id(context: BrowserContext) -> str:
    """The anonymous device id the banner keeps in its cookie."""
    return parse_qs(cookies(context)["pledge_consent"])["d"][0]


def ledger(server: LiveServer, device: str) -> list[tuple[str, str, str, str]]:
    """(purpose, decision, channel, policy version) of each event recorded for the device."""
    subject_id = server.runtime.subjects.find(Identity.parse("device", device))
    if subject_id is None:
        return []
    return [
        (event.purpose, event.decision.value, event.channel.value, event.declaration_version)
        for event in server.runtime.ledger.history(subject_id)
    ]


def dialog(page: Page) -> Any:
    """The banner's dialog."""
    return page.get_by_role("dialog")


def choose(page: Page, button: str) -> dict[str, Any]:
    """Click a button of the dialog; wait for the choice to reach the ledger; its answer."""
    with page.expect_response(CONSENT_URL) as answer:
        dialog(page).get_by_role("button", name=button, exact=True).click()
    response = answer.value
    assert response.status == 200, response.text()
    body: dict[str, Any] = response.json()
    return body


def test_nothing_optional_runs_before_a_choice(shop: LiveServer, page: Page) -> None:
    """The banner asks; no cookie is set and nothing waiting is even requested."""
    seen = record_requests(page)
    page.goto(shop_url(shop))
    expect(dialog(page)).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert cookies(page.context) == {}
    assert waiting_requests(seen) == []
    assert page.evaluate("() => window.fakeAnalytics === undefined && window.fakeAds === undefined")
    assert page.locator("iframe").get_attribute("src") is None
    expect(page.locator("#analytics-status")).to_have_text("not running")


def test_accept_all_runs_what_waited_and_the_ledger_holds_each_grant(
    shop: LiveServer, page: Page
) -> None:
    """One click: the analytics, advertising and functional scripts run, the frame loads."""
    seen = record_requests(page)
    page.goto(shop_url(shop))
    answer = choose(page, "Accept all")
    expect(page.locator("#analytics-status")).to_contain_text("running")
    expect(page.locator("#ads-status")).to_contain_text("running")
    expect(page.locator("#functional-status")).to_have_text("running")
    expect(dialog(page)).to_have_count(0)
    assert sorted(url.rsplit("/", 1)[1] for url in waiting_requests(seen)) == sorted(WAITING)
    names = cookies(page.context)
    assert any(name.startswith("_pk_id.1.") for name in names)
    assert {"_ads_id", "tea_prefs", "pledge_consent"} <= set(names)
    assert answer["consent"] == {"preferences": "granted", "analytics": "granted", "ads": "granted"}
    assert sorted(ledger(shop, device_id(page.context))) == [
        ("ads", "granted", "banner", "1.0"),
        ("analytics", "granted", "banner", "1.0"),
        ("preferences", "granted", "banner", "1.0"),
    ]


def test_reject_all_is_as_prominent_and_takes_as_many_clicks_as_accept_all(
    shop: LiveServer, page: Page
) -> None:
    """The three first-layer buttons look alike and one click refuses everything, recorded."""
    seen = record_requests(page)
    page.goto(shop_url(shop))
    buttons = dialog(page).get_by_role("button")
    expect(buttons).to_have_count(3)
    looks = buttons.evaluate_all(
        """nodes => nodes.map(node => {
            const style = getComputedStyle(node);
            const box = node.getBoundingClientRect();
            return [Math.round(box.width), Math.round(box.height), style.fontSize,
                    style.fontWeight, style.color, style.backgroundColor, style.borderTopWidth];
        })"""
    )
    assert buttons.all_inner_texts() == ["Accept all", "Reject all", "Customise"]
    assert looks[0] == looks[1] == looks[2], looks
    answer = choose(page, "Reject all")
    assert answer["consent"] == {"preferences": "refused", "analytics": "refused", "ads": "refused"}
    page.reload()
    expect(dialog(page)).to_have_count(0)
    expect(page.get_by_role("button", name="Cookie settings")).to_be_visible()
    assert waiting_requests(seen) == []
    assert set(cookies(page.context)) == {"pledge_consent"}
    assert sorted(ledger(shop, device_id(page.context))) == [
        ("ads", "refused", "banner", "1.0"),
        ("analytics", "refused", "banner", "1.0"),
        ("preferences", "refused", "banner", "1.0"),
    ]


def test_a_withdrawal_deletes_the_category_cookies_and_is_recorded(
    shop: LiveServer, page: Page
) -> None:
    """Switching analytics off deletes its cookie; the next page does not load the script."""
    page.goto(shop_url(shop))
    choose(page, "Accept all")
    expect(page.locator("#analytics-status")).to_contain_text("running")
    assert any(name.startswith("_pk_id.") for name in cookies(page.context))
    page.get_by_role("button", name="Cookie settings").click()
    analytics = dialog(page).get_by_role("switch", name="Analytics")
    expect(analytics).to_be_checked()
    analytics.click()
    expect(analytics).not_to_be_checked()
    with page.expect_response(CONSENT_URL) as answer:
        dialog(page).get_by_role("button", name="Save choices").click()
    assert answer.value.json()["consent"]["analytics"] == "withdrawn"
    remaining = set(cookies(page.context))
    assert not any(name.startswith("_pk_id.") for name in remaining)
    assert {"_ads_id", "tea_prefs", "pledge_consent"} <= remaining
    seen = record_requests(page)
    page.reload()
    assert [url for url in seen if url.endswith("analytics.js")] == []
    assert any(url.endswith("ads.js") for url in seen)
    events = ledger(shop, device_id(page.context))
    assert events[-1] == ("analytics", "withdrawn", "banner", "1.0")
    assert len(events) == 4  # three grants, one withdrawal: unchanged choices are not repeated


def test_gpc_refuses_advertising_without_asking(shop: LiveServer, browser: Browser) -> None:
    """With Global Privacy Control the banner says so; even accept all leaves ads off."""
    context = browser.new_context()
    try:
        context.add_init_script(GPC_ON)
        page = context.new_page()
        seen = record_requests(page)
        page.goto(shop_url(shop))
        expect(dialog(page)).to_contain_text("Global Privacy Control")
        expect(dialog(page)).to_contain_text("Advertising stays refused")
        answer = choose(page, "Accept all")
        assert answer["gpc"] is True
        assert answer["consent"]["ads"] == "refused"
        page.wait_for_load_state("networkidle")
        assert not any(url.endswith(("ads.js", "offer.html")) for url in seen)
        assert "_ads_id" not in cookies(context)
        expect(page.locator("#analytics-status")).to_contain_text("running")
        page.get_by_role("button", name="Cookie settings").click()
        advertising = dialog(page).get_by_role("switch", name="Advertising")
        expect(advertising).not_to_be_checked()
        expect(advertising).to_be_disabled()
        assert sorted(ledger(shop, device_id(context))) == [
            ("ads", "refused", "gpc", "1.0"),
            ("analytics", "granted", "banner", "1.0"),
            ("preferences", "granted", "banner", "1.0"),
        ]
    finally:
        context.close()


def focus(page: Page) -> dict[str, Any]:
    """Where the keyboard focus is, and how it shows."""
    found: dict[str, Any] = page.evaluate(FOCUSED)
    return found


def tab_to(page: Page, label: str, limit: int = 30) -> None:
    """Press Tab until ``label`` (a button's action, a switch's name) has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focus(page)["label"] == label:
            return
    raise AssertionError(f"Tab never reached {label!r}")


def test_a_keyboard_only_journey(shop: LiveServer, page: Page) -> None:
    """Focus moves into the dialog, stays trapped in it, shows, and every step needs no mouse."""
    page.goto(shop_url(shop))
    expect(dialog(page)).to_be_visible()
    assert focus(page) == {**focus(page), "inBanner": True, "label": "dialog"}
    for _ in range(12):  # round and round: the focus never leaves the dialog
        page.keyboard.press("Tab")
        assert focus(page)["inBanner"]
    page.keyboard.press("Shift+Tab")
    assert focus(page)["inBanner"]
    tab_to(page, "accept")
    shown = focus(page)
    assert shown["outline"] != "none" and shown["outlineWidth"] >= 2
    tab_to(page, "customise")
    page.keyboard.press("Enter")
    expect(dialog(page).get_by_role("heading", name="Cookie settings")).to_be_visible()
    page.keyboard.press("Escape")  # back to the first layer: no choice was made yet
    expect(dialog(page).get_by_role("button", name="Customise")).to_be_visible()
    tab_to(page, "customise")
    page.keyboard.press("Enter")
    tab_to(page, "analytics")
    page.keyboard.press("Space")
    expect(dialog(page).get_by_role("switch", name="Analytics")).to_be_checked()
    tab_to(page, "save")
    with page.expect_response(CONSENT_URL):
        page.keyboard.press("Enter")
    expect(dialog(page)).to_have_count(0)
    assert focus(page) == {**focus(page), "inBanner": True, "label": "open"}
    expect(page.get_by_role("status")).to_have_text("Your cookie choices are saved.")
    assert sorted(ledger(shop, device_id(page.context))) == [
        ("ads", "refused", "banner", "1.0"),
        ("analytics", "granted", "banner", "1.0"),
        ("preferences", "refused", "banner", "1.0"),
    ]
    page.keyboard.press("Enter")  # the floating button has the focus: settings again
    expect(dialog(page).get_by_role("heading", name="Cookie settings")).to_be_visible()
    page.keyboard.press("Escape")  # a choice exists: Escape closes without a change
    expect(dialog(page)).to_have_count(0)


def test_the_dialog_tells_assistive_technology_what_it_is(shop: LiveServer, page: Page) -> None:
    """A labelled modal dialog; switches with names and states; each cookie described."""
    page.goto(shop_url(shop))
    banner = dialog(page)
    expect(banner).to_have_attribute("aria-modal", "true")
    expect(page.get_by_role("dialog", name="Cookies on Teapot & Co")).to_be_visible()
    banner.get_by_role("button", name="Customise").click()
    expect(page.get_by_role("dialog", name="Cookie settings")).to_be_visible()
    necessary = banner.get_by_role("switch", name="Strictly necessary")
    expect(necessary).to_be_checked()
    expect(necessary).to_be_disabled()
    for name in ("Functional", "Analytics", "Advertising"):
        switch = banner.get_by_role("switch", name=name)
        expect(switch).not_to_be_checked()  # nothing is switched on for the person
        expect(switch).to_be_enabled()
    section = banner.locator("section[data-category=analytics]")
    expect(section).to_contain_text("Off")  # the state in words, not only in colour
    section.get_by_text("Cookies (1)").click()
    row = section.get_by_role("row", name="_pk_id*")
    expect(row).to_contain_text("Teapot & Co (self-hosted analytics)")
    expect(row).to_contain_text("Analytics")
    expect(row).to_contain_text("13 months")
    necessary_rows = banner.locator("section[data-category=strictly_necessary]")
    necessary_rows.get_by_text("Cookies (2)").click()
    expect(necessary_rows.get_by_role("row", name="basket")).to_contain_text(
        "Until the browser closes"
    )


def test_the_banner_speaks_the_page_language(shop: LiveServer, page: Page) -> None:
    """On a German page the banner is German, durations included."""
    page.goto(shop_url(shop, "?lang=de"))
    banner = page.get_by_role("dialog", name="Cookies bei Teapot & Co")
    expect(banner).to_be_visible()
    assert banner.get_by_role("button").all_inner_texts() == [
        "Alle akzeptieren",
        "Alle ablehnen",
        "Anpassen",
    ]
    banner.get_by_role("button", name="Anpassen").click()
    banner = page.get_by_role("dialog", name="Cookie-Einstellungen")
    section = banner.locator("section[data-category=analytics]")
    section.get_by_text("Cookies (1)").click()
    expect(section).to_contain_text("13 Monate")
    expect(banner.get_by_role("switch", name="Statistik")).to_be_visible()


def test_a_changed_cookie_list_asks_again(serve: Serve, page: Page) -> None:
    """A declaration with another cookie re-prompts; nothing runs until the new choice."""
    first = serve(DECLARATION, mounts={"/demo": DEMO})
    page.goto(shop_url(first))
    choose(page, "Accept all")
    device = device_id(page.context)
    page.reload()
    expect(page.locator("#analytics-status")).to_contain_text("running")
    expect(dialog(page)).to_have_count(0)

    more_cookies = DECLARATION.replace(
        "  _ads_id:\n",
        "  _pk_ses*:\n"
        "    provider: Teapot & Co (self-hosted analytics)\n"
        "    category: analytics\n"
        "    purpose: analytics\n"
        "    duration: PT30M\n"
        "  _ads_id:\n",
    )
    assert more_cookies != DECLARATION
    changed = serve(more_cookies, mounts={"/demo": DEMO})
    seen = record_requests(page)
    page.goto(shop_url(changed))  # cookies ignore the port: the choice made above is read
    expect(dialog(page)).to_be_visible()
    assert waiting_requests(seen) == []
    choose(page, "Reject all")
    assert device_id(page.context) == device  # the same anonymous device, asked again
    assert sorted(ledger(changed, device)) == [
        ("ads", "withdrawn", "banner", "1.0"),
        ("analytics", "withdrawn", "banner", "1.0"),
        ("preferences", "withdrawn", "banner", "1.0"),
    ]


def test_a_choice_older_than_its_maximum_age_asks_again(shop: LiveServer, page: Page) -> None:
    """The declared duration of pledge_consent (six months) bounds how long a choice lasts."""
    page.goto(shop_url(shop))
    choose(page, "Accept all")
    stored = cookies(page.context)["pledge_consent"]
    seven_months_ago = int(page.evaluate("Date.now() / 1000")) - 213 * 86400
    aged = "&".join(
        f"t={seven_months_ago}" if part.startswith("t=") else part for part in stored.split("&")
    )
    page.context.add_cookies([{"name": "pledge_consent", "value": aged, "url": shop_url(shop)}])
    page.reload()
    expect(dialog(page)).to_be_visible()
    expect(page.locator("#analytics-status")).to_have_text("not running")


def test_settings_reopen_from_a_site_link_and_the_api_reports_changes(
    shop: LiveServer, page: Page
) -> None:
    """A link the site places opens the settings; PledgeConsent reads and reports choices."""
    page.goto(shop_url(shop))
    before = page.evaluate("() => window.PledgeConsent.get()")
    assert before["decided"] is False
    assert before["categories"] == {
        "strictly_necessary": True,
        "functional": False,
        "analytics": False,
        "advertising": False,
    }
    page.evaluate(
        """() => {
            window.heard = [];
            window.PledgeConsent.onChange(state => window.heard.push(state.categories));
            document.addEventListener("pledge:consent", event => window.heard.push("event"));
        }"""
    )
    choose(page, "Reject all")
    page.get_by_role("link", name="Cookie settings").click()
    functional = dialog(page).get_by_role("switch", name="Functional")
    functional.check()
    with page.expect_response(CONSENT_URL):
        dialog(page).get_by_role("button", name="Save choices").click()
    heard = page.evaluate("() => window.heard")
    assert heard[1] == "event" and heard[3] == "event"
    assert heard[2] == {
        "strictly_necessary": True,
        "functional": True,
        "analytics": False,
        "advertising": False,
    }
    assert page.evaluate("() => window.PledgeConsent.allowed('functional')") is True
    expect(page.locator("#functional-status")).to_have_text("running")
    expect(page.locator("#choices")).to_contain_text('"functional": true')


def test_the_banner_records_across_origins(serve: Serve, page: Page, tmp_path: Path) -> None:
    """A site on another origin loads /banner.js from Pledge; CORS lets its choice through."""
    pages = tmp_path / "site"
    pages.mkdir()
    site = serve(DECLARATION, mounts={"/site": pages})  # another port: another origin
    pledge = serve(DECLARATION, allowed_origins=(site.url,))
    (pages / "index.html").write_text(
        '<!doctype html><html lang="en"><title>Elsewhere</title>'
        f'<script src="{pledge.url}/banner.js"></script><p>A page of the company\'s site.</p>',
        encoding="utf-8",
    )
    page.goto(f"{site.url}/site/index.html")
    answer = choose(page, "Accept all")
    assert answer["consent"]["analytics"] == "granted"
    assert ("analytics", "granted", "banner", "1.0") in ledger(pledge, device_id(page.context))
    assert ledger(site, device_id(page.context)) == []


def test_a_site_without_optional_cookies_is_not_asked(live_server: str, page: Page) -> None:
    """Cloudwarm declares no cookie: the banner has nothing to ask and shows nothing."""
    page.goto(f"{live_server}/api/v1/policy?format=html")
    page.add_script_tag(url=f"{live_server}/banner.js")
    page.wait_for_function("() => window.PledgeConsent !== undefined")
    assert page.evaluate("() => window.PledgeConsent.get().categories") == {
        "strictly_necessary": True
    }
    expect(dialog(page)).to_have_count(0)
    page.evaluate("() => window.PledgeConsent.open()")  # the settings still list what is set
    expect(dialog(page).get_by_role("switch", name="Strictly necessary")).to_be_checked()
