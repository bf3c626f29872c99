"""Lint rules G3xx (GDPR Art. 13/14 notice) and Y6xx (children)."""

from __future__ import annotations

from collections.abc import Iterator

from pledge.declaration.findings import Severity
from pledge.declaration.lint.registry import Issue, rule
from pledge.declaration.model import Declaration, LegalBasis, Right, Source
from pledge.declaration.taxonomy import DEFAULT_CONSENT_AGE, consent_ages, eea_countries

GDPR_RIGHTS = (
    Right.ACCESS,
    Right.RECTIFICATION,
    Right.ERASURE,
    Right.RESTRICTION,
    Right.PORTABILITY,
    Right.OBJECTION,
    Right.COMPLAINT,
)


def _uses_consent(d: Declaration) -> bool:
    return any(p.legal_basis is LegalBasis.CONSENT for p in d.purposes.values())


@rule("G301", "controller-contact-missing")
def _controller_contact(d: Declaration) -> Iterator[Issue]:
    """The controller can be contacted.

    GDPR Art. 13(1)(a) and 14(1)(a): the identity and contact details of the controller. At
    least one of e-mail, telephone or postal address is needed.
    """
    c = d.controller
    if not (c.email or c.phone or c.address):
        yield ("controller",), "the controller has no e-mail, telephone or postal address"


@rule("G302", "dpo-contact-missing")
def _dpo_contact(d: Declaration) -> Iterator[Issue]:
    """A data protection officer is named, with contact details, where one is required.

    GDPR Art. 37(1) requires a DPO for public authorities, for large-scale regular and
    systematic monitoring, and for large-scale processing of special categories; Art. 13(1)(b)
    puts the DPO's contact details in the notice. Pledge treats special-category processing,
    and observed behaviour used for targeted advertising, as signs that one is required.
    """
    dpo = d.controller.dpo
    if dpo is not None:
        if not (dpo.email or dpo.phone or dpo.address):
            yield ("controller", "dpo"), "the DPO has no e-mail, telephone or postal address"
        return
    reasons = []
    if d.controller.public_authority:
        reasons.append("the controller is a public authority")
    if any(d.taxonomy.is_sensitive(c) for p in d.purposes.values() for c in p.categories):
        reasons.append("special categories of data are processed")
    observed = any(point.source is Source.OBSERVED for point in d.collection.values())
    if observed and any(p.targeted_advertising for p in d.purposes.values()):
        reasons.append("observed behaviour is used for targeted advertising")
    if reasons:
        yield (
            ("controller",),
            f"no DPO is declared, but one is likely required: {'; '.join(reasons)}",
        )


@rule("G303", "legal-basis-missing")
def _legal_basis_missing(d: Declaration) -> Iterator[Issue]:
    """Every purpose has exactly one legal basis.

    GDPR Art. 6(1) allows processing only on one of six bases, and Art. 13(1)(c) puts it in
    the notice; Pledge's run-time decisions depend on it (consent needs a grant, legitimate
    interests yield to objections).
    """
    for key, purpose in d.purposes.items():
        if purpose.legal_basis is None:
            yield ("purposes", key), f"purpose '{key}' has no legal basis"


@rule("G304", "rights-missing")
def _rights_missing(d: Declaration) -> Iterator[Issue]:
    """The notice lists every right people have.

    GDPR Art. 13(2)(b)-(d): access, rectification, erasure, restriction, portability,
    objection; withdrawing consent where a purpose relies on it; and lodging a complaint with a
    supervisory authority.
    """
    offered = set(d.rights.offered) if d.rights else set()
    required = list(GDPR_RIGHTS)
    if _uses_consent(d):
        required.append(Right.WITHDRAW_CONSENT)
    missing = [str(right) for right in required if right not in offered]
    if missing:
        path = ("rights", "offered") if d.rights and d.rights.offered else ("rights",)
        yield path, f"rights not offered: {', '.join(missing)}"


@rule("G305", "rights-channel-missing")
def _rights_channel(d: Declaration) -> Iterator[Issue]:
    """People have a way to exercise their rights.

    GDPR Art. 12(2) requires the controller to facilitate the exercise of rights; a notice
    needs at least one channel (e-mail, web form, telephone, post, in the product).
    """
    channels = d.rights.channels if d.rights else None
    declared = channels is not None and any(channels.model_dump().values())
    c = d.controller
    if not declared and not (c.email or c.phone or c.address):
        yield ("rights",), "there is no channel to exercise rights"


@rule("G306", "requirement-not-stated")
def _requirement_not_stated(d: Declaration) -> Iterator[Issue]:
    """A collection point with required fields says why they are required and what follows.

    GDPR Art. 13(2)(e): whether providing the data is a statutory or contractual requirement
    or needed to enter a contract, whether the person is obliged to provide it, and the
    consequences of not doing so.
    """
    for key, point in d.collection.items():
        if any(field.required for field in point.fields.values()):
            if point.requirement is None:
                yield ("collection", key), f"'{key}' has required fields but no 'requirement'"
            elif not point.consequence:
                yield ("collection", key), f"'{key}' does not say what happens without the data"


