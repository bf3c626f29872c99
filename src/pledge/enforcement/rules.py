"""The rules of purpose decisions: one small function per numbered rule, in order.

Plain Python, no I/O. Each rule looks at one purpose (compiled), the categories asked about,
the subject's state and the time, and returns a denial, or None to let the next rule decide;
a decision no rule denies is allowed. Each rule also says which purposes it can apply to, so
that a purpose is checked only by its own rules (a contract purpose never looks for a grant).
:data:`RULES` is the order; a new rule slots in at its place with its number in
:mod:`pledge.enforcement.model`'s list. A rule may also say which categories it concerns, so
that a decision about others skips it (rule 3 only looks at special categories).
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from pledge.declaration.model import LegalBasis
from pledge.enforcement.purposes import Asked, CompiledPurpose, Rule
from pledge.enforcement.state import (
    GRANTED,
    LIMIT_SENSITIVE,
    Decision,
    SubjectState,
    expires_at,
    make_decision,
)


def deny(
    purpose: CompiledPurpose,
    asked: Asked,
    state: SubjectState,
    code: str,
    reason: str,
) -> Decision:
    """A denial of ``purpose`` for the subject, with its rule code and reason."""
    return make_decision(
        False,
        state.subject_id,
        purpose.key,
        purpose.basis_text,
        reason,
        asked.categories,
        None,
        code,
    )


def allow(
    purpose: CompiledPurpose, asked: Asked, state: SubjectState, now: dt.datetime
) -> Decision:
    """The decision when no rule denies: allowed, with the grounds that allow it."""
    if purpose.consent and state.consent_age_from is not None and state.consent_age_from > now:
        reason, code = asked.guardian_reason, "guardian_consent"
    else:
        reason, code = asked.allowed_reason, "allowed"
    exemption = purpose.limit_exemption
    if exemption is not None and asked.sensitive and LIMIT_SENSITIVE in state.objections:
        reason += exemption
    return make_decision(
        True,
        state.subject_id,
        purpose.key,
        purpose.basis_text,
        reason,
        asked.categories,
        None,
        code,
    )


# --- 1. declared categories ---------------------------------------------------------------------


def declared_categories(
    purpose: CompiledPurpose, asked: Asked, state: SubjectState, now: dt.datetime
) -> Decision | None:
    """Every category asked for is covered by one the purpose declares."""
    if asked.undeclared is None:
        return None
    return deny(
        purpose,
        asked,
        state,
        "category_undeclared",
        f"{asked.undeclared} is not among the categories declared for {purpose.key}",
    )


# --- 2. a legal basis ---------------------------------------------------------------------------


def legal_basis(
    purpose: CompiledPurpose, asked: Asked, state: SubjectState, now: dt.datetime
) -> Decision | None:
    """A purpose without a declared legal basis never runs (GDPR Art. 6(1))."""
    return deny(
        purpose,
        asked,
        state,
        "no_legal_basis",
        f"{purpose.key} declares no legal basis (GDPR Art. 6(1))",
    )


# --- 3. special categories ----------------------------------------------------------------------


def special_categories(
    purpose: CompiledPurpose, asked: Asked, state: SubjectState, now: dt.datetime
) -> Decision | None:
    """Special categories need explicit consent or another Art. 9(2) condition (Art. 9(1))."""
    if not asked.special:
        return None
    return deny(
        purpose,
        asked,
        state,
        "special_category_condition_missing",
        f"{purpose.key} may not process special categories of data ({', '.join(asked.special)}):"
        f" it is based on {purpose.basis_text}, not on explicit consent, and declares no"
        " other condition of GDPR Art. 9(2) (Art. 9(1))",
    )


# --- 4. criminal-offence data -------------------------------------------------------------------


def criminal_data(
    purpose: CompiledPurpose, asked: Asked, state: SubjectState, now: dt.datetime
) -> Decision | None:
    """Criminal-offence data only under official authority or as the law authorises (Art. 10)."""
    if not asked.criminal:
        return None
    return deny(
        purpose,
        asked,
        state,
        "criminal_data_unauthorised",
        f"{purpose.key} may not process criminal-offence data ({', '.join(asked.criminal)}):"
        " it declares no law that authorises it and no official authority that controls it"
        " (GDPR Art. 10)",
    )


# --- 5. erasure ---------------------------------------------------------------------------------


def erased(
    purpose: CompiledPurpose, asked: Asked, state: SubjectState, now: dt.datetime
) -> Decision | None:
    """An erased subject's data is not processed at all."""
    if not state.erased:
        return None
    return deny(purpose, asked, state, "erased", "the subject was erased")


# --- 6. restriction -----------------------------------------------------------------------------


def restricted(
    purpose: CompiledPurpose, asked: Asked, state: SubjectState, now: dt.datetime
) -> Decision | None:
    """A restricted subject's data may only be stored (GDPR Art. 18)."""
    if not state.restricted:
        return None
    return deny(
        purpose, asked, state, "restricted", "processing is restricted to storage (GDPR Art. 18)"
    )


# --- 7. objection to direct marketing -----------------------------------------------------------


def direct_marketing_objection(
    purpose: CompiledPurpose, asked: Asked, state: SubjectState, now: dt.datetime
) -> Decision | None:
    """An objection to direct marketing is absolute (GDPR Art. 21(3))."""
    objections = state.objections
    if not objections or objections.isdisjoint(purpose.absolute_scopes):
        return None
    return deny(
        purpose,
        asked,
        state,
        "objected_direct_marketing",
        "the subject objected to direct marketing, which is absolute (GDPR Art. 21(3))",
    )


