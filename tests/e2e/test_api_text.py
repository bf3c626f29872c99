"""Text the store cannot hold: the NUL character in a path, a query or a JSON body is a 422
problem on both backends, in a form the privacy center's error page, and nothing is written
(PostgreSQL refuses it in any text)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.api_support import (
    API,
    TestClient,
    assert_problem,
    client,
    counts,
    declaration,
    key,
    settings,
)

from pledge.app import Runtime, build_runtime
from pledge.store.database import Database


@pytest.fixture
def pledge_runtime(store: Database, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on the store of the backend under test (SQLite, then PostgreSQL)."""
    built = build_runtime(
        settings(tmp_path, database_url=store.url.render_as_string(hide_password=False)),
        declaration=declaration(),
        database=store,
    )
    yield built
    built.close()


@pytest.fixture
def api(pledge_runtime: Runtime) -> TestClient:
    return client(pledge_runtime)


@pytest.fixture
def admin(pledge_runtime: Runtime) -> dict[str, str]:
    return key(pledge_runtime, "admin")


@pytest.mark.parametrize("query", ["actor=a%00b", "actor=%00", "purpose=x%00&actor=y"])
def test_a_nul_in_a_query_is_a_problem_not_a_server_error(
    api: TestClient, admin: dict[str, str], query: str
) -> None:
    body = assert_problem(api.get(f"{API}/audit?{query}", headers=admin), 422)
    assert "NUL" in body["detail"]


@pytest.mark.parametrize(
    "value", ["ann\u0000@example.com", "\u0000", "ann@example.com\u0000"], ids=["in", "only", "end"]
)
def test_a_nul_in_a_json_body_is_refused_and_nothing_is_written(
    api: TestClient, admin: dict[str, str], pledge_runtime: Runtime, value: str
) -> None:
    before = counts(pledge_runtime)
    body = {"identities": [{"kind": "email", "value": value}]}
    problem = assert_problem(api.post(f"{API}/subjects", json=body, headers=admin), 422)
    assert "NUL" in problem["detail"] and "ann" not in problem["detail"]
    assert counts(pledge_runtime) == before


def test_a_nul_in_a_form_is_refused_with_the_pages_own_error(api: TestClient) -> None:
    """The privacy center answers a form it cannot read with its page asking to try again."""
    response = api.post(
        "/privacy/sign-in",
        content=b"email=ann%00%40example.com",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
