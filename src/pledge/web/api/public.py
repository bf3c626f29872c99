"""``/public/consent``: the browser's consent endpoint (the cookie banner, a preference page).

No API key: the person is known by an anonymous device id (identity kind ``device``) that the
page keeps, for instance in a first-party cookie or local storage. Only the declared origins
may call it (``cors.py``), each client at most ``settings.public_rate_limit`` times a minute
(``limits.py``; per process).

The choices of one request are recorded in one transaction, with the device's subject if it is
new: an unknown purpose, a purpose not based on consent or an invalid device id writes nothing.
A request with ``Sec-GPC: 1`` then opts the device out of the purposes declared as sale or
sharing or targeted advertising (where GPC is configured to apply); a grant of such a purpose
in the same request is not recorded, as the signal says the opposite.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.exc import IntegrityError

from pledge.consent.model import Channel, ConsentDecision, Evidence, gpc_signal
from pledge.errors import ConsentError
from pledge.subjects.model import Identity, IdentityKind
from pledge.web.api.deps import RuntimeDep
from pledge.web.api.problems import ApiProblem, responses
from pledge.web.api.schemas import DeclarationKey, Schema, Text

router = APIRouter(prefix="/public", tags=["public"])

ACTOR = "subject"  # the person, through their browser
_ATTEMPTS = 3  # a concurrent first request from the same device may create its subject first


class PublicConsentIn(Schema):
    """A browser's consent choices."""

    device_id: Annotated[
        Text, StringConstraints(min_length=8, max_length=200, pattern=r"^[A-Za-z0-9._:=+/-]+$")
    ] = Field(description="An anonymous id the page keeps for this browser.")
    choices: dict[DeclarationKey, Literal["granted", "refused", "withdrawn"]] = Field(
        default_factory=dict,
        max_length=100,
        description="Purpose → decision, for purposes based on consent.",
    )
    declaration_version: Annotated[Text, StringConstraints(max_length=50)] | None = Field(
        None,
        description="The policy version the notice shown was made from; 409 if outdated.",
    )


class PublicConsentOut(BaseModel):
    """The device's consent after the request."""

    declaration_version: str = Field(description="The policy version in force.")
    gpc: bool = Field(description="Whether a Global Privacy Control signal was honoured.")
    consent: dict[str, ConsentDecision] = Field(description="Purpose → current decision.")


@router.post(
    "/consent",
    summary="Record a browser's consent choices",
    responses=responses(403, 404, 409, 429),
)
def record_public_consent(
    body: PublicConsentIn, request: Request, runtime: RuntimeDep
) -> PublicConsentOut:
    """Record the choices of an anonymous device, honour ``Sec-GPC: 1``, return the state."""
    current_version = runtime.declaration.policy.version
    if body.declaration_version is not None and body.declaration_version != current_version:
        raise ApiProblem(
            409,
            f"the notice shown is of version {body.declaration_version!r}, the policy in force"
            f" is {current_version!r}: show the current notice and ask again",
            kind="outdated-notice",
        )
    identity = Identity.parse(IdentityKind.DEVICE, body.device_id)
    evidence = _evidence(request)
    signal = gpc_signal(request.headers) and runtime.ledger.gpc_applies(None)
    overridden = set(runtime.ledger.gpc_purposes) if signal else set()
    choices = {
        purpose: ConsentDecision(decision)
        for purpose, decision in body.choices.items()
        if not (decision == "granted" and purpose in overridden)
    }
    subject_id = None
    if choices or signal:
        subject_id = _record(runtime, identity, choices, evidence)
        if signal:
            runtime.ledger.apply_gpc(subject_id, evidence=evidence, actor=ACTOR)
    else:
        subject_id = runtime.subjects.find(identity)
    states = runtime.ledger.state(subject_id) if subject_id else {}
    return PublicConsentOut(
        declaration_version=current_version,
        gpc=signal,
        consent={purpose: state.decision for purpose, state in states.items()},
    )


def _record(
    runtime: RuntimeDep,
    identity: Identity,
    choices: dict[str, ConsentDecision],
    evidence: Evidence | None,
) -> str:
    for attempt in range(_ATTEMPTS):
        try:
            with runtime.database.transaction() as connection:
                subject_id = runtime.subjects.resolve(connection, identity, actor=ACTOR)
                for purpose, decision in choices.items():
                    runtime.ledger.record(
                        subject_id,
                        purpose,
                        decision,
                        channel=Channel.BANNER,
                        actor=ACTOR,
                        evidence=evidence,
                        connection=connection,
                    )
                return subject_id
        except IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _evidence(request: Request) -> Evidence | None:
    user_agent = request.headers.get("user-agent")
    host = request.client.host if request.client else None
    try:
        return Evidence(ip=host, user_agent=user_agent)
    except ConsentError:  # not an IP address (a test client, a Unix socket)
        return Evidence(ip=None, user_agent=user_agent) if user_agent else None
