"""Carrying out a request from outside: the HTTP API and the CLI, on the Cloudwarm example.

The person's code comes from the outbox; staff approve; a worker (in-process runner, or
``pledge worker --once`` as a real subprocess) carries the request out in the example's SQLite
database; the report is downloaded.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import secrets
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from tests.cloudwarm import SEED, declaration_at, load_example
from tests.e2e.api_support import API, client, key, settings
from typer.testing import CliRunner

from pledge import loads
from pledge.app import Runtime, build_runtime
from pledge.cli import app
from pledge.requests.notifier import Outbox

PLEDGE = Path(sys.executable).parent / "pledge"
PERSON = SEED.rows()["users"][0]
IDENTITY = {"kind": "email", "value": PERSON["email"]}


@pytest.fixture
def company(tmp_path: Path) -> str:
    """The example's database, seeded, in a SQLite file."""
    url = f"sqlite:///{tmp_path / 'cloudwarm.db'}"
    load_example(url)
    return url


@pytest.fixture
def served(tmp_path: Path, company: str) -> Iterator[Runtime]:
    """A runtime serving the Cloudwarm declaration, with an outbox for the codes."""
    built = build_runtime(
        settings(tmp_path),
        declaration=loads(declaration_at(company)),
        upgrade=True,
        notifier=Outbox(),
    )
    yield built
    built.close()


def code_of(built: Runtime) -> str:
    """The newest code e-mailed to the person."""
    assert isinstance(built.requests.notifier, Outbox)
    message = built.requests.notifier.last(PERSON["email"], "verification")
    assert message is not None
    found = re.search(r"^    (\d{6})$", message.body, re.MULTILINE)
    assert found
    return found[1]


def test_access_over_http_from_submission_to_report(served: Runtime) -> None:
    """Submit, verify, plan, approve, run, download: each a plain HTTP call."""
    api = client(served)
    headers = key(served, "requests:write", "requests:read")
    created = api.post(
        f"{API}/requests", json={"type": "access", "identity": IDENTITY}, headers=headers
    ).json()
    request_id = created["id"]
    early = api.post(f"{API}/requests/{request_id}/approve", headers=headers)
    assert early.status_code == 409  # not verified yet
    api.post(f"{API}/requests/{request_id}/verify", json={"code": code_of(served)}, headers=headers)

    plan = api.get(f"{API}/requests/{request_id}/plan", headers=headers)
    assert plan.status_code == 200
    tables = {item["table"]: item for item in plan.json()["tables"]}
    assert tables["users"]["rows"] == 1 and tables["temperature_readings"]["rows"] > 0
    approved = api.post(f"{API}/requests/{request_id}/approve", headers=headers)
    assert approved.status_code == 200 and approved.json()["state"] == "planned"
    missing = api.get(f"{API}/requests/{request_id}/report", headers=headers)
    assert missing.status_code == 404

    assert served.runner().run_until_idle() == 1

    done = api.get(f"{API}/requests/{request_id}", headers=headers).json()
    assert done["state"] == "completed"
    formats = api.get(f"{API}/requests/{request_id}/reports", headers=headers).json()
    assert [item["format"] for item in formats["formats"]] == ["html", "zip"]
    page = api.get(f"{API}/requests/{request_id}/report", headers=headers)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert PERSON["full_name"] in page.text
    assert page.headers["cache-control"] == "no-store"
    archive = api.get(
        f"{API}/requests/{request_id}/report", params={"format": "zip"}, headers=headers
    )
    assert "app/users.csv" in zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    unknown = api.get(
        f"{API}/requests/{request_id}/report", params={"format": "pdf"}, headers=headers
    )
    assert unknown.status_code == 422


def test_reading_reports_needs_the_read_scope(served: Runtime) -> None:
    """A key without requests:read gets 403 for plans and reports."""
    api = client(served)
    writer = key(served, "requests:write")
    created = api.post(
        f"{API}/requests", json={"type": "access", "identity": IDENTITY}, headers=writer
    ).json()
    for path in ("plan", "report", "reports"):
        answer = api.get(f"{API}/requests/{created['id']}/{path}", headers=writer)
        assert answer.status_code == 403, path


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``pledge ARGS`` as a real process."""
    return subprocess.run(
        [str(PLEDGE), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_erasure_through_the_cli_and_a_worker_process(tmp_path: Path, company: str) -> None:
    """submit → approve → run --dry-run → ``pledge worker --once`` → report, all from the CLI."""
    (tmp_path / "pledge.yaml").write_text(declaration_at(company), encoding="utf-8")
    base = replace(settings(tmp_path), secret_key=secrets.token_bytes(32))
    env = {
        **os.environ,
        "PLEDGE_DATABASE_URL": base.database_url,
        "PLEDGE_SECRET_KEY": base64.b64encode(base.secret_key).decode(),
        "PLEDGE_CONFIG": str(tmp_path / "pledge.yaml"),
        "PLEDGE_ENVIRONMENT": "production",
    }
    assert run("db", "upgrade", env=env).returncode == 0
    submitted = run(
        "request",
        "submit",
        "erasure",
        PERSON["email"],
        "--staff",
        "Sam",
        "--skip-verification",
        "identified in person",
        "--format",
        "json",
        env=env,
    )
    assert submitted.returncode == 0, submitted.stderr
    request_id = json.loads(submitted.stdout)["id"]

    plan = run("request", "run", request_id, "--dry-run", "--format", "json", env=env)
    assert plan.returncode == 0, plan.stderr
    assert {item["table"]: item["action"] for item in json.loads(plan.stdout)["tables"]}[
        "invoices"
    ] == ("retain (legal hold)")
    refused = run("request", "run", request_id, env=env)
    assert refused.returncode == 1 and "approve it first" in refused.stderr
    assert run("request", "approve", request_id, "--staff", "Sam", env=env).returncode == 0

    worker = run("worker", "--once", env=env)
    assert worker.returncode == 0, worker.stderr
    assert "Ran 1 job." in worker.stderr

    shown = run("request", "show", request_id, "--format", "json", env=env)
    assert json.loads(shown.stdout)["state"] == "completed"
    report = run("request", "report", request_id, "--format", "json", env=env)
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["outcome"]["app"]["residue"] == {}
    zipped = run("request", "report", request_id, "--format", "zip", env=env)
    assert zipped.returncode == 2 and "has no zip report" in zipped.stderr  # access only
    page = tmp_path / "erasure.html"
    assert run("request", "report", request_id, "-o", str(page), env=env).returncode == 0
    assert "What was erased" in page.read_text(encoding="utf-8")


def test_cli_refuses_an_unknown_request_clearly(tmp_path: Path, company: str) -> None:
    """A wrong id is one line and exit 2, no traceback."""
    path = tmp_path / "pledge.yaml"
    path.write_text(declaration_at(company), encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["request", "approve", "01JAAAAAAAAAAAAAAAAAAAAAAA", "-c", str(path)],
        env={
            "PLEDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'pledge.db'}",
            "PLEDGE_SECRET_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        },
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output
