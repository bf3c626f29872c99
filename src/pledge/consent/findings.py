"""What verification finds, and the ranges it splits its work into.

Plain data, passed by value between ``proof.verify`` and the worker processes that run the
checks (``checks.run``): nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken record: the table, which record, and what is wrong with it.

    Args:
        table: the table holding the record (``checkpoint file`` for an exported checkpoint).
        record: which record: ``subject <id> seq <n>``, ``seq <n>``, ``checkpoint <n>``.
        problem: what is wrong, in plain words.
    """

    table: str
    record: str
    problem: str

    def __str__(self) -> str:
        return f"{self.table}: {self.record}: {self.problem}"

    def to_dict(self) -> dict[str, str]:
        """The problem as plain JSON-ready data."""
        return {"table": self.table, "record": self.record, "problem": self.problem}


@dataclass
class Findings:
    """What one check found: problems (at most ``limit`` kept, all counted) and counts.

    Args:
        limit: how many problems to keep.
    """

    limit: int = 1000
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    marks: dict[int, str] = field(default_factory=dict)  # audit seq → hash, for checkpoints
    # audit seq → the details of a ``checkpoint.sealed`` event there
    sealings: dict[int, dict[str, Any]] = field(default_factory=dict)

    def add(self, table: str, record: str, problem: str) -> None:
        """Note a problem.

        Args:
            table: the table holding the record.
            record: which record.
            problem: what is wrong.
        """
        self.problem_count += 1
        if len(self.problems) < self.limit:
            self.problems.append(Problem(table, record, problem))

    def merge(self, other: Findings) -> None:
        """Append ``other``'s problems and add up its counts.

        Args:
            other: findings of a later range.
        """
        self.problem_count += other.problem_count
        room = self.limit - len(self.problems)
        self.problems.extend(other.problems[: max(room, 0)])
        for name, value in other.counts.items():
            self.counts[name] = self.counts.get(name, 0) + value
        self.marks.update(other.marks)
        self.sealings.update(other.sealings)


@dataclass(frozen=True, slots=True)
class ConsentRange:
    """The chains of the subjects with ``low <= subject_id < high`` (None: unbounded).

    Each subject's chain is checked with its head row, its sealed heads, its consent state
    and the audit events that record its decisions.
    """

    low: str | None
    high: str | None


@dataclass(frozen=True, slots=True)
class AuditRange:
    """Audit events with ``low <= seq < high`` (None: to the end, head row included).

    The first range (``low`` 1) has no lower bound: a row with a seq below 1 is read too.
    ``marks`` are the audit seqs sealed by checkpoints inside the range.
    """

    low: int
    high: int | None
    marks: frozenset[int] = frozenset()


Task = ConsentRange | AuditRange
