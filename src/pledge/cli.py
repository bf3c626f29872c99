"""The ``pledge`` command: parse arguments, call a service, print. Nothing else lives here.

Exit codes: 0 success, 1 findings or material changes, 2 usage errors (Click's convention).
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from pledge import __version__
from pledge.config import Settings
from pledge.declaration import Declaration, Finding, Severity, load
from pledge.declaration.lint import RULES, lint
from pledge.declaration.model import Declaration as DeclarationModel
from pledge.errors import DeclarationError, UsageError

if TYPE_CHECKING:
    from pledge.app import Runtime
    from pledge.requests.execution import DryRun
    from pledge.requests.model import SubjectRequest
    from pledge.store.database import Database as Store

_T = TypeVar("_T")

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


@app.command()
def verify(
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="text for people, json for machines.")
    ] = CheckFormat.TEXT,
) -> None:
    """Verify the consent ledger, its checkpoints and the audit trail; exit 1 on any break."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeElapsedColumn

    from pledge.consent.proof import verify as verify_store
    from pledge.errors import StoreUnavailable

    database = _existing_store()
    try:
        columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress("{task.description}", *columns, console=err, transient=True) as bar:
            stages: dict[str, TaskID] = {}

            def show(stage: str, done: int, total: int) -> None:
                if stage not in stages:
                    stages[stage] = bar.add_task(stage, total=total)
                bar.update(stages[stage], completed=done, total=max(total, done))

            report = verify_store(database, progress=show)
    except StoreUnavailable as error:
        _usage(str(error))
    finally:
        database.dispose()
    if output_format is CheckFormat.JSON:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    elif report.ok:
        counts = report.counts
        typer.echo(
            f"ok: {_plural(counts['consent_events'], 'consent event')} of"
            f" {_plural(counts['subjects'], 'subject')},"
            f" {_plural(counts['checkpoints'], 'checkpoint')},"
            f" {_plural(counts['audit_events'], 'audit event')} verified"
        )
    else:
        typer.echo(f"first broken record: {report.first}")
        for problem in report.problems[1:]:
            typer.echo(str(problem))
        hidden = report.problem_count - len(report.problems)
        if hidden:
            typer.echo(f"… and {_plural(hidden, 'more problem')}")
        err.print(f"[red]{_plural(report.problem_count, 'problem')} found[/red]")
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def checkpoint(
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="text for people, json for machines.")
    ] = CheckFormat.TEXT,
) -> None:
    """Seal a checkpoint of every consent chain head and the audit head."""
    from pledge.consent.proof import seal_checkpoint
    from pledge.errors import StoreUnavailable

    database = _existing_store()
    try:
        sealed = seal_checkpoint(database)
    except StoreUnavailable as error:
        _usage(str(error))
    finally:
        database.dispose()
    if output_format is CheckFormat.JSON:
        typer.echo(json.dumps(sealed.to_dict(), indent=2))
    else:
        typer.echo(
            f"checkpoint {sealed.seq} sealed: {_plural(sealed.subjects, 'subject')},"
            f" audit seq {sealed.audit_seq}, hash {sealed.hash}"
        )


def _existing_store() -> Store:
    """Pledge's database as it is, never created or upgraded (for verify and checkpoint).

    Usage errors (exit 2): no such SQLite file, no Pledge schema, the database unreachable.
    """
    from pledge.errors import StoreUnavailable
    from pledge.store.database import Database as Store

    database = Store(_store_url())
    try:
        ready = database.has_schema()
    except StoreUnavailable as error:
        database.dispose()
        _usage(str(error))
    if not ready:
        database.dispose()
        shown = database.url.render_as_string(hide_password=True)
        _usage(f"{shown} has no Pledge schema: run 'pledge db upgrade' first")
    return database


