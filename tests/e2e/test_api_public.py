"""The browser's consent endpoint: device ids, declared origins only, rate limits, GPC."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.api_support import API, ORIGIN, TestClient, assert_problem, client, counts, runtime

from pledge.app import Runtime
from pledge.subjects.model import Identity

URL = f"{API}/public/consent"
DEVICE = "device-4f1c2a9e"
BROWSER = {"Origin": ORIGIN, "User-Agent": "Firefox/140"}


@pytest.fixture
def pledge_runtime(tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on a fresh SQLite file."""
    built = runtime(tmp_path)
    yield built
    built.close()


@pytest.fixture
def api(pledge_runtime: Runtime) -> TestClient:
    """A client of the app serving the runtime."""
    return client(pledge_runtime)


def choose(api: TestClient, choices: dict[str, str], **headers: str) -> Any:
    """POST choices for the test device from the allowed origin."""
    body = {"device_id": DEVICE, "choices": choices}
    return api.post(URL, json=body, headers={**BROWSER, **headers})


def device_history(pledge_runtime: Runtime) -> list[tuple[str, str, str]]:
    """(purpose, decision, channel) of every event recorded for the test device."""
    subject_id = pledge_runtime.subjects.find(Identity.parse("device", DEVICE))
    assert subject_id is not None
    return [
        (event.purpose, event.decision.value, event.channel.value)
        for event in pledge_runtime.ledger.history(subject_id)
    ]


def test_choices_are_recorded_for_the_device_and_the_state_returned(
    api: TestClient, pledge_runtime: Runtime
) -> None:
    """No key needed; the device becomes a subject once; channel banner; state returned."""
    first = choose(api, {"analytics": "granted", "newsletter": "refused"})
    assert first.status_code == 200, first.text
    assert first.json() == {
        "declaration_version": "2.1",
        "gpc": False,
        "consent": {"analytics": "granted", "newsletter": "refused"},
    }
    second = choose(api, {"analytics": "withdrawn"})
    assert second.json()["consent"] == {"analytics": "withdrawn", "newsletter": "refused"}
    assert counts(pledge_runtime)["subjects"] == 1
    assert device_history(pledge_runtime) == [
        ("analytics", "granted", "banner"),
        ("newsletter", "refused", "banner"),
        ("analytics", "withdrawn", "banner"),
    ]


def test_evidence_keeps_the_user_agent(api: TestClient, pledge_runtime: Runtime) -> None:
    """The browser's user agent is kept as evidence with the decision."""
    choose(api, {"analytics": "granted"})
    subject_id = pledge_runtime.subjects.find(Identity.parse("device", DEVICE))
    assert subject_id is not None
    (event,) = pledge_runtime.ledger.history(subject_id)
    assert event.evidence is not None and event.evidence.user_agent == "Firefox/140"


def test_asking_without_choices_writes_nothing(api: TestClient, pledge_runtime: Runtime) -> None:
    """Empty choices from an unknown device return an empty state and create no subject."""
    before = counts(pledge_runtime)
    response = choose(api, {})
    assert response.json()["consent"] == {}
    assert counts(pledge_runtime) == before


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"device_id": DEVICE, "choices": {"provide_service": "granted"}}, 422),
        ({"device_id": DEVICE, "choices": {"analytics": "granted", "horoscopes": "granted"}}, 404),
        (
            {
                "device_id": DEVICE,
                "choices": {"analytics": "granted", "fraud_prevention": "refused"},
            },
            422,
        ),
        ({"device_id": DEVICE, "choices": {"analytics": "yes"}}, 422),
        ({"device_id": "short", "choices": {"analytics": "granted"}}, 422),
        ({"device_id": "<script>alert(1)</script>", "choices": {}}, 422),
        ({"choices": {"analytics": "granted"}}, 422),
        (
            {
                "device_id": DEVICE,
                "choices": {"analytics": "granted"},
                "declaration_version": "1.0",
            },
            409,
        ),
    ],
    ids=[
        "not-a-consent-purpose",
        "unknown-purpose-after-a-valid-one",
        "non-consent-purpose-after-a-valid-one",
        "unknown-decision",
        "device-id-too-short",
        "device-id-not-a-token",
        "no-device-id",
        "outdated-notice",
    ],
)
def test_bad_choices_are_a_problem_and_nothing_is_written(
    api: TestClient, pledge_runtime: Runtime, body: dict[str, Any], status: int
) -> None:
    """One bad choice refuses the whole request: no subject, no event, no audit record."""
    before = counts(pledge_runtime)
    response = api.post(URL, json=body, headers=BROWSER)
    assert_problem(response, status)
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert counts(pledge_runtime) == before


# --- CORS --------------------------------------------------------------------------------------


