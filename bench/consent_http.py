"""Benchmark: consent writes over HTTP, against SQLite and PostgreSQL.

Starts `pledge serve` on a free loopback port with a fresh store, creates subjects and an API
key, then a load generator in this process sends a bounded number of consent writes
(``POST /api/v1/subjects/{id}/consent``) over 32 keep-alive connections, each one committed
to the ledger, its chain and the audit trail before the answer. Reports writes/s and p50/p99
latency. Goal: ≥ 1,000 writes/s on 2 cores, one decision per request.

Then the same decisions again, two per request, through
``POST /api/v1/subjects/{id}/consent/batch`` (a form or banner with two choices): what a
client that sends a person's choices together gets. It counts decisions, not requests, and
does not count for the goal.

The load generator is a minimal HTTP/1.1 client on asyncio streams (about 0.1 ms of CPU per
request): the server and the generator share the machine's cores, and httpx's client costs
3 to 6 ms of CPU per request, so that it, not the server, set the pace. The server runs with
``--workers`` processes (``WORKERS``; pass ``--workers N`` to this script to change it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from rich.progress import Progress
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from harness import Result
from pledge.config import generate_key

PLEDGE = Path(sys.executable).parent / "pledge"
POSTGRES_URL = os.environ.get(
    "PLEDGE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DECLARATION = """\
pledge: 1
controller: {name: Bench Inc, country: DE, email: privacy@bench.example}
policy: {version: "1", effective_date: 2026-01-01}
purposes:
  newsletter:
    {legal_basis: consent, categories: [contact.email], retention: P1Y after consent_withdrawn}
  analytics: {legal_basis: consent, categories: [usage.pages], retention: P13M}
