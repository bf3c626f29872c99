"""The audit API's query parameters on both backends: cursors past any sequence number and times
without an explicit offset are problems naming the parameter, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.api_support import (
    API,
    TestClient,
    assert_problem,
    client,
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
    """A client of the app serving the runtime."""
    return client(pledge_runtime)


@pytest.fixture
def reader(pledge_runtime: Runtime) -> dict[str, str]:
    """Headers with a key that may read the audit trail."""
    return key(pledge_runtime, "audit:read")


@pytest.mark.parametrize(
    "cursor",
    [
        "2147483648",  # one past PostgreSQL's INTEGER
        "9223372036854775808",  # one past SQLite's INTEGER
        "999999999999999",
        "99999999999999999999999",
    ],
)
def test_a_cursor_past_any_sequence_number_is_a_problem_naming_it(
    api: TestClient, reader: dict[str, str], cursor: str
) -> None:
    """A cursor no page can have given is a 422 about query.cursor, on either backend."""
    problem = assert_problem(
        api.get(f"{API}/audit", params={"cursor": cursor}, headers=reader), 422
    )
    assert [error["field"] for error in problem["errors"]] == ["query.cursor"]
    assert cursor not in str(problem)


def test_the_largest_cursor_a_sequence_can_reach_reads_an_empty_page(
    api: TestClient, reader: dict[str, str]
) -> None:
    """2147483647 is a sequence number the store can hold: after it there is nothing yet."""
    page = api.get(f"{API}/audit", params={"cursor": "2147483647"}, headers=reader)
    assert page.status_code == 200, page.text
    assert page.json() == {"events": [], "next_cursor": None}


NO_OFFSET = [
    "2025-01-01T00:00:00",
    "2025-01-01T00:00",
    "2025-01-01",
    "1700000000",
    "1700000000.5",
    "0",
    "-1",
]


def test_a_time_without_an_explicit_offset_is_refused_naming_the_parameter(
    api: TestClient, reader: dict[str, str]
) -> None:
    """A bare number (a Unix time) or a time without a zone is a 422 about that parameter,
    on the page and the export alike."""
    for path in ("/audit", "/audit/export"):
        for name in ("since", "until"):
            for value in NO_OFFSET:
                answer = api.get(API + path, params={name: value}, headers=reader)
                problem = assert_problem(answer, 422)
                assert [error["field"] for error in problem["errors"]] == [f"query.{name}"]
                assert "offset" in problem["errors"][0]["message"], (path, name, value)


def test_a_time_with_z_or_an_offset_filters(api: TestClient, reader: dict[str, str]) -> None:
    """Z or a numeric offset makes the time unambiguous: 200."""
    for value in (
        "2025-01-01T00:00:00Z",
        "2025-01-01T00:00:00+01:00",
        "2025-01-01T08:30:00.25-05:30",
    ):
        for name in ("since", "until"):
            answer = api.get(f"{API}/audit", params={name: value}, headers=reader)
            assert answer.status_code == 200, answer.text
