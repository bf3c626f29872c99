"""``pledge request …`` and ``pledge worker``: people's requests, carried out."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

from pledge.cli.common import (
    CheckFormat,
    ConfigOption,
    app,
    config_path,
    err,
    load_or_exit,
    open_store,
    server_errors,
    usage,
)
from pledge.config import Settings

if TYPE_CHECKING:
    from pledge.app import Runtime
    from pledge.requests.execution import DryRun
    from pledge.requests.model import SubjectRequest

_T = TypeVar("_T")

# --- subject requests --------------------------------------------------------------------------

request_app = typer.Typer(
    help="Subject requests: submit, list, show, verify, approve, deny, extend, run, report."
)
app.add_typer(request_app, name="request", no_args_is_help=True)

StaffOption = Annotated[
    str | None, typer.Option("--staff", help="The staff member acting (recorded as staff:NAME).")
]


@request_app.command("submit")
def request_submit(
    request_type: Annotated[str, typer.Argument(metavar="TYPE", help="The right exercised.")],
    identity: Annotated[str, typer.Argument(metavar="IDENTITY", help="Who asks (an address).")],
    kind: Annotated[str, typer.Option("--kind", help="email, phone, account or device.")] = "email",
    regime: Annotated[str, typer.Option("--regime", help="gdpr or ccpa.")] = "gdpr",
    details: Annotated[
        str | None, typer.Option("--details", help='What is asked, as JSON: {"purposes": […]}.')
    ] = None,
    staff: StaffOption = None,
    skip_verification: Annotated[
        str | None,
        typer.Option("--skip-verification", help="With --staff: why no e-mail code is needed."),
    ] = None,
    config: ConfigOption = None,
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="text for people, json for machines.")
    ] = CheckFormat.TEXT,
) -> None:
    """Receive a request and send the person a one-time code to confirm it."""
    from pledge.subjects.model import Identity

    try:
        parsed = json.loads(details) if details else {}
    except json.JSONDecodeError as error:
        usage(f"--details is not JSON: {error.msg}")
    with _requests_runtime(config) as runtime:
        request = _request_step(
            lambda: runtime.requests.submit(
                request_type,
                Identity.parse(kind, identity),
                regime,
                parsed,
                actor="cli",
                on_behalf_of_staff=staff,
                skip_verification_reason=skip_verification,
            )
        )
    _show_request(request, output_format)


@request_app.command("list")
def request_list(
    state: Annotated[str | None, typer.Option("--state", help="Only requests in STATE.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue requests.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="At most N.")] = 100,
    config: ConfigOption = None,
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="text for people, json for machines.")
    ] = CheckFormat.TEXT,
) -> None:
    """List requests, soonest deadline first."""
    with _requests_runtime(config) as runtime:
        found = _request_step(
            lambda: runtime.requests.list(state=state, overdue=overdue or None, limit=limit)
        )
    if output_format is CheckFormat.JSON:
        typer.echo(json.dumps([request.to_dict() for request in found], indent=2))
        return
    for request in found:
        flags = " OVERDUE" if request.overdue else ""
        flags += " RECEIPT-OVERDUE" if request.receipt_overdue else ""
        typer.echo(
            f"{request.id}  {request.type:<16}  {request.regime}  {request.state:<9}"
            f"  due {request.due_at.date().isoformat()}{flags}"
        )
    if not found:
        err.print("No requests.", markup=False)


@request_app.command("show")
def request_show(
    request_id: Annotated[str, typer.Argument(metavar="ID", help="The request's id.")],
    config: ConfigOption = None,
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="text for people, json for machines.")
    ] = CheckFormat.TEXT,
) -> None:
    """Show a request with its deadlines and details."""
    with _requests_runtime(config) as runtime:
        request = _request_step(lambda: runtime.requests.get(request_id))
    _show_request(request, output_format)


@request_app.command("verify")
def request_verify(
    request_id: Annotated[str, typer.Argument(metavar="ID", help="The request's id.")],
    code: Annotated[str, typer.Argument(metavar="CODE", help="The code the person received.")],
    config: ConfigOption = None,
) -> None:
    """Confirm a request with the person's one-time code."""
    with _requests_runtime(config) as runtime:
        request = _request_step(lambda: runtime.requests.verify(request_id, code, actor="cli"))
    _show_request(request, CheckFormat.TEXT)


@request_app.command("deny")
def request_deny(
    request_id: Annotated[str, typer.Argument(metavar="ID", help="The request's id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, in words for the person.")],
    ground: Annotated[
        str,
        typer.Option(
            "--ground",
            help="identity_not_verified, manifestly_unfounded, excessive, legal_exception"
            " or other.",
        ),
    ] = "other",
    staff: StaffOption = None,
    config: ConfigOption = None,
) -> None:
    """Refuse a request; the person is told why and where to complain."""
    actor = f"staff:{staff}" if staff else "cli"
    with _requests_runtime(config) as runtime:
        request = _request_step(
            lambda: runtime.requests.deny(request_id, reason, ground=ground, actor=actor)
        )
    _show_request(request, CheckFormat.TEXT)


