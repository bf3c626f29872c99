"""``pledge serve --workers N``: several processes on one socket, each with its own runtime."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
from pledge.web import server as web_server
from pledge.web.server import TcpConfig

PLEDGE = Path(sys.executable).parent / "pledge"


def test_the_workers_run_on_uvloop_and_httptools_and_fall_back_without_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both are installed (requirements.lock); where they are not, asyncio and h11 serve."""
    assert (web_server.event_loop(), web_server.http_protocol()) == ("uvloop", "httptools")
    monkeypatch.setattr(web_server.importlib.util, "find_spec", lambda name: None)
    assert (web_server.event_loop(), web_server.http_protocol()) == ("asyncio", "h11")


def listener() -> TcpConfig:
    """The workers' settings on a free loopback port."""
    return TcpConfig("pledge.web.app:create_app_from_environment", host="127.0.0.1", port=0)


@pytest.mark.parametrize("per_worker", [False, True], ids=["shared", "per-worker"])
def test_the_listening_sockets_give_connections_tcp_nodelay(per_worker: bool) -> None:
    """Connections accepted on the workers' sockets have Nagle's algorithm off (no 40 ms waits)."""
    config = listener()
    bound = config.bind_worker_sockets(1)[0] if per_worker else config.bind_socket()
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


def test_each_worker_listens_on_a_socket_of_its_own_and_gets_connections() -> None:
    """Two sockets on one port: the kernel spreads new connections over both."""
    config = listener()
    sockets = config.bind_worker_sockets(2)
    clients: list[socket.socket] = []
    accepted = [0, 0]
    try:
        assert {sock.getsockname()[1] for sock in sockets} == {config.port}
        for sock in sockets:
            sock.setblocking(False)
        clients = [socket.create_connection(("127.0.0.1", config.port)) for _ in range(64)]
        deadline = time.monotonic() + 10
        while sum(accepted) < len(clients) and time.monotonic() < deadline:
            for index, sock in enumerate(sockets):
                try:
                    connection, _ = sock.accept()
                except BlockingIOError:
                    continue
                connection.close()
                accepted[index] += 1
    finally:
        for sock in [*clients, *sockets]:
            sock.close()
    assert sum(accepted) == 64
    assert all(accepted), accepted  # both: all 64 on one socket has odds of 2 in 2**64


def test_a_port_another_server_listens_on_is_not_shared() -> None:
    """A second `pledge serve` on the port (SO_REUSEPORT too) is refused, not let in."""
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = TcpConfig(
            "pledge.web.app:create_app_from_environment",
            host="127.0.0.1",
            port=taken.getsockname()[1],
        )
        with pytest.raises(OSError):
            config.bind_worker_sockets(2)


@dataclass
class Served:
    """``pledge serve --workers 2`` running in a process of its own."""

    process: subprocess.Popen[bytes]
    url: str
    headers: dict[str, str]
    database_url: str

    def workers(self) -> set[int]:
        """The pids of the worker processes (the supervisor's spawned children)."""
        found = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                command = (entry / "cmdline").read_bytes()
            except (OSError, IndexError):
                continue  # gone meanwhile
            if parent == self.process.pid and b"resource_tracker" not in command:
                found.add(int(entry.name))
        return found


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """Two workers on a SQLite store, an admin key; stopped (and checked) at the end."""
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
    process = subprocess.Popen(
        [str(PLEDGE), "serve", "--port", str(port), "--workers", "2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert time.monotonic() < deadline and process.poll() is None, "no answer"
            try:
                httpx.get(f"{url}/openapi.json", timeout=2).raise_for_status()
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield Served(process, url, headers, env["PLEDGE_DATABASE_URL"])
    finally:
        process.terminate()
        try:
            _, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
    assert b"Traceback" not in stderr, stderr.decode()


def test_two_workers_record_consent_and_commit_it_before_they_stop(served: Served) -> None:
    """Both processes serve the API; every decision answered is in the store afterwards."""
    answered = 0
    for number in range(6):  # new connections: the workers share them
        with httpx.Client(base_url=served.url, headers=served.headers, timeout=10) as client:
            body = {"identities": [{"kind": "email", "value": f"w{number}@example.com"}]}
            subject = client.post("/subjects", json=body).json()["id"]
            recorded = client.post(
                f"/subjects/{subject}/consent",
                json={"purpose": "newsletter", "decision": "granted", "channel": "api"},
            )
            assert recorded.status_code == 201, recorded.text
            answered += 1
    served.process.terminate()
    served.process.wait(timeout=30)
    database = Database(served.database_url)
    try:
        with database.read() as connection:
            stored = connection.execute(select(func.count()).select_from(consent_events))
            assert stored.scalar_one() == answered == 6
    finally:
        database.dispose()


def wait_for_workers(served: Served, ready: Callable[[set[int]], bool]) -> set[int]:
    """The workers once ``ready`` holds for them (within 30 s)."""
    deadline = time.monotonic() + 30
    while not ready(workers := served.workers()):
        assert time.monotonic() < deadline, workers
        time.sleep(0.1)
    return workers


def assert_every_connection_answered(served: Served) -> None:
    """New connections, spread by the kernel over every socket, all get an answer."""
    for _ in range(24):  # with two sockets, all on one has odds of 2 in 2**24
        with httpx.Client(base_url=served.url, timeout=15) as client:
            assert client.get("/openapi.json").status_code == 200


def test_a_worker_that_dies_is_replaced_on_its_own_socket(served: Served) -> None:
    """Killed, a worker comes back on its socket: no connection waits on it for nobody."""
    victim = min(wait_for_workers(served, lambda found: len(found) == 2))
    os.kill(victim, signal.SIGKILL)
    wait_for_workers(served, lambda found: len(found) == 2 and victim not in found)
    assert_every_connection_answered(served)


def test_workers_restart_on_sighup_and_scale_with_sigttin_and_sigttou(served: Served) -> None:
    """New workers take the old ones' sockets; a worker taken away takes its socket along."""
    before = wait_for_workers(served, lambda found: len(found) == 2)
    served.process.send_signal(signal.SIGHUP)
    wait_for_workers(served, lambda found: len(found) == 2 and not found & before)
    assert_every_connection_answered(served)
    served.process.send_signal(signal.SIGTTIN)
    wait_for_workers(served, lambda found: len(found) == 3)
    assert_every_connection_answered(served)
    served.process.send_signal(signal.SIGTTOU)
    wait_for_workers(served, lambda found: len(found) == 2)
    assert_every_connection_answered(served)
