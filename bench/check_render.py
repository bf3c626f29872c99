"""Benchmark: `pledge check` + `pledge render` on 1,000 purposes and 10,000 fields.

Goal: the two commands together under 2 s (interpreter start-up included).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from generate import declaration
from harness import Result, timed
from pledge.declaration import load
from pledge.declaration.lint import lint
from pledge.render import render_policy

PLEDGE = Path(sys.executable).parent / "pledge"


def measure(repeat: int = 5) -> Result:
    """Time check and render in-process and as commands; median of ``repeat`` runs."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pledge.yaml"
        path.write_text(declaration(purposes=1000, fields=10000), encoding="utf-8")
        size_kib = path.stat().st_size / 1024

        def check() -> None:
            lint(load(path))

        def render() -> None:
            render_policy(load(path), "html")

        def cli(*words: str) -> Callable[[], object]:
            command = [str(PLEDGE), *words, "-c", str(path)]
            return lambda: subprocess.run(command, check=False, capture_output=True)

        html = str(Path(folder) / "p.html")
        runs = {
            "check, in-process (load + lint)": timed(check, repeat, "check"),
            "render html, in-process (load + render)": timed(render, repeat, "render"),
            "`pledge check` command": timed(cli("check"), repeat, "pledge check"),
            "`pledge render --format html` command": timed(
                cli("render", "--format", "html", "-o", html), repeat, "pledge render"
            ),
        }
    medians = {name: statistics.median(values) for name, values in runs.items()}
    together = medians["`pledge check` command"] + medians["`pledge render --format html` command"]
    rows = [
        (name, f"{medians[name]:.3f} s", f"{min(values):.3f} s") for name, values in runs.items()
    ]
    rows.append(("**check + render commands together** (goal < 2 s)", f"**{together:.3f} s**", ""))
    return Result(
        title="Check and render a large declaration",
        setup=f"1,000 purposes, 10,000 fields, {size_kib:,.0f} KiB of YAML;"
        f" median of {repeat} runs.",
        columns=("measure", "median", "min"),
        rows=rows,
        goal_met=together < 2,
    )
