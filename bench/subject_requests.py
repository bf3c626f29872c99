"""Benchmark: one person's access and erasure on two schemas, Pledge against hand-written SQL.

Run it alone with ``.venv/bin/python bench/subject_requests.py``; ``bench/README.md`` says what
it measures and why. On each schema (``subject_cases.py``: Cloudwarm's, the shop data set's),
in one run, on the same people:

- access and erasure by Pledge's datastore work (``subject_pledge.py``) and by the minimal
  hand-written SQL, comparing e-mail columns as stored (``email = %s``) and as Pledge does
  (``lower(trim(email)) = %s``), with the expression indexes the documentation tells users to
  create; access again without them;
- the CPU time of the benchmark's thread per request, Pledge's and the hand-written SQL's: what
  Pledge's Python adds on top of the same database work;
- the erasure of a synthetic person who holds 10,000 rows under a legal hold;
- whole jobs on a warm worker, with Pledge's own store on SQLite and on PostgreSQL.

People come from one fixed permutation of the load. The first :data:`READERS` are never
erased: the access sample (the same every run, who goes first rotating) and the people of the
access jobs. Erasure destroys what it erases, so every run takes people no run erased before,
further along the permutation, handed in turn to each side; each erasure commits. Once more
than :data:`RELOAD_ABOVE` of the people are erased, or too few fresh ones are left, the data is
loaded again before measuring. After the run an independent check, by the ids recorded before
erasing, confirms that every erased person left nothing the declaration does not keep.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import psycopg
from rich.progress import track

import subject_pledge
from cloudwarm_data import conninfo
from harness import Result
from subject_cases import CASES, KEPT, Case, Connection, Load, folded_indexes
from subject_figures import tabulate

READERS = 1_000
"""The first people of the permutation: read, never erased."""
WARM_UP = 10
ACCESS_PEOPLE = 200
NO_INDEX_PEOPLE = 30
"""People read without the expression indexes (every lookup a scan of the table)."""
ERASURE_PEOPLE = 200
HOLDER_RUNS = 10
"""Erasures of the synthetic person per side, after one warm-up each."""
JOB_ROUNDS = 3
JOBS_PER_ROUND = 20
JOB_WARM_UP = 2
JOB_BUDGET = 4.0
"""Seconds after which a round of whole jobs ends, once it ran :data:`JOB_LEAST` of each kind."""
JOB_LEAST = 5
DOZEN = range(9, 16)
"""Rows a person of the whole jobs holds: about a dozen."""
RELOAD_ABOVE = 0.05
"""The share of erased people above which the data is loaded again."""
KEY = hashlib.sha256(b"pledge bench: the key of erased e-mail pseudonyms").digest()
SIDES = ("pledge", "hand", "folded")
"""Pledge; the hand-written SQL comparing e-mail as stored; and as ``lower(trim(email))``."""


@dataclass(frozen=True)
class Sample:
    """The people of one run on one case, by address."""

    warm_up: list[str]
    access: list[str]
    erase_warm_up: dict[str, list[str]]
    erase: dict[str, list[str]]
    job_readers: list[str]
    job_erased: dict[str, list[str]]
    """Per store of Pledge's, the people of the erasure jobs."""
    ids: dict[str, int]
    erased_before: int


@dataclass
class Timings:
    """Per side, the wall-clock seconds of each request and the CPU seconds of the thread."""

    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def run(self, side: str, action: Callable[[], Mapping[str, int]]) -> Mapping[str, int]:
        """Run ``action`` as one request of ``side``, timed."""
        wall, cpu = time.perf_counter(), time.thread_time()
        found = action()
        self.cpu.setdefault(side, []).append(time.thread_time() - cpu)
        self.wall.setdefault(side, []).append(time.perf_counter() - wall)
        return found


@dataclass
class Figures:
    """What one run measured on one case."""

    case: Case
    load: Load
    server_version: int
    sample: Sample
    access: Timings
    no_index: Timings
    erasure: Timings
    holder: Timings
    jobs: dict[str, subject_pledge.Jobs]
    differing: int
    rows_erased: dict[str, int]
    residue: int


