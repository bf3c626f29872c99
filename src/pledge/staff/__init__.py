"""Staff of the admin console (accounts, roles, sessions) and people signing in to the privacy
center (codes by e-mail)."""

from __future__ import annotations

from pledge.staff.model import Permission, Role, StaffMember
from pledge.staff.service import Session, Sessions, SignInRefused, StaffAccounts

__all__ = [
    "Permission",
    "Role",
    "Session",
    "Sessions",
    "SignInRefused",
    "StaffAccounts",
    "StaffMember",
]
