"""The banner over HTTP: ``/banner.js``, choices by cookie category, bad input, device links."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.api_support import (
    API,
    ORIGIN,
    TestClient,
    assert_problem,
    client,
    counts,
    key,
    settings,
)

from pledge.app import Runtime, build_runtime
from pledge.declaration import loads
from pledge.subjects.model import Identity
from pledge.web.banner import cookies_hash

ROOT = Path(__file__).resolve().parents[2]
DEMO = (ROOT / "examples" / "banner" / "pledge.yaml").read_text(encoding="utf-8")
CONSENT = f"{API}/public/consent"
LINK = f"{API}/public/consent/link"
DEVICE = "d-5b0e2c1a-7f3d-4c2e-9a1b-000000000001"
BROWSER = {"Origin": ORIGIN, "User-Agent": "Chromium/156"}


def start(folder: Path, text: str = DEMO, **changes: Any) -> Runtime:
    """A runtime of the banner demo's declaration on a fresh SQLite file."""
    return build_runtime(settings(folder, **changes), declaration=loads(text), upgrade=True)


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Runtime]:
    """The banner demo's runtime."""
    built = start(tmp_path)
    yield built
    built.close()


@pytest.fixture
def api(shop: Runtime) -> TestClient:
    """A client of the app serving it."""
    return client(shop)


def choose(api: TestClient, body: dict[str, Any], device: str = DEVICE, **headers: str) -> Any:
    """POST a banner's request for ``device`` from the declared origin."""
    return api.post(CONSENT, json={"device_id": device, **body}, headers={**BROWSER, **headers})


def history(runtime: Runtime, subject_id: str) -> list[tuple[str, str, str]]:
    """(purpose, decision, channel) of each event of the subject."""
    return [
        (event.purpose, event.decision.value, event.channel.value)
        for event in runtime.ledger.history(subject_id)
    ]


def device_subject(runtime: Runtime, device: str = DEVICE) -> str | None:
    """The subject the device id finds."""
    return runtime.subjects.find(Identity.parse("device", device))


# --- /banner.js ----------------------------------------------------------------------------------


