"""API keys: how the company's servers authenticate to the JSON API.

A key is shown once, when it is created: ``pk_<prefix>_<random>``. Pledge keeps only the
prefix (to find the key) and the SHA-256 of the whole secret (to check it), so a copy of the
database gives nobody a usable key. Checking compares digests in constant time, and a missing
key costs the same comparison as a wrong one.

Scopes say what a key may do; ``admin`` implies every other scope. Creating and revoking a key
are written to the audit trail.

Checking a key reads the database; a server answering thousands of requests a second keeps
the keys it has checked in a :class:`KeyCache`, so that a request normally touches no database
to authenticate. A cache finds a key by the digest of its whole secret, so a wrong secret
never matches a cached key, whatever prefix it shares with one. Revoking a key takes effect
at once in the process that revokes it (every cache on the same :class:`Database` forgets the
key), and in every other (another worker, another machine, after ``pledge apikey revoke``) as
soon as its feed of changes tells it (``pledge.store.changes``); at the latest within
``cache_seconds``, when a cache asks the database, in one query for all the keys it holds,
which of them are still valid.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import RowMapping, insert, select, update

from pledge.clock import Clock, utc_now
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditEntry
from pledge.errors import AuthError, NotFound, UsageError
from pledge.ids import new_id
from pledge.store.changes import API_KEY, announce
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
        announce(connection, None, API_KEY, [key_id], clock=clock)  # the other processes
        audit.record(
            connection,
            AuditEntry("apikey.revoked", actor, details={"key_id": key_id, "name": row["name"]}),
            clock=clock,
        )
        revoked = _key({**row, "revoked_at": now})
    for cache in list(_caches):
        if cache.database is database:
            cache.forget(key_id)
    return revoked


class KeyCache:
    """The keys this process has authenticated, so that a request normally reads no database.

    :meth:`cached` answers from memory only, without I/O (for the event loop);
    :meth:`authenticate` may read the database (call it in a thread). A key revoked with
    :func:`revoke` on the same ``database`` object is forgotten at once; a key revoked
    anywhere else stops authenticating within ``cache_seconds``, when the cache next asks the
    database which of its keys are still valid (one query for all of them).

    Args:
        database: Pledge's store.
        cache_seconds: how long a revocation by another process may go unnoticed; 0 reads
            the database for every request.
        clock: the time source.
        max_keys: how many keys to keep; the oldest are forgotten first.
    """

    def __init__(
        self,
        database: Database,
        cache_seconds: float,
        *,
        clock: Clock = utc_now,
        max_keys: int = 500,
    ) -> None:
        self.database = database
        self.clock = clock
        self.max_keys = max_keys
        self._ttl = dt.timedelta(seconds=max(cache_seconds, 0.0))
        self._keys: dict[str, ApiKey] = {}  # the digest of a secret → its key
        self._checked_at: dt.datetime | None = None  # when the keys were last known valid
        self._revocations = 0  # keys forgotten so far: a read older than one is not kept
        self._lock = threading.Lock()
        if cache_seconds > 0:
            _caches.add(self)

    def cached(self, secret: str) -> ApiKey | None:
        """The key of ``secret`` if it was authenticated and checked within the interval.

        Returns:
            The key, or None when only :meth:`authenticate` can tell (not cached, not checked
            recently, or the cache is off).
        """
        if not self._keys or not self._fresh(self.clock()):
            return None
        return self._keys.get(_digest(secret))

    def authenticate(self, secret: str) -> ApiKey:
        """The key a secret belongs to, from the cache when it is fresh, else the database.

        Raises:
            AuthError: not a key, an unknown or wrong key, or a revoked one.
            StoreUnavailable: the database cannot be reached.
        """
        if not self._ttl:
            return authenticate(self.database, secret)
        now = self.clock()
        if self._keys and not self._fresh(now):
            self._revalidate(now)
        digest = _digest(secret)
        key = self._keys.get(digest)
        if key is not None:
            return key
        revocations = self._revocations
        key = authenticate(self.database, secret)
        with self._lock:
            if revocations != self._revocations:  # revoked here meanwhile, perhaps this key
                return key
            if self._checked_at is None or not self._keys:
                self._checked_at = now
            while len(self._keys) >= self.max_keys:
                del self._keys[next(iter(self._keys))]
            self._keys[digest] = key
        return key

    def forget(self, key_id: str) -> None:
        """Stop answering for the key ``key_id`` (it was revoked)."""
        with self._lock:
            self._keys = {digest: key for digest, key in self._keys.items() if key.id != key_id}
            self._revocations += 1

    def _fresh(self, now: dt.datetime) -> bool:
        checked = self._checked_at
        return checked is not None and checked <= now < checked + self._ttl

    def _revalidate(self, now: dt.datetime) -> None:
        """Keep the keys that are still valid: one query for all of them."""
        ids = {key.id for key in self._keys.values()}
        with self.database.read() as connection:
            valid = set(
                connection.execute(
                    select(api_keys.c.id).where(
                        api_keys.c.id.in_(ids), api_keys.c.revoked_at.is_(None)
                    )
                ).scalars()
            )
        with self._lock:
            self._keys = {digest: key for digest, key in self._keys.items() if key.id in valid}
            self._checked_at = now


_caches: weakref.WeakSet[KeyCache] = weakref.WeakSet()
"""Every cache of this process, for :func:`revoke` to tell at once."""


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


__all__ = [
    "ApiKey",
    "KeyCache",
    "Scope",
    "authenticate",
    "create",
    "list_keys",
    "parse_scopes",
    "revoke",
]
