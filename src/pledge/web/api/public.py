"""``/public/consent``: the browser's consent endpoint (the cookie banner, a preference page).

No API key: the person is known by an anonymous device id (identity kind ``device``) that the
page keeps, for instance in a first-party cookie or local storage. Only the declared origins
may call it (``cors.py``), each client at most ``settings.public_rate_limit`` times a minute
(``limits.py``; per process).

A request carries decisions about purposes (``choices``), about cookie categories
(``categories``: each stands for the consent purposes its declared cookies serve), or both.
They are recorded in one transaction, with the device's subject if it is new: an unknown
purpose or category, a purpose not based on consent, an invalid device id or a notice that
is not the one in force writes nothing. A request with ``Sec-GPC: 1`` (or ``"gpc": true``,
which is what a page can send: scripts may not set ``Sec-`` headers) then opts the device out
of the purposes declared as sale or sharing or targeted advertising (where GPC is configured
to apply): the signal alone decides those, so a grant of one in the same request is not
recorded, as the signal says the opposite, and a refusal is recorded as the signal's.

``/public/consent/link`` is the one route here that needs an API key: after a person signs in
on the company's site, its server tells Pledge which subject the browser's device id belongs
to, and the choices made on that device become the subject's.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from fastapi import APIRouter, Request
from pydantic import AfterValidator, BaseModel, Field, Strict, StringConstraints, model_validator
from sqlalchemy.exc import IntegrityError

from pledge.consent.model import Channel, ConsentDecision, Evidence, gpc_signal
from pledge.declaration.model import CookieCategory, Declaration, LegalBasis
from pledge.errors import ConsentError, NotFound
from pledge.subjects.model import Identity, IdentityKind
from pledge.web.api.deps import ULID_PATTERN, RuntimeDep, SubjectsWriter
from pledge.web.api.problems import ApiProblem, responses
from pledge.web.api.schemas import DeclarationKey, IdentityIn, Schema, Text
from pledge.web.banner.notice import CHOOSABLE, category_purposes, cookies_hash

router = APIRouter(prefix="/public", tags=["public"])

ACTOR = "subject"  # the person, through their browser
_ATTEMPTS = 3  # a concurrent first request from the same device may create its subject first
# When several categories (or a category and a purpose) decide one purpose, the most
# restrictive decision wins: a purpose is granted only when everything deciding it grants it.
_RESTRICTIVENESS = {"granted": 0, "refused": 1, "withdrawn": 2}

Decision = Literal["granted", "refused", "withdrawn"]
DeviceId = Annotated[
    Text, StringConstraints(min_length=8, max_length=200, pattern=r"^[A-Za-z0-9._:=+/-]+$")
]


def _choosable(value: str) -> str:
    if value == CookieCategory.STRICTLY_NECESSARY:
        raise ValueError("strictly necessary cookies need no consent: there is nothing to choose")
    if value not in {str(category) for category in CHOOSABLE}:
        choices = ", ".join(str(category) for category in CHOOSABLE)
        raise ValueError(f"not a cookie category; use one of {choices}")
    return value


ChoosableCategory = Annotated[
    str, StringConstraints(min_length=1, max_length=50), AfterValidator(_choosable)
]


class PublicConsentIn(Schema):
    """A browser's consent choices."""

    device_id: DeviceId = Field(description="An anonymous id the page keeps for this browser.")
    choices: dict[DeclarationKey, Decision] = Field(
        default_factory=dict,
        max_length=100,
        description="Purpose → decision, for purposes based on consent.",
    )
    categories: dict[ChoosableCategory, Decision] = Field(
        default_factory=dict,
        max_length=len(CHOOSABLE),
        description="Cookie category (functional, analytics, advertising) → decision, for the"
        " consent purposes the category's declared cookies serve.",
    )
    declaration_version: Annotated[Text, StringConstraints(max_length=50)] | None = Field(
        None,
        description="The policy version the notice shown was made from; 409 if outdated.",
    )
    cookies_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")] | None = Field(
        None,
        description="The cookie list the banner showed (its hash, in /banner.js); 409 if outdated.",
    )
    gpc: Annotated[bool, Strict()] = Field(
        False,
        description="The page found a Global Privacy Control signal"
        " (navigator.globalPrivacyControl): the same as the header Sec-GPC: 1.",
    )