# --- 8. opt-out of sale or sharing --------------------------------------------------------------


def sale_opt_out(
    purpose: CompiledPurpose, asked: Asked, state: SubjectState, now: dt.datetime
) -> Decision | None:
    """An opt-out stops a sale, sharing or targeted advertising, whatever its basis (CCPA
    1798.120): for a consent purpose a withdrawal or refusal, for any other an objection."""
    record = state.consents.get(purpose.key)
    if (record is None or record.decision == GRANTED) and purpose.key not in state.objections:
        return None
    return deny(
        purpose,
        asked,
        state,
        "opted_out",
        f"the subject opted out of {purpose.key}, which sells or shares personal information"
        " (CCPA 1798.120)",
    )


# --- 9. limit on sensitive personal information -------------------------------------------------


def sensitive_limit(
    purpose: CompiledPurpose, asked: Asked, state: SubjectState, now: dt.datetime
) -> Decision | None:
    """A limit on sensitive personal information stops its use outside the uses CCPA
    1798.121(a) allows and what the law requires (1798.145(a)(1)), unless the person consented
    to this purpose since (1798.121(b))."""
    if not asked.sensitive or LIMIT_SENSITIVE not in state.objections:
        return None
    if purpose.basis is LegalBasis.CONSENT:
        record = state.consents.get(purpose.key)
        limited_at = state.sensitive_limited_at
        if (
            record is not None
            and record.decision == GRANTED
            and record.decided_at is not None
            and limited_at is not None
            and record.decided_at > limited_at
        ):
            return None
    return deny(
        purpose,
        asked,
        state,
        "sensitive_use_limited",
        "the subject limited the use of their sensitive personal information"
        f" ({', '.join(asked.sensitive)}) to what CCPA 1798.121(a) allows, and {purpose.key}"
        " declares no such use",
    )


# --- 10. consent --------------------------------------------------------------------------------


def consent(
    purpose: CompiledPurpose, asked: Asked, state: SubjectState, now: dt.datetime
) -> Decision | None:
    """Consent needs a current grant, younger than ``consent_max_age``; a child's from their
    guardian (GDPR Art. 6(1)(a), 7(3), 8)."""
    key = purpose.key
    record = state.consents.get(key)
    if record is None:
        return deny(
            purpose,
            asked,
            state,
            "consent_missing",
            f"no consent to {key} is recorded (GDPR Art. 6(1)(a))",
        )
    if record.decision != GRANTED:
        return deny(
            purpose,
            asked,
            state,
            f"consent_{record.decision}",
            f"consent to {key} was {record.decision} (GDPR Art. 7(3))",
        )
    max_age = purpose.max_age
    if max_age is not None and (
        record.decided_at is None or now >= expires_at(record.decided_at, max_age)
    ):
        given = (
            f"was given on {record.decided_at.date().isoformat()}"
            if record.decided_at is not None
            else "is of unknown age"
        )
        return deny(
            purpose,
            asked,
            state,
            "consent_expired",
            f"consent to {key} {given} and has expired: the declaration asks again"
            f" after {max_age.describe()} (consent_max_age {max_age})",
        )
    if state.is_child(now):
        guardian = record.guardian_id
        if guardian is None or (state.guardian_id is not None and guardian != state.guardian_id):
            return deny(
                purpose,
                asked,
                state,
                "guardian_consent_missing",
                "the subject is below the age of digital consent and no guardian consented to"
                f" {key} (GDPR Art. 8)",
            )
    return None


# --- 11. objection ------------------------------------------------------------------------------


def objection(
    purpose: CompiledPurpose, asked: Asked, state: SubjectState, now: dt.datetime
) -> Decision | None:
    """Legitimate interests and public task yield to an objection to the purpose or to all of
    them (GDPR Art. 21(1))."""
    objections = state.objections
    if not objections or objections.isdisjoint(purpose.objection_scopes):
        return None
    return deny(
        purpose,
        asked,
        state,
        "objected",
        f"the subject objected to {purpose.key} (GDPR Art. 21(1))",
    )


RULES: Final[tuple[Rule, ...]] = (
    Rule("declared categories", declared_categories, concerns=lambda a: a.undeclared is not None),
    Rule("legal basis", legal_basis, lambda p: p.basis is None),
    Rule(
        "special categories",
        special_categories,
        lambda p: p.basis is not None and p.uses_special and p.special_condition is None,
        lambda a: bool(a.special),
    ),
    Rule(
        "criminal-offence data",
        criminal_data,
        lambda p: p.basis is not None and p.uses_criminal and p.criminal_authorisation is None,
        lambda a: bool(a.criminal),
    ),
    Rule("erasure", erased),
    Rule("restriction", restricted),
    Rule("objection to direct marketing", direct_marketing_objection, lambda p: p.direct_marketing),
    Rule("opt-out of sale or sharing", sale_opt_out, lambda p: p.opt_out),
    Rule(
        "limit on sensitive personal information",
        sensitive_limit,
        lambda p: p.uses_sensitive and p.limit_exemption is None,
        lambda a: bool(a.sensitive),
    ),
    Rule("consent", consent, lambda p: p.consent),
    Rule(
        "objection",
        objection,
        lambda p: p.basis not in (None, LegalBasis.CONSENT) and bool(p.objection_scopes),
    ),
)
"""The rules, in the order they are checked (numbered as in :mod:`pledge.enforcement.model`)."""


__all__ = ["RULES", "Rule", "allow", "deny"]
