"""The closed vocabularies of ``pledge.yaml``: legal bases, rights, recipients' roles, transfer
safeguards and the other values a field takes from a fixed list."""

from __future__ import annotations

from enum import StrEnum


class LegalBasis(StrEnum):
    """GDPR Art. 6(1): exactly one lawful basis per purpose."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTERESTS = "legitimate_interests"


class SpecialCategoryCondition(StrEnum):
    """GDPR Art. 9(2): the condition under which special categories of data are processed."""

    EXPLICIT_CONSENT = "explicit_consent"  # (a)
    EMPLOYMENT_AND_SOCIAL_SECURITY = "employment_and_social_security"  # (b)
    VITAL_INTERESTS = "vital_interests"  # (c)
    NOT_FOR_PROFIT_BODY = "not_for_profit_body"  # (d)
    MADE_PUBLIC_BY_SUBJECT = "made_public_by_subject"  # (e)
    LEGAL_CLAIMS = "legal_claims"  # (f)
    SUBSTANTIAL_PUBLIC_INTEREST = "substantial_public_interest"  # (g)
    HEALTH_OR_SOCIAL_CARE = "health_or_social_care"  # (h)
    PUBLIC_HEALTH = "public_health"  # (i)
    ARCHIVING_RESEARCH_STATISTICS = "archiving_research_statistics"  # (j)


class SensitiveUse(StrEnum):
    """CCPA 1798.121(a), 11 CCR 7027(m): the uses of sensitive personal information that a
    request to limit leaves in place."""

    EXPECTED_SERVICE = "expected_service"  # (m)(1)
    SECURITY_INCIDENTS = "security_incidents"  # (m)(2)
    MALICIOUS_ACTIONS = "malicious_actions"  # (m)(3)
    PHYSICAL_SAFETY = "physical_safety"  # (m)(4)
    TRANSIENT_USE = "transient_use"  # (m)(5)
    BUSINESS_SERVICES = "business_services"  # (m)(6)
    QUALITY_AND_SAFETY = "quality_and_safety"  # (m)(7)
    NO_INFERENCE = "no_inference"  # (m)(8)


class Source(StrEnum):
    """How data reaches the company."""

    DIRECT = "direct"  # the person gives it (a form)
    OBSERVED = "observed"  # watching what the person does (usage, telemetry)
    AUTOMATIC = "automatic"  # sent by the device or browser (IP address, cookies)
    THIRD_PARTY = "third_party"  # from someone else (a social login, a partner)


class RecipientRole(StrEnum):
    """What a recipient is to the controller."""

    PROCESSOR = "processor"
    THIRD_PARTY = "third_party"
    AFFILIATE = "affiliate"
    AUTHORITY = "authority"


class Safeguard(StrEnum):
    """The legal ground for an international transfer (GDPR Chapter V)."""

    ADEQUACY = "adequacy"  # Art. 45
    STANDARD_CONTRACTUAL_CLAUSES = "standard_contractual_clauses"  # Art. 46(2)(c)
    BINDING_CORPORATE_RULES = "binding_corporate_rules"  # Art. 47
    CERTIFICATION = "certification"  # Art. 46(2)(f)
    CODE_OF_CONDUCT = "code_of_conduct"  # Art. 46(2)(e)
    EXPLICIT_CONSENT = "explicit_consent"  # Art. 49(1)(a)
    CONTRACT_NECESSITY = "contract_necessity"  # Art. 49(1)(b)


class CookieCategory(StrEnum):
    """The categories a cookie banner lets people choose from."""

    STRICTLY_NECESSARY = "strictly_necessary"
    FUNCTIONAL = "functional"
    ANALYTICS = "analytics"
    ADVERTISING = "advertising"


class Right(StrEnum):
    """The rights a person may exercise (GDPR Art. 15-22 and 77, CCPA 1798.100-.125)."""

    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    PORTABILITY = "portability"
    OBJECTION = "objection"
    WITHDRAW_CONSENT = "withdraw_consent"
    COMPLAINT = "complaint"
    OPT_OUT_OF_SALE = "opt_out_of_sale"
    LIMIT_SENSITIVE = "limit_sensitive"
    NON_DISCRIMINATION = "non_discrimination"
    UNSUBSCRIBE = "unsubscribe"


class DisclosureGround(StrEnum):
    """Exceptional grounds on which data may be disclosed outside the declared recipients."""

    CONSENT = "consent"
    LEGAL_OBLIGATION = "legal_obligation"
    COURT_ORDER = "court_order"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_INTEREST = "public_interest"
    ENFORCE_TERMS = "enforce_terms"
    LEGAL_CLAIMS = "legal_claims"
    FRAUD_AND_SECURITY = "fraud_and_security"
    MERGER_OR_ACQUISITION = "merger_or_acquisition"


class Requirement(StrEnum):
    """GDPR Art. 13(2)(e): why a person has to provide data, if they have to."""

    STATUTORY = "statutory"  # the law requires it
    CONTRACTUAL = "contractual"  # the contract requires it
    CONTRACT_ENTRY = "contract_entry"  # needed to enter into the contract
    VOLUNTARY = "voluntary"  # nobody has to


class NoticeChannel(StrEnum):
    """How people are told about something: a policy change, a breach."""

    EMAIL = "email"
    NOTICE = "notice"  # a prominent notice on the service
    IN_APP = "in_app"
    POST = "post"
    SMS = "sms"


__all__ = [
    "CookieCategory",
    "DisclosureGround",
    "LegalBasis",
    "NoticeChannel",
    "RecipientRole",
    "Requirement",
    "Right",
    "Safeguard",
    "SensitiveUse",
    "Source",
    "SpecialCategoryCondition",
]
