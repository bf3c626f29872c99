"""Staff accounts (argon2id passwords, roles, lockout) and the web sessions of staff and people.

Every change to an account, every sign-in, failed sign-in and sign-out is an audit event, in
the same transaction as the change. A session is a random token in the browser's cookie; the
store keeps only its SHA-256, so the table alone opens no session.

A refused sign-in does not tell whether the address belongs to an account: an unknown
address, a wrong password and a locked account get the same message, and each checks one
password against an argon2 hash of the same cost (a decoy's, for an address no account has),
so that neither the answer nor its time gives the account away. Only the right password of a
disabled account says that it is disabled.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import ARGON2_VERSION
from sqlalchemy import Connection, RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError

from pledge.clock import Clock, utc_now
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditEntry
from pledge.errors import AuthError, NotFound, UsageError
from pledge.ids import new_id
from pledge.staff.model import (
    LOCKOUT,
    MAX_FAILED_ATTEMPTS,
    MAX_PASSWORD_LENGTH,
    Role,
    StaffMember,
    check_password,
    parse_role,
)
from pledge.store.database import Database
from pledge.store.tables import staff_members, subjects, web_sessions
from pledge.subjects.model import InvalidIdentity, normalise_email

WRONG_CREDENTIALS = (
    f"wrong e-mail address or password (after {MAX_FAILED_ATTEMPTS} wrong passwords in a row,"
    f" an account is locked for {int(LOCKOUT.total_seconds() // 60)} minutes)"
)
"""The one answer to every refused sign-in but a disabled account's right password."""
_NAME_LIMIT = 94  # an actor is "staff:" + name, at most 100 characters


class SignInRefused(AuthError):
    """A sign-in that did not succeed: wrong credentials, a locked or disabled account."""


