"""Every string the pages show comes from the catalogue, and every key they use exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pledge.web.pages.catalogue import ENGLISH, text

ROOT = Path(__file__).parents[2] / "src" / "pledge" / "web"
CALL = re.compile(r"""\b_\(\s*["']([a-z0-9_]+)["']\s*[,)]""")


def used_keys() -> set[str]:
    """The keys the templates and page modules pass to the catalogue literally."""
    found: set[str] = set()
    modules = [path for path in (ROOT / "pages").glob("*.py") if path.name != "catalogue.py"]
    for path in [*(ROOT / "templates").rglob("*.html"), *modules]:
        found |= set(CALL.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_key_used_is_in_the_catalogue() -> None:
    """A template never asks for a string the catalogue lacks."""
    assert sorted(used_keys() - set(ENGLISH)) == []


def test_built_keys_exist() -> None:
    """Keys put together in templates (per request type, per role) are all there."""
    from pledge.staff.model import Role
    from pledge.web.pages.privacy import ASKABLE

    for kind in ASKABLE:
        assert f"pc_ask_{kind}" in ENGLISH and f"pc_ask_{kind}_lead" in ENGLISH
    for role in Role:
        assert f"role_{role}" in ENGLISH


def test_templates_hold_no_words_of_their_own() -> None:
    """Outside tags and expressions a template has no letters: every word is in the catalogue."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        source = path.read_text(encoding="utf-8")
        source = re.sub(r"{% block area %}\w+{% endblock %}", "", source)  # a CSS class
        stripped = re.sub(r"{%.*?%}|{{.*?}}|<[^>]*>|&[a-z]+;", " ", source, flags=re.DOTALL)
        words = re.findall(r"[A-Za-z]{2,}", stripped)
        if words:
            offenders.append(f"{path.name}: {' '.join(words[:5])}")
    assert offenders == []


def test_values_are_filled_in() -> None:
    """Placeholders take their values; a missing key is an error, not a blank."""
    assert text("pc_title", company="Acme") == "Privacy at Acme"
    with pytest.raises(KeyError):
        text("no_such_key")


def test_a_count_of_one_takes_the_singular_form() -> None:
    """A count of 1 reads "1 row", any other count the plural form."""
    values = {"datastore": "app", "table": "users", "action": "delete"}
    assert text("ad_plan_table", count=1, **values) == "app.users: 1 row, delete"
    assert text("ad_plan_table", count=3, **values) == "app.users: 3 rows, delete"
    assert text("ad_plan_table", count=0, **values) == "app.users: 0 rows, delete"
    assert text("ad_audit_broken", count=2, first="x") == "2 problems found. The first: x"
    assert text("ad_audit_broken", count=1, first="x") == "1 problem found: x"
