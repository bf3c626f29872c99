"""What every command group of the ``pledge`` command shares: the Typer app, the console for
messages, the common options and formats, and the helpers that read the declaration, open
Pledge's store and end with the right exit code."""

from __future__ import annotations

import sys
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from pledge import __version__
from pledge.config import Settings
from pledge.declaration import Declaration, Finding, Severity, load
from pledge.errors import DeclarationError, UsageError

if TYPE_CHECKING:
    from pledge.store.database import Database as Store

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
    """Output for people or for machines."""

    TEXT = "text"
    JSON = "json"


class PolicyFormat(StrEnum):
    """The formats of a rendered policy."""

    MARKDOWN = "markdown"
    HTML = "html"
    JSON = "json"


class RopaFormat(StrEnum):
    """The formats of the record of processing."""

    CSV = "csv"
    MARKDOWN = "markdown"


class SchemaKind(StrEnum):
    """The JSON Schemas ``pledge schema`` writes."""

    DECLARATION = "declaration"
    POLICY = "policy"


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        typer.echo(f"pledge {__version__}")
        raise typer.Exit()


def server_errors() -> tuple[type[Exception], ...]:
    """The errors that stop a server or key command with a one-line message (exit 2)."""
    from pledge.errors import ConfigError, NotFound, StoreUnavailable

    return (ConfigError, UsageError, NotFound, StoreUnavailable)


def open_store(url: str, *, starting_server: bool = False) -> Store:
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


def config_path(config: Path | None) -> Path:
    """The declaration to read: ``-c FILE``, else ``PLEDGE_CONFIG``, else ``pledge.yaml``."""
    return config or Settings.from_env().declaration


def load_or_usage(path: Path) -> Declaration:
    """The declaration at ``path``; a usage error (exit 2) when it cannot be read."""
    try:
        return load(path)
    except UsageError as error:
        usage(str(error))


def load_or_exit(path: Path, *, code: int = 1) -> Declaration:
    """The declaration at ``path``; its findings printed and exit ``code`` when it is invalid."""
    try:
        return load_or_usage(path)
    except DeclarationError as error:
        for finding in error.findings:
            err.print(str(finding), markup=False)
        raise typer.Exit(code) from None


def usage(message: str) -> NoReturn:
    """Print ``error: MESSAGE`` on standard error and exit 2."""
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(2)


def write(text: str, output: Path | None) -> None:
    """Write ``text`` (UTF-8) to ``output``, or to standard output when None."""
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
        usage(f"{output}: cannot write ({output.parent} is not a directory)")
    except OSError as error:
        usage(f"{output}: cannot write ({error.strerror})")
    err.print(f"wrote {output}", markup=False)


def summary(path: Path, counts: Counter[Severity]) -> str:
    """The closing line of a check: errors and warnings counted, in colour."""
    errors, warnings = counts[Severity.ERROR], counts[Severity.WARNING]
    name = escape(str(path))  # a file name such as "[draft].yaml" is not markup
    if not errors and not warnings:
        return f"[green]{name}: no problems found[/green]"
    colour = "red" if errors else "yellow"
    return f"[{colour}]{name}: {plural(errors, 'error')}, {plural(warnings, 'warning')}[/{colour}]"


def plural(count: int, word: str) -> str:
    """``1 table``, ``2 tables``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def findings_summary(findings: list[Finding]) -> str:
    """A one-line count of findings by code, most frequent first: ``G303×4, P102×3``."""
    counts = Counter(finding.code for finding in findings)
    return ", ".join(f"{code}×{count}" for code, count in counts.most_common())


def existing_store() -> Store:
    """Pledge's database as it is, never created or upgraded (for verify and checkpoint).

    Usage errors (exit 2): no such SQLite file, no Pledge schema, the database unreachable.
    """
    from pledge.errors import StoreUnavailable
    from pledge.store.database import Database as Store

    database = Store(store_url())
    try:
        ready = database.has_schema()
    except StoreUnavailable as error:
        database.dispose()
        usage(str(error))
    if not ready:
        database.dispose()
        shown = database.url.render_as_string(hide_password=True)
        usage(f"{shown} has no Pledge schema: run 'pledge db upgrade' first")
    return database


def store_url() -> str:
    """``PLEDGE_DATABASE_URL``; a usage error when it names a SQLite file that is not there."""
    from sqlalchemy.engine import make_url

    url = make_url(Settings.from_env().database_url)
    path = url.database
    sqlite_file = url.get_backend_name() == "sqlite" and path and path != ":memory:"
    if sqlite_file and not Path(str(path)).exists():
        shown = url.render_as_string(hide_password=True)
        usage(f"no Pledge database at {shown}: set PLEDGE_DATABASE_URL")
    return url.render_as_string(hide_password=False)
