"""Benchmark: consent writes over HTTP, against SQLite and PostgreSQL.

Starts `pledge serve` on a free loopback port with a fresh store, creates subjects and an API
key, then a load generator in this process (asyncio + httpx, 32 connections) sends a bounded
number of consent writes (``POST /api/v1/subjects/{id}/consent``), each one committed to the
ledger, its chain and the audit trail before the answer. Reports writes/s and p50/p99 latency.
Goal: ≥ 1,000 writes/s on 2 cores.
"""

from __future__ import annotations

import asyncio
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
    server = subprocess.Popen(
        [str(PLEDGE), "serve", "--port", str(port), "--workers", str(workers)],
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


async def _load(base: str, key: str) -> tuple[list[float], float, int]:
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=30
    ) as client:
        subject_ids = []
        for number in range(SUBJECTS):
            body = {"identities": [{"kind": "email", "value": f"person{number}@bench.example"}]}
            response = await client.post("/subjects", json=body)
            response.raise_for_status()
            subject_ids.append(response.json()["id"])
        latencies: list[float] = []
        failures = 0
        queue: asyncio.Queue[int] = asyncio.Queue()
        for number in range(WRITES):
            queue.put_nowait(number)
        deadline = time.monotonic() + TIME_LIMIT

        async def worker() -> None:
            nonlocal failures
            while not queue.empty() and time.monotonic() < deadline:
                number = queue.get_nowait()
                body = {
                    "purpose": ("newsletter", "analytics")[number % 2],
                    "decision": ("granted", "withdrawn", "refused")[number % 3],
                    "channel": "api",
                }
                started = time.perf_counter()
                response = await client.post(
                    f"/subjects/{subject_ids[number % SUBJECTS]}/consent", json=body
                )
                latencies.append(time.perf_counter() - started)
                if response.status_code != 201:
                    failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return latencies, time.perf_counter() - started, failures


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
    label: str, database_url: str, folder: Path, workers: int = 1
) -> tuple[str, str, str, str, str]:
    with _server(folder, database_url, workers) as (base, key):
        latencies, seconds, failures = asyncio.run(_load(base, key))
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    rate = len(latencies) / seconds
    return (
        label,
        f"{rate:,.0f}",
        f"{statistics.median(ordered) * 1000:.1f} ms",
        f"{p99 * 1000:.1f} ms",
        str(failures),
    )


def measure() -> Result:
    """Run the load against SQLite, then PostgreSQL when it is reachable."""
    rows = []
    with Progress(transient=True) as progress:
        task = progress.add_task("consent writes over HTTP", total=2)
        with tempfile.TemporaryDirectory() as folder:
            rows.append(_run("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", Path(folder)))
        progress.advance(task)
        try:
            with _postgres() as url, tempfile.TemporaryDirectory() as folder:
                rows.append(_run("PostgreSQL", url, Path(folder)))
        except Exception as error:
            rows.append(("PostgreSQL", "not measured", "", "", str(error).splitlines()[0]))
        progress.advance(task)
    rates = [float(row[1].replace(",", "")) for row in rows if row[1][0].isdigit()]
    return Result(
        title="Consent writes over HTTP",
        setup=(
            f"`pledge serve` (one process) on loopback; {WRITES:,} writes over {SUBJECTS} subjects"
            f" from {CONCURRENCY} concurrent connections (at most {TIME_LIMIT:.0f} s); each write"
            " commits the event, its chain head, the consent state and an audit event."
        ),
        columns=("store", "writes/s", "p50", "p99", "failed"),
        rows=rows,
        goal_met=bool(rates) and min(rates) >= 1000,
    )


if __name__ == "__main__":
    for line in measure().markdown():
        print(line)