@rule("G307", "source-not-named")
def _source_not_named(d: Declaration) -> Iterator[Issue]:
    """Data obtained from someone else names its source.

    GDPR Art. 14(2)(f): when data is not collected from the person, the notice states where it
    came from.
    """
    for key, point in d.collection.items():
        if point.source is Source.THIRD_PARTY and not point.origin:
            yield (
                ("collection", key, "source"),
                f"'{key}' comes from a third party not named in 'origin'",
            )


@rule("G308", "automated-decision-unsafeguarded")
def _automated_decision(d: Declaration) -> Iterator[Issue]:
    """Solely automated decisions come with safeguards.

    GDPR Art. 22(3): at least the right to human intervention, to express one's view and to
    contest the decision; Art. 13(2)(f) puts the logic and consequences in the notice.
    """
    for key, purpose in d.purposes.items():
        if purpose.automated_decision is not None and not purpose.automated_decision.safeguards:
            yield (
                ("purposes", key, "automated_decision"),
                f"automated decision in '{key}' has no safeguards",
            )


@rule("G309", "authority-not-named", Severity.WARNING)
def _authority_not_named(d: Declaration) -> Iterator[Issue]:
    """The supervisory authority people may complain to is named.

    GDPR Art. 13(2)(d) grants the right to complain; naming the authority and its address
    makes the right usable.
    """
    if d.controller.supervisory_authority is None:
        yield ("controller",), "no supervisory authority is named for complaints"


@rule("G310", "eu-representative-missing", Severity.WARNING)
def _eu_representative(d: Declaration) -> Iterator[Issue]:
    """A controller outside the EEA that serves people in the EU names a representative.

    GDPR Art. 27 and 13(1)(a). Ignore this rule when the service is not offered in the EU.
    """
    c = d.controller
    if c.country not in eea_countries() and c.eu_representative is None:
        yield (
            ("controller",),
            f"the controller is in {c.country}, outside the EEA, with no EU representative",
        )


@rule("G311", "response-time-too-long")
def _response_time(d: Declaration) -> Iterator[Issue]:
    """Requests are answered within one month.

    GDPR Art. 12(3): without undue delay and at the latest within one month of receipt
    (extendable by two months for complex requests, with notice).
    """
    if d.rights and d.rights.response_time and d.rights.response_time.days > 31:
        yield (
            ("rights", "response_time"),
            f"{d.rights.response_time.describe()} is longer than the one month GDPR allows",
        )


@rule("G312", "change-notice-missing", Severity.WARNING)
def _change_notice(d: Declaration) -> Iterator[Issue]:
    """The policy says how and how far in advance people are told of changes.

    GDPR Art. 13(3) and the EDPB transparency guidelines (WP260): material changes are
    communicated proactively, before they take effect.
    """
    if d.policy.notice_period is None and not d.policy.change_notice:
        yield ("policy",), "no notice period and no channel for announcing changes"


@rule("G313", "notice-period-short", Severity.WARNING)
def _notice_period_short(d: Declaration) -> Iterator[Issue]:
    """The published date leaves the declared notice period before the effective date."""
    p = d.policy
    if p.notice_period and p.published_date:
        gap = (p.effective_date - p.published_date).days
        if gap < p.notice_period.days:
            yield (
                ("policy", "effective_date"),
                f"published {gap} days before taking effect, less than the notice period"
                f" of {p.notice_period.describe()}",
            )


@rule("Y601", "minimum-age-missing")
def _minimum_age(d: Declaration) -> Iterator[Issue]:
    """A service not restricted to adults declares its minimum age.

    GDPR Art. 8 sets the age of digital consent (16, lowered by some states to 13-15), COPPA
    protects children under 13, and CCPA 1798.120(c) needs opt-in for under-16s.
    """
    children = d.children
    if children is None or (children.minimum_age is None and not children.restricted_to_adults):
        yield (
            ("children",),
            "no minimum age is declared and the service is not restricted to adults",
        )


@rule("Y602", "parental-consent-missing", Severity.WARNING)
def _parental_consent(d: Declaration) -> Iterator[Issue]:
    """Children below the age of digital consent need a parent's consent.

    GDPR Art. 8(1): for consent purposes offered to a child below the age of digital consent
    in their country, consent is given or authorised by the holder of parental responsibility.
    """
    children = d.children
    if children is None or children.minimum_age is None or children.parental_consent:
        return
    ages = {**consent_ages(), **children.consent_ages}
    highest = max([DEFAULT_CONSENT_AGE, *ages.values()])
    if _uses_consent(d) and children.minimum_age < highest:
        yield (
            ("children", "minimum_age"),
            f"children from {children.minimum_age} may use the service, below the age of"
            f" digital consent (up to {highest}), but no parental consent is declared",
        )
