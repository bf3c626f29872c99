"""Purpose decisions: may this purpose process these categories of this person's data now?

Plain Python, no I/O. :func:`decide` and :func:`decide_disclosure` are pure functions of the
declaration, the subject's state (:class:`SubjectState`) and the time. The rules, in the
order they are checked:

1. The purpose must be declared (else :class:`~pledge.errors.NotFound`), and every category
   asked for must be covered by the purpose's declared categories (``contact`` covers
   ``contact.email``).
2. A purpose without a declared legal basis may never run (GDPR Art. 6(1)).
3. An erased subject's data is not processed at all.
4. A restricted subject's data may only be stored (GDPR Art. 18).
5. An objection to direct marketing is absolute (GDPR Art. 21(3)): it stops every purpose
   marked ``direct_marketing``, whatever its basis and even when consent was given.
6. An opt-out of the sale or sharing of personal information stops a purpose marked
   ``sale_or_sharing`` or ``targeted_advertising``, whatever its basis (CCPA 1798.120): for a
   consent purpose a withdrawal or refusal, for any other an objection to the purpose (both
   what a Global Privacy Control signal records).
7. Consent needs a current grant: one that was not withdrawn or refused and, where the purpose
   declares a ``consent_max_age``, was given less than that long ago (the person is then asked
   again); a child (``consent_age_from`` later than now) needs a grant given by their
   guardian (GDPR Art. 8).
8. Legitimate interests and public task run unless the person objected to this purpose or to
   all of them (``*``) (GDPR Art. 21(1)).
9. Contract, legal obligation and vital interests run.

The declaration is compiled once into :class:`Rules` (per-purpose data precomputed), which
is what the decider calls on its hot path; :func:`decide` compiles, or reuses, the rules of
the declaration it is given.
"""

from __future__ import annotations

import calendar
import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pledge.declaration.duration import Duration
from pledge.declaration.model import Declaration, LegalBasis, Purpose
from pledge.errors import NotFound, UsageError

GRANTED: Final = "granted"
"""The consent decision that lets a consent purpose run (``consent_state.decision``)."""

ALL_PURPOSES: Final = "*"
"""Objection scope: every purpose based on legitimate interests or a public task."""

DIRECT_MARKETING: Final = "direct_marketing"
"""Objection scope: every purpose marked ``direct_marketing`` (absolute, GDPR Art. 21(3))."""