def _store_url() -> str:
    """``PLEDGE_DATABASE_URL``; a usage error when it names a SQLite file that is not there."""
    from sqlalchemy.engine import make_url

    url = make_url(Settings.from_env().database_url)
    path = url.database
    sqlite_file = url.get_backend_name() == "sqlite" and path and path != ":memory:"
    if sqlite_file and not Path(str(path)).exists():
        shown = url.render_as_string(hide_password=True)
        _usage(f"no Pledge database at {shown}: set PLEDGE_DATABASE_URL")
    return url.render_as_string(hide_password=False)


# --- the API server, its keys, its store and the master key ------------------------------------

apikey_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
db_app = typer.Typer(help="Pledge's own database.", no_args_is_help=True)
key_app = typer.Typer(help="The master key that encrypts Pledge's personal data.")
app.add_typer(apikey_app, name="apikey")
app.add_typer(db_app, name="db")
app.add_typer(key_app, name="key", no_args_is_help=True)


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option(help="Server processes, each with its own runtime.", min=1)
    ] = 1,
) -> None:
    """Serve the JSON API and its OpenAPI document under /api/v1."""
    import os

    import uvicorn

    from pledge.app import build_runtime
    from pledge.web.app import OPENAPI_URL, create_app
    from pledge.web.server import serve_workers

    path = _path(config)
    try:
        settings = Settings.from_env().with_secret()
        declaration = _load_or_exit(path, code=2)
        database = _open_store(settings.database_url, starting_server=True)
        runtime = None
        if workers == 1:
            runtime = build_runtime(settings, declaration=declaration, database=database)
        else:
            database.dispose()  # checked and upgraded; each worker opens its own
    except _server_errors() as error:
        _usage(str(error))
    for note in settings.notes:
        err.print(note, markup=False)
    err.print(f"Pledge API on http://{host}:{port}/api/v1 (OpenAPI: {OPENAPI_URL})", markup=False)
    if runtime is None:
        # The workers read the same settings from the environment, this declaration included.
        os.environ["PLEDGE_CONFIG"] = str(path.resolve())
        serve_workers(host, port, workers)
        return
    try:
        uvicorn.run(create_app(runtime, run_jobs=True), host=host, port=port, log_level="info")
    finally:
        runtime.close()


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option("--name", help="What the key is for (billing-service).")],
    scope: Annotated[
        list[str],
        typer.Option(
            "--scope",
            help="consent:write, consent:read, subjects:write, subjects:read, decisions,"
            " audit:read, requests:write, requests:read or admin (repeatable).",
        ),
    ],
) -> None:
    """Create an API key and print its secret: shown this once, never stored."""
    from pledge.web.api import keys

    try:
        database = _open_store(Settings.from_env().database_url)
        try:
            key_id, secret = keys.create(database, name, scope)
        finally:
            database.dispose()
    except _server_errors() as error:
        _usage(str(error))
    typer.echo(secret)
    err.print(
        f"created API key {key_id} ({name.strip()}): copy the secret now, it is not shown again",
        markup=False,
    )


