"""How a request reaches the person: a small port, and an in-memory outbox that implements it.

A message is queued in the transaction of the step that decides it, and goes out only once
that transaction has committed: a step rolled back tells nobody, and a step committed is told
even if the process dies right after. The runtime's notifier is the mail queue
(:class:`pledge.notify.delivery.MailQueue`: a job per mail, delivered after commit and retried
until the SMTP server takes it); the :class:`Outbox` here keeps messages in memory, for tests.
Messages never reveal whether an address was known to Pledge before: the one sent on
submission reads the same either way.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection

from pledge.store.database import after_commit


@dataclass(frozen=True, slots=True)
class Message:
    """One message to a person about their request.

    Args:
        to: the e-mail address.
        subject: the subject line.
        body: the text.
        request_id: the request it is about.
        kind: ``verification``, ``extended``, ``denied``, ``completed`` or ``failed``.
    """

    to: str
    subject: str
    body: str
    request_id: str
    kind: str


class Notifier(Protocol):
    """Where messages to people go."""

    def queue(self, connection: Connection, message: Message) -> None:
        """Queue one message in the caller's transaction (of ``Database.transaction``); it goes
        out once that transaction has committed, never if it rolls back."""


class Outbox:
    """A notifier that keeps every message in memory (thread-safe), newest last, once the
    transaction that queued it has committed."""

    def __init__(self) -> None:
        self._messages: list[Message] = []
        self._lock = threading.Lock()

    def queue(self, connection: Connection, message: Message) -> None:
        """Keep the message once the caller's transaction has committed."""
        after_commit(connection, lambda: self.send(message))

    def send(self, message: Message) -> None:
        """Keep the message now."""
        with self._lock:
            self._messages.append(message)

    @property
    def messages(self) -> list[Message]:
        """Every message sent so far, oldest first."""
        with self._lock:
            return list(self._messages)

    def last(self, to: str, kind: str | None = None) -> Message | None:
        """The newest message to ``to`` (of ``kind``, when given), or None."""
        for message in reversed(self.messages):
            if message.to == to and (kind is None or message.kind == kind):
                return message
        return None


__all__ = ["Message", "Notifier", "Outbox"]
