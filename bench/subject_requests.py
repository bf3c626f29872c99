"""Benchmark: one person's access and erasure in Cloudwarm's database, Pledge against plain SQL.

Goals (issue 4, section 7), on PostgreSQL with 100,000 people and over 1,000,000 rows: access
and erasure for one person with a median under 100 ms and a p99 under 250 ms, batch erasure at
≥ 100 people/s, and Pledge no slower than 1.5× the minimal hand-written SQL for the same
people on the same data, measured in the same run (``subject_baseline.py``). Run it alone with
``.venv/bin/python bench/subject_requests.py``.

The data comes from ``cloudwarm_data.py``, loaded once and kept: a later run finds it there.
People are taken from one fixed permutation of the accounts. The first ones are the access
sample, the same people every run, each read by both sides in turn (who goes first alternates,
so neither always finds the other's pages cached). Erasure destroys what it erases, so every
run takes people no run erased before (those whose password hash reads ``!erased``), further
along the permutation, handed alternately to the baseline and to Pledge so both samples have
the same shape; each erasure commits, and its commit is timed. Once more than
``RELOAD_ABOVE`` of the people have been erased, or too few fresh ones are left, the data is
loaded again before measuring. After the run an independent check confirms that every erased
person left nothing behind but their invoices (the legal hold) and the rewritten account.

Pledge's side goes through ``pledge_connect``, ``pledge_access``, ``pledge_erase`` and
``pledge_erase_many`` below, which wait for the planner and executor (``src/pledge/datastores/``).
Until they are wired the benchmark measures the baseline alone and says so.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from rich.progress import track
from sqlalchemy import Engine

from cloudwarm_data import SEED, URL, Generation, conninfo, ensure
from harness import Result
from pledge import loads
from pledge.app import build_runtime
from pledge.config import Settings
from pledge.datastores.execute import collect, erase
from pledge.datastores.plan import Plan, build_plan
from pledge.datastores.sql import SqlDatastore
from pledge.datastores.statements import Tables
from pledge.declaration.model import IdentityKind
from pledge.store.database import Database
from pledge.subjects.model import Identity
from subject_baseline import (
    ERASED_PASSWORD,
    TABLES,
    Connection,
    baseline_access,
    baseline_erase,
    baseline_erase_many,
    pseudonym,
)

PEOPLE = 100_000
ACCESS_PEOPLE = 200
ERASURE_PEOPLE = 200
BATCH_PEOPLE = 500
REQUEST_PEOPLE = 40
"""People per kind whose access or erasure runs end to end, as a request's job."""
BATCH_CHUNK = 100
"""People per transaction in the baseline's batch erasure."""
WARM_UP = 10
RELOAD_ABOVE = 0.05
"""The share of erased people above which the data is loaded again."""
GOAL_P50, GOAL_P99, GOAL_BATCH, GOAL_RATIO = 0.100, 0.250, 100.0, 1.5
KEY = hashlib.sha256(b"pledge bench: the key of erased e-mail pseudonyms").digest()
DECLARATION = Path(__file__).resolve().parents[1] / "examples" / "cloudwarm" / "pledge.yaml"


# --- Pledge's side: the planner and executor of src/pledge/datastores/ ----------------------


class PledgeNotWired(NotImplementedError):
    """Pledge's side of this benchmark cannot run (kept for a datastore type not supported)."""


def pledge_declaration(url: str) -> str:
    """Cloudwarm's ``pledge.yaml`` with the ``app`` datastore pointed at ``url``."""
    source = DECLARATION.read_text(encoding="utf-8")
    head, marker, rest = source.partition("\n  app:\n    url: ")
    return head + marker + url + rest[rest.index("\n") :]


@dataclass
class Pledge:
    """What Pledge builds once per datastore: the engine, the plan and its reflected tables."""

    engine: Engine
    plan: Plan
    tables: Tables
    key: bytes


