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

    def markdown(self) -> list[str]:
        """The result as Markdown lines."""
        return [
            f"### {self.title}",
            "",
            self.setup,
            "",
            "| " + " | ".join(self.columns) + " |",
            "|"
            + "|".join("---" if index == 0 else "---:" for index in range(len(self.columns)))
            + "|",
            *("| " + " | ".join(row) + " |" for row in self.rows),
            "",
            f"Goal {'met' if self.goal_met else 'NOT met'}.",
            "",
        ]


def timed(action: Callable[[], object], repeat: int, label: str) -> list[float]:
    """Run ``action`` ``repeat`` times; the seconds each run took."""
    seconds = []
    for _ in track(range(repeat), description=label, transient=True):
        start = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - start)
    return seconds
