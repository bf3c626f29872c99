"""The texts sent to a person about their request (plain functions, no I/O).

The message sent on submission is the same whether or not Pledge knew the address before, so
that it cannot be used to find out who is a customer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pledge.requests.model import Denial, RequestType
from pledge.requests.notifier import Message

_ASKED = {
    RequestType.ACCESS: "see the personal data it holds about",
    RequestType.PORTABILITY: "send a copy of the personal data provided by",
    RequestType.RECTIFICATION: "correct the personal data it holds about",
    RequestType.ERASURE: "delete the personal data it holds about",
    RequestType.RESTRICTION: "restrict the processing of the personal data of",
    RequestType.LIFT_RESTRICTION: "lift the restriction on the personal data of",
    RequestType.OBJECTION: "stop processing, as objected to, the personal data of",
    RequestType.UNSUBSCRIBE: "stop all direct marketing to",
    RequestType.WITHDRAW_CONSENT: "withdraw the consent given by",
    RequestType.LIMIT_SENSITIVE: "limit the use of the sensitive personal information of",
}


def _date(moment: dt.datetime) -> str:
    return moment.strftime("%d %B %Y")


def verification(
    company: str, to: str, request_id: str, kind: RequestType, code: str, minutes: int
) -> Message:
    """The one-time code that confirms a request came from the person."""
    body = (
        f"Someone asked {company} to {_ASKED[kind]} the person with this e-mail address.\n\n"
        f"If it was you, confirm the request with this code within {minutes} minutes:\n\n"
        f"    {code}\n\n"
        "If it was not you, ignore this message: nothing happens without the code.\n\n"
        f"Request {request_id}"
    )
    return Message(to, f"{company}: confirm your privacy request", body, request_id, "verification")


def extended(company: str, to: str, request_id: str, reason: str, due_at: dt.datetime) -> Message:
    """The notice of an extension, with its reason (GDPR Art. 12(3), CCPA §1798.130)."""
    body = (
        f"{company} needs more time to answer your privacy request: {reason}\n\n"
        f"You will have our answer by {_date(due_at)}.\n\n"
        f"Request {request_id}"
    )
    return Message(to, f"{company}: more time for your request", body, request_id, "extended")


def denied(company: str, to: str, request_id: str, denial: Denial) -> Message:
    """A refusal with its reason and the right to complain (GDPR Art. 12(4))."""
    body = (
        f"{company} cannot carry out your privacy request: {denial.reason}\n\n"
        f"{denial.complaint}\n\n"
        f"Request {request_id}"
    )
    return Message(to, f"{company}: your privacy request", body, request_id, "denied")


def completed(
    company: str,
    to: str,
    request_id: str,
    kind: RequestType,
    result: Mapping[str, Any] | None = None,
) -> Message:
    """The notice that a request was carried out; for an erasure, what was erased and kept.

    An erasure's mail is the person's record of it: once nothing is kept, Pledge forgets them
    too, and the report with them.
    """
    label = kind.value.replace("_", " ")
    if result and result.get("nothing_found"):
        searched = sum(len(places) for places in result.get("searched", {}).values())
        body = (
            f"{company} has searched its systems for your {label} request and found no data"
            f" about you under the details you gave ({_kinds(result)}), in the {searched}"
            f" place{'' if searched == 1 else 's'} where it keeps personal data"
            + (": there was nothing to erase" if kind is RequestType.ERASURE else "")
            + ".\n\nIf you gave us your data under another e-mail address or phone number,"
            " send a request with that one.\n\n"
            f"Request {request_id}"
        )
        return Message(to, f"{company}: your privacy request", body, request_id, "completed")
    body = f"{company} has carried out your {label} request.\n\n"
    if kind is RequestType.ERASURE and result:
        body += "\n".join(["What was done, table by table:", *_erased(result), "", ""])
    body += f"Request {request_id}"
    return Message(to, f"{company}: your privacy request is done", body, request_id, "completed")


def _kinds(result: Mapping[str, Any]) -> str:
    names = {"email": "e-mail address", "phone": "phone number", "account": "account"}
    kinds = [names.get(kind, kind) for kind in result.get("identities", [])]
    return ", ".join(kinds) or "none"


def _erased(result: Mapping[str, Any]) -> list[str]:
    """One line per table an erasure touched: ``- app.users: 1 row rewritten (email)``."""
    lines = []
    for datastore, done in result.get("datastores", {}).items():
        for table, outcome in done.get("tables", {}).items():
            rows = outcome.get("rows", 0)
            if not rows:
                continue
            count = f"{rows} row{'' if rows == 1 else 's'}"
            if outcome.get("more"):
                count = f"more than {rows:,} rows"
            action = outcome.get("action", "")
            line = f"- {datastore}.{table}: {count} {'kept' if action == 'retained' else action}"
            if outcome.get("columns"):
                line += f" ({', '.join(outcome['columns'])})"
            if outcome.get("reason") and action != "deleted" and action != "rewritten":
                line += f": {outcome['reason']}"
            if outcome.get("shared"):
                line += f"; {outcome['shared']} more kept: shared with other people"
            lines.append(line)
    return lines or ["- nothing of yours was found"]


__all__ = ["completed", "denied", "extended", "verification"]
