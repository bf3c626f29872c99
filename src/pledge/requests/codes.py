"""One-time codes that confirm a subject request: issued, stored hashed, expiring, counted.

A code is six digits sent to the person's e-mail address. Only its keyed hash is stored (with a
salt of its own), it lives :data:`CODE_LIFETIME`, and :data:`MAX_ATTEMPTS` wrong entries end it:
the person asks for a new one.
"""

from __future__ import annotations

import datetime as dt
import hmac
import os
import secrets

from sqlalchemy import Connection, RowMapping, update

from pledge.errors import RequestError
from pledge.store.tables import subject_requests as requests_table
from pledge.subjects.crypto import Keyring

CODE_DIGITS = 6
CODE_LIFETIME = dt.timedelta(minutes=15)
MAX_ATTEMPTS = 5


class VerificationCodes:
    """Issues and checks the codes of requests, on the request's row in Pledge's store.

    Args:
        keyring: keys the code hashes (a copy of the database alone cannot test codes).
    """

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def issue(self, connection: Connection, request_id: str, now: dt.datetime) -> str:
        """A new code for the request, in the caller's transaction; the old one stops working
        and the attempts start again. Returns the code (to send, never to store)."""
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        salt = os.urandom(16)
        connection.execute(
            update(requests_table)
            .where(requests_table.c.id == request_id)
            .values(
                code_salt=salt,
                code_hash=self._hash(salt, code),
                code_expires_at=now + CODE_LIFETIME,
                code_attempts=0,
                updated_at=now,
            )
        )
        return code

    def check(self, row: RowMapping, code: str, now: dt.datetime) -> bool:
        """Whether ``code`` is the pending code of the request ``row`` (spaces ignored).

        Raises:
            RequestError: no code is pending, too many wrong codes, or the code expired.
        """
        if row["code_hash"] is None:
            raise RequestError("no code is pending for this request; ask for a new one")
        if row["code_attempts"] >= MAX_ATTEMPTS:
            raise RequestError("too many wrong codes; ask for a new one")
        if now >= row["code_expires_at"]:
            raise RequestError("the code has expired; ask for a new one")
        given = "".join(str(code).split())
        return hmac.compare_digest(self._hash(row["code_salt"], given), row["code_hash"])

    def count_wrong(self, connection: Connection, row: RowMapping, now: dt.datetime) -> int:
        """Count a wrong code against the request ``row``; how many attempts are left."""
        attempts = int(row["code_attempts"]) + 1
        connection.execute(
            update(requests_table)
            .where(requests_table.c.id == row["id"])
            .values(code_attempts=attempts, updated_at=now)
        )
        return MAX_ATTEMPTS - attempts

    def _hash(self, salt: bytes, code: str) -> bytes:
        # Keyed as well as salted: a copy of the database alone does not let anyone try the
        # million codes offline.
        return self.keyring.blind_index("request-code", f"{salt.hex()}:{code}")


def wrong_code_message(left: int) -> str:
    """What the person is told after a wrong code, with the attempts left."""
    if not left:
        return "wrong code; no attempts left, ask for a new one"
    return f"wrong code; {left} attempt{'s' if left != 1 else ''} left"


__all__ = [
    "CODE_DIGITS",
    "CODE_LIFETIME",
    "MAX_ATTEMPTS",
    "VerificationCodes",
    "wrong_code_message",
]
