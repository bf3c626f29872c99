"""The JSON API end to end, over HTTP (in process), against a real SQLite store.

Each route's happy path; authentication and scopes; every class of bad input answered with a
problem and nothing written; the OpenAPI document and its documentation.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import revise
from tests.e2e.api_support import (
    API,
    DECLARATION,
    TestClient,
    assert_problem,
    client,
    counts,
    declaration,
    key,
    runtime,
    settings,
)

import pledge
from pledge import keys
from pledge.app import Runtime, build_runtime
from pledge.declaration import loads
from pledge.subjects.model import Identity

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"


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


@pytest.fixture
def admin(pledge_runtime: Runtime) -> dict[str, str]:
    """Headers with an admin key."""
    return key(pledge_runtime, "admin")


@pytest.fixture
def subject_id(api: TestClient, admin: dict[str, str]) -> str:
    """A subject found by ann@example.com."""
    body = {"identities": [{"kind": "email", "value": "ann@example.com"}]}
    response = api.post(f"{API}/subjects", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def consent(
    api: TestClient, headers: dict[str, str], subject: str, purpose: str, decision: str
) -> Any:
    """POST one consent decision."""
    body = {"purpose": purpose, "decision": decision}
    return api.post(f"{API}/subjects/{subject}/consent", json=body, headers=headers)


# --- subjects ----------------------------------------------------------------------------------


def test_a_created_subject_reads_back_with_its_normalised_identities(
    api: TestClient, admin: dict[str, str]
) -> None:
    """POST /subjects returns the new id; GET gives the identities normalised."""
    body = {
        "identities": [
            {"kind": "email", "value": " Ann@Example.COM "},
            {"kind": "phone", "value": "+49 30 1234567"},
        ]
    }
    created = api.post(f"{API}/subjects", json=body, headers=admin)
    assert created.status_code == 201
    subject = api.get(f"{API}/subjects/{created.json()['id']}", headers=admin).json()
    assert subject["identities"] == [
        {"kind": "email", "value": "ann@example.com"},
        {"kind": "phone", "value": "+49301234567"},
    ]
    assert subject["erased"] is False


def test_lookup_finds_a_subject_by_an_identity_sent_in_the_body(
    api: TestClient, admin: dict[str, str], subject_id: str
) -> None:
    """POST /subjects/lookup with the identity in the body finds the subject."""
    found = api.post(
        f"{API}/subjects/lookup", json={"kind": "email", "value": "ANN@example.com"}, headers=admin
    )
    assert found.json() == {"id": subject_id}
    missing = api.post(
        f"{API}/subjects/lookup", json={"kind": "email", "value": "bob@example.com"}, headers=admin
    )
    assert_problem(missing, 404)


def test_an_identity_that_is_already_taken_is_a_409(
    api: TestClient, admin: dict[str, str], subject_id: str, pledge_runtime: Runtime
) -> None:
    """A second subject with the same e-mail address is a conflict, and nothing is written."""
    before = counts(pledge_runtime)
    body = {"identities": [{"kind": "email", "value": "ann@example.com"}]}
    assert_problem(api.post(f"{API}/subjects", json=body, headers=admin), 409)
    assert counts(pledge_runtime) == before


def test_erasing_a_subject_leaves_its_id_and_nothing_else(
    api: TestClient, admin: dict[str, str], subject_id: str, pledge_runtime: Runtime
) -> None:
    """DELETE /subjects/{id} erases: no identities, not found by them any more."""
    assert consent(api, admin, subject_id, "newsletter", "granted").status_code == 201
    assert api.delete(f"{API}/subjects/{subject_id}", headers=admin).status_code == 204
    subject = api.get(f"{API}/subjects/{subject_id}", headers=admin).json()
    assert subject["erased"] is True
    assert subject["identities"] == []
    lookup = {"kind": "email", "value": "ann@example.com"}
    assert_problem(api.post(f"{API}/subjects/lookup", json=lookup, headers=admin), 404)
    history = api.get(f"{API}/subjects/{subject_id}/consent/history", headers=admin).json()
    assert [event["evidence"] for event in history["events"]] == [None]


def test_erasing_needs_the_admin_scope(
    api: TestClient, subject_id: str, pledge_runtime: Runtime
) -> None:
    """A key with subjects:write may create subjects but not erase them."""
    writer = key(pledge_runtime, "subjects:write", "subjects:read")
    assert_problem(api.delete(f"{API}/subjects/{subject_id}", headers=writer), 403)


# --- consent -----------------------------------------------------------------------------------


def test_grant_withdraw_and_refuse_are_the_same_one_call(
    api: TestClient, admin: dict[str, str], subject_id: str
) -> None:
    """Each decision is one POST; the state shows the last one, the history all three."""
    for decision in ("granted", "withdrawn", "refused"):
        recorded = consent(api, admin, subject_id, "newsletter", decision)
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["decision"] == decision
        assert recorded.json()["channel"] == "api"
    state = api.get(f"{API}/subjects/{subject_id}/consent", headers=admin).json()
    assert state["purposes"]["newsletter"]["decision"] == "refused"
    history = api.get(f"{API}/subjects/{subject_id}/consent/history", headers=admin).json()
    assert [event["decision"] for event in history["events"]] == ["granted", "withdrawn", "refused"]
    assert [event["seq"] for event in history["events"]] == [1, 2, 3]


def test_evidence_is_kept_with_the_ip_address_truncated(
    api: TestClient, admin: dict[str, str], subject_id: str
) -> None:
    """Evidence comes back with the IPv4 address reduced to its /24."""
    body = {
        "purpose": "newsletter",
        "decision": "granted",
        "channel": "form",
        "evidence": {"ip": "203.0.113.77", "user_agent": "Firefox"},
    }
    recorded = api.post(f"{API}/subjects/{subject_id}/consent", json=body, headers=admin).json()
    assert recorded["evidence"] == {"ip": "203.0.113.0/24", "user_agent": "Firefox"}
    assert recorded["channel"] == "form"


def test_consent_history_pages_with_a_cursor(
    api: TestClient, admin: dict[str, str], subject_id: str
) -> None:
    """Pages of two follow each other by cursor, without gaps or repeats."""
    for decision in ("granted", "withdrawn", "granted", "refused", "granted"):
        consent(api, admin, subject_id, "analytics", decision)
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get(
            f"{API}/subjects/{subject_id}/consent/history", params=params, headers=admin
        ).json()
        seen += [event["seq"] for event in page["events"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [1, 2, 3, 4, 5]


def test_the_receipt_uses_the_kantara_field_names(
    api: TestClient, admin: dict[str, str], subject_id: str
) -> None:
    """The receipt names the purposes consented to in Kantara Consent Receipt v1.1 fields."""
    consent(api, admin, subject_id, "newsletter", "granted")
    receipt = api.get(f"{API}/subjects/{subject_id}/consent/receipt", headers=admin).json()
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["piiPrincipalId"] == subject_id
    assert [purpose["purposeCategory"] for purpose in receipt["services"][0]["purposes"]] == [
        ["newsletter"]
    ]


def test_a_batch_records_every_choice_in_order_in_one_call(
    api: TestClient, admin: dict[str, str], subject_id: str, pledge_runtime: Runtime
) -> None:
    """A form's choices: one POST, one event each, consecutive in the chain."""
    body = {
        "decisions": [
            {"purpose": "newsletter", "decision": "granted", "channel": "form"},
            {"purpose": "analytics", "decision": "refused", "channel": "form"},
        ]
    }
    before = counts(pledge_runtime)
    response = api.post(f"{API}/subjects/{subject_id}/consent/batch", json=body, headers=admin)
    assert response.status_code == 201, response.text
    events = response.json()["events"]
    assert [(event["purpose"], event["decision"], event["seq"]) for event in events] == [
        ("newsletter", "granted", 1),
        ("analytics", "refused", 2),
    ]
    assert events[1]["prev_hash"] == events[0]["hash"]
    after = counts(pledge_runtime)
    assert after["consent_events"] == before["consent_events"] + 2
    assert after["audit_events"] == before["audit_events"] + 2
    state = api.get(f"{API}/subjects/{subject_id}/consent", headers=admin).json()
    assert {purpose: item["decision"] for purpose, item in state["purposes"].items()} == {
        "newsletter": "granted",
        "analytics": "refused",
    }


