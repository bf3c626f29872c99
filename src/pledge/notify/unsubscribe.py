"""One-click unsubscribe (RFC 8058): a link per person that stops direct marketing at once.

The link carries the subject's pseudonymous id and a MAC under a key derived from the master
key: it cannot be forged for someone else, and needs no sign-in, so a mail client can post to
it (``List-Unsubscribe-Post: List-Unsubscribe=One-Click``) without the person's cookies.
"""

from __future__ import annotations

import re

from pledge.notify.keys import derived_key, sign, signed_equal

_TOKEN = re.compile(r"^([0-7][0-9A-HJKMNP-TV-Z]{25})\.([A-Za-z0-9_-]{22})$")


class Unsubscribe:
    """Makes and checks unsubscribe tokens.

    Args:
        master_key: the settings' secret key.
        public_url: where this Pledge is reached.
    """

    def __init__(self, master_key: bytes, public_url: str) -> None:
        self._key = derived_key(master_key, "pledge/v1/unsubscribe")
        self.public_url = public_url.rstrip("/")

    def token(self, subject_id: str) -> str:
        """The token of a subject's unsubscribe link."""
        return f"{subject_id}.{sign(self._key, 'unsubscribe:' + subject_id)}"

    def url(self, subject_id: str) -> str:
        """The subject's one-click unsubscribe link."""
        return f"{self.public_url}/privacy/unsubscribe/{self.token(subject_id)}"

    def subject_of(self, token: str) -> str | None:
        """The subject a token was made for, or None for a malformed or forged token."""
        found = _TOKEN.match(token)
        if found is None:
            return None
        subject_id, signature = found[1], found[2]
        if not signed_equal(self._key, "unsubscribe:" + subject_id, signature):
            return None
        return subject_id


__all__ = ["Unsubscribe"]
