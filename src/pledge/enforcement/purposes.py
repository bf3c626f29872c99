"""A declared purpose compiled for decisions, and the categories a decision is asked about.

Plain Python, no I/O. What every decision about a purpose needs (its basis, its objection
scopes, which of its categories are special, criminal-offence data or sensitive personal
information, the sentences its decisions give as reasons) is computed once per declaration
into a :class:`CompiledPurpose`; what a decision needs about the categories asked for, once
per list of categories into an :class:`Asked`, remembered on the purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Final

from pledge.declaration.duration import Duration
from pledge.declaration.model import (
    LegalBasis,
    Purpose,
    SensitiveUse,
    SpecialCategoryCondition,
)
from pledge.declaration.taxonomy import Taxonomy
from pledge.enforcement.state import ALL_PURPOSES, DIRECT_MARKETING

if TYPE_CHECKING:
    import datetime as dt

    from pledge.enforcement.state import Decision, SubjectState

ARTICLE: Final = {
    LegalBasis.CONSENT: "GDPR Art. 6(1)(a)",
    LegalBasis.CONTRACT: "GDPR Art. 6(1)(b)",
    LegalBasis.LEGAL_OBLIGATION: "GDPR Art. 6(1)(c)",
    LegalBasis.VITAL_INTERESTS: "GDPR Art. 6(1)(d)",
    LegalBasis.PUBLIC_TASK: "GDPR Art. 6(1)(e)",
    LegalBasis.LEGITIMATE_INTERESTS: "GDPR Art. 6(1)(f)",
}
OBJECTABLE: Final = frozenset({LegalBasis.LEGITIMATE_INTERESTS, LegalBasis.PUBLIC_TASK})

# GDPR Art. 9(2): the letter of each condition and the words a reason names it with.
CONDITIONS: Final = {
    SpecialCategoryCondition.EXPLICIT_CONSENT: ("a", "the subject's explicit consent"),
    SpecialCategoryCondition.EMPLOYMENT_AND_SOCIAL_SECURITY: (
        "b",
        "obligations and rights in employment and social security law",
    ),
    SpecialCategoryCondition.VITAL_INTERESTS: (
        "c",
        "someone's vital interests while the subject cannot consent",
    ),
    SpecialCategoryCondition.NOT_FOR_PROFIT_BODY: (
        "d",
        "the activities of a not-for-profit body with its members",
    ),
    SpecialCategoryCondition.MADE_PUBLIC_BY_SUBJECT: (
        "e",
        "data the subject manifestly made public",
    ),
    SpecialCategoryCondition.LEGAL_CLAIMS: ("f", "legal claims"),
    SpecialCategoryCondition.SUBSTANTIAL_PUBLIC_INTEREST: (
        "g",
        "a substantial public interest the law provides for",
    ),
    SpecialCategoryCondition.HEALTH_OR_SOCIAL_CARE: ("h", "health or social care"),
    SpecialCategoryCondition.PUBLIC_HEALTH: ("i", "public health"),
    SpecialCategoryCondition.ARCHIVING_RESEARCH_STATISTICS: (
        "j",
        "archiving, research or statistics",
    ),
}

# CCPA 1798.121(a) and 11 CCR 7027(m): the uses a request to limit leaves in place.
SENSITIVE_USES: Final = {
    SensitiveUse.EXPECTED_SERVICE: "providing the goods or services the person asked for",
    SensitiveUse.SECURITY_INCIDENTS: "detecting and investigating security incidents",
    SensitiveUse.MALICIOUS_ACTIONS: (
        "resisting malicious, deceptive, fraudulent or illegal actions"
    ),
    SensitiveUse.PHYSICAL_SAFETY: "ensuring people's physical safety",
    SensitiveUse.TRANSIENT_USE: "short-term, transient use",
    SensitiveUse.BUSINESS_SERVICES: "services performed for the business",
    SensitiveUse.QUALITY_AND_SAFETY: "keeping the service's quality or safety",
    SensitiveUse.NO_INFERENCE: "use that infers no characteristics about the person",
}

MEMO_LIMIT: Final = 4096  # distinct category lists remembered per purpose

Check = Callable[["CompiledPurpose", "Asked", "SubjectState", "dt.datetime"], "Decision | None"]
"""One rule: a denial, or None to let the next rule decide."""


def _always(subject: object) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Rule:
    """One numbered rule of purpose decisions (the rules are in :mod:`pledge.enforcement.rules`).

    Args:
        name: what it checks, in a word or two.
        check: the rule itself: a denial or None.
        applies: whether the rule can ever deny a decision about the purpose.
        concerns: whether it can deny a decision about these categories of the purpose (a
            rule about special categories cannot when none is asked for).
    """

    name: str
    check: Check
    applies: Callable[[CompiledPurpose], bool] = _always
    concerns: Callable[[Asked], bool] = _always


@dataclass(frozen=True, slots=True)
class Asked:
    """The categories one decision is about, and what the rules need to know of them.

    Args:
        categories: the categories, as asked (or every category the purpose declares).
        undeclared: the first that the purpose does not declare, if any.
        special: those that are special categories of data (GDPR Art. 9).
        criminal: those that are criminal-offence data (GDPR Art. 10).
        sensitive: those that are sensitive personal information (CCPA 1798.140(ae)).
        allowed_reason: the reason an allowed decision gives.
        guardian_reason: the reason when a guardian's grant allows it (GDPR Art. 8).
        checks: the purpose's rules that can deny a decision about these categories, in order.
    """

    categories: tuple[str, ...]
    undeclared: str | None = None
    special: tuple[str, ...] = ()
    criminal: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    allowed_reason: str = ""
    guardian_reason: str = ""
    checks: tuple[Check, ...] = ()


@dataclass(slots=True, eq=False)
class CompiledPurpose:
    """One purpose, compiled: what every decision about it needs, computed once.

    ``rules`` are the rules that can apply to this purpose, in their order (see
    :meth:`prepare`); ``everything`` is what a decision without named categories is about;
    ``memo`` remembers the analysis of other category lists.
    """

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
    consent: bool  # based on consent
    special_condition: SpecialCategoryCondition | None  # consent purposes: explicit consent
    criminal_authorisation: str | None
    limit_exemption: str | None  # why a limit on sensitive information leaves it running
    uses_special: bool  # some declared category is, covers or lies under a special one
    uses_criminal: bool
    uses_sensitive: bool
    taxonomy: Taxonomy
    rules: tuple[Rule, ...] = ()
    everything: Asked = field(default_factory=lambda: Asked(()))
    memo: dict[tuple[str, ...], Asked] = field(default_factory=dict)

    def prepare(self, rules: Sequence[Rule]) -> None:
        """Keep the rules that can apply to this purpose, in order, and analyse its own
        categories (what a decision without named categories is about).

        Args:
            rules: every rule, in order.
        """
        self.rules = tuple(rule for rule in rules if rule.applies(self))
        self.memo.clear()
        self.everything = analyse(self, self.categories, declared=True)

    def asked(self, categories: Sequence[str] | str) -> Asked:
        """The analysis of ``categories`` (one category may be given as a string)."""
        key = (categories,) if isinstance(categories, str) else tuple(categories)
        found = self.memo.get(key)
        if found is None:
            found = analyse(self, key)
            if len(self.memo) < MEMO_LIMIT:
                self.memo[key] = found
        return found


def compile_purpose(key: str, purpose: Purpose, taxonomy: Taxonomy) -> CompiledPurpose:
    """Compile one declared purpose.

    Args:
        key: the purpose's key.
        purpose: its declaration.
        taxonomy: the declaration's taxonomy (built-in and declared categories).

    Returns:
        The compiled purpose, to :meth:`~CompiledPurpose.prepare` with the rules.
    """
    basis: LegalBasis | None = purpose.legal_basis
    scopes: set[str] = set()
    absolute: set[str] = set()
    if basis in OBJECTABLE:
        scopes |= {key, ALL_PURPOSES}
    if purpose.direct_marketing:
        absolute |= {key, DIRECT_MARKETING}
        scopes |= absolute
    opt_out = bool(purpose.sale_or_sharing or purpose.targeted_advertising)
    if opt_out and basis is not LegalBasis.CONSENT:
        scopes.add(key)  # an opt-out of the sale or sharing (consent ones are withdrawn)
    condition = purpose.special_category_condition
    if condition is None and basis is LegalBasis.CONSENT:
        condition = SpecialCategoryCondition.EXPLICIT_CONSENT  # the grant Pledge checks
    authorisation = (purpose.criminal_data_authorisation or "").strip() or None
    categories = tuple(purpose.categories)
    return CompiledPurpose(
        key=key,
        basis=basis,
        basis_text=basis.value if basis is not None else None,
        categories=categories,
        direct_marketing=bool(purpose.direct_marketing),
        opt_out=opt_out,
        objection_scopes=frozenset(scopes),
        absolute_scopes=frozenset(absolute),
        allowed_reason=_allowed_reason(key, basis),
        max_age=purpose.consent_max_age,
        consent=basis is LegalBasis.CONSENT,
        special_condition=condition,
        criminal_authorisation=authorisation,
        limit_exemption=_limit_exemption(basis, purpose.ccpa_sensitive_use),
        uses_special=any(taxonomy.is_special(c) for c in categories),
        uses_criminal=any(taxonomy.is_criminal(c) for c in categories),
        uses_sensitive=any(taxonomy.is_ccpa_sensitive(c) for c in categories),
        taxonomy=taxonomy,
    )


def analyse(purpose: CompiledPurpose, asked: tuple[str, ...], *, declared: bool = False) -> Asked:
    """What the rules need to know about ``asked``, for ``purpose``.

    Args:
        purpose: the compiled purpose.
        asked: the categories asked about.
        declared: ``asked`` are the purpose's own categories (so none is undeclared).

    Returns:
        The analysis, with the reasons an allowed decision gives.
    """
    taxonomy = purpose.taxonomy
    covers = taxonomy.covers
    undeclared = None
    if not declared:
        undeclared = next(
            (c for c in asked if not any(covers(used, c) for used in purpose.categories)), None
        )
    special = tuple(c for c in asked if purpose.uses_special and taxonomy.is_special(c))
    criminal = tuple(c for c in asked if purpose.uses_criminal and taxonomy.is_criminal(c))
    sensitive = tuple(c for c in asked if purpose.uses_sensitive and taxonomy.is_ccpa_sensitive(c))
    grounds = ""
    if special and purpose.special_condition is not None:
        letter, words = CONDITIONS[purpose.special_condition]
        grounds += (
            f"; special categories of data ({', '.join(special)}) under GDPR Art."
            f" 9(2)({letter}), {words}"
        )
    if criminal and purpose.criminal_authorisation is not None:
        grounds += (
            f"; criminal-offence data ({', '.join(criminal)}) under GDPR Art. 10, as authorised"
            f" by {purpose.criminal_authorisation}"
        )
    found = Asked(
        categories=asked,
        undeclared=undeclared,
        special=special,
        criminal=criminal,
        sensitive=sensitive,
        allowed_reason=purpose.allowed_reason + grounds,
        guardian_reason=(
            f"{purpose.key} may run: the subject's guardian consented (GDPR Art. 8)" + grounds
        ),
    )
    checks = tuple(rule.check for rule in purpose.rules if rule.concerns(found))
    return replace(found, checks=checks)


def _limit_exemption(basis: LegalBasis | None, use: SensitiveUse | None) -> str | None:
    if use is not None:
        return (
            "; the subject limited the use of their sensitive personal information, and"
            f" {SENSITIVE_USES[use]} is a use CCPA 1798.121(a) allows"
        )
    if basis is LegalBasis.LEGAL_OBLIGATION:
        return (
            "; the subject limited the use of their sensitive personal information, which does"
            " not restrict complying with the law (CCPA 1798.145(a)(1))"
        )
    return None


def _allowed_reason(key: str, basis: LegalBasis | None) -> str:
    if basis is None:
        return ""
    if basis is LegalBasis.CONSENT:
        return f"{key} may run: the subject consented ({ARTICLE[basis]})"
    if basis in OBJECTABLE:
        interest = (
            "legitimate interests"
            if basis is LegalBasis.LEGITIMATE_INTERESTS
            else "a task in the public interest"
        )
        return f"{key} may run on {interest} and the subject has not objected ({ARTICLE[basis]})"
    grounds = {
        LegalBasis.CONTRACT: "is necessary for a contract with the subject",
        LegalBasis.LEGAL_OBLIGATION: "is required by law",
        LegalBasis.VITAL_INTERESTS: "protects someone's vital interests",
    }[basis]
    return f"{key} may run: it {grounds} ({ARTICLE[basis]})"


__all__ = [
    "ARTICLE",
    "CONDITIONS",
    "MEMO_LIMIT",
    "OBJECTABLE",
    "SENSITIVE_USES",
    "Asked",
    "Check",
    "CompiledPurpose",
    "Rule",
    "analyse",
    "compile_purpose",
]
