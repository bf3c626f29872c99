"""The texts of Pledge's e-mails: a plain-text and an HTML part from one template per kind.

The request messages (verification, extended, denied, completed, failed) carry their words
from :mod:`pledge.requests.messages`; the templates frame them (a heading, the link to the
privacy center). The sign-in code and the policy change notice are composed here. The mail
sent to sign in reads the same whether or not the address is known to Pledge.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pledge.notify.mail import Composer, Mail
from pledge.requests.notifier import Message

HEADINGS: Mapping[str, str] = {
    "sign_in": "Your sign-in code",
    "verification": "Confirm your privacy request",
    "extended": "More time for your privacy request",
    "denied": "About your privacy request",
    "completed": "Your privacy request is done",
    "failed": "About your privacy request",
    "policy_change": "Our privacy policy is changing",
    "contact": "A message for the privacy officer",
    "child": "A report about a child's data",
}
"""The heading of each kind of mail."""

REQUEST_KINDS = frozenset({"verification", "extended", "denied", "completed", "failed"})
"""The kinds of mail the requests service sends (their words come with the message)."""


class Templates(Composer):
    """Composes Pledge's mails.

    Args:
        company: the controller's name, as the declaration gives it.
        public_url: where this Pledge is reached (links start with it).
    """

    def __init__(self, company: str, public_url: str) -> None:
        self.company = company
        self.public_url = public_url.rstrip("/")
        self.environment = Environment(
            loader=PackageLoader("pledge.notify", "templates"),
            autoescape=select_autoescape(["html.j2"]),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    @property
    def privacy_url(self) -> str:
        """The privacy center's address."""
        return f"{self.public_url}/privacy"

    def request_mail(self, message: Message) -> Mail:
        """The mail of a request message, its body framed by the templates."""
        return self._mail(
            message.to,
            message.subject,
            message.kind,
            {"paragraphs": paragraphs(message.body)},
            request_id=message.request_id,
        )

    def sign_in(self, to: str, code: str, minutes: int) -> Mail:
        """The code that signs a person in to the privacy center."""
        return self._mail(
            to,
            f"{self.company}: your sign-in code",
            "sign_in",
            {"code": code, "minutes": minutes},
        )

    def policy_change(
        self,
        to: str,
        *,
        version: str,
        effective: dt.date,
        changes: Sequence[str],
        unsubscribe_url: str,
    ) -> Mail:
        """The notice of a policy change, before it takes effect, with one-click unsubscribe.

        Args:
            to: the person's address.
            version: the new policy version.
            effective: when it takes effect.
            changes: what changes, one sentence each.
            unsubscribe_url: the person's one-click unsubscribe link (RFC 8058).
        """
        headers = {
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        return self._mail(
            to,
            f"{self.company}: our privacy policy is changing",
            "policy_change",
            {
                "version": version,
                "effective": effective.strftime("%d %B %Y"),
                "changes": list(changes),
                "unsubscribe_url": unsubscribe_url,
            },
            headers=headers,
        )

    def forwarded(
        self, to: str, kind: str, reply_to: str, fields: Sequence[tuple[str, str]]
    ) -> Mail:
        """A message from a person to the privacy officer, answerable by replying.

        Args:
            to: the privacy officer's address.
            kind: ``contact`` or ``child``.
            reply_to: the person's address.
            fields: what they wrote, as (label, value) pairs.
        """
        heading = HEADINGS[kind]
        return self._mail(
            to,
            f"{self.company} privacy center: {heading.lower()}",
            kind,
            {"fields": list(fields), "heading": heading},
            template="forwarded",
            headers={"Reply-To": reply_to},
        )

    def _mail(
        self,
        to: str,
        subject: str,
        kind: str,
        values: Mapping[str, Any],
        *,
        request_id: str | None = None,
        template: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Mail:
        name = template or ("request" if kind in REQUEST_KINDS else kind)
        context = {
            "company": self.company,
            "heading": HEADINGS.get(kind, HEADINGS["verification"]),
            "privacy_url": self.privacy_url,
            **values,
        }

        text = self.environment.get_template(f"{name}.txt.j2").render(context)
        html = self.environment.get_template(f"{name}.html.j2").render(context)
        return Mail(to, subject, text, html, kind, request_id, dict(headers or {}))


def paragraphs(body: str) -> list[dict[str, Any]]:
    """A text split at blank lines; an indented paragraph (a code) is marked as such."""
    found = []
    for block in body.split("\n\n"):
        if not block.strip():
            continue
        indented = all(line.startswith("    ") for line in block.splitlines())
        found.append({"text": block.strip(), "code": indented})
    return found


__all__ = ["HEADINGS", "REQUEST_KINDS", "Templates", "paragraphs"]
