"""``/decisions`` and ``/disclosures``: may this purpose process this subject's data now, and may
it go to this recipient? Each answer is written to the audit trail.

A denial is an answer, not an error: it comes back as 200 with ``allowed: false`` and the
reason. Unknown subjects, purposes and recipients are 404 problems.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from pledge.enforcement.model import Decision
from pledge.web.api.deps import ULID_PATTERN, DecisionMaker, RuntimeDep
from pledge.web.api.problems import responses
from pledge.web.api.schemas import DeclarationKey, Schema

router = APIRouter(tags=["decisions"])


class DecisionIn(Schema):
    """A question: may ``purpose`` process these ``categories`` of this subject now?"""

    subject_id: str = Field(pattern=ULID_PATTERN)
    purpose: DeclarationKey
    categories: list[DeclarationKey] | None = Field(
        None, max_length=100, description="The data categories used; all of the purpose's if null."
    )


class DisclosureIn(Schema):
    """A question: may these categories of this subject go to ``recipient`` for ``purpose``?"""

    subject_id: str = Field(pattern=ULID_PATTERN)
    recipient: DeclarationKey = Field(examples=["mailer"])
    categories: list[DeclarationKey] | None = Field(
        None,
        max_length=100,
        description="The categories disclosed; all the recipient receives for the purpose if null.",
    )
    purpose: DeclarationKey | None = Field(
        None, description="Why; may be left out when the recipient receives data for one purpose."
    )


class DecisionOut(BaseModel):
    """The answer, with the rule that gave it and why."""

    allowed: bool
    subject_id: str
    purpose: str
    legal_basis: str | None = Field(description="The purpose's declared legal basis.")
    reason: str = Field(description="Why, in one plain sentence.")
    categories: list[str]
    recipient: str | None = Field(description="For a disclosure, who receives the data.")
    rule: str = Field(description="A stable code for the rule that decided.")


def _out(decision: Decision) -> DecisionOut:
    return DecisionOut(
        allowed=decision.allowed,
        subject_id=decision.subject_id,
        purpose=decision.purpose,
        legal_basis=decision.legal_basis,
        reason=decision.reason,
        categories=list(decision.categories),
        recipient=decision.recipient,
        rule=decision.rule,
    )


@router.post("/decisions", summary="Decide whether a purpose may process", responses=responses(404))
def decide(body: DecisionIn, runtime: RuntimeDep, key: DecisionMaker) -> DecisionOut:
    """Whether ``purpose`` may process the subject's data now, and why."""
    decision = runtime.decider.may_process(
        body.subject_id, body.purpose, body.categories, actor=key.actor
    )
    return _out(decision)


@router.post(
    "/disclosures", summary="Decide whether data may be disclosed", responses=responses(404)
)
def decide_disclosure(body: DisclosureIn, runtime: RuntimeDep, key: DecisionMaker) -> DecisionOut:
    """Whether the categories may be disclosed to ``recipient`` for ``purpose``, and why."""
    decision = runtime.decider.may_disclose(
        body.subject_id, body.recipient, body.categories, body.purpose, actor=key.actor
    )
    return _out(decision)
