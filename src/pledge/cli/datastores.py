"""``pledge datastores check`` and ``pledge scan``: the company's own databases."""

from __future__ import annotations

import json
from collections import Counter
from typing import Annotated

import typer
from rich.markup import escape

from pledge.cli.common import (
    CheckFormat,
    ConfigOption,
    app,
    config_path,
    err,
    load_or_exit,
    plural,
    summary,
    usage,
)
from pledge.declaration import Severity
from pledge.errors import UsageError

datastores_app = typer.Typer(help="The company's databases declared under datastores:.")
app.add_typer(datastores_app, name="datastores", no_args_is_help=True)


@datastores_app.command("check")
def datastores_check(
    names: Annotated[
        list[str] | None,
        typer.Argument(metavar="[NAME]...", help="The datastores to check [default: all]."),
    ] = None,
    config: ConfigOption = None,
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="text for people, json for machines.")
    ] = CheckFormat.TEXT,
    strict: Annotated[bool, typer.Option(help="Fail on warnings too.")] = False,
) -> None:
    """Connect to each datastore and check the declared tables and columns against it."""
    from pledge.datastores import check as check_datastores
    from pledge.errors import DatastoreError

    path = config_path(config)
    declaration = load_or_exit(path, code=2)
    try:
        reports = check_datastores(declaration, names or ())
    except (DatastoreError, UsageError) as error:
        usage(str(error))
    findings = [finding for report in reports for finding in report.findings]
    counts = Counter(finding.severity for finding in findings)
    failed = bool(counts[Severity.ERROR] or (strict and findings))
    if output_format is CheckFormat.JSON:
        document = {
            "file": str(path),
            "ok": not failed,
            "datastores": [
                {
                    "name": report.name,
                    "tables": report.tables,
                    "findings": [finding.to_dict() for finding in report.findings],
                }
                for report in reports
            ],
        }
        typer.echo(json.dumps(document, indent=2))
    else:
        for finding in findings:
            typer.echo(str(finding))
        for report in reports:
            err.print(
                f"datastore '{report.name}': {plural(report.tables, 'table')} reflected,"
                f" {plural(len(report.findings), 'problem')}",
                markup=False,
            )
        if not findings:
            err.print(f"[green]{escape(str(path))}: the datastores match the declaration[/green]")
        else:
            err.print(summary(path, counts))
    raise typer.Exit(1 if failed else 0)


@app.command()
def scan(
    datastore: Annotated[str, typer.Argument(help="The datastore's name under datastores:.")],
    config: ConfigOption = None,
    sample: Annotated[
        int, typer.Option("--sample", min=1, help="Rows sampled per table.", metavar="N")
    ] = 1000,
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="text for people, json for machines.")
    ] = CheckFormat.TEXT,
) -> None:
    """Sample a datastore and report personal columns the declaration does not annotate."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from pledge.datastores.scan import scan as scan_datastore
    from pledge.datastores.sql import SqlDatastore
    from pledge.errors import DatastoreError

    path = config_path(config)
    declaration = load_or_exit(path, code=2)
    declared = declaration.datastores.get(datastore)
    if declared is None:
        known = ", ".join(declaration.datastores) or "none"
        usage(f"{path} declares no datastore '{datastore}' (declared: {known})")
    annotated = {
        (table, column) for table, found in declared.tables.items() for column in found.columns
    }
    connector = SqlDatastore(datastore, declared.url)
    try:
        connector.reflect()  # an unreachable database, or a missing SQLite file, is refused here
        columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress("{task.description}", *columns, console=err, transient=True) as bar:
            task = bar.add_task(f"scanning {datastore}", total=None)

            def show(table: str, done: int, total: int) -> None:
                bar.update(
                    task, description=f"scanning {datastore}: {table}", completed=done, total=total
                )

            report = scan_datastore(
                connector.engine,
                sample=sample,
                annotated=annotated,
                progress=show,
                region=declaration.controller.country,
            )
    except DatastoreError as error:
        usage(str(error))
    finally:
        connector.close()
    if output_format is CheckFormat.JSON:
        typer.echo(json.dumps({"datastore": datastore, **report.to_dict()}, indent=2))
    else:
        for label, group in (("", report.findings), ("maybe ", report.possible)):
            for found in group:
                typer.echo(
                    f"{found.table}.{found.column}: {label}{found.category}"
                    f" (confidence {found.confidence:.2f}): {'; '.join(found.reasons)}"
                )
        if report.findings:
            typer.echo(
                f"\n# to add under datastores: {datastore}: in {path}\n{report.snippet()}", nl=False
            )
        err.print(
            f"datastore '{datastore}': {plural(report.columns, 'column')} of"
            f" {plural(report.tables, 'table')} sampled ({report.values:,} values,"
            f" {report.seconds:.1f} s), {plural(report.annotated, 'annotated column')} skipped:"
            f" {plural(len(report.findings), 'personal column')} not annotated",
            markup=False,
        )
    raise typer.Exit(1 if report.findings else 0)


# --- staff of the admin console ----------------------------------------------------------------
