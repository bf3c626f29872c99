"""The ``pledge`` command: parse arguments, call a service, print. Nothing else lives here.

Exit codes: 0 success, 1 findings or material changes, 2 usage errors (Click's convention).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from pledge import __version__
from pledge.config import Settings
from pledge.declaration import Declaration, Finding, Severity, load
from pledge.declaration.lint import RULES, lint
from pledge.declaration.model import Declaration as DeclarationModel
from pledge.errors import DeclarationError, UsageError

app = typer.Typer(
    name="pledge",
    help="Privacy policies as code: check, render and compare pledge.yaml.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Messages are lines for people and scripts alike: never wrapped at the terminal's width, and
# ":name:" in a file name or message is text, not an emoji code.
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        envvar="PLEDGE_CONFIG",
        help="The declaration to read \\[default: pledge.yaml].",
        show_default=False,
    ),
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to FILE instead of standard output.")
]


class CheckFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class PolicyFormat(StrEnum):
    MARKDOWN = "markdown"
    HTML = "html"
    JSON = "json"


class RopaFormat(StrEnum):
    CSV = "csv"
    MARKDOWN = "markdown"


class SchemaKind(StrEnum):
    DECLARATION = "declaration"
    POLICY = "policy"


def main() -> None:
    """Entry point of the ``pledge`` console script."""
    app()


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        typer.echo(f"pledge {__version__}")
        raise typer.Exit()


@app.command()
def check(
    config: ConfigOption = None,
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="text for people, json for machines.")
    ] = CheckFormat.TEXT,
    strict: Annotated[bool, typer.Option(help="Fail on warnings too.")] = False,
    ignore: Annotated[
        list[str] | None, typer.Option(help="Skip a lint rule by code (repeatable).")
    ] = None,
) -> None:
    """Validate the declaration and lint it against GDPR, CCPA and ePrivacy."""
    path = _path(config)
    unknown = sorted(set(ignore or ()) - set(RULES))
    if unknown:
        _usage(f"--ignore: no lint rule {', '.join(unknown)} (see 'pledge rules')")
    try:
        findings = lint(_load_or_usage(path), ignore=ignore or ())
    except DeclarationError as error:
        findings = list(error.findings)
    counts = Counter(finding.severity for finding in findings)
    failed = counts[Severity.ERROR] > 0 or (strict and counts[Severity.WARNING] > 0)
    if output_format is CheckFormat.JSON:
        report = {
            "file": str(path),
            "ok": not failed,
            "errors": counts[Severity.ERROR],
            "warnings": counts[Severity.WARNING],
            "findings": [finding.to_dict() for finding in findings],
        }
        typer.echo(json.dumps(report, indent=2))
    else:
        for finding in findings:
            typer.echo(str(finding))
        err.print(_summary(path, counts))
    raise typer.Exit(1 if failed else 0)


@app.command()
def render(
    config: ConfigOption = None,
    output_format: Annotated[
        PolicyFormat, typer.Option("--format", help="markdown, html or json.")
    ] = PolicyFormat.MARKDOWN,
    output: OutputOption = None,
    previous: Annotated[
        Path | None, typer.Option(help="The previous declaration, for a 'what changed' section.")
    ] = None,
) -> None:
    """Render the privacy policy from the declaration."""
    from pledge.render import render_policy  # deferred: `pledge check` starts faster without it

    declaration = _load_or_exit(_path(config))
    earlier = _load_or_exit(previous) if previous else None
    _write(render_policy(declaration, output_format.value, previous=earlier), output)


@app.command()
def ropa(
    config: ConfigOption = None,
    output_format: Annotated[
        RopaFormat, typer.Option("--format", help="csv or markdown.")
    ] = RopaFormat.CSV,
    output: OutputOption = None,
) -> None:
    """Export the record of processing activities (GDPR Art. 30)."""
    from pledge.render import render_ropa

    declaration = _load_or_exit(_path(config))
    _write(render_ropa(declaration, output_format.value), output)


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="The earlier declaration.")],
    new: Annotated[Path, typer.Argument(help="The later declaration.")],
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="text for people, json for machines.")
    ] = CheckFormat.TEXT,
) -> None:
    """Compare two declarations; exit 1 when a change is material, 2 on bad input."""
    before, after = _load_or_exit(old, code=2), _load_or_exit(new, code=2)
    from pledge.declaration.diff import diff as diff_declarations

    changes = diff_declarations(before, after)
    material = any(change.material for change in changes)
    if output_format is CheckFormat.JSON:
        report = {"material": material, "changes": [change.to_dict() for change in changes]}
        typer.echo(json.dumps(report, indent=2))
    else:
        for change in changes:
            typer.echo(f"{'material ' if change.material else 'editorial'}  {change.summary}")
        if not changes:
            err.print("No changes.")
    raise typer.Exit(1 if material else 0)


@app.command()
def schema(
    kind: Annotated[
        SchemaKind,
        typer.Argument(help="declaration (pledge.yaml) or policy (render --format json)."),
    ] = SchemaKind.DECLARATION,
) -> None:
    """Print a JSON Schema: of pledge.yaml for editor completion, or of the JSON policy."""
    if kind is SchemaKind.POLICY:
        from pledge.render import policy_schema

        document = policy_schema()
    else:
        document = DeclarationModel.model_json_schema()
        document = {"$schema": "https://json-schema.org/draft/2020-12/schema", **document}
    typer.echo(json.dumps(document, indent=2, sort_keys=True))


@app.command()
def rules() -> None:
    """List the lint rules with their codes."""
    for code, found in sorted(RULES.items()):
        typer.echo(f"{code}  {found.severity:<7}  {found.name:<32}  {found.summary}")


# --- helpers -----------------------------------------------------------------------------------


def _path(config: Path | None) -> Path:
    return config or Settings.from_env().declaration


def _load_or_usage(path: Path) -> Declaration:
    try:
        return load(path)
    except UsageError as error:
        _usage(str(error))


def _load_or_exit(path: Path, *, code: int = 1) -> Declaration:
    try:
        return _load_or_usage(path)
    except DeclarationError as error:
        for finding in error.findings:
            err.print(str(finding), markup=False)
        raise typer.Exit(code) from None


def _usage(message: str) -> NoReturn:
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(2)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        # UTF-8 whatever the locale, so that "> FILE" gives the very bytes "-o FILE" writes.
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.buffer.flush()
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except FileExistsError:  # mkdir's own reason, "File exists", would point nowhere
        _usage(f"{output}: cannot write ({output.parent} is not a directory)")
    except OSError as error:
        _usage(f"{output}: cannot write ({error.strerror})")
    err.print(f"wrote {output}", markup=False)


def _summary(path: Path, counts: Counter[Severity]) -> str:
    errors, warnings = counts[Severity.ERROR], counts[Severity.WARNING]
    name = escape(str(path))  # a file name such as "[draft].yaml" is not markup
    if not errors and not warnings:
        return f"[green]{name}: no problems found[/green]"
    colour = "red" if errors else "yellow"
    return (
        f"[{colour}]{name}: {_plural(errors, 'error')}, {_plural(warnings, 'warning')}[/{colour}]"
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def findings_summary(findings: list[Finding]) -> str:
    """A one-line count of findings by code, most frequent first: ``G303×4, P102×3``."""
    counts = Counter(finding.code for finding in findings)
    return ", ".join(f"{code}×{count}" for code, count in counts.most_common())