@request_app.command("extend")
def request_extend(
    request_id: Annotated[str, typer.Argument(metavar="ID", help="The request's id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why more time is needed.")],
    by: Annotated[
        int | None,
        typer.Option("--by", min=1, help="GDPR months or CCPA days [default: all allowed]."),
    ] = None,
    staff: StaffOption = None,
    config: ConfigOption = None,
) -> None:
    """Extend a request's deadline, before the first deadline and with a reason."""
    actor = f"staff:{staff}" if staff else "cli"
    with _requests_runtime(config) as runtime:
        request = _request_step(
            lambda: runtime.requests.extend(request_id, reason, by=by, actor=actor)
        )
    _show_request(request, CheckFormat.TEXT)


@request_app.command("approve")
def request_approve(
    request_id: Annotated[str, typer.Argument(metavar="ID", help="The request's id.")],
    staff: StaffOption = None,
    config: ConfigOption = None,
) -> None:
    """Approve a verified access, portability, rectification or erasure: its job is queued."""
    actor = f"staff:{staff}" if staff else "cli"
    with _requests_runtime(config) as runtime:
        request = _request_step(lambda: runtime.execution.approve(request_id, actor=actor))
    _show_request(request, CheckFormat.TEXT)


@request_app.command("run")
def request_run(
    request_id: Annotated[str, typer.Argument(metavar="ID", help="The request's id.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan with row counts; change nothing.")
    ] = False,
    config: ConfigOption = None,
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="text for people, json for machines.")
    ] = CheckFormat.TEXT,
) -> None:
    """Carry out an approved request now, in this process (or show its plan)."""
    with _requests_runtime(config) as runtime:
        if dry_run:
            planned = _request_step(lambda: runtime.execution.dry_run(request_id))
            _show_plan(planned, output_format)
            return
        with err.status("Carrying out the request…"):
            request = _request_step(
                lambda: runtime.execution.run_now(request_id, owner=f"cli:{os.getpid()}")
            )
    _show_request(request, output_format)


@request_app.command("report")
def request_report(
    request_id: Annotated[str, typer.Argument(metavar="ID", help="The request's id.")],
    report_format: Annotated[
        str, typer.Option("--format", help="html, zip or json (what the request has).")
    ] = "html",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write a carried-out request's report (decrypted; reports expire)."""
    with _requests_runtime(config) as runtime:
        report = _request_step(lambda: runtime.execution.report(request_id, report_format))
    if output is None:
        if report.format == "zip":
            usage("a zip report is binary: write it to a file with --output")
        sys.stdout.buffer.write(report.content)
        return
    output.write_bytes(report.content)
    err.print(f"Wrote {output} ({len(report.content):,} bytes).", markup=False)


@app.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Run what is due, then stop (for cron and tests).")
    ] = False,
    poll: Annotated[
        float, typer.Option("--poll", min=0.1, help="Seconds between looks when idle.")
    ] = 1.0,
    config: ConfigOption = None,
) -> None:
    """Run queued jobs (requests, recipient notifications) until stopped.

    Several workers may run at once on PostgreSQL; a job whose worker died is taken up again
    when its lease runs out, and resumes after its last finished step.
    """
    import signal

    with _requests_runtime(config) as runtime:
        runner = runtime.runner(poll=poll)
        if once:
            count = _request_step(runner.run_until_idle)
            err.print(f"Ran {count} job{'s' if count != 1 else ''}.", markup=False)
            return
        signal.signal(signal.SIGTERM, lambda *_: runner.stop(timeout=0))
        err.print(f"Worker {runner.owner} waiting for jobs (Ctrl+C stops it).", markup=False)
        try:
            runner.run_forever()
        except KeyboardInterrupt:
            err.print("Stopped.", markup=False)


def _show_plan(planned: DryRun, output_format: CheckFormat) -> None:
    import dataclasses

    from rich.table import Table

    if output_format is CheckFormat.JSON:
        typer.echo(json.dumps(dataclasses.asdict(planned), indent=2))
        return
    table = Table("datastore", "table", "found by", "rows", "shared", "action", box=None)
    for item in planned.tables:
        table.add_row(
            item.datastore,
            item.table,
            "; ".join(item.found_by),
            str(item.rows),
            str(item.shared) if item.shared else "",
            item.action,
        )
    console = Console(highlight=False, soft_wrap=True)
    console.print(table)
    for problem in planned.problems:
        console.print(f"refused: {problem}", markup=False)
    for warning in planned.warnings:
        console.print(f"warning: {warning}", markup=False)


@contextmanager
def _requests_runtime(config: Path | None) -> Iterator[Runtime]:
    from pledge.app import build_runtime

    try:
        settings = Settings.from_env().with_secret()
        declaration = load_or_exit(config_path(config), code=2)
        database = open_store(settings.database_url)
        runtime = build_runtime(settings, declaration=declaration, database=database)
    except server_errors() as error:
        usage(str(error))
    try:
        yield runtime
    finally:
        runtime.close()


def _request_step(step: Callable[[], _T]) -> _T:
    """Run a request step: a refused step exits 1, bad input 2, each with one line."""
    from pledge.errors import PledgeError, RequestError

    try:
        return step()
    except RequestError as error:
        err.print(f"error: {error}", markup=False)
        raise typer.Exit(1) from None
    except PledgeError as error:
        usage(str(error))


def _show_request(request: SubjectRequest, output_format: CheckFormat) -> None:
    shown = request.to_dict()
    if output_format is CheckFormat.JSON:
        typer.echo(json.dumps(shown, indent=2))
        return
    for name, value in shown.items():
        if value is not None and value is not False:
            text = json.dumps(value) if isinstance(value, dict) else value
            typer.echo(f"{name}: {text}")


# --- discovering undeclared personal data ------------------------------------------------------