def pledge_connect(url: str, key: bytes) -> Pledge:
    """Pledge, ready to carry out requests in the database at ``url`` (built outside timings).

    The plan comes from the declaration and the reflected schema, exactly as a request's job
    builds it; the same engine options as Pledge's SQL connector.
    """
    declaration = loads(pledge_declaration(url))
    store = SqlDatastore("app", url)
    plan = build_plan("app", store.reflect(), declaration.datastores["app"])
    with store.engine.connect() as connection:
        tables = Tables(connection, plan.tables_used(), "app", store.metadata)
    return Pledge(store.engine, plan, tables, key)


def pledge_access(pledge: Pledge, email: str) -> Mapping[str, int]:
    """Pledge's access for the person with ``email``: every row fetched, counted per table."""
    with pledge.engine.connect() as connection:
        found = collect(connection, pledge.tables, pledge.plan, {IdentityKind.EMAIL: [email]})
    return found.counts()


def pledge_erase(pledge: Pledge, email: str) -> Mapping[str, int]:
    """Pledge's erasure of the person with ``email`` in one transaction, committed."""
    return _pledge_erase(pledge, [email])


def pledge_erase_many(pledge: Pledge, emails: Sequence[str]) -> None:
    """Pledge's erasure of everyone in ``emails``: set-based, one transaction per chunk."""
    for start in range(0, len(emails), BATCH_CHUNK):
        _pledge_erase(pledge, emails[start : start + BATCH_CHUNK])


def _pledge_erase(pledge: Pledge, emails: Sequence[str]) -> dict[str, int]:
    identities = {IdentityKind.EMAIL: list(emails)}
    with pledge.engine.begin() as connection:
        found = collect(connection, pledge.tables, pledge.plan, identities, columns="erasure")
        outcomes = erase(
            connection, pledge.tables, pledge.plan, found, pseudonym_key=lambda *_: pledge.key
        )
    return {
        table: outcome.rows
        for table, outcome in outcomes.items()
        if outcome.action in ("deleted", "rewritten")
    }


def pledge_close(pledge: Pledge) -> None:
    """Release the engine's connections."""
    pledge.engine.dispose()


