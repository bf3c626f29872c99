"""Benchmark: in-process ``may_process`` with a warm cache, on one core.

Goal: ≥ 150,000 decisions/s **sustained**, i.e. made *and* committed to the audit trail, with
the default batched decision log. Run it alone with ``.venv/bin/python bench/decisions.py``.

The process is pinned to one CPU, so the decision log's writer thread shares that core with
the caller. The figures:

- **rules only**: the pure decision (``Rules.decide``) on a cached state, no logging;
- **burst**: ``may_process`` calls while the queue absorbs them (``max_pending`` larger
  than the burst), i.e. what a caller pays per decision while its audit event waits; a
  burst cannot last, so the goal is not judged on it;
- **sustained**: ``may_process`` with the default queue bound (10,000), timed until every
  audit event is committed, i.e. the rate at which decisions can be made *and* recorded.
  It is measured ``SUSTAINED_RUNS`` times; the goal is judged on the median, and the
  lowest and highest runs are shown beside it. The same runs are also given per second of
  the process's CPU time: on a machine busy with other work the wall-clock figure drops
  while the CPU figure does not, and the gap between them says how busy it was.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from typing import Any

from harness import Result
from pledge.app import Runtime, build_runtime
from pledge.config import Settings
from pledge.declaration import loads
from pledge.enforcement.decision_log import DecisionLog
from pledge.store.database import Database
from pledge.subjects.model import Identity

DECLARATION = """\
pledge: 1
controller:
  name: Bench Cloud
  country: DE
  email: privacy@bench.example
policy:
  version: "1"
  effective_date: 2026-01-01
purposes:
  provide_service:
    legal_basis: contract
    categories: [contact.email, identity.name]
    retention: P30D after account_closed
  fraud_prevention:
    legal_basis: legitimate_interests
    legitimate_interest: Keeping accounts safe.
    interest_assessment: LIA-1
    categories: [device.ip_address]
    retention: P90D
  newsletter:
    legal_basis: consent
    categories: [contact.email]
    retention: P1Y after consent_withdrawn
  analytics:
    legal_basis: consent
    categories: [usage.pages]
    retention: P13M
