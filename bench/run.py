"""Benchmarks of Pledge (not tests): run by ``make bench``.

Measures ``pledge check`` + ``pledge render`` on a generated declaration with 1,000 purposes
and 10,000 collected fields, both in-process and as the real command (interpreter start-up
included). ``--record`` rewrites the figures block of bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import track
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from generate import declaration
from pledge.declaration import load
from pledge.declaration.lint import lint
from pledge.render import render_policy

HERE = Path(__file__).parent
PLEDGE = Path(sys.executable).parent / "pledge"
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"


def timed(action: Callable[[], object], repeat: int, label: str) -> list[float]:
    """Run ``action`` ``repeat`` times; the seconds each run took."""
    seconds = []
    for _ in track(range(repeat), description=label, transient=True):
        start = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--record", action="store_true", help="write figures to bench/README.md")
    args = parser.parse_args()
    console = Console()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pledge.yaml"
        path.write_text(declaration(purposes=1000, fields=10000), encoding="utf-8")
        size_kib = path.stat().st_size / 1024

        def check() -> None:
            lint(load(path))

        def render() -> None:
            render_policy(load(path), "html")

        def cli(*words: str) -> Callable[[], None]:
            command = [str(PLEDGE), *words, "-c", str(path)]
            return lambda: subprocess.run(command, check=False, capture_output=True)

        rows = {
            "check, in-process (load + lint)": timed(check, args.repeat, "check"),
            "render html, in-process (load + render)": timed(render, args.repeat, "render"),
            "`pledge check` command": timed(cli("check"), args.repeat, "pledge check"),
            "`pledge render --format html` command": timed(
                cli("render", "--format", "html", "-o", str(Path(folder) / "p.html")),
                args.repeat,
                "pledge render",
            ),
        }

    medians = {name: statistics.median(values) for name, values in rows.items()}
    together = medians["`pledge check` command"] + medians["`pledge render --format html` command"]
    table = Table(title=f"1,000 purposes, 10,000 fields ({size_kib:,.0f} KiB of YAML)")
    table.add_column("measure")
    table.add_column("median", justify="right")
    table.add_column("min", justify="right")
    for name, values in rows.items():
        table.add_row(name, f"{medians[name]:.3f} s", f"{min(values):.3f} s")
    table.add_row(
        "[bold]check + render commands together[/bold]", f"[bold]{together:.3f} s[/bold]", ""
    )
    console.print(table)
    console.print(f"goal: under 2 s together — {'met' if together < 2 else 'NOT met'}")

    if args.record:
        lines = [
            BEGIN,
            f"Measured {dt.date.today().isoformat()} on {platform.machine()},"
            f" {os.cpu_count()} cores, Python {platform.python_version()},"
            f" median of {args.repeat} runs.",
            "",
            f"Declaration: 1,000 purposes, 10,000 fields, {size_kib:,.0f} KiB of YAML.",
            "",
            "| measure | median | min |",
            "|---|---:|---:|",
            *(f"| {name} | {medians[name]:.3f} s | {min(v):.3f} s |" for name, v in rows.items()),
            f"| **check + render commands together** (goal < 2 s) | **{together:.3f} s** | |",
            END,
        ]
        readme = HERE / "README.md"
        text = readme.read_text(encoding="utf-8")
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        readme.write_text(head + "\n".join(lines) + tail, encoding="utf-8")
        console.print(f"recorded in {readme}")


if __name__ == "__main__":
    main()
