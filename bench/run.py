"""Run Pledge's benchmarks (not tests): ``make bench``.

Each module in ``BENCHMARKS`` has ``measure() -> Result``. ``--record`` rewrites the figures
block of bench/README.md with the date and the machine; ``--only NAME`` runs one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import platform
import sys
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # bench/ is a folder of scripts, not a package

BENCHMARKS = ["check_render"]
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"


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
        result = importlib.import_module(name).measure()
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