@apikey_app.command("list")
def apikey_list(
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="text for people, json for machines.")
    ] = CheckFormat.TEXT,
) -> None:
    """List the API keys (never their secrets), revoked ones included."""
    from pledge.web.api import keys

    try:
        database = _open_store(Settings.from_env().database_url)
        try:
            found = keys.list_keys(database)
        finally:
            database.dispose()
    except _server_errors() as error:
        _usage(str(error))
    if output_format is CheckFormat.JSON:
        rows = [
            {
                "id": key.id,
                "name": key.name,
                "prefix": key.prefix,
                "scopes": sorted(key.scopes),
                "created_at": key.created_at.isoformat(),
                "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
            }
            for key in found
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    for key in found:
        state = f"revoked {key.revoked_at.isoformat()}" if key.revoked_at else "active"
        scopes = " ".join(sorted(key.scopes))
        typer.echo(f"{key.id}  pk_{key.prefix}_…  {key.name}  {scopes}  {state}")
    if not found:
        err.print("No API keys; create one with: pledge apikey create --name N --scope S")


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: Annotated[str, typer.Argument(metavar="ID", help="The key's id (pledge apikey list).")],
) -> None:
    """Revoke an API key: it authenticates nothing from now on."""
    from pledge.web.api import keys

    try:
        database = _open_store(Settings.from_env().database_url)
        try:
            revoked = keys.revoke(database, key_id)
        finally:
            database.dispose()
    except _server_errors() as error:
        _usage(str(error))
    typer.echo(f"revoked API key {revoked.id} ({revoked.name})")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate Pledge's database to the current schema."""
    from pledge.store.database import Database as Store

    try:
        database = Store(Settings.from_env().database_url)
        try:
            database.upgrade()
            revision = database.current_revision()
        finally:
            database.dispose()
    except _server_errors() as error:
        _usage(str(error))
    shown = database.url.render_as_string(hide_password=True)
    typer.echo(f"{shown} is at schema revision {revision}")


@key_app.command("generate")
def key_generate() -> None:
    """Print a new random master key (32 bytes, base64) for PLEDGE_SECRET_KEY."""
    from pledge.config import generate_key

    typer.echo(generate_key())
    err.print(
        "set it as PLEDGE_SECRET_KEY, or save it in a file named by PLEDGE_SECRET_KEY_FILE;"
        " keep a copy safe: without it no encrypted record can be read",
        markup=False,
    )


# --- the company's datastores ------------------------------------------------------------------

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

    path = _path(config)
    declaration = _load_or_exit(path, code=2)
    try:
        reports = check_datastores(declaration, names or ())
    except (DatastoreError, UsageError) as error:
        _usage(str(error))
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
                f"datastore '{report.name}': {_plural(report.tables, 'table')} reflected,"
                f" {_plural(len(report.findings), 'problem')}",
                markup=False,
            )
        if not findings:
            err.print(f"[green]{escape(str(path))}: the datastores match the declaration[/green]")
        else:
            err.print(_summary(path, counts))
    raise typer.Exit(1 if failed else 0)


def _server_errors() -> tuple[type[Exception], ...]:
    """The errors that stop a server or key command with a one-line message (exit 2)."""
    from pledge.errors import ConfigError, NotFound, StoreUnavailable

    return (ConfigError, UsageError, NotFound, StoreUnavailable)


def _open_store(url: str, *, starting_server: bool = False) -> Store:
    """Pledge's database: the embedded SQLite file is created or upgraded on the way; any other
    must have been upgraded with ``pledge db upgrade``.

    Args:
        url: the database URL.
        starting_server: a server starts even while a database server is unreachable (it
            answers 503 until the database is back); a command fails at once.

    Raises:
        UsageError: a server database without Pledge's schema.
        StoreUnavailable: the database cannot be reached (and not starting a server).
    """
    from pledge.errors import StoreUnavailable
    from pledge.store.database import Database as Store

    database = Store(url)
    shown = database.url.render_as_string(hide_password=True)
    if database.dialect == "sqlite":
        database.upgrade()
        return database
    try:
        ready = database.has_schema()
    except StoreUnavailable as error:
        if not starting_server:
            raise
        err.print(f"warning: {error}; answering 503 until {shown} is back", markup=False)
        return database
    if not ready:
        database.dispose()
        raise UsageError(f"{shown} has no Pledge schema: run 'pledge db upgrade' first")
    return database


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
        _usage(f"--details is not JSON: {error.msg}")
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
            _usage("a zip report is binary: write it to a file with --output")
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
        declaration = _load_or_exit(_path(config), code=2)
        database = _open_store(settings.database_url)
        runtime = build_runtime(settings, declaration=declaration, database=database)
    except _server_errors() as error:
        _usage(str(error))
    try:
        yield runtime
    finally:
        runtime.close()


