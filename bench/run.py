"""Run Pledge's benchmarks (not tests): ``make bench``.

Each module in ``BENCHMARKS`` has ``measure()`` returning a :class:`harness.Result` (or, for
``decisions``, figures that its ``result()`` turns into one). Each runs in a process of its
own, so that one benchmark's set-up (pinning to a CPU, worker processes) cannot bend
another's figures. ``--record`` writes the figures of what ran into bench/README.md, each
benchmark's under its heading with the date and the machine; ``--only NAME`` (repeatable)
runs just those benchmarks, and with ``--record`` replaces just their figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # bench/ is a folder of scripts, not a package

from harness import Result  # noqa: E402

BENCHMARKS = [
    "check_render",
    "decisions",
    "consent_ledger",
    "consent_http",
    "verify",
    "scan",
    "subject_requests",
    "banner",
]
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"
DRIVER = """
import dataclasses, json, sys
sys.path.insert(0, {here!r})
import {name} as bench
found = bench.measure()
if not isinstance(found, bench.Result):
    found = bench.result(found)
print("RESULT " + json.dumps(dataclasses.asdict(found)))
"""


def run(name: str) -> Result:
    """Run one benchmark in its own process and return its result."""
    driver = DRIVER.format(here=str(HERE), name=name)
    done = subprocess.run(
        [sys.executable, "-c", driver], cwd=HERE, check=True, stdout=subprocess.PIPE, text=True
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return Result(**json.loads(line.removeprefix("RESULT ")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--record", action="store_true", help="write figures to bench/README.md")
    parser.add_argument(
        "--only", choices=BENCHMARKS, action="append", help="run this benchmark (repeatable)"
    )
    args = parser.parse_args()
    console = Console()
    measured = (
        f"Measured {dt.date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}."
    )
    sections: list[list[str]] = []
    for name in args.only or BENCHMARKS:
        console.print(f"[bold]{name}[/bold]")
        result = run(name)
        lines = result.markdown()
        console.print(Markdown("\n".join(lines)))
        sections.append([lines[0], "", measured, *lines[1:]])
    if args.record:
        readme = HERE / "README.md"
        readme.write_text(recorded(readme.read_text(encoding="utf-8"), sections), encoding="utf-8")
        console.print(f"recorded in {readme}")


def recorded(text: str, sections: list[list[str]]) -> str:
    """``text`` with each section replacing the recorded one of the same heading.

    A section is a benchmark's Markdown, its ``### title`` first. Sections recorded before and
    not measured now stay as they were, with their own date; new ones go after them.
    """
    head, _, rest = text.partition(BEGIN)
    block, _, tail = rest.partition(END)
    kept: list[list[str]] = []
    for line in block.strip("\n").splitlines():
        if line.startswith("### "):
            kept.append([line])
        elif kept:
            kept[-1].append(line)
    by_heading = {section[0]: section for section in sections}
    merged = [by_heading.pop(section[0], section) for section in kept]
    merged += [section for section in sections if section[0] in by_heading]
    body = "".join("\n".join(section).rstrip("\n") + "\n\n" for section in merged)
    return f"{head}{BEGIN}\n{body}{END}{tail}"


if __name__ == "__main__":
    main()
