"""The rules of purpose decisions, as a table: each rule once allowing and once denying."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from tests.conftest import CLEAN_DECLARATION, revise

from pledge.declaration import Declaration, loads
from pledge.enforcement.model import (
    ConsentRecord,
    Decision,
    Rules,
    SubjectState,
    decide,
    decide_disclosure,
    rules_for,
)
from pledge.enforcement.rules import RULES, Rule, deny
from pledge.errors import DeclarationError, NotFound, UsageError

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=365)
EARLIER = NOW - dt.timedelta(days=1)
SIX_MONTHS_AGO = dt.datetime(2025, 12, 1, 12, 0, tzinfo=dt.UTC)  # to the second
GUARDIAN = "01GUARDIAN0000000000000000"

# Every legal basis, direct marketing on two bases, sales on three, a purpose without a basis,
# and one whose consent lasts six months.
MORE_PURPOSES = """purposes:
  marketing_email:
    legal_basis: legitimate_interests
    legitimate_interest: Telling customers about products like the ones they bought.
    interest_assessment: LIA-2025-02
    categories: [contact.email]
    retention: P2Y
  tax_records:
    legal_basis: legal_obligation
    categories: [identity.name]
    retention: P10Y
  emergency_contact:
    legal_basis: vital_interests
    categories: [contact.phone]
    retention: P30D
  public_statistics:
    legal_basis: public_task
    categories: [usage]
    retention: P1Y
  ad_sharing:
    legal_basis: consent
    categories: [device.ip_address]
    sale_or_sharing: true
    retention: P1Y
  lookalike_audiences:
    legal_basis: legitimate_interests
    legitimate_interest: Finding customers like ours on ad networks.
    categories: [contact.email]
    sale_or_sharing: true
    retention: P6M
  data_resale:
    legal_basis: contract
    categories: [contact.email]
    sale_or_sharing: true
    retention: P1Y
  product_tips:
    legal_basis: consent
    categories: [contact.email]
    consent_max_age: P6M
    retention: P1Y
  undecided:
    categories: [contact.email]
    retention: P1Y
  health_coaching:
    legal_basis: legitimate_interests
    legitimate_interest: Suggesting exercises.
    categories: [special.health, contact.email]
    retention: P1Y
  occupational_health:
    legal_basis: legal_obligation
    special_category_condition: health_or_social_care
    categories: [special.health]
    retention: P10Y
  fitness_tracking:
    legal_basis: consent
    categories: [special.health, usage.pages]
    retention: P1Y
  background_check:
    legal_basis: legal_obligation
    categories: [criminal.offences, identity.name]
    retention: P1Y
  vetting_by_consent:
    legal_basis: consent
    categories: [criminal.offences]
    retention: P1Y
  vetting_by_law:
    legal_basis: legal_obligation
    criminal_data_authorisation: § 26 BDSG
    categories: [criminal.offences]
    retention: P1Y
  location_ads:
    legal_basis: consent
    categories: [location.precise, contact.email]
    retention: P1Y
  navigation:
    legal_basis: contract
    ccpa_sensitive_use: expected_service
    categories: [location.precise]
    retention: P30D
  identity_check:
    legal_basis: contract
    categories: [identity]
    retention: P1Y
"""


@pytest.fixture(scope="module")
def declaration() -> Declaration:
    """The clean declaration with a purpose for every legal basis (newsletter is marketing)."""
    return loads(revise(CLEAN_DECLARATION, ("purposes:\n", MORE_PURPOSES)))


def state(**fields: Any) -> SubjectState:
    """A subject's state; ``grants`` lists purposes consented to by the subject."""
    consents = {purpose: ConsentRecord("granted") for purpose in fields.pop("grants", ())}
    consents.update(fields.pop("consents", {}))
    objections = frozenset(fields.pop("objections", ()))
    return SubjectState("01SUBJECT00000000000000000", consents, objections, **fields)


