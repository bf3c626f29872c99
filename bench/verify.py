"""Benchmark: `pledge verify` over 1,000,000 consent events (and their 1,000,000 audit events).

The ledger is written directly, with the real hash functions, so that generating a million
events takes seconds rather than the hours the full write path would; then a checkpoint is
sealed and ``verify`` runs over everything. Goal: under 30 s.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

from rich.progress import Progress
from sqlalchemy import insert, update

from harness import Result
from pledge.consent.proof import event_content, seal_checkpoint, verify
from pledge.enforcement.audit import event_content as audit_content
from pledge.ids import new_id
from pledge.proof import GENESIS, record_hash
from pledge.store.database import Database
from pledge.store.tables import (
    audit_events,
    audit_head,
    consent_events,
    consent_heads,
    consent_state,
)

PURPOSES = ("newsletter", "analytics", "personalised_ads")
DECISIONS = ("granted", "withdrawn", "refused")


def fill(database: Database, events: int, per_subject: int = 10) -> None:
    """Write ``events`` consent events over ``events / per_subject`` subjects, audit included."""
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    audit_seq, audit_previous = 0, GENESIS
    batch_events: list[dict[str, object]] = []
    batch_audit: list[dict[str, object]] = []
    heads: list[dict[str, object]] = []
    states: list[dict[str, object]] = []  # the last decision per purpose, as the ledger keeps it
    with Progress(transient=True) as progress:
        task = progress.add_task("writing events", total=events)
        for subject_number in range(events // per_subject):
            subject_id = new_id()
            previous = GENESIS
            last: dict[object, dict[str, object]] = {}
            for seq in range(1, per_subject + 1):
                moment = start + dt.timedelta(seconds=subject_number * per_subject + seq)
                row: dict[str, object] = {
                    "id": new_id(),
                    "subject_id": subject_id,
                    "seq": seq,
                    "purpose": PURPOSES[seq % 3],
                    "decision": DECISIONS[seq % 3],
                    "channel": "api",
                    "actor": "bench",
                    "declaration_version": "1",
                    "declaration_digest": "d" * 64,
                    "notice_hash": "n" * 64,
                    "guardian_id": None,
                    "evidence_encrypted": None,
                    "occurred_at": moment,
                }
                digest = record_hash(previous, event_content(row))
                batch_events.append({**row, "prev_hash": previous, "hash": digest})
                previous = digest
                last[row["purpose"]] = row
                audit_seq += 1
                entry: dict[str, object] = {
                    "seq": audit_seq,
                    "id": new_id(),
                    "occurred_at": moment,
                    "actor": "bench",
                    "action": f"consent.{row['decision']}",
                    "subject_id": subject_id,
                    "purpose": row["purpose"],
                    "details": json.dumps(  # as the ledger records a decision
                        {"channel": "api", "event_id": row["id"], "seq": seq},
                        sort_keys=True,
                        separators=(",", ":"),
                    ),
                }
                audit_hash = record_hash(audit_previous, audit_content(entry))
                batch_audit.append({**entry, "prev_hash": audit_previous, "hash": audit_hash})
                audit_previous = audit_hash
            heads.append(
                {
                    "subject_id": subject_id,
                    "seq": per_subject,
                    "hash": previous,
                    "updated_at": moment,
                }
            )
            states.extend(
                {
                    "subject_id": subject_id,
                    "purpose": purpose,
                    "decision": decided["decision"],
                    "guardian_id": None,
                    "event_id": decided["id"],
                    "updated_at": decided["occurred_at"],
                }
                for purpose, decided in last.items()
            )
            if len(batch_events) >= 50_000:
                _flush(database, batch_events, batch_audit, heads, states)
                progress.advance(task, len(batch_events))
                batch_events, batch_audit, heads, states = [], [], [], []
        _flush(database, batch_events, batch_audit, heads, states)
    with database.transaction() as connection:
        connection.execute(update(audit_head).values(seq=audit_seq, hash=audit_previous))


def _flush(
    database: Database,
    events: list[dict[str, object]],
    entries: list[dict[str, object]],
    heads: list[dict[str, object]],
    states: list[dict[str, object]],
) -> None:
    if not events:
        return
    with database.transaction() as connection:
        connection.execute(insert(consent_events), events)
        connection.execute(insert(audit_events), entries)
        connection.execute(insert(consent_heads), heads)
        connection.execute(insert(consent_state), states)


def measure(events: int = 1_000_000) -> Result:
    """Fill a fresh SQLite store with ``events`` events, seal a checkpoint, time verify."""
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{Path(folder) / 'verify.db'}")
        database.upgrade()
        started = time.perf_counter()
        fill(database, events)
        filled = time.perf_counter() - started
        seal_checkpoint(database)
        started = time.perf_counter()
        report = verify(database)
        seconds = time.perf_counter() - started
        database.dispose()
    if not report.ok:
        raise SystemExit(f"verify found problems in generated data: {report.first}")
    rate = events / seconds
    return Result(
        title="Verify the consent ledger and the audit trail",
        setup=(
            f"{events:,} consent events ({events // 10:,} subjects x 10) and {events:,} audit"
            f" events, one checkpoint, SQLite; generated in {filled:.0f} s."
        ),
        columns=("measure", "time", "events/s"),
        rows=[
            (
                "`verify` (consent chains, checkpoint, audit chain)",
                f"{seconds:.1f} s",
                f"{rate:,.0f}",
            )
        ],
        goal_met=seconds < 30,
    )


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    for line in measure(count).markdown():
        print(line)
