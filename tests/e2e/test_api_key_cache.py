"""The API's cache of checked keys: fast, and revocation still holds (same process, others)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from tests.e2e.api_support import API, TestClient, assert_problem, declaration, settings

from pledge import keys
from pledge.app import Runtime, build_runtime
from pledge.web.app import create_app

INTERVAL = 5.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    """The time of both runtimes."""
    return Clock()


def _runtime(folder: Path, clock: Clock, *, upgrade: bool, **changes: Any) -> Runtime:
    return build_runtime(
        settings(folder, **{"api_key_cache_seconds": INTERVAL, **changes}),
        declaration=declaration(),
        clock=clock,
        upgrade=upgrade,
    )


@pytest.fixture
def here(tmp_path: Path, clock: Clock) -> Iterator[Runtime]:
    """The runtime of this process."""
    built = _runtime(tmp_path, clock, upgrade=True)
    yield built
    built.close()


@pytest.fixture
def elsewhere(tmp_path: Path, clock: Clock, here: Runtime) -> Iterator[Runtime]:
    """Another runtime over the same database: another worker, or the CLI."""
    built = _runtime(tmp_path, clock, upgrade=False)
    yield built
    built.close()


def _audit(api: TestClient, secret: str) -> Any:
    return api.get(f"{API}/audit", headers={"Authorization": f"Bearer {secret}"})


def _queries(runtime: Runtime) -> list[str]:
    """The SQL statements ``runtime``'s database runs from now on."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(runtime.database.engine, "before_cursor_execute", count)
    return seen


def test_a_checked_key_is_answered_without_reading_the_database(
    here: Runtime, clock: Clock
) -> None:
    """Within the interval a known key costs no query; after it, one query checks every key."""
    api = TestClient(create_app(here))
    _, first = keys.create(here.database, "first", ["audit:read"])
    _, second = keys.create(here.database, "second", ["audit:read"])
    assert _audit(api, first).status_code == 200
    assert _audit(api, second).status_code == 200
    queries = _queries(here)
    cache: keys.KeyCache = api.app.state.api_keys  # type: ignore[attr-defined]
    assert cache.cached(first) is not None and cache.cached(second) is not None
    assert not [sql for sql in queries if "api_keys" in sql]
    clock.advance(INTERVAL)
    assert cache.cached(first) is None  # stale: only the database can tell
    assert cache.authenticate(first).name == "first"
    assert cache.authenticate(second).name == "second"
    assert len([sql for sql in queries if "api_keys" in sql]) == 1


def test_a_key_revoked_in_this_process_stops_working_at_once(here: Runtime) -> None:
    """Revoking through this process's database forgets the key in its cache."""
    api = TestClient(create_app(here))
    key_id, secret = keys.create(here.database, "soon revoked", ["audit:read"])
    assert _audit(api, secret).status_code == 200
    keys.revoke(here.database, key_id)
    assert "revoked" in assert_problem(_audit(api, secret), 401)["detail"]


def test_a_key_revoked_elsewhere_stops_working_within_the_interval(
    here: Runtime, elsewhere: Runtime, clock: Clock
) -> None:
    """Another process's revocation is noticed once the cache's interval has passed."""
    api = TestClient(create_app(here))
    key_id, secret = keys.create(here.database, "soon revoked", ["audit:read"])
    assert _audit(api, secret).status_code == 200
    keys.revoke(elsewhere.database, key_id)
    clock.advance(INTERVAL - 0.001)
    assert _audit(api, secret).status_code == 200  # the documented delay, no longer
    clock.advance(0.001)
    assert "revoked" in assert_problem(_audit(api, secret), 401)["detail"]
    clock.advance(INTERVAL)
    assert_problem(_audit(api, secret), 401)  # and it is not cached again


def test_a_wrong_secret_with_a_cached_prefix_is_refused(here: Runtime) -> None:
    """The cache finds keys by the digest of the whole secret, not by the prefix."""
    api = TestClient(create_app(here))
    _, secret = keys.create(here.database, "real", ["audit:read"])
    assert _audit(api, secret).status_code == 200
    forged = secret[: secret.rindex("_") + 1] + "x" * 43
    assert _audit(api, forged).status_code == 401
    assert _audit(api, secret[:-1]).status_code == 401
    assert _audit(api, secret).status_code == 200


def test_without_the_cache_every_request_reads_the_key(tmp_path: Path, clock: Clock) -> None:
    """``api_key_cache_seconds=0``: another process's revocation counts for the next request."""
    here = _runtime(tmp_path, clock, upgrade=True, api_key_cache_seconds=0)
    elsewhere = _runtime(tmp_path, clock, upgrade=False)
    try:
        api = TestClient(create_app(here))
        key_id, secret = keys.create(here.database, "soon revoked", ["audit:read"])
        assert _audit(api, secret).status_code == 200
        assert api.app.state.api_keys.cached(secret) is None  # type: ignore[attr-defined]
        keys.revoke(elsewhere.database, key_id)
        assert_problem(_audit(api, secret), 401)
    finally:
        elsewhere.close()
        here.close()


def test_the_cache_keeps_at_most_its_size(here: Runtime) -> None:
    """The oldest keys are forgotten first, and are checked against the database again."""
    cache = keys.KeyCache(here.database, INTERVAL, clock=here.clock, max_keys=2)
    secrets = [keys.create(here.database, f"key {n}", ["audit:read"])[1] for n in range(3)]
    for secret in secrets:
        cache.authenticate(secret)
    assert cache.cached(secrets[0]) is None
    assert cache.cached(secrets[1]) is not None and cache.cached(secrets[2]) is not None
    assert cache.authenticate(secrets[0]).name == "key 0"
