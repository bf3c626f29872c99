"""The cookie banner's notice and script, built from the declaration alone (no server)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pledge.declaration import Declaration, load, loads
from pledge.declaration.model import CookieCategory
from pledge.web.banner import banner_notice, build_script, category_purposes, cookies_hash
from pledge.web.banner.notice import CONSENT_COOKIE, choice_max_age, cookie_matches
from pledge.web.banner.router import accepts_gzip, etag_matches
from pledge.web.banner.script import (
    MESSAGES_SLOT,
    NOTICE_SLOT,
    available_languages,
    banner_languages,
    compact,
)

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "banner" / "pledge.yaml"
GZIP_BUDGET = 15 * 1024
DAY = 86_400

Revise = Callable[..., str]


@pytest.fixture
def demo() -> Declaration:
    """The banner demo's declaration: a cookie in every category."""
    return load(DEMO)


def embedded(script: bytes, name: str) -> Any:
    """The JSON the server put into the script as ``var NAME = …;``."""
    text = script.decode("utf-8")
    start = text.index(f"var {name} = ") + len(f"var {name} = ")
    value, _ = json.JSONDecoder().raw_decode(text, start)
    return value


def test_cookie_names_with_a_star_cover_a_prefix() -> None:
    """``_ga*`` covers ``_ga`` and ``_ga_X``; a plain name only itself."""
    assert cookie_matches("_ga*", "_ga") and cookie_matches("_ga*", "_ga_XYZ")
    assert not cookie_matches("_ga*", "ga")
    assert cookie_matches("session_id", "session_id")
    assert not cookie_matches("session_id", "session_id_2")


def test_each_category_stands_for_the_consent_purposes_of_its_cookies(demo: Declaration) -> None:
    """In banner order; strictly necessary cookies are no choice and are not listed."""
    assert category_purposes(demo) == {
        CookieCategory.FUNCTIONAL: ("preferences",),
        CookieCategory.ANALYTICS: ("analytics",),
        CookieCategory.ADVERTISING: ("ads",),
    }


def test_a_cookie_whose_purpose_is_not_consent_contributes_no_purpose(revised: Revise) -> None:
    """Such a cookie (lint rule K501) leaves its category with nothing to record."""
    text = revised(("    purpose: analytics\n    duration: P13M", "    purpose: provide_service"))
    assert category_purposes(loads(text)) == {CookieCategory.ANALYTICS: ()}
    notice = banner_notice(loads(text))
    assert [category["recorded"] for category in notice["categories"]] == [False, False]


def test_the_cookie_hash_changes_with_the_cookie_list_only(
    clean_yaml: str, revised: Revise
) -> None:
    """Stable for the same list; any change to a cookie changes it; other sections do not."""
    clean = cookies_hash(loads(clean_yaml))
    assert clean == cookies_hash(loads(clean_yaml))
    assert len(clean) == 16 and int(clean, 16) >= 0
    longer = revised(("    duration: P13M", "    duration: P25M"))
    added = revised(
        (
            "  _pk_id:\n",
            "  _pk_ses:\n    provider: Acme Cloud\n    category: analytics\n"
            "    purpose: analytics\n    duration: PT30M\n  _pk_id:\n",
        )
    )
    renamed = revised(("  _pk_id:\n", "  _pk_uid:\n"))
    other_policy = revised(('  version: "2.1"', '  version: "2.2"'))
    assert len({clean, cookies_hash(loads(longer)), cookies_hash(loads(added))}) == 3
    assert cookies_hash(loads(renamed)) != clean
    assert cookies_hash(loads(other_policy)) == clean


def test_a_choice_lasts_as_long_as_the_declared_consent_cookie(
    demo: Declaration, revised: Revise
) -> None:
    """P6M declared → six months; "session" → no maximum; undeclared → one year."""
    assert choice_max_age(demo) == round(6 * 30.4375 * DAY)
    session = revised(
        (
            "cookies:\n",
            f"cookies:\n  {CONSENT_COOKIE}:\n    provider: Acme Cloud\n"
            "    category: strictly_necessary\n    duration: session\n",
        )
    )
    assert choice_max_age(loads(session)) is None
    by_prefix = revised(
        (
            "cookies:\n",
            "cookies:\n  pledge_*:\n    provider: Acme Cloud\n"
            "    category: strictly_necessary\n    duration: P90D\n",
        )
    )
    assert choice_max_age(loads(by_prefix)) == 90 * DAY
    assert choice_max_age(load(ROOT / "examples" / "cloudopt" / "pledge.yaml")) == round(
        365.25 * DAY
    )


def test_a_choice_lasts_no_longer_than_the_consent_it_records() -> None:
    """A purpose behind a category whose consent expires sooner shortens the choice."""
    text = DEMO.read_text(encoding="utf-8")
    expiring = text.replace(
        "    retention: P13M\n", "    retention: P13M\n    consent_max_age: P3M\n"
    )
    assert expiring != text
    assert choice_max_age(loads(expiring)) == round(3 * 30.4375 * DAY)
    longer = text.replace(
        "    retention: P13M\n", "    retention: P13M\n    consent_max_age: P2Y\n"
    )
    assert choice_max_age(loads(longer)) == round(6 * 30.4375 * DAY)