class PublicConsentOut(BaseModel):
    """The device's consent after the request."""

    declaration_version: str = Field(description="The policy version in force.")
    gpc: bool = Field(description="Whether a Global Privacy Control signal was honoured.")
    consent: dict[str, ConsentDecision] = Field(description="Purpose → current decision.")


class DeviceLinkIn(Schema):
    """A browser's device id and the subject who signed in on it: exactly one of
    ``subject_id`` and ``identity``."""

    device_id: DeviceId = Field(description="The device id the banner keeps for this browser.")
    subject_id: Annotated[str, StringConstraints(pattern=ULID_PATTERN)] | None = Field(
        None, description="The subject who signed in."
    )
    identity: IdentityIn | None = Field(
        None,
        description="Or an identity of the person who signed in (their account id, e-mail…);"
        " a subject is created for it if Pledge does not know it yet.",
    )

    @model_validator(mode="after")
    def _one_subject(self) -> Self:
        """Refuse a link that names no subject, or two."""
        if (self.subject_id is None) == (self.identity is None):
            raise ValueError("give exactly one of subject_id and identity")
        return self


class DeviceLinkOut(BaseModel):
    """The subject the device now belongs to."""

    subject_id: str = Field(description="The subject, found by the device id from now on.")
    merged: bool = Field(
        description="Whether the device had choices of its own, which are now the subject's."
    )
    consent: dict[str, ConsentDecision] = Field(description="Purpose → current decision.")


@router.post(
    "/consent",
    summary="Record a browser's consent choices",
    responses=responses(403, 404, 409, 429),
)
def record_public_consent(
    body: PublicConsentIn, request: Request, runtime: RuntimeDep
) -> PublicConsentOut:
    """Record the choices of an anonymous device, honour GPC, return the state."""
    declaration = runtime.declaration
    _check_notice(declaration, body)
    by_category = category_purposes(declaration)
    wanted = _decisions(body.choices, _category_decisions(by_category, body.categories))
    identity = Identity.parse(IdentityKind.DEVICE, body.device_id)
    evidence = _evidence(request)
    signal = (gpc_signal(request.headers) or body.gpc) and runtime.ledger.gpc_applies(None)
    # With a signal, the signal alone decides the consent purposes it covers (channel gpc).
    overridden = _gpc_purposes(runtime) if signal else set()
    choices = {
        purpose: ConsentDecision(decision)
        for purpose, decision in wanted.items()
        if purpose not in overridden
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
        declaration_version=declaration.policy.version,
        gpc=signal,
        consent={purpose: state.decision for purpose, state in states.items()},
    )


@router.post(
    "/consent/link",
    summary="Link a browser's device id to the subject who signed in",
    responses=responses(401, 403, 404, 409, 410, 429),
)
def link_device(body: DeviceLinkIn, runtime: RuntimeDep, key: SubjectsWriter) -> DeviceLinkOut:
    """Make the device's choices the subject's, and find the subject by the device from now on.

    Needs an API key with ``subjects:write``: the company's server calls it after a person
    signs in on its site, with the device id from the banner's cookie.
    """
    device = Identity.parse(IdentityKind.DEVICE, body.device_id)
    person = None
    subject_id = body.subject_id
    if body.identity is not None:
        person = Identity.parse(body.identity.kind, body.identity.value)
        subject_id = runtime.subjects.find(person)
    _refuse_another_persons_device(runtime, device, subject_id)  # before anything is written
    if subject_id is None:
        assert person is not None  # one of the two, by the schema
        subject_id = runtime.subjects.find_or_create(person, actor=key.actor)
    merged = _link_retrying(runtime, device, subject_id, key.actor)
    states = runtime.ledger.state(subject_id)
    return DeviceLinkOut(
        subject_id=subject_id,
        merged=merged,
        consent={purpose: state.decision for purpose, state in states.items()},
    )


# --- recording -------------------------------------------------------------------------------


def _gpc_purposes(runtime: RuntimeDep) -> set[str]:
    purposes = runtime.declaration.purposes
    return {
        key
        for key in runtime.ledger.gpc_purposes
        if purposes[key].legal_basis is LegalBasis.CONSENT
    }