def test_the_banner_script_is_served_with_its_notice_and_cache_headers(
    api: TestClient, shop: Runtime
) -> None:
    """JavaScript, built from the declaration, cacheable for five minutes, never sniffed."""
    response = api.get("/banner.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["etag"].startswith('"')
    assert "Accept-Encoding" in response.headers["vary"]
    text = response.text
    assert f'"cookiesHash":"{cookies_hash(shop.declaration)}"' in text
    assert '"name":"_pk_id*"' in text and '"version":"1.0"' in text
    assert "/banner.js" not in api.get(f"{API}/openapi.json").json()["paths"]


def test_the_banner_script_is_sent_gzipped_to_who_accepts_it(api: TestClient) -> None:
    """gzip when accepted (and under 15 KB), plain otherwise; the same script either way."""
    packed = api.get("/banner.js", headers={"Accept-Encoding": "gzip"})
    plain = api.get("/banner.js", headers={"Accept-Encoding": "identity"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.num_bytes_downloaded < 15 * 1024
    assert "content-encoding" not in plain.headers
    assert packed.content == plain.content
    assert plain.num_bytes_downloaded > packed.num_bytes_downloaded


def test_a_current_copy_of_the_script_is_not_sent_again(api: TestClient) -> None:
    """If-None-Match with the ETag gets a bodyless 304 carrying the cache headers."""
    etag = api.get("/banner.js").headers["etag"]
    for header in (etag, f"W/{etag}", f'"stale", {etag}'):
        again = api.get("/banner.js", headers={"If-None-Match": header})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == "public, max-age=300"
    assert api.get("/banner.js", headers={"If-None-Match": '"stale"'}).status_code == 200
    head = api.head("/banner.js")
    assert head.status_code == 200 and head.headers["etag"] == etag


def test_another_cookie_list_is_another_script(tmp_path: Path, api: TestClient) -> None:
    """A changed declaration changes the ETag and the cookie hash the banner compares."""
    changed = start(tmp_path / "changed", DEMO.replace("duration: P13M", "duration: P25M"))
    try:
        before = api.get("/banner.js")
        after = client(changed).get("/banner.js")
        assert before.headers["etag"] != after.headers["etag"]
        assert f'"cookiesHash":"{cookies_hash(changed.declaration)}"' in after.text
        assert cookies_hash(changed.declaration) not in before.text
    finally:
        changed.close()


def test_the_served_script_is_valid_javascript(api: TestClient, tmp_path: Path) -> None:
    """Node parses the script as served: the notice and messages filled in, compacted."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is needed for the banner's tests under CI")
        pytest.skip("node (Node.js) is not installed")
    script = tmp_path / "banner.js"
    script.write_bytes(api.get("/banner.js").content)
    checked = subprocess.run([node, "--check", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


# --- choices by cookie category ------------------------------------------------------------------


def test_categories_are_recorded_as_the_consent_purposes_of_their_cookies(
    api: TestClient, shop: Runtime
) -> None:
    """Each category decides its cookies' purposes; channel banner; one subject."""
    response = choose(
        api,
        {
            "categories": {
                "functional": "granted",
                "analytics": "granted",
                "advertising": "refused",
            },
            "declaration_version": "1.0",
            "cookies_hash": cookies_hash(shop.declaration),
        },
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "declaration_version": "1.0",
        "gpc": False,
        "consent": {"preferences": "granted", "analytics": "granted", "ads": "refused"},
    }
    subject_id = device_subject(shop)
    assert subject_id is not None
    assert history(shop, subject_id) == [
        ("preferences", "granted", "banner"),
        ("analytics", "granted", "banner"),
        ("ads", "refused", "banner"),
    ]
    withdrawn = choose(api, {"categories": {"analytics": "withdrawn"}})
    assert withdrawn.json()["consent"]["analytics"] == "withdrawn"
    assert counts(shop)["subjects"] == 1


def test_a_purpose_behind_two_categories_is_granted_only_if_both_are(tmp_path: Path) -> None:
    """The preferences purpose also behind an analytics cookie: the refusal wins."""
    shared = DEMO.replace(
        "  _pk_id*:\n",
        "  _pk_pref:\n    provider: Teapot & Co\n    category: analytics\n"
        "    purpose: preferences\n    duration: P1Y\n  _pk_id*:\n",
    )
    runtime = start(tmp_path, shared)
    try:
        body = {"categories": {"functional": "granted", "analytics": "refused"}}
        response = choose(client(runtime), body)
        assert response.json()["consent"] == {"preferences": "refused", "analytics": "refused"}
    finally:
        runtime.close()


def test_the_page_s_gpc_signal_opts_out_of_advertising(api: TestClient, shop: Runtime) -> None:
    """``"gpc": true`` is the signal: ads refused with channel gpc whatever the categories say."""
    body = {"categories": {"analytics": "granted", "advertising": "granted"}, "gpc": True}
    response = choose(api, body)
    assert response.json()["gpc"] is True
    assert response.json()["consent"] == {"analytics": "granted", "ads": "refused"}
    subject_id = device_subject(shop)
    assert subject_id is not None
    assert history(shop, subject_id) == [
        ("analytics", "granted", "banner"),
        ("ads", "refused", "gpc"),
    ]


# --- bad input: a clear problem, nothing written ---------------------------------------------

NO_FUNCTIONAL_COOKIE = DEMO.replace(
    "  tea_prefs:\n    provider: Teapot & Co\n    category: functional\n",
    "  tea_prefs:\n    provider: Teapot & Co\n    category: strictly_necessary\n",
)


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"categories": {"horoscopes": "granted"}}, 422, "not a cookie category"),
        ({"categories": {"strictly_necessary": "refused"}}, 422, "need no consent"),
        ({"categories": {"analytics": "maybe"}}, 422, "validation"),
        ({"categories": {"analytics": "granted"}, "cookies_hash": "0" * 16}, 409, "other cookies"),
        ({"categories": {"analytics": "granted"}, "cookies_hash": "ABC"}, 422, "validation"),
        ({"categories": {"analytics": "granted"}, "declaration_version": "0.9"}, 409, "0.9"),
        ({"categories": {"analytics": "granted"}, "gpc": "yes"}, 422, "validation"),
        ({"categories": ["analytics"]}, 422, "validation"),
        ({"categories": {"analytics": "granted"}, "extra": 1}, 422, "validation"),
        (
            {"categories": {"analytics": "granted"}, "choices": {"horoscopes": "granted"}},
            404,
            "horoscopes",
        ),
    ],
    ids=[
        "unknown-category",
        "strictly-necessary",
        "unknown-decision",
        "outdated-cookie-list",
        "malformed-cookie-hash",
        "outdated-policy",
        "gpc-not-a-boolean",
        "categories-not-a-mapping",
        "unknown-field",
        "unknown-purpose-beside-a-category",
    ],
)
def test_bad_category_choices_are_refused_and_nothing_is_written(
    api: TestClient, shop: Runtime, body: dict[str, Any], status: int, fragment: str
) -> None:
    """One bad part refuses the whole request: no subject, no event, no audit record."""
    before = counts(shop)
    response = choose(api, body)
    problem = assert_problem(response, status)
    assert fragment in response.text, problem
    assert counts(shop) == before