def test_the_notice_lists_every_declared_cookie_by_category(demo: Declaration) -> None:
    """Strictly necessary first and always on; each cookie with what the banner shows."""
    notice = banner_notice(demo)
    assert notice["version"] == "1.0" and notice["controller"] == "Teapot & Co"
    assert notice["cookiesHash"] == cookies_hash(demo)
    assert notice["policyUrl"] == "https://teapot.example/privacy"
    assert [
        (category["key"], category["required"], category["gpc"], category["recorded"])
        for category in notice["categories"]
    ] == [
        ("strictly_necessary", True, False, False),
        ("functional", False, False, True),
        ("analytics", False, False, True),
        ("advertising", False, True, True),
    ]
    analytics = notice["categories"][2]
    assert analytics["cookies"] == [
        {
            "name": "_pk_id*",
            "provider": "Teapot & Co (self-hosted analytics)",
            "purpose": "Analytics",
            "duration": "P13M",
            "thirdParty": False,
            "description": "Tells visits apart to count how many people read which page.",
        }
    ]
    assert [purpose["key"] for purpose in analytics["purposes"]] == ["analytics"]
    necessary = [cookie["name"] for cookie in notice["categories"][0]["cookies"]]
    assert necessary == ["pledge_consent", "basket"]


def test_the_banner_lists_its_own_cookie_when_the_declaration_does_not(clean_yaml: str) -> None:
    """What the banner sets is shown even if undeclared, with the default duration."""
    notice = banner_notice(loads(clean_yaml))
    own = notice["categories"][0]["cookies"][-1]
    assert own["name"] == CONSENT_COOKIE and own["own"] is True and own["duration"] == "P1Y"


def test_a_category_serving_targeted_advertising_is_refused_under_gpc(revised: Revise) -> None:
    """Advertising is; so is any category whose cookies serve sale or targeted advertising."""
    tracking = revised(
        (
            "  analytics:\n    legal_basis: consent\n",
            "  analytics:\n    legal_basis: consent\n    targeted_advertising: true\n",
        )
    )
    categories = banner_notice(loads(tracking))["categories"]
    assert categories[1]["key"] == "analytics" and categories[1]["gpc"] is True


def test_the_script_carries_the_notice_and_the_messages(demo: Declaration) -> None:
    """Both slots are filled with JSON; English and the policy's other languages are sent."""
    script = build_script(demo)
    text = script.body.decode("utf-8")
    assert NOTICE_SLOT not in text and MESSAGES_SLOT not in text
    assert embedded(script.body, "NOTICE") == banner_notice(demo)
    messages = embedded(script.body, "MESSAGES")
    assert sorted(messages) == ["de", "en"]
    assert messages["de"]["acceptAll"] == "Alle akzeptieren"
    assert gzip.decompress(script.gzipped) == script.body
    assert script.etag.startswith('"') and script.etag == build_script(demo).etag


def test_the_banner_speaks_english_and_the_policy_languages_it_knows(
    revised: Revise, clean_yaml: str
) -> None:
    """A regional tag is served its language; an unknown language falls back to English."""
    assert {"en", "de"} <= set(available_languages())
    assert banner_languages(loads(clean_yaml)) == ["en", "de"]
    regional = revised(("  languages: [en, de]", "  languages: [de-AT, fr]"))
    assert banner_languages(loads(regional)) == ["en", "de"]
    french = revised(("  languages: [en, de]", "  languages: [fr]"))
    assert banner_languages(loads(french)) == ["en"]
    assert sorted(embedded(build_script(loads(french)).body, "MESSAGES")) == ["en"]


def test_the_script_stays_under_15_kb_gzipped(demo: Declaration, revised: Revise) -> None:
    """The demo's script, and one with 40 described cookies, are under the budget."""
    assert len(build_script(demo).gzipped) < GZIP_BUDGET
    many = "".join(
        f"  tracker_{number}:\n    provider: Partner number {number} Ltd\n"
        "    category: analytics\n    purpose: analytics\n    duration: P1Y\n"
        f"    description: Counts visits to the pages of the shop for partner {number}.\n"
        for number in range(40)
    )
    crowded = loads(revised(("  _pk_id:\n", f"{many}  _pk_id:\n")))
    assert len(crowded.cookies) == 42
    assert len(build_script(crowded).gzipped) < GZIP_BUDGET


def test_compacting_drops_comment_lines_and_indentation_only() -> None:
    """Whole-line comments and indentation go; the header, strings and code stay."""
    source = (
        "/*! header */\n"
        "(function () {\n"
        "  /** A doc comment\n   * over lines. */\n"
        "  function f() {\n"
        "    // a line comment\n"
        '    return "http://x" + 1; // trailing\n'
        "  }\n"
        "})();\n"
    )
    assert compact(source) == (
        "/*! header */\n(function () {\nfunction f() {\n"
        'return "http://x" + 1; // trailing\n}\n})();\n'
    )


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ('"abc"', True),
        ('W/"abc"', True),
        ('"old", "abc"', True),
        ("*", True),
        ('"abd"', False),
        ("abc", False),
    ],
)
def test_if_none_match_names_the_current_script(header: str | None, matches: bool) -> None:
    """Weak comparison of entity tags, lists and ``*``."""
    assert etag_matches(header, '"abc"') is matches


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        (None, False),
        ("gzip, deflate, br", True),
        ("br;q=1.0, GZIP;q=0.5", True),
        ("gzip;q=0", False),
        ("gzip;q=0.0, br", False),
        ("*", True),
        ("identity", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_accept_encoding_decides_whether_gzip_is_sent(header: str | None, accepted: bool) -> None:
    """gzip or ``*`` with a weight above zero."""
    assert accepts_gzip(header) is accepted
