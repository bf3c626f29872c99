"""``make demo``: check and render the Cloudwarm example, and say where the results are."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pledge.declaration import Severity, load
from pledge.declaration.lint import RULES, lint
from pledge.render import render_policy, render_ropa

EXAMPLE = Path("examples/cloudwarm/pledge.yaml")
OUTPUT = Path("out/cloudwarm")


def main(example: Path = EXAMPLE, output: Path = OUTPUT) -> None:
    """Lint and render ``example`` into ``output``, then print a short report."""
    console = Console(highlight=False)
    declaration = load(example)
    findings = lint(declaration)
    output.mkdir(parents=True, exist_ok=True)
    files = {
        "policy.html": render_policy(declaration, "html"),
        "policy.md": render_policy(declaration, "markdown"),
        "policy.json": render_policy(declaration, "json"),
        "ropa.csv": render_ropa(declaration, "csv"),
    }
    for name, text in files.items():
        (output / name).write_text(text, encoding="utf-8")

    console.print(f"[bold]{declaration.controller.name}[/bold] policy {declaration.policy.version}")
    console.print(f"Rendered policy: [link]{(output / 'policy.html').resolve()}[/link]")
    console.print(
        f"Also written: {', '.join(str(output / name) for name in files if name != 'policy.html')}"
    )

    by_code = Counter(finding.code for finding in findings)
    severities = Counter(finding.severity for finding in findings)
    table = Table(title=f"Lint findings in {example}", title_justify="left")
    table.add_column("code")
    table.add_column("rule")
    table.add_column("count", justify="right")
    for code, count in sorted(by_code.items()):
        table.add_row(code, RULES[code].name, str(count))
    console.print(table)
    console.print(
        f"{severities[Severity.ERROR]} errors, {severities[Severity.WARNING]} warnings:"
        " the gaps the original policy leaves. Details: "
        f"[bold].venv/bin/pledge check -c {example}[/bold]"
    )


if __name__ == "__main__":
    main()