# --- the benchmark ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """The people of one run, as e-mail addresses; erasure lists are disjoint and unerased.

    Each pair holds the baseline's people, then Pledge's.
    """

    warm_up: list[str]
    access: list[str]
    erase_warm_up: tuple[list[str], list[str]]
    erase: tuple[list[str], list[str]]
    batch: tuple[list[str], list[str]]
    requests: list[str]
    """Erased end to end (as a request's job); the access requests read ``access``."""
    erased_before: int
    """People erased by earlier runs on this load."""


Side = Callable[[str], Mapping[str, Any]]
SIDES = ("baseline", "pledge")


def quantile(seconds: Sequence[float], share: float) -> float:
    """The nearest-rank quantile of ``seconds``: p50 is ``share=0.5``, p99 ``0.99``."""
    ordered = sorted(seconds)
    return ordered[max(0, math.ceil(len(ordered) * share) - 1)]


def _pick(connection: Connection, people: int) -> Sample | None:
    """This run's people, or None when too many are erased already and the data must reload."""
    order = random.Random(SEED).sample(range(1, people + 1), people)
    readers = WARM_UP + ACCESS_PEOPLE
    erased = {
        account
        for (account,) in connection.execute(
            "SELECT id FROM users WHERE password_hash = %s", (ERASED_PASSWORD,)
        )
    }
    fresh = [account for account in order[readers:] if account not in erased]
    wanted = 2 * (WARM_UP + ERASURE_PEOPLE + BATCH_PEOPLE) + REQUEST_PEOPLE
    if len(erased) > RELOAD_ABOVE * people or len(fresh) < wanted:
        return None
    chosen = order[:readers] + fresh[:wanted]
    address = dict(
        connection.execute("SELECT id, email FROM users WHERE id = ANY(%s)", (chosen,)).fetchall()
    )
    emails = [address[account] for account in chosen]
    readers_emails, erasable = emails[:readers], emails[readers:]

    def halves(start: int, count: int) -> tuple[list[str], list[str]]:
        taken = erasable[2 * start : 2 * (start + count)]
        return taken[0::2], taken[1::2]

    return Sample(
        warm_up=readers_emails[:WARM_UP],
        access=readers_emails[WARM_UP:],
        erase_warm_up=halves(0, WARM_UP),
        erase=halves(WARM_UP, ERASURE_PEOPLE),
        batch=halves(WARM_UP + ERASURE_PEOPLE, BATCH_PEOPLE),
        requests=erasable[2 * (WARM_UP + ERASURE_PEOPLE + BATCH_PEOPLE) :][:REQUEST_PEOPLE],
        erased_before=len(erased),
    )


def _turns(sides: Mapping[str, Side], index: int) -> list[str]:
    """The sides in the order they go for the ``index``-th person: alternating."""
    names = list(sides)
    return names if index % 2 == 0 else names[::-1]


def _counts(found: Mapping[str, Any]) -> dict[str, int]:
    """Rows per table, from rows (the baseline) or counts (Pledge)."""
    values = {table: found.get(table, 0) for table in TABLES}
    return {
        table: value if isinstance(value, int) else len(value) for table, value in values.items()
    }


def _access(
    connection: Connection, pledge: Any, sample: Sample
) -> tuple[dict[str, list[float]], int]:
    """Seconds per access and side, and how many people Pledge found other rows for."""
    sides: dict[str, Side] = {"baseline": partial(baseline_access, connection)}
    if pledge is not None:
        sides["pledge"] = partial(pledge_access, pledge)
    for email in sample.warm_up:
        for run in sides.values():
            run(email)
    seconds: dict[str, list[float]] = {side: [] for side in sides}
    differing = 0
    for index, email in enumerate(track(sample.access, "access", transient=True)):
        found = {}
        for side in _turns(sides, index):
            started = time.perf_counter()
            found[side] = sides[side](email)
            seconds[side].append(time.perf_counter() - started)
        if pledge is not None and _counts(found["pledge"]) != _counts(found["baseline"]):
            differing += 1
    return seconds, differing


def _erasure(
    connection: Connection, pledge: Any, sample: Sample
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Seconds per erasure and side, and rows each side deleted or rewritten."""
    sides: dict[str, Side] = {"baseline": partial(baseline_erase, connection, key=KEY)}
    if pledge is not None:
        sides["pledge"] = partial(pledge_erase, pledge)
    people = dict(zip(SIDES, sample.erase, strict=True))
    for side, warm_up in zip(sides, sample.erase_warm_up, strict=False):
        for email in warm_up:
            sides[side](email)
    seconds: dict[str, list[float]] = {side: [] for side in sides}
    rows = dict.fromkeys(sides, 0)
    for index in track(range(ERASURE_PEOPLE), "erasure", transient=True):
        for side in _turns(sides, index):
            started = time.perf_counter()
            changed = sides[side](people[side][index])
            seconds[side].append(time.perf_counter() - started)
            rows[side] += sum(changed.values())
    return seconds, rows


def _batch(connection: Connection, pledge: Any, sample: Sample) -> dict[str, float]:
    """People erased per second in a batch, per side measured."""
    started = time.perf_counter()
    for start in range(0, BATCH_PEOPLE, BATCH_CHUNK):
        baseline_erase_many(connection, sample.batch[0][start : start + BATCH_CHUNK], KEY)
    rates = {"baseline": BATCH_PEOPLE / (time.perf_counter() - started)}
    if pledge is not None:
        try:
            started = time.perf_counter()
            pledge_erase_many(pledge, sample.batch[1])
            rates["pledge"] = BATCH_PEOPLE / (time.perf_counter() - started)
        except PledgeNotWired:
            pass
    return rates


def residue(connection: Connection, emails: Sequence[str], key: bytes) -> int:
    """Rows of erased people left anywhere but in invoices and in their rewritten accounts.

    Independent of both sides: an erased account is found by the pseudonym of its old address,
    and one that is missing counts as a row left.
    """
    names = [pseudonym(email, key) for email in emails]
    row = connection.execute(
        """
        WITH erased AS (SELECT id FROM users WHERE email = ANY(%(names)s))
        SELECT
            (SELECT count(*) FROM users WHERE email = ANY(%(addresses)s))
          + (SELECT count(*) FROM users WHERE id IN (SELECT id FROM erased)
               AND (full_name IS NOT NULL OR phone IS NOT NULL OR password_hash <> %(erased)s))
          + (SELECT count(*) FROM homes WHERE owner_id IN (SELECT id FROM erased))
          + (SELECT count(*) FROM home_members WHERE user_id IN (SELECT id FROM erased))
          + (SELECT count(*) FROM support_tickets WHERE customer_email = ANY(%(addresses)s))
          + (SELECT count(*) FROM newsletter_subscriptions
               WHERE email = ANY(%(addresses)s) OR user_id IN (SELECT id FROM erased))
          + %(people)s - (SELECT count(*) FROM erased)
        """,
        {
            "names": names,
            "addresses": list(emails),
            "erased": ERASED_PASSWORD,
            "people": len(names),
        },
    ).fetchone()
    assert row is not None
    return int(row[0])


@dataclass(frozen=True)
class Run:
    """What one run measured."""

    generation: Generation
    sample: Sample
    server_version: int
    access: dict[str, list[float]]
    differing: int
    erase: dict[str, list[float]]
    rows_erased: dict[str, int]
    batch: dict[str, float]
    requests: dict[str, list[float]]
    residue: int


def run(url: str = URL, people: int = PEOPLE) -> Run:
    """Load (or find) the data, measure both sides on the same people, check for residue."""
    generation = ensure(url, people)
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        sample = _pick(connection, people)
        if sample is None:
            generation = ensure(url, people, force=True)
            sample = _pick(connection, people)
            assert sample is not None
        try:
            pledge = pledge_connect(url, KEY)
        except PledgeNotWired:
            pledge = None
        try:
            access, differing = _access(connection, pledge, sample)
            erase, rows_erased = _erasure(connection, pledge, sample)
            batch = _batch(connection, pledge, sample)
            requests, request_key = _requests(url, sample) if pledge is not None else ({}, b"")
        finally:
            if pledge is not None:
                pledge_close(pledge)
        erased = sample.erase_warm_up[0] + sample.erase[0] + sample.batch[0]
        if pledge is not None:
            erased += sample.erase_warm_up[1] + sample.erase[1]
        if "pledge" in batch:
            erased += sample.batch[1]
        left = residue(connection, erased, KEY)
        if requests:
            left += residue(connection, sample.requests, request_key)
        server_version = connection.info.server_version
    return Run(
        generation,
        sample,
        server_version,
        access,
        differing,
        erase,
        rows_erased,
        batch,
        requests,
        left,
    )


def _requests(url: str, sample: Sample) -> tuple[dict[str, list[float]], bytes]:
    """Seconds per request carried out end to end, per kind, and the key of the pseudonyms
    the erasures wrote: what a person's request costs.

    Each is submitted by staff, approved and run as its job (``run_now``), with Pledge's own
    store on SQLite: the datastore opened and its schema reflected for the job, the steps
    recorded and audited, the report built and stored encrypted; the timing covers approval
    and the job.
    """
    with tempfile.TemporaryDirectory() as folder:
        store = Database(f"sqlite:///{Path(folder) / 'pledge.db'}")
        store.upgrade()
        runtime = build_runtime(
            Settings(secret_key=os.urandom(32)),
            declaration=loads(pledge_declaration(url)),
            database=store,
        )
        try:
            seconds: dict[str, list[float]] = {"access": [], "erasure": []}
            people = {"access": sample.access[:REQUEST_PEOPLE], "erasure": sample.requests}
            for kind, emails in people.items():
                for email in track(emails, f"{kind} requests", transient=True):
                    request = runtime.requests.submit(
                        kind,
                        Identity.parse("email", email),
                        on_behalf_of_staff="bench",
                        skip_verification_reason="benchmark",
                    )
                    started = time.perf_counter()
                    runtime.execution.approve(request.id, actor="staff:bench")
                    runtime.execution.run_now(request.id, owner="bench")
                    seconds[kind].append(time.perf_counter() - started)
            return seconds, runtime.execution.pseudonym_key
        finally:
            runtime.close()


def measure() -> Result:
    """Run the benchmark on the full load and tabulate it against the goals."""
    found = run()
    rows: list[tuple[str, str, str, str]] = []
    wired = "pledge" in found.access and "pledge" in found.batch
    met = wired and found.differing == 0 and found.residue == 0
    for label, timings in (("access", found.access), ("erasure", found.erase)):
        for name, share, goal in (("p50", 0.5, GOAL_P50), ("p99", 0.99, GOAL_P99)):
            by_hand = quantile(timings["baseline"], share)
            row = f"{label}, one person, {name}"
            if "pledge" not in timings:
                rows.append((row, f"{by_hand * 1000:.1f} ms", "not wired", "—"))
                continue
            ours = quantile(timings["pledge"], share)
            ratio = ours / by_hand
            rows.append((row, f"{by_hand * 1000:.1f} ms", f"{ours * 1000:.1f} ms", f"{ratio:.2f}×"))
            met = met and ours < goal and (name != "p50" or ratio <= GOAL_RATIO)
    for kind, timings in found.requests.items():
        for name, share, goal in (("p50", 0.5, GOAL_P50), ("p99", 0.99, GOAL_P99)):
            ours = quantile(timings, share)
            met = met and ours < goal
            rows.append((f"{kind} request end to end, {name}", "—", f"{ours * 1000:.1f} ms", "—"))
    by_hand = found.batch["baseline"]
    if "pledge" in found.batch:
        ours = found.batch["pledge"]
        met = met and ours >= GOAL_BATCH
        rows.append(
            (
                "batch erasure",
                f"{by_hand:,.0f} people/s",
                f"{ours:,.0f} people/s",
                f"{by_hand / ours:.2f}×",
            )
        )
    else:
        rows.append(("batch erasure", f"{by_hand:,.0f} people/s", "not wired", "—"))
    return Result(
        title="Subject requests in the company's database",
        setup=_setup(found),
        columns=("measure", "hand-written SQL", "Pledge", "Pledge / hand-written (time)"),
        rows=rows,
        goal_met=met,
    )


def _setup(found: Run) -> str:
    generation, sample = found.generation, found.sample
    erased_per_person = ", ".join(
        f"{side} {rows / ERASURE_PEOPLE:.1f}" for side, rows in found.rows_erased.items()
    )
    notes = [
        f"Cloudwarm's schema on PostgreSQL {found.server_version // 10000}:"
        f" {generation.people:,} people, {generation.rows:,} rows"
        f" ({generation.counts['temperature_readings']:,} readings), loaded in"
        f" {generation.seconds:.0f} s (`bench/cloudwarm_data.py`, seed {generation.seed}).",
        f"Access: the same {len(sample.access)} people for both sides, who goes first"
        f" alternating, after {WARM_UP} warm-up requests each.",
        f"Erasure: {ERASURE_PEOPLE} fresh people per side drawn alternately from one"
        f" permutation, each erasure committed; rows erased per person: {erased_per_person}.",
        f"Batch erasure: {BATCH_PEOPLE} more people per side; by hand set-based,"
        f" {BATCH_CHUNK} people per transaction.",
        f"End to end: {REQUEST_PEOPLE} access requests (people of the access sample) and"
        f" {REQUEST_PEOPLE} erasures of fresh people, each approved and run as its job, with"
        " Pledge's own store on SQLite: the datastore opened and reflected for the job, every"
        " step recorded and audited, the report built and stored encrypted.",
        f"{sample.erased_before:,} people had been erased by earlier runs on this load"
        f" (reloaded above {RELOAD_ABOVE:.0%}).",
        "Hand-written SQL: `bench/subject_baseline.py`, over psycopg.",
        f"Residue after erasure: {found.residue or 'none'}.",
        f"Goals: p50 < {GOAL_P50 * 1000:.0f} ms and p99 < {GOAL_P99 * 1000:.0f} ms,"
        f" batch ≥ {GOAL_BATCH:.0f} people/s, Pledge ≤ {GOAL_RATIO}× the hand-written SQL (p50).",
    ]
    if "pledge" not in found.access:
        notes.append("Pledge's side is not wired yet (`pledge_*` in `bench/subject_requests.py`).")
    elif found.differing:
        notes.append(f"Pledge's access found other rows than the baseline for {found.differing}.")
    return " ".join(notes)


if __name__ == "__main__":
    for line in measure().markdown():
        print(line)
