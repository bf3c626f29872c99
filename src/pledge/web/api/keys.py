"""API keys: how the company's servers authenticate to the JSON API.

A key is shown once, when it is created: ``pk_<prefix>_<random>``. Pledge keeps only the
prefix (to find the key) and the SHA-256 of the whole secret (to check it), so a copy of the
database gives nobody a usable key. Checking compares digests in constant time, and a missing
key costs the same comparison as a wrong one.

Scopes say what a key may do; ``admin`` implies every other scope. Creating and revoking a key
are written to the audit trail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import RowMapping, insert, select, update

from pledge.clock import Clock, utc_now
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditEntry
from pledge.errors import AuthError, NotFound, UsageError
from pledge.ids import new_id
from pledge.store.database import Database
from pledge.store.tables import api_keys

SECRET_PREFIX = "pk"
_PREFIX_BYTES = 6  # 12 hex characters: enough to find a key, too few to guess one
_RANDOM_BYTES = 32
# Compared against when no key has the prefix, so that "no such key" takes as long as "wrong".
_DUMMY_HASH = hashlib.sha256(b"pledge: no such key").hexdigest()


class Scope(StrEnum):
    """What an API key may do."""

    CONSENT_WRITE = "consent:write"
    CONSENT_READ = "consent:read"
    SUBJECTS_WRITE = "subjects:write"
    SUBJECTS_READ = "subjects:read"
    DECISIONS = "decisions"
    AUDIT_READ = "audit:read"
    REQUESTS_WRITE = "requests:write"
    REQUESTS_READ = "requests:read"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as Pledge knows it: never its secret."""

    id: str
    name: str
    prefix: str
    scopes: frozenset[Scope]
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @property
    def revoked(self) -> bool:
        """Whether the key was revoked."""
        return self.revoked_at is not None

    @property
    def actor(self) -> str:
        """How the audit trail names what this key does."""
        return f"apikey:{self.id}"

    def allows(self, scope: Scope) -> bool:
        """Whether the key has ``scope`` (``admin`` has every scope)."""
        return Scope.ADMIN in self.scopes or scope in self.scopes


def parse_scopes(names: Iterable[str]) -> frozenset[Scope]:
    """Scopes from their names.

    Raises:
        UsageError: an unknown scope, or none at all.
    """
    scopes: set[Scope] = set()
    for name in names:
        try:
            scopes.add(Scope(name.strip()))
        except ValueError:
            choices = ", ".join(scope.value for scope in Scope)
            raise UsageError(f"unknown scope {name!r}; use one of {choices}") from None
    if not scopes:
        raise UsageError("a key needs at least one scope")
    return frozenset(scopes)


def create(
    database: Database,
    name: str,
    scopes: Iterable[str],
    *,
    actor: str = "cli",
    clock: Clock = utc_now,
) -> tuple[str, str]:
    """Create a key.

    Args:
        database: Pledge's store.
        name: what the key is for, for people (``billing-service``).
        scopes: scope names, see :class:`Scope`.
        actor: who creates it, for the audit trail.
        clock: the time source.

    Returns:
        ``(key_id, secret)``: the secret is not stored and cannot be shown again.

    Raises:
        UsageError: an empty or overlong name, or an unknown scope.
    """
    name = name.strip()
    if not name or len(name) > 100:
        raise UsageError("a key's name is 1 to 100 characters")
    granted = parse_scopes(scopes)
    key_id = new_id()
    prefix = secrets.token_hex(_PREFIX_BYTES)
    secret = f"{SECRET_PREFIX}_{prefix}_{secrets.token_urlsafe(_RANDOM_BYTES)}"
    names = sorted(scope.value for scope in granted)
    with database.transaction() as connection:
        connection.execute(
            insert(api_keys).values(
                id=key_id,
                name=name,
                prefix=prefix,
                secret_hash=_digest(secret),
                scopes=" ".join(names),
                created_at=clock(),
            )
        )
        audit.record(
            connection,
            AuditEntry(
                "apikey.created",
                actor,
                details={"key_id": key_id, "name": name, "scopes": names},
            ),
            clock=clock,
        )
    return key_id, secret


def authenticate(database: Database, secret: str) -> ApiKey:
    """The key a secret belongs to.

    Raises:
        AuthError: not a key, an unknown or wrong key, or a revoked one.
        StoreUnavailable: the database cannot be reached.
    """
    prefix = _prefix_of(secret)
    row = None
    if prefix is not None:
        with database.read() as connection:
            row = (
                connection.execute(select(api_keys).where(api_keys.c.prefix == prefix))
                .mappings()
                .one_or_none()
            )
    expected = row["secret_hash"] if row is not None else _DUMMY_HASH
    matches = hmac.compare_digest(_digest(secret), expected)
    if row is None or not matches:
        raise AuthError("the API key is not valid")
    key = _key(row)
    if key.revoked:
        raise AuthError("the API key was revoked")
    return key


def revoke(
    database: Database, key_id: str, *, actor: str = "cli", clock: Clock = utc_now
) -> ApiKey:
    """Revoke a key: from now on it authenticates nothing. Revoking twice changes nothing.

    Raises:
        NotFound: no key with this id.
    """
    with database.transaction() as connection:
        row = (
            connection.execute(select(api_keys).where(api_keys.c.id == key_id))
            .mappings()
            .one_or_none()
        )
        if row is None:
            raise NotFound(f"no API key {key_id}")
        if row["revoked_at"] is not None:
            return _key(row)
        now = clock()
        connection.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=now))
        audit.record(
            connection,
            AuditEntry("apikey.revoked", actor, details={"key_id": key_id, "name": row["name"]}),
            clock=clock,
        )
        return _key({**row, "revoked_at": now})


def list_keys(database: Database) -> list[ApiKey]:
    """Every key, oldest first, revoked ones included."""
    with database.read() as connection:
        rows = connection.execute(select(api_keys).order_by(api_keys.c.id)).mappings().all()
    return [_key(row) for row in rows]


def _prefix_of(secret: str) -> str | None:
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != SECRET_PREFIX or len(parts[1]) != 2 * _PREFIX_BYTES:
        return None
    return parts[1]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _key(row: RowMapping | dict[str, object]) -> ApiKey:
    scopes = frozenset(Scope(name) for name in str(row["scopes"]).split())
    created_at = row["created_at"]
    revoked_at = row["revoked_at"]
    assert isinstance(created_at, dt.datetime)
    assert revoked_at is None or isinstance(revoked_at, dt.datetime)
    return ApiKey(
        id=str(row["id"]),
        name=str(row["name"]),
        prefix=str(row["prefix"]),
        scopes=scopes,
        created_at=created_at,
        revoked_at=revoked_at,
    )


__all__ = ["ApiKey", "Scope", "authenticate", "create", "list_keys", "parse_scopes", "revoke"]
