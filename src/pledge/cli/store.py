"""``pledge verify``, ``checkpoint``, ``serve``, ``apikey``, ``db`` and ``key``: Pledge's own
store, its proofs, its server and its keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from pledge.cli.common import (
    CheckFormat,
    ConfigOption,
    app,
    config_path,
    err,
    existing_store,
    load_or_exit,
    open_store,
    plural,
    server_errors,
    usage,
)
from pledge.config import Settings

if TYPE_CHECKING:
    pass


@app.command()
def verify(
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="text for people, json for machines.")
    ] = CheckFormat.TEXT,
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            metavar="FILE",
            help="A checkpoint exported with 'pledge checkpoint --export': prove nothing it"
            " sealed was removed since.",
        ),
    ] = None,
) -> None:
    """Verify the consent ledger, its checkpoints and the audit trail; exit 1 on any break."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeElapsedColumn

    from pledge.consent.export import read_export
    from pledge.consent.proof import verify as verify_store
    from pledge.errors import StoreUnavailable

    exported, installation_key = None, None
    if against is not None:
        try:
            text = against.read_text(encoding="utf-8", errors="replace")
        except OSError as error:
            usage(f"{against}: cannot read ({error.strerror})")
        installation_key = _installation_key()
        exported = read_export(text, installation_key)
    database = existing_store()
    try:
        columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress("{task.description}", *columns, console=err, transient=True) as bar:
            stages: dict[str, TaskID] = {}

            def show(stage: str, done: int, total: int) -> None:
                if stage not in stages:
                    stages[stage] = bar.add_task(stage, total=total)
                bar.update(stages[stage], completed=done, total=max(total, done))

            report = verify_store(database, progress=show, against=exported)
    except StoreUnavailable as error:
        usage(str(error))
    finally:
        database.dispose()
    if output_format is CheckFormat.JSON:
        document = report.to_dict()
        if exported is not None:
            document["against"] = {"checkpoint": exported.seq, "public_key": exported.public_key}
        typer.echo(json.dumps(document, indent=2))
    elif report.ok:
        counts = report.counts
        typer.echo(
            f"ok: {plural(counts['consent_events'], 'consent event')} of"
            f" {plural(counts['subjects'], 'subject')},"
            f" {plural(counts['checkpoints'], 'checkpoint')},"
            f" {plural(counts['audit_events'], 'audit event')} verified"
        )
        if exported is not None:
            typer.echo(
                f"ok: nothing sealed in checkpoint {exported.seq} of {against} is missing"
                f" ({plural(counts.get('exported_heads', 0), 'chain head')}; signed with key"
                f" {exported.public_key})"
            )
    else:
        typer.echo(f"first broken record: {report.first}")
        for problem in report.problems[1:]:
            typer.echo(str(problem))
        hidden = report.problem_count - len(report.problems)
        if hidden:
            typer.echo(f"… and {plural(hidden, 'more problem')}")
        err.print(f"[red]{plural(report.problem_count, 'problem')} found[/red]")
    if exported is not None and exported.public_key and installation_key is None:
        err.print(
            "note: PLEDGE_SECRET_KEY is not set, so whether the file's key is this"
            " installation's was not checked: compare it with a copy kept apart",
            markup=False,
        )
    raise typer.Exit(0 if report.ok else 1)


def _installation_key() -> str | None:
    """This installation's checkpoint public key, when its master key is at hand.

    Only a key that is set (``PLEDGE_SECRET_KEY``, ``PLEDGE_SECRET_KEY_FILE``, or in
    development the key file already there) is read: verifying never generates one.
    """
    import os

    from pledge.config import DEFAULT_KEY_FILE
    from pledge.consent.export import public_key
    from pledge.errors import ConfigError

    try:
        settings = Settings.from_env()
        configured = "PLEDGE_SECRET_KEY" in os.environ or os.environ.get("PLEDGE_SECRET_KEY_FILE")
        if not configured and not (settings.development and DEFAULT_KEY_FILE.exists()):
            return None
        return public_key(settings.with_secret().secret_key)
    except ConfigError as error:
        usage(str(error))


@app.command()
def checkpoint(
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="text for people, json for machines.")
    ] = CheckFormat.TEXT,
    export: Annotated[
        Path | None,
        typer.Option(
            "--export",
            metavar="FILE",
            help="Also write the checkpoint, signed, with every head it sealed, to FILE (keep"
            " it outside Pledge's database).",
        ),
    ] = None,
) -> None:
    """Seal a checkpoint of every consent chain head and the audit head."""
    from pledge.consent.checkpoints import Head
    from pledge.consent.export import export_document
    from pledge.consent.proof import seal_checkpoint, seal_checkpoint_with_heads
    from pledge.errors import ConfigError, StoreUnavailable

    master_key, handle = None, None
    if export is not None:
        try:
            settings = Settings.from_env().with_secret()
        except ConfigError as error:
            usage(str(error))
        master_key = settings.secret_key
        for note in settings.notes:
            err.print(note, markup=False)
    database = existing_store()
    try:
        # Opened before sealing: a file that cannot be written seals nothing.
        if export is not None:
            handle = _open_for_writing(export)
        heads: list[Head] = []
        if master_key is None:
            sealed = seal_checkpoint(database, actor="cli")
        else:
            sealed, heads = seal_checkpoint_with_heads(database, actor="cli")
    except StoreUnavailable as error:
        if handle is not None and export is not None:
            handle.close()
            export.unlink(missing_ok=True)
        usage(str(error))
    finally:
        database.dispose()
    if handle is not None and master_key is not None:
        with handle:
            handle.write(export_document(sealed, heads, master_key))
        err.print(f"wrote {export}", markup=False)
    if output_format is CheckFormat.JSON:
        typer.echo(json.dumps(sealed.to_dict(), indent=2))
    else:
        typer.echo(
            f"checkpoint {sealed.seq} sealed: {plural(sealed.subjects, 'subject')},"
            f" audit seq {sealed.audit_seq}, hash {sealed.hash}"
        )


def _open_for_writing(path: Path) -> TextIO:
    """``path`` opened for writing (UTF-8), its folder made; a usage error when it cannot be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("w", encoding="utf-8")
    except OSError as error:
        usage(f"{path}: cannot write ({error.strerror or error})")


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

    path = config_path(config)
    try:
        settings = Settings.from_env().with_secret()
        declaration = load_or_exit(path, code=2)
        database = open_store(settings.database_url, starting_server=True)
        runtime = None
        if workers == 1:
            runtime = build_runtime(settings, declaration=declaration, database=database)
        else:
            database.dispose()  # checked and upgraded; each worker opens its own
    except server_errors() as error:
        usage(str(error))
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
    from pledge import keys

    try:
        database = open_store(Settings.from_env().database_url)
        try:
            key_id, secret = keys.create(database, name, scope)
        finally:
            database.dispose()
    except server_errors() as error:
        usage(str(error))
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
    from pledge import keys

    try:
        database = open_store(Settings.from_env().database_url)
        try:
            found = keys.list_keys(database)
        finally:
            database.dispose()
    except server_errors() as error:
        usage(str(error))
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
    from pledge import keys

    try:
        database = open_store(Settings.from_env().database_url)
        try:
            revoked = keys.revoke(database, key_id)
        finally:
            database.dispose()
    except server_errors() as error:
        usage(str(error))
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
    except server_errors() as error:
        usage(str(error))
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