def test_a_recorded_decision_reads_back_the_same_from_the_history(
    api: TestClient, admin: dict[str, str], subject_id: str
) -> None:
    """The answer to a write is the event the history then reads back, field for field."""
    body = {
        "purpose": "newsletter",
        "decision": "granted",
        "channel": "form",
        "evidence": {"ip": "2001:db8::7", "user_agent": "Firefox"},
    }
    recorded = api.post(f"{API}/subjects/{subject_id}/consent", json=body, headers=admin)
    assert recorded.headers["content-type"] == "application/json"
    history = api.get(f"{API}/subjects/{subject_id}/consent/history", headers=admin).json()
    assert history["events"] == [recorded.json()]
    assert recorded.json()["occurred_at"].endswith("Z")


def test_the_state_says_when_a_grant_expires(tmp_path: Path) -> None:
    """With consent_max_age the state gives expires_at; without it, null."""
    changed = revise(
        DECLARATION,
        (
            "  analytics:\n    legal_basis: consent\n",
            "  analytics:\n    legal_basis: consent\n    consent_max_age: P6M\n",
        ),
    )
    served = build_runtime(settings(tmp_path), declaration=loads(changed), upgrade=True)
    try:
        api, admin = client(served), key(served, "admin")
        body = {"identities": [{"kind": "email", "value": "ann@example.com"}]}
        subject = api.post(f"{API}/subjects", json=body, headers=admin).json()["id"]
        for purpose in ("analytics", "newsletter"):
            consent(api, admin, subject, purpose, "granted")
        purposes = api.get(f"{API}/subjects/{subject}/consent", headers=admin).json()["purposes"]
        granted_at = dt.datetime.fromisoformat(purposes["analytics"]["updated_at"])
        expires_at = dt.datetime.fromisoformat(purposes["analytics"]["expires_at"])
        assert dt.timedelta(days=181) <= expires_at - granted_at <= dt.timedelta(days=184)
        assert (expires_at.month - granted_at.month) % 12 == 6
        assert expires_at.time() == granted_at.time()
        assert purposes["newsletter"]["expires_at"] is None
    finally:
        served.close()