CASES = [
    # (what the case shows, state, purpose, categories, allowed, rule, part of the reason)
    ("a contract purpose runs", state(), "provide_service", None, True, "allowed",
     "necessary for a contract"),
    ("a legal obligation runs", state(), "tax_records", None, True, "allowed",
     "required by law"),
    ("vital interests run", state(), "emergency_contact", None, True, "allowed",
     "vital interests"),
    ("a purpose without a legal basis never runs", state(), "undecided", None, False,
     "no_legal_basis", "undecided declares no legal basis"),
    ("declared categories are allowed", state(grants=["newsletter"]), "newsletter",
     ["contact.email"], True, "allowed", "the subject consented"),
    ("a broader declared category covers a narrower one", state(), "public_statistics",
     ["usage.pages"], True, "allowed", "public interest"),
    ("an undeclared category is denied", state(grants=["newsletter"]), "newsletter",
     ["contact.email", "contact.phone"], False, "category_undeclared",
     "contact.phone is not among the categories declared for newsletter"),
    ("a broader category than declared is denied", state(grants=["newsletter"]), "newsletter",
     ["contact"], False, "category_undeclared", "contact is not among"),
    ("one category may be given as a string", state(grants=["newsletter"]), "newsletter",
     "contact.email", True, "allowed", "consented"),
    ("an erased subject is not processed", state(erased=True), "provide_service", None, False,
     "erased", "the subject was erased"),
    ("a restricted subject is only stored", state(restricted=True), "provide_service", None,
     False, "restricted", "processing is restricted to storage (GDPR Art. 18)"),
    ("restriction overrides consent", state(restricted=True, grants=["newsletter"]),
     "newsletter", None, False, "restricted", "restricted to storage"),
    ("consent purposes run with a grant", state(grants=["analytics"]), "analytics", None,
     True, "allowed", "analytics may run: the subject consented (GDPR Art. 6(1)(a))"),
    ("consent purposes need a recorded decision", state(), "analytics", None, False,
     "consent_missing", "no consent to analytics is recorded"),
    ("withdrawn consent denies", state(consents={"analytics": ConsentRecord("withdrawn")}),
     "analytics", None, False, "consent_withdrawn", "consent to analytics was withdrawn"),
    ("refused consent denies", state(consents={"analytics": ConsentRecord("refused")}),
     "analytics", None, False, "consent_refused", "consent to analytics was refused"),
    ("a grant for another purpose does not count", state(grants=["newsletter"]), "analytics",
     None, False, "consent_missing", "no consent to analytics"),
    ("a child's own grant is not enough",
     state(grants=["analytics"], consent_age_from=LATER, guardian_id=GUARDIAN), "analytics",
     None, False, "guardian_consent_missing", "below the age of digital consent"),
    ("a child's guardian's grant counts",
     state(consents={"analytics": ConsentRecord("granted", GUARDIAN)},
           consent_age_from=LATER, guardian_id=GUARDIAN), "analytics", None, True,
     "guardian_consent", "guardian consented (GDPR Art. 8)"),
    ("a grant by someone other than the recorded guardian does not count",
     state(consents={"analytics": ConsentRecord("granted", "01STRANGER0000000000000000")},
           consent_age_from=LATER, guardian_id=GUARDIAN), "analytics", None, False,
     "guardian_consent_missing", "no guardian consented"),
    ("a former child consents alone",
     state(grants=["analytics"], consent_age_from=EARLIER, guardian_id=GUARDIAN),
     "analytics", None, True, "allowed", "the subject consented"),
    ("a child needs no guardian for a contract", state(consent_age_from=LATER),
     "provide_service", None, True, "allowed", "contract"),
    ("legitimate interests run without an objection", state(), "fraud_prevention", None, True,
     "allowed", "legitimate interests and the subject has not objected"),
    ("an objection to the purpose stops legitimate interests",
     state(objections=["fraud_prevention"]), "fraud_prevention", None, False, "objected",
     "the subject objected to fraud_prevention (GDPR Art. 21(1))"),
    ("an objection to everything stops legitimate interests", state(objections=["*"]),
     "fraud_prevention", None, False, "objected", "objected to fraud_prevention"),
    ("an objection to another purpose changes nothing", state(objections=["marketing_email"]),
     "fraud_prevention", None, True, "allowed", "has not objected"),
    ("an objection stops a public task", state(objections=["*"]), "public_statistics", None,
     False, "objected", "GDPR Art. 21(1)"),
    ("an objection to everything leaves contracts alone", state(objections=["*"]),
     "provide_service", None, True, "allowed", "contract"),
    ("an objection to everything leaves consent purposes alone",
     state(objections=["*"], grants=["analytics"]), "analytics", None, True, "allowed",
     "consented"),
    ("direct marketing on legitimate interests runs without an objection", state(),
     "marketing_email", None, True, "allowed", "has not objected"),
    ("an objection to direct marketing stops it on legitimate interests",
     state(objections=["direct_marketing"]), "marketing_email", None, False,
     "objected_direct_marketing", "absolute (GDPR Art. 21(3))"),
    ("an objection to direct marketing overrides a grant",
     state(objections=["direct_marketing"], grants=["newsletter"]), "newsletter", None, False,
     "objected_direct_marketing", "the subject objected to direct marketing"),
    ("an objection to a marketing purpose by name is absolute too",
     state(objections=["newsletter"], grants=["newsletter"]), "newsletter", None, False,
     "objected_direct_marketing", "absolute"),
    ("an objection to direct marketing leaves other purposes alone",
     state(objections=["direct_marketing"], grants=["analytics"]), "analytics", None, True,
     "allowed", "consented"),
    ("an opt-out of a sale denies it",
     state(consents={"ad_sharing": ConsentRecord("withdrawn")}), "ad_sharing", None, False,
     "opted_out", "sells or shares personal information (CCPA 1798.120)"),
    ("a sale with consent runs", state(grants=["ad_sharing"]), "ad_sharing", None, True,
     "allowed", "consented"),
    ("sharing on legitimate interests runs without an opt-out", state(),
     "lookalike_audiences", None, True, "allowed", "has not objected"),
    ("an objection is the opt-out of sharing on legitimate interests",
     state(objections=["lookalike_audiences"]), "lookalike_audiences", None, False,
     "opted_out", "sells or shares personal information (CCPA 1798.120)"),
    ("an opt-out stops a sale even on a contract", state(objections=["data_resale"]),
     "data_resale", None, False, "opted_out", "opted out of data_resale"),
    ("a sale on a contract runs without an opt-out", state(), "data_resale", None, True,
     "allowed", "contract"),
    ("a grant younger than consent_max_age counts",
     state(consents={"product_tips": ConsentRecord("granted", None, EARLIER)}),
     "product_tips", None, True, "allowed", "the subject consented"),
    ("a grant a second younger than consent_max_age still counts",
     state(consents={"product_tips": ConsentRecord(
         "granted", None, SIX_MONTHS_AGO + dt.timedelta(seconds=1))}),
     "product_tips", None, True, "allowed", "the subject consented"),
    ("a grant as old as consent_max_age has expired",
     state(consents={"product_tips": ConsentRecord("granted", None, SIX_MONTHS_AGO)}),
     "product_tips", None, False, "consent_expired",
     "consent to product_tips was given on 2025-12-01 and has expired: the declaration asks"
     " again after 6 months (consent_max_age P6M)"),
    ("a grant of unknown age has expired where consent lasts a while",
     state(grants=["product_tips"]), "product_tips", None, False, "consent_expired",
     "is of unknown age"),
    ("an expired grant is not refreshed by a withdrawal's date",
     state(consents={"product_tips": ConsentRecord("withdrawn", None, EARLIER)}),
     "product_tips", None, False, "consent_withdrawn", "was withdrawn"),
    # special categories (GDPR Art. 9) and criminal-offence data (Art. 10)
    ("special categories on legitimate interests are refused", state(), "health_coaching",
     None, False, "special_category_condition_missing",
     "health_coaching may not process special categories of data (special.health): it is based"
     " on legitimate_interests, not on explicit consent, and declares no other condition of"
     " GDPR Art. 9(2) (Art. 9(1))"),
    ("an objection does not hide the missing Art. 9(2) condition", state(objections=["*"]),
     "health_coaching", None, False, "special_category_condition_missing", "Art. 9(1)"),
    ("the other categories of such a purpose are not special", state(), "health_coaching",
     ["contact.email"], True, "allowed", "legitimate interests"),
    ("a declared Art. 9(2) condition allows special categories", state(),
     "occupational_health", None, True, "allowed",
     "occupational_health may run: it is required by law (GDPR Art. 6(1)(c)); special"
     " categories of data (special.health) under GDPR Art. 9(2)(h), health or social care"),
    ("a narrower special category is special too", state(), "health_coaching",
     ["special.health.mental"], False, "special_category_condition_missing",
     "(special.health.mental)"),
    ("a consent purpose's grant is the explicit consent", state(grants=["fitness_tracking"]),
     "fitness_tracking", None, True, "allowed",
     "fitness_tracking may run: the subject consented (GDPR Art. 6(1)(a)); special categories"
     " of data (special.health) under GDPR Art. 9(2)(a), the subject's explicit consent"),
    ("explicit consent still needs the grant", state(), "fitness_tracking", None, False,
     "consent_missing", "no consent to fitness_tracking"),
    ("the Art. 9 grounds are named only for special categories",
     state(grants=["fitness_tracking"]), "fitness_tracking", ["usage.pages"], True, "allowed",
     "fitness_tracking may run: the subject consented (GDPR Art. 6(1)(a))"),
    ("a guardian's grant names the Art. 9 grounds too",
     state(consents={"fitness_tracking": ConsentRecord("granted", GUARDIAN)},
           consent_age_from=LATER, guardian_id=GUARDIAN), "fitness_tracking", None, True,
     "guardian_consent", "guardian consented (GDPR Art. 8); special categories"),
    ("criminal-offence data without a law are refused", state(), "background_check", None,
     False, "criminal_data_unauthorised",
     "background_check may not process criminal-offence data (criminal.offences): it declares"
     " no law that authorises it and no official authority that controls it (GDPR Art. 10)"),
    ("consent does not authorise criminal-offence data", state(grants=["vetting_by_consent"]),
     "vetting_by_consent", None, False, "criminal_data_unauthorised", "(GDPR Art. 10)"),
    ("the law that authorises criminal-offence data is named", state(), "vetting_by_law", None,
     True, "allowed", "criminal-offence data (criminal.offences) under GDPR Art. 10, as"
     " authorised by § 26 BDSG"),
    ("a purpose's other categories do not need the law", state(), "background_check",
     ["identity.name"], True, "allowed", "required by law"),
    # the limit on sensitive personal information (CCPA 1798.121)
    ("sensitive personal information runs without a limit", state(grants=["location_ads"]),
     "location_ads", None, True, "allowed", "consented"),
    ("a limit stops a purpose that declares no permitted use",
     state(grants=["location_ads"], objections=["limit_sensitive"]), "location_ads", None,
     False, "sensitive_use_limited",
     "the subject limited the use of their sensitive personal information (location.precise)"
     " to what CCPA 1798.121(a) allows, and location_ads declares no such use"),
    ("a limit leaves the purpose's other categories alone",
     state(grants=["location_ads"], objections=["limit_sensitive"]), "location_ads",
     ["contact.email"], True, "allowed", "consented"),
    ("a limit stops a purpose on any basis", state(objections=["limit_sensitive"]),
     "identity_check", None, False, "sensitive_use_limited", "(identity)"),
    ("a limit counts a category that covers a sensitive one", state(objections=["limit_sensitive"]),
     "identity_check", ["identity.government_id"], False, "sensitive_use_limited",
     "(identity.government_id)"),
    ("a limit leaves a purpose's non-sensitive categories alone",
     state(objections=["limit_sensitive"]), "identity_check", ["identity.name"], True,
     "allowed", "necessary for a contract"),
    ("a limit does not restrict what the law requires", state(objections=["limit_sensitive"]),
     "occupational_health", None, True, "allowed",
     "which does not restrict complying with the law (CCPA 1798.145(a)(1))"),
    ("a limit leaves a permitted use running", state(objections=["limit_sensitive"]),
     "navigation", None, True, "allowed",
     "navigation may run: it is necessary for a contract with the subject (GDPR Art. 6(1)(b));"
     " the subject limited the use of their sensitive personal information, and providing the"
     " goods or services the person asked for is a use CCPA 1798.121(a) allows"),
    ("a grant given after the limit is consent to the use",
     state(consents={"location_ads": ConsentRecord("granted", None, NOW)},
           objections=["limit_sensitive"], sensitive_limited_at=EARLIER),
     "location_ads", None, True, "allowed", "consented"),
    ("a grant given before the limit does not count",
     state(consents={"location_ads": ConsentRecord("granted", None, EARLIER)},
           objections=["limit_sensitive"], sensitive_limited_at=NOW),
     "location_ads", None, False, "sensitive_use_limited", "CCPA 1798.121(a)"),
    ("a grant of unknown age does not lift a limit",
     state(grants=["location_ads"], objections=["limit_sensitive"], sensitive_limited_at=NOW),
     "location_ads", None, False, "sensitive_use_limited", "CCPA 1798.121(a)"),
    ("a restriction comes before the limit", state(restricted=True,
     objections=["limit_sensitive"]), "navigation", None, False, "restricted", "Art. 18"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("subject", "purpose", "categories", "allowed", "rule", "reason"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_decisions_follow_the_rules(
    declaration: Declaration,
    subject: SubjectState,
    purpose: str,
    categories: list[str] | str | None,
    allowed: bool,
    rule: str,
    reason: str,
) -> None:
    """Each rule allows and denies as the law says, and says why in a sentence."""
    decision = decide(declaration, subject, purpose, categories, NOW)
    assert (decision.allowed, decision.rule) == (allowed, rule), decision.reason
    assert reason in decision.reason
    assert decision.purpose == purpose and decision.subject_id == subject.subject_id
    assert decision.legal_basis == (declaration.purposes[purpose].legal_basis or None)


def test_an_unknown_purpose_is_not_found(declaration: Declaration) -> None:
    """Asking about a purpose the declaration does not have is an error, not a denial."""
    with pytest.raises(NotFound, match="no purpose 'telepathy'"):
        decide(declaration, state(), "telepathy", None, NOW)


def test_the_decision_lists_the_declared_categories_when_none_are_named(
    declaration: Declaration,
) -> None:
    """Without categories, a decision covers every category the purpose declares."""
    decision = decide(declaration, state(), "provide_service", None, NOW)
    assert decision.categories == ("contact.email", "identity.name", "account.team")


def test_a_decision_is_truthy_only_when_allowed(declaration: Declaration) -> None:
    """``if pledge.may_process(...)`` means what it says."""
    assert decide(declaration, state(), "provide_service", None, NOW)
    assert not decide(declaration, state(), "analytics", None, NOW)


def test_a_decision_becomes_plain_data(declaration: Declaration) -> None:
    """to_dict gives JSON-ready data with every field."""
    decision = decide(declaration, state(grants=["newsletter"]), "newsletter", None, NOW)
    assert decision.to_dict() == {
        "allowed": True,
        "subject_id": "01SUBJECT00000000000000000",
        "purpose": "newsletter",
        "legal_basis": "consent",
        "reason": "newsletter may run: the subject consented (GDPR Art. 6(1)(a))",
        "categories": ["contact.email"],
        "recipient": None,
        "rule": "allowed",
    }


def test_rules_are_compiled_once_per_declaration(declaration: Declaration) -> None:
    """decide() reuses the compiled rules; passing them directly gives the same answer."""
    rules = rules_for(declaration)
    assert rules_for(declaration) is rules
    assert isinstance(rules, Rules)
    subject = state(grants=["newsletter"])
    assert decide(rules, subject, "newsletter", None, NOW) == decide(
        declaration, subject, "newsletter", None, NOW
    )


# --- disclosures -------------------------------------------------------------------------------


def test_a_declared_recipient_may_receive_for_its_purpose(declaration: Declaration) -> None:
    """The mailer receives e-mail addresses for the newsletter once the person consented."""
    decision = decide_disclosure(
        declaration, state(grants=["newsletter"]), "mailer", ["contact.email"], "newsletter", NOW
    )
    assert decision.allowed and decision.recipient == "mailer"
    assert decision.reason.startswith("mailer may receive this data for newsletter: ")


def test_a_disclosure_needs_the_purpose_itself_to_be_allowed(declaration: Declaration) -> None:
    """Without consent to the newsletter, the mailer receives nothing, with the purpose's reason."""
    decision = decide_disclosure(declaration, state(), "mailer", None, "newsletter", NOW)
    assert not decision.allowed and decision.recipient == "mailer"
    assert decision.rule == "consent_missing"


def test_a_recipient_receives_only_for_its_declared_purposes(declaration: Declaration) -> None:
    """The mailer is declared for the newsletter, not for analytics."""
    decision = decide_disclosure(
        declaration, state(grants=["analytics"]), "mailer", None, "analytics", NOW
    )
    assert not decision.allowed
    assert decision.reason == "mailer is not a declared recipient for analytics"


def test_a_recipient_receives_only_its_declared_categories(declaration: Declaration) -> None:
    """Hosting receives what its purposes use, not phone numbers."""
    decision = decide_disclosure(
        declaration, state(), "hosting", ["contact.phone"], "provide_service", NOW
    )
    assert not decision.allowed and decision.rule == "recipient_category_undeclared"
    assert decision.reason == "hosting is not declared to receive contact.phone"


def test_an_unknown_recipient_is_not_found(declaration: Declaration) -> None:
    """Only declared recipients exist."""
    with pytest.raises(NotFound, match="no recipient 'data_broker'"):
        decide_disclosure(declaration, state(), "data_broker", None, "newsletter", NOW)


def test_the_purpose_may_be_left_out_when_the_recipient_has_one(
    declaration: Declaration,
) -> None:
    """The mailer receives data for the newsletter only, so that is the purpose."""
    decision = decide_disclosure(
        declaration, state(grants=["newsletter"]), "mailer", None, None, NOW
    )
    assert decision.allowed and decision.purpose == "newsletter"
    assert decision.categories == ("contact.email",)


def test_the_purpose_must_be_named_when_the_recipient_has_several(
    declaration: Declaration,
) -> None:
    """Hosting serves two purposes: which one is this disclosure for?"""
    with pytest.raises(UsageError, match="name the purpose"):
        decide_disclosure(declaration, state(), "hosting", None, None, NOW)


def test_a_restricted_subject_is_disclosed_to_no_one(declaration: Declaration) -> None:
    """A restriction stops disclosures too."""
    decision = decide_disclosure(
        declaration, state(restricted=True), "hosting", None, "provide_service", NOW
    )
    assert not decision.allowed and decision.rule == "restricted"


# --- objection scopes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scope",
    [
        "*",
        "direct_marketing",
        "fraud_prevention",
        "newsletter",
        "lookalike_audiences",
        "data_resale",
    ],
)
def test_objections_are_accepted_where_article_21_or_an_opt_out_applies(
    declaration: Declaration, scope: str
) -> None:
    """Everything, direct marketing, legitimate interests, marketing, a sale on any basis."""
    rules_for(declaration).check_scope(scope)


def test_an_opt_out_of_a_sale_based_on_consent_points_to_withdrawal(
    declaration: Declaration,
) -> None:
    """Consent to a sale is withdrawn, not objected to."""
    with pytest.raises(UsageError, match="withdraw consent instead"):
        rules_for(declaration).check_scope("ad_sharing")


def test_an_objection_to_a_consent_purpose_points_to_withdrawal(
    declaration: Declaration,
) -> None:
    """Consent is withdrawn, not objected to."""
    with pytest.raises(UsageError, match="withdraw consent instead"):
        rules_for(declaration).check_scope("analytics")


def test_an_objection_to_a_contract_purpose_is_refused(declaration: Declaration) -> None:
    """Art. 21 does not cover processing a contract needs."""
    with pytest.raises(UsageError, match="'provide_service' is based on contract"):
        rules_for(declaration).check_scope("provide_service")


def test_an_objection_to_an_unknown_purpose_is_not_found(declaration: Declaration) -> None:
    """A scope must be a declared purpose, * or direct_marketing."""
    with pytest.raises(NotFound):
        rules_for(declaration).check_scope("telepathy")


def test_a_limit_on_sensitive_information_is_a_scope(declaration: Declaration) -> None:
    """The CCPA 1798.121 limit is recorded beside objections, whatever the declaration uses."""
    rules_for(declaration).check_scope("limit_sensitive")


def test_the_purposes_a_limit_stops_are_listed(declaration: Declaration) -> None:
    """Those using sensitive personal information without a use 1798.121(a) allows."""
    assert rules_for(declaration).limited_purposes() == [
        "health_coaching",
        "fitness_tracking",
        "location_ads",
        "identity_check",
    ]


def test_explicit_consent_is_declared_on_consent_purposes_only() -> None:
    """Art. 9(2)(a) is checked through the consent ledger, so the purpose must take consent."""
    text = revise(
        CLEAN_DECLARATION,
        (
            "purposes:\n",
            "purposes:\n  face_login:\n    legal_basis: contract\n"
            "    special_category_condition: explicit_consent\n"
            "    categories: [special.biometric]\n    retention: P1Y\n",
        ),
    )
    with pytest.raises(DeclarationError, match="applies to purposes based on consent"):
        loads(text)


# --- the rules as functions ----------------------------------------------------------------------


def test_the_numbered_rules_are_the_rules_in_their_order() -> None:
    """The model's docstring numbers every rule of RULES, then the final allow, in order."""
    import pledge.enforcement.model as model

    numbered = re.findall(r"^(\d+)\. ", model.__doc__ or "", re.MULTILINE)
    assert [int(n) for n in numbered] == list(range(1, len(RULES) + 2))


def test_a_purpose_is_checked_only_by_the_rules_that_can_deny_it(
    declaration: Declaration,
) -> None:
    """A contract purpose never looks for a grant; a consent purpose never for an objection;
    a decision about no special category skips the rule about them."""
    rules = rules_for(declaration)
    names = {rule.check: rule.name for rule in RULES}

    def checked(purpose: str, categories: list[str] | None = None) -> list[str]:
        compiled = rules._purposes[purpose]
        asked = compiled.everything if categories is None else compiled.asked(categories)
        return [names[check] for check in asked.checks]

    assert checked("provide_service") == ["erasure", "restriction"]
    assert checked("analytics") == ["erasure", "restriction", "consent"]
    assert checked("health_coaching") == [
        "special categories",
        "erasure",
        "restriction",
        "limit on sensitive personal information",
        "objection",
    ]
    assert checked("health_coaching", ["contact.email"]) == ["erasure", "restriction", "objection"]
    assert checked("provide_service", ["contact.phone"]) == [
        "declared categories",
        "erasure",
        "restriction",
    ]
    assert checked("undecided") == ["legal basis", "erasure", "restriction"]


def test_a_new_rule_slots_in_at_its_place(declaration: Declaration) -> None:
    """A rule is a function; the purposes it applies to run it in its place in the order."""
    closed = Rule(
        "closed on Sundays",
        lambda purpose, asked, subject, now: (
            deny(purpose, asked, subject, "sunday", "closed") if now.weekday() == 6 else None
        ),
        lambda purpose: purpose.basis is not None,
    )
    compiled = Rules(declaration)
    for purpose in compiled._purposes.values():
        purpose.prepare((*RULES[:4], closed, *RULES[4:]))
    sunday = dt.datetime(2026, 6, 7, 12, 0, tzinfo=dt.UTC)
    assert compiled.decide(state(), "provide_service", None, sunday).rule == "sunday"
    assert compiled.decide(state(), "provide_service", None, NOW).allowed
    assert compiled.decide(state(), "undecided", None, sunday).rule == "no_legal_basis"
    assert compiled.decide(state(erased=True), "provide_service", None, sunday).rule == "sunday"


def test_decision_is_exported_from_the_package() -> None:
    """The SDK's answer type is importable from the package."""
    import pledge

    assert pledge.Decision is Decision
