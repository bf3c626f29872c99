"""Run Pledge's benchmarks (not tests): ``make bench``.

Each module in ``BENCHMARKS`` has ``measure()`` returning a :class:`harness.Result` (or, for
``decisions``, figures that its ``result()`` turns into one). Each runs in a process of its
own, so that one benchmark's set-up (pinning to a CPU, worker processes) cannot bend
another's figures. ``--record`` rewrites the figures block of bench/README.md with the date
and the machine; ``--only NAME`` runs one benchmark and records nothing.
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
    parser.add_argument("--only", choices=BENCHMARKS, help="run one benchmark")
    args = parser.parse_args()
    console = Console()
    lines = [
        BEGIN,
        f"Measured {dt.date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}.",
        "",
    ]
    for name in [args.only] if args.only else BENCHMARKS:
        console.print(f"[bold]{name}[/bold]")
        result = run(name)
        console.print(Markdown("\n".join(result.markdown())))
        lines += result.markdown()
    lines.append(END)
    if args.record and not args.only:
        readme = HERE / "README.md"
        text = readme.read_text(encoding="utf-8")
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        readme.write_text(head + "\n".join(lines) + tail, encoding="utf-8")
        console.print(f"recorded in {readme}")


if __name__ == "__main__":
    main()