def _pick(connection: Connection, case: Case, load: Load) -> Sample | None:
    """This run's people, or None when too many are erased already and the data must reload."""
    order = case.order(load.people, load.seed)
    erased = case.erased(connection, load.people)
    fresh = [person for person in order[READERS:] if person not in erased]
    if len(erased) > RELOAD_ABOVE * load.people:
        return None
    jobs = JOB_WARM_UP + JOB_ROUNDS * JOBS_PER_ROUND
    erasing = len(SIDES) * (WARM_UP + ERASURE_PEOPLE)
    readers = order[: WARM_UP + ACCESS_PEOPLE]
    job_readers = _dozen(connection, case, order[len(readers) : READERS], jobs)
    job_erased = _dozen(connection, case, fresh[erasing:], len(subject_pledge.STORES) * jobs)
    stores = len(subject_pledge.STORES)
    if len(fresh) < erasing or len(job_readers) < jobs or len(job_erased) < stores * jobs:
        return None
    chosen = [*readers, *fresh[:erasing], *job_readers, *job_erased]
    address = case.accounts(connection, chosen)
    emails = [address[person] for person in chosen]
    readers_emails = emails[: len(readers)]
    erasable = emails[len(readers) : len(readers) + erasing]
    rest = emails[len(readers) + erasing :]

    def dealt(start: int, count: int) -> dict[str, list[str]]:
        taken = erasable[len(SIDES) * start : len(SIDES) * (start + count)]
        return {side: taken[index :: len(SIDES)] for index, side in enumerate(SIDES)}

    return Sample(
        warm_up=readers_emails[:WARM_UP],
        access=readers_emails[WARM_UP:],
        erase_warm_up=dealt(0, WARM_UP),
        erase=dealt(WARM_UP, ERASURE_PEOPLE),
        job_readers=rest[:jobs],
        job_erased={
            store: rest[jobs * (1 + index) : jobs * (2 + index)]
            for index, store in enumerate(subject_pledge.STORES)
        },
        ids={email: person for person, email in zip(chosen, emails, strict=True)},
        erased_before=len(erased),
    )


def _dozen(connection: Connection, case: Case, people: Sequence[int], wanted: int) -> list[int]:
    """The first ``wanted`` of ``people`` who hold about a dozen rows and a phone number of
    their own (see :meth:`Case.sharing`)."""
    found: list[int] = []
    for start in range(0, len(people), 1_000):
        chunk = people[start : start + 1_000]
        rows = case.rows(connection, chunk)
        sharing = case.sharing(connection, chunk)
        found += [
            person for person in chunk if rows.get(person, 0) in DOZEN and person not in sharing
        ]
        if len(found) >= wanted:
            break
    return found[:wanted]


def _rotated(index: int, sides: Sequence[str]) -> list[str]:
    """The sides in the order they go for the ``index``-th person: each first in turn."""
    shift = index % len(sides)
    return [*sides[shift:], *sides[:shift]]


def _sides(
    connection: Connection, case: Case, pledge: subject_pledge.Pledge, *, erasing: bool
) -> dict[str, Callable[[str], Mapping[str, int]]]:
    if erasing:
        return {
            "pledge": partial(subject_pledge.erasure, pledge),
            "hand": partial(case.erase, connection, key=KEY, folded=False),
            "folded": partial(case.erase, connection, key=KEY, folded=True),
        }
    return {
        "pledge": partial(subject_pledge.access, pledge),
        "hand": partial(case.access, connection, folded=False),
        "folded": partial(case.access, connection, folded=True),
    }


def _access(
    connection: Connection, case: Case, pledge: subject_pledge.Pledge, sample: Sample
) -> tuple[Timings, int]:
    """Access by every side for the same people; how many people Pledge found other rows for."""
    sides = _sides(connection, case, pledge, erasing=False)
    for email in sample.warm_up:
        for run in sides.values():
            run(email)
    timings = Timings()
    differing = 0
    for index, email in enumerate(track(sample.access, f"{case.name}: access", transient=True)):
        found = {
            side: timings.run(side, partial(sides[side], email)) for side in _rotated(index, SIDES)
        }
        counts = [{table: found[side].get(table, 0) for table in case.tables} for side in SIDES]
        differing += any(count != counts[0] for count in counts[1:])
    return timings, differing


def _no_index(
    connection: Connection, case: Case, pledge: subject_pledge.Pledge, sample: Sample
) -> Timings:
    """Access by Pledge and by the hand-written ``lower(trim(email))`` without the expression
    indexes; they are created again after."""
    sides = _sides(connection, case, pledge, erasing=False)
    compared = ("pledge", "folded")
    timings = Timings()
    folded_indexes(connection, case, present=False)
    try:
        for email in sample.warm_up[:2]:
            for side in compared:
                sides[side](email)
        people = sample.access[:NO_INDEX_PEOPLE]
        for index, email in enumerate(track(people, f"{case.name}: no index", transient=True)):
            for side in _rotated(index, compared):
                timings.run(side, partial(sides[side], email))
    finally:
        folded_indexes(connection, case, present=True)
    return timings