def _check_notice(declaration: Declaration, body: PublicConsentIn) -> None:
    current_version = declaration.policy.version
    if body.declaration_version is not None and body.declaration_version != current_version:
        raise ApiProblem(
            409,
            f"the notice shown is of version {body.declaration_version!r}, the policy in force"
            f" is {current_version!r}: show the current notice and ask again",
            kind="outdated-notice",
        )
    if body.cookies_hash is not None and body.cookies_hash != cookies_hash(declaration):
        raise ApiProblem(
            409,
            "the banner shown lists other cookies than the declaration in force: load the"
            " banner again and ask again",
            kind="outdated-notice",
        )


def _category_decisions(
    by_category: dict[CookieCategory, tuple[str, ...]], categories: dict[str, Decision]
) -> dict[str, Decision]:
    decided: dict[str, Decision] = {}
    for name, decision in categories.items():
        category = CookieCategory(name)
        if category not in by_category:
            raise NotFound(f"no cookie of category '{name}' is declared")
        if not by_category[category]:
            raise ConsentError(
                f"the {name} cookies serve no purpose based on consent (lint rule K501):"
                " there is no consent to record for them"
            )
        for purpose in by_category[category]:
            decided = _decisions(decided, {purpose: decision})
    return decided


def _decisions(*sources: dict[str, Decision]) -> dict[str, Decision]:
    merged: dict[str, Decision] = {}
    for source in sources:
        for purpose, decision in source.items():
            earlier = merged.get(purpose)
            if earlier is None or _RESTRICTIVENESS[decision] > _RESTRICTIVENESS[earlier]:
                merged[purpose] = decision
    return merged


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


# --- linking ---------------------------------------------------------------------------------


def _link_retrying(runtime: RuntimeDep, device: Identity, subject_id: str, actor: str) -> bool:
    for attempt in range(_ATTEMPTS):
        try:
            return _link(runtime, device, subject_id, actor)
        except IntegrityError:  # the banner recorded a first choice for the device meanwhile
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _link(runtime: RuntimeDep, device: Identity, subject_id: str, actor: str) -> bool:
    """Let ``subject_id`` be found by ``device``; True when the device's own subject merged.

    A device that already has a subject of its own (the banner recorded its choices before
    the person signed in) hands its current decisions to the subject, each copied with its
    channel and evidence unless the subject decided that purpose later; the device's subject
    is then erased (its hash chain stays, and the audit trail says where it went) and the
    device id becomes the subject's. Each step is idempotent, so a link that fails half-way
    is completed by calling it again.
    """
    person = runtime.subjects.get(subject_id)  # NotFound for an unknown subject
    if person.erased:
        raise ApiProblem(410, "the subject was erased", kind="subject-erased")
    owner = runtime.subjects.find(device)
    if owner == subject_id:
        return False
    if owner is None:
        runtime.subjects.add_identity(subject_id, device, actor=actor)
        return False
    _refuse_another_persons_device(runtime, device, subject_id)
    _copy_decisions(runtime, owner, subject_id, actor)
    runtime.subjects.erase(owner, actor=actor, reason=f"device linked to subject {subject_id}")
    runtime.subjects.add_identity(subject_id, device, actor=actor)
    return True


def _refuse_another_persons_device(
    runtime: RuntimeDep, device: Identity, subject_id: str | None
) -> None:
    owner = runtime.subjects.find(device)
    if owner is None or owner == subject_id:
        return
    if any(identity != device for identity in runtime.subjects.get(owner).identities):
        raise ApiProblem(
            409,
            "the device id belongs to another subject, known by other identities too:"
            " two people's records are not merged",
            kind="conflict",
        )


def _copy_decisions(runtime: RuntimeDep, source: str, target: str, actor: str) -> None:
    theirs = runtime.ledger.state(target)
    events = {event.id: event for event in runtime.ledger.history(source)}
    purposes = runtime.declaration.purposes
    decided = runtime.ledger.state(source).values()
    in_order = sorted(decided, key=lambda state: events[state.event_id].seq)  # as decided
    with runtime.database.transaction() as connection:
        for state in in_order:
            purpose = state.purpose
            later = theirs.get(purpose)
            declared = purposes.get(purpose)
            if later is not None and later.updated_at >= state.updated_at:
                continue
            if declared is None or declared.legal_basis is not LegalBasis.CONSENT:
                continue  # no longer a consent purpose under this declaration
            original = events[state.event_id]
            runtime.ledger.record(
                target,
                purpose,
                state.decision,
                channel=original.channel,
                actor=actor,
                evidence=original.evidence,
                connection=connection,
            )