# --- objections --------------------------------------------------------------------------------


def test_an_objection_is_recorded_listed_and_lifted(
    api: TestClient, admin: dict[str, str], subject_id: str, pledge_runtime: Runtime
) -> None:
    """201 when new, 200 when it stood; the decision follows; lifting brings processing back."""
    objections = f"{API}/subjects/{subject_id}/objections"
    ask = {"subject_id": subject_id, "purpose": "fraud_prevention"}
    assert api.post(f"{API}/decisions", json=ask, headers=admin).json()["allowed"] is True
    first = api.post(objections, json={"scope": "fraud_prevention"}, headers=admin)
    assert first.status_code == 201, first.text
    assert first.json()["scope"] == "fraud_prevention" and first.json()["lifted_at"] is None
    again = api.post(objections, json={"scope": "fraud_prevention"}, headers=admin)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    denied = api.post(f"{API}/decisions", json=ask, headers=admin).json()
    assert denied["allowed"] is False and denied["rule"] == "objected"
    api.post(objections, json={"scope": "direct_marketing", "channel": "form"}, headers=admin)
    listed = api.get(objections, headers=admin).json()
    assert [item["scope"] for item in listed["objections"]] == [
        "fraud_prevention",
        "direct_marketing",
    ]
    lifted = api.delete(f"{objections}/fraud_prevention", headers=admin)
    assert lifted.status_code == 200 and lifted.json()["lifted_at"] is not None
    assert api.post(f"{API}/decisions", json=ask, headers=admin).json()["allowed"] is True
    standing = api.get(objections, headers=admin).json()["objections"]
    assert [item["scope"] for item in standing] == ["direct_marketing"]
    everything = api.get(objections, params={"include_lifted": "true"}, headers=admin).json()
    assert len(everything["objections"]) == 2
    assert_problem(api.delete(f"{objections}/fraud_prevention", headers=admin), 404)
    pledge_runtime.decider.flush()
    recorded = api.get(
        f"{API}/audit", params={"action": "objection.recorded"}, headers=admin
    ).json()
    assert [event["details"] for event in recorded["events"]] == [
        {"scope": "fraud_prevention", "channel": "api"},
        {"scope": "direct_marketing", "channel": "form"},
    ]


def test_an_objection_to_everything_is_lifted_by_its_scope(
    api: TestClient, admin: dict[str, str], subject_id: str
) -> None:
    """The scope * travels in the path as it is."""
    objections = f"{API}/subjects/{subject_id}/objections"
    assert api.post(objections, json={"scope": "*"}, headers=admin).status_code == 201
    assert api.delete(f"{objections}/*", headers=admin).json()["scope"] == "*"