"""
"""A contract, a legitimate interest and two consent purposes (one of them marketing)."""

GOAL = 150_000
"""Decisions per second, sustained: made and committed to the audit trail."""
SUSTAINED_RUNS = 3
PURPOSES = ("provide_service", "newsletter", "analytics", "fraud_prevention")


def _runtime(folder: str, subjects: int) -> tuple[Runtime, list[str]]:
    database = Database(f"sqlite:///{folder}/bench.db")
    database.upgrade()
    settings = Settings(secret_key=os.urandom(32), decision_cache_seconds=3600)
    runtime = build_runtime(settings, declaration=loads(DECLARATION), database=database)
    people = []
    for number in range(subjects):
        subject_id = runtime.subjects.find_or_create(
            Identity.parse("account", f"bench-{number}"), actor="bench"
        )
        if number % 2:
            runtime.ledger.grant(subject_id, "newsletter", channel="api", actor="bench")
        people.append(subject_id)
    return runtime, people


def _calls(people: list[str], count: int) -> list[tuple[str, str]]:
    return [(people[n % len(people)], PURPOSES[n % len(PURPOSES)]) for n in range(count)]


def measure(decisions: int = 200_000, subjects: int = 1_000) -> dict[str, Any]:
    """Time decisions on a warm cache.

    Args:
        decisions: how many decisions each figure times.
        subjects: how many subjects the decisions cycle through (all cached).

    Returns:
        ``rules_only``, ``burst`` and ``sustained`` decisions per second (the sustained
        median, lowest and highest of ``SUSTAINED_RUNS`` runs, in wall-clock and in CPU time),
        the writer's audit events per second, the set-up, and whether the goal was met.
    """
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    with tempfile.TemporaryDirectory() as folder:
        runtime, people = _runtime(folder, subjects)
        decider = runtime.decider
        calls = _calls(people, decisions)
        for subject_id in people:  # warm the cache
            decider.may_process(subject_id, "provide_service")
        decider.flush()

        rules, clock = decider.rules, decider.clock
        states = {subject_id: decider.state(subject_id) for subject_id in people}
        start = time.perf_counter()
        for subject_id, purpose in calls:
            rules.decide(states[subject_id], purpose, None, clock())
        rules_only = decisions / (time.perf_counter() - start)

        may_process = decider.may_process
        decider.log.close()
        decider.log = DecisionLog(runtime.database, max_pending=decisions + 1)
        start = time.perf_counter()
        for subject_id, purpose in calls:
            may_process(subject_id, purpose)
        burst = decisions / (time.perf_counter() - start)
        start = time.perf_counter()
        decider.log.flush(timeout=600)
        writer = decisions / (time.perf_counter() - start)
        decider.log.close()

        wall: list[float] = []
        cpu: list[float] = []
        for _ in range(SUSTAINED_RUNS):
            decider.log = DecisionLog(runtime.database)
            start, used = time.perf_counter(), time.process_time()
            for subject_id, purpose in calls:
                may_process(subject_id, purpose)
            decider.log.flush(timeout=600)
            wall.append(decisions / (time.perf_counter() - start))
            cpu.append(decisions / (time.process_time() - used))
            decider.log.close()
        runtime.close()
    sustained = statistics.median(wall)
    return {
        "decisions": decisions,
        "subjects": subjects,
        "rules_only_per_second": rules_only,
        "burst_per_second": burst,
        "sustained_per_second": sustained,
        "sustained_runs": wall,
        "sustained_cpu_per_second": statistics.median(cpu),
        "sustained_cpu_runs": cpu,
        "audit_writes_per_second": writer,
        "goal_per_second": GOAL,
        "goal_met": sustained >= GOAL,
    }


def result(figures: dict[str, Any]) -> Result:
    """The figures of :func:`measure` as a table for bench/README.md (see run.py)."""
    runs, cpu_runs = figures["sustained_runs"], figures["sustained_cpu_runs"]
    rows = [
        ("rules only (pure decision, no audit)", _rate(figures["rules_only_per_second"])),
        ("`may_process`, burst (audit events queued)", _rate(figures["burst_per_second"])),
        ("audit events committed by the writer", _rate(figures["audit_writes_per_second"])),
        (
            f"**`may_process`, sustained** (every audit event committed; median of {len(runs)},"
            f" lowest–highest {_rate(min(runs))}–{_rate(max(runs))})",
            f"**{_rate(figures['sustained_per_second'])}**",
        ),
        (
            "the same, per second of the process's CPU time"
            f" (lowest–highest {_rate(min(cpu_runs))}–{_rate(max(cpu_runs))})",
            _rate(figures["sustained_cpu_per_second"]),
        ),
    ]
    return Result(
        title="Purpose decisions in-process, warm cache, one core",
        setup=f"{figures['decisions']:,} decisions over {figures['subjects']:,} cached subjects;"
        " SQLite; batched decision log; process pinned to one CPU. Goal ≥"
        f" {GOAL:,}/s sustained (made and committed to the audit trail), judged on the median"
        " of the sustained runs.",
        columns=("measure", "decisions/s"),
        rows=rows,
        goal_met=bool(figures["goal_met"]),
    )


def _rate(value: float) -> str:
    return f"{value:,.0f}"


def main() -> None:
    """Print the figures."""
    figures = measure()
    runs = ", ".join(_rate(run) for run in figures["sustained_runs"])
    cpu = ", ".join(_rate(run) for run in figures["sustained_cpu_runs"])
    print(f"{figures['decisions']:,} decisions over {figures['subjects']:,} cached subjects,")
    print("one core, SQLite, batched decision log:")
    print(f"  rules only (no log)           {figures['rules_only_per_second']:>10,.0f} /s")
    print(f"  may_process, burst            {figures['burst_per_second']:>10,.0f} /s")
    print(f"  audit events committed        {figures['audit_writes_per_second']:>10,.0f} /s")
    print(f"  may_process, sustained        {figures['sustained_per_second']:>10,.0f} /s  ({runs})")
    print(
        f"    per CPU-second              {figures['sustained_cpu_per_second']:>10,.0f} /s  ({cpu})"
    )
    verdict = "met" if figures["goal_met"] else "NOT met"
    print(f"goal {GOAL:,} decisions/s sustained (median): {verdict}")


if __name__ == "__main__":
    main()