"""
SUBJECTS = 500
WRITES = 4_000
CONCURRENCY = 32
TIME_LIMIT = 60.0
WORKERS = 2
BATCH = 2  # decisions per request in the batch run: newsletter and analytics


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server(folder: Path, database_url: str, workers: int) -> Iterator[tuple[str, str]]:
    env = {
        **os.environ,
        "PLEDGE_ENV": "production",
        "PLEDGE_SECRET_KEY": generate_key(),
        "PLEDGE_DATABASE_URL": database_url,
        "PLEDGE_CONFIG": str(folder / "pledge.yaml"),
    }
    (folder / "pledge.yaml").write_text(DECLARATION, encoding="utf-8")
    subprocess.run([str(PLEDGE), "db", "upgrade"], env=env, check=True, capture_output=True)
    created = subprocess.run(
        [str(PLEDGE), "apikey", "create", "--name", "bench", "--scope", "admin"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    key = created.stdout.strip().splitlines()[-1]
    port = _free_port()
    command = [str(PLEDGE), "serve", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    server = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("pledge serve did not start within 30 s")
        yield base, key
    finally:
        server.terminate()
        server.wait(timeout=30)


class _Connection:
    """One keep-alive HTTP/1.1 connection sending JSON requests with the API key."""

    def __init__(self, base: str, key: str) -> None:
        parts = urlsplit(base)
        self.host, self.port, self.prefix = parts.hostname or "", parts.port or 80, parts.path
        self.key = key
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: object) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        data = json.dumps(body).encode()
        head = (
            f"{method} {self.prefix}{path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {self.key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        )
        self.writer.write(head.encode() + data)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) != b"\r\n":
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _load(base: str, key: str, per_request: int = 1) -> tuple[list[float], float, int]:
    """Create the subjects, then send ``WRITES`` decisions, ``per_request`` in each request.

    Returns:
        The latency of each request, the seconds the decisions took, the failed requests.
    """
    connections = [_Connection(base, key) for _ in range(CONCURRENCY)]
    try:
        subject_ids = []
        for number in range(SUBJECTS):
            body = {"identities": [{"kind": "email", "value": f"person{number}@bench.example"}]}
            status, payload = await connections[0].request("POST", "/subjects", body)
            if status != 201:
                raise RuntimeError(f"creating a subject: {status} {payload[:200]!r}")
            subject_ids.append(json.loads(payload)["id"])
        latencies: list[float] = []
        failures = 0
        numbers = iter(range(0, WRITES, per_request))
        deadline = time.monotonic() + TIME_LIMIT

        def decision(number: int) -> dict[str, str]:
            return {
                "purpose": ("newsletter", "analytics")[number % 2],
                "decision": ("granted", "withdrawn", "refused")[number % 3],
                "channel": "api",
            }

        async def worker(connection: _Connection) -> None:
            nonlocal failures
            for number in numbers:
                if time.monotonic() > deadline:
                    return
                path = f"/subjects/{subject_ids[number // per_request % SUBJECTS]}/consent"
                body: object = decision(number)
                if per_request > 1:  # one decision per purpose: newsletter, then analytics
                    path += "/batch"
                    body = {"decisions": [decision(number + n) for n in range(per_request)]}
                started = time.perf_counter()
                status, _ = await connection.request("POST", path, body)
                latencies.append(time.perf_counter() - started)
                if status != 201:
                    failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(connection) for connection in connections))
        return latencies, time.perf_counter() - started, failures
    finally:
        for connection in connections:
            connection.close()


@contextmanager
def _postgres() -> Iterator[str]:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"pledge_bench_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _run(
    label: str, database_url: str, folder: Path, workers: int, per_request: int
) -> tuple[str, ...]:
    with _server(folder, database_url, workers) as (base, key):
        latencies, seconds, failures = asyncio.run(_load(base, key, per_request))
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    rate = len(latencies) * per_request / seconds
    return (
        label,
        str(per_request),
        f"{rate:,.0f}",
        f"{statistics.median(ordered) * 1000:.1f} ms",
        f"{p99 * 1000:.1f} ms",
        str(failures),
    )


def measure(workers: int = WORKERS) -> Result:
    """Run the load against SQLite, then PostgreSQL when it is reachable; a fresh store each.

    Args:
        workers: the server's processes (``pledge serve --workers``).
    """
    rows: list[tuple[str, ...]] = []
    with Progress(transient=True) as progress:
        task = progress.add_task("consent writes over HTTP", total=4)
        for per_request in (1, BATCH):
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite:///{Path(folder) / 'bench.db'}"
                rows.append(_run("SQLite", url, Path(folder), workers, per_request))
            progress.advance(task)
        for per_request in (1, BATCH):
            try:
                with _postgres() as url, tempfile.TemporaryDirectory() as folder:
                    rows.append(_run("PostgreSQL", url, Path(folder), workers, per_request))
            except Exception as error:
                reason = str(error).splitlines()[0]
                rows.append(("PostgreSQL", str(per_request), "not measured", "", "", reason))
            progress.advance(task)
    single = [float(row[2].replace(",", "")) for row in rows if row[1] == "1" and row[3]]
    processes = "one process" if workers == 1 else f"{workers} worker processes"
    return Result(
        title="Consent writes over HTTP",
        setup=(
            f"`pledge serve` ({processes}) on loopback; {WRITES:,} writes over {SUBJECTS}"
            f" subjects from {CONCURRENCY} concurrent keep-alive connections (at most"
            f" {TIME_LIMIT:.0f} s); each write commits the event, its chain head, the consent"
            " state and an audit event before its answer. One decision per request"
            f" (`POST …/consent`, the goal's measure), then {BATCH} per request"
            " (`POST …/consent/batch`, a form's two choices: writes/s counts decisions,"
            " p50 and p99 are per request)."
        ),
        columns=("store", "per request", "writes/s", "p50", "p99", "failed"),
        rows=rows,
        goal_met=len(single) == 2 and min(single) >= 1000,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Consent writes over HTTP.")
    parser.add_argument("--workers", type=int, default=WORKERS, help="server processes")
    for line in measure(parser.parse_args().workers).markdown():
        print(line)