def test_a_gpc_signal_objects_to_sharing_on_legitimate_interests(tmp_path: Path) -> None:
    """Sec-GPC: 1 on the browser's endpoint: the sharing purpose gets an objection, channel gpc."""
    sharing = revise(
        DECLARATION,
        (
            "  ads:\n",
            "  lookalikes:\n"
            "    legal_basis: legitimate_interests\n"
            "    legitimate_interest: Finding customers like ours on ad networks.\n"
            "    sale_or_sharing: true\n"
            "    categories: [contact.email]\n"
            "    retention: P6M\n"
            "  ads:\n",
        ),
    )
    served = build_runtime(settings(tmp_path), declaration=loads(sharing), upgrade=True)
    try:
        api, admin = client(served), key(served, "admin")
        body = {"device_id": "device-4f1c2a9e", "choices": {}}
        answer = api.post(f"{API}/public/consent", json=body, headers={"Sec-GPC": "1"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["gpc"] is True
        assert answer.json()["consent"] == {"ads": "refused"}
        subject = served.subjects.find(Identity.parse("device", "device-4f1c2a9e"))
        objections = api.get(f"{API}/subjects/{subject}/objections", headers=admin).json()
        assert [item["scope"] for item in objections["objections"]] == ["lookalikes"]
        ask = {"subject_id": subject, "purpose": "lookalikes"}
        decided = api.post(f"{API}/decisions", json=ask, headers=admin).json()
        assert (decided["allowed"], decided["rule"]) == (False, "opted_out")
    finally:
        served.close()


def test_objections_need_the_consent_scopes(
    api: TestClient, pledge_runtime: Runtime, subject_id: str
) -> None:
    """consent:read lists them; recording and lifting need consent:write."""
    reader = key(pledge_runtime, "consent:read")
    objections = f"{API}/subjects/{subject_id}/objections"
    assert api.get(objections, headers=reader).status_code == 200
    assert_problem(api.post(objections, json={"scope": "*"}, headers=reader), 403)
    assert_problem(api.delete(f"{objections}/*", headers=reader), 403)
    assert_problem(api.get(objections, headers=key(pledge_runtime, "decisions")), 403)


# --- decisions ---------------------------------------------------------------------------------


def test_a_decision_follows_the_consent_given(
    api: TestClient, admin: dict[str, str], subject_id: str, pledge_runtime: Runtime
) -> None:
    """Without consent the newsletter may not run; after a grant it may; both are audited."""
    ask = {"subject_id": subject_id, "purpose": "newsletter", "categories": ["contact.email"]}
    denied = api.post(f"{API}/decisions", json=ask, headers=admin).json()
    assert denied["allowed"] is False
    assert denied["legal_basis"] == "consent"
    consent(api, admin, subject_id, "newsletter", "granted")
    allowed = api.post(f"{API}/decisions", json=ask, headers=admin).json()
    assert allowed["allowed"] is True and allowed["reason"]
    pledge_runtime.decider.flush()
    audit = api.get(f"{API}/audit", params={"action": "decision"}, headers=admin).json()
    assert [event["details"].get("allowed") for event in audit["events"]] == [False, True]


def test_a_disclosure_is_allowed_only_to_a_declared_recipient(
    api: TestClient, admin: dict[str, str], subject_id: str
) -> None:
    """The mailer may receive e-mail addresses for the newsletter; nobody else exists."""
    consent(api, admin, subject_id, "newsletter", "granted")
    ask = {
        "subject_id": subject_id,
        "recipient": "mailer",
        "categories": ["contact.email"],
        "purpose": "newsletter",
    }
    decided = api.post(f"{API}/disclosures", json=ask, headers=admin).json()
    assert decided["allowed"] is True
    assert decided["recipient"] == "mailer"
    unknown = api.post(f"{API}/disclosures", json={**ask, "recipient": "broker"}, headers=admin)
    assert_problem(unknown, 404)


# --- audit -------------------------------------------------------------------------------------


def test_the_audit_trail_filters_and_pages(
    api: TestClient, admin: dict[str, str], subject_id: str
) -> None:
    """Filtering by subject gives that subject's events; pages chain by cursor."""
    for decision in ("granted", "withdrawn", "granted"):
        consent(api, admin, subject_id, "newsletter", decision)
    first = api.get(
        f"{API}/audit", params={"subject_id": subject_id, "limit": 2}, headers=admin
    ).json()
    assert [event["action"] for event in first["events"]] == [
        "subject.created",
        "consent.granted",
    ]
    rest = api.get(
        f"{API}/audit",
        params={"subject_id": subject_id, "cursor": first["next_cursor"]},
        headers=admin,
    ).json()
    assert [event["action"] for event in rest["events"]] == ["consent.withdrawn", "consent.granted"]
    assert rest["next_cursor"] is None


def test_the_audit_export_streams_every_event_as_json_lines(
    api: TestClient, admin: dict[str, str], subject_id: str, pledge_runtime: Runtime
) -> None:
    """GET /audit/export gives one JSON object per line, in chain order, all of them."""
    consent(api, admin, subject_id, "newsletter", "granted")
    response = api.get(f"{API}/audit/export", headers=admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jsonl")
    events = [json.loads(line) for line in response.text.splitlines()]
    assert [event["seq"] for event in events] == list(range(1, len(events) + 1))
    assert len(events) == counts(pledge_runtime)["audit_events"]
    assert all(event["prev_hash"] for event in events)


def test_a_time_filter_needs_a_time_zone(api: TestClient, admin: dict[str, str]) -> None:
    """since without a zone is ambiguous: 422; with one it filters."""
    naive = api.get(f"{API}/audit", params={"since": "2025-01-01T00:00:00"}, headers=admin)
    assert_problem(naive, 422)
    aware = api.get(f"{API}/audit", params={"since": "2025-01-01T00:00:00Z"}, headers=admin)
    assert aware.status_code == 200


# --- declaration and policy ----------------------------------------------------------------


def test_the_declaration_is_served_with_its_digest(
    api: TestClient, admin: dict[str, str], pledge_runtime: Runtime
) -> None:
    """GET /declaration returns the model as JSON and the digest that identifies it."""
    body = api.get(f"{API}/declaration", headers=admin).json()
    assert body["digest"] == pledge_runtime.declaration.digest
    assert body["version"] == "2.1"
    assert "ads" in body["declaration"]["purposes"]


@pytest.mark.parametrize(
    ("policy_format", "media_type", "marker"),
    [
        ("markdown", "text/markdown", "# "),
        ("html", "text/html", "<html"),
        ("json", "application/json", "{"),
    ],
)
def test_the_policy_is_public_in_each_format(
    api: TestClient, policy_format: str, media_type: str, marker: str
) -> None:
    """GET /policy needs no key and renders Markdown, HTML or JSON."""
    response = api.get(f"{API}/policy", params={"format": policy_format})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert marker in response.text
    assert "Acme Cloud" in response.text


# --- authentication and scopes -----------------------------------------------------------------


def protected_operations(api: TestClient) -> list[tuple[str, str]]:
    """Every (method, path) of the OpenAPI document that requires an API key."""
    document = api.get(f"{API}/openapi.json").json()
    return [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get("security")
    ]


def concrete(path: str) -> str:
    """A path template filled with a well-formed id."""
    return path.replace("{subject_id}", "01JD3Z6X6M0000000000000000")


def test_every_protected_operation_refuses_a_request_without_a_key(api: TestClient) -> None:
    """No Authorization header: 401 with WWW-Authenticate, on every operation with a scope."""
    operations = protected_operations(api)
    assert len(operations) >= 12
    for method, path in operations:
        response = api.request(method, concrete(path), json={})
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "secret",
    [
        "nonsense",
        "pk_000000000000_abcdefghijklmnopqrstuvwxyz",
        "pk__",
        "Basic dXNlcjpwYXNz",
    ],
)
def test_an_unknown_or_malformed_key_is_a_401(api: TestClient, secret: str) -> None:
    """A key that is not one of ours is refused, whatever its shape."""
    response = api.get(f"{API}/audit", headers={"Authorization": f"Bearer {secret}"})
    assert_problem(response, 401)


def test_a_right_prefix_with_a_wrong_secret_is_a_401(
    api: TestClient, pledge_runtime: Runtime
) -> None:
    """Knowing a key's prefix is not enough."""
    _, secret = keys.create(pledge_runtime.database, "real", ["audit:read"])
    forged = secret[: secret.rindex("_") + 1] + "x" * 43
    assert_problem(api.get(f"{API}/audit", headers={"Authorization": f"Bearer {forged}"}), 401)


def test_a_key_without_the_scope_is_a_403(
    api: TestClient, pledge_runtime: Runtime, subject_id: str
) -> None:
    """consent:read may read consent, not record it nor read the audit trail."""
    reader = key(pledge_runtime, "consent:read")
    assert api.get(f"{API}/subjects/{subject_id}/consent", headers=reader).status_code == 200
    assert_problem(consent(api, reader, subject_id, "newsletter", "granted"), 403)
    assert_problem(api.get(f"{API}/audit", headers=reader), 403)


def test_a_revoked_key_is_a_401(api: TestClient, pledge_runtime: Runtime) -> None:
    """Once revoked, a key that worked is refused at once."""
    key_id, secret = keys.create(pledge_runtime.database, "soon revoked", ["audit:read"])
    headers = {"Authorization": f"Bearer {secret}"}
    assert api.get(f"{API}/audit", headers=headers).status_code == 200
    keys.revoke(pledge_runtime.database, key_id)
    body = assert_problem(api.get(f"{API}/audit", headers=headers), 401)
    assert "revoked" in body["detail"]


# --- bad input: a problem, and nothing written -------------------------------------------------

SUBJECT = "{subject}"
UNKNOWN_SUBJECT = "01JD3Z6X6M0000000000000000"

BAD_REQUESTS = [
    pytest.param(
        "POST", f"/subjects/{SUBJECT}/consent", b'{"purpose": "newsletter",', 400, id="malformed"
    ),
    pytest.param("POST", "/subjects", b"[1, 2", 400, id="malformed-subject"),
    pytest.param(
        "POST",
        f"/subjects/{SUBJECT}/consent",
        {"purpose": 7, "decision": "granted"},
        422,
        id="wrong-type",
    ),
    pytest.param(
        "POST",
        f"/subjects/{SUBJECT}/consent",
        {"purpose": "newsletter", "decision": "maybe"},
        422,
        id="wrong-enum",
    ),
    pytest.param(
        "POST",
        f"/subjects/{SUBJECT}/consent",
        {"purpose": "newsletter", "decision": "granted", "colour": "red"},
        422,
        id="unknown-field",
    ),
    pytest.param(
        "POST",
        f"/subjects/{SUBJECT}/consent",
        {"purpose": "newsletter", "decision": "granted", "evidence": {"ip": "not an ip"}},
        422,
        id="bad-evidence",
    ),
    pytest.param(
        "POST",
        f"/subjects/{SUBJECT}/consent",
        {"purpose": "horoscopes", "decision": "granted"},
        404,
        id="unknown-purpose",
    ),
    pytest.param(
        "POST",
        f"/subjects/{UNKNOWN_SUBJECT}/consent",
        {"purpose": "newsletter", "decision": "granted"},
        404,
        id="unknown-subject",
    ),
    pytest.param(
        "POST",
        "/subjects/not-an-id/consent",
        {"purpose": "newsletter", "decision": "granted"},
        422,
        id="malformed-subject-id",
    ),
    pytest.param(
        "POST",
        f"/subjects/{SUBJECT}/consent",
        {"purpose": "provide_service", "decision": "granted"},
        422,
        id="not-a-consent-purpose",
    ),
    pytest.param(
        "POST",
        "/subjects",
        {"identities": [{"kind": "email", "value": "not an address"}]},
        422,
        id="invalid-email",
    ),
    pytest.param("POST", "/subjects", {"identities": []}, 422, id="no-identity"),
    pytest.param(
        "POST",
        "/decisions",
        {"subject_id": SUBJECT, "purpose": "horoscopes"},
        404,
        id="decision-unknown-purpose",
    ),
    pytest.param(
        "POST",
        "/decisions",
        {"subject_id": UNKNOWN_SUBJECT, "purpose": "newsletter"},
        404,
        id="decision-unknown-subject",
    ),
    pytest.param(
        "POST",
        f"/subjects/{SUBJECT}/consent/batch",
        {
            "decisions": [
                {"purpose": "newsletter", "decision": "granted"},
                {"purpose": "provide_service", "decision": "granted"},
            ]
        },
        422,
        id="batch-one-not-a-consent-purpose",
    ),
    pytest.param(
        "POST",
        f"/subjects/{SUBJECT}/consent/batch",
        {
            "decisions": [
                {"purpose": "newsletter", "decision": "granted"},
                {"purpose": "horoscopes", "decision": "granted"},
            ]
        },
        404,
        id="batch-one-unknown-purpose",
    ),
    pytest.param(
        "POST",
        f"/subjects/{SUBJECT}/consent/batch",
        {
            "decisions": [
                {"purpose": "newsletter", "decision": "granted"},
                {"purpose": "newsletter", "decision": "refused"},
            ]
        },
        422,
        id="batch-a-purpose-twice",
    ),
    pytest.param(
        "POST", f"/subjects/{SUBJECT}/consent/batch", {"decisions": []}, 422, id="batch-empty"
    ),
    pytest.param(
        "POST",
        f"/subjects/{UNKNOWN_SUBJECT}/consent/batch",
        {"decisions": [{"purpose": "newsletter", "decision": "granted"}]},
        404,
        id="batch-unknown-subject",
    ),
    pytest.param(
        "POST",
        f"/subjects/{SUBJECT}/objections",
        {"scope": "analytics"},
        422,
        id="objection-to-a-consent-purpose",
    ),
    pytest.param(
        "POST",
        f"/subjects/{SUBJECT}/objections",
        {"scope": "provide_service"},
        422,
        id="objection-to-a-contract-purpose",
    ),
    pytest.param(
        "POST",
        f"/subjects/{SUBJECT}/objections",
        {"scope": "horoscopes"},
        404,
        id="objection-unknown-purpose",
    ),
    pytest.param(
        "POST",
        f"/subjects/{SUBJECT}/objections",
        {"scope": "no spaces"},
        422,
        id="objection-malformed-scope",
    ),
    pytest.param(
        "POST",
        f"/subjects/{UNKNOWN_SUBJECT}/objections",
        {"scope": "*"},
        404,
        id="objection-unknown-subject",
    ),
    pytest.param("DELETE", f"/subjects/{SUBJECT}/objections/*", None, 404, id="lift-no-objection"),
    pytest.param(
        "GET", f"/subjects/{UNKNOWN_SUBJECT}/objections", None, 404, id="objections-unknown"
    ),
    pytest.param("GET", f"/subjects/{UNKNOWN_SUBJECT}", None, 404, id="read-unknown-subject"),
    pytest.param("DELETE", f"/subjects/{UNKNOWN_SUBJECT}", None, 404, id="erase-unknown-subject"),
    pytest.param("GET", "/audit?limit=0", None, 422, id="limit-out-of-range"),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), BAD_REQUESTS)
def test_bad_input_is_a_problem_and_writes_nothing(
    api: TestClient,
    admin: dict[str, str],
    subject_id: str,
    pledge_runtime: Runtime,
    method: str,
    path: str,
    body: Any,
    status: int,
) -> None:
    """Each class of bad input gets its 4xx problem details and leaves every table as it was."""
    before = counts(pledge_runtime)
    url = API + path.replace(SUBJECT, subject_id)
    if isinstance(body, bytes):
        headers = {**admin, "Content-Type": "application/json"}
        response = api.request(method, url, content=body, headers=headers)
    elif isinstance(body, dict):
        filled = json.loads(json.dumps(body).replace(SUBJECT, subject_id))
        response = api.request(method, url, json=filled, headers=admin)
    else:
        response = api.request(method, url, headers=admin)
    problem = assert_problem(response, status)
    if status == 422 and "errors" in problem:
        assert all({"field", "message", "type"} <= set(error) for error in problem["errors"])
    assert counts(pledge_runtime) == before


def test_validation_problems_name_the_fields_without_echoing_values(
    api: TestClient, admin: dict[str, str], subject_id: str
) -> None:
    """A 422 lists each invalid field and never repeats what was sent (it may be personal)."""
    body = {"purpose": "newsletter", "decision": "granted", "guardian_id": "ann@example.com"}
    response = api.post(f"{API}/subjects/{subject_id}/consent", json=body, headers=admin)
    problem = assert_problem(response, 422)
    assert [error["field"] for error in problem["errors"]] == ["body.guardian_id"]
    assert "ann@example.com" not in response.text


def test_an_oversized_body_is_refused_before_it_is_read(
    api: TestClient, admin: dict[str, str], subject_id: str, pledge_runtime: Runtime
) -> None:
    """A Content-Length over the limit is a 413 problem; nothing is written."""
    before = counts(pledge_runtime)
    padding = "x" * pledge_runtime.settings.max_body_bytes
    body = {"purpose": "newsletter", "decision": "granted", "evidence": {"user_agent": padding}}
    response = api.post(f"{API}/subjects/{subject_id}/consent", json=body, headers=admin)
    assert_problem(response, 413)
    assert counts(pledge_runtime) == before


def test_an_oversized_body_without_a_length_is_refused_as_it_arrives(
    api: TestClient, admin: dict[str, str], subject_id: str, pledge_runtime: Runtime
) -> None:
    """A chunked body is counted as it comes and refused with 413 once over the limit."""
    before = counts(pledge_runtime)
    limit = pledge_runtime.settings.max_body_bytes

    def chunks() -> Iterator[bytes]:
        yield b'{"purpose": "newsletter", "decision": "granted", "evidence": {"user_agent": "'
        for _ in range(limit // 1024 + 2):
            yield b"x" * 1024
        yield b'"}}'

    headers = {**admin, "Content-Type": "application/json"}
    response = api.post(f"{API}/subjects/{subject_id}/consent", content=chunks(), headers=headers)
    assert_problem(response, 413)
    assert counts(pledge_runtime) == before


def test_an_unknown_route_is_a_404_problem(api: TestClient) -> None:
    """Even a path that does not exist answers with problem details."""
    assert_problem(api.get(f"{API}/nothing-here"), 404)


def test_an_unexpected_error_is_a_500_without_internals(
    pledge_runtime: Runtime,
    admin: dict[str, str],
    subject_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug answers 500 with a generic problem: no message, no traceback."""

    def broken(subject: str) -> None:
        raise RuntimeError("secret internals at /srv/pledge")

    monkeypatch.setattr(pledge_runtime.ledger, "state", broken)
    response = client(pledge_runtime, raise_server_exceptions=False).get(
        f"{API}/subjects/{subject_id}/consent", headers=admin
    )
    assert_problem(response, 500)
    assert "secret" not in response.text and "Traceback" not in response.text


# --- the database down, and back ---------------------------------------------------------------


def test_an_unreachable_database_is_a_503_problem_with_retry_after(tmp_path: Path) -> None:
    """On a PostgreSQL server that is not there, calls that need the store answer 503."""
    down = build_runtime(
        settings(tmp_path, database_url="postgresql+psycopg://pledge@127.0.0.1:1/pledge"),
        declaration=declaration(),
    )
    try:
        api = client(down)
        assert api.get(f"{API}/policy").status_code == 200  # needs no database
        headers = {"Authorization": "Bearer pk_000000000000_abcdefghijklmnop"}
        response = api.get(f"{API}/audit", headers=headers)
        body = assert_problem(response, 503)
        assert int(response.headers["retry-after"]) > 0
        assert "nothing was written" in body["detail"]
        assert "127.0.0.1" not in response.text  # no connection details for the client
        public = api.post(
            f"{API}/public/consent",
            json={"device_id": "device-4f1c2a9e", "choices": {"analytics": "granted"}},
        )
        assert_problem(public, 503)
    finally:
        down.close()


def test_the_api_recovers_by_itself_when_the_database_returns(tmp_path: Path) -> None:
    """While the SQLite file is unreachable: 503 and nothing written; then it works again."""
    served = runtime(tmp_path)
    try:
        api = client(served)
        admin = key(served, "admin")
        body = {"identities": [{"kind": "email", "value": "ann@example.com"}]}
        subject = api.post(f"{API}/subjects", json=body, headers=admin).json()["id"]
        before = counts(served)
        store = tmp_path / "store"
        store.rename(tmp_path / "store-away")
        served.database.dispose()  # the open connections would outlive the file's move
        try:
            assert_problem(consent(api, admin, subject, "newsletter", "granted"), 503)
            assert_problem(api.get(f"{API}/subjects/{subject}", headers=admin), 503)
        finally:
            (tmp_path / "store-away").rename(store)
        assert consent(api, admin, subject, "newsletter", "granted").status_code == 201
        after = counts(served)
        assert after["consent_events"] == before["consent_events"] + 1
        assert after["audit_events"] == before["audit_events"] + 1
    finally:
        served.close()


# --- the OpenAPI document and its documentation ------------------------------------------------


def test_the_openapi_document_is_served(api: TestClient) -> None:
    """/api/v1/openapi.json describes the API, its key scheme and problem responses."""
    document = api.get(f"{API}/openapi.json").json()
    assert document["info"]["title"] == "Pledge API"
    assert document["info"]["version"] == pledge.__version__
    assert document["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    assert "Problem" in document["components"]["schemas"]
    consent_post = document["paths"]["/api/v1/subjects/{subject_id}/consent"]["post"]
    assert "application/problem+json" in consent_post["responses"]["422"]["content"]
    assert "application/json" not in consent_post["responses"]["422"]["content"]


def test_every_route_of_the_openapi_document_is_in_docs_api_md(api: TestClient) -> None:
    """docs/api.md has a heading for each operation: `METHOD /api/v1/path`."""
    document = api.get(f"{API}/openapi.json").json()
    text = DOCS.read_text(encoding="utf-8")
    headings = set(re.findall(r"^#+ `([A-Z]+ /api/v1/\S*)`", text, re.MULTILINE))
    operations = {
        f"{method.upper()} {path}"
        for path, methods in document["paths"].items()
        for method in methods
    }
    assert not operations - headings, f"missing from docs/api.md: {sorted(operations - headings)}"
    assert not headings - operations - {"OPTIONS /api/v1/public/consent"}, (
        f"docs/api.md documents routes that do not exist: {sorted(headings - operations)}"
    )