_ARTICLE = {
    LegalBasis.CONSENT: "GDPR Art. 6(1)(a)",
    LegalBasis.CONTRACT: "GDPR Art. 6(1)(b)",
    LegalBasis.LEGAL_OBLIGATION: "GDPR Art. 6(1)(c)",
    LegalBasis.VITAL_INTERESTS: "GDPR Art. 6(1)(d)",
    LegalBasis.PUBLIC_TASK: "GDPR Art. 6(1)(e)",
    LegalBasis.LEGITIMATE_INTERESTS: "GDPR Art. 6(1)(f)",
}
_OBJECTABLE = frozenset({LegalBasis.LEGITIMATE_INTERESTS, LegalBasis.PUBLIC_TASK})
_MEMO_LIMIT = 4096  # distinct category lists remembered per purpose


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to "may this purpose process these categories of this subject now?".

    A decision is truthy when allowed, so ``if pledge.may_process(...):`` reads as it should.

    Args:
        allowed: whether the processing may happen.
        subject_id: whom it is about (a pseudonymous id).
        purpose: the purpose asked about.
        legal_basis: the purpose's declared legal basis, or None when it declares none.
        reason: why, in one plain-language sentence.
        categories: the data categories the decision covers.
        recipient: for a disclosure, who receives the data.
        rule: a short stable code for the rule that decided (``consent_missing`` …).
    """

    allowed: bool
    subject_id: str
    purpose: str
    legal_basis: str | None
    reason: str
    categories: tuple[str, ...]
    recipient: str | None = None
    rule: str = ""

    def __bool__(self) -> bool:
        return self.allowed

    def to_dict(self) -> dict[str, Any]:
        """The decision as plain JSON-ready data.

        Returns:
            A dict with every field; ``categories`` as a list.
        """
        return {
            "allowed": self.allowed,
            "subject_id": self.subject_id,
            "purpose": self.purpose,
            "legal_basis": self.legal_basis,
            "reason": self.reason,
            "categories": list(self.categories),
            "recipient": self.recipient,
            "rule": self.rule,
        }


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """A subject's current consent decision about one purpose.

    Args:
        decision: ``granted``, ``withdrawn`` or ``refused``.
        guardian_id: the guardian who decided for a child, if one did.
        decided_at: when the decision was recorded; a grant of unknown age counts as
            expired where the purpose declares a ``consent_max_age``.
    """

    decision: str
    guardian_id: str | None = None
    decided_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class SubjectState:
    """Everything about a subject that decisions depend on, read at one moment.

    Args:
        subject_id: the subject's id.
        consents: purpose → the current consent decision.
        objections: the scopes objected to: purpose keys, ``*`` or ``direct_marketing``.
        restricted: processing is restricted to storage (GDPR Art. 18).
        erased: the subject was erased.
        consent_age_from: from when the subject may consent alone (GDPR Art. 8); None when
            unknown, which counts as an adult.
        guardian_id: the subject's guardian, if one is recorded.
    """

    subject_id: str
    consents: Mapping[str, ConsentRecord] = field(default_factory=dict)
    objections: frozenset[str] = frozenset()
    restricted: bool = False
    erased: bool = False
    consent_age_from: dt.datetime | None = None
    guardian_id: str | None = None

    def is_child(self, now: dt.datetime) -> bool:
        """Whether the subject is below the age of digital consent at ``now``."""
        return self.consent_age_from is not None and self.consent_age_from > now


@dataclass(frozen=True, slots=True, eq=False)
class _PurposeRule:
    """One purpose, compiled: what every decision about it needs, computed once."""

    key: str
    basis: LegalBasis | None
    basis_text: str | None
    categories: tuple[str, ...]
    direct_marketing: bool
    opt_out: bool  # sale, sharing or targeted advertising: honours opt-outs of any basis
    objection_scopes: frozenset[str]  # scopes whose objection stops this purpose
    absolute_scopes: frozenset[str]  # of those, the ones that stop it whatever its basis
    allowed_reason: str
    max_age: Duration | None  # how long a grant counts (consent purposes)
    memo: dict[tuple[str, ...], str | None] = field(default_factory=dict)


class Rules:
    """A declaration compiled for decisions: per-purpose and per-recipient data precomputed.

    Args:
        declaration: the declaration in force.
    """

    def __init__(self, declaration: Declaration) -> None:
        self.declaration = declaration
        self._covers = declaration.taxonomy.covers
        self._purposes = {
            key: _compile(key, purpose) for key, purpose in declaration.purposes.items()
        }
        self._recipient_categories = {
            key: tuple(declaration.recipient_categories(key)) for key in declaration.recipients
        }
        self._disclosure_categories: dict[tuple[str, str], tuple[str, ...]] = {}

    def check_scope(self, scope: str) -> None:
        """Refuse an objection scope that would stop nothing.

        Args:
            scope: a purpose key, ``*`` or ``direct_marketing``.

        Raises:
            NotFound: a purpose key that is not declared.
            UsageError: a purpose an objection cannot apply to (GDPR Art. 21 covers
                legitimate interests, public task and direct marketing only).
        """
        if scope in (ALL_PURPOSES, DIRECT_MARKETING):
            return
        rule = self._rule(scope)
        if scope not in rule.objection_scopes:
            raise UsageError(
                f"an objection (GDPR Art. 21) applies to purposes based on legitimate interests"
                f" or a public task, used for direct marketing, or selling or sharing personal"
                f" information (an opt-out, CCPA 1798.120); '{scope}' is based on"
                f" {rule.basis_text or 'no legal basis'}"
                + ("; withdraw consent instead" if rule.basis is LegalBasis.CONSENT else "")
            )

    def next_expiry(self, state: SubjectState, now: dt.datetime) -> dt.datetime | None:
        """The first moment after ``now`` at which one of the subject's grants expires.

        Decisions on the state stay the same until then (or until the state changes), so a
        cache of the state must not outlive it.

        Args:
            state: the subject's state.
            now: the current time.

        Returns:
            The moment, or None when no current grant expires.
        """
        found: dt.datetime | None = None
        for purpose, record in state.consents.items():
            rule = self._purposes.get(purpose)
            if rule is None or rule.max_age is None or record.decision != GRANTED:
                continue
            if record.decided_at is None:
                continue  # counts as expired already
            moment = expires_at(record.decided_at, rule.max_age)
            if moment > now and (found is None or moment < found):
                found = moment
        return found

    def decide(
        self,
        state: SubjectState,
        purpose: str,
        categories: Sequence[str] | None,
        now: dt.datetime,
    ) -> Decision:
        """Decide whether ``purpose`` may process ``categories`` of the subject now.

        Args:
            state: the subject's state.
            purpose: a declared purpose key.
            categories: the categories to process; None for all the purpose declares.
            now: the current time (for the age of digital consent).

        Returns:
            The decision with its reason.

        Raises:
            NotFound: the purpose is not declared.
        """
        rule = self._purposes.get(purpose)
        if rule is None:
            raise NotFound(f"no purpose '{purpose}' in the declaration")
        if categories is None:
            asked = rule.categories
        else:
            asked = (categories,) if isinstance(categories, str) else tuple(categories)
            undeclared = rule.memo.get(asked, "") if asked else None
            if undeclared == "":
                undeclared = self._undeclared(rule, asked)
            if undeclared is not None:
                return _deny(
                    state,
                    rule,
                    asked,
                    "category_undeclared",
                    f"{undeclared} is not among the categories declared for {purpose}",
                )
        if rule.basis is None:
            return _deny(
                state,
                rule,
                asked,
                "no_legal_basis",
                f"{purpose} declares no legal basis (GDPR Art. 6(1))",
            )
        if state.erased:
            return _deny(state, rule, asked, "erased", "the subject was erased")
        if state.restricted:
            return _deny(
                state,
                rule,
                asked,
                "restricted",
                "processing is restricted to storage (GDPR Art. 18)",
            )
        objections = state.objections
        if objections and not objections.isdisjoint(rule.absolute_scopes):
            return _deny(
                state,
                rule,
                asked,
                "objected_direct_marketing",
                "the subject objected to direct marketing, which is absolute (GDPR Art. 21(3))",
            )
        consents = state.consents
        if rule.opt_out:
            record = consents.get(purpose)
            if (record is not None and record.decision != GRANTED) or purpose in objections:
                return _deny(
                    state,
                    rule,
                    asked,
                    "opted_out",
                    f"the subject opted out of {purpose}, which sells or shares personal"
                    " information (CCPA 1798.120)",
                )
        basis = rule.basis
        if basis is LegalBasis.CONSENT:
            record = consents.get(purpose)
            if record is None:
                return _deny(
                    state,
                    rule,
                    asked,
                    "consent_missing",
                    f"no consent to {purpose} is recorded (GDPR Art. 6(1)(a))",
                )
            if record.decision != GRANTED:
                return _deny(
                    state,
                    rule,
                    asked,
                    f"consent_{record.decision}",
                    f"consent to {purpose} was {record.decision} (GDPR Art. 7(3))",
                )
            max_age = rule.max_age
            if max_age is not None and (
                record.decided_at is None or now >= expires_at(record.decided_at, max_age)
            ):
                given = (
                    f"was given on {record.decided_at.date().isoformat()}"
                    if record.decided_at is not None
                    else "is of unknown age"
                )
                return _deny(
                    state,
                    rule,
                    asked,
                    "consent_expired",
                    f"consent to {purpose} {given} and has expired: the declaration asks again"
                    f" after {max_age.describe()} (consent_max_age {max_age})",
                )
            if state.consent_age_from is not None and state.consent_age_from > now:
                guardian = record.guardian_id
                if guardian is None or (
                    state.guardian_id is not None and guardian != state.guardian_id
                ):
                    return _deny(
                        state,
                        rule,
                        asked,
                        "guardian_consent_missing",
                        f"the subject is below the age of digital consent and no guardian"
                        f" consented to {purpose} (GDPR Art. 8)",
                    )
                return Decision(
                    True,
                    state.subject_id,
                    purpose,
                    rule.basis_text,
                    f"{purpose} may run: the subject's guardian consented (GDPR Art. 8)",
                    asked,
                    None,
                    "guardian_consent",
                )
        elif objections and not objections.isdisjoint(rule.objection_scopes):
            return _deny(
                state,
                rule,
                asked,
                "objected",
                f"the subject objected to {purpose} (GDPR Art. 21(1))",
            )
        return Decision(
            True,
            state.subject_id,
            purpose,
            rule.basis_text,
            rule.allowed_reason,
            asked,
            None,
            "allowed",
        )

    def decide_disclosure(
        self,
        state: SubjectState,
        recipient: str,
        categories: Sequence[str] | None,
        purpose: str | None,
        now: dt.datetime,
    ) -> Decision:
        """Decide whether the subject's data may be disclosed to ``recipient`` now.

        Args:
            state: the subject's state.
            recipient: a declared recipient key.
            categories: the categories to disclose; None for every category the recipient
                receives for the purpose.
            purpose: the purpose of the disclosure; None when the recipient has exactly one.
            now: the current time.

        Returns:
            The decision, with ``recipient`` set.

        Raises:
            NotFound: the recipient or the purpose is not declared.
            UsageError: no purpose given and the recipient receives data for several.
        """
        received = self._recipient_categories.get(recipient)
        if received is None:
            raise NotFound(f"no recipient '{recipient}' in the declaration")
        declared = self.declaration.recipients[recipient]
        if purpose is None:
            if len(declared.purposes) != 1:
                raise UsageError(
                    f"{recipient} receives data for {len(declared.purposes)} purposes;"
                    " name the purpose of this disclosure"
                )
            purpose = declared.purposes[0]
        rule = self._rule(purpose)
        if categories is None:
            asked = self._shared_categories(recipient, rule, received)
        else:
            asked = (categories,) if isinstance(categories, str) else tuple(categories)
        if purpose not in declared.purposes:
            return _deny(
                state,
                rule,
                asked,
                "recipient_purpose_undeclared",
                f"{recipient} is not a declared recipient for {purpose}",
                recipient,
            )
        covers = self._covers
        for category in asked:
            if not any(covers(given, category) for given in received):
                return _deny(
                    state,
                    rule,
                    asked,
                    "recipient_category_undeclared",
                    f"{recipient} is not declared to receive {category}",
                    recipient,
                )
        decision = self.decide(state, purpose, asked, now)
        if not decision.allowed:
            return _with_recipient(decision, recipient, decision.reason)
        return _with_recipient(
            decision,
            recipient,
            f"{recipient} may receive this data for {purpose}: {decision.reason}",
        )

    def _rule(self, purpose: str) -> _PurposeRule:
        rule = self._purposes.get(purpose)
        if rule is None:
            raise NotFound(f"no purpose '{purpose}' in the declaration")
        return rule

    def _undeclared(self, rule: _PurposeRule, asked: tuple[str, ...]) -> str | None:
        covers = self._covers
        found = next(
            (c for c in asked if not any(covers(used, c) for used in rule.categories)), None
        )
        if len(rule.memo) < _MEMO_LIMIT:
            rule.memo[asked] = found
        return found

    def _shared_categories(
        self, recipient: str, rule: _PurposeRule, received: tuple[str, ...]
    ) -> tuple[str, ...]:
        key = (recipient, rule.key)
        shared = self._disclosure_categories.get(key)
        if shared is None:
            covers = self._covers
            # The purpose's categories the recipient receives, and the recipient's narrower
            # categories inside the purpose's broader ones.
            found = [c for c in rule.categories if any(covers(r, c) for r in received)]
            found += [
                r for r in received if r not in found and any(covers(c, r) for c in rule.categories)
            ]
            shared = self._disclosure_categories[key] = tuple(found)
        return shared


def _compile(key: str, purpose: Purpose) -> _PurposeRule:
    basis: LegalBasis | None = purpose.legal_basis
    scopes: set[str] = set()
    absolute: set[str] = set()
    if basis in _OBJECTABLE:
        scopes |= {key, ALL_PURPOSES}
    if purpose.direct_marketing:
        absolute |= {key, DIRECT_MARKETING}
        scopes |= absolute
    opt_out = bool(purpose.sale_or_sharing or purpose.targeted_advertising)
    if opt_out and basis is not LegalBasis.CONSENT:
        scopes.add(key)  # an opt-out of the sale or sharing (consent ones are withdrawn)
    if basis is None:
        allowed = ""
    elif basis is LegalBasis.CONSENT:
        allowed = f"{key} may run: the subject consented ({_ARTICLE[basis]})"
    elif basis in _OBJECTABLE:
        interest = (
            "legitimate interests"
            if basis is LegalBasis.LEGITIMATE_INTERESTS
            else ("a task in the public interest")
        )
        allowed = (
            f"{key} may run on {interest} and the subject has not objected ({_ARTICLE[basis]})"
        )
    else:
        grounds = {
            LegalBasis.CONTRACT: "is necessary for a contract with the subject",
            LegalBasis.LEGAL_OBLIGATION: "is required by law",
            LegalBasis.VITAL_INTERESTS: "protects someone's vital interests",
        }[basis]
        allowed = f"{key} may run: it {grounds} ({_ARTICLE[basis]})"
    return _PurposeRule(
        key=key,
        basis=basis,
        basis_text=basis.value if basis is not None else None,
        categories=tuple(purpose.categories),
        direct_marketing=bool(purpose.direct_marketing),
        opt_out=opt_out,
        objection_scopes=frozenset(scopes),
        absolute_scopes=frozenset(absolute),
        allowed_reason=allowed,
        max_age=purpose.consent_max_age,
    )


def _deny(
    state: SubjectState,
    rule: _PurposeRule,
    categories: tuple[str, ...],
    code: str,
    reason: str,
    recipient: str | None = None,
) -> Decision:
    return Decision(
        False, state.subject_id, rule.key, rule.basis_text, reason, categories, recipient, code
    )


def expires_at(decided_at: dt.datetime, max_age: Duration) -> dt.datetime:
    """The moment a grant given at ``decided_at`` expires under ``max_age``.

    Years and months count on the calendar, the day clamped to the month's last (a grant of
    31 January with ``P1M`` expires on the last day of February, at the same time of day);
    weeks, days and smaller units in exact time.

    Args:
        decided_at: when the grant was recorded.
        max_age: the purpose's ``consent_max_age``.

    Returns:
        The first moment at which the grant no longer counts.
    """
    parts = max_age.parts
    months = decided_at.month - 1 + 12 * parts.get("years", 0) + parts.get("months", 0)
    year, month = decided_at.year + months // 12, months % 12 + 1
    day = min(decided_at.day, calendar.monthrange(year, month)[1])
    moved = decided_at.replace(year=year, month=month, day=day)
    return moved + dt.timedelta(
        weeks=parts.get("weeks", 0),
        days=parts.get("days", 0),
        hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0),
        seconds=parts.get("seconds", 0),
    )


def _with_recipient(decision: Decision, recipient: str, reason: str) -> Decision:
    return Decision(
        decision.allowed,
        decision.subject_id,
        decision.purpose,
        decision.legal_basis,
        reason,
        decision.categories,
        recipient,
        decision.rule,
    )


# --- the pure functions ----------------------------------------------------------------------

_compiled: dict[int, tuple[Declaration, Rules]] = {}
_compiled_lock = threading.Lock()


def rules_for(declaration: Declaration) -> Rules:
    """The compiled rules of ``declaration``, compiled on first use and then reused.

    Args:
        declaration: the declaration in force.

    Returns:
        Its :class:`Rules`.
    """
    found = _compiled.get(id(declaration))
    if found is not None and found[0] is declaration:
        return found[1]
    rules = Rules(declaration)
    with _compiled_lock:
        if len(_compiled) >= 8:  # a few declarations at a time: tests, a reload
            _compiled.pop(next(iter(_compiled)))
        _compiled[id(declaration)] = (declaration, rules)
    return rules


def decide(
    declaration: Declaration | Rules,
    state: SubjectState,
    purpose: str,
    categories: Sequence[str] | None,
    now: dt.datetime,
) -> Decision:
    """Decide whether ``purpose`` may process ``categories`` of the subject now.

    Args:
        declaration: the declaration in force (or its compiled :class:`Rules`).
        state: the subject's state.
        purpose: a declared purpose key.
        categories: the categories to process; None for all the purpose declares.
        now: the current time, timezone-aware.

    Returns:
        The decision with its reason.

    Raises:
        NotFound: the purpose is not declared.
    """
    rules = declaration if isinstance(declaration, Rules) else rules_for(declaration)
    return rules.decide(state, purpose, categories, now)


def decide_disclosure(
    declaration: Declaration | Rules,
    state: SubjectState,
    recipient: str,
    categories: Sequence[str] | None,
    purpose: str | None,
    now: dt.datetime,
) -> Decision:
    """Decide whether the subject's data may be disclosed to ``recipient`` now.

    The recipient must be declared, for this purpose, and receive every category asked for;
    then the purpose itself must be allowed to process them (see :func:`decide`).

    Args:
        declaration: the declaration in force (or its compiled :class:`Rules`).
        state: the subject's state.
        recipient: a declared recipient key.
        categories: the categories to disclose; None for all the recipient receives for
            the purpose.
        purpose: the purpose of the disclosure; None when the recipient has only one.
        now: the current time, timezone-aware.

    Returns:
        The decision, with ``recipient`` set.

    Raises:
        NotFound: the recipient or the purpose is not declared.
        UsageError: no purpose given and the recipient receives data for several.
    """
    rules = declaration if isinstance(declaration, Rules) else rules_for(declaration)
    return rules.decide_disclosure(state, recipient, categories, purpose, now)
