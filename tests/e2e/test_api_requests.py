"""``/api/v1/requests`` over HTTP: submit, verify with the e-mailed code, deny, extend, scopes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.api_support import API, client, key, runtime

from pledge.app import Runtime

ANN = {"kind": "email", "value": "ann@example.com"}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on a fresh SQLite file."""
    built = runtime(tmp_path)
    yield built
    built.close()


def code_of(built: Runtime) -> str:
    """The newest code e-mailed to Ann (kept in the outbox of the admin console)."""
    assert built.mailer.outbox is not None
    mail = built.mailer.outbox.last_mail("ann@example.com", "verification")
    assert mail is not None
    found = re.search(r"^    (\d{6})$", mail.text, re.MULTILINE)
    assert found
    return found[1]


def test_a_restriction_submitted_and_verified_over_http_takes_effect(served: Runtime) -> None:
    """201 on submit, 200 with duplicate on the second, 409 on a wrong code, then completed."""
    api = client(served)
    headers = key(served, "requests:write", "requests:read")
    body = {"type": "restriction", "identity": ANN}
    created = api.post(f"{API}/requests", json=body, headers=headers)
    assert created.status_code == 201 and created.json()["state"] == "received"
    again = api.post(f"{API}/requests", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    request_id = created.json()["id"]

    wrong = api.post(f"{API}/requests/{request_id}/verify", json={"code": "x"}, headers=headers)
    assert wrong.status_code == 409
    assert wrong.json()["type"] == "urn:pledge:problem:request"
    done = api.post(
        f"{API}/requests/{request_id}/verify", json={"code": code_of(served)}, headers=headers
    )
    assert done.status_code == 200 and done.json()["state"] == "completed"
    subject = done.json()["subject_id"]
    assert not served.decider.may_process(subject, "fraud_prevention").allowed

    listed = api.get(f"{API}/requests", params={"state": "completed"}, headers=headers).json()
    assert [item["id"] for item in listed["requests"]] == [request_id]


def test_a_limit_on_sensitive_information_is_a_request_type_of_the_api(
    served: Runtime,
) -> None:
    """limit_sensitive is submitted and verified like an objection, and stands as one."""
    api = client(served)
    headers = key(served, "requests:write", "requests:read", "consent:read")
    created = api.post(
        f"{API}/requests", json={"type": "limit_sensitive", "identity": ANN}, headers=headers
    )
    assert created.status_code == 201
    request_id = created.json()["id"]
    done = api.post(
        f"{API}/requests/{request_id}/verify", json={"code": code_of(served)}, headers=headers
    )
    assert done.status_code == 200 and done.json()["state"] == "completed"
    subject = done.json()["subject_id"]
    standing = api.get(f"{API}/subjects/{subject}/objections", headers=headers).json()
    assert [item["scope"] for item in standing["objections"]] == ["limit_sensitive"]
    schema = api.get(f"{API}/openapi.json").json()
    assert "limit_sensitive" in schema["components"]["schemas"]["RequestType"]["enum"]


def test_denial_and_extension_over_http(served: Runtime) -> None:
    """A denial names the declared authority; an extension without a reason is refused."""
    api = client(served)
    headers = key(served, "requests:write")
    request_id = api.post(
        f"{API}/requests", json={"type": "access", "identity": ANN}, headers=headers
    ).json()["id"]
    empty = api.post(f"{API}/requests/{request_id}/extend", json={"reason": ""}, headers=headers)
    assert empty.status_code == 422
    extended = api.post(
        f"{API}/requests/{request_id}/extend", json={"reason": "complex", "by": 1}, headers=headers
    )
    assert extended.status_code == 200 and extended.json()["extension"] == 1
    denied = api.post(
        f"{API}/requests/{request_id}/deny",
        json={"reason": "unfounded", "ground": "manifestly_unfounded"},
        headers=headers,
    ).json()
    assert denied["state"] == "denied"
    assert "Berliner Beauftragte" in denied["denial"]["complaint"]


def test_request_routes_need_their_scopes(served: Runtime) -> None:
    """requests:read cannot submit; consent:read cannot read requests."""
    api = client(served)
    reader = key(served, "requests:read")
    body = {"type": "access", "identity": ANN}
    assert api.post(f"{API}/requests", json=body, headers=reader).status_code == 403
    other = key(served, "consent:read")
    assert api.get(f"{API}/requests", headers=other).status_code == 403
