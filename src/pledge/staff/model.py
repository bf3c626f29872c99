"""Staff of the admin console as plain data: roles, what each may do, the rules for passwords.

Nothing here does I/O; :mod:`pledge.staff.service` stores and audits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from pledge.errors import UsageError


class Permission(StrEnum):
    """Something a staff member may do in the admin console."""

    VIEW = "view"  # the queue, request details, dashboards, the data map, the declaration
    READ_AUDIT = "read_audit"  # the audit trail and its verification
    READ_OUTBOX = "read_outbox"  # the e-mails Pledge would have sent
    HANDLE_REQUESTS = "handle_requests"  # verify a person's code, resend a code
    DECIDE_REQUESTS = "decide_requests"  # approve, deny, extend
    MANAGE_STAFF = "manage_staff"  # create and disable staff accounts


class Role(StrEnum):
    """A staff member's role; each grants a fixed set of permissions."""

    ADMIN = "admin"
    PRIVACY_OFFICER = "privacy_officer"
    SUPPORT = "support"
    VIEWER = "viewer"

    @property
    def permissions(self) -> frozenset[Permission]:
        """What this role may do."""
        return ROLE_PERMISSIONS[self]

    def allows(self, permission: Permission) -> bool:
        """Whether this role may do ``permission``."""
        return permission in ROLE_PERMISSIONS[self]


ROLE_PERMISSIONS: Final[dict[Role, frozenset[Permission]]] = {
    Role.ADMIN: frozenset(Permission),
    Role.PRIVACY_OFFICER: frozenset(Permission) - {Permission.MANAGE_STAFF},
    Role.SUPPORT: frozenset({Permission.VIEW, Permission.READ_OUTBOX, Permission.HANDLE_REQUESTS}),
    Role.VIEWER: frozenset({Permission.VIEW}),
}

MIN_PASSWORD_LENGTH: Final = 12
MAX_PASSWORD_LENGTH: Final = 1024  # hashing a megabyte on every sign-in attempt is a DoS
MAX_FAILED_ATTEMPTS: Final = 5
LOCKOUT: Final = dt.timedelta(minutes=15)


def parse_role(text: str) -> Role:
    """The role named ``text``.

    Raises:
        UsageError: not a role.
    """
    try:
        return Role(text.strip().lower().replace("-", "_").replace(" ", "_"))
    except ValueError:
        choices = ", ".join(role.value for role in Role)
        raise UsageError(f"unknown role {text!r}; use one of {choices}") from None


def check_password(password: str) -> None:
    """Refuse a password too short or too long to be a staff password.

    Raises:
        UsageError: with what is wrong.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsageError(f"a staff password has at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UsageError(f"a staff password has at most {MAX_PASSWORD_LENGTH} characters")
    if password.strip() != password or not password.strip():
        raise UsageError("a staff password neither starts nor ends with a space")


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A staff account, without its password hash.

    Args:
        id: the account's id (a ULID).
        email: where the staff member signs in with (lowercased).
        name: how they appear in the audit trail (``staff:<name>``).
        role: what they may do.
        created_at: when the account was made.
        last_sign_in_at: the last successful sign-in.
        locked_until: sign-in is refused until then after too many wrong passwords.
        disabled_at: when the account was disabled (it can no longer sign in).
    """

    id: str
    email: str
    name: str
    role: Role
    created_at: dt.datetime
    last_sign_in_at: dt.datetime | None
    locked_until: dt.datetime | None
    disabled_at: dt.datetime | None

    @property
    def actor(self) -> str:
        """How the staff member's actions appear in the audit trail."""
        return f"staff:{self.name}"

    @property
    def active(self) -> bool:
        """Whether the account may sign in at all."""
        return self.disabled_at is None

    def may(self, permission: Permission) -> bool:
        """Whether the staff member's role allows ``permission``."""
        return self.role.allows(permission)


__all__ = [
    "LOCKOUT",
    "MAX_FAILED_ATTEMPTS",
    "MIN_PASSWORD_LENGTH",
    "Permission",
    "Role",
    "StaffMember",
    "check_password",
    "parse_role",
]
