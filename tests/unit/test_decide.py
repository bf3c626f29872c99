"""The rules of purpose decisions, as a table: each rule once allowing and once denying."""

from __future__ import annotations

import datetime as dt
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
from pledge.errors import NotFound, UsageError

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


def test_decision_is_exported_from_the_package() -> None:
    """The SDK's answer type is importable from the package."""
    import pledge

    assert pledge.Decision is Decision
