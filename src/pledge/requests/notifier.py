"""How a request reaches the person: a small port, and an in-memory outbox that implements it.

The real e-mail (SMTP, with templates) comes with the ``notify`` room; until then the runtime
keeps messages in an :class:`Outbox`, which is also what tests read codes from. Messages never
reveal whether an address was known to Pledge before: the one sent on submission reads the same
either way.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol


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
    """Sends messages to people; raising means the message was not sent."""

    def send(self, message: Message) -> None:
        """Send one message."""


class Outbox:
    """A notifier that keeps every message in memory (thread-safe), newest last."""

    def __init__(self) -> None:
        self._messages: list[Message] = []
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        """Keep the message."""
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
