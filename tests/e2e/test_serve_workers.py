"""``pledge serve --workers N``: several processes on one socket, each with its own runtime."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from tests.e2e.api_support import DECLARATION
from typer.testing import CliRunner

from pledge.cli import app
from pledge.config import generate_key
from pledge.store.database import Database
from pledge.store.tables import consent_events
from pledge.web.server import TcpConfig

PLEDGE = Path(sys.executable).parent / "pledge"


def test_the_shared_socket_gives_connections_tcp_nodelay() -> None:
    """Connections accepted on the workers' socket have Nagle's algorithm off (no 40 ms waits)."""
    listener = TcpConfig("pledge.web.app:create_app_from_environment", host="127.0.0.1", port=0)
    bound = listener.bind_socket()
    assert bound.proto == socket.IPPROTO_TCP

    async def accepted_nodelay() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            raw = writer.get_extra_info("socket")
            accepted.set_result(raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(connected, sock=bound)
        async with server:
            _, writer = await asyncio.open_connection(*bound.getsockname()[:2])
            try:
                return await asyncio.wait_for(accepted, 5)
            finally:
                writer.close()

    assert asyncio.run(accepted_nodelay()) != 0


def test_two_workers_record_consent_and_commit_it_before_they_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both processes serve the API; every decision answered is in the store afterwards."""
    (tmp_path / "pledge.yaml").write_text(DECLARATION, encoding="utf-8")
    env = {
        **os.environ,
        "PLEDGE_SECRET_KEY": generate_key(),
        "PLEDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'pledge.db'}",
        "PLEDGE_CONFIG": str(tmp_path / "pledge.yaml"),
    }
    env.pop("PLEDGE_ENV", None)
    for name, value in env.items():
        if name.startswith("PLEDGE_"):
            monkeypatch.setenv(name, value)
    created = CliRunner().invoke(app, ["apikey", "create", "--name", "t", "--scope", "admin"])
    assert created.exit_code == 0, created.output
    headers = {"Authorization": f"Bearer {created.stdout.strip().splitlines()[-1]}"}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(PLEDGE), "serve", "--port", str(port), "--workers", "2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/api/v1"
    answered = 0
    try:
        deadline = time.monotonic() + 30
        while True:
            assert time.monotonic() < deadline and server.poll() is None, "no answer"
            try:
                httpx.get(f"{url}/openapi.json", timeout=2).raise_for_status()
                break
            except httpx.TransportError:
                time.sleep(0.1)
        for number in range(6):  # new connections: the workers share them
            with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
                body = {"identities": [{"kind": "email", "value": f"w{number}@example.com"}]}
                subject = client.post("/subjects", json=body).json()["id"]
                recorded = client.post(
                    f"/subjects/{subject}/consent",
                    json={"purpose": "newsletter", "decision": "granted", "channel": "api"},
                )
                assert recorded.status_code == 201, recorded.text
                answered += 1
    finally:
        server.terminate()
        try:
            _, stderr = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            _, stderr = server.communicate()
    assert b"Traceback" not in stderr, stderr.decode()
    database = Database(env["PLEDGE_DATABASE_URL"])
    try:
        with database.read() as connection:
            stored = connection.execute(select(func.count()).select_from(consent_events))
            assert stored.scalar_one() == answered == 6
    finally:
        database.dispose()
