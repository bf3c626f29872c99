"""What every benchmark shares: timing with a progress bar and a result to record."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.progress import track


@dataclass(frozen=True)
class Result:
    """One benchmark's figures, as a Markdown table with a title and its set-up."""

    title: str
    setup: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    goal_met: bool
    more: Sequence[tuple[str, Sequence[str], Sequence[Sequence[str]]]] = ()
    """Further tables after the first, each as its caption, columns and rows."""
    unmet: Sequence[str] = ()
    """The goals not met, named after the figures they are judged on."""

    def markdown(self) -> list[str]:
        """The result as Markdown lines."""
        lines = [f"### {self.title}", "", self.setup, "", *_table(self.columns, self.rows)]
        for caption, columns, rows in self.more:
            lines += ["", caption, "", *_table(columns, rows)]
        verdict = "met." if self.goal_met else "NOT met"
        if not self.goal_met:
            verdict += f": {'; '.join(self.unmet)}." if self.unmet else "."
        return [*lines, "", f"Goal {verdict}", ""]


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table: the first column left-aligned, the others right-aligned."""
    return [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" if index == 0 else "---:" for index in range(len(columns))) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def timed(action: Callable[[], object], repeat: int, label: str) -> list[float]:
    """Run ``action`` ``repeat`` times; the seconds each run took."""
    seconds = []
    for _ in track(range(repeat), description=label, transient=True):
        start = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - start)
    return seconds
