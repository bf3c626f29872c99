"""``make demo`` builds a consistent product: two policy versions, people, consents, requests."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

import pytest
from tests.e2e.pages_support import TestClient

from pledge import demo
from pledge.app import build_runtime
from pledge.config import Settings
from pledge.declaration.lint import lint
from pledge.notify.policies import PolicyVersions


def test_the_demo_seeds_requests_in_every_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next version lints cleaner; the seeded requests cover the lifecycle's states."""
    monkeypatch.chdir(Path(__file__).parents[2])
    url, emails = demo.company_database(tmp_path)
    published, current = demo.declarations(url)
    assert len(lint(current)) < len(lint(published))
    clock = demo.DemoClock()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'pledge.db'}", secret_key=secrets.token_bytes(32)
    )
    runtime = build_runtime(settings, declaration=current, upgrade=True, clock=clock)
    try:
        versions = PolicyVersions(runtime.database, clock=clock)
        clock.now -= dt.timedelta(days=90)
        versions.record(published)
        clock.now += dt.timedelta(days=80)
        versions.record(current)
        clock.now = dt.datetime.now(dt.UTC)
        demo.seed_history(runtime, clock, emails)
        states = {str(request.state) for request in runtime.requests.list()}
        assert {"received", "verified", "denied", "completed"} <= states
        assert any(request.overdue for request in runtime.requests.list())
        [done] = runtime.requests.list(type="access", state="completed")
        assert {report["format"] for report in runtime.execution.reports(done.id)} == {
            "html",
            "zip",
        }
        assert [version.version for version in versions.list()] == ["2026-12-01", "2026-11-22"]
    finally:
        runtime.close()


def test_the_demo_serves_the_banner_shop_beside_the_product(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shop page and the banner built from the shop's own cookies, with their ledger."""
    monkeypatch.chdir(Path(__file__).parents[2])
    with TestClient(demo.banner_shop(8001, tmp_path)) as client:
        page = client.get("/demo/")
        assert page.status_code == 200
        assert 'src="/banner.js"' in page.text
        script = client.get("/banner.js")
        assert script.status_code == 200
        assert '"analytics"' in script.text
    assert (tmp_path / "banner-shop.db").exists()
