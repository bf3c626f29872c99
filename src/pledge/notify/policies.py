"""The policy versions a Pledge has served, so that people see past versions and what changed.

Each declaration a server starts with is recorded once, by its digest, with the moment it was
first served; the store keeps the declaration itself (as JSON, no personal data), so any past
version can be rendered again and compared with the next.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from pledge.clock import Clock, utc_now
from pledge.declaration import Declaration, loads
from pledge.declaration.diff import Change, diff
from pledge.errors import NotFound
from pledge.store.database import Database
from pledge.store.tables import policy_versions


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """One served version of the policy.

    Args:
        digest: the declaration's digest (identifies the version exactly).
        version: the version the declaration states.
        effective_date: when it took (or takes) effect, as the declaration says.
        first_served_at: when this Pledge first served it.
    """

    digest: str
    version: str
    effective_date: str | None
    first_served_at: dt.datetime


class PolicyVersions:
    """Records and reads the served versions.

    Args:
        database: Pledge's store.
        clock: the time source.
    """

    def __init__(self, database: Database, *, clock: Clock = utc_now) -> None:
        self.database = database
        self.clock = clock

    def record(self, declaration: Declaration) -> bool:
        """Record ``declaration`` as served, once; True when it was new."""
        with self.database.read() as connection:
            known = connection.execute(
                select(policy_versions.c.digest).where(
                    policy_versions.c.digest == declaration.digest
                )
            ).first()
        if known is not None:
            return False
        try:
            with self.database.transaction() as connection:
                connection.execute(
                    insert(policy_versions).values(
                        digest=declaration.digest,
                        version=declaration.policy.version,
                        effective_date=declaration.policy.effective_date.isoformat(),
                        first_served_at=self.clock(),
                        declaration=json.dumps(
                            declaration.model_dump(mode="json", exclude_none=True),
                            sort_keys=True,
                        ),
                    )
                )
        except IntegrityError:  # another process recorded it first
            return False
        return True

    def list(self) -> list[PolicyVersion]:
        """Every served version, the newest first."""
        with self.database.read() as connection:
            rows = connection.execute(
                select(
                    policy_versions.c.digest,
                    policy_versions.c.version,
                    policy_versions.c.effective_date,
                    policy_versions.c.first_served_at,
                ).order_by(policy_versions.c.first_served_at.desc())
            ).all()
        return [PolicyVersion(row[0], row[1], row[2], row[3]) for row in rows]

    def declaration(self, digest: str) -> Declaration:
        """The declaration of a served version.

        Raises:
            NotFound: no such version.
        """
        with self.database.read() as connection:
            text = connection.execute(
                select(policy_versions.c.declaration).where(policy_versions.c.digest == digest)
            ).scalar_one_or_none()
        if text is None:
            raise NotFound(f"no policy version {digest}")
        return loads(text, f"policy version {digest[:12]}")

    def changes(self, digest: str) -> tuple[PolicyVersion | None, builtins.list[Change]]:
        """What changed from the version served before ``digest`` to it.

        Returns:
            The previous version (None for the first) and the changes.

        Raises:
            NotFound: no such version.
        """
        versions = self.list()
        for position, version in enumerate(versions):
            if version.digest == digest:
                if position + 1 == len(versions):
                    return None, []
                previous = versions[position + 1]
                return previous, diff(self.declaration(previous.digest), self.declaration(digest))
        raise NotFound(f"no policy version {digest}")


__all__ = ["PolicyVersion", "PolicyVersions"]