def _erasure(
    connection: Connection, case: Case, pledge: subject_pledge.Pledge, sample: Sample
) -> tuple[Timings, dict[str, int]]:
    """Erasure by every side, each of its own people; rows each side deleted or rewritten."""
    sides = _sides(connection, case, pledge, erasing=True)
    for side, run in sides.items():
        for email in sample.erase_warm_up[side]:
            run(email)
    timings = Timings()
    rows = dict.fromkeys(SIDES, 0)
    for index in track(range(ERASURE_PEOPLE), f"{case.name}: erasure", transient=True):
        for side in _rotated(index, SIDES):
            changed = timings.run(side, partial(sides[side], sample.erase[side][index]))
            rows[side] += sum(changed.values())
    return timings, rows


def _holder(connection: Connection, case: Case) -> tuple[Timings, int]:
    """Erasures of the synthetic person with :data:`KEPT` rows under a legal hold, added
    before and removed after each (outside the timing), by Pledge and by hand; how many of
    Pledge's changed other rows than the hand-written SQL's."""
    pledge = subject_pledge.connect(case, KEY, hold=True)
    sides: dict[str, Callable[[str], Mapping[str, int]]] = {
        "pledge": partial(subject_pledge.erasure, pledge),
        "hand": partial(case.erase, connection, key=KEY, folded=False, hold=True),
    }
    timings = Timings()
    warming = Timings()
    changed: dict[str, list[int]] = {side: [] for side in sides}
    try:
        case.remove_holder(connection)
        for index in track(range(1 + HOLDER_RUNS), f"{case.name}: holder", transient=True):
            for side in _rotated(index, list(sides)):
                email = case.add_holder(connection)
                try:
                    rows = (timings if index else warming).run(side, partial(sides[side], email))
                    changed[side].append(sum(rows.values()))
                finally:
                    case.remove_holder(connection)
    finally:
        subject_pledge.close(pledge)
    return timings, sum(ours != hand for ours, hand in zip(*changed.values(), strict=True))


def run_case(case: Case) -> Figures:
    """Load (or find) the case's data and measure everything on it."""
    load = case.ensure()
    with psycopg.connect(conninfo(case.url), autocommit=True) as connection:
        case.remove_holder(connection)  # what an interrupted run may have left
        folded_indexes(connection, case, present=True)
        sample = _pick(connection, case, load)
        if sample is None:
            load = case.ensure(force=True)
            folded_indexes(connection, case, present=True)
            sample = _pick(connection, case, load)
            assert sample is not None, f"{case.name}: too few people to measure"
        pledge = subject_pledge.connect(case, KEY)
        try:
            access, differing = _access(connection, case, pledge, sample)
            no_index = _no_index(connection, case, pledge, sample)
            erasure, rows_erased = _erasure(connection, case, pledge, sample)
        finally:
            subject_pledge.close(pledge)
        holder, holder_differing = _holder(connection, case)
        jobs = {
            store: subject_pledge.jobs(
                case,
                store,
                sample.job_readers,
                sample.job_erased[store],
                rounds=JOB_ROUNDS,
                warm_up=JOB_WARM_UP,
                budget=JOB_BUDGET,
                least=JOB_LEAST,
            )
            for store in subject_pledge.STORES
        }
        erased = [
            *(email for emails in sample.erase_warm_up.values() for email in emails),
            *(email for emails in sample.erase.values() for email in emails),
            *(email for measured in jobs.values() for email in measured.erased),
        ]
        left = case.residue(connection, {sample.ids[email]: email for email in erased})
        server_version = connection.info.server_version
    return Figures(
        case,
        load,
        server_version,
        sample,
        access,
        no_index,
        erasure,
        holder,
        jobs,
        differing + holder_differing,
        rows_erased,
        left,
    )


def measure() -> Result:
    """Run the benchmark on both schemas and tabulate it against the goals."""
    before = os.getloadavg()[0]
    found = [run_case(case) for case in CASES]
    return tabulate(found, settings(before, os.getloadavg()[0]))


def settings(load_before: float, load_after: float) -> dict[str, int]:
    """The sizes of a run, and the machine's load average around it (in hundredths), for the
    figures' set-up."""
    return {
        "load_before": round(load_before * 100),
        "load_after": round(load_after * 100),
        "warm_up": WARM_UP,
        "access": ACCESS_PEOPLE,
        "no_index": NO_INDEX_PEOPLE,
        "erasure": ERASURE_PEOPLE,
        "holder_runs": HOLDER_RUNS,
        "kept": KEPT,
        "job_rounds": JOB_ROUNDS,
        "jobs_per_round": JOBS_PER_ROUND,
        "job_warm_up": JOB_WARM_UP,
        "job_budget": round(JOB_BUDGET),
        "job_least": JOB_LEAST,
        "dozen_low": DOZEN.start,
        "dozen_high": DOZEN.stop - 1,
        "reload": round(RELOAD_ABOVE * 100),
    }


if __name__ == "__main__":
    for line in measure().markdown():
        print(line)