def test_a_preflight_from_the_declared_origin_is_answered(api: TestClient) -> None:
    """OPTIONS with Access-Control-Request-Method gets the allowed method and headers."""
    response = api.options(
        URL,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, sec-gpc",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-methods"] == "POST"
    assert "Sec-GPC" in response.headers["access-control-allow-headers"]
    assert "Origin" in response.headers["vary"]


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "null", "https://shop.example.evil.example", "http://shop.example"],
)
def test_a_foreign_origin_is_refused_and_nothing_is_written(
    api: TestClient, pledge_runtime: Runtime, origin: str
) -> None:
    """A preflight or a POST from another origin is a 403 problem; no subject, no event."""
    before = counts(pledge_runtime)
    preflight = api.options(
        URL, headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
    )
    assert_problem(preflight, 403)
    posted = api.post(
        URL,
        json={"device_id": DEVICE, "choices": {"analytics": "granted"}},
        headers={"Origin": origin},
    )
    assert_problem(posted, 403)
    assert "access-control-allow-origin" not in posted.headers
    assert counts(pledge_runtime) == before


def test_only_the_public_endpoint_is_open_to_other_origins(api: TestClient) -> None:
    """The key-protected API sends no CORS headers, even to the declared origin."""
    response = api.get(f"{API}/policy", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers


# --- rate limit --------------------------------------------------------------------------------


def test_the_public_endpoint_is_rate_limited_per_client(tmp_path: Path) -> None:
    """Past the limit a client gets 429 with Retry-After, whatever it sends; others do not."""
    limited = runtime(tmp_path, public_rate_limit=3)
    try:
        api = client(limited)
        for _ in range(3):
            assert choose(api, {"analytics": "granted"}).status_code == 200
        before = counts(limited)
        refused = choose(api, {"analytics": "withdrawn"})
        assert_problem(refused, 429)
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.headers["access-control-allow-origin"] == ORIGIN
        malformed = api.post(
            URL, content=b"{", headers={**BROWSER, "Content-Type": "application/json"}
        )
        assert_problem(malformed, 429)  # counted before the body is parsed
        assert counts(limited) == before
        another_client = client(limited, client=("198.51.100.9", 50000))
        served = another_client.post(URL, json={"device_id": "device-other-1"}, headers=BROWSER)
        assert served.status_code == 200
    finally:
        limited.close()


# --- Global Privacy Control --------------------------------------------------------------------


def test_a_gpc_signal_opts_the_device_out_of_targeted_advertising(
    api: TestClient, pledge_runtime: Runtime
) -> None:
    """Sec-GPC: 1 refuses ads (never decided) with channel gpc; other purposes are untouched."""
    response = choose(api, {"analytics": "granted"}, **{"Sec-GPC": "1"})
    assert response.json()["gpc"] is True
    assert response.json()["consent"] == {"analytics": "granted", "ads": "refused"}
    assert ("ads", "refused", "gpc") in device_history(pledge_runtime)


def test_a_gpc_signal_withdraws_an_earlier_grant(api: TestClient, pledge_runtime: Runtime) -> None:
    """A grant of ads given before the signal is withdrawn by it."""
    choose(api, {"ads": "granted"})
    response = choose(api, {}, **{"Sec-GPC": "1"})
    assert response.json()["consent"] == {"ads": "withdrawn"}
    assert device_history(pledge_runtime)[-1] == ("ads", "withdrawn", "gpc")


def test_a_grant_sent_with_a_gpc_signal_is_not_recorded(
    api: TestClient, pledge_runtime: Runtime
) -> None:
    """The signal says no; a grant of ads in the same request does not override it."""
    response = choose(api, {"ads": "granted"}, **{"Sec-GPC": "1"})
    assert response.json()["consent"] == {"ads": "refused"}
    assert device_history(pledge_runtime) == [("ads", "refused", "gpc")]


@pytest.mark.parametrize("value", ["0", " 1", "1 ", "true", "yes", "", "11", "1,1"])
def test_anything_but_exactly_1_is_no_gpc_signal(
    api: TestClient, pledge_runtime: Runtime, value: str
) -> None:
    """Only the exact value 1 is a signal; ads stays as chosen."""
    response = choose(api, {"ads": "granted"}, **{"Sec-GPC": value})
    assert response.json()["gpc"] is False
    assert response.json()["consent"] == {"ads": "granted"}


def test_gpc_is_ignored_where_it_is_not_configured_to_apply(tmp_path: Path) -> None:
    """With GPC honoured only in US-CA and the request's jurisdiction unknown, nothing changes."""
    elsewhere = runtime(tmp_path, gpc_jurisdictions=("US-CA",))
    try:
        response = choose(client(elsewhere), {"ads": "granted"}, **{"Sec-GPC": "1"})
        assert response.json() == {
            "declaration_version": "2.1",
            "gpc": False,
            "consent": {"ads": "granted"},
        }
    finally:
        elsewhere.close()
