"""``pledge check``, ``render``, ``ropa``, ``diff``, ``schema`` and ``rules``: the declaration."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from pledge.cli.common import (
    CheckFormat,
    ConfigOption,
    OutputOption,
    PolicyFormat,
    RopaFormat,
    SchemaKind,
    app,
    config_path,
    err,
    load_or_exit,
    load_or_usage,
    summary,
    usage,
    write,
)
from pledge.declaration import Severity
from pledge.declaration.lint import RULES, lint
from pledge.declaration.model import Declaration as DeclarationModel
from pledge.errors import DeclarationError


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
    path = config_path(config)
    unknown = sorted(set(ignore or ()) - set(RULES))
    if unknown:
        usage(f"--ignore: no lint rule {', '.join(unknown)} (see 'pledge rules')")
    try:
        findings = lint(load_or_usage(path), ignore=ignore or ())
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
        err.print(summary(path, counts))
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

    declaration = load_or_exit(config_path(config))
    earlier = load_or_exit(previous) if previous else None
    write(render_policy(declaration, output_format.value, previous=earlier), output)


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

    declaration = load_or_exit(config_path(config))
    write(render_ropa(declaration, output_format.value), output)


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="The earlier declaration.")],
    new: Annotated[Path, typer.Argument(help="The later declaration.")],
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="text for people, json for machines.")
    ] = CheckFormat.TEXT,
) -> None:
    """Compare two declarations; exit 1 when a change is material, 2 on bad input."""
    before, after = load_or_exit(old, code=2), load_or_exit(new, code=2)
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
