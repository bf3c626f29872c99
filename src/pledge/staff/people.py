"""Signing people in to the privacy center with a code sent by e-mail (no password).

Asking for a code gives the same answer, and sends the same mail, whether or not the address
is known to Pledge: the privacy center cannot be used to find out who is a customer. The
address a code was sent to is kept encrypted (under a key derived from the master key) only
until the code is used or expires; what identifies the row is a keyed hash.

A code lives :data:`CODE_LIFETIME`; :data:`MAX_ATTEMPTS` wrong entries end it. At most
:data:`CODES_PER_HOUR` codes are sent to one address an hour.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import os
import secrets
import smtplib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import func, insert, select, update

from pledge.clock import Clock, utc_now
from pledge.enforcement import audit
from pledge.enforcement.audit import AuditEntry
from pledge.errors import AuthError, UsageError
from pledge.ids import new_id
from pledge.notify.keys import derived_key
from pledge.notify.mail import Mailer
from pledge.notify.templates import Templates
from pledge.store.database import Database
from pledge.store.tables import sign_in_codes
from pledge.subjects.model import Identity, IdentityKind, InvalidIdentity
from pledge.subjects.service import Subjects

log = logging.getLogger(__name__)

CODE_DIGITS = 6
CODE_LIFETIME = dt.timedelta(minutes=15)
MAX_ATTEMPTS = 5
CODES_PER_HOUR = 5
_NONCE = 12


class CodeRefused(AuthError):
    """A sign-in code that does not sign in: wrong, expired, used, or tried too often."""


class PersonSignIn:
    """Sends sign-in codes and checks them.

    Args:
        database: Pledge's store.
        master_key: the settings' secret key (keys the hashes and the stored address).
        subjects: finds or creates the subject of a verified address.
        mailer: sends the code.
        templates: composes the mail.
        clock: the time source.
    """

    def __init__(
        self,
        database: Database,
        master_key: bytes,
        subjects: Subjects,
        mailer: Mailer,
        templates: Templates,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self.database = database
        self.subjects = subjects
        self.mailer = mailer
        self.templates = templates
        self.clock = clock
        self._index_key = derived_key(master_key, "pledge/v1/sign-in-index")
        self._sealer = AESGCM(derived_key(master_key, "pledge/v1/sign-in-address"))

    def start(self, email: str) -> str:
        """Send a code to ``email`` and return the id of the sign-in it completes.

        Raises:
            UsageError: not an e-mail address, too many codes asked for this address, or the
                mail server did not take the code (nothing to wait for: ask again later).
        """
        try:
            identity = Identity.parse("email", email)
        except InvalidIdentity as error:
            raise UsageError(str(error)) from None
        now = self.clock()
        index = self._index(identity.value)
        sign_in_id = new_id()
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        salt = os.urandom(16)
        with self.database.transaction() as connection:
            recent = connection.execute(
                select(func.count())
                .select_from(sign_in_codes)
                .where(
                    sign_in_codes.c.address_index == index,
                    sign_in_codes.c.created_at > now - dt.timedelta(hours=1),
                )
            ).scalar_one()
            if recent >= CODES_PER_HOUR:
                raise UsageError(
                    "too many codes were asked for this address in the last hour; wait, then"
                    " ask again"
                )
            nonce = os.urandom(_NONCE)
            sealed = nonce + self._sealer.encrypt(
                nonce, identity.value.encode(), sign_in_id.encode()
            )
            connection.execute(
                insert(sign_in_codes).values(
                    id=sign_in_id,
                    address_index=index,
                    address_encrypted=sealed,
                    code_salt=salt,
                    code_hash=self._code_hash(salt, code),
                    attempts=0,
                    created_at=now,
                    expires_at=now + CODE_LIFETIME,
                )
            )
            audit.record(
                connection,
                AuditEntry("person.sign_in_code_sent", "subject", details={"sign_in": sign_in_id}),
                clock=self.clock,
            )
        minutes = int(CODE_LIFETIME.total_seconds() // 60)
        try:
            self.mailer.deliver(self.templates.sign_in(identity.value, code, minutes))
        except (OSError, smtplib.SMTPException) as error:
            # Its text may quote the address: only its kind goes to the log.
            log.warning("sign-in code not sent: %s", type(error).__name__)
            raise UsageError(
                "the code could not be sent: the mail server is not answering; try again in a"
                " few minutes"
            ) from None
        return sign_in_id

    def verify(self, sign_in_id: str, code: str) -> str:
        """The subject signed in by this code (created when the address was new to Pledge).

        Raises:
            CodeRefused: unknown sign-in, wrong, expired or used code, too many attempts.
        """
        now = self.clock()
        given = "".join(str(code).split())
        wrong: str | None = None
        with self.database.transaction() as connection:
            row = (
                connection.execute(
                    select(sign_in_codes).where(sign_in_codes.c.id == sign_in_id).with_for_update()
                )
                .mappings()
                .one_or_none()
            )
            if row is None or row["used_at"] is not None:
                raise CodeRefused("this code was already used or never sent; ask for a new one")
            if row["attempts"] >= MAX_ATTEMPTS:
                raise CodeRefused("too many wrong codes; ask for a new one")
            if now >= row["expires_at"]:
                raise CodeRefused("the code has expired; ask for a new one")
            if not hmac.compare_digest(self._code_hash(row["code_salt"], given), row["code_hash"]):
                attempts = row["attempts"] + 1
                connection.execute(
                    update(sign_in_codes)
                    .where(sign_in_codes.c.id == sign_in_id)
                    .values(attempts=attempts)
                )
                audit.record(
                    connection,
                    AuditEntry(
                        "person.sign_in_failed",
                        "subject",
                        details={"sign_in": sign_in_id, "attempts_left": MAX_ATTEMPTS - attempts},
                    ),
                    clock=self.clock,
                )
                left = MAX_ATTEMPTS - attempts
                wrong = (
                    f"wrong code; {left} attempt{'s' if left != 1 else ''} left"
                    if left
                    else "wrong code; no attempts left, ask for a new one"
                )
            else:
                sealed = row["address_encrypted"]
                try:
                    address = self._sealer.decrypt(
                        sealed[:_NONCE], sealed[_NONCE:], sign_in_id.encode()
                    ).decode()
                except InvalidTag:
                    raise CodeRefused("this code cannot be used; ask for a new one") from None
                connection.execute(
                    update(sign_in_codes)
                    .where(sign_in_codes.c.id == sign_in_id)
                    .values(used_at=now, address_encrypted=b"")
                )
        if wrong is not None:
            raise CodeRefused(wrong)
        subject_id = self.subjects.find_or_create(
            Identity(IdentityKind.EMAIL, address), actor="subject"
        )
        with self.database.transaction() as connection:
            audit.record(
                connection,
                AuditEntry(
                    "person.signed_in", "subject", subject_id, details={"sign_in": sign_in_id}
                ),
                clock=self.clock,
            )
        return subject_id

    def _index(self, address: str) -> bytes:
        return hmac.new(self._index_key, address.encode(), "sha256").digest()

    def _code_hash(self, salt: bytes, code: str) -> bytes:
        return hmac.new(self._index_key, salt + b":" + code.encode(), "sha256").digest()


__all__ = ["CODE_LIFETIME", "CodeRefused", "PersonSignIn"]
