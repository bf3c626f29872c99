"""Purpose decisions: may this purpose process these categories of this person's data now?

Plain Python, no I/O. :func:`decide` and :func:`decide_disclosure` are pure functions of the
declaration, the subject's state (:class:`SubjectState`) and the time. The rules, in the
order they are checked (each a function in :mod:`pledge.enforcement.rules`):

1. The purpose must be declared (else :class:`~pledge.errors.NotFound`), and every category
   asked for must be covered by the purpose's declared categories (``contact`` covers
   ``contact.email``).
2. A purpose without a declared legal basis may never run (GDPR Art. 6(1)).
3. Special categories of data (GDPR Art. 9: health, biometric, genetic, racial or ethnic
   origin, political opinions, religious beliefs, trade-union membership, sex life) are
   processed only on explicit consent (a purpose based on consent: its grant, Art. 9(2)(a))
   or on another Art. 9(2) condition the purpose declares (``special_category_condition``).
4. Criminal-offence data (GDPR Art. 10) are processed only as a law the purpose names
   authorises, or under an official authority (``criminal_data_authorisation``), whatever
   the basis, consent included.
5. An erased subject's data is not processed at all.
6. A restricted subject's data may only be stored (GDPR Art. 18).
7. An objection to direct marketing is absolute (GDPR Art. 21(3)): it stops every purpose
   marked ``direct_marketing``, whatever its basis and even when consent was given.
8. An opt-out of the sale or sharing of personal information stops a purpose marked
   ``sale_or_sharing`` or ``targeted_advertising``, whatever its basis (CCPA 1798.120): for a
   consent purpose a withdrawal or refusal, for any other an objection to the purpose (both
   what a Global Privacy Control signal records).
9. A limit on the use of sensitive personal information (CCPA 1798.121, the objection scope
   ``limit_sensitive``) stops every purpose that declares no ``ccpa_sensitive_use`` (a use
   1798.121(a) and 11 CCR 7027(m) allow) from using the person's sensitive categories,
   unless the purpose is based on a legal obligation (the CCPA does not restrict complying
   with the law, 1798.145(a)(1)); a grant to a consent purpose given after the limit is the
   person's consent to that use (1798.121(b)).
10. Consent needs a current grant: one that was not withdrawn or refused and, where the
    purpose declares a ``consent_max_age``, was given less than that long ago (the person is
    then asked again); a child (``consent_age_from`` later than now) needs a grant given by
    their guardian (GDPR Art. 8).
11. Legitimate interests and public task run unless the person objected to this purpose or to
    all of them (``*``) (GDPR Art. 21(1)).
12. Contract, legal obligation and vital interests run.

An allowed decision names its Art. 6(1) basis, and the Art. 9(2) condition or the Art. 10
authorisation when special categories or criminal-offence data are among the categories.

The declaration is compiled once into :class:`Rules` (per-purpose data and each purpose's
applicable rules precomputed), which is what the decider calls on its hot path;
:func:`decide` compiles, or reuses, the rules of the declaration it is given.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence

from pledge.declaration.model import Declaration, LegalBasis
from pledge.enforcement.purposes import CompiledPurpose, compile_purpose
from pledge.enforcement.rules import RULES, allow, deny
from pledge.enforcement.state import (
    ALL_PURPOSES,
    DIRECT_MARKETING,
    GRANTED,
    LIMIT_SENSITIVE,
    ConsentRecord,
    Decision,
    SubjectState,
    expires_at,
    make_decision,
)
from pledge.errors import NotFound, UsageError


class Rules:
    """A declaration compiled for decisions: per-purpose and per-recipient data precomputed.

    Args:
        declaration: the declaration in force.
    """

    def __init__(self, declaration: Declaration) -> None:
        self.declaration = declaration
        taxonomy = declaration.taxonomy
        self._covers = taxonomy.covers
        self._purposes: dict[str, CompiledPurpose] = {}
        for key, purpose in declaration.purposes.items():
            compiled = compile_purpose(key, purpose, taxonomy)
            compiled.prepare(RULES)
            self._purposes[key] = compiled
        self._recipient_categories = {
            key: tuple(declaration.recipient_categories(key)) for key in declaration.recipients
        }
        self._disclosure_categories: dict[tuple[str, str], tuple[str, ...]] = {}

    def check_scope(self, scope: str) -> None:
        """Refuse an objection scope that would stop nothing.

        Args:
            scope: a purpose key, ``*``, ``direct_marketing`` or ``limit_sensitive``.

        Raises:
            NotFound: a purpose key that is not declared.
            UsageError: a purpose an objection cannot apply to (GDPR Art. 21 covers
                legitimate interests, public task and direct marketing only).
        """
        if scope in (ALL_PURPOSES, DIRECT_MARKETING, LIMIT_SENSITIVE):
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

    def limited_purposes(self) -> list[str]:
        """The purposes a limit on sensitive personal information stops (CCPA 1798.121).

        Returns:
            The keys of the purposes that use sensitive personal information, declare no use
            1798.121(a) allows and are not required by law, in declaration order.
        """
        return [
            key
            for key, rule in self._purposes.items()
            if rule.uses_sensitive and rule.limit_exemption is None
        ]

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

        The purpose's rules that concern these categories are checked in their order; the
        first that denies decides, and a decision none denies is allowed.

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
        asked = rule.everything if categories is None else rule.asked(categories)
        for check in asked.checks:
            denied = check(rule, asked, state, now)
            if denied is not None:
                return denied
        return allow(rule, asked, state, now)

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
            return _with_recipient(
                deny(
                    rule,
                    rule.asked(asked),
                    state,
                    "recipient_purpose_undeclared",
                    f"{recipient} is not a declared recipient for {purpose}",
                ),
                recipient,
            )
        covers = self._covers
        for category in asked:
            if not any(covers(given, category) for given in received):
                return _with_recipient(
                    deny(
                        rule,
                        rule.asked(asked),
                        state,
                        "recipient_category_undeclared",
                        f"{recipient} is not declared to receive {category}",
                    ),
                    recipient,
                )
        decision = self.decide(state, purpose, asked, now)
        if not decision.allowed:
            return _with_recipient(decision, recipient)
        return _with_recipient(
            decision,
            recipient,
            f"{recipient} may receive this data for {purpose}: {decision.reason}",
        )

    def _rule(self, purpose: str) -> CompiledPurpose:
        rule = self._purposes.get(purpose)
        if rule is None:
            raise NotFound(f"no purpose '{purpose}' in the declaration")
        return rule

    def _shared_categories(
        self, recipient: str, rule: CompiledPurpose, received: tuple[str, ...]
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


def _with_recipient(decision: Decision, recipient: str, reason: str | None = None) -> Decision:
    return make_decision(
        decision.allowed,
        decision.subject_id,
        decision.purpose,
        decision.legal_basis,
        decision.reason if reason is None else reason,
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


__all__ = [
    "ALL_PURPOSES",
    "DIRECT_MARKETING",
    "GRANTED",
    "LIMIT_SENSITIVE",
    "ConsentRecord",
    "Decision",
    "Rules",
    "SubjectState",
    "decide",
    "decide_disclosure",
    "expires_at",
    "rules_for",
]