def test_a_category_without_declared_cookies_is_not_found(tmp_path: Path) -> None:
    """A category the declaration has no cookie of: 404, nothing written."""
    runtime = start(tmp_path, NO_FUNCTIONAL_COOKIE)
    try:
        before = counts(runtime)
        response = choose(client(runtime), {"categories": {"functional": "granted"}})
        assert "no cookie of category 'functional'" in assert_problem(response, 404)["detail"]
        assert counts(runtime) == before
    finally:
        runtime.close()


def test_a_category_whose_cookies_take_no_consent_is_refused(tmp_path: Path) -> None:
    """Cookies serving a purpose not based on consent (lint K501): 422, nothing written."""
    runtime = start(
        tmp_path, DEMO.replace("    purpose: analytics\n", "    purpose: provide_service\n")
    )
    try:
        before = counts(runtime)
        response = choose(client(runtime), {"categories": {"analytics": "granted"}})
        assert "K501" in assert_problem(response, 422)["detail"]
        assert counts(runtime) == before
    finally:
        runtime.close()


@pytest.mark.parametrize(
    ("content", "status"),
    [(b"{", 400), (b"[]", 422), (b'"granted"', 422), (b"", 422)],
    ids=["truncated-json", "a-list", "a-string", "empty"],
)
def test_a_malformed_body_is_refused_and_nothing_is_written(
    api: TestClient, shop: Runtime, content: bytes, status: int
) -> None:
    """Not a JSON object: a problem, nothing written."""
    before = counts(shop)
    headers = {**BROWSER, "Content-Type": "application/json"}
    assert_problem(api.post(CONSENT, content=content, headers=headers), status)
    assert counts(shop) == before


def test_an_oversized_body_is_refused_before_it_is_read(api: TestClient, shop: Runtime) -> None:
    """A body above the limit is a 413 problem; nothing is written."""
    before = counts(shop)
    padding = "x" * (shop.settings.max_body_bytes + 1)
    response = choose(api, {"categories": {"analytics": "granted"}, "declaration_version": padding})
    assert_problem(response, 413)
    assert counts(shop) == before


def test_a_foreign_origin_is_refused_and_nothing_is_written(api: TestClient, shop: Runtime) -> None:
    """A page on an undeclared origin cannot record a choice (nor link a device)."""
    before = counts(shop)
    response = api.post(
        CONSENT,
        json={"device_id": DEVICE, "categories": {"analytics": "granted"}},
        headers={"Origin": "https://tracker.example"},
    )
    assert_problem(response, 403)
    linked = api.post(
        LINK, json={"device_id": DEVICE, "subject_id": "0" * 26}, headers={"Origin": "null"}
    )
    assert_problem(linked, 403)
    assert counts(shop) == before


def test_category_choices_are_rate_limited(tmp_path: Path) -> None:
    """Past the limit: 429 with Retry-After, and nothing written."""
    runtime = start(tmp_path, public_rate_limit=2)
    try:
        api = client(runtime)
        for _ in range(2):
            assert choose(api, {"categories": {"analytics": "granted"}}).status_code == 200
        before = counts(runtime)
        refused = choose(api, {"categories": {"analytics": "withdrawn"}})
        assert_problem(refused, 429)
        assert int(refused.headers["retry-after"]) >= 1
        assert counts(runtime) == before
    finally:
        runtime.close()


# --- linking a device to the subject who signed in -------------------------------------------


def test_a_new_device_is_linked_to_the_person_who_signed_in(api: TestClient, shop: Runtime) -> None:
    """Found by account id (created if new); the device's later choices are the person's."""
    headers = key(shop, "subjects:write")
    body = {"device_id": DEVICE, "identity": {"kind": "account", "value": "customer-42"}}
    linked = api.post(LINK, json=body, headers=headers)
    assert linked.status_code == 200, linked.text
    subject_id = linked.json()["subject_id"]
    assert linked.json() == {"subject_id": subject_id, "merged": False, "consent": {}}
    assert device_subject(shop) == subject_id
    choose(api, {"categories": {"analytics": "granted"}})
    assert history(shop, subject_id) == [("analytics", "granted", "banner")]
    again = api.post(LINK, json={"device_id": DEVICE, "subject_id": subject_id}, headers=headers)
    assert again.json()["merged"] is False and device_subject(shop) == subject_id


