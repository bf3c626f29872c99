"""``pledge admin …``: staff accounts of the admin console."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from pledge.cli.common import CheckFormat, app, err, open_store, server_errors, usage
from pledge.config import Settings

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
        database = open_store(Settings.from_env().database_url)
        try:
            member = StaffAccounts(database).create(email, name, role, password, actor="cli")
        finally:
            database.dispose()
    except server_errors() as error:
        usage(str(error))
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
        database = open_store(Settings.from_env().database_url)
        try:
            members = StaffAccounts(database).list()
        finally:
            database.dispose()
    except server_errors() as error:
        usage(str(error))
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
        database = open_store(Settings.from_env().database_url)
        try:
            member = StaffAccounts(database).disable(staff_id, actor="cli")
        finally:
            database.dispose()
    except server_errors() as error:
        usage(str(error))
    err.print(f"disabled staff account {member.id} ({member.email})", markup=False)
