"""Messages from people to the privacy officer (a question, a complaint, a child's data):
checked, then forwarded by mail to the address the declaration gives for privacy matters.

The mail is queued in Pledge's store and delivered after commit (the runtime's mailer, a
:class:`~pledge.notify.delivery.MailQueue`): a message the person was told is sent is never
lost to a mail server that is down."""

from __future__ import annotations

from collections.abc import Mapping

from pledge.declaration import Declaration
from pledge.errors import UsageError
from pledge.notify.mail import Mailer
from pledge.notify.templates import Templates
from pledge.subjects.model import InvalidIdentity, normalise_email

MAX_MESSAGE = 4000


def officer_address(declaration: Declaration) -> str | None:
    """Where privacy matters go: the DPO, else the privacy contact, else the rights channel."""
    controller = declaration.controller
    if controller.dpo is not None and controller.dpo.email:
        return str(controller.dpo.email)
    if controller.email:
        return str(controller.email)
    if declaration.rights is not None and declaration.rights.channels.email:
        return str(declaration.rights.channels.email)
    return None


def channels(declaration: Declaration) -> list[tuple[str, str]]:
    """Every other way the declaration gives to reach the company: (how, where)."""
    controller = declaration.controller
    found: list[tuple[str, str]] = []
    if controller.phone:
        hours = f" ({controller.hours})" if controller.hours else ""
        found.append(("Telephone", f"{controller.phone}{hours}"))
    if controller.address:
        found.append(("Post", controller.address))
    if declaration.rights is not None:
        declared = declaration.rights.channels
        for label, value in (
            ("E-mail", declared.email),
            ("Web", declared.url),
            ("Telephone", declared.phone),
            ("Post", declared.postal),
            ("In the product", declared.in_app),
        ):
            if value:
                found.append((label, str(value)))
    return found


def forward(
    mailer: Mailer,
    templates: Templates,
    declaration: Declaration,
    kind: str,
    form: Mapping[str, str],
) -> None:
    """Check a message and forward it to the privacy officer.

    Args:
        mailer: sends it (the runtime's mail queue: queued, then delivered after commit).
        templates: composes it.
        declaration: names the privacy officer's address.
        kind: ``contact`` or ``child``.
        form: the fields the person filled in (``email``, ``message``, and for a child
            ``identifier`` and ``relationship``).

    Raises:
        UsageError: no address to forward to, a malformed reply address, an empty or overlong
            message.
    """
    to = officer_address(declaration)
    if to is None:
        raise UsageError("no e-mail address for privacy matters is declared")
    try:
        reply_to = normalise_email(form.get("email", ""))
    except InvalidIdentity as error:
        raise UsageError(str(error)) from None
    message = form.get("message", "").strip()
    if not message:
        raise UsageError("write a message")
    if len(message) > MAX_MESSAGE:
        raise UsageError(f"a message has at most {MAX_MESSAGE} characters")
    fields = [("From", reply_to)]
    if kind == "child":
        identifier = form.get("identifier", "").strip()
        if not identifier:
            raise UsageError("say which child: an e-mail address or account name")
        fields += [
            ("The child", identifier),
            ("Relationship", form.get("relationship", "").strip() or "not given"),
        ]
    fields.append(("Message", message))
    mailer.deliver(templates.forwarded(to, kind, reply_to, fields))


__all__ = ["channels", "forward", "officer_address"]