def _request_step(step: Callable[[], _T]) -> _T:
    """Run a request step: a refused step exits 1, bad input 2, each with one line."""
    from pledge.errors import PledgeError, RequestError
    from pledge.subjects.model import InvalidIdentity

    try:
        return step()
    except RequestError as error:
        err.print(f"error: {error}", markup=False)
        raise typer.Exit(1) from None
    except (PledgeError, InvalidIdentity) as error:
        _usage(str(error))


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

    path = _path(config)
    declaration = _load_or_exit(path, code=2)
    declared = declaration.datastores.get(datastore)
    if declared is None:
        known = ", ".join(declaration.datastores) or "none"
        _usage(f"{path} declares no datastore '{datastore}' (declared: {known})")
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
        _usage(str(error))
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
            f"datastore '{datastore}': {_plural(report.columns, 'column')} of"
            f" {_plural(report.tables, 'table')} sampled ({report.values:,} values,"
            f" {report.seconds:.1f} s), {_plural(report.annotated, 'annotated column')} skipped:"
            f" {_plural(len(report.findings), 'personal column')} not annotated",
            markup=False,
        )
    raise typer.Exit(1 if report.findings else 0)


# --- staff of the admin console ----------------------------------------------------------------

admin_app = typer.Typer(help="Staff accounts of the admin console (/admin).")
app.add_typer(admin_app, name="admin", no_args_is_help=True)


@admin_app.command("create")
def admin_create(
    email: Annotated[
        str, typer.Option("--email", help="The address the staff member signs in with.")
    ],
    name: Annotated[str, typer.Option("--name", help="Their name, as the audit trail shows it.")],
    role: Annotated[
        str, typer.Option("--role", help="admin, privacy_officer, support or viewer.")
    ] = "admin",
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from standard input."),
    ] = False,
) -> None:
    """Create a staff account (the first admin, or any other); the password is asked for."""
    from pledge.staff.service import StaffAccounts

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        database = _open_store(Settings.from_env().database_url)
        try:
            member = StaffAccounts(database).create(email, name, role, password, actor="cli")
        finally:
            database.dispose()
    except _server_errors() as error:
        _usage(str(error))
    err.print(
        f"created staff account {member.id}: {member.email} ({member.role});"
        " sign in at /admin/login",
        markup=False,
    )


@admin_app.command("list")
def admin_list(
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="text for people, json for machines.")
    ] = CheckFormat.TEXT,
) -> None:
    """List the staff accounts, disabled ones included."""
    from pledge.staff.service import StaffAccounts

    try:
        database = _open_store(Settings.from_env().database_url)
        try:
            members = StaffAccounts(database).list()
        finally:
            database.dispose()
    except _server_errors() as error:
        _usage(str(error))
    if output_format is CheckFormat.JSON:
        shown = [
            {
                "id": member.id,
                "email": member.email,
                "name": member.name,
                "role": str(member.role),
                "disabled": member.disabled_at is not None,
            }
            for member in members
        ]
        typer.echo(json.dumps(shown, indent=2))
        return
    for member in members:
        state = "  disabled" if member.disabled_at else ""
        typer.echo(f"{member.id}  {member.email}  {member.name}  {member.role}{state}")
    if not members:
        err.print("No staff accounts: create one with pledge admin create.", markup=False)


@admin_app.command("disable")
def admin_disable(
    staff_id: Annotated[str, typer.Argument(metavar="ID", help="The account's id.")],
) -> None:
    """Disable a staff account: it can no longer sign in, its sessions end."""
    from pledge.staff.service import StaffAccounts

    try:
        database = _open_store(Settings.from_env().database_url)
        try:
            member = StaffAccounts(database).disable(staff_id, actor="cli")
        finally:
            database.dispose()
    except _server_errors() as error:
        _usage(str(error))
    err.print(f"disabled staff account {member.id} ({member.email})", markup=False)
