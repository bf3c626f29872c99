"""What the HTTP API tests share: a runtime on a real SQLite file, a client, keys, row counts."""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from tests.conftest import CLEAN_DECLARATION, revise

from pledge import keys
from pledge.app import Runtime, build_runtime
from pledge.config import Settings
from pledge.declaration import Declaration, loads
from pledge.store.tables import audit_events, consent_events, identities, subjects
from pledge.web.app import create_app

with warnings.catch_warnings():
    # Starlette announces a move to httpx2 on import; the client works the same.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ORIGIN = "https://shop.example"
API = "/api/v1"

DECLARATION = revise(
    CLEAN_DECLARATION,
    (
        "  analytics:\n    legal_basis: consent\n",
        "  ads:\n"
        "    legal_basis: consent\n"
        "    targeted_advertising: true\n"
        "    categories: [usage.pages]\n"
        "    retention: P1Y\n"
        "  analytics:\n"
        "    legal_basis: consent\n",
    ),
)
"""The clean declaration plus ``ads``: a consent purpose for targeted advertising (GPC)."""


def declaration() -> Declaration:
    """The declaration the API tests serve."""
    return loads(DECLARATION, "pledge.yaml")


def settings(folder: Path, **changes: Any) -> Settings:
    """Settings for a runtime on a SQLite file in ``folder``."""
    base = Settings(
        database_url=f"sqlite:///{folder / 'store' / 'pledge.db'}",
        secret_key=secrets.token_bytes(32),
        allowed_origins=(ORIGIN,),
        public_rate_limit=10_000,
        decision_cache_seconds=0,
    )
    return replace(base, **changes)


def runtime(folder: Path, **changes: Any) -> Runtime:
    """A runtime on a fresh, migrated SQLite file in ``folder``."""
    return build_runtime(settings(folder, **changes), declaration=declaration(), upgrade=True)


def client(runtime: Runtime, **options: Any) -> TestClient:
    """A test client of the app serving ``runtime``."""
    return TestClient(create_app(runtime), **options)


def key(runtime: Runtime, *scopes: str) -> dict[str, str]:
    """Headers authenticating with a new key that has ``scopes``."""
    _, secret = keys.create(runtime.database, "tests", scopes)
    return {"Authorization": f"Bearer {secret}"}


def counts(runtime: Runtime) -> dict[str, int]:
    """How many rows the tables a request could write to hold (decisions flushed first)."""
    runtime.decider.flush()
    with runtime.database.read() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (subjects, identities, consent_events, audit_events)
        }


def assert_problem(response: Any, status: int) -> Mapping[str, Any]:
    """Assert an RFC 9457 problem with ``status``; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: Mapping[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:pledge:problem:")
    assert body["title"] and body["detail"] and body["instance"].startswith(API)
    return body
