"""The server's commands end to end: ``pledge serve``, ``apikey``, ``db upgrade``, ``key``.

In-process with ``CliRunner`` against a SQLite file in the test's own directory, except one
test that starts ``pledge serve`` as a real process on a free loopback port and calls it.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from tests.e2e.api_support import DECLARATION
from typer.testing import CliRunner, Result

from pledge import keys
from pledge.cli import app
from pledge.config import decode_key, generate_key
from pledge.errors import AuthError
from pledge.store.database import Database
from pledge.store.tables import audit_events

PLEDGE = Path(sys.executable).parent / "pledge"
SECRET = re.compile(r"^pk_[0-9a-f]{12}_[A-Za-z0-9_-]{40,}$")


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory; the store is a SQLite file in it; no key from the shell."""
    monkeypatch.chdir(tmp_path)
    for name in ("PLEDGE_CONFIG", "PLEDGE_ENV", "PLEDGE_SECRET_KEY", "PLEDGE_SECRET_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PLEDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'pledge.db'}")
    return tmp_path


def run(*args: str, env: Mapping[str, str] | None = None) -> Result:
    """Run ``pledge ARGS`` in-process."""
    return CliRunner().invoke(app, list(args), env=env)


def store(workdir: Path) -> Database:
    """The test's database."""
    return Database(f"sqlite:///{workdir / 'pledge.db'}")


def assert_one_line_error(result: Result, fragment: str) -> None:
    """Exit 2 with a single ``error: …`` line naming ``fragment``, and no traceback."""
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert fragment in result.stderr
    assert "Traceback" not in result.output


# --- apikey ------------------------------------------------------------------------------------


def test_apikey_create_prints_the_secret_once_and_stores_only_its_hash(workdir: Path) -> None:
    """stdout is the secret alone; the key authenticates; the database never holds it."""
    result = run("apikey", "create", "--name", "billing", "--scope", "consent:write")
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert SECRET.match(secret)
    assert "not shown again" in result.stderr
    database = store(workdir)
    key = keys.authenticate(database, secret)
    assert key.name == "billing" and {str(scope) for scope in key.scopes} == {"consent:write"}
    assert secret.encode() not in (workdir / "pledge.db").read_bytes()
    database.dispose()


def test_apikey_list_shows_keys_without_their_secrets(workdir: Path) -> None:
    """Each key is listed with its id, prefix, name and scopes; never the secret."""
    secret = run("apikey", "create", "--name", "ci", "--scope", "audit:read").stdout.strip()
    result = run("apikey", "list")
    assert result.exit_code == 0
    assert "ci" in result.stdout and "audit:read" in result.stdout and "active" in result.stdout
    assert secret not in result.stdout
    assert secret.split("_")[1] in result.stdout
    listed = json.loads(run("apikey", "list", "--format", "json").stdout)
    assert [entry["name"] for entry in listed] == ["ci"]
    assert listed[0]["revoked_at"] is None


def test_apikey_revoke_stops_the_key_and_is_audited(workdir: Path) -> None:
    """A revoked key no longer authenticates; creation and revocation are in the audit trail."""
    secret = run("apikey", "create", "--name", "old", "--scope", "admin").stdout.strip()
    key_id = json.loads(run("apikey", "list", "--format", "json").stdout)[0]["id"]
    result = run("apikey", "revoke", key_id)
    assert result.exit_code == 0 and key_id in result.stdout
    database = store(workdir)
    with pytest.raises(AuthError, match="revoked"):
        keys.authenticate(database, secret)
    with database.read() as connection:
        actions = connection.execute(select(audit_events.c.action)).scalars().all()
    database.dispose()
    assert actions == ["apikey.created", "apikey.revoked"]
    assert "revoked" in run("apikey", "list").stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("apikey", "create", "--name", "x", "--scope", "root"), "unknown scope 'root'"),
        (("apikey", "create", "--name", " ", "--scope", "admin"), "name"),
        (("apikey", "revoke", "01JD3Z6X6M0000000000000000"), "no API key"),
    ],
)
def test_apikey_usage_errors_exit_2_with_one_line(args: tuple[str, ...], fragment: str) -> None:
    """An unknown scope, an empty name or an unknown key: one line, exit 2."""
    assert_one_line_error(run(*args), fragment)


def test_a_database_that_cannot_be_reached_is_one_line_and_exit_2() -> None:
    """A PostgreSQL server that is not there: a message, not a traceback."""
    env = {"PLEDGE_DATABASE_URL": "postgresql+psycopg://pledge@127.0.0.1:1/pledge"}
    assert_one_line_error(run("apikey", "list", env=env), "unavailable")


# --- db and key --------------------------------------------------------------------------------


def test_db_upgrade_creates_the_schema_and_can_run_again(workdir: Path) -> None:
    """A fresh SQLite file gets the current schema; a second run changes nothing."""
    for _ in range(2):
        result = run("db", "upgrade")
        assert result.exit_code == 0, result.output
        assert "schema revision" in result.stdout
    database = store(workdir)
    assert database.has_schema()
    database.dispose()


def test_key_generate_prints_a_usable_random_key() -> None:
    """The key decodes to 32 bytes and differs every time."""
    first, second = (run("key", "generate").stdout.strip() for _ in range(2))
    assert len(decode_key(first)) == 32
    assert first != second
    assert "PLEDGE_SECRET_KEY" in run("key", "generate").stderr


# --- serve -------------------------------------------------------------------------------------


@pytest.mark.parametrize("placeholder", ["changeme", "secret", ""])
def test_serve_refuses_a_placeholder_key_in_production(placeholder: str) -> None:
    """PLEDGE_ENV=production with a placeholder key: exit 2 and a clear line, no server."""
    env = {"PLEDGE_ENV": "production", "PLEDGE_SECRET_KEY": placeholder}
    assert_one_line_error(run("serve", "--port", "1", env=env), "placeholder")


def test_serve_refuses_to_start_without_a_key_in_production() -> None:
    """No key at all in production: exit 2, and the message says how to make one."""
    result = run("serve", env={"PLEDGE_ENV": "production"})
    assert_one_line_error(result, "pledge key generate")


def test_serve_needs_a_declaration(workdir: Path) -> None:
    """Without pledge.yaml there is nothing to serve: exit 2."""
    result = run("serve", env={"PLEDGE_SECRET_KEY": generate_key()})
    assert_one_line_error(result, "pledge.yaml")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_pledge_serve_answers_http_requests(workdir: Path) -> None:
    """`pledge serve` in a real process creates its store, serves the API, and stops cleanly."""
    (workdir / "pledge.yaml").write_text(DECLARATION, encoding="utf-8")
    port = free_port()
    env = {**os.environ, "PLEDGE_SECRET_KEY": generate_key()}
    server = subprocess.Popen(
        [str(PLEDGE), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/v1"
        deadline = time.monotonic() + 30
        response = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                response = httpx.get(f"{url}/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert response is not None, f"the server did not answer: {server.poll()}"
        assert response.status_code == 200
        assert response.json()["info"]["title"] == "Pledge API"
        unauthorised = httpx.get(f"{url}/audit", timeout=5)
        assert unauthorised.status_code == 401
        assert unauthorised.headers["content-type"] == "application/problem+json"
    finally:
        server.terminate()
        try:
            _, stderr = server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            _, stderr = server.communicate()
    assert b"Pledge API on http://127.0.0.1" in stderr
    assert (workdir / "pledge.db").exists()