def test_a_device_with_choices_hands_them_to_the_subject(api: TestClient, shop: Runtime) -> None:
    """Decisions copied with channel and evidence, unless the person decided later."""
    admin = key(shop, "admin")
    person = api.post(
        f"{API}/subjects",
        json={"identities": [{"kind": "email", "value": "ann@example.com"}]},
        headers=admin,
    ).json()["id"]
    choose(api, {"categories": {"analytics": "granted", "functional": "granted"}, "gpc": True})
    device_only = device_subject(shop)
    assert device_only is not None
    api.post(
        f"{API}/subjects/{person}/consent",
        json={"purpose": "preferences", "decision": "refused"},
        headers=admin,
    )  # later than the device's grant: it stands
    linked = api.post(LINK, json={"device_id": DEVICE, "subject_id": person}, headers=admin)
    assert linked.status_code == 200, linked.text
    assert linked.json() == {
        "subject_id": person,
        "merged": True,
        "consent": {"preferences": "refused", "analytics": "granted", "ads": "refused"},
    }
    copied = shop.ledger.history(person)
    assert [(event.purpose, event.channel.value) for event in copied] == [
        ("preferences", "api"),
        ("analytics", "banner"),
        ("ads", "gpc"),
    ]
    assert copied[1].evidence is not None and copied[1].evidence.user_agent == "Chromium/156"
    assert device_subject(shop) == person
    assert shop.subjects.get(device_only).erased
    choose(api, {"categories": {"analytics": "withdrawn"}})
    assert history(shop, person)[-1] == ("analytics", "withdrawn", "banner")


@pytest.mark.parametrize(
    ("body", "scopes", "status"),
    [
        ({"device_id": DEVICE, "subject_id": "01JD3Z6X6M0000000000000000"}, None, 401),
        ({"device_id": DEVICE, "subject_id": "01JD3Z6X6M0000000000000000"}, ("consent:read",), 403),
        ({"device_id": DEVICE}, ("subjects:write",), 422),
        (
            {
                "device_id": DEVICE,
                "subject_id": "01JD3Z6X6M0000000000000000",
                "identity": {"kind": "account", "value": "customer-42"},
            },
            ("subjects:write",),
            422,
        ),
        ({"device_id": "tiny", "subject_id": "01JD3Z6X6M0000000000000000"}, ("admin",), 422),
        ({"device_id": DEVICE, "subject_id": "01JD3Z6X6M0000000000000000"}, ("admin",), 404),
        ({"device_id": DEVICE, "identity": {"kind": "phone", "value": "12"}}, ("admin",), 422),
    ],
    ids=[
        "no-key",
        "no-scope",
        "no-subject",
        "two-subjects",
        "bad-device-id",
        "unknown-subject",
        "bad-identity",
    ],
)
def test_a_bad_link_is_refused_and_nothing_is_written(
    api: TestClient,
    shop: Runtime,
    body: dict[str, Any],
    scopes: tuple[str, ...] | None,
    status: int,
) -> None:
    """Without a key, a scope, one subject or a valid device id: a problem, nothing written."""
    choose(api, {"categories": {"analytics": "granted"}})
    headers = key(shop, *scopes) if scopes else {}
    before = counts(shop)
    assert_problem(api.post(LINK, json=body, headers=headers), status)
    assert counts(shop) == before


def test_a_device_is_not_linked_to_an_erased_subject_or_away_from_another_person(
    api: TestClient, shop: Runtime
) -> None:
    """410 for an erased subject; 409 when the device's subject is known otherwise too."""
    admin = key(shop, "admin")

    def create(email: str) -> str:
        body = {"identities": [{"kind": "email", "value": email}]}
        subject_id: str = api.post(f"{API}/subjects", json=body, headers=admin).json()["id"]
        return subject_id

    erased, bob = create("erased@example.com"), create("bob@example.com")
    api.delete(f"{API}/subjects/{erased}", headers=admin)
    before = counts(shop)
    gone = api.post(LINK, json={"device_id": DEVICE, "subject_id": erased}, headers=admin)
    assert_problem(gone, 410)
    assert counts(shop) == before

    shop.subjects.add_identity(bob, Identity.parse("device", DEVICE), actor="tests")
    ann = create("ann@x.example")
    before = counts(shop)
    for someone in ({"subject_id": ann}, {"identity": {"kind": "account", "value": "new-1"}}):
        taken = api.post(LINK, json={"device_id": DEVICE, **someone}, headers=admin)
        assert "not merged" in assert_problem(taken, 409)["detail"]
        assert counts(shop) == before  # not even a subject for the new account
    assert device_subject(shop) == bob