class StaffAccounts:
    """Creates, authenticates, lists and disables staff accounts.

    Args:
        database: Pledge's store.
        clock: the time source.
        hasher: the argon2 hasher (tests pass cheaper parameters).
    """

    def __init__(
        self, database: Database, *, clock: Clock = utc_now, hasher: PasswordHasher | None = None
    ) -> None:
        self.database = database
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        self.decoy = decoy_hash(self.hasher)
        """What a sign-in with an address no account has checks its password against."""

    def create(
        self, email: str, name: str, role: Role | str, password: str, *, actor: str
    ) -> StaffMember:
        """Create an account.

        Raises:
            UsageError: a malformed address, name, role or password, or the address is taken.
        """
        address = _address(email)
        clean_name = " ".join(name.split())
        if not clean_name or len(clean_name) > _NAME_LIMIT:
            raise UsageError(f"a staff member's name has 1 to {_NAME_LIMIT} characters")
        kind = role if isinstance(role, Role) else parse_role(role)
        check_password(password)
        now = self.clock()
        staff_id = new_id()
        try:
            with self.database.transaction() as connection:
                connection.execute(
                    insert(staff_members).values(
                        id=staff_id,
                        email=address,
                        name=clean_name,
                        role=str(kind),
                        password_hash=self.hasher.hash(password),
                        failed_attempts=0,
                        created_at=now,
                        password_changed_at=now,
                    )
                )
                _audit(
                    connection,
                    "staff.created",
                    actor,
                    {"staff_id": staff_id, "role": str(kind)},
                    self.clock,
                )
        except IntegrityError:
            raise UsageError(f"a staff account with the address {address} exists") from None
        return self.get(staff_id)

    def authenticate(self, email: str, password: str) -> StaffMember:
        """The account whose address and password these are; a failure is counted and audited.

        After :data:`MAX_FAILED_ATTEMPTS` wrong passwords in a row the account is locked for
        :data:`LOCKOUT`, even for the right password. Every refusal checks one password
        against a hash of the hasher's cost, whether or not the address has an account.

        Raises:
            SignInRefused: :data:`WRONG_CREDENTIALS` for an unknown address, a wrong password
                and a locked account alike; the right password of a disabled account says so.
        """
        try:
            address = normalise_email(email)
        except InvalidIdentity:
            address = ""
        now = self.clock()
        with self.database.transaction() as connection:
            row = (
                connection.execute(
                    select(staff_members).where(staff_members.c.email == address).with_for_update()
                )
                .mappings()
                .one_or_none()
            )
            if row is None or len(password) > MAX_PASSWORD_LENGTH:
                _verify(self.hasher, self.decoy, password[:MAX_PASSWORD_LENGTH])
                _audit(
                    connection,
                    "staff.sign_in_failed",
                    "staff:unknown",
                    {"known": False},
                    self.clock,
                )
                refused = WRONG_CREDENTIALS
            elif row["locked_until"] is not None and row["locked_until"] > now:
                # Checked all the same, and ignored: a locked account takes as long to refuse
                # as any other sign-in, and answers like one.
                _verify(self.hasher, row["password_hash"], password)
                _audit(
                    connection,
                    "staff.sign_in_locked",
                    _actor(row),
                    {"staff_id": row["id"]},
                    self.clock,
                )
                refused = WRONG_CREDENTIALS
            elif not _verify(self.hasher, row["password_hash"], password):
                attempts = row["failed_attempts"] + 1
                values: dict[str, Any] = {"failed_attempts": attempts}
                if attempts >= MAX_FAILED_ATTEMPTS:
                    values = {"failed_attempts": 0, "locked_until": now + LOCKOUT}
                connection.execute(
                    update(staff_members).where(staff_members.c.id == row["id"]).values(**values)
                )
                details = {"staff_id": row["id"], "attempts": attempts}
                _audit(connection, "staff.sign_in_failed", _actor(row), details, self.clock)
                if "locked_until" in values:
                    _audit(
                        connection, "staff.locked", _actor(row), {"staff_id": row["id"]}, self.clock
                    )
                refused = WRONG_CREDENTIALS
            elif row["disabled_at"] is not None:
                _audit(
                    connection,
                    "staff.sign_in_disabled",
                    _actor(row),
                    {"staff_id": row["id"]},
                    self.clock,
                )
                refused = "this staff account is disabled"
            else:
                values = {"failed_attempts": 0, "locked_until": None, "last_sign_in_at": now}
                if self.hasher.check_needs_rehash(row["password_hash"]):
                    values["password_hash"] = self.hasher.hash(password)
                connection.execute(
                    update(staff_members).where(staff_members.c.id == row["id"]).values(**values)
                )
                _audit(
                    connection, "staff.signed_in", _actor(row), {"staff_id": row["id"]}, self.clock
                )
                return _member({**row, **values})
        raise SignInRefused(refused)

    def get(self, staff_id: str) -> StaffMember:
        """An account by id.

        Raises:
            NotFound: no such account.
        """
        with self.database.read() as connection:
            row = (
                connection.execute(select(staff_members).where(staff_members.c.id == staff_id))
                .mappings()
                .one_or_none()
            )
        if row is None:
            raise NotFound(f"no staff account {staff_id}")
        return _member(row)

    def list(self) -> list[StaffMember]:
        """Every account, disabled ones included, by name."""
        with self.database.read() as connection:
            rows = connection.execute(
                select(staff_members).order_by(staff_members.c.name, staff_members.c.id)
            ).mappings()
            return [_member(row) for row in rows]

    def count(self) -> int:
        """How many accounts exist (disabled ones included)."""
        return len(self.list())

    def disable(self, staff_id: str, *, actor: str) -> StaffMember:
        """Disable an account: it can no longer sign in, and its sessions end.

        Raises:
            NotFound: no such account.
        """
        now = self.clock()
        with self.database.transaction() as connection:
            changed = connection.execute(
                update(staff_members)
                .where(staff_members.c.id == staff_id, staff_members.c.disabled_at.is_(None))
                .values(disabled_at=now)
            ).rowcount
            if changed:
                connection.execute(
                    update(web_sessions)
                    .where(web_sessions.c.staff_id == staff_id, web_sessions.c.ended_at.is_(None))
                    .values(ended_at=now)
                )
                _audit(connection, "staff.disabled", actor, {"staff_id": staff_id}, self.clock)
        return self.get(staff_id)


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser.

    Args:
        token: the cookie's value (never stored).
        kind: ``staff`` or ``person``.
        staff: the staff member, for a staff session.
        subject_id: the person, for a person's session.
        expires_at: when it ends at the latest.
    """

    token: str
    kind: str
    staff: StaffMember | None
    subject_id: str | None
    expires_at: dt.datetime


class Sessions:
    """Opens, checks and ends web sessions.

    Args:
        database: Pledge's store.
        clock: the time source.
    """

    TOUCH_EVERY = dt.timedelta(seconds=60)
    """How stale ``last_seen_at`` may get before a request writes it again."""

    def __init__(self, database: Database, *, clock: Clock = utc_now) -> None:
        self.database = database
        self.clock = clock

    def open_staff(self, staff: StaffMember, *, lifetime: dt.timedelta) -> Session:
        """A new session of a staff member, ending after ``lifetime`` at the latest."""
        return self._open("staff", lifetime, staff=staff)

    def open_person(self, subject_id: str, *, lifetime: dt.timedelta) -> Session:
        """A new session of a person signed in to the privacy center."""
        return self._open("person", lifetime, subject_id=subject_id)

    def _open(
        self,
        kind: str,
        lifetime: dt.timedelta,
        *,
        staff: StaffMember | None = None,
        subject_id: str | None = None,
    ) -> Session:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self.database.transaction() as connection:
            connection.execute(
                insert(web_sessions).values(
                    token_hash=token_hash(token),
                    kind=kind,
                    staff_id=staff.id if staff else None,
                    subject_id=subject_id,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + lifetime,
                )
            )
        return Session(token, kind, staff, subject_id, now + lifetime)

    def check(self, token: str, kind: str, *, idle: dt.timedelta | None = None) -> Session | None:
        """The live session of ``token``, or None: unknown, ended, expired, idle too long, of a
        disabled staff member, or of a person since erased. A live session's ``last_seen_at``
        moves on."""
        if not token or len(token) > 100:
            return None
        now = self.clock()
        with self.database.read() as connection:
            row = (
                connection.execute(
                    select(web_sessions).where(web_sessions.c.token_hash == token_hash(token))
                )
                .mappings()
                .one_or_none()
            )
            staff_row = None
            if row is not None and row["staff_id"] is not None:
                staff_row = (
                    connection.execute(
                        select(staff_members).where(staff_members.c.id == row["staff_id"])
                    )
                    .mappings()
                    .one_or_none()
                )
            erased = (
                row is not None
                and row["subject_id"] is not None
                and (
                    connection.execute(
                        select(subjects.c.erased_at).where(subjects.c.id == row["subject_id"])
                    ).scalar()
                    is not None
                )
            )
        if row is None or row["kind"] != kind or row["ended_at"] is not None or erased:
            return None
        if now >= row["expires_at"] or (idle is not None and now - row["last_seen_at"] >= idle):
            return None
        staff = _member(staff_row) if staff_row is not None else None
        if kind == "staff" and (staff is None or not staff.active):
            return None
        if now - row["last_seen_at"] >= self.TOUCH_EVERY:
            with self.database.transaction() as connection:
                connection.execute(
                    update(web_sessions)
                    .where(web_sessions.c.token_hash == row["token_hash"])
                    .values(last_seen_at=now)
                )
        return Session(token, kind, staff, row["subject_id"], row["expires_at"])

    def end(self, token: str, *, actor: str | None = None) -> None:
        """End a session (signing out); unknown tokens are ignored."""
        now = self.clock()
        with self.database.transaction() as connection:
            ended = connection.execute(
                update(web_sessions)
                .where(
                    web_sessions.c.token_hash == token_hash(token),
                    web_sessions.c.ended_at.is_(None),
                )
                .values(ended_at=now)
            ).rowcount
            if ended and actor is not None:
                _audit(connection, "staff.signed_out", actor, {}, self.clock)


def decoy_hash(hasher: PasswordHasher) -> str:
    """An argon2 hash in ``hasher``'s parameters that no password matches.

    Its salt and digest are random bytes: making it costs nothing, and checking a password
    against it costs as much as against a real hash made by ``hasher``.

    Args:
        hasher: the hasher whose cost the decoy has.

    Returns:
        The encoded hash.
    """

    def encoded(size: int) -> str:
        return base64.b64encode(secrets.token_bytes(size)).decode().rstrip("=")

    return (
        f"$argon2{hasher.type.name.lower()}$v={ARGON2_VERSION}"
        f"$m={hasher.memory_cost},t={hasher.time_cost},p={hasher.parallelism}"
        f"${encoded(hasher.salt_len)}${encoded(hasher.hash_len)}"
    )


def token_hash(token: str) -> str:
    """What the store keeps of a session token: its SHA-256 in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def _address(email: str) -> str:
    try:
        return normalise_email(email)
    except InvalidIdentity as error:
        raise UsageError(str(error)) from None


def _verify(hasher: PasswordHasher, hashed: str, password: str) -> bool:
    try:
        return hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _actor(row: RowMapping | dict[str, Any]) -> str:
    return f"staff:{row['name']}"


def _audit(
    connection: Connection,
    action: str,
    actor: str,
    details: dict[str, Any],
    clock: Clock = utc_now,
) -> None:
    audit.record(connection, AuditEntry(action, actor[:100], details=details), clock=clock)


def _member(row: RowMapping | dict[str, Any]) -> StaffMember:
    return StaffMember(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        role=Role(row["role"]),
        created_at=row["created_at"],
        last_sign_in_at=row["last_sign_in_at"],
        locked_until=row["locked_until"],
        disabled_at=row["disabled_at"],
    )


__all__ = [
    "WRONG_CREDENTIALS",
    "Session",
    "Sessions",
    "SignInRefused",
    "StaffAccounts",
    "decoy_hash",
    "token_hash",
]
